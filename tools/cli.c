/*
 * tools/cli.c - the command-line helpers of every program (tools/cli.h).
 */
#include "config.h"
#include "tools/cli.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *program_name = "infini";
static const char *program_hint = NULL;

void cli_set_program(const char *name, const char *help_hint) {
  program_name = name;
  program_hint = help_hint;
}

/* One line: "PROG: MESSAGE", " (HINT)" when asked and set, newline. */
static void message(bool with_hint, const char *fmt, va_list ap) {
  fflush(stdout);
  fprintf(stderr, "%s: ", program_name);
  vfprintf(stderr, fmt, ap);
  if (with_hint && program_hint)
    fprintf(stderr, " (%s)", program_hint);
  fputc('\n', stderr);
}

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  message(false, fmt, ap);
  va_end(ap);
}

void cli_die(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  message(false, fmt, ap);
  va_end(ap);
  exit(status);
}

int cli_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  message(true, fmt, ap);
  va_end(ap);
  return CLI_EXIT_USAGE;
}

void cli_usage_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  message(true, fmt, ap);
  va_end(ap);
  exit(CLI_EXIT_USAGE);
}

int cli_parse_options(int argc, char **argv, const char *shortopts,
                      const struct option *longopts,
                      int (*take)(void *ctx, int ch, const char *arg),
                      void *ctx) {
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
    if (ch == ':')
      return cli_usage_error("%s needs a value", argv[optind - 1]);
    if (ch == '?')
      return cli_usage_error("unknown option '%s'", argv[optind - 1]);
    const int r = take(ctx, ch, optarg);
    if (r)
      return r;
  }
  if (optind < argc)
    return cli_usage_error("unexpected argument '%s'", argv[optind]);
  return 0;
}

/* ---- numbers ------------------------------------------------------------- */

static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Digits of `base` (10 or 16) only, at least one, no overflow; by hand
 * rather than strtoull, which skips white space, takes a sign and wraps
 * "-1" to 2^64 - 1. */
static bool parse_digits(const char *s, unsigned base, uint64_t *out) {
  uint64_t v = 0;
  if (!*s)
    return false;
  for (; *s; s++) {
    const int d = hex_digit(*s);
    if (d < 0 || (unsigned)d >= base || v > (UINT64_MAX - (unsigned)d) / base)
      return false;
    v = v * base + (unsigned)d;
  }
  *out = v;
  return true;
}

static bool in_range(uint64_t v, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

bool cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  uint64_t v;
  return s && parse_digits(s, 10, &v) && in_range(v, lo, hi, out);
}

bool cli_parse_u64_or_hex(const char *s, uint64_t lo, uint64_t hi,
                          uint64_t *out) {
  if (s && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    uint64_t v;
    return parse_digits(s + 2, 16, &v) && in_range(v, lo, hi, out);
  }
  return cli_parse_u64(s, lo, hi, out);
}

bool cli_parse_double(const char *s, double lo, double hi, double *out) {
  /* strtod would skip leading space and read hexadecimal floats. */
  if (!s || !*s || isspace((unsigned char)s[0]) || strpbrk(s, "xX"))
    return false;
  char *end;
  errno = 0;
  const double v = strtod(s, &end);
  if (*end || isnan(v))
    return false;
  /* ERANGE: overflow (an infinity) or underflow; keep subnormals, refuse
   * a nonzero number that became zero. */
  if (errno == ERANGE && (isinf(v) || v == 0))
    return false;
  if (!(v >= lo && v <= hi))
    return false;
  *out = v;
  return true;
}

bool cli_parse_float(const char *s, float lo, float hi, float *out) {
  double d;
  if (!cli_parse_double(s, -INFINITY, INFINITY, &d))
    return false;
  /* Out of float's range: refused before the conversion, which would be
   * undefined behaviour. */
  if (isfinite(d) && fabs(d) > FLT_MAX)
    return false;
  const float f = (float)d;
  if (f == 0 && d != 0)
    return false;
  if (!(f >= lo && f <= hi))
    return false;
  *out = f;
  return true;
}

/*
 * tools/test_cli.c - the shared command-line helpers (tools/cli.h): the
 * parsers refuse junk, empty strings, overflow, NaN, infinities, trailing
 * characters and values out of range, and take the boundary values; the
 * error lines have the documented format (TAP, a few hundred cases, well
 * under a second even under qemu).
 */
#include "config.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tap.h"
#include "tools/cli.h"

/* ---- whole numbers ------------------------------------------------------- */

static const char *const bad_u64[] = {
    "", " ", "abc", "1a", "1 ", " 1", "\t1", "1\n", "-1", "+1", "-0",
    "1.0", "1e3", "0x10", "x10", "18446744073709551616",
    "99999999999999999999999", "nan", "inf", "1,2",
};

static void test_u64(void) {
  for (size_t i = 0; i < sizeof bad_u64 / sizeof bad_u64[0]; i++) {
    uint64_t v = 7;
    tap_ok(!cli_parse_u64(bad_u64[i], 0, UINT64_MAX, &v) && v == 7,
           "u64 refuses '%s' and leaves the value alone", bad_u64[i]);
  }
  uint64_t v = 0;
  tap_ok(cli_parse_u64("18446744073709551615", 0, UINT64_MAX, &v) &&
             v == UINT64_MAX, "u64 takes 2^64 - 1");
  tap_ok(cli_parse_u64("0", 0, 5, &v) && v == 0, "u64 takes 0 at lo = 0");
  tap_ok(cli_parse_u64("010", 0, 100, &v) && v == 10,
         "u64 reads leading zeros as decimal (010 = 10)");
  tap_ok(cli_parse_u64("1", 1, 16, &v) && v == 1, "u64 takes lo");
  tap_ok(cli_parse_u64("16", 1, 16, &v) && v == 16, "u64 takes hi");
  tap_ok(!cli_parse_u64("0", 1, 16, &v), "u64 refuses lo - 1");
  tap_ok(!cli_parse_u64("17", 1, 16, &v), "u64 refuses hi + 1");
  tap_ok(!cli_parse_u64(NULL, 0, 1, &v), "u64 refuses NULL");
}

static void test_u64_or_hex(void) {
  uint64_t v = 0;
  tap_ok(cli_parse_u64_or_hex("0x10", 0, UINT64_MAX, &v) && v == 16,
         "hex takes 0x10");
  tap_ok(cli_parse_u64_or_hex("0XfFfFfFfFfFfFfFfF", 0, UINT64_MAX, &v) &&
             v == UINT64_MAX, "hex takes 16 f's, either case");
  tap_ok(cli_parse_u64_or_hex("42", 0, UINT64_MAX, &v) && v == 42,
         "hex takes decimal too");
  const char *const bad[] = {"0x", "0x1g", "0x10000000000000000", "-0x1",
                             "0x 1", "x1", "0x1 ", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    tap_ok(!cli_parse_u64_or_hex(bad[i], 0, UINT64_MAX, &v),
           "hex refuses '%s'", bad[i]);
  tap_ok(!cli_parse_u64_or_hex("0x11", 0, 16, &v), "hex refuses hi + 1");
}

/* ---- real numbers -------------------------------------------------------- */

static const char *const bad_double[] = {
    "", " ", "abc", "1a", "1 ", " 1", "\t1", "1\n", "1,5", "1..2", "--1",
    "e5", "1e", "1e400", "-1e400", "1e-400", "nan", "NaN", "-nan",
    "nan(1)", "inf", "-inf", "infinity", "0x1p3", "0x10",
};

static void test_double(void) {
  for (size_t i = 0; i < sizeof bad_double / sizeof bad_double[0]; i++) {
    double v = 7;
    tap_ok(!cli_parse_double(bad_double[i], -DBL_MAX, DBL_MAX, &v) && v == 7,
           "double refuses '%s' and leaves the value alone", bad_double[i]);
  }
  double v = 0;
  tap_ok(cli_parse_double("0", 0, 1, &v) && v == 0, "double takes lo = 0");
  tap_ok(cli_parse_double("1", 0, 1, &v) && v == 1, "double takes hi = 1");
  tap_ok(!cli_parse_double("-1e-300", 0, 1, &v), "double refuses just below lo");
  tap_ok(!cli_parse_double("1.0000000001", 0, 1, &v), "double refuses just above hi");
  tap_ok(cli_parse_double("+2.5e-3", 0, 1, &v) && v == 2.5e-3,
         "double takes a sign and an exponent");
  tap_ok(cli_parse_double("1.7976931348623157e308", 0, DBL_MAX, &v) &&
             v == DBL_MAX, "double takes DBL_MAX");
  tap_ok(cli_parse_double("4.9e-324", 0, 1, &v) && v > 0,
         "double keeps the smallest subnormal");
  tap_ok(cli_parse_double("inf", 0, INFINITY, &v) && isinf(v) && v > 0,
         "double takes inf where hi = INFINITY");
  tap_ok(cli_parse_double("-Infinity", -INFINITY, 0, &v) && isinf(v) && v < 0,
         "double takes -Infinity where lo = -INFINITY");
  tap_ok(!cli_parse_double("1e400", 0, INFINITY, &v),
         "double refuses an overflow even where inf is allowed");
  tap_ok(!cli_parse_double("nan", -INFINITY, INFINITY, &v),
         "double refuses NaN whatever the range");
  tap_ok(!cli_parse_double(NULL, 0, 1, &v), "double refuses NULL");
}

static void test_float(void) {
  float v = 7;
  tap_ok(!cli_parse_float("1e39", -FLT_MAX, FLT_MAX, &v) && v == 7,
         "float refuses 1e39 (overflows float, not double)");
  tap_ok(!cli_parse_float("1e-50", 0, FLT_MAX, &v) && v == 7,
         "float refuses 1e-50 (a nonzero number rounded to 0)");
  tap_ok(!cli_parse_float("inf", -FLT_MAX, FLT_MAX, &v), "float refuses inf");
  tap_ok(!cli_parse_float("nan", -INFINITY, INFINITY, &v), "float refuses nan");
  tap_ok(!cli_parse_float("0.5x", 0, 1, &v), "float refuses trailing junk");
  tap_ok(!cli_parse_float("-0.001", 0, 1, &v), "float refuses below lo");
  tap_ok(cli_parse_float("3.4028234663852886e38", 0, FLT_MAX, &v) && v == FLT_MAX,
         "float takes FLT_MAX");
  tap_ok(cli_parse_float("0.1", 0, 1, &v) && v == 0.1f, "float rounds 0.1 to 0.1f");
  tap_ok(cli_parse_float("-inf", -INFINITY, INFINITY, &v) && isinf(v) && v < 0,
         "float takes -inf where the range reaches it");
  tap_ok(cli_parse_float("1e-45", 0, 1, &v) && v > 0, "float keeps a subnormal");
}

/* ---- error lines ----------------------------------------------------------- */

/* What f() writes to stderr, at most len - 1 bytes. */
static void capture_stderr(void (*f)(int *), int *status, char *buf, size_t len) {
  fflush(stderr);
  FILE *tmp = tmpfile();
  const int saved = dup(2);
  buf[0] = '\0';
  if (!tmp || saved < 0 || dup2(fileno(tmp), 2) < 0) {
    if (tmp)
      fclose(tmp);
    return;
  }
  f(status);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  rewind(tmp);
  const size_t n = fread(buf, 1, len - 1, tmp);
  buf[n] = '\0';
  fclose(tmp);
}

static void usage_error_with_hint(int *status) {
  cli_set_program("prog", "try 'prog --help'");
  *status = cli_usage_error("--n needs %s, not '%s'", "a number", "x");
}
static void usage_error_without_hint(int *status) {
  cli_set_program("prog", NULL);
  *status = cli_usage_error("bad %d", 3);
}
static void plain_error(int *status) {
  cli_set_program("other", "try --help");
  cli_error("cannot read %s", "f");
  *status = 0;
}

static void test_messages(void) {
  char buf[256];
  int status = -1;
  capture_stderr(usage_error_with_hint, &status, buf, sizeof buf);
  if (!tap_ok(status == CLI_EXIT_USAGE && status == 2 &&
                  strcmp(buf, "prog: --n needs a number, not 'x' (try 'prog --help')\n") == 0,
              "usage error: one line, name, message, hint; exit code 2"))
    tap_diag("status %d, stderr '%s'", status, buf);
  capture_stderr(usage_error_without_hint, &status, buf, sizeof buf);
  tap_ok(strcmp(buf, "prog: bad 3\n") == 0, "usage error without a hint");
  capture_stderr(plain_error, &status, buf, sizeof buf);
  tap_ok(strcmp(buf, "other: cannot read f\n") == 0, "plain error: no hint");
}

int main(void) {
  test_u64();
  test_u64_or_hex();
  test_double();
  test_float();
  test_messages();
  return tap_done();
}

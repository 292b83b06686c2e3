/*
 * tools/cli.h - the command-line helpers every program of the project
 * shares (infini-run, infini-weights, infini-capacity, infini-conform,
 * infini-vectors, infini-bench): error lines and strict number parsing.
 *
 * Error lines. Every message is one line on stderr that starts with the
 * program's name, as tests/test-cli-errors.sh demands:
 *
 *   PROG: MESSAGE               cli_error, cli_die
 *   PROG: MESSAGE (HINT)        cli_usage_error, cli_usage_die
 *
 * PROG and HINT are set once, first thing in main, by cli_set_program
 * (a process has one name, as with GNU error(3)); HINT is how the program
 * points at its help, e.g. "try 'infini-capacity --help'" or "try --help".
 * stdout is flushed first, so a message follows what was printed before
 * it when both go to one terminal or file.
 *
 * Numbers. The parsers take the whole string or nothing: they return
 * false (and leave *out alone) unless every character is part of one
 * number in [lo, hi]. They accept no leading or trailing white space or
 * other characters, no empty string, no value that overflows its type
 * (18446744073709551616 = 2^64 for uint64, 1e400 for double, 1e39 for
 * float). They write no message: the caller names the option and the
 * allowed range in its own words.
 */
#ifndef INFINI_TOOLS_CLI_H
#define INFINI_TOOLS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

/** Exit status of a usage error (a bad option or value), in every tool. */
enum { CLI_EXIT_USAGE = 2 };

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CLI_NORETURN __attribute__((noreturn))
#else
#define CLI_PRINTF(f, a)
#define CLI_NORETURN
#endif

/** Name the program (the prefix of every message) and its help hint (NULL:
 *  none). Both strings must outlive the process (string literals). */
void cli_set_program(const char *name, const char *help_hint);

/** "PROG: MESSAGE\n" on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);

/** cli_error, then exit(status). */
CLI_NORETURN void cli_die(int status, const char *fmt, ...) CLI_PRINTF(2, 3);

/** "PROG: MESSAGE (HINT)\n" on stderr; returns CLI_EXIT_USAGE, so a parser
 *  can `return cli_usage_error(...)`. */
int cli_usage_error(const char *fmt, ...) CLI_PRINTF(1, 2);

/** cli_usage_error, then exit(CLI_EXIT_USAGE). */
CLI_NORETURN void cli_usage_die(const char *fmt, ...) CLI_PRINTF(1, 2);

/**
 * The getopt_long loop of a tool whose arguments are all options: from
 * argv[optind] on (set optind past a command word first), each option goes
 * to take(ctx, ch, optarg), and the loop stops at take's first nonzero
 * result and returns it (a tool's -1 for --help and --version, or a usage
 * error's status). getopt's own messages are off; instead, usage errors:
 * "OPTION needs a value" (shortopts must start with ':'), "unknown option
 * 'OPTION'", and "unexpected argument 'ARG'" for what is left. 0 when
 * every argument was taken.
 */
int cli_parse_options(int argc, char **argv, const char *shortopts,
                      const struct option *longopts,
                      int (*take)(void *ctx, int ch, const char *arg),
                      void *ctx);

/**
 * A whole number in [lo, hi] written in decimal digits only: no sign (so
 * "-1" and "+1" are refused, not wrapped or skipped), no "0x", no white
 * space. Leading zeros are decimal ("010" is ten).
 */
bool cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/**
 * As cli_parse_u64, or "0x"/"0X" followed by 1 to 16 hexadecimal digits
 * (seeds, which people copy from hex dumps).
 */
bool cli_parse_u64_or_hex(const char *s, uint64_t lo, uint64_t hi,
                          uint64_t *out);

/**
 * A decimal number in [lo, hi] as strtod reads it ("1", "-0.5", "1e-3",
 * "+2"), the whole string. Refused: NaN in any spelling; hexadecimal
 * floats ("0x1p3": what a user writes in decimal must not be read in
 * another base); a value that overflows (1e400) or underflows to zero
 * (1e-400: a nonzero number silently read as 0); infinities, unless the
 * range reaches them (lo = -INFINITY or hi = INFINITY: then "inf",
 * "-infinity" ... are a deliberate choice, an overflow still is not).
 * Subnormal results are kept.
 */
bool cli_parse_double(const char *s, double lo, double hi, double *out);

/**
 * As cli_parse_double, for a float: the number is read as a double, then
 * must be a float in [lo, hi] once rounded (1e39 overflows, 1e-50
 * underflows to zero: both refused).
 */
bool cli_parse_float(const char *s, float lo, float hi, float *out);

#endif /* INFINI_TOOLS_CLI_H */

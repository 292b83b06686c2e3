/*
 * fuzz/fuzz.h - what every fuzz harness shares. A harness defines the
 * libFuzzer entry point LLVMFuzzerTestOneInput; the same source is built
 * two ways:
 *   - with clang -fsanitize=fuzzer (scripts/fuzz.sh), to search for inputs;
 *   - with fuzz/replay.c's main (any C11 compiler, in make check), which
 *     feeds it every file of its seed corpus fuzz/corpus/<target>/, so each
 *     input ever found stays a regression test on every platform.
 * A harness checks more than "no crash": a failing reader must leave one
 * line in its error buffer, and whatever a reader accepts must survive a
 * round trip through the matching writer. A broken promise aborts, which
 * libFuzzer reports as a crash and make check as a failed test.
 */
#ifndef INFINI_FUZZ_FUZZ_H
#define INFINI_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with a message: the harness found a bug that is not a crash. */
#define FUZZ_REQUIRE(cond, what)                                        \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__,   \
              __LINE__, (what));                                        \
      abort();                                                          \
    }                                                                   \
  } while (0)

/* A reader's error message must be one non-empty line: the tools print it
 * as is, and a user must see what went wrong. */
static inline void fuzz_require_message(const char *err) {
  FUZZ_REQUIRE(err[0] != '\0', "a rejected input left no error message");
  FUZZ_REQUIRE(strchr(err, '\n') == NULL, "an error message spans lines");
}

#endif

/*
 * tests/tap.h - a minimal TAP producer for automake's tap-driver.sh.
 * Usage: tap_ok(cond, "name %d", ...) per case, then return tap_done().
 * The plan line is printed at the end ("1..N"), which TAP allows.
 */
#ifndef INFINI_TESTS_TAP_H
#define INFINI_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_count, tap_failed;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool tap_ok(bool ok, const char *fmt, ...) {
  va_list ap;
  tap_count++;
  if (!ok)
    tap_failed++;
  printf("%s %d - ", ok ? "ok" : "not ok", tap_count);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
  return ok;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void tap_diag(const char *fmt, ...) {
  va_list ap;
  printf("# ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

/* A case that cannot run here: "ok N # SKIP reason" (counted as a skip). */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static inline void tap_skip(const char *fmt, ...) {
  va_list ap;
  tap_count++;
  printf("ok %d # SKIP ", tap_count);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

static int tap_done(void) {
  printf("1..%d\n", tap_count);
  return tap_failed ? 1 : 0;
}

#endif

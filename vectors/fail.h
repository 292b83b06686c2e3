/*
 * vectors/fail.h - the one error helper of the vector library: format one
 * line into the caller's err buffer (when it has one) and return false, so
 * a reader can write `return fail(err, errlen, "...", ...);`.
 */
#ifndef INFINI_VECTORS_FAIL_H
#define INFINI_VECTORS_FAIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline bool fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return false;
}

#endif

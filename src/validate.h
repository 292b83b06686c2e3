/*
 * src/validate.h - argument checks shared by every public entry point.
 * Each returns INFINI_OK or the status the public function must return.
 */
#ifndef INFINI_SRC_VALIDATE_H
#define INFINI_SRC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include "infini.h"

/** A read-only view of a matrix argument: its pointer and its extent. */
typedef struct span {
  const void *data;
  size_t bytes; /* bytes from data to one past its last element */
} span;

/** Return the status of expr from the calling function unless it is OK. */
#define TRY(expr)                   \
  do {                              \
    infini_status try_st_ = (expr); \
    if (try_st_ != INFINI_OK)       \
      return try_st_;               \
  } while (0)

/** Sizes >= 1. */
infini_status check_sizes(ptrdiff_t a, ptrdiff_t b, ptrdiff_t c);

/** a * b without overflow (a, b >= 1); INFINI_ERR_OVERFLOW otherwise. */
infini_status checked_mul(ptrdiff_t a, ptrdiff_t b, ptrdiff_t *out);

/** ld >= cols, and (rows-1)*ld + cols floats fit in size_t and ptrdiff_t.
 *  Stores the extent in *out (may be NULL). rows, cols must be >= 1. */
infini_status check_matrix(const void *data, ptrdiff_t rows, ptrdiff_t cols,
                           ptrdiff_t ld, span *out);

/** eps finite and >= 0. */
infini_status check_eps(float eps);
/** scale finite. */
infini_status check_scale(float scale);
/** beta not NaN (+-inf allowed). */
infini_status check_beta(float beta);

/** Step parameters: a known rule, beta not NaN, eps and scale valid. */
infini_status check_step_params(const infini_step_params *p);

/** INFINI_ERR_ALIAS if out shares a byte with in. */
infini_status no_overlap(span out, span in);

/** out may be exactly in (same start and same stride) or disjoint from it. */
infini_status same_or_disjoint(span out, ptrdiff_t ldo, span in, ptrdiff_t ldi);

/** Outputs written[] must not overlap each other or any of read[]. */
infini_status check_disjoint(const span *written, size_t n_written,
                             const span *read, size_t n_read);

/** Do two extents share a byte? */
bool spans_overlap(span a, span b);

/** A span starting at data covering count floats. */
span float_span(const void *data, size_t count);

#endif

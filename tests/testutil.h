/*
 * tests/testutil.h - helpers shared by the test programs: a fixed-seed
 * random generator (splitmix64), strided <-> packed copies, float/double
 * conversion, bitwise and tolerance comparisons, guard-padded buffers and
 * a `ref` backend context. One copy here instead of one per test.
 */
#ifndef INFINI_TESTS_TESTUTIL_H
#define INFINI_TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "infini.h"

/* ---- random numbers --------------------------------------------------- */

/** splitmix64 (Steele, Lea, Flood 2014): a whole generator in one word. */
typedef struct tu_rng {
  uint64_t state;
} tu_rng;

tu_rng tu_rng_seed(uint64_t seed);
uint64_t tu_next(tu_rng *r);
/** Uniform in [lo, hi), 24 random bits (so the float is exact). */
float tu_uniform(tu_rng *r, float lo, float hi);
/** Fill a rows x cols strided matrix with tu_uniform(lo, hi). */
void tu_fill(tu_rng *r, ptrdiff_t rows, ptrdiff_t cols, float *x, ptrdiff_t ld,
             float lo, float hi);

/* ---- copies ------------------------------------------------------------ */

/** dst (ldd) = src (lds), rows x cols, float. */
void tu_copy(ptrdiff_t rows, ptrdiff_t cols, const float *src, ptrdiff_t lds,
             float *dst, ptrdiff_t ldd);
/** dst (ldd, double) = src (lds, float), exact widening. */
void tu_to_f64(ptrdiff_t rows, ptrdiff_t cols, const float *src, ptrdiff_t lds,
               double *dst, ptrdiff_t ldd);
/** Set every element of x[0..count) to v. */
void tu_set(float *x, size_t count, float v);

/* ---- comparisons ------------------------------------------------------- */

/** Bitwise equality of two strided float matrices (NaNs compared by bits). */
bool tu_same_bits(ptrdiff_t rows, ptrdiff_t cols, const float *a, ptrdiff_t lda,
                  const float *b, ptrdiff_t ldb);
/** The same without the diagnostic line (for expected differences). */
bool tu_same_bits_quiet(ptrdiff_t rows, ptrdiff_t cols, const float *a,
                        ptrdiff_t lda, const float *b, ptrdiff_t ldb);
/** Value equality (==), so +0 == -0; NaN equals NaN. */
bool tu_same_values(ptrdiff_t rows, ptrdiff_t cols, const float *a,
                    ptrdiff_t lda, const float *b, ptrdiff_t ldb);
/** Largest |a - b| over the matrix; +inf if a NaN disagrees. */
double tu_max_abs_diff(ptrdiff_t rows, ptrdiff_t cols, const float *a,
                       ptrdiff_t lda, const float *b, ptrdiff_t ldb);
/** Largest |x| over the matrix. */
double tu_max_abs(ptrdiff_t rows, ptrdiff_t cols, const float *a, ptrdiff_t lda);

/**
 * got (float) against want (double) with a relative tolerance:
 * |got - want| <= rtol * max(|want|, floor) element-wise, NaN only where
 * want is NaN, infinities must match exactly. On failure prints one
 * "# what[i][j]: got .. want .." diagnostic (first mismatch) and returns
 * false.
 */
bool tu_close_f64(const char *what, ptrdiff_t rows, ptrdiff_t cols,
                  const float *got, ptrdiff_t ldg, const double *want,
                  ptrdiff_t ldw, double rtol, double floor);
/** Same, for double results (the oracle) against double expectations. */
bool tu_close_dd(const char *what, ptrdiff_t rows, ptrdiff_t cols,
                 const double *got, ptrdiff_t ldg, const double *want,
                 ptrdiff_t ldw, double rtol, double floor);
/** Same, float against float. */
bool tu_close_ff(const char *what, ptrdiff_t rows, ptrdiff_t cols,
                 const float *got, ptrdiff_t ldg, const float *want,
                 ptrdiff_t ldw, double rtol, double floor);
/** Normwise: max|got - want| <= rtol * max|want| (+ tiny). */
bool tu_close_norm(const char *what, ptrdiff_t rows, ptrdiff_t cols,
                   const float *got, ptrdiff_t ldg, const double *want,
                   ptrdiff_t ldw, double rtol);

/* ---- guard-padded buffers ---------------------------------------------- */

/** The sentinel written into guards and padding: a quiet NaN with a payload
 *  no kernel produces, compared by bits. */
#define TU_SENTINEL_BITS 0x7fedcba9u
float tu_sentinel(void);
bool tu_is_sentinel(float x);

/** count floats with TU_GUARD sentinel floats before and after; the body
 *  is also filled with the sentinel. Aborts on allocation failure. */
#define TU_GUARD 64
float *tu_galloc(size_t count);
/** Both guards still hold the sentinel. */
bool tu_guards_ok(const float *p, size_t count);
void tu_gfree(float *p);

/**
 * In a buffer of `rows` rows of stride ld, every element outside the
 * rows x cols view starting at column col0 is still the sentinel
 * (the view's own elements are not looked at).
 */
bool tu_outside_view_untouched(const float *buf, ptrdiff_t rows, ptrdiff_t ld,
                               ptrdiff_t col0, ptrdiff_t cols);

/* ---- library helpers --------------------------------------------------- */

/** A context on the `ref` backend; aborts (test setup failure) otherwise. */
infini_context *tu_ref_context(void);
/** Short name of a status code ("INFINI_ERR_NULL", ...). */
const char *tu_status_name(infini_status st);

#endif

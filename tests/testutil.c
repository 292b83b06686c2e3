/* tests/testutil.c - see testutil.h. */
#include "tests/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tu_rng tu_rng_seed(uint64_t seed) {
  tu_rng r = {seed};
  return r;
}

uint64_t tu_next(tu_rng *r) {
  uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

float tu_uniform(tu_rng *r, float lo, float hi) {
  const float u = (float)(tu_next(r) >> 40) * (1.0f / 16777216.0f);
  return lo + (hi - lo) * u;
}

void tu_fill(tu_rng *r, ptrdiff_t rows, ptrdiff_t cols, float *x, ptrdiff_t ld,
             float lo, float hi) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      x[i * ld + j] = tu_uniform(r, lo, hi);
}

void tu_copy(ptrdiff_t rows, ptrdiff_t cols, const float *src, ptrdiff_t lds,
             float *dst, ptrdiff_t ldd) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      dst[i * ldd + j] = src[i * lds + j];
}

void tu_to_f64(ptrdiff_t rows, ptrdiff_t cols, const float *src, ptrdiff_t lds,
               double *dst, ptrdiff_t ldd) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      dst[i * ldd + j] = (double)src[i * lds + j];
}

void tu_set(float *x, size_t count, float v) {
  for (size_t i = 0; i < count; i++)
    x[i] = v;
}

static uint32_t bits_of(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

bool tu_same_bits(ptrdiff_t rows, ptrdiff_t cols, const float *a, ptrdiff_t lda,
                  const float *b, ptrdiff_t ldb) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      if (bits_of(a[i * lda + j]) != bits_of(b[i * ldb + j])) {
        printf("# first bit difference at [%td][%td]: %.9g (0x%08x) vs %.9g "
               "(0x%08x)\n",
               i, j, (double)a[i * lda + j], (unsigned)bits_of(a[i * lda + j]),
               (double)b[i * ldb + j], (unsigned)bits_of(b[i * ldb + j]));
        return false;
      }
  return true;
}

bool tu_same_bits_quiet(ptrdiff_t rows, ptrdiff_t cols, const float *a,
                        ptrdiff_t lda, const float *b, ptrdiff_t ldb) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      if (bits_of(a[i * lda + j]) != bits_of(b[i * ldb + j]))
        return false;
  return true;
}

bool tu_same_values(ptrdiff_t rows, ptrdiff_t cols, const float *a,
                    ptrdiff_t lda, const float *b, ptrdiff_t ldb) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      const float x = a[i * lda + j], y = b[i * ldb + j];
      if (!(x == y || (isnan(x) && isnan(y)))) {
        printf("# first value difference at [%td][%td]: %.9g vs %.9g\n", i, j,
               (double)x, (double)y);
        return false;
      }
    }
  return true;
}

double tu_max_abs_diff(ptrdiff_t rows, ptrdiff_t cols, const float *a,
                       ptrdiff_t lda, const float *b, ptrdiff_t ldb) {
  double worst = 0;
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      const double d = fabs((double)a[i * lda + j] - (double)b[i * ldb + j]);
      if (isnan(d))
        return INFINITY;
      if (d > worst)
        worst = d;
    }
  return worst;
}

double tu_max_abs(ptrdiff_t rows, ptrdiff_t cols, const float *a, ptrdiff_t lda) {
  double worst = 0;
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      if (fabs((double)a[i * lda + j]) > worst)
        worst = fabs((double)a[i * lda + j]);
  return worst;
}

/* One element: NaN only against NaN, infinities exactly, else relative. */
static bool close1(double got, double want, double rtol, double floor) {
  if (isnan(want))
    return isnan(got);
  if (isnan(got))
    return false;
  if (isinf(want) || isinf(got))
    return got == want;
  const double mag = fabs(want) > floor ? fabs(want) : floor;
  return fabs(got - want) <= rtol * mag;
}

bool tu_close_f64(const char *what, ptrdiff_t rows, ptrdiff_t cols,
                  const float *got, ptrdiff_t ldg, const double *want,
                  ptrdiff_t ldw, double rtol, double floor) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      if (!close1((double)got[i * ldg + j], want[i * ldw + j], rtol, floor)) {
        printf("# %s[%td][%td]: got %.9g want %.17g (rtol %g)\n", what, i, j,
               (double)got[i * ldg + j], want[i * ldw + j], rtol);
        return false;
      }
  return true;
}

bool tu_close_dd(const char *what, ptrdiff_t rows, ptrdiff_t cols,
                 const double *got, ptrdiff_t ldg, const double *want,
                 ptrdiff_t ldw, double rtol, double floor) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      if (!close1(got[i * ldg + j], want[i * ldw + j], rtol, floor)) {
        printf("# %s[%td][%td]: got %.17g want %.17g (rtol %g)\n", what, i, j,
               got[i * ldg + j], want[i * ldw + j], rtol);
        return false;
      }
  return true;
}

bool tu_close_ff(const char *what, ptrdiff_t rows, ptrdiff_t cols,
                 const float *got, ptrdiff_t ldg, const float *want,
                 ptrdiff_t ldw, double rtol, double floor) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      if (!close1((double)got[i * ldg + j], (double)want[i * ldw + j], rtol,
                  floor)) {
        printf("# %s[%td][%td]: got %.9g want %.9g (rtol %g)\n", what, i, j,
               (double)got[i * ldg + j], (double)want[i * ldw + j], rtol);
        return false;
      }
  return true;
}

bool tu_close_norm(const char *what, ptrdiff_t rows, ptrdiff_t cols,
                   const float *got, ptrdiff_t ldg, const double *want,
                   ptrdiff_t ldw, double rtol) {
  double worst = 0, scale = 0;
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      const double w = want[i * ldw + j];
      const double d = fabs((double)got[i * ldg + j] - w);
      if (!(d <= worst))
        worst = d; /* NaN sticks */
      if (fabs(w) > scale)
        scale = fabs(w);
    }
  if (worst <= rtol * scale + 1e-30)
    return true;
  printf("# %s: max |got - want| = %.3g, max |want| = %.3g, rtol %g\n", what,
         worst, scale, rtol);
  return false;
}

float tu_sentinel(void) {
  const uint32_t u = TU_SENTINEL_BITS;
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

bool tu_is_sentinel(float x) { return bits_of(x) == TU_SENTINEL_BITS; }

float *tu_galloc(size_t count) {
  float *base = malloc((count + 2 * TU_GUARD) * sizeof(float));
  if (!base) {
    printf("Bail out! tu_galloc(%zu) failed\n", count);
    exit(99);
  }
  tu_set(base, count + 2 * TU_GUARD, tu_sentinel());
  return base + TU_GUARD;
}

bool tu_guards_ok(const float *p, size_t count) {
  for (size_t i = 1; i <= TU_GUARD; i++)
    if (!tu_is_sentinel(p[-(ptrdiff_t)i]) || !tu_is_sentinel(p[count + i - 1]))
      return false;
  return true;
}

void tu_gfree(float *p) {
  if (p)
    free(p - TU_GUARD);
}

bool tu_outside_view_untouched(const float *buf, ptrdiff_t rows, ptrdiff_t ld,
                               ptrdiff_t col0, ptrdiff_t cols) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < ld; j++) {
      if (j >= col0 && j < col0 + cols)
        continue;
      if (!tu_is_sentinel(buf[i * ld + j])) {
        printf("# element [%td][%td] outside the view was modified\n", i, j);
        return false;
      }
    }
  return true;
}

infini_context *tu_ref_context(void) {
  const infini_backend *be = NULL;
  infini_context *ctx = NULL;
  if (infini_backend_find("ref", &be) != INFINI_OK ||
      infini_context_create(be, &ctx) != INFINI_OK) {
    printf("Bail out! cannot create a context on the ref backend\n");
    exit(99);
  }
  return ctx;
}

const char *tu_status_name(infini_status st) {
  static const char *const names[] = {
      "INFINI_OK",          "INFINI_ERR_NULL",      "INFINI_ERR_SIZE",
      "INFINI_ERR_OVERFLOW", "INFINI_ERR_STRIDE",   "INFINI_ERR_PARAM",
      "INFINI_ERR_ALIAS",   "INFINI_ERR_SHAPE",     "INFINI_ERR_NOMEM",
      "INFINI_ERR_NOT_FOUND", "INFINI_ERR_ABI",     "INFINI_ERR_UNAVAILABLE",
      "INFINI_ERR_PLUGIN",  "INFINI_ERR_BACKEND",   "INFINI_ERR_FULL",
      "INFINI_ERR_IO",      "INFINI_ERR_FORMAT",    "INFINI_ERR_VERSION",
      "INFINI_ERR_MISMATCH"};
  if ((unsigned)st < sizeof names / sizeof names[0])
    return names[st];
  return "(unknown status)";
}

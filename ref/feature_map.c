/*
 * ref/feature_map.c - the feature map sigma(x) = ELU(x) + 1 (spec (F), (S2)),
 * and the logistic sigmoid used by the gate (eq. (10), (S12)).
 */
#include "ref/real.h"
#include "ref/ref.h"

/* (F): sigma(x) = x + 1 for x > 0, exp(x) for x <= 0 (ELU, alpha = 1, plus 1).
 * NaN fails the comparison and goes to exp, which returns NaN. */
real REF(sigma)(real x) {
  if (x > 0)
    return x + 1;
  return REAL_EXP(x);
}

/* sigmoid(x) = 1 / (1 + exp(-x)); exactly 1 at +inf and 0 at -inf. */
real REF(sigmoid)(real x) {
  return 1 / (1 + REAL_EXP(-x));
}

/* y[i][j] = sigma(x[i][j]). x == y (in place) is allowed: each element is
 * read once, before it is written. */
infini_status REF(feature_map)(ptrdiff_t rows, ptrdiff_t cols, const real *x,
                               ptrdiff_t ldx, real *y, ptrdiff_t ldy) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      y[i * ldy + j] = REF(sigma)(x[i * ldx + j]);
  return INFINI_OK;
}

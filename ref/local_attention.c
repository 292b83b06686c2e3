/*
 * ref/local_attention.c - causal local attention, paper eq. (6), with the
 * causal mask and stable softmax of (S10) and the explicit scale of (S11):
 *   S_ij   = scale * q_i . k_j                  for j <= i (causal)
 *   m_i    = max_{j<=i} S_ij                    (stable softmax)
 *   P_ij   = exp(S_ij - m_i)
 *   A_dot_i = (sum_{j<=i} P_ij v_j) / (sum_{j<=i} P_ij)
 * Masked positions (j > i) are never visited, so they contribute exactly 0.
 * Scores are recomputed in each pass instead of stored: clarity and no
 * scratch, at the price of speed.
 */
#include "ref/real.h"
#include "ref/ref.h"

static real score(const real *q_i, const real *k_j, ptrdiff_t dk, real scale) {
  real dot = 0;
  for (ptrdiff_t c = 0; c < dk; c++)
    dot += q_i[c] * k_j[c];
  return scale * dot;
}

infini_status REF(local_attention)(const infini_head_shape *shape,
                                   const real *q, ptrdiff_t ldq, const real *k,
                                   ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                                   float scale, real *out, ptrdiff_t ldo,
                                   void *work) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  (void)work;
  for (ptrdiff_t i = 0; i < shape->n; i++) {
    const real *q_i = q + i * ldq;
    real *o_i = out + i * ldo;

    /* m_i = max_{j<=i} S_ij */
    real row_max = score(q_i, k, dk, scale);
    for (ptrdiff_t j = 1; j <= i; j++) {
      real s = score(q_i, k + j * ldk, dk, scale);
      if (s > row_max || s != s) /* a NaN score makes the maximum NaN */
        row_max = s;
    }

    /* numerator sum_j P_ij v_j into o_i, denominator sum_j P_ij */
    for (ptrdiff_t c = 0; c < dv; c++)
      o_i[c] = 0;
    real p_sum = 0;
    for (ptrdiff_t j = 0; j <= i; j++) {
      real p = REAL_EXP(score(q_i, k + j * ldk, dk, scale) - row_max);
      p_sum += p;
      for (ptrdiff_t c = 0; c < dv; c++)
        o_i[c] += p * v[j * ldv + c];
    }

    for (ptrdiff_t c = 0; c < dv; c++)
      o_i[c] /= p_sum;
  }
  return INFINI_OK;
}

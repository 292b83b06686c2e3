/*
 * ref/retrieve.c - memory retrieval, paper eq. (7) with the spec's eps (S4)
 * and zero-row rule (S5):
 *   den_i     = sigma(q_i) . z + eps
 *   A_mem[i]  = sigma(q_i) M / den_i,   or exactly 0 when den_i == 0.
 * The same rule gives the delta rule's prediction (ref/update_delta.c).
 */
#include "ref/real.h"
#include "ref/ref.h"

infini_status REF(retrieve)(const infini_head_shape *shape, const real *q,
                            ptrdiff_t ldq, const real *m, ptrdiff_t ldm,
                            const real *z, float eps, real *a, ptrdiff_t lda) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  for (ptrdiff_t i = 0; i < shape->n; i++) {
    const real *q_i = q + i * ldq;
    real *a_i = a + i * lda;

    /* (S4) den_i = sigma(q_i) . z + eps: one scalar per query row. */
    real den = 0;
    for (ptrdiff_t c = 0; c < dk; c++)
      den += REF(sigma)(q_i[c]) * z[c];
    den += (real)eps;

    /* (S5) Zero-row rule: an empty memory (or an underflowed sigma) retrieves
     * nothing, instead of the 0/0 of the printed formula. */
    if (den == 0) {
      for (ptrdiff_t j = 0; j < dv; j++)
        a_i[j] = 0;
      continue;
    }

    /* (7) A_mem[i][j] = (sum_c sigma(q_ic) M[c][j]) / den_i. */
    for (ptrdiff_t j = 0; j < dv; j++) {
      real num = 0;
      for (ptrdiff_t c = 0; c < dk; c++)
        num += REF(sigma)(q_i[c]) * m[c * ldm + j];
      a_i[j] = num / den;
    }
  }
  return INFINI_OK;
}

/*
 * ref/update_linear.c - the linear memory update, paper eq. (8):
 *   M_s = M_{s-1} + sigma(K)^T V
 *   z_s = z_{s-1} + sum_t sigma(k_t)
 * Every token of the segment, the last included, is written.
 */
#include "ref/real.h"
#include "ref/ref.h"

infini_status REF(update_linear)(const infini_head_shape *shape, const real *k,
                                 ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                                 real *m, ptrdiff_t ldm, real *z) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  for (ptrdiff_t c = 0; c < dk; c++) {
    /* Row c of M gains sum_t sigma(k_tc) v_t; z_c gains sum_t sigma(k_tc). */
    for (ptrdiff_t j = 0; j < dv; j++) {
      real sum = 0;
      for (ptrdiff_t t = 0; t < shape->n; t++)
        sum += REF(sigma)(k[t * ldk + c]) * v[t * ldv + j];
      m[c * ldm + j] += sum;
    }
    real zsum = 0;
    for (ptrdiff_t t = 0; t < shape->n; t++)
      zsum += REF(sigma)(k[t * ldk + c]);
    z[c] += zsum;
  }
  return INFINI_OK;
}

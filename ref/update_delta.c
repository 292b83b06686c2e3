/*
 * ref/update_delta.c - the delta memory update, paper eq. (9), with the
 * prediction rule (S8):
 *   Pred  = sigma(K) M_{s-1} / (sigma(K) z_{s-1} + eps)   (retrieval rule,
 *           zero rows included, applied to the keys)
 *   M_s   = M_{s-1} + sigma(K)^T (V - Pred)
 *   z_s   = z_{s-1} + sum_t sigma(k_t)                    (as in (8))
 * The prediction reads the memory from before this update; `work` holds
 * W = V - Pred (n x d_value) so that M is not touched until all of it is
 * known.
 */
#include "ref/real.h"
#include "ref/ref.h"

infini_status REF(update_delta)(const infini_head_shape *shape, const real *k,
                                ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                                real *m, ptrdiff_t ldm, real *z, float eps,
                                void *work) {
  const ptrdiff_t n = shape->n, dv = shape->d_value;
  real *w = work;

  /* Pred = retrieval with sigma(K) from M_{s-1}, z_{s-1}, into W. */
  REF(retrieve)(shape, k, ldk, m, ldm, z, eps, w, dv);

  /* W = V - Pred. */
  for (ptrdiff_t t = 0; t < n; t++)
    for (ptrdiff_t j = 0; j < dv; j++)
      w[t * dv + j] = v[t * ldv + j] - w[t * dv + j];

  /* M_s = M_{s-1} + sigma(K)^T W and z_s = z_{s-1} + sum_t sigma(k_t):
   * exactly the linear update (8) with W in place of V. */
  return REF(update_linear)(shape, k, ldk, w, dv, m, ldm, z);
}

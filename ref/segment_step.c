/*
 * ref/segment_step.c - one head's segment step (S13), ordered by (S9):
 *   (a) A_mem = retrieval (7) from M_{s-1}, z_{s-1}
 *   (b) A_dot = causal local attention (6)
 *   (c) A     = gated mix (10)
 *   (d) M_s, z_s = update (8) or (9), after (a), reading M_{s-1}
 * `work` holds A_mem (n x d_value); once (c) has consumed it, the delta
 * update reuses it for V - Pred.
 */
#include "ref/real.h"
#include "ref/ref.h"

size_t REF(work_bytes)(const infini_head_shape *shape) {
  return (size_t)shape->n * (size_t)shape->d_value * sizeof(real);
}

infini_status REF(segment_step)(const infini_head_shape *shape,
                                const infini_step_params *params,
                                const real *q, ptrdiff_t ldq, const real *k,
                                ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                                real *m, ptrdiff_t ldm, real *z, real *out,
                                ptrdiff_t ldo, void *work) {
  real *a_mem = work;
  const ptrdiff_t dv = shape->d_value;

  /* (a) retrieval reads the memory before this segment's update. */
  REF(retrieve)(shape, q, ldq, m, ldm, z, params->eps, a_mem, dv);
  /* (b) local attention into out. */
  REF(local_attention)(shape, q, ldq, k, ldk, v, ldv, params->scale, out, ldo,
                       NULL);
  /* (c) out = sigmoid(beta) A_mem + (1 - sigmoid(beta)) A_dot, in place. */
  REF(mix)(shape->n, dv, params->beta, a_mem, dv, out, ldo, out, ldo);
  /* (d) update, last. */
  if (params->rule == INFINI_UPDATE_DELTA)
    return REF(update_delta)(shape, k, ldk, v, ldv, m, ldm, z, params->eps,
                             work);
  return REF(update_linear)(shape, k, ldk, v, ldv, m, ldm, z);
}

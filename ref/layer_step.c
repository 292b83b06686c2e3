/*
 * ref/layer_step.c - one segment through a layer of H query heads and H_kv
 * key/value heads (S14), (11). Query head h reads key/value head
 * h / G with G = H / H_kv. Within a group every query head retrieves from
 * the memory before the group's update, so the update is done once, after
 * the group's last query head, from that key/value head's K and V.
 */
#include "ref/real.h"
#include "ref/ref.h"

infini_status REF(layer_step)(const infini_layer_config *config, ptrdiff_t n,
                              const real *q, ptrdiff_t ldq, const real *k,
                              ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                              const float *beta, real *m, real *z, real *out,
                              ptrdiff_t ldo, void *work) {
  const ptrdiff_t dk = config->d_key, dv = config->d_value;
  const ptrdiff_t group = config->n_heads / config->n_kv_heads;
  const infini_head_shape shape = {n, dk, dv};

  for (ptrdiff_t g = 0; g < config->n_kv_heads; g++) {
    const real *k_g = k + g * dk, *v_g = v + g * dv;
    real *m_g = m + g * dk * dv, *z_g = z + g * dk;

    /* Every query head of the group: retrieve, attend, mix; no update. */
    for (ptrdiff_t h = g * group; h < (g + 1) * group; h++) {
      real *a_mem = work;
      real *out_h = out + h * dv;
      const real *q_h = q + h * dk;
      REF(retrieve)(&shape, q_h, ldq, m_g, dv, z_g, config->eps, a_mem, dv);
      REF(local_attention)(&shape, q_h, ldq, k_g, ldk, v_g, ldv, config->scale,
                           out_h, ldo, NULL);
      REF(mix)(n, dv, beta[h], a_mem, dv, out_h, ldo, out_h, ldo);
    }

    /* Then the group's memory, once. */
    if (config->rule == INFINI_UPDATE_DELTA)
      REF(update_delta)(&shape, k_g, ldk, v_g, ldv, m_g, dv, z_g, config->eps,
                        work);
    else
      REF(update_linear)(&shape, k_g, ldk, v_g, ldv, m_g, dv, z_g);
  }
  return INFINI_OK;
}

/* src/compose.c - see compose.h. */
#include "config.h"
#include <stdint.h>
#include "src/compose.h"
#include "src/context.h"

infini_status kernel_status(infini_status st) {
  return ((unsigned)st < INFINI_STATUS_COUNT) ? st : INFINI_ERR_BACKEND;
}

/* The composed step needs an A_mem buffer (n x d_value floats, rounded to
 * 64 bytes) in front of the backend's own workspace. */
static size_t a_mem_bytes(const infini_head_shape *shape) {
  /* n * d_value floats fit: the output of that shape was validated. */
  return round_up_bytes((size_t)shape->n * (size_t)shape->d_value * sizeof(float));
}

size_t step_workspace(const infini_backend *be, const infini_head_shape *shape) {
  size_t own = backend_workspace(be, shape);
  return be->segment_step ? own : add_bytes(a_mem_bytes(shape), own);
}

size_t layer_workspace(const infini_backend *be, const infini_head_shape *shape) {
  size_t own = backend_workspace(be, shape);
  return be->layer_step ? own : add_bytes(a_mem_bytes(shape), own);
}

/* Spec "Segment step", from the operators: retrieve (old memory), attend,
 * mix, update. */
static infini_status composed_segment_step(
    const infini_backend *be, const infini_head_shape *shape,
    const infini_step_params *p, const float *q, ptrdiff_t ldq, const float *k,
    ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m, ptrdiff_t ldm,
    float *z, float *out, ptrdiff_t ldo, void *work) {
  float *a_mem = work;
  void *own = (char *)work + a_mem_bytes(shape);
  const ptrdiff_t dv = shape->d_value;
  infini_status st = be->retrieve(shape, q, ldq, m, ldm, z, p->eps, a_mem, dv);
  if (st == INFINI_OK)
    st = be->local_attention(shape, q, ldq, k, ldk, v, ldv, p->scale, out, ldo,
                             own);
  if (st == INFINI_OK)
    st = be->mix(shape->n, dv, p->beta, a_mem, dv, out, ldo, out, ldo);
  if (st == INFINI_OK)
    st = p->rule == INFINI_UPDATE_DELTA
             ? be->update_delta(shape, k, ldk, v, ldv, m, ldm, z, p->eps, own)
             : be->update_linear(shape, k, ldk, v, ldv, m, ldm, z);
  return st;
}

infini_status run_segment_step(const infini_backend *be,
                               const infini_head_shape *shape,
                               const infini_step_params *p, const float *q,
                               ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                               const float *v, ptrdiff_t ldv, float *m,
                               ptrdiff_t ldm, float *z, float *out,
                               ptrdiff_t ldo, void *work) {
  infini_status st =
      be->segment_step
          ? be->segment_step(shape, p, q, ldq, k, ldk, v, ldv, m, ldm, z, out,
                             ldo, work)
          : composed_segment_step(be, shape, p, q, ldq, k, ldk, v, ldv, m, ldm,
                                  z, out, ldo, work);
  return kernel_status(st);
}

/* Spec "Layer step", from the operators: for each key/value head g, its G
 * query heads retrieve, attend and mix against the memory before the
 * update; then g's memory is updated once. (The fused segment_step cannot
 * be used per query head: it would update the memory G times.) */
static infini_status composed_layer_step(
    const infini_backend *be, const infini_layer_config *c, ptrdiff_t n,
    const float *q, ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
    const float *v, ptrdiff_t ldv, const float *beta, float *m, float *z,
    float *out, ptrdiff_t ldo, void *work) {
  const infini_head_shape shape = {n, c->d_key, c->d_value};
  const ptrdiff_t dk = c->d_key, dv = c->d_value;
  const ptrdiff_t group = c->n_heads / c->n_kv_heads;
  float *a_mem = work;
  void *own = (char *)work + a_mem_bytes(&shape);
  infini_status st = INFINI_OK;

  for (ptrdiff_t g = 0; g < c->n_kv_heads && st == INFINI_OK; g++) {
    const float *k_g = k + g * dk, *v_g = v + g * dv;
    float *m_g = m + g * dk * dv, *z_g = z + g * dk;
    for (ptrdiff_t h = g * group; h < (g + 1) * group && st == INFINI_OK; h++) {
      const float *q_h = q + h * dk;
      float *out_h = out + h * dv;
      st = be->retrieve(&shape, q_h, ldq, m_g, dv, z_g, c->eps, a_mem, dv);
      if (st == INFINI_OK)
        st = be->local_attention(&shape, q_h, ldq, k_g, ldk, v_g, ldv,
                                 c->scale, out_h, ldo, own);
      if (st == INFINI_OK)
        st = be->mix(n, dv, beta[h], a_mem, dv, out_h, ldo, out_h, ldo);
    }
    if (st == INFINI_OK)
      st = c->rule == INFINI_UPDATE_DELTA
               ? be->update_delta(&shape, k_g, ldk, v_g, ldv, m_g, dv, z_g,
                                  c->eps, own)
               : be->update_linear(&shape, k_g, ldk, v_g, ldv, m_g, dv, z_g);
  }
  return st;
}

infini_status run_layer_step(const infini_backend *be,
                             const infini_layer_config *c, ptrdiff_t n,
                             const float *q, ptrdiff_t ldq, const float *k,
                             ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                             const float *beta, float *m, float *z, float *out,
                             ptrdiff_t ldo, void *work) {
  infini_status st =
      be->layer_step
          ? be->layer_step(c, n, q, ldq, k, ldk, v, ldv, beta, m, z, out, ldo,
                           work)
          : composed_layer_step(be, c, n, q, ldq, k, ldk, v, ldv, beta, m, z,
                                out, ldo, work);
  return kernel_status(st);
}

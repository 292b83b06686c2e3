/*
 * ref/ref.h - the scalar reference, declared for both precisions.
 *
 * The functions follow the backend-table signatures of include/infini.h
 * with `real` in place of float for tensors; parameters (eps, scale, beta)
 * stay float because they are inputs of the float API, and the double
 * oracle converts them exactly. Arguments are assumed valid (the library
 * validates them first). Scratch (`work`) needs infini_ref_work_bytes().
 */
#ifndef INFINI_REF_REF_H
#define INFINI_REF_REF_H

#include <stddef.h>
#include "infini.h"

#define INFINI_REF_DECLARE(real, sfx)                                         \
  real infini_ref_sigma_##sfx(real x);                                        \
  real infini_ref_sigmoid_##sfx(real x);                                      \
  size_t infini_ref_work_bytes_##sfx(const infini_head_shape *shape);         \
  infini_status infini_ref_feature_map_##sfx(                                 \
      ptrdiff_t rows, ptrdiff_t cols, const real *x, ptrdiff_t ldx, real *y,  \
      ptrdiff_t ldy);                                                         \
  infini_status infini_ref_retrieve_##sfx(                                    \
      const infini_head_shape *shape, const real *q, ptrdiff_t ldq,           \
      const real *m, ptrdiff_t ldm, const real *z, float eps, real *a,        \
      ptrdiff_t lda);                                                         \
  infini_status infini_ref_update_linear_##sfx(                               \
      const infini_head_shape *shape, const real *k, ptrdiff_t ldk,           \
      const real *v, ptrdiff_t ldv, real *m, ptrdiff_t ldm, real *z);         \
  infini_status infini_ref_update_delta_##sfx(                                \
      const infini_head_shape *shape, const real *k, ptrdiff_t ldk,           \
      const real *v, ptrdiff_t ldv, real *m, ptrdiff_t ldm, real *z,          \
      float eps, void *work);                                                 \
  infini_status infini_ref_mix_##sfx(                                         \
      ptrdiff_t rows, ptrdiff_t cols, float beta, const real *a_mem,          \
      ptrdiff_t ldm, const real *a_dot, ptrdiff_t ldd, real *out,             \
      ptrdiff_t ldo);                                                         \
  infini_status infini_ref_local_attention_##sfx(                             \
      const infini_head_shape *shape, const real *q, ptrdiff_t ldq,           \
      const real *k, ptrdiff_t ldk, const real *v, ptrdiff_t ldv,             \
      float scale, real *out, ptrdiff_t ldo, void *work);                     \
  infini_status infini_ref_segment_step_##sfx(                                \
      const infini_head_shape *shape, const infini_step_params *params,       \
      const real *q, ptrdiff_t ldq, const real *k, ptrdiff_t ldk,             \
      const real *v, ptrdiff_t ldv, real *m, ptrdiff_t ldm, real *z,          \
      real *out, ptrdiff_t ldo, void *work);                                  \
  infini_status infini_ref_layer_step_##sfx(                                  \
      const infini_layer_config *config, ptrdiff_t n, const real *q,          \
      ptrdiff_t ldq, const real *k, ptrdiff_t ldk, const real *v,             \
      ptrdiff_t ldv, const float *beta, real *m, real *z, real *out,          \
      ptrdiff_t ldo, void *work);

INFINI_REF_DECLARE(float, f32)
INFINI_REF_DECLARE(double, f64)

/** The `ref` backend table (ref/backend_ref.c). */
extern const infini_backend infini_backend_ref;

#endif /* INFINI_REF_REF_H */

/*
 * conformance/mutants/impl.h - one configurable implementation of every
 * operator of the backend table (include/infini.h), in which each entry of
 * the catalogue of known deviations (conformance/catalogue.h) is one small
 * marked branch.
 *
 * One source, compiled twice (conformance/mutants/local.mk), as ref/ is:
 *   -DDEV_REAL_F32: real = float,  functions dev_*_f32: the mutant plugin
 *                   (infini_mutant.so) and test-mutants-impl;
 *   -DDEV_REAL_F64: real = double, functions dev_*_f64: the diagnoser
 *                   (conformance/diagnose.c) recomputes a failed case under
 *                   the deviations that apply to it.
 * ref/ stays the clean reading of the spec and knows nothing of this.
 *
 * A configuration (cat_config, conformance/catalogue.h) selects at most one correct variant and any
 * number of bugs, each with its parameter; it is passed explicitly, so the
 * functions are reentrant. With cat_config_init's configuration (variant
 * plain, no bug) they compute the spec.
 */
#ifndef INFINI_MUTANTS_IMPL_H
#define INFINI_MUTANTS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include "conformance/catalogue.h"
#include "infini.h"

#define DEV_DECLARE(real, sfx)                                                \
  size_t dev_workspace_bytes_##sfx(const infini_head_shape *shape);           \
  infini_status dev_feature_map_##sfx(const cat_config *cfg, ptrdiff_t rows,  \
                                      ptrdiff_t cols, const real *x,          \
                                      ptrdiff_t ldx, real *y, ptrdiff_t ldy); \
  infini_status dev_retrieve_##sfx(const cat_config *cfg,                     \
                                   const infini_head_shape *shape,            \
                                   const real *q, ptrdiff_t ldq,              \
                                   const real *m, ptrdiff_t ldm,              \
                                   const real *z, float eps, real *a,         \
                                   ptrdiff_t lda);                            \
  infini_status dev_update_linear_##sfx(                                      \
      const cat_config *cfg, const infini_head_shape *shape, const real *k,   \
      ptrdiff_t ldk, const real *v, ptrdiff_t ldv, real *m, ptrdiff_t ldm,    \
      real *z);                                                               \
  infini_status dev_update_delta_##sfx(                                       \
      const cat_config *cfg, const infini_head_shape *shape, const real *k,   \
      ptrdiff_t ldk, const real *v, ptrdiff_t ldv, real *m, ptrdiff_t ldm,    \
      real *z, float eps, void *work);                                        \
  infini_status dev_mix_##sfx(const cat_config *cfg, ptrdiff_t rows,          \
                              ptrdiff_t cols, float beta, const real *a_mem,  \
                              ptrdiff_t ldm, const real *a_dot,               \
                              ptrdiff_t ldd, real *out, ptrdiff_t ldo);       \
  infini_status dev_local_attention_##sfx(                                    \
      const cat_config *cfg, const infini_head_shape *shape, const real *q,   \
      ptrdiff_t ldq, const real *k, ptrdiff_t ldk, const real *v,             \
      ptrdiff_t ldv, float scale, real *out, ptrdiff_t ldo, void *work);      \
  infini_status dev_segment_step_##sfx(                                       \
      const cat_config *cfg, const infini_head_shape *shape,                  \
      const infini_step_params *params, const real *q, ptrdiff_t ldq,         \
      const real *k, ptrdiff_t ldk, const real *v, ptrdiff_t ldv, real *m,    \
      ptrdiff_t ldm, real *z, real *out, ptrdiff_t ldo, void *work);          \
  infini_status dev_layer_step_##sfx(                                         \
      const cat_config *cfg, const infini_layer_config *config, ptrdiff_t n,  \
      const real *q, ptrdiff_t ldq, const real *k, ptrdiff_t ldk,             \
      const real *v, ptrdiff_t ldv, const float *beta, real *m, real *z,      \
      real *out, ptrdiff_t ldo, void *work);

DEV_DECLARE(float, f32)
DEV_DECLARE(double, f64)

#endif /* INFINI_MUTANTS_IMPL_H */

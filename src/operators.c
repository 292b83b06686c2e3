/*
 * src/operators.c - the public per-head operators: validate every argument
 * (docs/spec.md, "API rules"), then call the context's backend. Checks run
 * in a fixed order: NULL pointers, sizes, each matrix's stride and extent,
 * parameters, aliasing; nothing is written before all have passed.
 */
#include "config.h"
#include <math.h>
#include "src/compose.h"
#include "src/context.h"
#include "src/validate.h"

float infini_default_scale(ptrdiff_t d_key) {
  /* 0, not NaN, for a size no operator accepts: a NaN would travel
   * silently through arithmetic; every operator refuses d_key < 1 anyway. */
  return d_key >= 1 ? (float)(1.0 / sqrt((double)d_key)) : 0.0f;
}

infini_status infini_feature_map(infini_context *ctx, ptrdiff_t rows,
                                 ptrdiff_t cols, const float *x, ptrdiff_t ldx,
                                 float *y, ptrdiff_t ldy) {
  span sx, sy;
  if (!ctx || !x || !y)
    return INFINI_ERR_NULL;
  TRY(check_sizes(rows, cols, 1));
  TRY(check_matrix(x, rows, cols, ldx, &sx));
  TRY(check_matrix(y, rows, cols, ldy, &sy));
  TRY(same_or_disjoint(sy, ldy, sx, ldx));
  return kernel_status(ctx->backend->feature_map(rows, cols, x, ldx, y, ldy));
}

infini_status infini_feature_map_inplace(infini_context *ctx, ptrdiff_t rows,
                                         ptrdiff_t cols, float *x,
                                         ptrdiff_t ldx) {
  return infini_feature_map(ctx, rows, cols, x, ldx, x, ldx);
}

infini_status infini_retrieve(infini_context *ctx, const infini_head_shape *s,
                              const float *q, ptrdiff_t ldq, const float *m,
                              ptrdiff_t ldm, const float *z, float eps,
                              float *a, ptrdiff_t lda) {
  span read[3], written;
  if (!ctx || !s || !q || !m || !z || !a)
    return INFINI_ERR_NULL;
  TRY(check_sizes(s->n, s->d_key, s->d_value));
  TRY(check_matrix(q, s->n, s->d_key, ldq, &read[0]));
  TRY(check_matrix(m, s->d_key, s->d_value, ldm, &read[1]));
  TRY(check_matrix(z, 1, s->d_key, s->d_key, &read[2]));
  TRY(check_matrix(a, s->n, s->d_value, lda, &written));
  TRY(check_eps(eps));
  TRY(check_disjoint(&written, 1, read, 3));
  return kernel_status(
      ctx->backend->retrieve(s, q, ldq, m, ldm, z, eps, a, lda));
}

/* Shared checks of the two update rules: m and z are written in place and
 * must not overlap each other, k or v. */
static infini_status check_update(infini_context *ctx,
                                  const infini_head_shape *s, const float *k,
                                  ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                                  const float *m, ptrdiff_t ldm,
                                  const float *z) {
  span read[2], written[2];
  if (!ctx || !s || !k || !v || !m || !z)
    return INFINI_ERR_NULL;
  TRY(check_sizes(s->n, s->d_key, s->d_value));
  TRY(check_matrix(k, s->n, s->d_key, ldk, &read[0]));
  TRY(check_matrix(v, s->n, s->d_value, ldv, &read[1]));
  TRY(check_matrix(m, s->d_key, s->d_value, ldm, &written[0]));
  TRY(check_matrix(z, 1, s->d_key, s->d_key, &written[1]));
  return check_disjoint(written, 2, read, 2);
}

infini_status infini_update_linear(infini_context *ctx,
                                   const infini_head_shape *s, const float *k,
                                   ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                                   float *m, ptrdiff_t ldm, float *z) {
  TRY(check_update(ctx, s, k, ldk, v, ldv, m, ldm, z));
  return kernel_status(
      ctx->backend->update_linear(s, k, ldk, v, ldv, m, ldm, z));
}

infini_status infini_update_delta(infini_context *ctx,
                                  const infini_head_shape *s, const float *k,
                                  ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                                  float *m, ptrdiff_t ldm, float *z,
                                  float eps) {
  void *work;
  TRY(check_update(ctx, s, k, ldk, v, ldv, m, ldm, z));
  TRY(check_eps(eps));
  TRY(context_scratch(ctx, backend_workspace(ctx->backend, s), &work));
  return kernel_status(
      ctx->backend->update_delta(s, k, ldk, v, ldv, m, ldm, z, eps, work));
}

infini_status infini_mix(infini_context *ctx, ptrdiff_t rows, ptrdiff_t cols,
                         float beta, const float *a_mem, ptrdiff_t ldm,
                         const float *a_dot, ptrdiff_t ldd, float *out,
                         ptrdiff_t ldo) {
  span smem, sdot, sout;
  if (!ctx || !a_mem || !a_dot || !out)
    return INFINI_ERR_NULL;
  TRY(check_sizes(rows, cols, 1));
  TRY(check_matrix(a_mem, rows, cols, ldm, &smem));
  TRY(check_matrix(a_dot, rows, cols, ldd, &sdot));
  TRY(check_matrix(out, rows, cols, ldo, &sout));
  TRY(check_beta(beta));
  TRY(same_or_disjoint(sout, ldo, smem, ldm));
  TRY(same_or_disjoint(sout, ldo, sdot, ldd));
  return kernel_status(ctx->backend->mix(rows, cols, beta, a_mem, ldm, a_dot,
                                         ldd, out, ldo));
}

infini_status infini_local_attention(infini_context *ctx,
                                     const infini_head_shape *s,
                                     const float *q, ptrdiff_t ldq,
                                     const float *k, ptrdiff_t ldk,
                                     const float *v, ptrdiff_t ldv,
                                     float scale, float *out, ptrdiff_t ldo) {
  span read[3], written;
  void *work;
  if (!ctx || !s || !q || !k || !v || !out)
    return INFINI_ERR_NULL;
  TRY(check_sizes(s->n, s->d_key, s->d_value));
  TRY(check_matrix(q, s->n, s->d_key, ldq, &read[0]));
  TRY(check_matrix(k, s->n, s->d_key, ldk, &read[1]));
  TRY(check_matrix(v, s->n, s->d_value, ldv, &read[2]));
  TRY(check_matrix(out, s->n, s->d_value, ldo, &written));
  TRY(check_scale(scale));
  TRY(check_disjoint(&written, 1, read, 3));
  TRY(context_scratch(ctx, backend_workspace(ctx->backend, s), &work));
  return kernel_status(ctx->backend->local_attention(
      s, q, ldq, k, ldk, v, ldv, scale, out, ldo, work));
}

infini_status infini_segment_step(infini_context *ctx,
                                  const infini_head_shape *s,
                                  const infini_step_params *p, const float *q,
                                  ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                                  const float *v, ptrdiff_t ldv, float *m,
                                  ptrdiff_t ldm, float *z, float *out,
                                  ptrdiff_t ldo) {
  span read[3], written[3];
  void *work;
  if (!ctx || !s || !p || !q || !k || !v || !m || !z || !out)
    return INFINI_ERR_NULL;
  TRY(check_sizes(s->n, s->d_key, s->d_value));
  TRY(check_matrix(q, s->n, s->d_key, ldq, &read[0]));
  TRY(check_matrix(k, s->n, s->d_key, ldk, &read[1]));
  TRY(check_matrix(v, s->n, s->d_value, ldv, &read[2]));
  TRY(check_matrix(m, s->d_key, s->d_value, ldm, &written[0]));
  TRY(check_matrix(z, 1, s->d_key, s->d_key, &written[1]));
  TRY(check_matrix(out, s->n, s->d_value, ldo, &written[2]));
  TRY(check_step_params(p));
  TRY(check_disjoint(written, 3, read, 3));
  TRY(context_scratch(ctx, step_workspace(ctx->backend, s), &work));
  return run_segment_step(ctx->backend, s, p, q, ldq, k, ldk, v, ldv, m, ldm,
                          z, out, ldo, work);
}

/*
 * src/layer.c - the public layer step: validate the layer's shapes,
 * strides, parameters and memory state, then run the backend's layer step
 * (or the composition of src/compose.c).
 */
#include "config.h"
#include "src/compose.h"
#include "src/context.h"
#include "src/state.h"
#include "src/validate.h"

static infini_status check_config(const infini_layer_config *c) {
  TRY(check_sizes(c->n_heads, c->n_kv_heads, 1));
  TRY(check_sizes(c->d_key, c->d_value, 1));
  if (c->n_heads % c->n_kv_heads != 0)
    return INFINI_ERR_SHAPE;
  const infini_step_params p = {c->rule, 0.0f, c->eps, c->scale};
  return check_step_params(&p);
}

static infini_status check_betas(const float *beta, ptrdiff_t n_heads) {
  for (ptrdiff_t h = 0; h < n_heads; h++)
    TRY(check_beta(beta[h]));
  return INFINI_OK;
}

infini_status infini_layer_step(infini_context *ctx,
                                const infini_layer_config *c, ptrdiff_t n,
                                const float *q, ptrdiff_t ldq, const float *k,
                                ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                                const float *beta, infini_state *state,
                                float *out, ptrdiff_t ldo) {
  span read[4], written[3];
  ptrdiff_t q_cols, kv_key_cols, kv_value_cols, out_cols;
  void *work;
  if (!ctx || !c || !q || !k || !v || !beta || !state || !out)
    return INFINI_ERR_NULL;
  TRY(check_sizes(n, 1, 1));
  TRY(check_config(c));
  if (state->n_kv_heads != c->n_kv_heads || state->d_key != c->d_key ||
      state->d_value != c->d_value)
    return INFINI_ERR_SHAPE;
  TRY(checked_mul(c->n_heads, c->d_key, &q_cols));
  TRY(checked_mul(c->n_kv_heads, c->d_key, &kv_key_cols));
  TRY(checked_mul(c->n_kv_heads, c->d_value, &kv_value_cols));
  TRY(checked_mul(c->n_heads, c->d_value, &out_cols));
  TRY(check_matrix(q, n, q_cols, ldq, &read[0]));
  TRY(check_matrix(k, n, kv_key_cols, ldk, &read[1]));
  TRY(check_matrix(v, n, kv_value_cols, ldv, &read[2]));
  TRY(check_matrix(out, n, out_cols, ldo, &written[0]));
  TRY(check_betas(beta, c->n_heads));
  read[3] = float_span(beta, (size_t)c->n_heads);
  written[1] = float_span(state->m,
                          (size_t)(state->n_kv_heads * state->d_key * state->d_value));
  written[2] = float_span(state->z, (size_t)(state->n_kv_heads * state->d_key));
  TRY(check_disjoint(written, 3, read, 4));

  const infini_head_shape shape = {n, c->d_key, c->d_value};
  TRY(context_scratch(ctx, layer_workspace(ctx->backend, &shape), &work));
  return run_layer_step(ctx->backend, c, n, q, ldq, k, ldk, v, ldv, beta,
                        state->m, state->z, out, ldo, work);
}

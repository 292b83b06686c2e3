/*
 * ref/model_ops.h - the model's per-token math around the attention
 * (docs/model.md, (M1)-(M12)), declared for both precisions like ref/ref.h:
 * ref/model_ops.c is compiled in float (inside libinfini, for the model's
 * forward pass) and in double (the oracle, ref/model_oracle.c).
 *
 * Matrices are row-major with a row stride; weights are PyTorch nn.Linear
 * [out x in] matrices, packed (row stride = in). Arguments are assumed
 * valid (the callers check them); outputs never overlap inputs.
 */
#ifndef INFINI_REF_MODEL_OPS_H
#define INFINI_REF_MODEL_OPS_H

#include <stddef.h>
#include <stdint.h>

/* Deterministic double sin, cos and log of the oracle (ref/trig_oracle.c). */
double infini_sin_oracle(double x);
double infini_cos_oracle(double x);
double infini_log_oracle(double x);

#define INFINI_REF_MODEL_DECLARE(real, sfx)                                   \
  /* (M1) x_i = embed[tokens[i]] */                                          \
  void infini_ref_embed_##sfx(ptrdiff_t n, ptrdiff_t d, const int32_t *tokens, \
                              const real *embed, real *x, ptrdiff_t ldx);      \
  /* (M2) y = x / sqrt(mean(x^2) + eps) * w, row by row */                   \
  void infini_ref_rmsnorm_##sfx(ptrdiff_t n, ptrdiff_t d, const real *x,      \
                                ptrdiff_t ldx, const real *w, float eps,      \
                                real *y, ptrdiff_t ldy);                      \
  /* (M3) y = x W^T, W [d_out x d_in] */                                     \
  void infini_ref_linear_##sfx(ptrdiff_t n, ptrdiff_t d_in, ptrdiff_t d_out,  \
                               const real *x, ptrdiff_t ldx, const real *w,   \
                               real *y, ptrdiff_t ldy);                       \
  /* x += y, n rows of d (the residual adds of (M9), (M10)) */              \
  void infini_ref_add_rows_##sfx(ptrdiff_t n, ptrdiff_t d, const real *y,     \
                                 ptrdiff_t ldy, real *x, ptrdiff_t ldx);      \
  /* (M10) g = silu(g) * up, count elements */                               \
  void infini_ref_swiglu_##sfx(ptrdiff_t count, real *g, const real *up);     \
  /* (M5) cos and sin of p theta^(-2i/dh), [n_pos x dh/2] */                 \
  void infini_ref_rope_table_##sfx(ptrdiff_t n_pos, ptrdiff_t d_head,         \
                                   float theta, real *cos_t, real *sin_t);    \
  /* (M5) y = RoPE(x) for n rows of n_heads heads at positions p0.. */       \
  void infini_ref_rope_##sfx(ptrdiff_t n, ptrdiff_t n_heads, ptrdiff_t d_head, \
                             ptrdiff_t p0, const real *cos_t,                 \
                             const real *sin_t, const real *x, ptrdiff_t ldx, \
                             real *y, ptrdiff_t ldy);                         \
  /* (M2), (M3): u = RMSNorm(x) attn_norm; q, k, v = u Wq^T, u Wk^T, u Wv^T */ \
  void infini_ref_qkv_##sfx(                                                  \
      ptrdiff_t n, ptrdiff_t d, ptrdiff_t d_q, ptrdiff_t d_kv, const real *x, \
      ptrdiff_t ldx, const real *attn_norm, float eps, const real *wq,        \
      const real *wk, const real *wv, real *u, real *q, ptrdiff_t ldq,        \
      real *k, ptrdiff_t ldk, real *v, ptrdiff_t ldv);                        \
  /* (M9) x += A Wo^T, A [n x d_q]; u: [n x d] scratch */                    \
  void infini_ref_attn_out_##sfx(ptrdiff_t n, ptrdiff_t d, ptrdiff_t d_q,     \
                                 const real *a, ptrdiff_t lda, const real *wo, \
                                 real *u, real *x, ptrdiff_t ldx);            \
  /* (M10): x += SwiGLU(RMSNorm(x) ffn_norm); u [n x d], g, up [n x f] */ \
  void infini_ref_ffn_##sfx(ptrdiff_t n, ptrdiff_t d, ptrdiff_t f, real *x,   \
                            ptrdiff_t ldx, const real *ffn_norm, float eps,   \
                            const real *w_gate, const real *w_up,             \
                            const real *w_down, real *u, real *g, real *up);  \
  /* (M11) logits = RMSNorm(x) norm lm_head^T, [n x v]; u [n x d] */         \
  void infini_ref_logits_##sfx(ptrdiff_t n, ptrdiff_t d, ptrdiff_t v,         \
                               const real *x, ptrdiff_t ldx, const real *norm, \
                               float eps, const real *lm_head, real *u,       \
                               real *logits, ptrdiff_t ldl);

INFINI_REF_MODEL_DECLARE(float, f32)
INFINI_REF_MODEL_DECLARE(double, f64)

#endif /* INFINI_REF_MODEL_OPS_H */

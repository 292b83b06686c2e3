/*
 * ref/model_ops.c - the model's math around the attention, written once
 * for both precisions (ref/real.h): docs/model.md, labels (M1)-(M11).
 * Float: the forward pass of libinfini (src/model.c). Double: the oracle
 * (ref/model_oracle.c), deterministic on every platform because it uses
 * only +, -, *, /, sqrt (correctly rounded in IEEE-754) and the oracle's
 * own exp, sin, cos and log, with no FMA contraction (ref/local.mk).
 *
 * Loops are plain and in formula order; the linear layer's inner loop is a
 * dot product over contiguous memory (a row of x with a row of W), which
 * the float build groups into partial sums for speed.
 */
#include "ref/real.h"
#include "ref/model_ops.h"

/* The functions RoPE's angles need, in double in both builds: the float
 * model's table is computed in double then rounded, so its only error is
 * that rounding. The oracle uses its deterministic versions. */
#if defined(INFINI_REAL_F64)
#define ROPE_LOG(x) infini_log_oracle(x)
#define ROPE_EXP(x) infini_exp_oracle(x)
#define ROPE_COS(x) infini_cos_oracle(x)
#define ROPE_SIN(x) infini_sin_oracle(x)
#else
#define ROPE_LOG(x) log(x)
#define ROPE_EXP(x) exp(x)
#define ROPE_COS(x) cos(x)
#define ROPE_SIN(x) sin(x)
#endif

void REF(embed)(ptrdiff_t n, ptrdiff_t d, const int32_t *tokens,
                const real *embed, real *x, ptrdiff_t ldx) {
  for (ptrdiff_t i = 0; i < n; i++) /* (M1) */
    for (ptrdiff_t c = 0; c < d; c++)
      x[i * ldx + c] = embed[(ptrdiff_t)tokens[i] * d + c];
}

void REF(rmsnorm)(ptrdiff_t n, ptrdiff_t d, const real *x, ptrdiff_t ldx,
                  const real *w, float eps, real *y, ptrdiff_t ldy) {
  for (ptrdiff_t i = 0; i < n; i++) {
    const real *x_i = x + i * ldx;
    real ss = 0;
    for (ptrdiff_t c = 0; c < d; c++)
      ss += x_i[c] * x_i[c];
    /* (M2) r = 1 / sqrt(mean(x^2) + eps); y = (x r) w */
    const real r = 1 / (real)sqrt(ss / (real)d + (real)eps);
    for (ptrdiff_t c = 0; c < d; c++)
      y[i * ldy + c] = x_i[c] * r * w[c];
  }
}

#if defined(INFINI_REAL_F32)
/* The float build's linear layer, (M3) with its sums grouped for speed
 * (about 3x at -O2 on x86-64): LINEAR_ROWS rows of x against one row of W
 * at a time, so W is streamed once per LINEAR_ROWS rows instead of once
 * per row, and each dot product in LINEAR_LANES interleaved partial sums
 * (lane k takes c = k mod LANES) that the compiler keeps in vector
 * registers; strict IEEE semantics forbid it to split one sum itself.
 * The oracle keeps the formula's order (below); float results differ from
 * it by rounding only. */
#define LINEAR_ROWS 4
#define LINEAR_LANES 8

/* y rows 0..nr-1 = xr[r] W^T; nr is LINEAR_ROWS or 1, a constant at each
 * (inlined) call, so the row loop is unrolled. */
static inline void linear_rows(int nr, ptrdiff_t d_in, ptrdiff_t d_out,
                               const real *const *xr, const real *w, real *y,
                               ptrdiff_t ldy) {
  for (ptrdiff_t o = 0; o < d_out; o++) {
    const real *w_o = w + o * d_in;
    real acc[LINEAR_ROWS][LINEAR_LANES] = {{0}};
    ptrdiff_t c = 0;
    for (; c + LINEAR_LANES <= d_in; c += LINEAR_LANES)
      for (int r = 0; r < nr; r++)
        for (int k = 0; k < LINEAR_LANES; k++)
          acc[r][k] += xr[r][c + k] * w_o[c + k];
    for (int r = 0; r < nr; r++) {
      real sum = 0;
      for (int k = 0; k < LINEAR_LANES; k++)
        sum += acc[r][k];
      for (ptrdiff_t t = c; t < d_in; t++)
        sum += xr[r][t] * w_o[t];
      y[r * ldy + o] = sum;
    }
  }
}

void REF(linear)(ptrdiff_t n, ptrdiff_t d_in, ptrdiff_t d_out, const real *x,
                 ptrdiff_t ldx, const real *w, real *y, ptrdiff_t ldy) {
  ptrdiff_t i = 0;
  for (; i + LINEAR_ROWS <= n; i += LINEAR_ROWS) {
    const real *xr[LINEAR_ROWS];
    for (int r = 0; r < LINEAR_ROWS; r++)
      xr[r] = x + (i + r) * ldx;
    linear_rows(LINEAR_ROWS, d_in, d_out, xr, w, y + i * ldy, ldy);
  }
  for (; i < n; i++) { /* the last n mod LINEAR_ROWS rows, one at a time */
    const real *x_i = x + i * ldx;
    linear_rows(1, d_in, d_out, &x_i, w, y + i * ldy, ldy);
  }
}
#else
void REF(linear)(ptrdiff_t n, ptrdiff_t d_in, ptrdiff_t d_out, const real *x,
                 ptrdiff_t ldx, const real *w, real *y, ptrdiff_t ldy) {
  for (ptrdiff_t i = 0; i < n; i++)
    for (ptrdiff_t o = 0; o < d_out; o++) {
      const real *x_i = x + i * ldx, *w_o = w + o * d_in;
      real acc = 0; /* (M3) y_io = sum_c x_ic W_oc */
      for (ptrdiff_t c = 0; c < d_in; c++)
        acc += x_i[c] * w_o[c];
      y[i * ldy + o] = acc;
    }
}
#endif

void REF(rope_table)(ptrdiff_t n_pos, ptrdiff_t d_head, float theta,
                     real *cos_t, real *sin_t) {
  const ptrdiff_t half = d_head / 2;
  const double log_theta = ROPE_LOG((double)theta);
  for (ptrdiff_t i = 0; i < half; i++) {
    /* (M5) theta_i = theta^(-2i/dh) = exp(-(2i/dh) ln theta) */
    const double freq = ROPE_EXP(-((double)(2 * i) / (double)d_head) * log_theta);
    for (ptrdiff_t p = 0; p < n_pos; p++) {
      const double angle = (double)p * freq;
      cos_t[p * half + i] = (real)ROPE_COS(angle);
      sin_t[p * half + i] = (real)ROPE_SIN(angle);
    }
  }
}

void REF(rope)(ptrdiff_t n, ptrdiff_t n_heads, ptrdiff_t d_head, ptrdiff_t p0,
               const real *cos_t, const real *sin_t, const real *x,
               ptrdiff_t ldx, real *y, ptrdiff_t ldy) {
  const ptrdiff_t half = d_head / 2;
  for (ptrdiff_t r = 0; r < n; r++) {
    const real *c_p = cos_t + (p0 + r) * half, *s_p = sin_t + (p0 + r) * half;
    for (ptrdiff_t h = 0; h < n_heads; h++) {
      const real *x_h = x + r * ldx + h * d_head;
      real *y_h = y + r * ldy + h * d_head;
      /* (M5) rotate the pair (x_i, x_{i+dh/2}) by angle p theta_i */
      for (ptrdiff_t i = 0; i < half; i++) {
        const real a = x_h[i], b = x_h[i + half];
        y_h[i] = a * c_p[i] - b * s_p[i];
        y_h[i + half] = b * c_p[i] + a * s_p[i];
      }
    }
  }
}

void REF(qkv)(ptrdiff_t n, ptrdiff_t d, ptrdiff_t d_q, ptrdiff_t d_kv,
              const real *x, ptrdiff_t ldx, const real *attn_norm, float eps,
              const real *wq, const real *wk, const real *wv, real *u, real *q,
              ptrdiff_t ldq, real *k, ptrdiff_t ldk, real *v, ptrdiff_t ldv) {
  REF(rmsnorm)(n, d, x, ldx, attn_norm, eps, u, d); /* (M2) */
  REF(linear)(n, d, d_q, u, d, wq, q, ldq);         /* (M3) Q = u Wq^T */
  REF(linear)(n, d, d_kv, u, d, wk, k, ldk);        /* (M3) K = u Wk^T */
  REF(linear)(n, d, d_kv, u, d, wv, v, ldv);        /* (M3) V = u Wv^T */
}

void REF(add_rows)(ptrdiff_t n, ptrdiff_t d, const real *y, ptrdiff_t ldy,
                  real *x, ptrdiff_t ldx) {
  for (ptrdiff_t i = 0; i < n; i++)
    for (ptrdiff_t c = 0; c < d; c++)
      x[i * ldx + c] += y[i * ldy + c];
}

void REF(attn_out)(ptrdiff_t n, ptrdiff_t d, ptrdiff_t d_q, const real *a,
                   ptrdiff_t lda, const real *wo, real *u, real *x,
                   ptrdiff_t ldx) {
  REF(linear)(n, d_q, d, a, lda, wo, u, d); /* (M9) [A^1..A^H] Wo^T */
  REF(add_rows)(n, d, u, d, x, ldx);        /* (M9) h = x + ... */
}

/* (M10) silu(a) = a / (1 + exp(-a)); exp(-a) = inf gives -0, the limit. */
static real silu(real a) { return a / (1 + REAL_EXP(-a)); }

void REF(swiglu)(ptrdiff_t count, real *g, const real *up) {
  for (ptrdiff_t i = 0; i < count; i++) /* (M10) silu(.) * (.) */
    g[i] = silu(g[i]) * up[i];
}

void REF(ffn)(ptrdiff_t n, ptrdiff_t d, ptrdiff_t f, real *x, ptrdiff_t ldx,
              const real *ffn_norm, float eps, const real *w_gate,
              const real *w_up, const real *w_down, real *u, real *g,
              real *up) {
  REF(rmsnorm)(n, d, x, ldx, ffn_norm, eps, u, d); /* (M2) */
  REF(linear)(n, d, f, u, d, w_gate, g, f);        /* (M10) u Wgate^T */
  REF(linear)(n, d, f, u, d, w_up, up, f);         /* (M10) u Wup^T */
  REF(swiglu)(n * f, g, up);                       /* (M10) silu(.) * (.) */
  REF(linear)(n, f, d, g, f, w_down, u, d);        /* (M10) (...) Wdown^T */
  REF(add_rows)(n, d, u, d, x, ldx);               /* (M10) x' = h + ... */
}

void REF(logits)(ptrdiff_t n, ptrdiff_t d, ptrdiff_t v, const real *x,
                 ptrdiff_t ldx, const real *norm, float eps,
                 const real *lm_head, real *u, real *logits, ptrdiff_t ldl) {
  REF(rmsnorm)(n, d, x, ldx, norm, eps, u, d); /* (M11) */
  REF(linear)(n, d, v, u, d, lm_head, logits, ldl);
}

/*
 * conformance/mutants/impl.c - the one configurable implementation of the
 * operators (impl.h), in which every entry of the catalogue of known
 * deviations (conformance/catalogue.h) is one small marked branch.
 *
 * Read it as the reference written a second time, with two kinds of
 * switch, both driven by a cat_config:
 *  - USES(name)  a correct VARIANT: another summation order or evaluation
 *                the spec allows (S18);
 *  - BUG(name)   a deliberate, realistic slip, in a branch marked
 *                "BUG name:" that says what it models. With no bug on, no
 *                such branch is taken.
 *
 * Compiled for float (the mutant plugin) and for double (the diagnoser)
 * from this one source, with -ffp-contract=off: `s += a * b` is a rounded
 * multiply then a rounded add, and the fma variant is really different.
 *
 * Unlike ref/, sigma is evaluated once per element (a featurised copy of
 * Q or K), as fast implementations do; the diagnoser runs every candidate
 * deviation through here, so this keeps its cost low. Scratch comes from
 * malloc, not from the caller's workspace; a failed allocation returns
 * INFINI_ERR_BACKEND.
 *
 * Layout: element type; feature map and sigmoid; sums (where the summation
 * variants live); the operators on valid data; the entry points, which
 * add the bf16 variant (inputs and outputs rounded), nan_to_zero and
 * stride_ignored, and call the cores.
 */
#include "config.h"
#include "conformance/mutants/impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(DEV_REAL_F64)
typedef double real;
#define DEV(name) dev_##name##_f64
#define R_EXP(x) exp(x)
#define R_EXPM1(x) expm1(x)
#define R_FMA(a, b, c) fma(a, b, c)
#elif defined(DEV_REAL_F32)
typedef float real;
#define DEV(name) dev_##name##_f32
#define R_EXP(x) expf(x)
#define R_EXPM1(x) expm1f(x)
#define R_FMA(a, b, c) fmaf(a, b, c)
#else
#error "compile impl.c with -DDEV_REAL_F32 or -DDEV_REAL_F64"
#endif

#define USES(name) (cfg->variant == CAT_##name)
#define BUG(name) (cfg->on[CAT_##name])
#define PARAM(name) (cfg->param[CAT_##name])

static real *scratch(ptrdiff_t count) {
  return malloc((size_t)(count > 0 ? count : 1) * sizeof(real));
}

/* ------------------------------------------------------------------------ */
/* Feature map (F) and the gate's sigmoid                                    */

static real sigma(const cat_config *cfg, real x) {
  /* BUG sigma_exp: exp for every x, as if ELU's x <= 0 branch were the
   * whole function ("sigma = exp" feature maps of other linear attentions). */
  if (BUG(sigma_exp))
    return R_EXP(x);
  if (x > 0) {
    if (BUG(elu_no_plus1)) /* BUG elu_no_plus1: F.elu(x) where F.elu(x) + 1 was meant */
      return x;
    return x + 1; /* (F), x > 0 */
  }
  if (BUG(elu_no_plus1)) /* BUG elu_no_plus1 (x <= 0): exp(x) - 1 */
    return R_EXP(x) - 1;
  if (BUG(elu_alpha_half)) /* BUG elu_alpha_half: F.elu(x, alpha=0.5) + 1 */
    return (real)0.5 * (R_EXP(x) - 1) + 1;
  if (USES(expm1)) /* variant: ELU as expm1(x), plus 1 (spec (F), note) */
    return R_EXPM1(x) + 1;
  return R_EXP(x); /* (F), x <= 0; NaN lands here and stays NaN */
}

static real sigmoid(real x) { return 1 / (1 + R_EXP(-x)); }

/* sigma of a rows x cols block, packed (row stride cols); NULL when out of
 * memory. */
static real *featurise(const cat_config *cfg, ptrdiff_t rows, ptrdiff_t cols,
                       const real *x, ptrdiff_t ldx) {
  real *y = scratch(rows * cols);
  for (ptrdiff_t i = 0; y && i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      y[i * cols + j] = sigma(cfg, x[i * ldx + j]);
  return y;
}

/* ------------------------------------------------------------------------ */
/* Sums                                                                      */

/* One term of sum_t a_t b_t: b == NULL makes it a plain sum of a. */
static real term(const real *a, ptrdiff_t sa, const real *b, ptrdiff_t sb, ptrdiff_t t) {
  return b ? a[t * sa] * b[t * sb] : a[t * sa];
}

static real pairwise(const real *a, ptrdiff_t sa, const real *b, ptrdiff_t sb,
                     ptrdiff_t lo, ptrdiff_t hi) {
  if (hi - lo == 1)
    return term(a, sa, b, sb, lo);
  const ptrdiff_t mid = lo + (hi - lo) / 2;
  return pairwise(a, sa, b, sb, lo, mid) + pairwise(a, sa, b, sb, mid, hi);
}

/* Round to TF32 (10 explicit mantissa bits, nearest-even), as tensor cores
 * read float32 matrix inputs under allow_tf32; NaN and inf pass. */
static real tf32_round(real value) {
  float x = (float)value;
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0x7f800000u)
    return value;
  u += 0xfffu + ((u >> 13) & 1u);
  u &= 0xffffe000u;
  memcpy(&x, &u, sizeof x);
  return (real)x;
}

/* sum_{t=0..n-1} a[t sa] b[t sb], in the way the variant says; n may be 0. */
static real dot(const cat_config *cfg, const real *a, ptrdiff_t sa, const real *b,
                ptrdiff_t sb, ptrdiff_t n) {
  real s = 0;
  switch (cfg->variant) {
  case CAT_double: { /* products and sum in double, one rounding at the end */
    double d = 0;
    for (ptrdiff_t t = 0; t < n; t++)
      d += b ? (double)a[t * sa] * (double)b[t * sb] : (double)a[t * sa];
    return (real)d;
  }
  case CAT_pairwise:
    return n > 0 ? pairwise(a, sa, b, sb, 0, n) : 0;
  case CAT_kahan: { /* compensated: c carries the low part lost by each add */
    real c = 0;
    for (ptrdiff_t t = 0; t < n; t++) {
      const real y = term(a, sa, b, sb, t) - c;
      const real next = s + y;
      c = (next - s) - y;
      s = next;
    }
    return s;
  }
  case CAT_reversed:
    for (ptrdiff_t t = n - 1; t >= 0; t--)
      s += term(a, sa, b, sb, t);
    return s;
  case CAT_blocked8: { /* lane t % 8 holds every 8th term, as 8 SIMD lanes */
    real lane[8] = {0};
    for (ptrdiff_t t = 0; t < n; t++)
      lane[t % 8] += term(a, sa, b, sb, t);
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
           ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }
  case CAT_fma:
    for (ptrdiff_t t = 0; t < n; t++)
      s = R_FMA(a[t * sa], b ? b[t * sb] : 1, s);
    return s;
  case CAT_tf32: /* products of two tensors only; plain sums stay float */
    for (ptrdiff_t t = 0; t < n; t++)
      s += b ? tf32_round(a[t * sa]) * tf32_round(b[t * sb]) : a[t * sa];
    return s;
  default: /* plain: sequential, product rounded, then the add rounded */
    for (ptrdiff_t t = 0; t < n; t++)
      s += term(a, sa, b, sb, t);
    return s;
  }
}

/* ------------------------------------------------------------------------ */
/* Retrieval (7), (S4), (S5), from featurised queries                        */

/* BUG den_colsum helper: per value column j, sum over all query rows of
 * (sigma(q_i) M)[j]. */
static real *column_sums(const cat_config *cfg, const infini_head_shape *shape,
                         const real *sq, const real *m, ptrdiff_t ldm) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  real *s = scratch(dv);
  for (ptrdiff_t j = 0; s && j < dv; j++) {
    s[j] = 0;
    for (ptrdiff_t i = 0; i < shape->n; i++)
      s[j] += dot(cfg, sq + i * dk, 1, m + j, ldm, dk);
  }
  return s;
}

/* A_mem[i] = sigma(q_i) M / (sigma(q_i) . z + eps), a zero row when that
 * denominator is 0. sq: sigma(Q), n x d_key packed. Also the delta rule's
 * prediction (with sigma(K)). */
static bool retrieve_core(const cat_config *cfg, const infini_head_shape *shape,
                          const real *sq, const real *m, ptrdiff_t ldm, const real *z,
                          float eps_param, bool prediction, real *a, ptrdiff_t lda) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  /* BUG eps_ignored: the eps parameter dropped on the way in. */
  const real eps = BUG(eps_ignored) ? 0 : (real)eps_param;
  real *colsum = NULL;
  if (BUG(den_colsum) && !(colsum = column_sums(cfg, shape, sq, m, ldm)))
    return false;

  for (ptrdiff_t i = 0; i < shape->n; i++) {
    const real *sq_i = sq + i * dk;
    real *a_i = a + i * lda;

    const real den0 = dot(cfg, sq_i, 1, z, 1, dk);
    real den = den0;
    /* BUG den_clamp: max(den, c) in place of den + eps. */
    if (BUG(den_clamp))
      den = den > (real)PARAM(den_clamp) ? den : (real)PARAM(den_clamp);
    else
      den += eps; /* (S4) */
    /* BUG eps_added: a hard-coded "+ 1e-6" (say) on top of the parameter. */
    if (BUG(eps_added))
      den += (real)PARAM(eps_added);
    /* BUG den_plus1: "/ (den + 1)", a smoothing constant of 1. */
    if (BUG(den_plus1))
      den += 1;

    /* (S5) zero-row rule. BUG zero_row_missing: no such test, so an empty
     * memory gives 0/0 = NaN. */
    /* BUG delta_zero_row_missing: the same, in the delta prediction only. */
    if (den == 0 && !BUG(zero_row_missing) && !(prediction && BUG(delta_zero_row_missing))) {
      for (ptrdiff_t j = 0; j < dv; j++)
        a_i[j] = 0;
      continue;
    }

    for (ptrdiff_t j = 0; j < dv; j++) {
      const real num = dot(cfg, sq_i, 1, m + j, ldm, dk);
      real a_ij = num / den;
      /* variant: multiply by the reciprocal where it is a normal float
       * (S18), 2^-126 <= |den| <= 2^126; divide elsewhere. */
      if (USES(reciprocal) && fabs((double)den) >= 0x1p-126 && fabs((double)den) <= 0x1p126)
        a_ij = num * (1 / den);
      /* BUG reciprocal_unguarded: the float32 reciprocal everywhere; for a
       * subnormal den it overflows to inf (computed in float, so that the
       * double build of the diagnoser shows it too; a den that is 0 in
       * float took the zero-row rule above in float code). */
      if (BUG(reciprocal_unguarded) && (float)den != 0)
        a_ij = num * (real)(1.0f / (float)den);
      /* BUG no_normaliser: sigma(Q) M without the division. */
      if (BUG(no_normaliser))
        a_ij = num;
      /* BUG z_per_column: (sigma(Q) @ M) / (z + eps), z broadcast along the
       * value axis (shape-valid in numpy only when d_key == d_value; z is
       * read cyclically otherwise). den - den0: whatever this code adds to
       * its denominator (eps, and eps_added or den_plus1 with them). */
      if (BUG(z_per_column))
        a_ij = num / (z[j % dk] + (den - den0));
      /* BUG den_colsum: normalised over the query axis, per column. */
      if (BUG(den_colsum))
        a_ij = num / colsum[j];
      /* BUG z_sum_broadcast: (sigma(q) M) / (sigma(q).sum(-1) * z + eps),
       * z broadcast along the value axis against the row sum. */
      if (BUG(z_sum_broadcast))
        a_ij = num / (dot(cfg, sq_i, 1, NULL, 0, dk) * z[j % dk] + (den - den0));
      /* BUG eps_precedence: "num / den + eps", the eps outside the division. */
      if (BUG(eps_precedence))
        a_ij = num / den0 + eps;
      a_i[j] = a_ij;
    }
  }
  free(colsum);
  return true;
}

/* ------------------------------------------------------------------------ */
/* Updates (8), (9)                                                          */

/* (8): M += sigma(K)^T W, and z += sum_t sigma(k_t) when update_z. */
static bool linear_core(const cat_config *cfg, const infini_head_shape *shape,
                        const real *k, ptrdiff_t ldk, const real *w, ptrdiff_t ldw,
                        real *m, ptrdiff_t ldm, real *z, bool update_z) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  ptrdiff_t n = shape->n;
  /* BUG drop_last: range(N - 1), the last token never written. */
  if (BUG(drop_last))
    n -= 1;

  /* The rows sigma is applied to, and the rows they weigh. BUG
   * kv_swap_mem: M += sigma(W)^T K, z += sum sigma(w_t); only the
   * d_value x d_key block is shape-valid, the rest is left unchanged. */
  const real *keys = k, *vals = w;
  ptrdiff_t ld_keys = ldk, ld_vals = ldw, d_keys = dk, d_vals = dv;
  if (BUG(kv_swap_mem))
    keys = w, ld_keys = ldw, vals = k, ld_vals = ldk, d_keys = dv, d_vals = dk;

  real *sk = featurise(cfg, n, d_keys, keys, ld_keys);
  if (!sk)
    return false;
  for (ptrdiff_t c = 0; c < dk; c++) {
    for (ptrdiff_t j = 0; j < dv; j++)
      if (c < d_keys && j < d_vals)
        m[c * ldm + j] += dot(cfg, sk + c, d_keys, vals + j, ld_vals, n);
    if (update_z && c < d_keys)
      z[c] += dot(cfg, sk + c, d_keys, NULL, 0, n);
  }
  free(sk);
  return true;
}

/* The retrieval of rows `keys` (sigma applied here) from (m, z), into w. */
static bool predict(const cat_config *cfg, const infini_head_shape *shape,
                    const real *keys, ptrdiff_t ld_keys, const real *m, ptrdiff_t ldm,
                    const real *z, float eps, real *w) {
  real *sk = featurise(cfg, shape->n, shape->d_key, keys, ld_keys);
  /* BUG delta_no_eps: the prediction divides without eps. */
  const float e = BUG(delta_no_eps) ? 0.0f : eps;
  const bool ok = sk && retrieve_core(cfg, shape, sk, m, ldm, z, e, true, w, shape->d_value);
  free(sk);
  return ok;
}

/* BUG delta_from_updated: the prediction reads M_{s-1} + sigma(K)^T V and
 * z_s, the memory after a linear update, instead of M_{s-1}, z_{s-1}. */
static bool predict_from_updated(const cat_config *cfg, const infini_head_shape *shape,
                                 const real *k, ptrdiff_t ldk, const real *v,
                                 ptrdiff_t ldv, const real *m, ptrdiff_t ldm,
                                 const real *z, float eps, real *w) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  real *m2 = scratch(dk * dv), *z2 = scratch(dk);
  bool ok = m2 && z2;
  for (ptrdiff_t r = 0; ok && r < dk; r++) {
    memcpy(m2 + r * dv, m + r * ldm, (size_t)dv * sizeof *m2);
    z2[r] = z[r];
  }
  ok = ok && linear_core(cfg, shape, k, ldk, v, ldv, m2, dv, z2, true) &&
       predict(cfg, shape, k, ldk, m2, dv, z2, eps, w);
  free(m2);
  free(z2);
  return ok;
}

/* (9), (S8): Pred = retrieval of the rows of pk (K; Q under delta_sigma_q)
 * from M_{s-1}, z_{s-1}; M += sigma(K)^T (V - Pred); z as (8). */
static bool delta_core(const cat_config *cfg, const infini_head_shape *shape,
                       const real *pk, ptrdiff_t ldpk, const real *k, ptrdiff_t ldk,
                       const real *v, ptrdiff_t ldv, real *m, ptrdiff_t ldm, real *z,
                       float eps) {
  const ptrdiff_t n = shape->n, dv = shape->d_value;
  real *w = scratch(n * dv);
  bool ok = w != NULL;

  /* BUG delta_sequential: token t predicts from the memory already updated
   * by tokens 0..t-1 (a per-token loop), not from M_{s-1}. */
  if (ok && BUG(delta_sequential)) {
    const infini_head_shape one = {1, shape->d_key, dv};
    for (ptrdiff_t t = 0; ok && t < n; t++) {
      ok = predict(cfg, &one, pk + t * ldpk, ldpk, m, ldm, z, eps, w);
      for (ptrdiff_t j = 0; j < dv; j++)
        w[j] = v[t * ldv + j] - w[j];
      ok = ok && linear_core(cfg, &one, k + t * ldk, ldk, w, dv, m, ldm, z,
                             !BUG(delta_no_z));
    }
    free(w);
    return ok;
  }

  if (ok && BUG(delta_from_updated))
    ok = predict_from_updated(cfg, shape, k, ldk, v, ldv, m, ldm, z, eps, w);
  else if (ok)
    ok = predict(cfg, shape, pk, ldpk, m, ldm, z, eps, w); /* Pred */
  for (ptrdiff_t t = 0; ok && t < n; t++)
    for (ptrdiff_t j = 0; j < dv; j++)
      w[t * dv + j] = v[t * ldv + j] - w[t * dv + j]; /* V - Pred */
  /* BUG delta_no_z: the delta branch forgets z += sum_t sigma(k_t). */
  ok = ok && linear_core(cfg, shape, k, ldk, w, dv, m, ldm, z, !BUG(delta_no_z));
  free(w);
  return ok;
}

/* The rule a head applies. BUG rule_linear / rule_delta: the other one. */
static bool delta_rule(const cat_config *cfg, infini_update_rule rule) {
  if (BUG(rule_linear))
    return false;
  if (BUG(rule_delta))
    return true;
  return rule == INFINI_UPDATE_DELTA;
}

/* (S13) (d): the update of one kv head. q: the group's first query head,
 * read only by delta_sigma_q. */
static bool head_update(const cat_config *cfg, const infini_head_shape *shape,
                        infini_update_rule rule, float eps, const real *q, ptrdiff_t ldq,
                        const real *k, ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                        real *m, ptrdiff_t ldm, real *z) {
  if (!delta_rule(cfg, rule))
    return linear_core(cfg, shape, k, ldk, v, ldv, m, ldm, z, true);
  /* BUG delta_sigma_q: the prediction retrieves with sigma(Q) (a step's
   * update only: the update operators have no Q). */
  if (BUG(delta_sigma_q) && q)
    return delta_core(cfg, shape, q, ldq, k, ldk, v, ldv, m, ldm, z, eps);
  return delta_core(cfg, shape, k, ldk, k, ldk, v, ldv, m, ldm, z, eps);
}

/* ------------------------------------------------------------------------ */
/* Mixing (10) and local attention (6)                                       */

/* (10), (S12): out = g A_mem + (1 - g) A_dot, g = sigmoid(beta). */
static void mix_core(const cat_config *cfg, ptrdiff_t rows, ptrdiff_t cols, float beta,
                     const real *a_mem, ptrdiff_t ldm, const real *a_dot, ptrdiff_t ldd,
                     real *out, ptrdiff_t ldo) {
  const real g = sigmoid((real)beta);
  real one_minus_g = sigmoid(-(real)beta);
  if (USES(one_minus_g)) /* variant: the direct form */
    one_minus_g = 1 - g;
  real w_mem = g, w_dot = one_minus_g;
  /* BUG gate_swap: sigmoid(beta) weighs the local term. */
  if (BUG(gate_swap))
    w_mem = one_minus_g, w_dot = g;
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      const real am = a_mem[i * ldm + j], ad = a_dot[i * ldd + j];
      out[i * ldo + j] = USES(fma) ? R_FMA(w_mem, am, w_dot * ad) : w_mem * am + w_dot * ad;
    }
}

/* The softmax scale in use. The BUG scale_* entries: the usual wrong ones. */
static real scale_of(const cat_config *cfg, float scale, ptrdiff_t dk) {
  if (BUG(scale_dmodel)) /* the paper's 1/sqrt(d_model), d_model = H d_key */
    return (real)(1 / sqrt(PARAM(scale_dmodel) * (double)dk));
  if (BUG(scale_ignored)) /* 1/sqrt(d_key) hard-coded */
    return (real)(1 / sqrt((double)dk));
  if (BUG(scale_inv_d)) /* 1/d_key */
    return (real)(1 / (double)dk);
  if (BUG(scale_none))
    return 1;
  if (BUG(scale_other))
    return (real)PARAM(scale_other);
  return (real)scale;
}

/* exp of an unshifted score as float32 computes it (BUG softmax_nomax):
 * +inf above 88.72 in the double build too. */
static real exp_unshifted(real s) { return (real)(float)R_EXP(s); }

/* One row of local attention in one pass (variant online_softmax): a
 * running maximum; earlier terms rescaled by exp(old max - new max). */
static void online_row(const real *scores, const real *vals,
                       ptrdiff_t ld_vals, ptrdiff_t visible, ptrdiff_t d_out, real *o) {
  real run_max = -INFINITY, run_sum = 0;
  for (ptrdiff_t c = 0; c < d_out; c++)
    o[c] = 0;
  for (ptrdiff_t j = 0; j < visible; j++) {
    const real s = scores[j];
    const real new_max = (s > run_max || s != s) ? s : run_max;
    const real rescale = R_EXP(run_max - new_max); /* 0 at j = 0 */
    const real p = R_EXP(s - new_max);
    run_sum = run_sum * rescale + p;
    for (ptrdiff_t c = 0; c < d_out; c++)
      o[c] = o[c] * rescale + p * vals[j * ld_vals + c];
    run_max = new_max;
  }
  for (ptrdiff_t c = 0; c < d_out; c++)
    o[c] /= run_sum;
}

/* BUG softmax_cols helper: per key column j, the max and the sum of
 * exp(S_ij - max) over the query rows i >= j that see it. s: n x n scores. */
static void column_softmax(ptrdiff_t n, const real *s, real *col_max, real *col_sum) {
  for (ptrdiff_t j = 0; j < n; j++) {
    col_max[j] = -INFINITY;
    for (ptrdiff_t i = j; i < n; i++)
      if (s[i * n + j] > col_max[j])
        col_max[j] = s[i * n + j];
    col_sum[j] = 0;
    for (ptrdiff_t i = j; i < n; i++)
      col_sum[j] += R_EXP(s[i * n + j] - col_max[j]);
  }
}

/* How many keys row i sees: (S10) j <= i. BUG mask_strict: j < i. BUG
 * mask_plus1: j <= i + 1. BUG no_mask: all of the segment. */
static ptrdiff_t visible_keys(const cat_config *cfg, ptrdiff_t i, ptrdiff_t n) {
  if (BUG(mask_strict))
    return i;
  if (BUG(mask_plus1))
    return i + 2 < n ? i + 2 : n;
  if (BUG(no_mask))
    return n;
  return i + 1;
}

/* How many keys the sums of row i run over: the visible ones, or, for the
 * dense variants, the whole segment with the masked scores of
 * masked_score (S24). */
static ptrdiff_t keys_summed(const cat_config *cfg, ptrdiff_t i, ptrdiff_t n) {
  return USES(dense_mask) || USES(additive_mask) ? n : visible_keys(cfg, i, n);
}

/* A masked score of the dense variants: -inf (masked_fill), or the score
 * plus -inf (an additive mask: NaN and +inf scores give NaN). */
static real masked_score(const cat_config *cfg, const real *q_i, const real *k_j,
                         ptrdiff_t d, real scale) {
  if (USES(dense_mask))
    return -INFINITY;
  return scale * dot(cfg, q_i, 1, k_j, 1, d) + (real)-INFINITY;
}

/* (6), (S10), (S11): out_i = sum_{j<=i} softmax_j(scale q_i . k_j) v_j. */
static bool attention_core(const cat_config *cfg, const infini_head_shape *shape,
                           const real *q, ptrdiff_t ldq, const real *k, ptrdiff_t ldk,
                           const real *v, ptrdiff_t ldv, float scale_param, real *out,
                           ptrdiff_t ldo) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  const real scale = scale_of(cfg, scale_param, dk);

  /* Scores use the keys, the output sums the values. BUG kv_swap_attn: the
   * two swapped (only the min(d_key, d_value) overlap is shape-valid; output
   * columns beyond it are 0). */
  const real *keys = k, *vals = v;
  ptrdiff_t ld_keys = ldk, ld_vals = ldv, d_score = dk, d_out = dv;
  if (BUG(kv_swap_attn)) {
    keys = v, ld_keys = ldv, vals = k, ld_vals = ldk;
    d_score = d_out = dk < dv ? dk : dv;
  }

  /* The scores S_ij that row i sees (softmax_cols reads the same causal
   * triangle by columns). */
  real *s = scratch(n * n), *col_max = scratch(n), *col_sum = scratch(n);
  const bool ok = s && col_max && col_sum;
  for (ptrdiff_t i = 0; ok && i < n; i++)
    for (ptrdiff_t j = 0; j < keys_summed(cfg, i, n); j++) {
      const real *q_i = q + i * ldq, *k_j = keys + j * ld_keys;
      s[i * n + j] = j < visible_keys(cfg, i, n) ? scale * dot(cfg, q_i, 1, k_j, 1, d_score)
                                                 : masked_score(cfg, q_i, k_j, d_score, scale);
    }
  if (ok && BUG(softmax_cols))
    column_softmax(n, s, col_max, col_sum);

  for (ptrdiff_t i = 0; ok && i < n; i++) {
    real *s_i = s + i * n, *o_i = out + i * ldo;
    const ptrdiff_t visible = keys_summed(cfg, i, n);
    for (ptrdiff_t c = d_out; c < dv; c++) /* kv_swap_attn only */
      o_i[c] = 0;
    if (USES(online_softmax)) {
      online_row(s_i, vals, ld_vals, visible, d_out, o_i);
      continue;
    }
    /* Two passes: the maximum (a NaN score makes it NaN)... */
    real row_max = -INFINITY;
    for (ptrdiff_t j = 0; j < visible; j++)
      if (s_i[j] > row_max || s_i[j] != s_i[j])
        row_max = s_i[j];
    /* ...then the weights, their sum, and the weighted values. */
    for (ptrdiff_t j = 0; j < visible; j++) {
      if (BUG(softmax_nomax)) /* BUG softmax_nomax: exp(S_ij) unshifted */
        s_i[j] = exp_unshifted(s_i[j]);
      else if (BUG(softmax_cols)) /* BUG softmax_cols: per column, not per row */
        s_i[j] = R_EXP(s_i[j] - col_max[j]) / col_sum[j];
      else
        s_i[j] = R_EXP(s_i[j] - row_max);
    }
    const real p_sum = BUG(softmax_cols) ? 1 : dot(cfg, s_i, 1, NULL, 0, visible);
    for (ptrdiff_t c = 0; c < d_out; c++)
      o_i[c] = dot(cfg, s_i, 1, vals + c, ld_vals, visible) / p_sum;
  }
  free(s);
  free(col_max);
  free(col_sum);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Segment and layer steps (S9), (S13), (S14)                                */

static bool all_zero(const real *x, ptrdiff_t count) {
  for (ptrdiff_t i = 0; i < count; i++)
    if (x[i] != 0)
      return false;
  return true;
}

/* What a call does to the state on entry: BUG mem_reset (steps only): a
 * fresh memory per call. BUG z0_init: a zero memory gets z = 1/d_key (one
 * community implementation's initial state). m: rows x cols (stride ldm),
 * z: rows. */
static void state_on_entry(const cat_config *cfg, bool step, ptrdiff_t rows,
                           ptrdiff_t cols, ptrdiff_t dk, real *m, ptrdiff_t ldm, real *z) {
  if (step && BUG(mem_reset))
    for (ptrdiff_t r = 0; r < rows; r++) {
      for (ptrdiff_t c = 0; c < cols; c++)
        m[r * ldm + c] = 0;
      z[r] = 0;
    }
  if (!BUG(z0_init) || !all_zero(z, rows))
    return;
  for (ptrdiff_t r = 0; r < rows; r++)
    if (!all_zero(m + r * ldm, cols))
      return;
  for (ptrdiff_t r = 0; r < rows; r++)
    z[r] = 1 / (real)dk;
}

/* (S13) (a)-(c) for one query head: A_mem, A_dot into out, out = mix. */
static bool head_outputs(const cat_config *cfg, const infini_head_shape *shape,
                         float beta, float eps, float scale, const real *q, ptrdiff_t ldq,
                         const real *k, ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                         const real *m, ptrdiff_t ldm, const real *z, real *out,
                         ptrdiff_t ldo) {
  const ptrdiff_t dv = shape->d_value;
  real *a_mem = scratch(shape->n * dv);
  real *sq = featurise(cfg, shape->n, shape->d_key, q, ldq);
  bool ok = a_mem && sq && retrieve_core(cfg, shape, sq, m, ldm, z, eps, false, a_mem, dv) && /* (a) */
            attention_core(cfg, shape, q, ldq, k, ldk, v, ldv, scale, out, ldo);        /* (b) */
  /* BUG first_unmixed: "if memory is empty: return A_dot". */
  if (ok && !(BUG(first_unmixed) && all_zero(z, shape->d_key)))
    mix_core(cfg, shape->n, dv, beta, a_mem, dv, out, ldo, out, ldo); /* (c) */
  free(a_mem);
  free(sq);
  return ok;
}

static bool segment_core(const cat_config *cfg, const infini_head_shape *shape,
                         const infini_step_params *pr, const real *q, ptrdiff_t ldq,
                         const real *k, ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                         real *m, ptrdiff_t ldm, real *z, real *out, ptrdiff_t ldo) {
  state_on_entry(cfg, true, shape->d_key, shape->d_value, shape->d_key, m, ldm, z);
  /* BUG update_first: (d) before (a), so A_mem sees this segment. */
  if (BUG(update_first) && !head_update(cfg, shape, pr->rule, pr->eps, q, ldq, k, ldk,
                                        v, ldv, m, ldm, z))
    return false;
  return head_outputs(cfg, shape, pr->beta, pr->eps, pr->scale, q, ldq, k, ldk, v, ldv,
                      m, ldm, z, out, ldo) &&
         (BUG(update_first) ||
          head_update(cfg, shape, pr->rule, pr->eps, q, ldq, k, ldk, v, ldv, m, ldm, z));
}

/* (S14): query head h reads kv head h / G; all retrievals before any
 * update; each kv head's memory updated once. */
static bool layer_core(const cat_config *cfg, const infini_layer_config *lc, ptrdiff_t n,
                       const real *q, ptrdiff_t ldq, const real *k, ptrdiff_t ldk,
                       const real *v, ptrdiff_t ldv, const float *beta, real *m, real *z,
                       real *out, ptrdiff_t ldo) {
  const ptrdiff_t H = lc->n_heads, H_kv = lc->n_kv_heads, G = H / H_kv;
  const ptrdiff_t dk = lc->d_key, dv = lc->d_value;
  const infini_head_shape shape = {n, dk, dv};
  bool ok = true;

  state_on_entry(cfg, true, H_kv * dk, dv, dk, m, dv, z);
  /* BUG update_first, as in segment_core (q of the group's first head is
   * read by delta_sigma_q only). */
  for (ptrdiff_t g = 0; ok && BUG(update_first) && g < H_kv; g++)
    ok = head_update(cfg, &shape, lc->rule, lc->eps, q + g * G * dk, ldq, k + g * dk, ldk,
                     v + g * dv, ldv, m + g * dk * dv, dv, z + g * dk);

  for (ptrdiff_t h = 0; ok && h < H; h++) {
    /* BUG gqa_mod: kv head h % H_kv (interleaved groups). */
    const ptrdiff_t g = BUG(gqa_mod) ? h % H_kv : h / G;
    /* BUG one_beta: a single gate for all heads, beta[0]. */
    const float b = BUG(one_beta) ? beta[0] : beta[h];
    ok = head_outputs(cfg, &shape, b, lc->eps, lc->scale, q + h * dk, ldq, k + g * dk, ldk,
                      v + g * dv, ldv, m + g * dk * dv, dv, z + g * dk, out + h * dv, ldo);
  }

  for (ptrdiff_t g = 0; ok && !BUG(update_first) && g < H_kv; g++)
    ok = head_update(cfg, &shape, lc->rule, lc->eps, q + g * G * dk, ldq, k + g * dk, ldk,
                     v + g * dv, ldv, m + g * dk * dv, dv, z + g * dk);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

/* Round to the nearest bfloat16, ties to even; NaN stays NaN. */
static real bf16_round(real value) {
  float x = (float)value;
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return value;
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  memcpy(&x, &u, sizeof x);
  return (real)x;
}

/* Round to the nearest IEEE binary16 value, ties to even, in double
 * (exact): spacing 2^-24 below 2^-14 (subnormals), 2^(e-10) above;
 * overflow to infinity from 65520 on; NaN stays NaN. */
static real fp16_round(real value) {
  const double x = (double)value;
  if (!isfinite(x) || x == 0)
    return value;
  int e;
  frexp(fabs(x), &e); /* |x| in [2^(e-1), 2^e) */
  const double spacing = fabs(x) < 0x1p-14 ? 0x1p-24 : ldexp(1.0, e - 1 - 10);
  const double r = rint(x / spacing) * spacing;
  return (real)(fabs(r) >= 65520 ? copysign(INFINITY, x) : r);
}

/* The storage format of the variant: every input, output and carried
 * state passes through it (bf16, fp16); identity otherwise. */
static bool stores_rounded(const cat_config *cfg) { return USES(bf16) || USES(fp16); }
static real store(const cat_config *cfg, real x) {
  return USES(bf16) ? bf16_round(x) : USES(fp16) ? fp16_round(x) : x;
}

/* The inputs of a call as the cores see them: the caller's (rows x cols,
 * stride ld) or, for the storage variants, packed copies rounded. */
typedef struct inputs {
  int n;
  const real *p[3];
  ptrdiff_t ld[3];
  real *copy[3];
} inputs;

static bool take(const cat_config *cfg, inputs *in, ptrdiff_t rows, ptrdiff_t cols,
                 const real *x, ptrdiff_t ld) {
  const int i = in->n++;
  in->p[i] = x, in->ld[i] = ld, in->copy[i] = NULL;
  if (!stores_rounded(cfg))
    return true;
  if (!(in->copy[i] = scratch(rows * cols)))
    return false;
  for (ptrdiff_t r = 0; r < rows; r++)
    for (ptrdiff_t c = 0; c < cols; c++)
      in->copy[i][r * cols + c] = store(cfg, x[r * ld + c]);
  in->p[i] = in->copy[i], in->ld[i] = cols;
  return true;
}

static void drop(inputs *in) {
  for (int i = 0; i < in->n; i++)
    free(in->copy[i]);
}

/* State (m, z) is input and output: rounded in place first (storage). */
static void take_state(const cat_config *cfg, ptrdiff_t rows, ptrdiff_t cols, real *x,
                       ptrdiff_t ld) {
  for (ptrdiff_t i = 0; stores_rounded(cfg) && i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      x[i * ld + j] = store(cfg, x[i * ld + j]);
}

/* Every output on its way out: rounded to the storage format (variants)
 * or, BUG nan_to_zero, torch.nan_to_num(x, nan=0.0). */
static void give(const cat_config *cfg, ptrdiff_t rows, ptrdiff_t cols, real *x,
                 ptrdiff_t ld) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      real *e = &x[i * ld + j];
      *e = store(cfg, *e);
      if (BUG(nan_to_zero) && *e != *e)
        *e = 0;
    }
}

static infini_status status(bool ok) { return ok ? INFINI_OK : INFINI_ERR_BACKEND; }

size_t DEV(workspace_bytes)(const infini_head_shape *shape) {
  (void)shape;
  return 0; /* scratch comes from malloc */
}

infini_status DEV(feature_map)(const cat_config *cfg, ptrdiff_t rows, ptrdiff_t cols,
                               const real *x, ptrdiff_t ldx, real *y, ptrdiff_t ldy) {
  inputs in = {0};
  const bool ok = take(cfg, &in, rows, cols, x, ldx);
  for (ptrdiff_t i = 0; ok && i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      y[i * ldy + j] = sigma(cfg, in.p[0][i * in.ld[0] + j]);
  if (ok)
    give(cfg, rows, cols, y, ldy);
  drop(&in);
  return status(ok);
}

infini_status DEV(retrieve)(const cat_config *cfg, const infini_head_shape *shape,
                            const real *q, ptrdiff_t ldq, const real *m, ptrdiff_t ldm,
                            const real *z, float eps, real *a, ptrdiff_t lda) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  if (BUG(stride_ignored)) /* BUG stride_ignored: q assumed packed */
    ldq = dk;
  inputs in = {0};
  real *sq = NULL;
  bool ok = take(cfg, &in, n, dk, q, ldq) && take(cfg, &in, dk, dv, m, ldm) &&
            take(cfg, &in, 1, dk, z, dk) &&
            (sq = featurise(cfg, n, dk, in.p[0], in.ld[0])) != NULL &&
            retrieve_core(cfg, shape, sq, in.p[1], in.ld[1], in.p[2], eps, false, a, lda);
  if (ok)
    give(cfg, n, dv, a, lda);
  free(sq);
  drop(&in);
  return status(ok);
}

/* Both updates: the state rounded (bf16), z0_init, then (8) or (9). */
static infini_status update(const cat_config *cfg, const infini_head_shape *shape,
                            infini_update_rule rule, const real *k, ptrdiff_t ldk,
                            const real *v, ptrdiff_t ldv, real *m, ptrdiff_t ldm, real *z,
                            float eps) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  inputs in = {0};
  bool ok = take(cfg, &in, n, dk, k, ldk) && take(cfg, &in, n, dv, v, ldv);
  if (ok) {
    take_state(cfg, dk, dv, m, ldm);
    take_state(cfg, 1, dk, z, dk);
    state_on_entry(cfg, false, dk, dv, dk, m, ldm, z);
    ok = head_update(cfg, shape, rule, eps, NULL, 0, in.p[0], in.ld[0], in.p[1], in.ld[1],
                     m, ldm, z);
  }
  if (ok) {
    give(cfg, dk, dv, m, ldm);
    give(cfg, 1, dk, z, dk);
  }
  drop(&in);
  return status(ok);
}

infini_status DEV(update_linear)(const cat_config *cfg, const infini_head_shape *shape,
                                 const real *k, ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                                 real *m, ptrdiff_t ldm, real *z) {
  return update(cfg, shape, INFINI_UPDATE_LINEAR, k, ldk, v, ldv, m, ldm, z, 0.0f);
}

infini_status DEV(update_delta)(const cat_config *cfg, const infini_head_shape *shape,
                                const real *k, ptrdiff_t ldk, const real *v, ptrdiff_t ldv,
                                real *m, ptrdiff_t ldm, real *z, float eps, void *work) {
  (void)work;
  return update(cfg, shape, INFINI_UPDATE_DELTA, k, ldk, v, ldv, m, ldm, z, eps);
}

infini_status DEV(mix)(const cat_config *cfg, ptrdiff_t rows, ptrdiff_t cols, float beta,
                       const real *a_mem, ptrdiff_t ldm, const real *a_dot, ptrdiff_t ldd,
                       real *out, ptrdiff_t ldo) {
  inputs in = {0};
  const bool ok = take(cfg, &in, rows, cols, a_mem, ldm) && take(cfg, &in, rows, cols, a_dot, ldd);
  if (ok) {
    mix_core(cfg, rows, cols, beta, in.p[0], in.ld[0], in.p[1], in.ld[1], out, ldo);
    give(cfg, rows, cols, out, ldo);
  }
  drop(&in);
  return status(ok);
}

infini_status DEV(local_attention)(const cat_config *cfg, const infini_head_shape *shape,
                                   const real *q, ptrdiff_t ldq, const real *k, ptrdiff_t ldk,
                                   const real *v, ptrdiff_t ldv, float scale, real *out,
                                   ptrdiff_t ldo, void *work) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  (void)work;
  if (BUG(stride_ignored)) /* BUG stride_ignored, as in retrieve */
    ldq = dk;
  inputs in = {0};
  const bool ok = take(cfg, &in, n, dk, q, ldq) && take(cfg, &in, n, dk, k, ldk) &&
                  take(cfg, &in, n, dv, v, ldv) &&
                  attention_core(cfg, shape, in.p[0], in.ld[0], in.p[1], in.ld[1], in.p[2],
                                 in.ld[2], scale, out, ldo);
  if (ok)
    give(cfg, n, dv, out, ldo);
  drop(&in);
  return status(ok);
}

infini_status DEV(segment_step)(const cat_config *cfg, const infini_head_shape *shape,
                                const infini_step_params *params, const real *q,
                                ptrdiff_t ldq, const real *k, ptrdiff_t ldk, const real *v,
                                ptrdiff_t ldv, real *m, ptrdiff_t ldm, real *z, real *out,
                                ptrdiff_t ldo, void *work) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  (void)work;
  if (BUG(stride_ignored)) /* BUG stride_ignored, as in retrieve */
    ldq = dk;
  inputs in = {0};
  bool ok = take(cfg, &in, n, dk, q, ldq) && take(cfg, &in, n, dk, k, ldk) &&
            take(cfg, &in, n, dv, v, ldv);
  if (ok) {
    take_state(cfg, dk, dv, m, ldm);
    take_state(cfg, 1, dk, z, dk);
    ok = segment_core(cfg, shape, params, in.p[0], in.ld[0], in.p[1], in.ld[1], in.p[2],
                      in.ld[2], m, ldm, z, out, ldo);
  }
  if (ok) {
    give(cfg, n, dv, out, ldo);
    give(cfg, dk, dv, m, ldm);
    give(cfg, 1, dk, z, dk);
  }
  drop(&in);
  return status(ok);
}

/* BUG head_split_in: X [n x heads*d] (stride ldx) split into heads by a
 * plain reshape to [heads, n, d] (torch .view(B, H, T, d) with no
 * transpose): head h's row i is row h*n + i of the flat buffer read in
 * rows of d. Returns the packed matrix whose columns h*d..h*d+d-1 hold
 * that head, so the rest of the step reads it as usual; NULL when out of
 * memory. */
static real *split_by_reshape(ptrdiff_t n, ptrdiff_t heads, ptrdiff_t d, const real *x,
                              ptrdiff_t ldx) {
  const ptrdiff_t width = heads * d;
  real *y = scratch(n * width);
  for (ptrdiff_t h = 0; y && h < heads; h++)
    for (ptrdiff_t i = 0; i < n; i++)
      for (ptrdiff_t c = 0; c < d; c++) {
        const ptrdiff_t e = (h * n + i) * d + c; /* index into the flat buffer */
        y[i * width + h * d + c] = x[(e / width) * ldx + e % width];
      }
  return y;
}

/* BUG head_split_out: the per-head outputs t (packed [n x heads*d], head h
 * in columns h*d..) merged by a plain reshape of [heads, n, d] into
 * [n, heads*d]: flat element (h*n + i)*d + c is head h's row i. */
static void merge_by_reshape(ptrdiff_t n, ptrdiff_t heads, ptrdiff_t d, const real *t,
                             real *out, ptrdiff_t ldo) {
  const ptrdiff_t width = heads * d;
  for (ptrdiff_t h = 0; h < heads; h++)
    for (ptrdiff_t i = 0; i < n; i++)
      for (ptrdiff_t c = 0; c < d; c++) {
        const ptrdiff_t e = (h * n + i) * d + c;
        out[(e / width) * ldo + e % width] = t[i * width + h * d + c];
      }
}

/* The layer step with its heads split and merged as the head_split bugs
 * say (the correct split otherwise). */
static bool layer_heads(const cat_config *cfg, const infini_layer_config *lc, ptrdiff_t n,
                        const real *q, ptrdiff_t ldq, const real *k, ptrdiff_t ldk,
                        const real *v, ptrdiff_t ldv, const float *beta, real *m, real *z,
                        real *out, ptrdiff_t ldo) {
  const ptrdiff_t H = lc->n_heads, H_kv = lc->n_kv_heads, dk = lc->d_key, dv = lc->d_value;
  const bool split = BUG(head_split_in) || BUG(head_split_both);
  const bool merge = BUG(head_split_out) || BUG(head_split_both);
  if (!split && !merge)
    return layer_core(cfg, lc, n, q, ldq, k, ldk, v, ldv, beta, m, z, out, ldo);
  real *qs = NULL, *ks = NULL, *vs = NULL, *t = NULL;
  bool ok = true;
  if (split) {
    ok = (qs = split_by_reshape(n, H, dk, q, ldq)) && (ks = split_by_reshape(n, H_kv, dk, k, ldk)) &&
         (vs = split_by_reshape(n, H_kv, dv, v, ldv));
    q = qs, ldq = H * dk, k = ks, ldk = H_kv * dk, v = vs, ldv = H_kv * dv;
  }
  if (ok && merge)
    ok = (t = scratch(n * H * dv)) != NULL;
  ok = ok && layer_core(cfg, lc, n, q, ldq, k, ldk, v, ldv, beta, m, z, merge ? t : out,
                        merge ? H * dv : ldo);
  if (ok && merge)
    merge_by_reshape(n, H, dv, t, out, ldo);
  free(qs), free(ks), free(vs), free(t);
  return ok;
}

infini_status DEV(layer_step)(const cat_config *cfg, const infini_layer_config *config,
                              ptrdiff_t n, const real *q, ptrdiff_t ldq, const real *k,
                              ptrdiff_t ldk, const real *v, ptrdiff_t ldv, const float *beta,
                              real *m, real *z, real *out, ptrdiff_t ldo, void *work) {
  const ptrdiff_t H = config->n_heads, H_kv = config->n_kv_heads;
  const ptrdiff_t dk = config->d_key, dv = config->d_value;
  (void)work;
  if (BUG(stride_ignored)) /* BUG stride_ignored: q assumed packed (H d_key) */
    ldq = H * dk;
  inputs in = {0};
  bool ok = take(cfg, &in, n, H * dk, q, ldq) && take(cfg, &in, n, H_kv * dk, k, ldk) &&
            take(cfg, &in, n, H_kv * dv, v, ldv);
  if (ok) {
    take_state(cfg, H_kv * dk, dv, m, dv);
    take_state(cfg, 1, H_kv * dk, z, H_kv * dk);
    ok = layer_heads(cfg, config, n, in.p[0], in.ld[0], in.p[1], in.ld[1], in.p[2], in.ld[2],
                     beta, m, z, out, ldo);
  }
  if (ok) {
    give(cfg, n, H * dv, out, ldo);
    give(cfg, H_kv * dk, dv, m, dv);
    give(cfg, 1, H_kv * dk, z, H_kv * dk);
  }
  drop(&in);
  return status(ok);
}

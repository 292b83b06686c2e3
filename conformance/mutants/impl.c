/*
 * conformance/mutants/impl.c - one configurable float implementation of
 * the backend table (see impl.h and docs/mutants.md).
 *
 * Read it as the reference (ref/) written a second time, with two kinds of
 * switch:
 *  - uses(MV_...)  a correct VARIANT: another summation order or evaluation
 *                  the spec allows (S18);
 *  - MUTANT(MM_...) a deliberate, realistic slip. Each such branch is small,
 *                  marked "MUTANT name:" and says which bug it models. With
 *                  MM_NONE none of them is taken.
 *
 * Build with -ffp-contract=off (conformance/mutants/local.mk): then
 * `s += a * b` really is a rounded multiply followed by a rounded add, and
 * the fma variant is really different.
 *
 * Layout: configuration and names; the feature map and sigmoid; the sums
 * (where the summation variants live); the operators as "core" functions
 * on float data; the entry points, which add the bf16 variant (round every
 * input and output), the nan_to_zero and stride_ignored mutants, and call
 * the cores.
 */
#include "config.h"
#include "conformance/mutants/impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Configuration and names                                                   */

static mut_config cfg = {MV_PLAIN, MM_NONE};

void mut_configure(mut_config config) { cfg = config; }
mut_config mut_current(void) { return cfg; }

static bool uses(mut_variant v) { return cfg.variant == v; }
#define MUTANT(m) (cfg.mutation == (m))

#define VARIANT_ROW(id, name, profile, what) {name, profile, what},
static const struct {
  const char *name, *profile, *what;
} variants[MV_COUNT] = {MUT_VARIANTS(VARIANT_ROW)};
#undef VARIANT_ROW

#define MUTATION_ROW(id, name, what) {name, what},
static const struct {
  const char *name, *what;
} mutations[MM_COUNT] = {MUT_MUTATIONS(MUTATION_ROW)};
#undef MUTATION_ROW

const char *mut_variant_name(mut_variant v) {
  return (unsigned)v < MV_COUNT ? variants[v].name : NULL;
}
const char *mut_variant_profile(mut_variant v) {
  return (unsigned)v < MV_COUNT ? variants[v].profile : NULL;
}
const char *mut_variant_what(mut_variant v) {
  return (unsigned)v < MV_COUNT ? variants[v].what : NULL;
}
const char *mut_mutation_name(mut_mutation m) {
  return (unsigned)m < MM_COUNT ? mutations[m].name : NULL;
}
const char *mut_mutation_what(mut_mutation m) {
  return (unsigned)m < MM_COUNT ? mutations[m].what : NULL;
}

bool mut_variant_from_name(const char *name, mut_variant *v) {
  for (int i = 0; name && i < MV_COUNT; i++)
    if (strcmp(name, variants[i].name) == 0) {
      *v = (mut_variant)i;
      return true;
    }
  return false;
}

bool mut_mutation_from_name(const char *name, mut_mutation *m) {
  for (int i = 0; name && i < MM_COUNT; i++)
    if (strcmp(name, mutations[i].name) == 0) {
      *m = (mut_mutation)i;
      return true;
    }
  return false;
}

/* ------------------------------------------------------------------------ */
/* Feature map (F) and the gate's sigmoid                                    */

static float sigma(float x) {
  /* MUTANT sigma_exp: exp for every x, as if ELU's x <= 0 branch were the
   * whole function (models "sigma = exp" feature maps of other linear
   * attentions). */
  if (MUTANT(MM_SIGMA_EXP))
    return expf(x);

  if (x > 0) {
    /* MUTANT elu_no_plus1: F.elu(x) where F.elu(x) + 1 was meant. */
    if (MUTANT(MM_ELU_NO_PLUS1))
      return x;
    return x + 1; /* (F), x > 0 */
  }
  /* MUTANT elu_no_plus1 (x <= 0 branch): ELU alone, exp(x) - 1. */
  if (MUTANT(MM_ELU_NO_PLUS1))
    return expf(x) - 1;
  /* MUTANT elu_alpha_half: F.elu(x, alpha=0.5) + 1. */
  if (MUTANT(MM_ELU_ALPHA_HALF))
    return 0.5f * (expf(x) - 1) + 1;

  if (uses(MV_EXPM1)) /* variant: ELU as expm1(x), plus 1 (spec 2, note) */
    return expm1f(x) + 1;
  return expf(x); /* (F), x <= 0; NaN lands here and stays NaN */
}

static float sigmoid(float x) { return 1 / (1 + expf(-x)); }

/* ------------------------------------------------------------------------ */
/* Sums                                                                      */

/* One factor of a sum of products: x[t * stride], optionally through sigma,
 * or the constant 1 (p == NULL) so that dot(a, ones, n) is a plain sum. */
typedef struct operand {
  const float *p;
  ptrdiff_t stride;
  bool sigma;
} operand;

static operand vec(const float *p, ptrdiff_t stride) {
  operand a = {p, stride, false};
  return a;
}
static operand sig(const float *p, ptrdiff_t stride) {
  operand a = {p, stride, true};
  return a;
}
static const operand ones = {NULL, 0, false};

static float at(operand a, ptrdiff_t t) {
  if (!a.p)
    return 1;
  const float x = a.p[t * a.stride];
  return a.sigma ? sigma(x) : x;
}

static float term(operand a, operand b, ptrdiff_t t) { return at(a, t) * at(b, t); }

static float pairwise(operand a, operand b, ptrdiff_t lo, ptrdiff_t hi) {
  if (hi - lo == 1)
    return term(a, b, lo);
  const ptrdiff_t mid = lo + (hi - lo) / 2;
  return pairwise(a, b, lo, mid) + pairwise(a, b, mid, hi);
}

/* sum_{t=0..n-1} a_t b_t, in the way the variant says. n may be 0. */
static float dot(operand a, operand b, ptrdiff_t n) {
  float s = 0;
  switch (cfg.variant) {
  case MV_DOUBLE: { /* products and sum in double, one rounding at the end */
    double d = 0;
    for (ptrdiff_t t = 0; t < n; t++)
      d += (double)at(a, t) * (double)at(b, t);
    return (float)d;
  }
  case MV_PAIRWISE:
    return n > 0 ? pairwise(a, b, 0, n) : 0;
  case MV_KAHAN: { /* compensated: c carries the low part lost by each add */
    float c = 0;
    for (ptrdiff_t t = 0; t < n; t++) {
      const float y = term(a, b, t) - c;
      const float next = s + y;
      c = (next - s) - y;
      s = next;
    }
    return s;
  }
  case MV_REVERSED:
    for (ptrdiff_t t = n - 1; t >= 0; t--)
      s += term(a, b, t);
    return s;
  case MV_BLOCKED8: { /* lane t % 8 holds every 8th term, as 8 SIMD lanes */
    float lane[8] = {0};
    for (ptrdiff_t t = 0; t < n; t++)
      lane[t % 8] += term(a, b, t);
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
           ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }
  case MV_FMA:
    for (ptrdiff_t t = 0; t < n; t++)
      s = fmaf(at(a, t), at(b, t), s);
    return s;
  default: /* plain: sequential, product rounded, then the add rounded */
    for (ptrdiff_t t = 0; t < n; t++)
      s += term(a, b, t);
    return s;
  }
}

/* ------------------------------------------------------------------------ */
/* Operators on float data (arguments already valid, strides as given)       */

static void feature_map_core(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                             ptrdiff_t ldx, float *y, ptrdiff_t ldy) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      y[i * ldy + j] = sigma(x[i * ldx + j]);
}

/* MUTANT den_colsum helper: sum over all query rows of (sigma(q_i) M)[j]. */
static float column_sum(const infini_head_shape *shape, const float *q,
                        ptrdiff_t ldq, const float *m_col, ptrdiff_t ldm) {
  float s = 0;
  for (ptrdiff_t i = 0; i < shape->n; i++)
    s += dot(sig(q + i * ldq, 1), vec(m_col, ldm), shape->d_key);
  return s;
}

/* (7), (S4), (S5): A_mem[i] = sigma(q_i) M / (sigma(q_i) . z + eps), a zero
 * row when that denominator is 0. Also the delta rule's prediction. */
static void retrieve_core(const infini_head_shape *shape, const float *q,
                          ptrdiff_t ldq, const float *m, ptrdiff_t ldm,
                          const float *z, float eps, float *a, ptrdiff_t lda) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  for (ptrdiff_t i = 0; i < shape->n; i++) {
    const float *q_i = q + i * ldq;
    float *a_i = a + i * lda;

    float den = dot(sig(q_i, 1), vec(z, 1), dk) + eps;
    /* MUTANT eps_1e3, eps_1e6: a hard-coded "+ 1e-3" / "+ 1e-6" in the
     * denominator on top of the eps parameter. */
    if (MUTANT(MM_EPS_1E3))
      den += 1e-3f;
    if (MUTANT(MM_EPS_1E6))
      den += 1e-6f;
    /* MUTANT den_plus1: "/ (den + 1)", a smoothing constant of 1. */
    if (MUTANT(MM_DEN_PLUS1))
      den += 1;

    /* (S5) zero-row rule. MUTANT zero_row_missing: no such test, so an
     * empty memory gives 0/0 = NaN. */
    if (den == 0 && !MUTANT(MM_ZERO_ROW_MISSING)) {
      for (ptrdiff_t j = 0; j < dv; j++)
        a_i[j] = 0;
      continue;
    }

    for (ptrdiff_t j = 0; j < dv; j++) {
      const float num = dot(sig(q_i, 1), vec(m + j, ldm), dk);
      float a_ij = num / den;
      if (uses(MV_RECIPROCAL)) /* variant: multiply by the reciprocal */
        a_ij = num * (1 / den);

      /* MUTANT no_normaliser: sigma(Q) M without the division. */
      if (MUTANT(MM_NO_NORMALISER))
        a_ij = num;
      /* MUTANT z_per_column: (sigma(Q) @ M) / z, z broadcast along the
       * value axis (only shape-valid in numpy when d_key == d_value; z is
       * indexed cyclically otherwise). */
      if (MUTANT(MM_Z_PER_COLUMN))
        a_ij = num / (z[j % dk] + eps);
      /* MUTANT den_colsum: normalised over the query axis (per column)
       * instead of by the row's own sigma(q_i) . z. */
      if (MUTANT(MM_DEN_COLSUM))
        a_ij = num / column_sum(shape, q, ldq, m + j, ldm);

      a_i[j] = a_ij;
    }
  }
}

/* (8): M += sigma(K)^T V, and z += sum_t sigma(k_t) when update_z. */
static void update_linear_core(const infini_head_shape *shape, const float *k,
                               ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                               float *m, ptrdiff_t ldm, float *z,
                               bool update_z) {
  const ptrdiff_t dk = shape->d_key, dv = shape->d_value;
  ptrdiff_t n = shape->n;
  /* MUTANT drop_last: range(N - 1), the last token never written. */
  if (MUTANT(MM_DROP_LAST))
    n -= 1;

  for (ptrdiff_t c = 0; c < dk; c++) {
    for (ptrdiff_t j = 0; j < dv; j++) {
      float inc = dot(sig(k + c, ldk), vec(v + j, ldv), n);
      /* MUTANT kv_swap_mem: M += sigma(V)^T K. Shape-valid only where the
       * roles fit, so entries outside the d_value x d_key block are left
       * unchanged. */
      if (MUTANT(MM_KV_SWAP_MEM))
        inc = (c < dv && j < dk) ? dot(sig(v + c, ldv), vec(k + j, ldk), n) : 0;
      m[c * ldm + j] += inc;
    }
    if (update_z) {
      float inc = dot(sig(k + c, ldk), ones, n);
      if (MUTANT(MM_KV_SWAP_MEM)) /* same slip: z += sum_t sigma(v_t) */
        inc = c < dv ? dot(sig(v + c, ldv), ones, n) : 0;
      z[c] += inc;
    }
  }
}

/* (9), (S8): Pred = retrieval with the rows of `pk` (sigma(K): pk = k) from
 * M_{s-1}, z_{s-1}; M += sigma(K)^T (V - Pred); z as (8). w: n x d_value. */
static void update_delta_core(const infini_head_shape *shape, const float *pk,
                              ptrdiff_t ldpk, const float *k, ptrdiff_t ldk,
                              const float *v, ptrdiff_t ldv, float *m,
                              ptrdiff_t ldm, float *z, float eps, float *w) {
  const ptrdiff_t n = shape->n, dv = shape->d_value;

  /* MUTANT delta_sequential: token t predicts from the memory already
   * updated by tokens 0..t-1 (a per-token loop), not from M_{s-1}. */
  if (MUTANT(MM_DELTA_SEQUENTIAL)) {
    const infini_head_shape one = {1, shape->d_key, dv};
    for (ptrdiff_t t = 0; t < n; t++) {
      retrieve_core(&one, pk + t * ldpk, ldpk, m, ldm, z, eps, w, dv);
      for (ptrdiff_t j = 0; j < dv; j++)
        w[j] = v[t * ldv + j] - w[j];
      update_linear_core(&one, k + t * ldk, ldk, w, dv, m, ldm, z, true);
    }
    return;
  }

  retrieve_core(shape, pk, ldpk, m, ldm, z, eps, w, dv); /* Pred */
  for (ptrdiff_t t = 0; t < n; t++)
    for (ptrdiff_t j = 0; j < dv; j++)
      w[t * dv + j] = v[t * ldv + j] - w[t * dv + j]; /* V - Pred */
  /* MUTANT delta_no_z: the delta branch forgets z += sum_t sigma(k_t). */
  update_linear_core(shape, k, ldk, w, dv, m, ldm, z, !MUTANT(MM_DELTA_NO_Z));
}

/* (10), (S12): out = g A_mem + (1 - g) A_dot, g = sigmoid(beta). */
static void mix_core(ptrdiff_t rows, ptrdiff_t cols, float beta,
                     const float *a_mem, ptrdiff_t ldm, const float *a_dot,
                     ptrdiff_t ldd, float *out, ptrdiff_t ldo) {
  const float g = sigmoid(beta);
  float one_minus_g = sigmoid(-beta);
  if (uses(MV_ONE_MINUS_G)) /* variant: the direct form */
    one_minus_g = 1 - g;

  float w_mem = g, w_dot = one_minus_g;
  /* MUTANT gate_swap: sigmoid(beta) weighs the local term. */
  if (MUTANT(MM_GATE_SWAP)) {
    w_mem = one_minus_g;
    w_dot = g;
  }

  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      const float am = a_mem[i * ldm + j], ad = a_dot[i * ldd + j];
      out[i * ldo + j] = uses(MV_FMA) ? fmaf(w_mem, am, w_dot * ad)
                                      : w_mem * am + w_dot * ad;
    }
}

/* One row of local attention, one pass (variant online_softmax): a running
 * maximum; earlier terms are rescaled by exp(old max - new max). */
static void online_softmax_row(const float *q_i, const float *k, ptrdiff_t ldk,
                               const float *v, ptrdiff_t ldv, ptrdiff_t visible,
                               ptrdiff_t d_score, ptrdiff_t d_out, float scale,
                               float *o) {
  float run_max = -INFINITY, run_sum = 0;
  for (ptrdiff_t c = 0; c < d_out; c++)
    o[c] = 0;
  for (ptrdiff_t j = 0; j < visible; j++) {
    const float s = scale * dot(vec(q_i, 1), vec(k + j * ldk, 1), d_score);
    const float new_max = (s > run_max || s != s) ? s : run_max;
    const float rescale = expf(run_max - new_max); /* 0 at j = 0 */
    const float p = expf(s - new_max);
    run_sum = run_sum * rescale + p;
    for (ptrdiff_t c = 0; c < d_out; c++)
      o[c] = o[c] * rescale + p * v[j * ldv + c];
    run_max = new_max;
  }
  for (ptrdiff_t c = 0; c < d_out; c++)
    o[c] /= run_sum;
}

/* (6), (S10), (S11): out_i = sum_{j<=i} softmax_j(scale q_i . k_j) v_j.
 * work: 3n floats (one row of weights; two more for softmax_cols). */
static void local_attention_core(const infini_head_shape *shape, const float *q,
                                 ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                                 const float *v, ptrdiff_t ldv, float scale,
                                 float *out, ptrdiff_t ldo, float *work) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  float *p = work;

  /* MUTANT scale_dmodel: the paper's 1/sqrt(d_model), d_model = H d_key
   * with H guessed as 8. MUTANT scale_ignored: 1/sqrt(d_key) hard-coded. */
  if (MUTANT(MM_SCALE_DMODEL))
    scale = 1 / sqrtf((float)(8 * dk));
  if (MUTANT(MM_SCALE_IGNORED))
    scale = 1 / sqrtf((float)dk);

  /* Scores use the keys, the output sums the values. MUTANT kv_swap_attn:
   * the two swapped (only the min(d_key, d_value) overlap is shape-valid;
   * output columns beyond it are 0). */
  const float *keys = k, *vals = v;
  ptrdiff_t ld_keys = ldk, ld_vals = ldv, d_score = dk, d_out = dv;
  if (MUTANT(MM_KV_SWAP_ATTN)) {
    keys = v, ld_keys = ldv, vals = k, ld_vals = ldk;
    d_score = d_out = dk < dv ? dk : dv;
  }

  /* MUTANT softmax_cols: per key column j, the max and the sum of
   * exp(S_ij - max) over the query rows i >= j that see it. */
  float *col_max = work + n, *col_sum = work + 2 * n;
  if (MUTANT(MM_SOFTMAX_COLS))
    for (ptrdiff_t j = 0; j < n; j++) {
      col_max[j] = -INFINITY;
      for (ptrdiff_t i = j; i < n; i++) {
        const float s = scale * dot(vec(q + i * ldq, 1), vec(keys + j * ld_keys, 1), d_score);
        if (s > col_max[j])
          col_max[j] = s;
      }
      col_sum[j] = 0;
      for (ptrdiff_t i = j; i < n; i++)
        col_sum[j] += expf(scale * dot(vec(q + i * ldq, 1), vec(keys + j * ld_keys, 1), d_score) - col_max[j]);
    }

  for (ptrdiff_t i = 0; i < n; i++) {
    const float *q_i = q + i * ldq;
    float *o_i = out + i * ldo;

    ptrdiff_t visible = i + 1; /* causal: j <= i */
    /* MUTANT mask_strict: j < i. MUTANT mask_plus1: j <= i + 1.
     * MUTANT no_mask: every j of the segment. */
    if (MUTANT(MM_MASK_STRICT))
      visible = i;
    if (MUTANT(MM_MASK_PLUS1))
      visible = i + 2 < n ? i + 2 : n;
    if (MUTANT(MM_NO_MASK))
      visible = n;

    for (ptrdiff_t c = d_out; c < dv; c++) /* kv_swap_attn only */
      o_i[c] = 0;

    if (uses(MV_ONLINE_SOFTMAX)) {
      online_softmax_row(q_i, keys, ld_keys, vals, ld_vals, visible, d_score,
                         d_out, scale, o_i);
      continue;
    }

    /* Two passes: scores and their maximum (a NaN score makes it NaN)... */
    float row_max = -INFINITY;
    for (ptrdiff_t j = 0; j < visible; j++) {
      p[j] = scale * dot(vec(q_i, 1), vec(keys + j * ld_keys, 1), d_score);
      if (p[j] > row_max || p[j] != p[j])
        row_max = p[j];
    }
    /* MUTANT softmax_nomax: exp(S_ij) unshifted; overflows for S > 88.7. */
    if (MUTANT(MM_SOFTMAX_NOMAX))
      row_max = 0;
    /* ...then the weights, their sum, and the weighted values. */
    for (ptrdiff_t j = 0; j < visible; j++)
      p[j] = expf(p[j] - row_max);
    float p_sum = dot(vec(p, 1), ones, visible);

    /* MUTANT softmax_cols: weights normalised per column, not per row. */
    if (MUTANT(MM_SOFTMAX_COLS)) {
      for (ptrdiff_t j = 0; j < visible; j++)
        p[j] = expf(scale * dot(vec(q_i, 1), vec(keys + j * ld_keys, 1), d_score) - col_max[j]) / col_sum[j];
      p_sum = 1;
    }

    for (ptrdiff_t c = 0; c < d_out; c++)
      o_i[c] = dot(vec(p, 1), vec(vals + c, ld_vals), visible) / p_sum;
  }
}

static bool all_zero(const float *z, ptrdiff_t count) {
  for (ptrdiff_t i = 0; i < count; i++)
    if (z[i] != 0)
      return false;
  return true;
}

/* (S13) (a)-(c) for one query head: A_mem into a_mem (n x d_value, packed),
 * A_dot into out, then out = mix. work: the local attention's 3n floats. */
static void head_outputs(const infini_head_shape *shape, float beta, float eps,
                         float scale, const float *q, ptrdiff_t ldq,
                         const float *k, ptrdiff_t ldk, const float *v,
                         ptrdiff_t ldv, const float *m, ptrdiff_t ldm,
                         const float *z, float *out, ptrdiff_t ldo,
                         float *a_mem, float *work) {
  const ptrdiff_t dv = shape->d_value;
  retrieve_core(shape, q, ldq, m, ldm, z, eps, a_mem, dv);                      /* (a) */
  local_attention_core(shape, q, ldq, k, ldk, v, ldv, scale, out, ldo, work);   /* (b) */
  /* MUTANT first_unmixed: "if memory is empty: return A_dot". */
  if (MUTANT(MM_FIRST_UNMIXED) && all_zero(z, shape->d_key))
    return;
  mix_core(shape->n, dv, beta, a_mem, dv, out, ldo, out, ldo);                  /* (c) */
}

/* (S13) (d): the update, linear or delta. q is only for delta_sigma_q. */
static void head_update(const infini_head_shape *shape, infini_update_rule rule,
                        float eps, const float *q, ptrdiff_t ldq,
                        const float *k, ptrdiff_t ldk, const float *v,
                        ptrdiff_t ldv, float *m, ptrdiff_t ldm, float *z,
                        float *w) {
  if (rule != INFINI_UPDATE_DELTA) {
    update_linear_core(shape, k, ldk, v, ldv, m, ldm, z, true);
    return;
  }
  const float *pk = k; /* the prediction uses sigma(K) (S8) */
  ptrdiff_t ldpk = ldk;
  /* MUTANT delta_sigma_q: the prediction retrieves with sigma(Q). */
  if (MUTANT(MM_DELTA_SIGMA_Q))
    pk = q, ldpk = ldq;
  update_delta_core(shape, pk, ldpk, k, ldk, v, ldv, m, ldm, z, eps, w);
}

static void zero_memory(ptrdiff_t rows, ptrdiff_t cols, float *m,
                        ptrdiff_t ldm, float *z) {
  for (ptrdiff_t r = 0; r < rows; r++) {
    for (ptrdiff_t c = 0; c < cols; c++)
      m[r * ldm + c] = 0;
    z[r] = 0;
  }
}

/* Workspace: A_mem (n x d_value) then the local attention's 3n floats; the
 * delta update reuses the A_mem part once the mix has consumed it. */
static float *attention_work(const infini_head_shape *shape, float *work) {
  return work + shape->n * shape->d_value;
}

static void segment_core(const infini_head_shape *shape,
                         const infini_step_params *pr, const float *q,
                         ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                         const float *v, ptrdiff_t ldv, float *m, ptrdiff_t ldm,
                         float *z, float *out, ptrdiff_t ldo, float *work) {
  /* MUTANT mem_reset: a fresh memory per call (state not carried). */
  if (MUTANT(MM_MEM_RESET))
    zero_memory(shape->d_key, shape->d_value, m, ldm, z);
  /* MUTANT update_first: (d) before (a), so A_mem sees this segment. */
  if (MUTANT(MM_UPDATE_FIRST))
    head_update(shape, pr->rule, pr->eps, q, ldq, k, ldk, v, ldv, m, ldm, z, work);

  head_outputs(shape, pr->beta, pr->eps, pr->scale, q, ldq, k, ldk, v, ldv, m,
               ldm, z, out, ldo, work, attention_work(shape, work));
  if (!MUTANT(MM_UPDATE_FIRST))
    head_update(shape, pr->rule, pr->eps, q, ldq, k, ldk, v, ldv, m, ldm, z, work);
}

/* (S14): query head h reads kv head h / G; all retrievals before any
 * update; each kv head's memory updated once. */
static void layer_core(const infini_layer_config *lc, ptrdiff_t n,
                       const float *q, ptrdiff_t ldq, const float *k,
                       ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                       const float *beta, float *m, float *z, float *out,
                       ptrdiff_t ldo, float *work) {
  const ptrdiff_t H = lc->n_heads, H_kv = lc->n_kv_heads, G = H / H_kv;
  const ptrdiff_t dk = lc->d_key, dv = lc->d_value;
  const infini_head_shape shape = {n, dk, dv};

  for (ptrdiff_t g = 0; g < H_kv; g++) {
    float *m_g = m + g * dk * dv, *z_g = z + g * dk;
    if (MUTANT(MM_MEM_RESET)) /* MUTANT mem_reset, as in segment_core */
      zero_memory(dk, dv, m_g, dv, z_g);
    if (MUTANT(MM_UPDATE_FIRST)) /* MUTANT update_first, as in segment_core */
      head_update(&shape, lc->rule, lc->eps, q + g * G * dk, ldq, k + g * dk,
                  ldk, v + g * dv, ldv, m_g, dv, z_g, work);
  }

  for (ptrdiff_t h = 0; h < H; h++) {
    ptrdiff_t g = h / G;
    /* MUTANT gqa_mod: kv head h % H_kv (interleaved groups). */
    if (MUTANT(MM_GQA_MOD))
      g = h % H_kv;
    float b = beta[h];
    /* MUTANT one_beta: a single gate for all heads, beta[0]. */
    if (MUTANT(MM_ONE_BETA))
      b = beta[0];
    head_outputs(&shape, b, lc->eps, lc->scale, q + h * dk, ldq, k + g * dk,
                 ldk, v + g * dv, ldv, m + g * dk * dv, dv, z + g * dk,
                 out + h * dv, ldo, work, attention_work(&shape, work));
  }

  if (!MUTANT(MM_UPDATE_FIRST))
    for (ptrdiff_t g = 0; g < H_kv; g++)
      /* q of the group's first head: used only by delta_sigma_q */
      head_update(&shape, lc->rule, lc->eps, q + g * G * dk, ldq, k + g * dk,
                  ldk, v + g * dv, ldv, m + g * dk * dv, dv, z + g * dk, work);
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

/* Round to the nearest bfloat16, ties to even; NaN stays NaN. */
static float bf16_round(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return x;
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* An input tensor as the core sees it: the caller's (rows x cols, stride
 * ld) or, for the bf16 variant, a packed copy rounded to bf16. */
typedef struct input {
  const float *p;
  ptrdiff_t ld;
  float *copy;
} input;

static bool take_input(input *in, ptrdiff_t rows, ptrdiff_t cols,
                       const float *x, ptrdiff_t ld) {
  in->p = x, in->ld = ld, in->copy = NULL;
  if (!uses(MV_BF16))
    return true;
  in->copy = malloc((size_t)rows * (size_t)cols * sizeof(float));
  if (!in->copy)
    return false;
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      in->copy[i * cols + j] = bf16_round(x[i * ld + j]);
  in->p = in->copy, in->ld = cols;
  return true;
}

/* State (m, z) is input and output: round it in place before (bf16). */
static void take_state(ptrdiff_t rows, ptrdiff_t cols, float *x, ptrdiff_t ld) {
  if (uses(MV_BF16))
    for (ptrdiff_t i = 0; i < rows; i++)
      for (ptrdiff_t j = 0; j < cols; j++)
        x[i * ld + j] = bf16_round(x[i * ld + j]);
}

/* Every output on its way out: rounded to bf16 (variant) or, MUTANT
 * nan_to_zero, torch.nan_to_num(x, nan=0.0) on every result. */
static void give_output(ptrdiff_t rows, ptrdiff_t cols, float *x, ptrdiff_t ld) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      float *e = &x[i * ld + j];
      if (uses(MV_BF16))
        *e = bf16_round(*e);
      if (MUTANT(MM_NAN_TO_ZERO) && *e != *e)
        *e = 0;
    }
}

static void drop_inputs(input *in, int count) {
  for (int i = 0; i < count; i++)
    free(in[i].copy);
}

size_t mut_workspace_bytes(const infini_head_shape *shape) {
  const size_t floats = (size_t)shape->n * (size_t)shape->d_value + 3 * (size_t)shape->n;
  return (floats * sizeof(float) + 63) / 64 * 64;
}

infini_status mut_feature_map(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                              ptrdiff_t ldx, float *y, ptrdiff_t ldy) {
  input in[1];
  if (!take_input(&in[0], rows, cols, x, ldx))
    return INFINI_ERR_BACKEND;
  feature_map_core(rows, cols, in[0].p, in[0].ld, y, ldy);
  give_output(rows, cols, y, ldy);
  drop_inputs(in, 1);
  return INFINI_OK;
}

infini_status mut_retrieve(const infini_head_shape *shape, const float *q,
                           ptrdiff_t ldq, const float *m, ptrdiff_t ldm,
                           const float *z, float eps, float *a, ptrdiff_t lda) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  /* MUTANT stride_ignored: q assumed packed (row stride d_key). */
  if (MUTANT(MM_STRIDE_IGNORED))
    ldq = dk;
  input in[3];
  int got = 0;
  bool ok = take_input(&in[got++], n, dk, q, ldq) &&
            take_input(&in[got++], dk, dv, m, ldm) &&
            take_input(&in[got++], 1, dk, z, dk);
  if (ok) {
    retrieve_core(shape, in[0].p, in[0].ld, in[1].p, in[1].ld, in[2].p, eps, a, lda);
    give_output(n, dv, a, lda);
  }
  drop_inputs(in, got);
  return ok ? INFINI_OK : INFINI_ERR_BACKEND;
}

infini_status mut_update_linear(const infini_head_shape *shape, const float *k,
                                ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                                float *m, ptrdiff_t ldm, float *z) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  input in[2];
  int got = 0;
  bool ok = take_input(&in[got++], n, dk, k, ldk) &&
            take_input(&in[got++], n, dv, v, ldv);
  if (ok) {
    take_state(dk, dv, m, ldm);
    take_state(1, dk, z, dk);
    update_linear_core(shape, in[0].p, in[0].ld, in[1].p, in[1].ld, m, ldm, z, true);
    give_output(dk, dv, m, ldm);
    give_output(1, dk, z, dk);
  }
  drop_inputs(in, got);
  return ok ? INFINI_OK : INFINI_ERR_BACKEND;
}

infini_status mut_update_delta(const infini_head_shape *shape, const float *k,
                               ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                               float *m, ptrdiff_t ldm, float *z, float eps,
                               void *work) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  input in[2];
  int got = 0;
  bool ok = take_input(&in[got++], n, dk, k, ldk) &&
            take_input(&in[got++], n, dv, v, ldv);
  if (ok) {
    take_state(dk, dv, m, ldm);
    take_state(1, dk, z, dk);
    update_delta_core(shape, in[0].p, in[0].ld, in[0].p, in[0].ld, in[1].p,
                      in[1].ld, m, ldm, z, eps, work);
    give_output(dk, dv, m, ldm);
    give_output(1, dk, z, dk);
  }
  drop_inputs(in, got);
  return ok ? INFINI_OK : INFINI_ERR_BACKEND;
}

infini_status mut_mix(ptrdiff_t rows, ptrdiff_t cols, float beta,
                      const float *a_mem, ptrdiff_t ldm, const float *a_dot,
                      ptrdiff_t ldd, float *out, ptrdiff_t ldo) {
  input in[2];
  int got = 0;
  bool ok = take_input(&in[got++], rows, cols, a_mem, ldm) &&
            take_input(&in[got++], rows, cols, a_dot, ldd);
  if (ok) {
    mix_core(rows, cols, beta, in[0].p, in[0].ld, in[1].p, in[1].ld, out, ldo);
    give_output(rows, cols, out, ldo);
  }
  drop_inputs(in, got);
  return ok ? INFINI_OK : INFINI_ERR_BACKEND;
}

infini_status mut_local_attention(const infini_head_shape *shape,
                                  const float *q, ptrdiff_t ldq, const float *k,
                                  ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                                  float scale, float *out, ptrdiff_t ldo,
                                  void *work) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  if (MUTANT(MM_STRIDE_IGNORED)) /* MUTANT stride_ignored, as in retrieve */
    ldq = dk;
  input in[3];
  int got = 0;
  bool ok = take_input(&in[got++], n, dk, q, ldq) &&
            take_input(&in[got++], n, dk, k, ldk) &&
            take_input(&in[got++], n, dv, v, ldv);
  if (ok) {
    local_attention_core(shape, in[0].p, in[0].ld, in[1].p, in[1].ld, in[2].p,
                         in[2].ld, scale, out, ldo, work);
    give_output(n, dv, out, ldo);
  }
  drop_inputs(in, got);
  return ok ? INFINI_OK : INFINI_ERR_BACKEND;
}

infini_status mut_segment_step(const infini_head_shape *shape,
                               const infini_step_params *params,
                               const float *q, ptrdiff_t ldq, const float *k,
                               ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                               float *m, ptrdiff_t ldm, float *z, float *out,
                               ptrdiff_t ldo, void *work) {
  const ptrdiff_t n = shape->n, dk = shape->d_key, dv = shape->d_value;
  if (MUTANT(MM_STRIDE_IGNORED)) /* MUTANT stride_ignored, as in retrieve */
    ldq = dk;
  input in[3];
  int got = 0;
  bool ok = take_input(&in[got++], n, dk, q, ldq) &&
            take_input(&in[got++], n, dk, k, ldk) &&
            take_input(&in[got++], n, dv, v, ldv);
  if (ok) {
    take_state(dk, dv, m, ldm);
    take_state(1, dk, z, dk);
    segment_core(shape, params, in[0].p, in[0].ld, in[1].p, in[1].ld, in[2].p,
                 in[2].ld, m, ldm, z, out, ldo, work);
    give_output(n, dv, out, ldo);
    give_output(dk, dv, m, ldm);
    give_output(1, dk, z, dk);
  }
  drop_inputs(in, got);
  return ok ? INFINI_OK : INFINI_ERR_BACKEND;
}

infini_status mut_layer_step(const infini_layer_config *config, ptrdiff_t n,
                             const float *q, ptrdiff_t ldq, const float *k,
                             ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                             const float *beta, float *m, float *z, float *out,
                             ptrdiff_t ldo, void *work) {
  const ptrdiff_t H = config->n_heads, H_kv = config->n_kv_heads;
  const ptrdiff_t dk = config->d_key, dv = config->d_value;
  /* MUTANT stride_ignored: q assumed packed (row stride H d_key). */
  if (MUTANT(MM_STRIDE_IGNORED))
    ldq = H * dk;
  input in[3];
  int got = 0;
  bool ok = take_input(&in[got++], n, H * dk, q, ldq) &&
            take_input(&in[got++], n, H_kv * dk, k, ldk) &&
            take_input(&in[got++], n, H_kv * dv, v, ldv);
  if (ok) {
    take_state(H_kv * dk, dv, m, dv);
    take_state(1, H_kv * dk, z, H_kv * dk);
    layer_core(config, n, in[0].p, in[0].ld, in[1].p, in[1].ld, in[2].p,
               in[2].ld, beta, m, z, out, ldo, work);
    give_output(n, H * dv, out, ldo);
    give_output(H_kv * dk, dv, m, dv);
    give_output(1, H_kv * dk, z, H_kv * dk);
  }
  drop_inputs(in, got);
  return ok ? INFINI_OK : INFINI_ERR_BACKEND;
}

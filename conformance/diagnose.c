/*
 * conformance/diagnose.c - explain a failure by a known convention
 * difference.
 *
 * For a case that failed, the expected outputs are recomputed in double
 * under each alternative convention the specification rejects (docs/spec.md
 * names most of them: an unmixed first segment, the paper's 1/sqrt(d_model)
 * scale, swapped gate sides, an epsilon in the denominator, update before
 * retrieval, K and V swapped, a delta prediction from the updated memory,
 * z not updated in delta mode, ...). The steps an alternative does not
 * touch are the double oracle's (ref/ref.h: infini_ref_sigma_f64,
 * infini_ref_local_attention_f64, infini_ref_mix_f64; retrieval and the
 * updates are the oracle's loops in the oracle's order, with sigma
 * evaluated once per element instead of once per use, which gives the same
 * numbers much faster). When the implementation's outputs match an
 * alternative within the tolerance model (every output
 * tensor's ratio <= DIAG_RATIO, with the case's own tolerances), the
 * difference is named, with the rule of the spec it breaks.
 *
 * A scale that matches none of the usual candidates is fitted (golden
 * section on log(scale) over the output's squared error) and reported as
 * 1/sqrt(X) when the fit then matches.
 *
 * The best match wins (the smallest worst ratio); when a different kind of
 * difference matches as well (ratio <= 1), both are named.
 *
 * Cost: a full search runs every applicable alternative. Per operator, the
 * alternatives already found are tried first and accepted when they match
 * well (ratio <= 1). After DIAG_FULL_SEARCHES full searches without a match
 * for an operator, or DIAG_BUDGET_SECONDS spent in full searches, later
 * failures (same backend) only try the ones found so far.
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "conformance/conform.h"
#include "ref/ref.h"

#define DIAG_RATIO 2.0
#define DIAG_FULL_SEARCHES 4
#define DIAG_BUDGET_SECONDS 10.0

typedef enum alt_kind {
  A_NONE = 0,
  /* retrieval (7) */
  A_EPS, A_EPS_IGNORED, A_CLAMP, A_DEN_PLUS1, A_NO_NORMALISER, A_Z_PER_COLUMN,
  A_ZERO_ROW_NAN,
  /* feature map (F) */
  A_SIGMA_ELU, A_SIGMA_EXP,
  /* local attention (6) */
  A_SCALE, A_NO_MASK, A_MASK_STRICT, A_MASK_PLUS1, A_KV_SWAP_ATTN, A_SOFTMAX_COLS,
  A_SOFTMAX_NOMAX,
  /* mixing (10) */
  A_GATE_SWAP,
  /* segment step */
  A_UNMIXED_FIRST, A_UPDATE_FIRST, A_MEM_RESET, A_Z0_INIT,
  /* updates (8), (9) */
  A_KV_SWAP_MEM, A_DROP_LAST, A_RULE_LINEAR, A_RULE_DELTA, A_DELTA_FROM_UPDATED,
  A_DELTA_SEQUENTIAL, A_DELTA_SIGMA_Q, A_Z_FROZEN,
  /* layer step (S14) */
  A_GQA_MOD, A_ONE_BETA,
  /* any operator */
  A_NAN_TO_ZERO,
  A_KIND_COUNT
} alt_kind;

typedef struct alt {
  alt_kind kind;
  double param;
} alt;

/* ---- the model under an alternative ---------------------------------------- */

typedef struct model {
  alt a;
  float eps, scale;
  infini_update_rule rule;
} model;

static double sigma(const model *md, double x) {
  switch (md->a.kind) {
  case A_SIGMA_ELU:
    return x > 0 ? x : exp(x) - 1;
  case A_SIGMA_EXP:
    return exp(x);
  default:
    return infini_ref_sigma_f64(x);
  }
}

static float eps_of(const model *md) {
  if (md->a.kind == A_EPS)
    return md->eps + (float)md->a.param;
  if (md->a.kind == A_EPS_IGNORED)
    return 0.0f;
  return md->eps;
}

/* (7) with the alternative's retrieval. sigma(q_i) is evaluated once per
 * element (the oracle's sigma), then the oracle's loops: the same
 * operations in the same order as infini_ref_retrieve_f64. */
static void retrieve(const model *md, const infini_head_shape *sh, const double *q,
                     ptrdiff_t ldq, const double *m, ptrdiff_t ldm, const double *z,
                     double *a, ptrdiff_t lda) {
  const alt_kind k = md->a.kind;
  const double eps = (double)eps_of(md);
  const ptrdiff_t dk = sh->d_key, dv = sh->d_value;
  double *sq = cf_xmalloc((size_t)dk * sizeof *sq);
  for (ptrdiff_t i = 0; i < sh->n; i++) {
    for (ptrdiff_t c = 0; c < dk; c++)
      sq[c] = sigma(md, q[i * ldq + c]);
    double den = 0;
    for (ptrdiff_t c = 0; c < dk; c++)
      den += sq[c] * z[c];
    if (k == A_CLAMP)
      den = den > md->a.param ? den : md->a.param;
    else
      den += eps;
    if (k == A_DEN_PLUS1)
      den += 1;
    if (den == 0 && k != A_ZERO_ROW_NAN) {
      for (ptrdiff_t j = 0; j < dv; j++)
        a[i * lda + j] = 0;
      continue;
    }
    for (ptrdiff_t j = 0; j < dv; j++) {
      double num = 0;
      for (ptrdiff_t c = 0; c < dk; c++)
        num += sq[c] * m[c * ldm + j];
      if (k == A_NO_NORMALISER)
        a[i * lda + j] = num;
      else if (k == A_Z_PER_COLUMN)
        a[i * lda + j] = num / (z[j % dk] + eps);
      else
        a[i * lda + j] = num / den;
    }
  }
  free(sq);
}

/* (6) with the alternative's attention. */
static void local_attention(const model *md, const infini_head_shape *sh,
                            const double *q, ptrdiff_t ldq, const double *k,
                            ptrdiff_t ldk, const double *v, ptrdiff_t ldv,
                            double *out, ptrdiff_t ldo) {
  const alt_kind kind = md->a.kind;
  const float scale = kind == A_SCALE ? (float)md->a.param : md->scale;
  if (!(kind == A_NO_MASK || kind == A_MASK_STRICT || kind == A_MASK_PLUS1 ||
        kind == A_KV_SWAP_ATTN || kind == A_SOFTMAX_COLS || kind == A_SOFTMAX_NOMAX)) {
    infini_ref_local_attention_f64(sh, q, ldq, k, ldk, v, ldv, scale, out, ldo, NULL);
    return;
  }
  const ptrdiff_t n = sh->n, dk = sh->d_key, dv = sh->d_value;
  const double *keys = k, *vals = v;
  ptrdiff_t ld_keys = ldk, ld_vals = ldv, d_score = dk, d_out = dv;
  if (kind == A_KV_SWAP_ATTN) {
    keys = v, ld_keys = ldv, vals = k, ld_vals = ldk;
    d_score = d_out = dk < dv ? dk : dv;
  }
  double *s = cf_xmalloc((size_t)n * sizeof *s);
  double *col_max = NULL, *col_sum = NULL;
  if (kind == A_SOFTMAX_COLS) {
    col_max = cf_xmalloc((size_t)n * sizeof *col_max);
    col_sum = cf_xmalloc((size_t)n * sizeof *col_sum);
    for (ptrdiff_t j = 0; j < n; j++) {
      col_max[j] = -INFINITY;
      for (ptrdiff_t i = j; i < n; i++) {
        double dot = 0;
        for (ptrdiff_t c = 0; c < d_score; c++)
          dot += q[i * ldq + c] * keys[j * ld_keys + c];
        if ((double)scale * dot > col_max[j])
          col_max[j] = (double)scale * dot;
      }
      col_sum[j] = 0;
      for (ptrdiff_t i = j; i < n; i++) {
        double dot = 0;
        for (ptrdiff_t c = 0; c < d_score; c++)
          dot += q[i * ldq + c] * keys[j * ld_keys + c];
        col_sum[j] += exp((double)scale * dot - col_max[j]);
      }
    }
  }
  for (ptrdiff_t i = 0; i < n; i++) {
    ptrdiff_t visible = i + 1;
    if (kind == A_MASK_STRICT)
      visible = i;
    else if (kind == A_MASK_PLUS1)
      visible = i + 2 < n ? i + 2 : n;
    else if (kind == A_NO_MASK)
      visible = n;
    double row_max = -INFINITY;
    for (ptrdiff_t j = 0; j < visible; j++) {
      double dot = 0;
      for (ptrdiff_t c = 0; c < d_score; c++)
        dot += q[i * ldq + c] * keys[j * ld_keys + c];
      s[j] = (double)scale * dot;
      if (s[j] > row_max || s[j] != s[j])
        row_max = s[j];
    }
    double p_sum = 0;
    for (ptrdiff_t j = 0; j < visible; j++) {
      if (kind == A_SOFTMAX_COLS)
        s[j] = exp(s[j] - col_max[j]) / col_sum[j];
      else if (kind == A_SOFTMAX_NOMAX) /* float32 exp: overflows above 88.72 */
        s[j] = (double)(float)exp(s[j]);
      else
        s[j] = exp(s[j] - row_max);
      p_sum += s[j];
    }
    if (kind == A_SOFTMAX_COLS)
      p_sum = 1;
    for (ptrdiff_t c = 0; c < dv; c++) {
      double acc = 0;
      if (c < d_out)
        for (ptrdiff_t j = 0; j < visible; j++)
          acc += s[j] * vals[j * ld_vals + c];
      out[i * ldo + c] = c < d_out ? acc / p_sum : 0;
    }
  }
  free(s);
  free(col_max);
  free(col_sum);
}

/* (10), possibly with swapped sides. out may be a_dot. */
static void mix(const model *md, ptrdiff_t rows, ptrdiff_t cols, float beta,
                const double *a_mem, ptrdiff_t ldm, const double *a_dot,
                ptrdiff_t ldd, double *out, ptrdiff_t ldo) {
  if (md->a.kind == A_GATE_SWAP)
    beta = -beta;
  infini_ref_mix_f64(rows, cols, beta, a_mem, ldm, a_dot, ldd, out, ldo);
}

/* (8) core: M += sigma(K)^T W, z += sum sigma(k_t) when update_z; sigma
 * evaluated once per element, then the oracle's loops and order. */
static void linear_core(const model *md, const infini_head_shape *sh, const double *k,
                        ptrdiff_t ldk, const double *w, ptrdiff_t ldw, double *m,
                        ptrdiff_t ldm, double *z, bool update_z) {
  const ptrdiff_t dk = sh->d_key, dv = sh->d_value;
  ptrdiff_t n = sh->n;
  if (md->a.kind == A_DROP_LAST)
    n -= 1;
  const bool swap = md->a.kind == A_KV_SWAP_MEM;
  /* the "keys" (sigma applied) and the "values" of the update */
  const double *keys = swap ? w : k, *vals = swap ? k : w;
  const ptrdiff_t ld_keys = swap ? ldw : ldk, ld_vals = swap ? ldk : ldw;
  const ptrdiff_t d_keys = swap ? dv : dk, d_vals = swap ? dk : dv;
  double *sk = cf_xmalloc((size_t)((n > 0 ? n : 1) * d_keys) * sizeof *sk);
  for (ptrdiff_t t = 0; t < n; t++)
    for (ptrdiff_t c = 0; c < d_keys; c++)
      sk[t * d_keys + c] = sigma(md, keys[t * ld_keys + c]);
  for (ptrdiff_t c = 0; c < dk; c++) {
    for (ptrdiff_t j = 0; j < dv; j++) {
      double inc = 0;
      if (c < d_keys && j < d_vals)
        for (ptrdiff_t t = 0; t < n; t++)
          inc += sk[t * d_keys + c] * vals[t * ld_vals + j];
      m[c * ldm + j] += inc;
    }
    if (update_z) {
      double inc = 0;
      if (c < d_keys)
        for (ptrdiff_t t = 0; t < n; t++)
          inc += sk[t * d_keys + c];
      z[c] += inc;
    }
  }
  free(sk);
}

/* (8) or (9) under the alternative. q: the queries of the head (for the
 * sigma(Q) prediction slip). */
static void update(const model *md, infini_update_rule rule, const infini_head_shape *sh,
                   const double *q, ptrdiff_t ldq, const double *k, ptrdiff_t ldk,
                   const double *v, ptrdiff_t ldv, double *m, ptrdiff_t ldm, double *z) {
  const alt_kind kind = md->a.kind;
  const ptrdiff_t n = sh->n, dk = sh->d_key, dv = sh->d_value;
  if (kind == A_RULE_LINEAR)
    rule = INFINI_UPDATE_LINEAR;
  else if (kind == A_RULE_DELTA)
    rule = INFINI_UPDATE_DELTA;
  if (rule == INFINI_UPDATE_LINEAR) {
    linear_core(md, sh, k, ldk, v, ldv, m, ldm, z, true);
    return;
  }
  double *w = cf_xmalloc((size_t)(n * dv) * sizeof *w);
  if (kind == A_DELTA_SEQUENTIAL) {
    const infini_head_shape one = {1, dk, dv};
    for (ptrdiff_t t = 0; t < n; t++) {
      retrieve(md, &one, k + t * ldk, ldk, m, ldm, z, w, dv);
      for (ptrdiff_t j = 0; j < dv; j++)
        w[j] = v[t * ldv + j] - w[j];
      linear_core(md, &one, k + t * ldk, ldk, w, dv, m, ldm, z, true);
    }
    free(w);
    return;
  }
  if (kind == A_DELTA_FROM_UPDATED) {
    /* The prediction reads M_{s-1} + sigma(K)^T V, z_s. */
    double *m2 = cf_xmalloc((size_t)(dk * dv) * sizeof *m2);
    double *z2 = cf_xmalloc((size_t)dk * sizeof *z2);
    for (ptrdiff_t r = 0; r < dk; r++) {
      for (ptrdiff_t j = 0; j < dv; j++)
        m2[r * dv + j] = m[r * ldm + j];
      z2[r] = z[r];
    }
    model plain = *md;
    plain.a.kind = A_NONE;
    linear_core(&plain, sh, k, ldk, v, ldv, m2, dv, z2, true);
    retrieve(md, sh, k, ldk, m2, dv, z2, w, dv);
    free(m2);
    free(z2);
  } else {
    const double *pk = kind == A_DELTA_SIGMA_Q ? q : k;
    retrieve(md, sh, pk, kind == A_DELTA_SIGMA_Q ? ldq : ldk, m, ldm, z, w, dv);
  }
  for (ptrdiff_t t = 0; t < n; t++)
    for (ptrdiff_t j = 0; j < dv; j++)
      w[t * dv + j] = v[t * ldv + j] - w[t * dv + j];
  linear_core(md, sh, k, ldk, w, dv, m, ldm, z, kind != A_Z_FROZEN);
  free(w);
}

static bool all_zero(const double *x, ptrdiff_t count) {
  for (ptrdiff_t i = 0; i < count; i++)
    if (x[i] != 0)
      return false;
  return true;
}

/* The layer step (a segment step is H = H_kv = 1) over S segments.
 * q: [S][n][H*dk], k: [S][n][Hkv*dk], v: [S][n][Hkv*dv]; m, z: the state,
 * updated in place; out: [S][n][H*dv]. */
static void layer(const model *md, ptrdiff_t S, ptrdiff_t n, ptrdiff_t H,
                  ptrdiff_t Hkv, ptrdiff_t dk, ptrdiff_t dv, const double *q,
                  const double *k, const double *v, const float *beta, double *m,
                  double *z, double *out) {
  const ptrdiff_t G = H / Hkv, ldq = H * dk, ldk = Hkv * dk, ldv = Hkv * dv,
                  ldo = H * dv;
  const infini_head_shape sh = {n, dk, dv};
  double *a_mem = cf_xmalloc((size_t)(n * dv) * sizeof *a_mem);
  bool *empty = cf_xmalloc((size_t)Hkv * sizeof *empty);
  if (md->a.kind == A_Z0_INIT && all_zero(z, Hkv * dk) && all_zero(m, Hkv * dk * dv))
    for (ptrdiff_t i = 0; i < Hkv * dk; i++)
      z[i] = 1.0 / (double)dk;
  for (ptrdiff_t s = 0; s < S; s++) {
    const double *qs = q + s * n * ldq, *ks = k + s * n * ldk, *vs = v + s * n * ldv;
    double *os = out + s * n * ldo;
    for (ptrdiff_t g = 0; g < Hkv; g++) {
      double *mg = m + g * dk * dv, *zg = z + g * dk;
      if (md->a.kind == A_MEM_RESET) {
        for (ptrdiff_t i = 0; i < dk * dv; i++)
          mg[i] = 0;
        for (ptrdiff_t i = 0; i < dk; i++)
          zg[i] = 0;
      }
      empty[g] = all_zero(zg, dk);
      if (md->a.kind == A_UPDATE_FIRST)
        update(md, md->rule, &sh, qs + g * G * dk, ldq, ks + g * dk, ldk, vs + g * dv,
               ldv, mg, dv, zg);
    }
    for (ptrdiff_t h = 0; h < H; h++) {
      ptrdiff_t g = md->a.kind == A_GQA_MOD ? h % Hkv : h / G;
      float b = md->a.kind == A_ONE_BETA ? beta[0] : beta[h];
      double *oh = os + h * dv;
      retrieve(md, &sh, qs + h * dk, ldq, m + g * dk * dv, dv, z + g * dk, a_mem, dv);
      local_attention(md, &sh, qs + h * dk, ldq, ks + g * dk, ldk, vs + g * dv, ldv,
                      oh, ldo);
      if (!(md->a.kind == A_UNMIXED_FIRST && empty[g]))
        mix(md, n, dv, b, a_mem, dv, oh, ldo, oh, ldo);
    }
    if (md->a.kind != A_UPDATE_FIRST)
      for (ptrdiff_t g = 0; g < Hkv; g++)
        update(md, md->rule, &sh, qs + g * G * dk, ldq, ks + g * dk, ldk, vs + g * dv,
               ldv, m + g * dk * dv, dv, z + g * dk);
  }
  free(a_mem);
  free(empty);
}

/* ---- inputs and alternative outputs ------------------------------------- */

/* The inputs of the case being diagnosed, in double, converted once and
 * shared by every alternative (read-only). */
static struct {
  const vs_test *test;
  int n;
  const char *names[VS_MAX_INPUTS + 2];
  double *data[VS_MAX_INPUTS + 2];
  size_t count[VS_MAX_INPUTS + 2];
} inputs;

static void inputs_release(void) {
  for (int i = 0; i < inputs.n; i++)
    free(inputs.data[i]);
  memset(&inputs, 0, sizeof inputs);
}

/* Input `name` as count doubles; zeros when the test has no such input. */
static const double *input_f64(const vs_test *t, const char *name, size_t count) {
  if (inputs.test != t)
    inputs_release();
  inputs.test = t;
  for (int i = 0; i < inputs.n; i++)
    if (strcmp(inputs.names[i], name) == 0 && inputs.count[i] == count)
      return inputs.data[i];
  const vs_tensor *in = cf_find_input(t, name, NULL);
  double *x = cf_xcalloc(count, sizeof *x);
  for (size_t i = 0; in && in->data && i < count && i < vs_tensor_count(in); i++)
    x[i] = in->dtype == VS_F64 ? ((const double *)in->data)[i]
                               : (double)((const float *)in->data)[i];
  if (inputs.n < VS_MAX_INPUTS + 2) {
    inputs.names[inputs.n] = name;
    inputs.data[inputs.n] = x;
    inputs.count[inputs.n++] = count;
  }
  return x;
}

/* The outputs of an alternative, by name. */
typedef struct alt_outputs {
  int n;
  const char *names[VS_MAX_OUTPUTS];
  double *data[VS_MAX_OUTPUTS];
  size_t count[VS_MAX_OUTPUTS];
} alt_outputs;

static double *alt_take(alt_outputs *o, const char *name, size_t count) {
  int i = o->n++;
  o->names[i] = name;
  o->count[i] = count;
  o->data[i] = cf_xcalloc(count, sizeof(double));
  return o->data[i];
}

static void alt_free(alt_outputs *o) {
  for (int i = 0; i < o->n; i++)
    free(o->data[i]);
  o->n = 0;
}

static void compute(const cf_case *c, const model *md, alt_outputs *o) {
  const vs_group *g = c->group;
  const vs_test *t = c->test;
  const ptrdiff_t n = g->n, dk = g->d_key, dv = g->d_value;
  const infini_head_shape sh = {n, dk, dv};
  o->n = 0;
  switch (g->op) {
  case VS_FEATURE_MAP: {
    size_t count = (size_t)(g->rows * g->cols);
    const double *x = input_f64(t, "x", count);
    double *y = alt_take(o, "y", count);
    for (size_t i = 0; i < count; i++)
      y[i] = sigma(md, x[i]);
    break;
  }
  case VS_RETRIEVE: {
    const double *q = input_f64(t, "q", (size_t)(n * dk));
    const double *m = input_f64(t, "m", (size_t)(dk * dv));
    const double *z = input_f64(t, "z", (size_t)dk);
    retrieve(md, &sh, q, dk, m, dv, z, alt_take(o, "a", (size_t)(n * dv)), dv);
    break;
  }
  case VS_UPDATE_LINEAR:
  case VS_UPDATE_DELTA: {
    const double *k = input_f64(t, "k", (size_t)(n * dk));
    const double *v = input_f64(t, "v", (size_t)(n * dv));
    double *m = alt_take(o, "m", (size_t)(dk * dv));
    double *z = alt_take(o, "z", (size_t)dk);
    const double *m0 = input_f64(t, "m", (size_t)(dk * dv));
    const double *z0 = input_f64(t, "z", (size_t)dk);
    memcpy(m, m0, (size_t)(dk * dv) * sizeof *m);
    memcpy(z, z0, (size_t)dk * sizeof *z);
    update(md, g->op == VS_UPDATE_DELTA ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR,
           &sh, k, dk, k, dk, v, dv, m, dv, z);
    break;
  }
  case VS_MIX: {
    ptrdiff_t rows = g->rows > 0 ? g->rows : n, cols = g->rows > 0 ? g->cols : dv;
    size_t count = (size_t)(rows * cols);
    const double *am = input_f64(t, "a_mem", count), *ad = input_f64(t, "a_dot", count);
    mix(md, rows, cols, g->beta, am, cols, ad, cols, alt_take(o, "out", count), cols);
    break;
  }
  case VS_LOCAL_ATTENTION: {
    const double *q = input_f64(t, "q", (size_t)(n * dk));
    const double *k = input_f64(t, "k", (size_t)(n * dk));
    const double *v = input_f64(t, "v", (size_t)(n * dv));
    local_attention(md, &sh, q, dk, k, dk, v, dv, alt_take(o, "out", (size_t)(n * dv)), dv);
    break;
  }
  case VS_SEGMENT_STEP:
  case VS_LAYER_STEP: {
    const bool lay = g->op == VS_LAYER_STEP;
    const ptrdiff_t S = g->segments > 0 ? g->segments : 1;
    const ptrdiff_t H = lay ? g->n_heads : 1, Hkv = lay ? g->n_kv_heads : 1;
    const double *q = input_f64(t, "q", (size_t)(S * n * H * dk));
    const double *k = input_f64(t, "k", (size_t)(S * n * Hkv * dk));
    const double *v = input_f64(t, "v", (size_t)(S * n * Hkv * dv));
    float *beta = cf_xcalloc((size_t)H, sizeof *beta);
    if (lay) {
      const double *b = input_f64(t, "beta", (size_t)H);
      for (ptrdiff_t h = 0; h < H; h++)
        beta[h] = (float)b[h];
    } else {
      beta[0] = g->beta;
    }
    double *out = alt_take(o, "out", (size_t)(S * n * H * dv));
    double *m = alt_take(o, "m", (size_t)(Hkv * dk * dv));
    double *z = alt_take(o, "z", (size_t)(Hkv * dk));
    const double *m0 = input_f64(t, "m", (size_t)(Hkv * dk * dv));
    const double *z0 = input_f64(t, "z", (size_t)(Hkv * dk));
    memcpy(m, m0, (size_t)(Hkv * dk * dv) * sizeof *m);
    memcpy(z, z0, (size_t)(Hkv * dk) * sizeof *z);
    layer(md, S, n, H, Hkv, dk, dv, q, k, v, beta, m, z, out);
    free(beta);
    break;
  }
  default:
    break;
  }
}

/* Worst ratio of got against an alternative, over every expected output.
 * The tolerance of the case's output is applied with the alternative's
 * value in place of the expected one; as the magnitudes (mag) of the
 * vector belong to the specified computation, an alternative's own value
 * counts as a magnitude too: mag' = max(mag, |alternative|) (0 for a NaN
 * mag, where the specified result is NaN). */
static double alt_ratio(const cf_case *c, tol_profile profile, const cf_outputs *got,
                        const alt_outputs *ao) {
  double worst = 0;
  const vs_outputs *outs = &c->test->outputs;
  for (int o = 0; o < outs->count; o++) {
    const vs_output *want = &outs->items[o];
    const char *name = want->expected.name;
    int gi = -1, ai = -1;
    for (int i = 0; i < got->n; i++)
      if (strcmp(got->names[i], name) == 0)
        gi = i;
    for (int i = 0; i < ao->n; i++)
      if (strcmp(ao->names[i], name) == 0)
        ai = i;
    size_t count = vs_tensor_count(&want->expected);
    if (gi < 0 || ai < 0 || !got->data[gi] || got->count[gi] != count ||
        ao->count[ai] != count)
      return INFINITY;
    const double *mag = want->mag ? want->mag->data : NULL;
    const double *cond = want->cond ? want->cond->data : NULL;
    const float *x = got->data[gi];
    const double *a = ao->data[ai];
    for (size_t i = 0; i < count; i++) {
      double r;
      if (isnan(a[i]))
        r = isnan(x[i]) ? 0 : INFINITY;
      else if (isinf(a[i]))
        r = (double)x[i] == a[i] ? 0 : INFINITY;
      else if (isnan(x[i]))
        r = INFINITY;
      else if (isinf(x[i]))
        r = fabs(a[i]) >= 0x1.fffffep+127 && (x[i] > 0) == (a[i] > 0) ? 0 : INFINITY;
      else {
        /* where the specified result is NaN, its magnitudes are too */
        double m = mag && isfinite(mag[i]) ? mag[i] : 0;
        double cd = cond && isfinite(cond[i]) ? cond[i] : 0;
        if (fabs(a[i]) > m)
          m = fabs(a[i]);
        double allowed = tol_allowed(&want->tol, profile, a[i], m, cd);
        r = fabs((double)x[i] - a[i]) / allowed;
        if (isnan(r))
          r = INFINITY;
      }
      if (r > worst)
        worst = r;
      if (worst > 1e6)
        return worst; /* clearly not this one */
    }
  }
  return worst;
}

static double try_alt(const cf_case *c, tol_profile profile, const cf_outputs *got,
                      const model *md) {
  alt_outputs o = {0};
  if (md->a.kind == A_NAN_TO_ZERO) {
    model plain = *md;
    plain.a.kind = A_NONE;
    compute(c, &plain, &o);
    for (int i = 0; i < o.n; i++)
      for (size_t e = 0; e < o.count[i]; e++)
        if (isnan(o.data[i][e]))
          o.data[i][e] = 0;
  } else {
    compute(c, md, &o);
  }
  double r = alt_ratio(c, profile, got, &o);
  alt_free(&o);
  return r;
}

/* ---- candidates ------------------------------------------------------------ */

static const double eps_candidates[] = {1e-6, 1e-8, 1e-9, 1e-5, 1e-7, 1e-3, 1e-4, 1e-10, 1e-12};

#define MAX_CANDIDATES 96

static int add(alt *list, int n, alt_kind kind, double param) {
  if (n < MAX_CANDIDATES)
    list[n++] = (alt){kind, param};
  return n;
}

static bool op_has_retrieve(vs_op op) {
  return op == VS_RETRIEVE || op == VS_UPDATE_DELTA || op == VS_SEGMENT_STEP ||
         op == VS_LAYER_STEP;
}

static bool op_has_attention(vs_op op) {
  return op == VS_LOCAL_ATTENTION || op == VS_SEGMENT_STEP || op == VS_LAYER_STEP;
}

static bool op_has_update(vs_op op) {
  return op == VS_UPDATE_LINEAR || op == VS_UPDATE_DELTA || op == VS_SEGMENT_STEP ||
         op == VS_LAYER_STEP;
}

static bool op_has_sigma(vs_op op) { return op != VS_MIX && op != VS_LOCAL_ATTENTION; }

/* Scale candidates: 1/sqrt(X) for the usual X. */
static int scale_candidates(const vs_group *g, alt *list, int n) {
  const double dk = (double)g->d_key;
  const double cur = (double)g->scale;
  double xs[32];
  int nx = 0;
  if (g->op == VS_LAYER_STEP)
    xs[nx++] = (double)g->n_heads * dk; /* d_model = H d_key, the paper's */
  static const int heads[] = {2, 4, 8, 16, 32, 64, 3, 6, 12, 128};
  for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++)
    xs[nx++] = heads[h] * dk;
  xs[nx++] = dk;               /* scale ignored: the default */
  xs[nx++] = 1;                /* no scaling */
  xs[nx++] = dk * dk;          /* 1/d_key */
  xs[nx++] = (double)g->d_value;
  for (int i = 0; i < nx; i++) {
    double s = 1 / sqrt(xs[i]);
    if (fabs((double)(float)s - cur) <= 1e-6 * fabs(cur))
      continue;
    n = add(list, n, A_SCALE, (double)(float)s);
  }
  return n;
}

/* Does any expected output hold a NaN? Does got hold a non-finite value
 * where the expected value is finite? */
static bool expects_nan(const cf_case *c) {
  const vs_outputs *outs = &c->test->outputs;
  for (int o = 0; o < outs->count; o++) {
    const double *e = outs->items[o].expected.data;
    size_t n = vs_tensor_count(&outs->items[o].expected);
    for (size_t i = 0; e && i < n; i++)
      if (isnan(e[i]))
        return true;
  }
  return false;
}

static bool got_nonfinite(const cf_case *c, const cf_outputs *got) {
  const vs_outputs *outs = &c->test->outputs;
  for (int o = 0; o < outs->count; o++) {
    const vs_tensor *t = &outs->items[o].expected;
    const double *e = t->data;
    for (int k = 0; k < got->n; k++)
      if (strcmp(got->names[k], t->name) == 0 && got->data[k] &&
          got->count[k] == vs_tensor_count(t))
        for (size_t i = 0; e && i < got->count[k]; i++)
          if (!isfinite(got->data[k][i]) && isfinite(e[i]))
            return true;
  }
  return false;
}

static int candidates(const cf_case *c, const cf_outputs *got, alt *list) {
  const vs_group *g = c->group;
  const vs_op op = g->op;
  const bool seg = op == VS_SEGMENT_STEP || op == VS_LAYER_STEP;
  const bool delta = op == VS_UPDATE_DELTA || (seg && g->rule == INFINI_UPDATE_DELTA);
  int n = 0;
  if (op == VS_MIX || seg)
    n = add(list, n, A_GATE_SWAP, 0);
  if (seg) {
    n = add(list, n, A_UNMIXED_FIRST, 0);
    n = add(list, n, A_UPDATE_FIRST, 0);
  }
  if (op_has_attention(op))
    n = scale_candidates(g, list, n);
  if (op_has_retrieve(op) && (op != VS_UPDATE_DELTA || delta)) {
    for (size_t i = 0; i < sizeof eps_candidates / sizeof eps_candidates[0]; i++)
      n = add(list, n, A_EPS, eps_candidates[i]);
    if (g->eps != 0)
      n = add(list, n, A_EPS_IGNORED, 0);
  }
  if (op_has_update(op)) {
    n = add(list, n, A_KV_SWAP_MEM, 0);
    if (delta) {
      n = add(list, n, A_DELTA_FROM_UPDATED, 0);
      n = add(list, n, A_Z_FROZEN, 0);
      n = add(list, n, A_DELTA_SEQUENTIAL, 0);
      n = add(list, n, A_RULE_LINEAR, 0);
      if (seg)
        n = add(list, n, A_DELTA_SIGMA_Q, 0);
    } else {
      n = add(list, n, A_RULE_DELTA, 0);
    }
    n = add(list, n, A_DROP_LAST, 0);
  }
  if (op_has_retrieve(op) && op != VS_UPDATE_DELTA) {
    n = add(list, n, A_ZERO_ROW_NAN, 0);
    n = add(list, n, A_NO_NORMALISER, 0);
    n = add(list, n, A_DEN_PLUS1, 0);
    n = add(list, n, A_Z_PER_COLUMN, 0);
    for (size_t i = 0; i < 4; i++)
      n = add(list, n, A_CLAMP, eps_candidates[i]);
  }
  if (op_has_attention(op)) {
    n = add(list, n, A_NO_MASK, 0);
    n = add(list, n, A_MASK_STRICT, 0);
    n = add(list, n, A_MASK_PLUS1, 0);
    n = add(list, n, A_KV_SWAP_ATTN, 0);
    n = add(list, n, A_SOFTMAX_COLS, 0);
  }
  if (seg) {
    n = add(list, n, A_MEM_RESET, 0);
    n = add(list, n, A_Z0_INIT, 0);
  }
  if (op == VS_LAYER_STEP && g->n_kv_heads > 1 && g->n_heads > g->n_kv_heads)
    n = add(list, n, A_GQA_MOD, 0);
  if (op == VS_LAYER_STEP && g->n_heads > 1)
    n = add(list, n, A_ONE_BETA, 0);
  if (op_has_sigma(op)) {
    n = add(list, n, A_SIGMA_ELU, 0);
    n = add(list, n, A_SIGMA_EXP, 0);
  }
  if (op_has_attention(op) && got_nonfinite(c, got))
    n = add(list, n, A_SOFTMAX_NOMAX, 0);
  if (expects_nan(c))
    n = add(list, n, A_NAN_TO_ZERO, 0);
  return n;
}

/* ---- messages ---------------------------------------------------------------- */

static void describe_x(double x, const vs_group *g, char *out, size_t len) {
  const double dk = (double)g->d_key;
  double h = x / dk;
  bool is_h = fabs(h - floor(h + 0.5)) < 1e-6 && h >= 2;
  if (fabs(x - 1) < 1e-9)
    snprintf(out, len, "1, no scaling");
  else if (fabs(x - dk) < 1e-6 * x)
    snprintf(out, len, "%g = d_key, the default: the scale parameter is ignored", x);
  else if (is_h && g->op == VS_LAYER_STEP && fabs(h - (double)g->n_heads) < 1e-6)
    snprintf(out, len, "%g = H * d_key = d_model, the paper's", x);
  else if (is_h)
    snprintf(out, len, "%g = %g * d_key, d_model with H = %g%s", x, floor(h + 0.5),
             floor(h + 0.5), fabs(x - dk * dk) < 1e-6 * x ? ", or d_key^2" : "");
  else if (fabs(x - dk * dk) < 1e-6 * x)
    snprintf(out, len, "%g = d_key^2, i.e. scale 1/d_key", x);
  else
    snprintf(out, len, "%.6g", x);
}

static char *message(const cf_case *c, const alt *a) {
  cf_buf b = {0};
  const vs_group *g = c->group;
  cf_buf_printf(&b, "looks like: ");
  switch (a->kind) {
  case A_EPS:
    cf_buf_printf(&b, "eps added: the retrieval denominator carries an extra %g "
                  "(eps = %g was asked); see docs/spec.md S4", a->param, (double)g->eps);
    break;
  case A_EPS_IGNORED:
    cf_buf_printf(&b, "eps ignored (taken as 0, %g was asked); see docs/spec.md S4",
                  (double)g->eps);
    break;
  case A_CLAMP:
    cf_buf_printf(&b, "denominator clamped, max(sigma(q).z, %g), instead of + eps; "
                  "see docs/spec.md S4 (note)", a->param);
    break;
  case A_DEN_PLUS1:
    cf_buf_printf(&b, "retrieval divides by sigma(q).z + eps + 1; see docs/spec.md (7), S4");
    break;
  case A_NO_NORMALISER:
    cf_buf_printf(&b, "retrieval not normalised: sigma(q) M without the division by "
                  "sigma(q).z; see docs/spec.md (7)");
    break;
  case A_Z_PER_COLUMN:
    cf_buf_printf(&b, "z broadcast per column: A_mem[i][j] divided by z[j] instead of "
                  "sigma(q_i).z; see docs/spec.md S4");
    break;
  case A_ZERO_ROW_NAN:
    cf_buf_printf(&b, "0/0 not handled: rows with a zero denominator (an empty memory) "
                  "are NaN instead of 0; see docs/spec.md S5");
    break;
  case A_SIGMA_ELU:
    cf_buf_printf(&b, "feature map ELU(x) without the + 1; see docs/spec.md (F)");
    break;
  case A_SIGMA_EXP:
    cf_buf_printf(&b, "feature map exp(x) for every x (x + 1 is the branch for x > 0); "
                  "see docs/spec.md (F)");
    break;
  case A_SCALE: {
    char xs[128];
    double x = 1 / (a->param * a->param);
    describe_x(x, g, xs, sizeof xs);
    cf_buf_printf(&b, "scale differs: matches %.9g = 1/sqrt(%s) instead of the %.9g "
                  "asked; see docs/spec.md S11", a->param, xs, (double)g->scale);
    break;
  }
  case A_NO_MASK:
    cf_buf_printf(&b, "no causal mask: tokens attend to later tokens of the segment; "
                  "see docs/spec.md S10");
    break;
  case A_MASK_STRICT:
    cf_buf_printf(&b, "causal mask off by one (j < i: a token does not see itself); "
                  "see docs/spec.md S10");
    break;
  case A_MASK_PLUS1:
    cf_buf_printf(&b, "causal mask off by one (j <= i + 1: a token sees the next one); "
                  "see docs/spec.md S10");
    break;
  case A_KV_SWAP_ATTN:
    cf_buf_printf(&b, "K and V swapped in local attention (scores q.v, output from K); "
                  "see docs/spec.md (6)");
    break;
  case A_SOFTMAX_COLS:
    cf_buf_printf(&b, "softmax normalised over the wrong axis (over queries, per key); "
                  "see docs/spec.md S10");
    break;
  case A_SOFTMAX_NOMAX:
    cf_buf_printf(&b, "softmax without subtracting the row maximum (exp overflows "
                  "in float32 for scores above 88.7); see docs/spec.md S10");
    break;
  case A_NAN_TO_ZERO:
    cf_buf_printf(&b, "NaN replaced by 0 (the result is right elsewhere); NaN must "
                  "propagate, see docs/spec.md S16");
    break;
  case A_GATE_SWAP:
    cf_buf_printf(&b, "gate sides swapped (sigmoid(beta) weighs A_dot); see docs/spec.md S12");
    break;
  case A_UNMIXED_FIRST:
    cf_buf_printf(&b, "first segment unmixed (A = A_dot while the memory is empty); "
                  "see docs/spec.md S7");
    break;
  case A_UPDATE_FIRST:
    cf_buf_printf(&b, "update before retrieval (the memory already holds the segment "
                  "it is asked about); see docs/spec.md S9");
    break;
  case A_MEM_RESET:
    cf_buf_printf(&b, "memory reset at every segment (state not carried over); "
                  "see docs/spec.md S13");
    break;
  case A_Z0_INIT:
    cf_buf_printf(&b, "initial z = 1/d_key instead of 0; see docs/spec.md S3");
    break;
  case A_KV_SWAP_MEM:
    cf_buf_printf(&b, "K and V swapped in the memory update (M += sigma(V)^T K); "
                  "see docs/spec.md (8)");
    break;
  case A_DROP_LAST:
    cf_buf_printf(&b, "the segment's last token is missing from the memory update; "
                  "see docs/spec.md (8)");
    break;
  case A_RULE_LINEAR:
    cf_buf_printf(&b, "linear update (8) where the delta rule (9) was asked; "
                  "see docs/spec.md S8");
    break;
  case A_RULE_DELTA:
    cf_buf_printf(&b, "delta update (9) where the linear rule (8) was asked; "
                  "see docs/spec.md (8)");
    break;
  case A_DELTA_FROM_UPDATED:
    cf_buf_printf(&b, "delta prediction from the updated memory (M_s, z_s instead of "
                  "M_{s-1}, z_{s-1}); see docs/spec.md S8");
    break;
  case A_DELTA_SEQUENTIAL:
    cf_buf_printf(&b, "delta prediction from a memory updated token by token; "
                  "see docs/spec.md S8");
    break;
  case A_DELTA_SIGMA_Q:
    cf_buf_printf(&b, "delta prediction with sigma(Q) instead of sigma(K); "
                  "see docs/spec.md S8");
    break;
  case A_Z_FROZEN:
    cf_buf_printf(&b, "z not updated in delta mode; see docs/spec.md S8");
    break;
  case A_GQA_MOD:
    cf_buf_printf(&b, "kv head grouping h mod H_kv instead of floor(h / G); "
                  "see docs/spec.md S14");
    break;
  case A_ONE_BETA:
    cf_buf_printf(&b, "one beta for every head (beta[0]); see docs/spec.md S14");
    break;
  default:
    cf_buf_printf(&b, "an unknown difference");
  }
  return cf_buf_take(&b);
}

/* ---- scale fit ---------------------------------------------------------------- */

static double out_sq_error(const cf_case *c, const cf_outputs *got, const model *md) {
  alt_outputs o = {0};
  compute(c, md, &o);
  double err = 0;
  for (int i = 0; i < o.n; i++) {
    if (strcmp(o.names[i], "out") != 0)
      continue;
    for (int k = 0; k < got->n; k++)
      if (strcmp(got->names[k], "out") == 0 && got->data[k] && got->count[k] == o.count[i])
        for (size_t e = 0; e < o.count[i]; e++) {
          double d = (double)got->data[k][e] - o.data[i][e];
          if (isfinite(d))
            err += d * d;
        }
  }
  alt_free(&o);
  return err;
}

/* Golden-section search of log(scale) in [scale/64, scale*64]. */
static double fit_scale(const cf_case *c, const cf_outputs *got, const model *base) {
  const double phi = 0.6180339887498949;
  double cur = fabs((double)base->scale) > 0 ? fabs((double)base->scale) : 1;
  double lo = log(cur / 64), hi = log(cur * 64);
  model md = *base;
  md.a.kind = A_SCALE;
  double x1 = hi - phi * (hi - lo), x2 = lo + phi * (hi - lo);
  md.a.param = exp(x1);
  double f1 = out_sq_error(c, got, &md);
  md.a.param = exp(x2);
  double f2 = out_sq_error(c, got, &md);
  for (int it = 0; it < 50 && hi - lo > 1e-7; it++) {
    if (f1 < f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - phi * (hi - lo);
      md.a.param = exp(x1);
      f1 = out_sq_error(c, got, &md);
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + phi * (hi - lo);
      md.a.param = exp(x2);
      f2 = out_sq_error(c, got, &md);
    }
  }
  return exp((lo + hi) / 2) * (base->scale < 0 ? -1 : 1);
}

/* ---- the search ----------------------------------------------------------------- */

/* Per operator: alternatives found so far, full searches without a match;
 * and the time spent on full searches (per backend). */
static struct {
  alt found[8];
  int n_found;
  int fruitless;
} memo[VS_OP_COUNT];
static double full_search_seconds;

void cf_diagnose_reset(void) {
  memset(memo, 0, sizeof memo);
  full_search_seconds = 0;
}

static void remember(vs_op op, const alt *a) {
  for (int i = 0; i < memo[op].n_found; i++)
    if (memo[op].found[i].kind == a->kind && memo[op].found[i].param == a->param)
      return;
  if (memo[op].n_found < 8)
    memo[op].found[memo[op].n_found++] = *a;
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "looks like: A", or "looks like: A; or: B" when a different kind of
 * difference explains the outputs as well. */
static char *verdict(const cf_case *c, const alt *best, const alt *second) {
  char *m = message(c, best);
  if (!second)
    return m;
  char *m2 = message(c, second);
  cf_buf b = {0};
  cf_buf_printf(&b, "%s; or: %s", m, m2 + strlen("looks like: "));
  free(m);
  free(m2);
  return cf_buf_take(&b);
}

static char *diagnose(const cf_case *c, tol_profile profile, const cf_outputs *got) {
  const vs_group *g = c->group;
  model md = {{A_NONE, 0}, g->eps, g->scale, g->rule};
  if (g->op == VS_UPDATE_DELTA)
    md.rule = INFINI_UPDATE_DELTA;
  else if (g->op == VS_UPDATE_LINEAR)
    md.rule = INFINI_UPDATE_LINEAR;

  /* The ones already seen for this operator first: the best of them, if it
   * matches well. */
  alt best = {A_NONE, 0}, second = {A_NONE, 0};
  double best_r = INFINITY, second_r = INFINITY;
  for (int i = 0; i < memo[g->op].n_found; i++) {
    md.a = memo[g->op].found[i];
    double r = try_alt(c, profile, got, &md);
    if (r < best_r)
      best_r = r, best = md.a;
  }
  if (best_r <= 1)
    return message(c, &best);
  if (memo[g->op].fruitless >= DIAG_FULL_SEARCHES ||
      full_search_seconds > DIAG_BUDGET_SECONDS)
    return best_r <= DIAG_RATIO ? message(c, &best) : NULL;

  /* A full search: every applicable alternative, the best match wins. */
  const double t0 = seconds();
  alt list[MAX_CANDIDATES];
  int n = candidates(c, got, list);
  best_r = INFINITY;
  for (int i = 0; i < n; i++) {
    md.a = list[i];
    double r = try_alt(c, profile, got, &md);
    if (r < best_r) {
      if (best.kind != list[i].kind)
        second = best, second_r = best_r;
      best_r = r, best = list[i];
    } else if (r < second_r && list[i].kind != best.kind) {
      second_r = r, second = list[i];
    }
    if (best_r <= 0.05)
      break; /* an unmistakable match */
  }
  if (best_r > DIAG_RATIO && op_has_attention(g->op)) {
    model base = md;
    base.a.kind = A_NONE;
    double sc = fit_scale(c, got, &base);
    md.a = (alt){A_SCALE, (double)(float)sc};
    double r;
    if (fabs(sc - (double)g->scale) > 1e-6 * fabs((double)g->scale) &&
        (r = try_alt(c, profile, got, &md)) <= DIAG_RATIO)
      best_r = r, best = md.a, second_r = INFINITY;
  }
  full_search_seconds += seconds() - t0;
  if (best_r > DIAG_RATIO) {
    memo[g->op].fruitless++;
    return NULL;
  }
  remember(g->op, &best);
  return verdict(c, &best, second_r <= 1 && second.kind != best.kind ? &second : NULL);
}

char *cf_diagnose(const cf_case *c, tol_profile profile, const cf_outputs *got) {
  char *d = diagnose(c, profile, got);
  inputs_release();
  return d;
}

/* ---- for the tests: the model's outputs under a named alternative -------- */

static const struct {
  const char *name;
  alt_kind kind;
} alt_names[] = {
    {"none", A_NONE}, {"eps", A_EPS}, {"eps_ignored", A_EPS_IGNORED},
    {"clamp", A_CLAMP}, {"den_plus1", A_DEN_PLUS1}, {"no_normaliser", A_NO_NORMALISER},
    {"z_per_column", A_Z_PER_COLUMN}, {"zero_row_nan", A_ZERO_ROW_NAN},
    {"sigma_elu", A_SIGMA_ELU}, {"sigma_exp", A_SIGMA_EXP}, {"scale", A_SCALE},
    {"no_mask", A_NO_MASK}, {"mask_strict", A_MASK_STRICT},
    {"mask_plus1", A_MASK_PLUS1}, {"kv_swap_attn", A_KV_SWAP_ATTN},
    {"softmax_cols", A_SOFTMAX_COLS}, {"softmax_nomax", A_SOFTMAX_NOMAX},
    {"gate_swap", A_GATE_SWAP}, {"first_unmixed", A_UNMIXED_FIRST},
    {"update_first", A_UPDATE_FIRST}, {"mem_reset", A_MEM_RESET},
    {"z0_init", A_Z0_INIT}, {"kv_swap_mem", A_KV_SWAP_MEM}, {"drop_last", A_DROP_LAST},
    {"rule_linear", A_RULE_LINEAR}, {"rule_delta", A_RULE_DELTA},
    {"delta_from_updated", A_DELTA_FROM_UPDATED},
    {"delta_sequential", A_DELTA_SEQUENTIAL}, {"delta_sigma_q", A_DELTA_SIGMA_Q},
    {"z_frozen", A_Z_FROZEN}, {"gqa_mod", A_GQA_MOD}, {"one_beta", A_ONE_BETA},
    {"nan_to_zero", A_NAN_TO_ZERO},
};

bool cf_diagnose_model(const cf_case *c, const char *name, cf_outputs *out) {
  char base[64];
  double param = 0;
  const char *colon = strchr(name, ':');
  size_t len = colon ? (size_t)(colon - name) : strlen(name);
  if (len >= sizeof base)
    return false;
  memcpy(base, name, len);
  base[len] = '\0';
  if (colon)
    param = strtod(colon + 1, NULL);
  const vs_group *g = c->group;
  model md = {{A_NONE, param}, g->eps, g->scale, g->rule};
  if (g->op == VS_UPDATE_DELTA)
    md.rule = INFINI_UPDATE_DELTA;
  else if (g->op == VS_UPDATE_LINEAR)
    md.rule = INFINI_UPDATE_LINEAR;
  size_t k;
  for (k = 0; k < sizeof alt_names / sizeof alt_names[0]; k++)
    if (strcmp(alt_names[k].name, base) == 0)
      break;
  if (k == sizeof alt_names / sizeof alt_names[0])
    return false;
  md.a.kind = alt_names[k].kind;
  if (md.a.kind == A_SCALE)
    md.a.param = (double)(float)param;
  alt_outputs o = {0};
  if (md.a.kind == A_NAN_TO_ZERO) {
    md.a.kind = A_NONE;
    compute(c, &md, &o);
    for (int i = 0; i < o.n; i++)
      for (size_t e = 0; e < o.count[i]; e++)
        if (isnan(o.data[i][e]))
          o.data[i][e] = 0;
  } else {
    compute(c, &md, &o);
  }
  inputs_release();
  out->n = o.n;
  for (int i = 0; i < o.n; i++) {
    out->names[i] = o.names[i];
    out->count[i] = o.count[i];
    out->missing[i] = NULL;
    out->data[i] = cf_xmalloc(o.count[i] * sizeof(float));
    for (size_t e = 0; e < o.count[i]; e++)
      out->data[i][e] = (float)o.data[i][e];
  }
  alt_free(&o);
  return true;
}

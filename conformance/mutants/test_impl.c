/*
 * conformance/mutants/test_impl.c - checks impl.c itself, without the
 * runner or the golden vectors, against the double oracle (ref/ compiled
 * in double):
 *
 *  - every correct VARIANT agrees with the oracle on every operator within
 *    a small normwise tolerance (fp32 variants: 2e-5; tf32: 1e-2; bf16 and fp16 storage: 5e-2), so a bug
 *    in impl.c's correct path is caught here and not mistaken for a
 *    discriminating suite;
 *  - every MUTANT differs from the oracle (normwise error > 1e-3, or a NaN
 *    where there is none or the reverse) on at least one operator of the
 *    scenarios below, so every mutation branch is live.
 *
 * Output is TAP.
 */
#include "config.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/mutants/impl.h"

static cat_config cfg; /* the configuration under test */
#include "ref/ref.h"
#include "tests/tap.h"

/* ---- data ------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t next_u64(void) { /* splitmix64 */
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static float uniform(float lo, float hi) {
  return lo + (hi - lo) * ((float)(next_u64() >> 40) * (1.0f / 16777216.0f));
}

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) {
    printf("Bail out! out of memory\n");
    exit(99);
  }
  return p;
}

/* rows x ld floats, every element (padding included) uniform in [lo, hi). */
static float *random_matrix(ptrdiff_t rows, ptrdiff_t ld, float lo, float hi) {
  float *x = xmalloc((size_t)(rows * ld) * sizeof *x);
  for (ptrdiff_t i = 0; i < rows * ld; i++)
    x[i] = uniform(lo, hi);
  return x;
}

static float *copy_f(const float *x, size_t count) {
  float *y = xmalloc(count * sizeof *y);
  memcpy(y, x, count * sizeof *y);
  return y;
}

static double *to_d(const float *x, size_t count) {
  double *y = xmalloc(count * sizeof *y);
  for (size_t i = 0; i < count; i++)
    y[i] = x[i];
  return y;
}

/* ---- comparison ------------------------------------------------------- */

/* Normwise error of got against want over a rows x cols view: max |d| /
 * max |want|; +inf when a NaN (or infinity) does not match. */
static double error_of(ptrdiff_t rows, ptrdiff_t cols, const float *got,
                       ptrdiff_t ldg, const double *want, ptrdiff_t ldw) {
  double max_d = 0, max_w = 0;
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      const double g = got[i * ldg + j], w = want[i * ldw + j];
      if (isnan(g) || isnan(w)) {
        if (isnan(g) != isnan(w))
          return INFINITY;
        continue;
      }
      if (isinf(g) || isinf(w)) {
        if (g != w)
          return INFINITY;
        continue;
      }
      max_d = fmax(max_d, fabs(g - w));
      max_w = fmax(max_w, fabs(w));
    }
  return max_d / fmax(max_w, 1e-30);
}

/* ---- scenarios -------------------------------------------------------- */

typedef struct scenario {
  const char *name;
  ptrdiff_t n, dk, dv, H, H_kv, pad; /* pad: extra row stride of every input */
  float lo, hi;                      /* range of q, k, v */
  float scale, eps, beta;
  double mem_factor;                 /* scales the starting M, z */
  bool nan_in_q;                     /* q[1][0] = NaN */
  bool for_variants;                 /* also used for the variant checks */
} scenario;

static const scenario scenarios[] = {
    /* d_key != d_value, strided, a non-default scale */
    {"typical", 7, 5, 3, 4, 2, 3, -1.5f, 1.5f, 0.37f, 0, 0.3f, 1, false, true},
    /* square heads (K and V interchangeable in shape), packed */
    {"square", 9, 4, 4, 2, 2, 0, -1, 1, 0.5f, 0, -0.8f, 1, false, true},
    /* longer rows, to give the summation variants something to reorder */
    {"long", 40, 24, 16, 2, 1, 1, -1, 1, 0.2041241f, 1e-3f, 1.2f, 1, false, true},
    /* scores in the thousands: only a max-subtracting softmax survives */
    {"large_logits", 6, 4, 4, 2, 1, 0, -30, 30, 1.0f, 0, 0.1f, 1, false, false},
    /* a tiny memory: denominators near 1e-5, where 1e-6 shows */
    {"small_memory", 5, 4, 4, 2, 2, 0, -1, 1, 0.5f, 0, 0.5f, 1e-6, false, true},
    /* the same tiny memory with an eps of its size: eps ignored shows */
    {"eps_tiny_memory", 5, 4, 4, 2, 2, 0, -1, 1, 0.5f, 1e-5f, 0.5f, 1e-6, false, true},
    /* every sigma subnormal: den subnormal, where only dividing stays
     * finite (S18) */
    {"subnormal_den", 6, 4, 4, 2, 2, 0, -100, -96, 0.5f, 0, 0.5f, 1, false, false},
    /* a NaN query element: its row stays NaN (S16) */
    {"nan_query", 5, 4, 4, 2, 2, 0, -1, 1, 0.5f, 0, 0.5f, 1, true, true},
};
#define N_SCENARIOS (sizeof scenarios / sizeof scenarios[0])

enum { OP_FEATURE_MAP, OP_RETRIEVE, OP_UPDATE_LINEAR, OP_UPDATE_DELTA, OP_MIX,
       OP_LOCAL_ATTENTION, OP_SEGMENT_STEP, OP_LAYER_STEP, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
    "feature_map", "retrieve", "update_linear", "update_delta", "mix",
    "local_attention", "segment_step", "layer_step"};

#define SEGMENTS 3

/* A memory of one head, as a sum of sigma(k_t)^T v_t over random tokens
 * (built in double, then scaled and rounded), so z > 0 and M consistent. */
static void make_memory(const scenario *s, float *m, float *z) {
  const ptrdiff_t dk = s->dk, dv = s->dv, tokens = 8;
  for (ptrdiff_t c = 0; c < dk; c++) {
    double zc = 0;
    double row[64] = {0};
    for (ptrdiff_t t = 0; t < tokens; t++) {
      const double sk = infini_ref_sigma_f64(uniform(-1, 1));
      zc += sk;
      for (ptrdiff_t j = 0; j < dv; j++)
        row[j] += sk * uniform(-1, 1);
    }
    for (ptrdiff_t j = 0; j < dv; j++)
      m[c * dv + j] = (float)(row[j] * s->mem_factor);
    z[c] = (float)(zc * s->mem_factor);
  }
}

/* Worst error of each operator on one scenario, for the current config. */
static void run_scenario(const scenario *s, uint64_t seed, double err[OP_COUNT]) {
  const ptrdiff_t n = s->n, dk = s->dk, dv = s->dv, pad = s->pad;
  const ptrdiff_t ldq = dk + pad, ldk = dk + pad, ldv = dv + pad;
  const infini_head_shape shape = {n, dk, dv};
  rng_state = seed; /* same data for every configuration */

  float *q = random_matrix(n, ldq, s->lo, s->hi);
  float *k = random_matrix(n, ldk, s->lo, s->hi);
  float *v = random_matrix(n, ldv, s->lo, s->hi);
  if (s->nan_in_q)
    q[1 * ldq + 0] = NAN;
  float *m0 = xmalloc((size_t)(dk * dv) * sizeof(float));
  float *z0 = xmalloc((size_t)dk * sizeof(float));
  make_memory(s, m0, z0);
  double *qd = to_d(q, (size_t)(n * ldq)), *kd = to_d(k, (size_t)(n * ldk));
  double *vd = to_d(v, (size_t)(n * ldv));

  void *work = NULL; /* impl.c takes its scratch from malloc */
  double *work_d = xmalloc(infini_ref_work_bytes_f64(&shape));
  float *out = xmalloc((size_t)(n * (dv > dk ? dv : dk)) * sizeof(float));
  double *out_d = xmalloc((size_t)(n * (dv > dk ? dv : dk)) * sizeof(double));

  /* feature map of q */
  dev_feature_map_f32(&cfg, n, dk, q, ldq, out, dk);
  infini_ref_feature_map_f64(n, dk, qd, ldq, out_d, dk);
  err[OP_FEATURE_MAP] = error_of(n, dk, out, dk, out_d, dk);

  /* retrieval from (m0, z0) */
  {
    double *md = to_d(m0, (size_t)(dk * dv)), *zd = to_d(z0, (size_t)dk);
    dev_retrieve_f32(&cfg, &shape, q, ldq, m0, dv, z0, s->eps, out, dv);
    infini_ref_retrieve_f64(&shape, qd, ldq, md, dv, zd, s->eps, out_d, dv);
    err[OP_RETRIEVE] = error_of(n, dv, out, dv, out_d, dv);
    free(md), free(zd);
  }

  /* both updates of (m0, z0) */
  for (int rule = 0; rule < 2; rule++) {
    float *m = copy_f(m0, (size_t)(dk * dv)), *z = copy_f(z0, (size_t)dk);
    double *md = to_d(m0, (size_t)(dk * dv)), *zd = to_d(z0, (size_t)dk);
    if (rule == 0) {
      dev_update_linear_f32(&cfg, &shape, k, ldk, v, ldv, m, dv, z);
      infini_ref_update_linear_f64(&shape, kd, ldk, vd, ldv, md, dv, zd);
    } else {
      dev_update_delta_f32(&cfg, &shape, k, ldk, v, ldv, m, dv, z, s->eps, work);
      infini_ref_update_delta_f64(&shape, kd, ldk, vd, ldv, md, dv, zd, s->eps, work_d);
    }
    err[OP_UPDATE_LINEAR + rule] =
        fmax(error_of(dk, dv, m, dv, md, dv), error_of(1, dk, z, dk, zd, dk));
    free(m), free(z), free(md), free(zd);
  }

  /* mix of two random n x d_value blocks (v and k's first columns) */
  {
    const ptrdiff_t cols = dv < dk ? dv : dk;
    dev_mix_f32(&cfg, n, cols, s->beta, v, ldv, k, ldk, out, cols);
    infini_ref_mix_f64(n, cols, s->beta, vd, ldv, kd, ldk, out_d, cols);
    err[OP_MIX] = error_of(n, cols, out, cols, out_d, cols);
  }

  /* local attention */
  dev_local_attention_f32(&cfg, &shape, q, ldq, k, ldk, v, ldv, s->scale, out, dv, work);
  infini_ref_local_attention_f64(&shape, qd, ldq, kd, ldk, vd, ldv, s->scale,
                                 out_d, dv, NULL);
  err[OP_LOCAL_ATTENTION] = error_of(n, dv, out, dv, out_d, dv);

  /* segment step: SEGMENTS segments from the empty memory, both rules;
   * segment s uses the rows of q, k, v rotated by s. */
  err[OP_SEGMENT_STEP] = 0;
  for (int rule = 0; rule < 2; rule++) {
    float *m = calloc((size_t)(dk * dv), sizeof(float));
    float *z = calloc((size_t)dk, sizeof(float));
    double *md = calloc((size_t)(dk * dv), sizeof(double));
    double *zd = calloc((size_t)dk, sizeof(double));
    if (!m || !z || !md || !zd)
      exit(99);
    infini_step_params p = {rule ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR,
                            s->beta, s->eps, s->scale};
    for (int seg = 0; seg < SEGMENTS; seg++) {
      const ptrdiff_t rows = n - seg; /* segments of shrinking length */
      const infini_head_shape sh = {rows, dk, dv};
      dev_segment_step_f32(&cfg, &sh, &p, q + seg * ldq, ldq, k, ldk, v + seg * ldv, ldv,
                       m, dv, z, out, dv, work);
      infini_ref_segment_step_f64(&sh, &p, qd + seg * ldq, ldq, kd, ldk,
                                  vd + seg * ldv, ldv, md, dv, zd, out_d, dv,
                                  work_d);
      err[OP_SEGMENT_STEP] = fmax(err[OP_SEGMENT_STEP], error_of(rows, dv, out, dv, out_d, dv));
    }
    err[OP_SEGMENT_STEP] = fmax(err[OP_SEGMENT_STEP],
                                fmax(error_of(dk, dv, m, dv, md, dv),
                                     error_of(1, dk, z, dk, zd, dk)));
    free(m), free(z), free(md), free(zd);
  }

  /* layer step: H query heads, H_kv kv heads, distinct betas */
  err[OP_LAYER_STEP] = 0;
  {
    const ptrdiff_t H = s->H, Hk = s->H_kv;
    const ptrdiff_t lq = H * dk + pad, lk = Hk * dk + pad, lv = Hk * dv + pad;
    const ptrdiff_t lo = H * dv;
    float *lqf = random_matrix(n, lq, s->lo, s->hi);
    float *lkf = random_matrix(n, lk, s->lo, s->hi);
    float *lvf = random_matrix(n, lv, s->lo, s->hi);
    if (s->nan_in_q)
      lqf[1 * lq + 0] = NAN;
    double *lqd = to_d(lqf, (size_t)(n * lq)), *lkd = to_d(lkf, (size_t)(n * lk));
    double *lvd = to_d(lvf, (size_t)(n * lv));
    float *beta = xmalloc((size_t)H * sizeof(float));
    for (ptrdiff_t h = 0; h < H; h++)
      beta[h] = s->beta + 0.9f * (float)h - 0.4f * (float)(h * h);
    float *lout = xmalloc((size_t)(n * lo) * sizeof(float));
    double *lout_d = xmalloc((size_t)(n * lo) * sizeof(double));
    for (int rule = 0; rule < 2; rule++) {
      const infini_layer_config c = {H, Hk, dk, dv,
                                     rule ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR,
                                     s->eps, s->scale};
      float *m = calloc((size_t)(Hk * dk * dv), sizeof(float));
      float *z = calloc((size_t)(Hk * dk), sizeof(float));
      double *md = calloc((size_t)(Hk * dk * dv), sizeof(double));
      double *zd = calloc((size_t)(Hk * dk), sizeof(double));
      if (!m || !z || !md || !zd)
        exit(99);
      for (int seg = 0; seg < SEGMENTS; seg++) {
        const ptrdiff_t rows = n - seg;
        dev_layer_step_f32(&cfg, &c, rows, lqf + seg * lq, lq, lkf, lk, lvf + seg * lv, lv,
                       beta, m, z, lout, lo, work);
        infini_ref_layer_step_f64(&c, rows, lqd + seg * lq, lq, lkd, lk,
                                  lvd + seg * lv, lv, beta, md, zd, lout_d, lo,
                                  work_d);
        err[OP_LAYER_STEP] = fmax(err[OP_LAYER_STEP], error_of(rows, lo, lout, lo, lout_d, lo));
      }
      err[OP_LAYER_STEP] = fmax(err[OP_LAYER_STEP],
                                fmax(error_of(Hk * dk, dv, m, dv, md, dv),
                                     error_of(1, Hk * dk, z, Hk * dk, zd, Hk * dk)));
      free(m), free(z), free(md), free(zd);
    }
    free(lqf), free(lkf), free(lvf), free(lqd), free(lkd), free(lvd);
    free(beta), free(lout), free(lout_d);
  }

  free(q), free(k), free(v), free(m0), free(z0), free(qd), free(kd), free(vd);
  free(work_d), free(out), free(out_d);
}

/* ---- main ------------------------------------------------------------- */

/* The variants and bug instances of the catalogue that concern the
 * operators (model-level ones are test-model-mutants'). */
static bool operator_entry(const cat_entry *e) { return (e->ops & CAT_OPS) != 0; }

static void check_variant(cat_id id) {
  const cat_entry *e = cat_get(id);
  /* normwise, a few unit roundoffs of the storage the profile models */
  /* (fp16 storage: the small_memory scenario's values of 1e-6 sit near
   * fp16's subnormal range, where its spacing is 6e-8) */
  const double tol = strcmp(e->profile, "tf32") == 0   ? 1e-2
                     : strcmp(e->profile, "fp32") != 0 ? 5e-2
                                                       : 2e-5;
  cat_config_init(&cfg);
  cfg.variant = id;
  double worst[OP_COUNT] = {0};
  const char *where[OP_COUNT] = {0};
  for (size_t si = 0; si < N_SCENARIOS; si++) {
    if (!scenarios[si].for_variants)
      continue;
    double err[OP_COUNT];
    run_scenario(&scenarios[si], 1000 + si, err);
    for (int op = 0; op < OP_COUNT; op++)
      if (!where[op] || err[op] > worst[op])
        worst[op] = err[op], where[op] = scenarios[si].name;
  }
  for (int op = 0; op < OP_COUNT; op++)
    tap_ok(worst[op] <= tol, "variant %s agrees with the oracle: %s (worst %.3g in %s, tolerance %.0e)",
           e->name, op_names[op], worst[op], where[op], tol);
}

/* Some operator of some scenario must be clearly wrong. */
static void check_bug(const char *spec, void *unused) {
  (void)unused;
  char err[256];
  if (!cat_config_parse(spec, &cfg, err, sizeof err)) {
    tap_ok(false, "mutant %s: %s", spec, err);
    return;
  }
  double worst = 0;
  const char *w_op = "-", *w_sc = "-";
  for (size_t si = 0; si < N_SCENARIOS; si++) {
    double e[OP_COUNT];
    run_scenario(&scenarios[si], 1000 + si, e);
    for (int op = 0; op < OP_COUNT; op++)
      if (e[op] > worst)
        worst = e[op], w_op = op_names[op], w_sc = scenarios[si].name;
  }
  tap_ok(worst > 1e-3, "mutant %s differs from the oracle (worst %.3g: %s in %s)", spec, worst,
         w_op, w_sc);
}

int main(void) {
  tap_diag("impl.c (float) against the double oracle, every operator-level entry of the catalogue");
  for (int i = 0; i < CAT_COUNT; i++) {
    const cat_entry *e = cat_get((cat_id)i);
    if (!operator_entry(e))
      continue;
    if (e->kind == CAT_VARIANT) {
      check_variant((cat_id)i);
      continue;
    }
    cat_for_instances((cat_id)i, check_bug, NULL);
  }
  cat_config_init(&cfg);
  return tap_done();
}

/*
 * simd/tests/test_simd.c - every backend in the registry against the `ref`
 * backend, operator by operator, over sizes around every tile edge, with
 * strided and unaligned buffers and guard ("rogue") values around and
 * between the rows of every operand. Prints TAP; a backend the CPU cannot
 * run is reported as "# SKIP".
 *
 * Tolerance: both sides evaluate the same formulas in float32; they differ
 * in summation order, FMA contraction and exp (Sleef u10: <= 1 ulp; the
 * polynomial of simd/isa/common.h: <= 1.01 ulp). For a sum of K terms the
 * forward error is about K * 2^-24 times the sum of |terms| (<= 129 * 6e-8
 * = 8e-6 of it here); where terms cancel (V - Pred, signed M,
 * softmax-weighted V) that magnitude is the output's scale, not the
 * element's. So an element passes when |x - ref| <= 1e-4 * (|ref| + max
 * |ref| over the output), and NaN and infinities must match exactly. An
 * indexing, masking or tail bug gives errors of order 1 relative to that
 * scale; the zero-row rule and NaN propagation are checked exactly.
 */
#include "config.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "infini.h"

static int n_test;
static int n_fail;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void ok(int cond, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s %d - ", cond ? "ok" : "not ok", ++n_test);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  if (!cond)
    n_fail++;
}

/* ---- random numbers ---------------------------------------------------- */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float urand(float lo, float hi) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return lo + (hi - lo) * (float)((rng >> 40) * (1.0 / 16777216.0));
}

/* ---- guarded matrices -------------------------------------------------- */
#define GUARD 37
static const uint32_t ROGUE = 0x7fa1b2c3u; /* a NaN nobody computes */

typedef struct gmat {
  float *base, *p;
  ptrdiff_t rows, cols, ld;
  size_t total;
} gmat;

static gmat gm_new(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t pad, ptrdiff_t off) {
  gmat g;
  g.rows = rows;
  g.cols = cols;
  g.ld = cols + pad;
  g.total = (size_t)(2 * GUARD + off + (rows - 1) * g.ld + cols);
  g.base = malloc(g.total * sizeof(float));
  if (!g.base)
    abort();
  for (size_t i = 0; i < g.total; i++)
    memcpy(g.base + i, &ROGUE, 4);
  g.p = g.base + GUARD + off;
  return g;
}
static void gm_fill(gmat *g, float lo, float hi) {
  for (ptrdiff_t i = 0; i < g->rows; i++)
    for (ptrdiff_t j = 0; j < g->cols; j++)
      g->p[i * g->ld + j] = urand(lo, hi);
}
static void gm_copy(gmat *dst, const gmat *src) {
  for (ptrdiff_t i = 0; i < src->rows; i++)
    memcpy(dst->p + i * dst->ld, src->p + i * src->ld, (size_t)src->cols * 4);
}
static gmat gm_clone(const gmat *src, ptrdiff_t pad, ptrdiff_t off) {
  gmat g = gm_new(src->rows, src->cols, pad, off);
  gm_copy(&g, src);
  return g;
}
/* Every float outside the logical matrix still holds ROGUE. */
static int gm_guards_ok(const gmat *g) {
  for (size_t i = 0; i < g->total; i++) {
    ptrdiff_t rel = (ptrdiff_t)i - (g->p - g->base);
    int inside = rel >= 0 && rel / g->ld < g->rows && rel % g->ld < g->cols;
    uint32_t bits;
    memcpy(&bits, g->base + i, 4);
    if (!inside && bits != ROGUE)
      return 0;
  }
  return 1;
}
static void gm_free(gmat *g) { free(g->base); }

/* Compare x with the reference r (see the tolerance note above). */
static int gm_close(const gmat *x, const gmat *r, double *worst) {
  double amax = 0;
  *worst = 0;
  for (ptrdiff_t i = 0; i < r->rows; i++)
    for (ptrdiff_t j = 0; j < r->cols; j++) {
      float v = r->p[i * r->ld + j];
      if (isfinite(v) && fabs(v) > amax)
        amax = fabs(v);
    }
  for (ptrdiff_t i = 0; i < r->rows; i++)
    for (ptrdiff_t j = 0; j < r->cols; j++) {
      float a = x->p[i * x->ld + j], b = r->p[i * r->ld + j];
      if (!isfinite(a) || !isfinite(b)) {
        if (isnan(a) != isnan(b) || (!isnan(a) && a != b)) {
          *worst = INFINITY;
          return 0;
        }
        continue;
      }
      double err = fabs((double)a - b) / (fabs(b) + amax + 1e-30);
      if (err > *worst)
        *worst = err;
    }
  return *worst <= 1e-4;
}

static const ptrdiff_t edges[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33,
                                  63, 64, 65, 127, 128, 129};
#define N_EDGES (sizeof edges / sizeof edges[0])

static infini_context *ref_ctx;

/* ---- per-operator checks ---------------------------------------------- */
static void check_feature_map(infini_context *ctx, const char *name) {
  for (size_t e = 0; e < N_EDGES; e++) {
    ptrdiff_t rows = 1 + (ptrdiff_t)(e % 4), cols = edges[e];
    gmat x = gm_new(rows, cols, 3, 1);
    gm_fill(&x, -6, 4);
    gmat y = gm_new(rows, cols, 5, 3), yr = gm_new(rows, cols, 0, 0);
    infini_status st = infini_feature_map(ctx, rows, cols, x.p, x.ld, y.p, y.ld);
    infini_feature_map(ref_ctx, rows, cols, x.p, x.ld, yr.p, yr.ld);
    double w;
    int c = gm_close(&y, &yr, &w);
    ok(st == INFINI_OK && c && gm_guards_ok(&y) && gm_guards_ok(&x),
       "%s feature_map %tdx%td strided (err %.2g)", name, rows, cols, w);
    /* in place */
    gmat xi = gm_clone(&x, 3, 2);
    st = infini_feature_map_inplace(ctx, rows, cols, xi.p, xi.ld);
    c = gm_close(&xi, &yr, &w);
    ok(st == INFINI_OK && c && gm_guards_ok(&xi), "%s feature_map %tdx%td in place",
       name, rows, cols);
    gm_free(&x); gm_free(&y); gm_free(&yr); gm_free(&xi);
  }
  /* Special values, then the exp branch against double exp, in ulp of the
   * float result, over 2^18 arguments: half spread evenly over [-104, 0]
   * by value, half over (-1, 0] by bit pattern with an odd stride (every
   * low bit varies: a stride of 2^10 left the low bits zero, the
   * reduction exact, and missed every argument where the polynomial summed
   * as (1 + r) + r^2 P(r) is above 1 ulp; this sweep finds 1.19-1.22 ulp
   * there). The bound is Sleef u10's contract, 1 ulp, with 2 % for the
   * polynomial's 1.010 (measured over all floats). Subnormal results: 1
   * ulp of 2^-149 (one rounding). */
  const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f,
                           -87.5f, -103.9f, -104.5f, -200.0f};
  enum { NSP = sizeof special / sizeof special[0], NS = 1 << 18 };
  float *xs = malloc(NS * sizeof *xs), *ys = malloc(NS * sizeof *ys);
  if (!xs || !ys) {
    ok(0, "%s feature_map exp sweep: out of memory", name);
    free(xs);
    free(ys);
    return;
  }
  for (uint32_t i = 0; i < NS; i++) {
    const uint32_t half = NS / 2, neg_zero = 0x80000000u;
    if (i < NSP) {
      xs[i] = special[i];
    } else if (i < half) {
      xs[i] = (float)(-104.0 * ((double)i + 0.3183) / half);
    } else {
      const uint32_t u = neg_zero + (i - half) * 8127u; /* to -0.99 */
      memcpy(&xs[i], &u, sizeof u);
    }
  }
  infini_feature_map(ctx, 1, NS, xs, NS, ys, NS);
  int bad = 0;
  double worst_ulp = 0;
  float worst_x = 0;
  for (int i = 0; i < NS; i++) {
    const double want = xs[i] > 0 ? (double)xs[i] + 1 : exp((double)xs[i]);
    const float wantf = (float)want, got = ys[i];
    if (isnan(want) || isnan(got)) {
      bad += isnan(want) != isnan(got);
      continue;
    }
    if (!isfinite(want) || xs[i] > 0) {
      bad += got != wantf;
      continue;
    }
    const double ulp = wantf >= 0x1p-126f
                           ? (double)nextafterf(wantf, INFINITY) - wantf
                           : 0x1p-149;
    const double d = fabs((double)got - want) / ulp;
    if (d > worst_ulp) {
      worst_ulp = d;
      worst_x = xs[i];
    }
    bad += d > 1.02 || signbit(got);
  }
  ok(bad == 0, "%s feature_map special values, and exp over [-104, 0] within "
     "1.02 ulp of double exp (worst %.3f ulp at %a)", name, worst_ulp,
     (double)worst_x);
  free(xs);
  free(ys);
}

static void check_mix(infini_context *ctx, const char *name) {
  const float betas[] = {0.3f, -2.5f, INFINITY, -INFINITY};
  for (size_t e = 0; e < N_EDGES; e++) {
    ptrdiff_t rows = 1 + (ptrdiff_t)(e % 3), cols = edges[e];
    float beta = betas[e % 4];
    gmat a = gm_new(rows, cols, 2, 1), d = gm_new(rows, cols, 1, 3);
    gm_fill(&a, -3, 3);
    gm_fill(&d, -3, 3);
    gmat o = gm_new(rows, cols, 4, 2), orf = gm_new(rows, cols, 0, 0);
    infini_status st = infini_mix(ctx, rows, cols, beta, a.p, a.ld, d.p, d.ld, o.p, o.ld);
    infini_mix(ref_ctx, rows, cols, beta, a.p, a.ld, d.p, d.ld, orf.p, orf.ld);
    double w;
    int c = gm_close(&o, &orf, &w);
    /* out == a_dot in place */
    gmat di = gm_clone(&d, 1, 3);
    infini_status st2 = infini_mix(ctx, rows, cols, beta, a.p, a.ld, di.p, di.ld, di.p, di.ld);
    double w2;
    int c2 = gm_close(&di, &orf, &w2);
    ok(st == INFINI_OK && st2 == INFINI_OK && c && c2 && gm_guards_ok(&o) && gm_guards_ok(&di),
       "%s mix %tdx%td beta %g (err %.2g)", name, rows, cols, (double)beta, w);
    gm_free(&a); gm_free(&d); gm_free(&o); gm_free(&orf); gm_free(&di);
  }
}

/* Shapes: each dimension swept over the edges with the others fixed. */
static infini_head_shape shape_at(size_t i) {
  size_t e = i % N_EDGES;
  switch (i / N_EDGES) {
  case 0: return (infini_head_shape){edges[e], 17, 33};
  case 1: return (infini_head_shape){9, edges[e], 31};
  default: return (infini_head_shape){13, 16, edges[e]};
  }
}
#define N_SHAPES (3 * N_EDGES)

static void check_retrieve(infini_context *ctx, const char *name) {
  for (size_t i = 0; i < N_SHAPES + 2; i++) {
    int zero_mem = i == N_SHAPES, nan_row = i == N_SHAPES + 1;
    infini_head_shape s = i < N_SHAPES ? shape_at(i) : (infini_head_shape){37, 65, 70};
    gmat q = gm_new(s.n, s.d_key, 3, 1), m = gm_new(s.d_key, s.d_value, 2, 3);
    gmat z = gm_new(1, s.d_key, 0, 1);
    gm_fill(&q, -3, 3);
    gm_fill(&m, -2, 2);
    gm_fill(&z, zero_mem ? 0 : 0.5f, zero_mem ? 0 : 5);
    if (nan_row && s.n > 2)
      q.p[2 * q.ld + 5] = NAN;
    gmat a = gm_new(s.n, s.d_value, 5, 2), ar = gm_new(s.n, s.d_value, 0, 0);
    infini_status st = infini_retrieve(ctx, &s, q.p, q.ld, m.p, m.ld, z.p, 0.0f, a.p, a.ld);
    infini_retrieve(ref_ctx, &s, q.p, q.ld, m.p, m.ld, z.p, 0.0f, ar.p, ar.ld);
    double w;
    int c = gm_close(&a, &ar, &w);
    if (zero_mem) /* (S5): exactly +0 */
      for (ptrdiff_t r = 0; r < s.n; r++)
        for (ptrdiff_t j = 0; j < s.d_value; j++)
          c &= a.p[r * a.ld + j] == 0 && !signbit(a.p[r * a.ld + j]);
    ok(st == INFINI_OK && c && gm_guards_ok(&a),
       "%s retrieve n=%td dk=%td dv=%td%s (err %.2g)", name, s.n, s.d_key, s.d_value,
       zero_mem ? " zero memory" : nan_row ? " NaN row" : "", w);
    gm_free(&q); gm_free(&m); gm_free(&z); gm_free(&a); gm_free(&ar);
  }
}

static void check_update(infini_context *ctx, const char *name, int delta) {
  for (size_t i = 0; i < N_SHAPES; i++) {
    infini_head_shape s = shape_at(i);
    gmat k = gm_new(s.n, s.d_key, 3, 1), v = gm_new(s.n, s.d_value, 1, 2);
    gm_fill(&k, -3, 3);
    gm_fill(&v, -2, 2);
    gmat m = gm_new(s.d_key, s.d_value, 3, 1), z = gm_new(1, s.d_key, 0, 3);
    gm_fill(&m, -2, 2);
    gm_fill(&z, 0.5f, 5);
    gmat mr = gm_clone(&m, 0, 0), zr = gm_clone(&z, 0, 0);
    infini_status st;
    if (delta) {
      st = infini_update_delta(ctx, &s, k.p, k.ld, v.p, v.ld, m.p, m.ld, z.p, 0.01f);
      infini_update_delta(ref_ctx, &s, k.p, k.ld, v.p, v.ld, mr.p, mr.ld, zr.p, 0.01f);
    } else {
      st = infini_update_linear(ctx, &s, k.p, k.ld, v.p, v.ld, m.p, m.ld, z.p);
      infini_update_linear(ref_ctx, &s, k.p, k.ld, v.p, v.ld, mr.p, mr.ld, zr.p);
    }
    double w, wz;
    int c = gm_close(&m, &mr, &w) && gm_close(&z, &zr, &wz);
    ok(st == INFINI_OK && c && gm_guards_ok(&m) && gm_guards_ok(&z),
       "%s update_%s n=%td dk=%td dv=%td (err %.2g)", name, delta ? "delta" : "linear",
       s.n, s.d_key, s.d_value, w);
    gm_free(&k); gm_free(&v); gm_free(&m); gm_free(&z); gm_free(&mr); gm_free(&zr);
  }
}

static void check_attention(infini_context *ctx, const char *name) {
  for (size_t i = 0; i < N_SHAPES + 3; i++) {
    infini_head_shape s = i < N_SHAPES ? shape_at(i) : (infini_head_shape){150, 40, 24};
    int inf_v = i == N_SHAPES, nan_q = i == N_SHAPES + 1;
    gmat q = gm_new(s.n, s.d_key, 3, 1), k = gm_new(s.n, s.d_key, 1, 2);
    gmat v = gm_new(s.n, s.d_value, 2, 3);
    gm_fill(&q, -2, 2);
    gm_fill(&k, -2, 2);
    gm_fill(&v, -2, 2);
    if (inf_v) /* a masked inf must not leak into earlier rows */
      v.p[(s.n - 1) * v.ld + 3] = INFINITY;
    if (nan_q)
      q.p[70 * q.ld + 1] = NAN;
    float scale = i == N_SHAPES + 2 ? 3.0f : infini_default_scale(s.d_key);
    gmat o = gm_new(s.n, s.d_value, 5, 1), orf = gm_new(s.n, s.d_value, 0, 0);
    infini_status st = infini_local_attention(ctx, &s, q.p, q.ld, k.p, k.ld, v.p, v.ld,
                                              scale, o.p, o.ld);
    infini_local_attention(ref_ctx, &s, q.p, q.ld, k.p, k.ld, v.p, v.ld, scale, orf.p, orf.ld);
    double w;
    int c = gm_close(&o, &orf, &w);
    ok(st == INFINI_OK && c && gm_guards_ok(&o),
       "%s local_attention n=%td dk=%td dv=%td%s (err %.2g)", name, s.n, s.d_key, s.d_value,
       inf_v ? " inf in last V row" : nan_q ? " NaN in q_70" : "", w);
    gm_free(&q); gm_free(&k); gm_free(&v); gm_free(&o); gm_free(&orf);
  }
}

static void check_step(infini_context *ctx, const char *name, infini_update_rule rule) {
  for (size_t i = 0; i < N_SHAPES; i += 2) {
    infini_head_shape s = shape_at(i);
    gmat q = gm_new(s.n, s.d_key, 3, 1), k = gm_new(s.n, s.d_key, 1, 2);
    gmat v = gm_new(s.n, s.d_value, 2, 3);
    gmat m = gm_new(s.d_key, s.d_value, 2, 1), z = gm_new(1, s.d_key, 0, 2);
    gm_fill(&q, -2, 2); gm_fill(&k, -2, 2); gm_fill(&v, -2, 2);
    gm_fill(&m, -2, 2); gm_fill(&z, 0.5f, 5);
    gmat mr = gm_clone(&m, 0, 0), zr = gm_clone(&z, 0, 0);
    infini_step_params p = {rule, (i % 3) ? 0.4f : -INFINITY, 0.0f,
                            infini_default_scale(s.d_key)};
    gmat o = gm_new(s.n, s.d_value, 3, 1), orf = gm_new(s.n, s.d_value, 0, 0);
    infini_status st = infini_segment_step(ctx, &s, &p, q.p, q.ld, k.p, k.ld, v.p, v.ld,
                                           m.p, m.ld, z.p, o.p, o.ld);
    infini_segment_step(ref_ctx, &s, &p, q.p, q.ld, k.p, k.ld, v.p, v.ld, mr.p, mr.ld,
                        zr.p, orf.p, orf.ld);
    double w, wm, wz;
    int c = gm_close(&o, &orf, &w) & gm_close(&m, &mr, &wm) & gm_close(&z, &zr, &wz);
    ok(st == INFINI_OK && c && gm_guards_ok(&o) && gm_guards_ok(&m) && gm_guards_ok(&z),
       "%s segment_step %s n=%td dk=%td dv=%td (err out %.2g, M %.2g)", name,
       rule == INFINI_UPDATE_DELTA ? "delta" : "linear", s.n, s.d_key, s.d_value, w, wm);
    gm_free(&q); gm_free(&k); gm_free(&v); gm_free(&m); gm_free(&z);
    gm_free(&mr); gm_free(&zr); gm_free(&o); gm_free(&orf);
  }
}

static void check_layer(infini_context *ctx, const char *name, infini_update_rule rule) {
  const ptrdiff_t H = 4, HKV = 2, dk = 17, dv = 33;
  const ptrdiff_t ns[] = {1, 13, 65};
  for (int t = 0; t < 3; t++) {
    ptrdiff_t n = ns[t];
    infini_layer_config cfg = {H, HKV, dk, dv, rule, 0.0f, infini_default_scale(dk)};
    gmat q = gm_new(n, H * dk, 3, 1), k = gm_new(n, HKV * dk, 1, 2);
    gmat v = gm_new(n, HKV * dv, 2, 3);
    gm_fill(&q, -2, 2); gm_fill(&k, -2, 2); gm_fill(&v, -2, 2);
    float beta[4] = {0.5f, -1.0f, INFINITY, 2.0f};
    infini_state *s1, *s2;
    infini_state_create(HKV, dk, dv, &s1);
    infini_state_create(HKV, dk, dv, &s2);
    gmat o = gm_new(n, H * dv, 3, 1), orf = gm_new(n, H * dv, 0, 0);
    infini_status st = INFINI_OK;
    /* Two segments, so the second reads a nonzero memory. */
    for (int seg = 0; seg < 2; seg++) {
      st |= infini_layer_step(ctx, &cfg, n, q.p, q.ld, k.p, k.ld, v.p, v.ld, beta, s1, o.p, o.ld);
      infini_layer_step(ref_ctx, &cfg, n, q.p, q.ld, k.p, k.ld, v.p, v.ld, beta, s2, orf.p, orf.ld);
    }
    double w;
    int c = gm_close(&o, &orf, &w);
    for (ptrdiff_t g = 0; g < HKV; g++) {
      float *m1, *z1, *m2, *z2;
      ptrdiff_t ld1, ld2;
      infini_state_head(s1, g, &m1, &ld1, &z1);
      infini_state_head(s2, g, &m2, &ld2, &z2);
      gmat a = {m1, m1, dk, dv, ld1, 0}, b = {m2, m2, dk, dv, ld2, 0};
      double wm;
      c &= gm_close(&a, &b, &wm);
    }
    ok(st == INFINI_OK && c && gm_guards_ok(&o), "%s layer_step %s H=4 H_kv=2 n=%td (err %.2g)",
       name, rule == INFINI_UPDATE_DELTA ? "delta" : "linear", n, w);
    infini_state_free(s1); infini_state_free(s2);
    gm_free(&q); gm_free(&k); gm_free(&v); gm_free(&o); gm_free(&orf);
  }
}

/* Tiny denominators (issue 19, finding 3): rows of q or k near -93 make
 * sigma(x) = exp(x) about 4e-41, so den = sigma . z is subnormal and 1/den
 * overflows; near -87.5 den is about FLT_MIN; near -100 sigma itself is a
 * deep subnormal. The quotient sigma M / den stays of order 1, so every
 * backend must be finite where ref is, and close to it. */
static void check_tiny_den(infini_context *ctx, const char *name) {
  const float centre[] = {-93.0f, -87.5f, -100.0f};
  for (size_t i = 0; i < 3; i++) {
    const infini_head_shape s = {19, 17, 33};
    gmat q = gm_new(s.n, s.d_key, 3, 1), k = gm_new(s.n, s.d_key, 1, 2);
    gmat v = gm_new(s.n, s.d_value, 2, 3), m = gm_new(s.d_key, s.d_value, 2, 1);
    gmat z = gm_new(1, s.d_key, 0, 2);
    gm_fill(&q, centre[i] - 0.5f, centre[i] + 0.5f);
    gm_fill(&k, centre[i] - 0.5f, centre[i] + 0.5f);
    gm_fill(&v, -2, 2); gm_fill(&m, -2, 2); gm_fill(&z, 0.5f, 5);
    gmat a = gm_new(s.n, s.d_value, 1, 0), ar = gm_new(s.n, s.d_value, 0, 0);
    infini_retrieve(ctx, &s, q.p, q.ld, m.p, m.ld, z.p, 0.0f, a.p, a.ld);
    infini_retrieve(ref_ctx, &s, q.p, q.ld, m.p, m.ld, z.p, 0.0f, ar.p, ar.ld);
    double w = 0;
    int c = gm_close(&a, &ar, &w);
    ok(c, "%s retrieve, q near %g: den tiny (err %.2g)", name, (double)centre[i], w);
    gmat md = gm_clone(&m, 0, 0), mdr = gm_clone(&m, 0, 0);
    gmat zd = gm_clone(&z, 0, 0), zdr = gm_clone(&z, 0, 0);
    infini_update_delta(ctx, &s, k.p, k.ld, v.p, v.ld, md.p, md.ld, zd.p, 0.0f);
    infini_update_delta(ref_ctx, &s, k.p, k.ld, v.p, v.ld, mdr.p, mdr.ld, zdr.p, 0.0f);
    c = gm_close(&md, &mdr, &w);
    ok(c, "%s update_delta, k near %g: den tiny (err %.2g)", name, (double)centre[i], w);
    for (int rule = 0; rule < 2; rule++) {
      const infini_update_rule r = rule ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR;
      gmat ms = gm_clone(&m, 0, 0), msr = gm_clone(&m, 0, 0);
      gmat zs = gm_clone(&z, 0, 0), zsr = gm_clone(&z, 0, 0);
      /* a small softmax scale: q.k is about 1.3e5 here, and the local
       * attention's rounding at such logits is not what this tests */
      infini_step_params p = {r, 0.4f, 0.0f, 1e-6f};
      gmat o = gm_new(s.n, s.d_value, 0, 0), orf = gm_new(s.n, s.d_value, 0, 0);
      infini_segment_step(ctx, &s, &p, q.p, q.ld, k.p, k.ld, v.p, v.ld, ms.p, ms.ld,
                          zs.p, o.p, o.ld);
      infini_segment_step(ref_ctx, &s, &p, q.p, q.ld, k.p, k.ld, v.p, v.ld, msr.p,
                          msr.ld, zsr.p, orf.p, orf.ld);
      double wm = 0;
      c = gm_close(&o, &orf, &w) & gm_close(&ms, &msr, &wm);
      ok(c, "%s segment_step %s, q and k near %g: den tiny (err out %.2g, M %.2g)",
         name, rule ? "delta" : "linear", (double)centre[i], w, wm);
      gm_free(&ms); gm_free(&msr); gm_free(&zs); gm_free(&zsr);
      gm_free(&o); gm_free(&orf);
    }
    gm_free(&q); gm_free(&k); gm_free(&v); gm_free(&m); gm_free(&z);
    gm_free(&a); gm_free(&ar); gm_free(&md); gm_free(&mdr); gm_free(&zd);
    gm_free(&zdr);
  }
}

/* Dense layers y = x W^T (the backend's linear_pack + linear), against a
 * double-precision sum. Error analysis: a float sum of d_in products in
 * any order, with or without FMA, is within gamma = d_in u / (1 - d_in u)
 * (u = 2^-24) of the exact value times sum_k |x_k W_ok| (Higham, Accuracy
 * and Stability, 3.1); the double reference's own error is negligible
 * beside it. So an element passes when |y - exact| <= 1.01 d_in u
 * sum_k |x_k W_ok|; a wrong index or tail mixes in other products, an
 * error of order sum |x_k W_ok| itself. Also checked: the guards around y
 * (nothing outside the n x d_out block written) and that a row computed
 * alone equals, bit for bit, the same row inside the batch (the table's
 * promise that decoding one token matches the whole segment). */
static int linear_close(const gmat *x, const float *w, ptrdiff_t d_out,
                        const gmat *y, double *worst) {
  const ptrdiff_t d_in = x->cols;
  *worst = 0;
  for (ptrdiff_t i = 0; i < x->rows; i++)
    for (ptrdiff_t o = 0; o < d_out; o++) {
      double exact = 0, mag = 0;
      for (ptrdiff_t k = 0; k < d_in; k++) {
        const double t = (double)x->p[i * x->ld + k] * w[o * d_in + k];
        exact += t;
        mag += fabs(t);
      }
      const double bound = 1.01 * (double)d_in * 0x1p-24 * mag;
      const double err = fabs(y->p[i * y->ld + o] - exact);
      const double ratio = bound > 0 ? err / bound : (err > 0 ? INFINITY : 0);
      if (!(ratio <= 1))
        *worst = INFINITY;
      else if (ratio > *worst)
        *worst = ratio;
    }
  return *worst <= 1;
}

static int linear_run(const infini_backend *be, ptrdiff_t n, ptrdiff_t d_in,
                      ptrdiff_t d_out, const gmat *x, const float *w, gmat *y) {
  const size_t bytes = be->linear_packed_bytes(d_in, d_out);
  float *packed = aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!packed)
    abort();
  be->linear_pack(d_in, d_out, w, packed);
  int ok_run = be->linear(n, d_in, d_out, x->p, x->ld, packed, y->p, y->ld) ==
               INFINI_OK;
  /* The last row alone, into a fresh guarded row: the same bits. */
  gmat one = gm_new(1, d_out, 0, 1);
  ok_run = ok_run &&
           be->linear(1, d_in, d_out, x->p + (n - 1) * x->ld, x->ld, packed,
                      one.p, one.ld) == INFINI_OK &&
           memcmp(one.p, y->p + (n - 1) * y->ld, (size_t)d_out * 4) == 0 &&
           gm_guards_ok(&one);
  gm_free(&one);
  free(packed);
  return ok_run;
}

static void check_linear(const infini_backend *be) {
  if (!be->linear) {
    printf("ok %d - %s linear # SKIP no dense-layer kernel (the model runs "
           "the portable code)\n", ++n_test, be->name);
    return;
  }
  /* n around the row tiles (LIN_MR = 6, and 8 at AVX-512) and up to two
   * tiles past them; d_in and d_out each swept over the edges (d_out
   * crosses the panel widths 16, 32 and 64). */
  static const ptrdiff_t rows[] = {1, 5, 6, 7, 8, 9, 12, 13, 16, 17, 32};
  const size_t n_rows = sizeof rows / sizeof rows[0];
  /* d_in around the k block (LIN_KC = 256) and two blocks past it, where
   * a tile resumes from the partial sums in y. */
  static const ptrdiff_t k_blocks[] = {255, 256, 257, 513, 600};
  const size_t n_kb = sizeof k_blocks / sizeof k_blocks[0];
  for (size_t i = 0; i < 3 * N_EDGES + n_kb; i++) {
    const ptrdiff_t e = edges[i % N_EDGES], n = rows[i % n_rows];
    const ptrdiff_t d_in = i >= 3 * N_EDGES ? k_blocks[i - 3 * N_EDGES]
                           : i / N_EDGES == 1 ? e
                                              : 19;
    const ptrdiff_t d_out = i / N_EDGES == 2 ? e : i / N_EDGES == 0 ? 65 : 33;
    gmat x = gm_new(n, d_in, 3, 1), y = gm_new(n, d_out, 5, 2);
    gmat w = gm_new(d_out, d_in, 0, 0);
    gm_fill(&x, -2, 2);
    gm_fill(&w, -1, 1);
    double worst;
    const int ran = linear_run(be, n, d_in, d_out, &x, w.p, &y);
    const int close = linear_close(&x, w.p, d_out, &y, &worst);
    ok(ran && close && gm_guards_ok(&y),
       "%s linear n %td d_in %td d_out %td: within the sum bound (worst %.2g "
       "of it), rows independent, guards intact", be->name, n, d_in, d_out,
       worst);
    gm_free(&x); gm_free(&y); gm_free(&w);
  }
}

/* RMSNorm (M2) against double. Error analysis: the sum of d squares (all
 * terms positive) is within gamma_d of exact, relative; the mean, + eps
 * (positive), sqrt, 1/., and the two products add at most 6 roundings, and
 * the square root halves the sum's error. So |y - exact| <= (d/2 + 8) u
 * |exact| (u = 2^-24; within the `norm` site's (D + 4) u of
 * docs/tolerances.md 11.3 for D >= 8), checked with a factor 1.01. The
 * second row of each case is scaled by 1e-20, where eps decides. */
static void check_rmsnorm(const infini_backend *be) {
  for (size_t e = 0; e < N_EDGES; e++) {
    const ptrdiff_t n = 1 + (ptrdiff_t)(e % 3), d = edges[e];
    gmat x = gm_new(n, d, 3, 1), y = gm_new(n, d, 2, 3), w = gm_new(1, d, 0, 0);
    gm_fill(&x, -3, 3);
    gm_fill(&w, 0.5f, 1.5f);
    if (n > 1)
      for (ptrdiff_t j = 0; j < d; j++)
        x.p[x.ld + j] *= 1e-20f; /* eps decides */
    const float eps = 1e-5f;
    int st = be->rmsnorm(n, d, x.p, x.ld, w.p, eps, y.p, y.ld) == INFINI_OK;
    double worst = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
      double ss = 0;
      for (ptrdiff_t j = 0; j < d; j++)
        ss += (double)x.p[i * x.ld + j] * x.p[i * x.ld + j];
      const double r = 1 / sqrt(ss / (double)d + (double)eps);
      for (ptrdiff_t j = 0; j < d; j++) {
        const double exact = x.p[i * x.ld + j] * r * w.p[j];
        const double bound = 1.01 * ((double)d / 2 + 8) * 0x1p-24 * fabs(exact);
        const double err = fabs(y.p[i * y.ld + j] - exact);
        const double ratio = err == 0 ? 0 : bound > 0 ? err / bound : INFINITY;
        if (!(ratio <= worst))
          worst = ratio != ratio ? INFINITY : ratio;
      }
    }
    ok(st && worst <= 1 && gm_guards_ok(&y),
       "%s rmsnorm %tdx%td: within (d/2 + 8) ulp (worst %.2g of it), guards intact",
       be->name, n, d, worst);
    gm_free(&x); gm_free(&y); gm_free(&w);
  }
}

/* The SwiGLU gate (M10) against double: exp within 2 ulp (the polynomial;
 * Sleef u10: 1), which 1 + e does not amplify (e / (1 + e) < 1), then
 * 1 + e, the division and the product: 3 roundings (-g is exact). So
 * |g' - exact| <= 5 u |exact|, the `act` site of docs/tolerances.md 11.3,
 * checked with a factor 1.01; the exact -0 of g below -88.7 and NaN
 * propagation exactly. */
static void check_swiglu(const infini_backend *be) {
  for (size_t e = 0; e < N_EDGES; e++) {
    const ptrdiff_t count = edges[e];
    if (count < 1 || count > 129) /* (never: tells GCC the size fits g0) */
      continue;
    gmat g = gm_new(count, 1, 0, 2), up = gm_new(count, 1, 0, 1); /* contiguous */
    gm_fill(&g, -12, 12);
    gm_fill(&up, -2, 2);
    g.p[0] = -100.0f; /* exp(100) = inf: silu = -0 */
    if (count > 2)
      g.p[count - 1] = NAN;
    float g0[129]; /* the largest edge */
    memcpy(g0, g.p, (size_t)count * sizeof(float));
    int st = be->swiglu(count, g.p, up.p) == INFINI_OK, exact_ok = 1;
    double worst = 0;
    for (ptrdiff_t i = 0; i < count; i++) {
      const double a = g0[i];
      const double exact = a / (1 + exp(-a)) * up.p[i];
      if (a != a) {
        exact_ok &= isnan(g.p[i]);
        continue;
      }
      if (a == -100.0) {
        exact_ok &= g.p[i] == 0 && signbit(g.p[i]) != signbit(up.p[i]);
        continue;
      }
      const double err = fabs(g.p[i] - exact), bound = 1.01 * 5 * 0x1p-24 * fabs(exact);
      const double ratio = err == 0 ? 0 : bound > 0 ? err / bound : INFINITY;
      if (!(ratio <= worst))
        worst = ratio != ratio ? INFINITY : ratio;
    }
    ok(st && exact_ok && worst <= 1 && gm_guards_ok(&g),
       "%s swiglu %td: within 5 ulp (worst %.2g of it), -0 and NaN exact, guards intact",
       be->name, count, worst);
    gm_free(&g); gm_free(&up);
  }
}

/* One float operation each, rounded on its own: the volatile keeps the
 * compiler from fusing a product into the sum that follows (an FMA, in
 * the base ISA of aarch64, s390x and riscv64). Computing the product in
 * double and rounding it to float was not enough: GCC for aarch64 turned
 * that back into a float product and fused it (fnmsub), and the check
 * failed on every backend. */
static float fmul(float a, float b) {
  volatile float p = a * b;
  return p;
}
static float fadd(float a, float b) { return a + b; }
static float fsub(float a, float b) { return a - b; }

/* RoPE (M5) against the reference's formula, bit for bit: each product and
 * each sum rounded on its own (include/infini.h, rope). d_head around the
 * vector widths (half = 1 .. 64, with tails), 1 and 3 heads, rows at
 * positions p0 = 5.., strided rows with guards, and once in place. */
static void check_rope(const infini_backend *be) {
  static const ptrdiff_t heads_dh[] = {2, 6, 8, 16, 30, 32, 34, 64, 66, 128};
  for (size_t e = 0; e < sizeof heads_dh / sizeof heads_dh[0]; e++) {
    const ptrdiff_t dh = heads_dh[e], half = dh / 2, n = 3, p0 = 5;
    const ptrdiff_t nh = e % 2 ? 3 : 1, in_place = e == 5;
    gmat x = gm_new(n, nh * dh, 3, 1), y = gm_new(n, nh * dh, 2, 3);
    gmat cs = gm_new(p0 + n, half, 0, 0), sn = gm_new(p0 + n, half, 0, 0);
    gm_fill(&x, -2, 2);
    gm_fill(&cs, -1, 1);
    gm_fill(&sn, -1, 1);
    gmat *out = in_place ? &x : &y;
    float want[3 * 3 * 128];
    for (ptrdiff_t r = 0; r < n; r++)
      for (ptrdiff_t h = 0; h < nh; h++)
        for (ptrdiff_t i = 0; i < half; i++) {
          const float a = x.p[r * x.ld + h * dh + i], b = x.p[r * x.ld + h * dh + half + i];
          const float c = cs.p[(p0 + r) * half + i], s = sn.p[(p0 + r) * half + i];
          want[(r * nh + h) * dh + i] = fsub(fmul(a, c), fmul(b, s));
          want[(r * nh + h) * dh + half + i] = fadd(fmul(b, c), fmul(a, s));
        }
    const int st = be->rope(n, nh, dh, p0, cs.p, sn.p, x.p, x.ld, out->p, out->ld) ==
                   INFINI_OK;
    int same = 1;
    for (ptrdiff_t r = 0; r < n; r++)
      same &= memcmp(out->p + r * out->ld, want + r * nh * dh,
                     (size_t)(nh * dh) * sizeof(float)) == 0;
    ok(st && same && gm_guards_ok(out),
       "%s rope d_head %td, %td head%s%s: the reference's bits, guards intact",
       be->name, dh, nh, nh > 1 ? "s" : "", in_place ? ", in place" : "");
    gm_free(&x); gm_free(&y); gm_free(&cs); gm_free(&sn);
  }
}

int main(void) {
  const infini_backend *ref;
  if (infini_backend_find("ref", &ref) != INFINI_OK ||
      infini_context_create(ref, &ref_ctx) != INFINI_OK) {
    printf("Bail out! no ref backend\n");
    return 99;
  }
  /* The dispatched default is native. */
  const infini_backend *def;
  infini_backend_find(NULL, &def);
  ok(def && def->availability() == INFINI_NATIVE, "default backend %s is native",
     def ? def->name : "(none)");
  printf("# default backend: %s\n", def ? def->name : "(none)");

  for (size_t b = 0; b < infini_backend_count(); b++) {
    const infini_backend *be = infini_backend_at(b);
    infini_availability av = be->availability();
    printf("# backend %s: %s - %s\n", be->name,
           av == INFINI_NATIVE ? "native" : av == INFINI_EMULATED ? "emulated" : "unavailable",
           be->description);
    if (av == INFINI_UNAVAILABLE) {
      printf("ok %d - %s # SKIP the CPU lacks this ISA\n", ++n_test, be->name);
      continue;
    }
    ok(infini_backend_check(be) == INFINI_OK && be->segment_step && be->layer_step,
       "%s: complete backend table", be->name);
    infini_context *ctx;
    if (infini_context_create(be, &ctx) != INFINI_OK) {
      ok(0, "%s: context", be->name);
      continue;
    }
    check_feature_map(ctx, be->name);
    check_mix(ctx, be->name);
    check_retrieve(ctx, be->name);
    check_update(ctx, be->name, 0);
    check_update(ctx, be->name, 1);
    check_attention(ctx, be->name);
    check_step(ctx, be->name, INFINI_UPDATE_LINEAR);
    check_step(ctx, be->name, INFINI_UPDATE_DELTA);
    check_layer(ctx, be->name, INFINI_UPDATE_LINEAR);
    check_layer(ctx, be->name, INFINI_UPDATE_DELTA);
    check_tiny_den(ctx, be->name);
    check_linear(be);
    if (be->rmsnorm)
      check_rmsnorm(be);
    if (be->swiglu)
      check_swiglu(be);
    if (be->rope)
      check_rope(be);
    infini_context_free(ctx);
  }
  infini_context_free(ref_ctx);
  printf("1..%d\n", n_test);
  return n_fail ? 1 : 0;
}

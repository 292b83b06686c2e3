/*
 * tests/test_identities.c - identities the operators must satisfy, on
 * random inputs from fixed seeds, at shapes with N != d_key != d_value.
 * Each identity is a named TAP case per shape (or per configuration):
 *
 *   (a) linear update = sum over tokens of per-token outer products
 *   (b) segment step = retrieve, local attention, mix, update by hand
 *   (c) delta = linear until the memory is nonzero, then different
 *   (d) beta = +-inf selects A_mem / A_dot exactly, +-30 approaches them
 *   (e) causality of local attention and of the segment step
 *   (f) strided views = packed copies, padding and guards untouched
 *   (g) layer step = per-head operators with GQA grouping
 *   (h) float ref ~ double oracle
 *   (i) state create / reset / copy / size
 *   (j) first segment: out = (1 - sigmoid(beta)) A_dot
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infini.h"
#include "ref/ref.h"
#include "tests/tap.h"
#include "tests/testutil.h"

static infini_context *ctx;

typedef struct shape3 {
  ptrdiff_t n, dk, dv;
} shape3;

static const shape3 SHAPES[] = {{5, 3, 4}, {17, 8, 5}, {33, 16, 12}};
#define N_SHAPES (sizeof SHAPES / sizeof SHAPES[0])

/* One segment's packed inputs: q, k (n x dk), v (n x dv). */
typedef struct segment {
  float *q, *k, *v;
} segment;

static segment segment_new(tu_rng *r, shape3 s) {
  segment g;
  g.q = malloc(sizeof(float) * (size_t)(s.n * s.dk));
  g.k = malloc(sizeof(float) * (size_t)(s.n * s.dk));
  g.v = malloc(sizeof(float) * (size_t)(s.n * s.dv));
  if (!g.q || !g.k || !g.v) {
    printf("Bail out! out of memory\n");
    exit(99);
  }
  tu_fill(r, s.n, s.dk, g.q, s.dk, -2, 2);
  tu_fill(r, s.n, s.dk, g.k, s.dk, -2, 2);
  tu_fill(r, s.n, s.dv, g.v, s.dv, -1, 1);
  return g;
}

static void segment_free(segment *g) {
  free(g->q);
  free(g->k);
  free(g->v);
}

static float *fzalloc(ptrdiff_t count) {
  float *p = calloc((size_t)count, sizeof(float));
  if (!p) {
    printf("Bail out! out of memory\n");
    exit(99);
  }
  return p;
}

static double *dalloc(size_t count) {
  double *p = calloc(count, sizeof(double));
  if (!p) {
    printf("Bail out! out of memory\n");
    exit(99);
  }
  return p;
}

static infini_head_shape hs(shape3 s) {
  infini_head_shape h = {s.n, s.dk, s.dv};
  return h;
}

static const char *rule_name(infini_update_rule r) {
  return r == INFINI_UPDATE_DELTA ? "delta" : "linear";
}

/* ======================================================================= */
/* (a) Linear update = sum over tokens of per-token outer products.         */
/* ======================================================================= */

static void identity_a(void) {
  for (size_t si = 0; si < N_SHAPES; si++) {
    const shape3 s = SHAPES[si];
    const infini_head_shape h = hs(s), h1 = {1, s.dk, s.dv};
    tu_rng r = tu_rng_seed(0xA000 + si);
    segment g = segment_new(&r, s);
    for (int from_zero = 1; from_zero >= 0; from_zero--) {
      float *m0 = fzalloc(s.dk * s.dv), *z0 = fzalloc(s.dk);
      if (!from_zero) {
        tu_fill(&r, s.dk, s.dv, m0, s.dv, -1, 1);
        tu_fill(&r, 1, s.dk, z0, s.dk, 0, 3);
      }
      float *mb = fzalloc(s.dk * s.dv), *zb = fzalloc(s.dk);
      float *mt = fzalloc(s.dk * s.dv), *zt = fzalloc(s.dk);
      memcpy(mb, m0, sizeof(float) * (size_t)(s.dk * s.dv));
      memcpy(mt, m0, sizeof(float) * (size_t)(s.dk * s.dv));
      memcpy(zb, z0, sizeof(float) * (size_t)s.dk);
      memcpy(zt, z0, sizeof(float) * (size_t)s.dk);

      bool ok = infini_update_linear(ctx, &h, g.k, s.dk, g.v, s.dv, mb, s.dv,
                                     zb) == INFINI_OK;
      for (ptrdiff_t t = 0; t < s.n; t++)
        ok = ok && infini_update_linear(ctx, &h1, g.k + t * s.dk, s.dk,
                                        g.v + t * s.dv, s.dv, mt, s.dv,
                                        zt) == INFINI_OK;

      /* The independent sum, in double: want = m0 + sum_t sigma(k_t)^T v_t,
       * and the rigorous float error bound (n + 4) eps sum |terms|, which
       * holds for any summation order and for FMA contraction. */
      bool within = ok;
      double worst_rel = 0;
      for (ptrdiff_t c = 0; c < s.dk; c++) {
        for (ptrdiff_t j = 0; j <= s.dv; j++) { /* j == dv: z */
          double want = j < s.dv ? m0[c * s.dv + j] : z0[c];
          double mag = fabs(want);
          for (ptrdiff_t t = 0; t < s.n; t++) {
            const double sk = infini_ref_sigma_f64(g.k[t * s.dk + c]);
            const double term = j < s.dv ? sk * g.v[t * s.dv + j] : sk;
            want += term;
            mag += fabs(term);
          }
          const double bound = (double)(s.n + 4) * FLT_EPSILON * mag;
          const double gb = j < s.dv ? mb[c * s.dv + j] : zb[c];
          const double gt = j < s.dv ? mt[c * s.dv + j] : zt[c];
          if (!(fabs(gb - want) <= bound && fabs(gt - want) <= bound &&
                fabs(gb - gt) <= bound)) {
            if (within)
              tap_diag("[%td][%td]: batched %.9g, per-token %.9g, want %.9g, "
                       "bound %.3g", c, j, gb, gt, want, bound);
            within = false;
          }
          if (mag > 0 && fabs(gb - gt) / mag > worst_rel)
            worst_rel = fabs(gb - gt) / mag;
        }
      }
      const bool bitwise =
          tu_same_bits_quiet(s.dk, s.dv, mb, s.dv, mt, s.dv) &&
          tu_same_bits_quiet(1, s.dk, zb, s.dk, zt, s.dk);
      if (!bitwise)
        tap_diag("batched and per-token differ by up to %.3g relative "
                 "(summation order)", worst_rel);
      tap_ok(within, "(a) shape (N,dk,dv)=(%td,%td,%td), %s memory: "
                     "update_linear(N tokens) = N updates with n=1 = "
                     "M0 + sum_t sigma(k_t)^T v_t (double, error bound)",
             s.n, s.dk, s.dv, from_zero ? "zero" : "random");
      /* From zero memory both accumulate the same products in the same
       * order starting from 0, so without FMA contraction they agree bit
       * for bit; only reported (contraction may differ between them). */
      if (from_zero)
        tap_diag("(a) from zero memory, batched vs per-token bitwise equal: "
                 "%s", bitwise ? "yes" : "no");
      free(m0), free(z0), free(mb), free(zb), free(mt), free(zt);
    }
    segment_free(&g);
  }
}

/* ======================================================================= */
/* (b) Segment step = the operators composed by hand, 4 segments.           */
/* ======================================================================= */

/* The spec's segment step from the public operators. */
static infini_status step_by_hand(const infini_head_shape *h,
                                  const infini_step_params *p, const float *q,
                                  ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                                  const float *v, ptrdiff_t ldv, float *m,
                                  ptrdiff_t ldm, float *z, float *out,
                                  ptrdiff_t ldo, float *a_mem) {
  infini_status st =
      infini_retrieve(ctx, h, q, ldq, m, ldm, z, p->eps, a_mem, h->d_value);
  if (st == INFINI_OK)
    st = infini_local_attention(ctx, h, q, ldq, k, ldk, v, ldv, p->scale, out,
                                ldo);
  if (st == INFINI_OK)
    st = infini_mix(ctx, h->n, h->d_value, p->beta, a_mem, h->d_value, out,
                    ldo, out, ldo);
  if (st == INFINI_OK)
    st = p->rule == INFINI_UPDATE_DELTA
             ? infini_update_delta(ctx, h, k, ldk, v, ldv, m, ldm, z, p->eps)
             : infini_update_linear(ctx, h, k, ldk, v, ldv, m, ldm, z);
  return st;
}

static void identity_b(void) {
  for (size_t si = 0; si < N_SHAPES; si++) {
    const shape3 s = SHAPES[si];
    const infini_head_shape h = hs(s);
    for (int rule = 0; rule < 2; rule++) {
      const infini_step_params p = {(infini_update_rule)rule, 0.3f,
                                    rule ? 1e-4f : 0.0f,
                                    infini_default_scale(s.dk)};
      tu_rng r = tu_rng_seed(0xB000 + 16 * si + (uint64_t)rule);
      float *m1 = fzalloc(s.dk * s.dv), *z1 = fzalloc(s.dk);
      float *m2 = fzalloc(s.dk * s.dv), *z2 = fzalloc(s.dk);
      float *o1 = fzalloc(s.n * s.dv), *o2 = fzalloc(s.n * s.dv);
      float *a_mem = fzalloc(s.n * s.dv);
      bool ok = true;
      for (int seg = 0; seg < 4 && ok; seg++) {
        segment g = segment_new(&r, s);
        ok = infini_segment_step(ctx, &h, &p, g.q, s.dk, g.k, s.dk, g.v, s.dv,
                                 m1, s.dv, z1, o1, s.dv) == INFINI_OK &&
             step_by_hand(&h, &p, g.q, s.dk, g.k, s.dk, g.v, s.dv, m2, s.dv,
                          z2, o2, s.dv, a_mem) == INFINI_OK;
        /* Bitwise: the ref backend's step runs the same float functions
         * in the same order. */
        ok = ok && tu_same_bits(s.n, s.dv, o1, s.dv, o2, s.dv) &&
             tu_same_bits(s.dk, s.dv, m1, s.dv, m2, s.dv) &&
             tu_same_bits(1, s.dk, z1, s.dk, z2, s.dk);
        if (!ok)
          tap_diag("segment %d differs", seg + 1);
        segment_free(&g);
      }
      tap_ok(ok, "(b) shape (%td,%td,%td), %s: 4 x segment_step = retrieve, "
                 "local_attention, mix, update by hand (out, M, z bitwise)",
             s.n, s.dk, s.dv, rule_name(p.rule));
      free(m1), free(z1), free(m2), free(z2), free(o1), free(o2), free(a_mem);
    }
  }
}

/* ======================================================================= */
/* (c) Delta = linear for segments 1 and 2's outputs and M_1; not after.    */
/* ======================================================================= */

static void identity_c(void) {
  for (size_t si = 0; si < N_SHAPES; si++) {
    const shape3 s = SHAPES[si];
    const infini_head_shape h = hs(s);
    const infini_step_params pl = {INFINI_UPDATE_LINEAR, 0.0f, 0.0f,
                                   infini_default_scale(s.dk)};
    infini_step_params pd = pl;
    pd.rule = INFINI_UPDATE_DELTA;
    tu_rng r = tu_rng_seed(0xC000 + si);
    float *ml = fzalloc(s.dk * s.dv), *zl = fzalloc(s.dk);
    float *md = fzalloc(s.dk * s.dv), *zd = fzalloc(s.dk);
    float *ol = fzalloc(s.n * s.dv), *od = fzalloc(s.n * s.dv);
    bool same12 = true, mem1 = false, mem2_differs = false;
    double diff3 = 0, mag3 = 0;
    for (int seg = 0; seg < 3; seg++) {
      segment g = segment_new(&r, s);
      bool ok = infini_segment_step(ctx, &h, &pl, g.q, s.dk, g.k, s.dk, g.v,
                                    s.dv, ml, s.dv, zl, ol, s.dv) == INFINI_OK &&
                infini_segment_step(ctx, &h, &pd, g.q, s.dk, g.k, s.dk, g.v,
                                    s.dv, md, s.dv, zd, od, s.dv) == INFINI_OK;
      if (seg < 2)
        same12 = same12 && ok && tu_same_bits(s.n, s.dv, ol, s.dv, od, s.dv);
      if (seg == 0)
        mem1 = ok && tu_same_bits(s.dk, s.dv, ml, s.dv, md, s.dv) &&
               tu_same_bits(1, s.dk, zl, s.dk, zd, s.dk);
      if (seg == 1)
        mem2_differs = ok && tu_max_abs_diff(s.dk, s.dv, ml, s.dv, md, s.dv) >
                                 1e-2 * tu_max_abs(s.dk, s.dv, ml, s.dv);
      if (seg == 2 && ok) {
        diff3 = tu_max_abs_diff(s.n, s.dv, ol, s.dv, od, s.dv);
        mag3 = tu_max_abs(s.n, s.dv, ol, s.dv);
      }
      segment_free(&g);
    }
    tap_ok(mem1, "(c) shape (%td,%td,%td): M_1, z_1 of delta = linear "
                 "(bitwise; empty memory predicts 0)", s.n, s.dk, s.dv);
    tap_ok(same12, "(c) shape (%td,%td,%td): outputs of segments 1 and 2 of "
                   "delta = linear (bitwise)", s.n, s.dk, s.dv);
    tap_ok(mem2_differs, "(c) shape (%td,%td,%td): M_2 of delta differs from "
                         "linear by > 1%% of max|M_2|", s.n, s.dk, s.dv);
    tap_diag("(c) segment 3: max |out_linear - out_delta| = %.3g, max |out| "
             "= %.3g", diff3, mag3);
    tap_ok(diff3 > 1e-2 * mag3 && diff3 > 1e-3,
           "(c) shape (%td,%td,%td): segment 3 output of delta differs from "
           "linear by > 1%% of max|out|", s.n, s.dk, s.dv);
    free(ml), free(zl), free(md), free(zd), free(ol), free(od);
  }
}

/* ======================================================================= */
/* (d) beta = +-inf selects A_mem / A_dot exactly; +-30 approaches them.    */
/* ======================================================================= */

static void identity_d(void) {
  for (size_t si = 0; si < N_SHAPES; si++) {
    const shape3 s = SHAPES[si];
    const infini_head_shape h = hs(s);
    tu_rng r = tu_rng_seed(0xD000 + si);
    /* A nonzero memory from one segment, then A_mem and A_dot of the next. */
    segment g0 = segment_new(&r, s), g = segment_new(&r, s);
    float *m = fzalloc(s.dk * s.dv), *z = fzalloc(s.dk);
    float *am = fzalloc(s.n * s.dv), *ad = fzalloc(s.n * s.dv);
    float *out = fzalloc(s.n * s.dv);
    const float scale = infini_default_scale(s.dk);
    bool ok = infini_update_linear(ctx, &h, g0.k, s.dk, g0.v, s.dv, m, s.dv,
                                   z) == INFINI_OK &&
              infini_retrieve(ctx, &h, g.q, s.dk, m, s.dv, z, 0.0f, am, s.dv) ==
                  INFINI_OK &&
              infini_local_attention(ctx, &h, g.q, s.dk, g.k, s.dk, g.v, s.dv,
                                     scale, ad, s.dv) == INFINI_OK;
    const double amax = tu_max_abs(s.n, s.dv, am, s.dv);
    const double dmax = tu_max_abs(s.n, s.dv, ad, s.dv);
    const double big = amax > dmax ? amax : dmax;

    bool exact = ok &&
                 infini_mix(ctx, s.n, s.dv, INFINITY, am, s.dv, ad, s.dv, out,
                            s.dv) == INFINI_OK &&
                 tu_same_values(s.n, s.dv, out, s.dv, am, s.dv) &&
                 infini_mix(ctx, s.n, s.dv, -INFINITY, am, s.dv, ad, s.dv,
                            out, s.dv) == INFINI_OK &&
                 tu_same_values(s.n, s.dv, out, s.dv, ad, s.dv);
    tap_ok(exact, "(d) shape (%td,%td,%td): mix beta = +inf gives A_mem, "
                  "-inf gives A_dot, exactly", s.n, s.dk, s.dv);

    /* sigmoid(30) = 1 - 9.4e-14: the error is at most ~1e-13 max|A| plus
     * float rounding, far below the error at beta = 5 (~7e-3). */
    double err[2][2]; /* [beta 5 / 30][towards A_mem / A_dot] */
    const float betas[2] = {5.0f, 30.0f};
    for (int b = 0; b < 2; b++) {
      ok = ok && infini_mix(ctx, s.n, s.dv, betas[b], am, s.dv, ad, s.dv, out,
                            s.dv) == INFINI_OK;
      err[b][0] = tu_max_abs_diff(s.n, s.dv, out, s.dv, am, s.dv);
      ok = ok && infini_mix(ctx, s.n, s.dv, -betas[b], am, s.dv, ad, s.dv,
                            out, s.dv) == INFINI_OK;
      err[b][1] = tu_max_abs_diff(s.n, s.dv, out, s.dv, ad, s.dv);
    }
    tap_diag("(d) max error towards A_mem at beta 5, 30: %.3g, %.3g; towards "
             "A_dot at -5, -30: %.3g, %.3g", err[0][0], err[1][0], err[0][1],
             err[1][1]);
    tap_ok(ok && err[1][0] <= 1e-6 * big && err[1][1] <= 1e-6 * big &&
               err[0][0] > 1e-4 * big && err[0][1] > 1e-4 * big &&
               err[1][0] < err[0][0] && err[1][1] < err[0][1],
           "(d) shape (%td,%td,%td): beta = +30 / -30 approach A_mem / A_dot "
           "within 1e-6 max|A|, much closer than beta = +-5", s.n, s.dk, s.dv);

    /* Through the segment step: beta = +inf -> out = A_mem of the old
     * memory, beta = -inf -> out = A_dot. */
    infini_step_params p = {INFINI_UPDATE_LINEAR, INFINITY, 0.0f, scale};
    float *mc = fzalloc(s.dk * s.dv), *zc = fzalloc(s.dk);
    memcpy(mc, m, sizeof(float) * (size_t)(s.dk * s.dv));
    memcpy(zc, z, sizeof(float) * (size_t)s.dk);
    ok = infini_segment_step(ctx, &h, &p, g.q, s.dk, g.k, s.dk, g.v, s.dv, mc,
                             s.dv, zc, out, s.dv) == INFINI_OK &&
         tu_same_values(s.n, s.dv, out, s.dv, am, s.dv);
    p.beta = -INFINITY;
    memcpy(mc, m, sizeof(float) * (size_t)(s.dk * s.dv));
    memcpy(zc, z, sizeof(float) * (size_t)s.dk);
    ok = ok &&
         infini_segment_step(ctx, &h, &p, g.q, s.dk, g.k, s.dk, g.v, s.dv, mc,
                             s.dv, zc, out, s.dv) == INFINI_OK &&
         tu_same_values(s.n, s.dv, out, s.dv, ad, s.dv);
    tap_ok(ok, "(d) shape (%td,%td,%td): segment_step with beta = +inf / -inf "
               "outputs A_mem (old memory) / A_dot exactly", s.n, s.dk, s.dv);
    segment_free(&g0), segment_free(&g);
    free(m), free(z), free(am), free(ad), free(out), free(mc), free(zc);
  }
}

/* ======================================================================= */
/* (e) Causality: later tokens do not change earlier output rows.           */
/* ======================================================================= */

static void identity_e(void) {
  for (size_t si = 0; si < N_SHAPES; si++) {
    const shape3 s = SHAPES[si];
    const infini_head_shape h = hs(s);
    tu_rng r = tu_rng_seed(0xE000 + si);
    segment g0 = segment_new(&r, s), g = segment_new(&r, s);
    segment g2 = segment_new(&r, s); /* copy of g, to be perturbed */
    float *m = fzalloc(s.dk * s.dv), *z = fzalloc(s.dk);
    float *mc = fzalloc(s.dk * s.dv), *zc = fzalloc(s.dk);
    float *o1 = fzalloc(s.n * s.dv), *o2 = fzalloc(s.n * s.dv);
    const float scale = infini_default_scale(s.dk);
    /* A nonzero memory, so that the step's retrieval matters. */
    bool setup = infini_update_linear(ctx, &h, g0.k, s.dk, g0.v, s.dv, m, s.dv,
                                      z) == INFINI_OK;
    const ptrdiff_t positions[3] = {0, s.n / 2, s.n - 2};
    bool att_ok = setup, att_teeth = true, step_ok = setup, step_teeth = true;
    for (int pi = 0; pi < 3; pi++) {
      const ptrdiff_t i = positions[pi];
      memcpy(g2.q, g.q, sizeof(float) * (size_t)(s.n * s.dk));
      memcpy(g2.k, g.k, sizeof(float) * (size_t)(s.n * s.dk));
      memcpy(g2.v, g.v, sizeof(float) * (size_t)(s.n * s.dv));
      /* New q, k, v for every token after i. */
      tu_fill(&r, s.n - i - 1, s.dk, g2.q + (i + 1) * s.dk, s.dk, -2, 2);
      tu_fill(&r, s.n - i - 1, s.dk, g2.k + (i + 1) * s.dk, s.dk, -2, 2);
      tu_fill(&r, s.n - i - 1, s.dv, g2.v + (i + 1) * s.dv, s.dv, -1, 1);

      att_ok = att_ok &&
               infini_local_attention(ctx, &h, g.q, s.dk, g.k, s.dk, g.v, s.dv,
                                      scale, o1, s.dv) == INFINI_OK &&
               infini_local_attention(ctx, &h, g2.q, s.dk, g2.k, s.dk, g2.v,
                                      s.dv, scale, o2, s.dv) == INFINI_OK &&
               tu_same_bits(i + 1, s.dv, o1, s.dv, o2, s.dv);
      /* Row i+1 must see the change (the test can see a leak). */
      att_teeth = att_teeth &&
                  tu_max_abs_diff(1, s.dv, o1 + (i + 1) * s.dv, s.dv,
                                  o2 + (i + 1) * s.dv, s.dv) > 0;

      for (int rule = 0; rule < 2; rule++) {
        const infini_step_params p = {(infini_update_rule)rule, 0.4f, 0.0f,
                                      scale};
        memcpy(mc, m, sizeof(float) * (size_t)(s.dk * s.dv));
        memcpy(zc, z, sizeof(float) * (size_t)s.dk);
        step_ok = step_ok &&
                  infini_segment_step(ctx, &h, &p, g.q, s.dk, g.k, s.dk, g.v,
                                      s.dv, mc, s.dv, zc, o1, s.dv) == INFINI_OK;
        memcpy(mc, m, sizeof(float) * (size_t)(s.dk * s.dv));
        memcpy(zc, z, sizeof(float) * (size_t)s.dk);
        step_ok = step_ok &&
                  infini_segment_step(ctx, &h, &p, g2.q, s.dk, g2.k, s.dk,
                                      g2.v, s.dv, mc, s.dv, zc, o2,
                                      s.dv) == INFINI_OK &&
                  tu_same_bits(i + 1, s.dv, o1, s.dv, o2, s.dv);
        step_teeth = step_teeth &&
                     tu_max_abs_diff(1, s.dv, o1 + (i + 1) * s.dv, s.dv,
                                     o2 + (i + 1) * s.dv, s.dv) > 0;
      }
    }
    tap_ok(att_ok && att_teeth,
           "(e) shape (%td,%td,%td): local_attention rows 0..i unchanged "
           "(bitwise) when q, k, v rows > i change (i = 0, N/2, N-2); row "
           "i+1 does change", s.n, s.dk, s.dv);
    tap_ok(step_ok && step_teeth,
           "(e) shape (%td,%td,%td): segment_step (linear and delta, nonzero "
           "memory) rows 0..i unchanged when tokens > i change", s.n, s.dk,
           s.dv);
    segment_free(&g0), segment_free(&g), segment_free(&g2);
    free(m), free(z), free(mc), free(zc), free(o1), free(o2);
  }
}

/* ======================================================================= */
/* (f) Strided views = packed copies; nothing outside a view is touched.    */
/* ======================================================================= */

/* A strided [rows x ld] buffer with guards, whose view columns
 * [col0, col0 + cols) hold random values and everything else the
 * sentinel (a NaN: reading it would poison the results). */
typedef struct view {
  float *buf;
  ptrdiff_t rows, ld, col0, cols;
  float *p; /* buf + col0 */
} view;

static view view_new(tu_rng *r, ptrdiff_t rows, ptrdiff_t ld, ptrdiff_t col0,
                     ptrdiff_t cols, float lo, float hi) {
  view v = {tu_galloc((size_t)(rows * ld)), rows, ld, col0, cols, NULL};
  v.p = v.buf + col0;
  if (r)
    tu_fill(r, rows, cols, v.p, ld, lo, hi);
  return v;
}

static bool view_clean(const view *v) {
  return tu_guards_ok(v->buf, (size_t)(v->rows * v->ld)) &&
         tu_outside_view_untouched(v->buf, v->rows, v->ld, v->col0, v->cols);
}

static float *packed(const view *v) {
  float *p = fzalloc(v->rows * v->cols);
  tu_copy(v->rows, v->cols, v->p, v->ld, p, v->cols);
  return p;
}

/* Whole-buffer snapshot, to check inputs are not written. */
static float *snapshot(const view *v) {
  float *p = fzalloc(v->rows * v->ld);
  memcpy(p, v->buf, sizeof(float) * (size_t)(v->rows * v->ld));
  return p;
}

static bool unchanged(const view *v, const float *snap) {
  return memcmp(v->buf, snap, sizeof(float) * (size_t)(v->rows * v->ld)) == 0 &&
         tu_guards_ok(v->buf, (size_t)(v->rows * v->ld));
}

static void identity_f(void) {
  const ptrdiff_t H = 3, head = 1;
  for (size_t si = 0; si < N_SHAPES; si++) {
    const shape3 s = SHAPES[si];
    const infini_head_shape h = hs(s);
    const ptrdiff_t n = s.n, dk = s.dk, dv = s.dv;
    tu_rng r = tu_rng_seed(0xF000 + si);
    const float scale = infini_default_scale(dk);
    /* Head 1 of 3 inside [N x H*d + pad] projection buffers. */
    view Q = view_new(&r, n, H * dk + 3, head * dk, dk, -2, 2);
    view K = view_new(&r, n, H * dk + 5, head * dk, dk, -2, 2);
    view V = view_new(&r, n, H * dv + 2, head * dv, dv, -1, 1);
    view M = view_new(&r, dk, dv + 4, 2, dv, -1, 1);
    view Z = view_new(&r, 1, dk, 0, dk, 0, 3);
    view A = view_new(NULL, n, H * dv + 7, head * dv, dv, 0, 0); /* output */
    view B = view_new(&r, n, dv + 1, 1, dv, -1, 1);              /* 2nd input */
    float *q = packed(&Q), *k = packed(&K), *v = packed(&V), *m = packed(&M);
    float *z = packed(&Z), *b = packed(&B);
    float *sq = snapshot(&Q), *sk = snapshot(&K), *sv = snapshot(&V);
    float *sm = snapshot(&M), *sz = snapshot(&Z), *sb = snapshot(&B);
    float *a = fzalloc(n * dv), *mp = fzalloc(dk * dv), *zp = fzalloc(dk);

    /* feature map: Q view -> A view (the widths agree when dk == dv only,
     * so map the first min(dk, dv) columns). */
    const ptrdiff_t w = dk < dv ? dk : dv;
    view Af = view_new(NULL, n, H * dv + 7, head * dv, w, 0, 0);
    bool ok = infini_feature_map(ctx, n, w, Q.p, Q.ld, Af.p, Af.ld) == INFINI_OK &&
              infini_feature_map(ctx, n, w, q, dk, a, w) == INFINI_OK &&
              tu_same_bits(n, w, Af.p, Af.ld, a, w) && view_clean(&Af) &&
              unchanged(&Q, sq);
    tap_ok(ok, "(f) shape (%td,%td,%td): feature_map on strided views = "
               "packed, padding untouched", n, dk, dv);
    tu_gfree(Af.buf);

    /* retrieve: q view, M view (ldm = dv + 4, column 2), A view. */
    ok = infini_retrieve(ctx, &h, Q.p, Q.ld, M.p, M.ld, Z.p, 0.0f, A.p, A.ld) ==
             INFINI_OK &&
         infini_retrieve(ctx, &h, q, dk, m, dv, z, 0.0f, a, dv) == INFINI_OK &&
         tu_same_bits(n, dv, A.p, A.ld, a, dv) && view_clean(&A) &&
         unchanged(&Q, sq) && unchanged(&M, sm) && unchanged(&Z, sz);
    tap_ok(ok, "(f) shape (%td,%td,%td): retrieve on strided q, M, A = "
               "packed, padding untouched, inputs unchanged", n, dk, dv);

    /* mix: A view (a_mem) with B view (a_dot) into a fresh strided out. */
    view O = view_new(NULL, n, H * dv + 7, head * dv, dv, 0, 0);
    float *o = fzalloc(n * dv);
    float *sa = snapshot(&A);
    ok = infini_mix(ctx, n, dv, 0.8f, A.p, A.ld, B.p, B.ld, O.p, O.ld) ==
             INFINI_OK &&
         infini_mix(ctx, n, dv, 0.8f, a, dv, b, dv, o, dv) == INFINI_OK &&
         tu_same_bits(n, dv, O.p, O.ld, o, dv) && view_clean(&O) &&
         unchanged(&A, sa) && unchanged(&B, sb);
    tap_ok(ok, "(f) shape (%td,%td,%td): mix on strided views = packed", n,
           dk, dv);
    free(sa);

    /* local attention: q, k, v views -> O view. */
    tu_set(O.buf, (size_t)(O.rows * O.ld), tu_sentinel());
    ok = infini_local_attention(ctx, &h, Q.p, Q.ld, K.p, K.ld, V.p, V.ld, scale,
                                O.p, O.ld) == INFINI_OK &&
         infini_local_attention(ctx, &h, q, dk, k, dk, v, dv, scale, o, dv) ==
             INFINI_OK &&
         tu_same_bits(n, dv, O.p, O.ld, o, dv) && view_clean(&O) &&
         unchanged(&Q, sq) && unchanged(&K, sk) && unchanged(&V, sv);
    tap_ok(ok, "(f) shape (%td,%td,%td): local_attention on strided q, k, v, "
               "out = packed", n, dk, dv);

    /* updates: k, v views into the strided M view (and z). */
    for (int rule = 0; rule < 2; rule++) {
      view M2 = view_new(NULL, dk, dv + 4, 2, dv, 0, 0);
      tu_copy(dk, dv, m, dv, M2.p, M2.ld);
      float zz[64];
      memcpy(zz, z, sizeof(float) * (size_t)dk);
      memcpy(mp, m, sizeof(float) * (size_t)(dk * dv));
      memcpy(zp, z, sizeof(float) * (size_t)dk);
      infini_status s1, s2;
      if (rule) {
        s1 = infini_update_delta(ctx, &h, K.p, K.ld, V.p, V.ld, M2.p, M2.ld, zz,
                                 1e-3f);
        s2 = infini_update_delta(ctx, &h, k, dk, v, dv, mp, dv, zp, 1e-3f);
      } else {
        s1 = infini_update_linear(ctx, &h, K.p, K.ld, V.p, V.ld, M2.p, M2.ld,
                                  zz);
        s2 = infini_update_linear(ctx, &h, k, dk, v, dv, mp, dv, zp);
      }
      ok = s1 == INFINI_OK && s2 == INFINI_OK &&
           tu_same_bits(dk, dv, M2.p, M2.ld, mp, dv) &&
           tu_same_bits(1, dk, zz, dk, zp, dk) && view_clean(&M2) &&
           unchanged(&K, sk) && unchanged(&V, sv);
      tap_ok(ok, "(f) shape (%td,%td,%td): update_%s with strided k, v, M = "
                 "packed, M padding untouched", n, dk, dv,
             rule ? "delta" : "linear");
      tu_gfree(M2.buf);
    }

    /* segment step, 2 segments, both rules, everything strided. */
    for (int rule = 0; rule < 2; rule++) {
      const infini_step_params p = {(infini_update_rule)rule, -0.5f, 0.0f,
                                    scale};
      view M2 = view_new(NULL, dk, dv + 4, 2, dv, 0, 0);
      view Z2 = view_new(NULL, 1, dk, 0, dk, 0, 0);
      tu_copy(dk, dv, m, dv, M2.p, M2.ld);
      tu_copy(1, dk, z, dk, Z2.p, dk);
      memcpy(mp, m, sizeof(float) * (size_t)(dk * dv));
      memcpy(zp, z, sizeof(float) * (size_t)dk);
      ok = true;
      for (int seg = 0; seg < 2 && ok; seg++) {
        tu_set(O.buf, (size_t)(O.rows * O.ld), tu_sentinel());
        ok = infini_segment_step(ctx, &h, &p, Q.p, Q.ld, K.p, K.ld, V.p, V.ld,
                                 M2.p, M2.ld, Z2.p, O.p, O.ld) == INFINI_OK &&
             infini_segment_step(ctx, &h, &p, q, dk, k, dk, v, dv, mp, dv, zp,
                                 o, dv) == INFINI_OK &&
             tu_same_bits(n, dv, O.p, O.ld, o, dv) &&
             tu_same_bits(dk, dv, M2.p, M2.ld, mp, dv) &&
             tu_same_bits(1, dk, Z2.p, dk, zp, dk) && view_clean(&O) &&
             view_clean(&M2) && view_clean(&Z2) && unchanged(&Q, sq) &&
             unchanged(&K, sk) && unchanged(&V, sv);
      }
      tap_ok(ok, "(f) shape (%td,%td,%td): segment_step %s x2 on strided "
                 "q, k, v, M, out = packed; padding, guards untouched", n, dk,
             dv, rule_name(p.rule));
      tu_gfree(M2.buf), tu_gfree(Z2.buf);
    }

    tu_gfree(Q.buf), tu_gfree(K.buf), tu_gfree(V.buf), tu_gfree(M.buf);
    tu_gfree(Z.buf), tu_gfree(A.buf), tu_gfree(B.buf), tu_gfree(O.buf);
    free(q), free(k), free(v), free(m), free(z), free(b), free(o);
    free(sq), free(sk), free(sv), free(sm), free(sz), free(sb);
    free(a), free(mp), free(zp);
  }
}

/* ======================================================================= */
/* (g) Layer step = per-head operators with GQA grouping.                   */
/* ======================================================================= */

typedef struct gqa {
  ptrdiff_t H, Hkv;
} gqa;

static const gqa GQA[] = {{4, 2}, {3, 3}, {4, 1}};

static void identity_g(void) {
  const ptrdiff_t n = 7, dk = 5, dv = 3;
  const infini_head_shape h = {n, dk, dv};
  for (size_t ci = 0; ci < sizeof GQA / sizeof GQA[0]; ci++) {
    const ptrdiff_t H = GQA[ci].H, Hkv = GQA[ci].Hkv, G = H / Hkv;
    for (int rule = 0; rule < 2; rule++) {
      const infini_layer_config cfg = {H, Hkv, dk, dv,
                                       (infini_update_rule)rule,
                                       rule ? 1e-3f : 0.0f,
                                       infini_default_scale(dk)};
      const float betas[4] = {-1.5f, 0.0f, 0.7f, 3.0f};
      const ptrdiff_t ldq = H * dk + 2, ldk = Hkv * dk + 1, ldv = Hkv * dv + 3,
                      ldo = H * dv + 1;
      tu_rng r = tu_rng_seed(0x6000 + 8 * ci + (uint64_t)rule);
      float *q = fzalloc(n * ldq), *k = fzalloc(n * ldk), *v = fzalloc(n * ldv);
      float *out = fzalloc(n * ldo), *ref = fzalloc(n * ldo);
      float *mh = fzalloc(Hkv * dk * dv), *zh = fzalloc(Hkv * dk);
      float *a_mem = fzalloc(n * dv);
      infini_state *st = NULL;
      bool ok = infini_state_create(Hkv, dk, dv, &st) == INFINI_OK;
      bool first_once = ok, all_ok = ok;
      for (int seg = 0; seg < 3 && all_ok; seg++) {
        tu_fill(&r, n, H * dk, q, ldq, -2, 2);
        tu_fill(&r, n, Hkv * dk, k, ldk, -2, 2);
        tu_fill(&r, n, Hkv * dv, v, ldv, -1, 1);
        all_ok = infini_layer_step(ctx, &cfg, n, q, ldq, k, ldk, v, ldv, betas,
                                   st, out, ldo) == INFINI_OK;
        /* By hand: every query head of group g retrieves from g's memory
         * before g's single update. */
        for (ptrdiff_t g = 0; g < Hkv && all_ok; g++) {
          float *mg = mh + g * dk * dv, *zg = zh + g * dk;
          for (ptrdiff_t qh = g * G; qh < (g + 1) * G && all_ok; qh++) {
            all_ok = infini_retrieve(ctx, &h, q + qh * dk, ldq, mg, dv, zg,
                                     cfg.eps, a_mem, dv) == INFINI_OK &&
                     infini_local_attention(ctx, &h, q + qh * dk, ldq,
                                            k + g * dk, ldk, v + g * dv, ldv,
                                            cfg.scale, ref + qh * dv,
                                            ldo) == INFINI_OK &&
                     infini_mix(ctx, n, dv, betas[qh], a_mem, dv,
                                ref + qh * dv, ldo, ref + qh * dv,
                                ldo) == INFINI_OK;
          }
          if (all_ok)
            all_ok = (rule ? infini_update_delta(ctx, &h, k + g * dk, ldk,
                                                 v + g * dv, ldv, mg, dv, zg,
                                                 cfg.eps)
                           : infini_update_linear(ctx, &h, k + g * dk, ldk,
                                                  v + g * dv, ldv, mg, dv,
                                                  zg)) == INFINI_OK;
        }
        all_ok = all_ok && tu_same_bits(n, H * dv, out, ldo, ref, ldo);
        for (ptrdiff_t g = 0; g < Hkv && all_ok; g++) {
          float *sm, *sz;
          ptrdiff_t ldm;
          all_ok = infini_state_head(st, g, &sm, &ldm, &sz) == INFINI_OK &&
                   tu_same_bits(dk, dv, sm, ldm, mh + g * dk * dv, dv) &&
                   tu_same_bits(1, dk, sz, dk, zh + g * dk, dk);
          if (seg == 0) {
            /* After segment 1 from zero: exactly one update of kv head g. */
            float *m1 = fzalloc(dk * dv), *z1 = fzalloc(dk);
            first_once = first_once &&
                         (rule ? infini_update_delta(ctx, &h, k + g * dk, ldk,
                                                     v + g * dv, ldv, m1, dv,
                                                     z1, cfg.eps)
                               : infini_update_linear(ctx, &h, k + g * dk, ldk,
                                                      v + g * dv, ldv, m1, dv,
                                                      z1)) == INFINI_OK &&
                         tu_same_bits(dk, dv, sm, ldm, m1, dv) &&
                         tu_same_bits(1, dk, sz, dk, z1, dk);
            free(m1), free(z1);
          }
        }
        if (!all_ok)
          tap_diag("segment %d differs", seg + 1);
      }
      tap_ok(all_ok, "(g) H=%td, H_kv=%td, %s: 3 x layer_step = per-head "
                     "retrieve/attend/mix (head h reads kv head h/%td) + one "
                     "update per kv head (out, every M, z bitwise)",
             H, Hkv, rule_name(cfg.rule), G);
      tap_ok(first_once, "(g) H=%td, H_kv=%td, %s: after segment 1 each kv "
                         "memory equals a single update of its kv head",
             H, Hkv, rule_name(cfg.rule));
      infini_state_free(st);
      free(q), free(k), free(v), free(out), free(ref), free(mh), free(zh);
      free(a_mem);
    }
  }
}

/* ======================================================================= */
/* (h) The float ref and the double oracle agree (loose tolerance).         */
/* ======================================================================= */

static void identity_h(void) {
  for (size_t si = 1; si < N_SHAPES; si++) {
    const shape3 s = SHAPES[si];
    const infini_head_shape h = hs(s);
    for (int rule = 0; rule < 2; rule++) {
      const infini_step_params p = {(infini_update_rule)rule, 0.25f, 0.0f,
                                    infini_default_scale(s.dk)};
      tu_rng r = tu_rng_seed(0x8000 + 4 * si + (uint64_t)rule);
      float *m = fzalloc(s.dk * s.dv), *z = fzalloc(s.dk);
      float *o = fzalloc(s.n * s.dv);
      double *md = dalloc((size_t)(s.dk * s.dv)), *zd = dalloc((size_t)s.dk);
      double *od = dalloc((size_t)(s.n * s.dv));
      double *qd = dalloc((size_t)(s.n * s.dk)), *kd = dalloc((size_t)(s.n * s.dk));
      double *vd = dalloc((size_t)(s.n * s.dv));
      double *work = dalloc(infini_ref_work_bytes_f64(&h) / sizeof(double) + 1);
      bool ok = true;
      for (int seg = 0; seg < 3; seg++) {
        segment g = segment_new(&r, s);
        tu_to_f64(s.n, s.dk, g.q, s.dk, qd, s.dk);
        tu_to_f64(s.n, s.dk, g.k, s.dk, kd, s.dk);
        tu_to_f64(s.n, s.dv, g.v, s.dv, vd, s.dv);
        ok = ok &&
             infini_segment_step(ctx, &h, &p, g.q, s.dk, g.k, s.dk, g.v, s.dv,
                                 m, s.dv, z, o, s.dv) == INFINI_OK;
        infini_ref_segment_step_f64(&h, &p, qd, s.dk, kd, s.dk, vd, s.dv, md,
                                    s.dv, zd, od, s.dv, work);
        ok = ok && tu_close_norm("out", s.n, s.dv, o, s.dv, od, s.dv, 1e-4) &&
             tu_close_norm("M", s.dk, s.dv, m, s.dv, md, s.dv, 1e-4) &&
             tu_close_norm("z", 1, s.dk, z, s.dk, zd, s.dk, 1e-5);
        segment_free(&g);
      }
      tap_ok(ok, "(h) shape (%td,%td,%td), %s: float ref and double oracle "
                 "agree over 3 segments (out, M normwise 1e-4, z 1e-5)",
             s.n, s.dk, s.dv, rule_name(p.rule));
      free(m), free(z), free(o), free(md), free(zd), free(od), free(qd);
      free(kd), free(vd), free(work);
    }
  }

  /* And the layer step (H = 4, H_kv = 2). */
  const ptrdiff_t n = 9, dk = 6, dv = 4, H = 4, Hkv = 2;
  const infini_layer_config cfg = {H, Hkv, dk, dv, INFINI_UPDATE_DELTA, 0.0f,
                                   infini_default_scale(dk)};
  const float betas[4] = {0.5f, -1.0f, 2.0f, 0.0f};
  tu_rng r = tu_rng_seed(0x8800);
  float *q = fzalloc(n * H * dk), *k = fzalloc(n * Hkv * dk);
  float *v = fzalloc(n * Hkv * dv), *o = fzalloc(n * H * dv);
  double *qd = dalloc((size_t)(n * H * dk)), *kd = dalloc((size_t)(n * Hkv * dk));
  double *vd = dalloc((size_t)(n * Hkv * dv)), *od = dalloc((size_t)(n * H * dv));
  double *md = dalloc((size_t)(Hkv * dk * dv)), *zd = dalloc((size_t)(Hkv * dk));
  const infini_head_shape h = {n, dk, dv};
  double *work = dalloc(infini_ref_work_bytes_f64(&h) / sizeof(double) + 1);
  infini_state *st = NULL;
  bool ok = infini_state_create(Hkv, dk, dv, &st) == INFINI_OK;
  for (int seg = 0; seg < 3 && ok; seg++) {
    tu_fill(&r, n, H * dk, q, H * dk, -2, 2);
    tu_fill(&r, n, Hkv * dk, k, Hkv * dk, -2, 2);
    tu_fill(&r, n, Hkv * dv, v, Hkv * dv, -1, 1);
    tu_to_f64(n, H * dk, q, H * dk, qd, H * dk);
    tu_to_f64(n, Hkv * dk, k, Hkv * dk, kd, Hkv * dk);
    tu_to_f64(n, Hkv * dv, v, Hkv * dv, vd, Hkv * dv);
    ok = infini_layer_step(ctx, &cfg, n, q, H * dk, k, Hkv * dk, v, Hkv * dv,
                           betas, st, o, H * dv) == INFINI_OK;
    infini_ref_layer_step_f64(&cfg, n, qd, H * dk, kd, Hkv * dk, vd, Hkv * dv,
                              betas, md, zd, od, H * dv, work);
    ok = ok && tu_close_norm("out", n, H * dv, o, H * dv, od, H * dv, 1e-4);
    for (ptrdiff_t g = 0; g < Hkv && ok; g++) {
      float *sm, *sz;
      ptrdiff_t ldm;
      ok = infini_state_head(st, g, &sm, &ldm, &sz) == INFINI_OK &&
           tu_close_norm("M", dk, dv, sm, ldm, md + g * dk * dv, dv, 1e-4) &&
           tu_close_norm("z", 1, dk, sz, dk, zd + g * dk, dk, 1e-5);
    }
  }
  tap_ok(ok, "(h) layer step H=4, H_kv=2, delta: float ref and double oracle "
             "agree over 3 segments");
  infini_state_free(st);
  free(q), free(k), free(v), free(o), free(qd), free(kd), free(vd), free(od);
  free(md), free(zd), free(work);
}

/* ======================================================================= */
/* (i) State: create / reset / copy / size.                                 */
/* ======================================================================= */

static bool state_is_zero(infini_state *st) {
  ptrdiff_t heads, dk, dv;
  if (infini_state_shape(st, &heads, &dk, &dv) != INFINI_OK)
    return false;
  for (ptrdiff_t g = 0; g < heads; g++) {
    float *m, *z;
    ptrdiff_t ldm;
    if (infini_state_head(st, g, &m, &ldm, &z) != INFINI_OK)
      return false;
    for (ptrdiff_t i = 0; i < dk; i++) {
      for (ptrdiff_t j = 0; j < dv; j++)
        if (m[i * ldm + j] != 0 || signbit(m[i * ldm + j]))
          return false;
      if (z[i] != 0 || signbit(z[i]))
        return false;
    }
  }
  return true;
}

static bool states_equal(infini_state *a, infini_state *b, bool verbose) {
  ptrdiff_t heads, dk, dv;
  if (infini_state_shape(a, &heads, &dk, &dv) != INFINI_OK)
    return false;
  for (ptrdiff_t g = 0; g < heads; g++) {
    float *ma, *za, *mb, *zb;
    ptrdiff_t lda, ldb;
    if (infini_state_head(a, g, &ma, &lda, &za) != INFINI_OK ||
        infini_state_head(b, g, &mb, &ldb, &zb) != INFINI_OK ||
        !(verbose ? tu_same_bits : tu_same_bits_quiet)(dk, dv, ma, lda, mb,
                                                       ldb) ||
        !(verbose ? tu_same_bits : tu_same_bits_quiet)(1, dk, za, dk, zb, dk))
      return false;
  }
  return true;
}

static void identity_i(void) {
  static const ptrdiff_t shapes[][3] = {
      {1, 1, 1}, {2, 3, 4}, {3, 16, 12}, {8, 128, 128}};
  bool ok = true;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const ptrdiff_t hk = shapes[i][0], dk = shapes[i][1], dv = shapes[i][2];
    size_t bytes = 0, size = 0;
    infini_state *st = NULL;
    ptrdiff_t a = 0, b = 0, c = 0;
    const size_t want = (size_t)(hk * dk * (dv + 1)) * 4;
    bool ok1 = infini_state_bytes(hk, dk, dv, &bytes) == INFINI_OK &&
               bytes == want &&
               infini_state_create(hk, dk, dv, &st) == INFINI_OK &&
               infini_state_size(st, &size) == INFINI_OK && size == want &&
               infini_state_shape(st, &a, &b, &c) == INFINI_OK && a == hk &&
               b == dk && c == dv && state_is_zero(st);
    /* Head blocks: M of head g at g*dk*dv, row stride dv; z at g*dk. */
    float *m0, *z0, *mg, *zg;
    ptrdiff_t ld0, ldg;
    ok1 = ok1 && infini_state_head(st, 0, &m0, &ld0, &z0) == INFINI_OK &&
          infini_state_head(st, hk - 1, &mg, &ldg, &zg) == INFINI_OK &&
          ld0 == dv && ldg == dv && mg == m0 + (hk - 1) * dk * dv &&
          zg == z0 + (hk - 1) * dk;
    if (!ok1)
      tap_diag("state (%td,%td,%td): bytes %zu size %zu want %zu", hk, dk, dv,
               bytes, size, want);
    ok = ok && ok1;
    infini_state_free(st);
  }
  tap_ok(ok, "(i) state_bytes = state_size = H_kv*dk*(dv+1)*4 for (1,1,1), "
             "(2,3,4), (3,16,12), (8,128,128); created zero; shape and head "
             "layout as documented");

  size_t bytes = 0;
  ok = infini_state_bytes(8, 128, 128, &bytes) == INFINI_OK;
  const size_t floats = bytes * 12 / 4;
  tap_ok(ok && floats == 1585152,
         "(i) paper Table 1 configuration: state_bytes(8, 128, 128) * 12 "
         "layers / 4 = 1,585,152 floats (got %zu)", floats);

  /* Copy then run: identical results; reset: zeros, and then the same as
   * a fresh state. */
  const ptrdiff_t n = 6, dk = 4, dv = 5, H = 4, Hkv = 2;
  const infini_layer_config cfg = {H, Hkv, dk, dv, INFINI_UPDATE_DELTA, 0.0f,
                                   infini_default_scale(dk)};
  const float betas[4] = {0.1f, 0.2f, -0.3f, 1.0f};
  tu_rng r = tu_rng_seed(0x1000);
  float *q = fzalloc(n * H * dk), *k = fzalloc(n * Hkv * dk);
  float *v = fzalloc(n * Hkv * dv), *o1 = fzalloc(n * H * dv);
  float *o2 = fzalloc(n * H * dv);
  infini_state *A = NULL, *B = NULL, *F = NULL;
  ok = infini_state_create(Hkv, dk, dv, &A) == INFINI_OK &&
       infini_state_create(Hkv, dk, dv, &B) == INFINI_OK &&
       infini_state_create(Hkv, dk, dv, &F) == INFINI_OK;
#define FILL_SEGMENT()                                  \
  do {                                                  \
    tu_fill(&r, n, H * dk, q, H * dk, -2, 2);           \
    tu_fill(&r, n, Hkv * dk, k, Hkv * dk, -2, 2);       \
    tu_fill(&r, n, Hkv * dv, v, Hkv * dv, -1, 1);       \
  } while (0)
#define LAYER(S, O)                                                       \
  infini_layer_step(ctx, &cfg, n, q, H * dk, k, Hkv * dk, v, Hkv * dv,   \
                    betas, (S), (O), H * dv)
  FILL_SEGMENT();
  ok = ok && LAYER(A, o1) == INFINI_OK && !state_is_zero(A);
  ok = ok && infini_state_copy(B, A) == INFINI_OK && states_equal(A, B, true);
  bool copy_ok = ok;
  for (int seg = 0; seg < 2 && copy_ok; seg++) {
    FILL_SEGMENT();
    copy_ok = LAYER(A, o1) == INFINI_OK && LAYER(B, o2) == INFINI_OK &&
              tu_same_bits(n, H * dv, o1, H * dv, o2, H * dv) &&
              states_equal(A, B, true);
  }
  tap_ok(copy_ok, "(i) state_copy then two more layer steps on both: "
                  "identical outputs and memories (bitwise)");
  /* The copy is deep: a step on A alone leaves B as it was. */
  infini_state *C = NULL;
  bool deep = infini_state_create(Hkv, dk, dv, &C) == INFINI_OK &&
              infini_state_copy(C, B) == INFINI_OK;
  FILL_SEGMENT();
  deep = deep && LAYER(A, o1) == INFINI_OK && states_equal(B, C, true) &&
         !states_equal(A, B, false);
  tap_ok(deep, "(i) state_copy is deep: stepping the source leaves the copy "
               "unchanged");
  infini_state_free(C);

  bool reset = infini_state_reset(A) == INFINI_OK && state_is_zero(A);
  tap_ok(reset, "(i) state_reset zeroes every M and z (+0)");
  FILL_SEGMENT();
  reset = reset && LAYER(A, o1) == INFINI_OK && LAYER(F, o2) == INFINI_OK &&
          tu_same_bits(n, H * dv, o1, H * dv, o2, H * dv) && states_equal(A, F, true);
  tap_ok(reset, "(i) after reset a layer step equals one on a fresh state "
                "(bitwise)");
#undef FILL_SEGMENT
#undef LAYER
  infini_state_free(A), infini_state_free(B), infini_state_free(F);
  free(q), free(k), free(v), free(o1), free(o2);
}

/* ======================================================================= */
/* (j) First segment: out = (1 - sigmoid(beta)) A_dot.                      */
/* ======================================================================= */

static void identity_j(void) {
  const float betas[] = {0.0f, 1.5f, -2.0f, 4.0f, INFINITY, -INFINITY};
  for (size_t si = 0; si < N_SHAPES; si++) {
    const shape3 s = SHAPES[si];
    const infini_head_shape h = hs(s);
    tu_rng r = tu_rng_seed(0x3000 + si);
    segment g = segment_new(&r, s);
    float *ad = fzalloc(s.n * s.dv), *out = fzalloc(s.n * s.dv);
    float *m = fzalloc(s.dk * s.dv), *z = fzalloc(s.dk);
    double *want = dalloc((size_t)(s.n * s.dv));
    const float scale = infini_default_scale(s.dk);
    bool ok = infini_local_attention(ctx, &h, g.q, s.dk, g.k, s.dk, g.v, s.dv,
                                     scale, ad, s.dv) == INFINI_OK;
    for (size_t bi = 0; bi < sizeof betas / sizeof betas[0]; bi++) {
      for (int e = 0; e < 2; e++) {
        const infini_step_params p = {(infini_update_rule)(bi % 2), betas[bi],
                                      e ? 0.5f : 0.0f, scale};
        memset(m, 0, sizeof(float) * (size_t)(s.dk * s.dv));
        memset(z, 0, sizeof(float) * (size_t)s.dk);
        ok = ok && infini_segment_step(ctx, &h, &p, g.q, s.dk, g.k, s.dk, g.v,
                                       s.dv, m, s.dv, z, out, s.dv) == INFINI_OK;
        const double w = 1.0 - 1.0 / (1.0 + exp(-(double)betas[bi]));
        for (ptrdiff_t i = 0; i < s.n * s.dv; i++)
          want[i] = w * ad[i];
        if (isinf(betas[bi])) {
          /* gate fully closed: A_dot exactly; fully open: exactly 0 */
          ok = ok && (betas[bi] < 0
                          ? tu_same_values(s.n, s.dv, out, s.dv, ad, s.dv)
                          : tu_close_f64("out", s.n, s.dv, out, s.dv, want,
                                         s.dv, 0, 0));
        } else {
          /* (S12): 1 - g may be computed directly, with an error of a few
           * units of 2^-24 relative to 1, so the bound is relative to
           * |A_dot| (A_mem = 0), not to |(1 - g) A_dot|. */
          for (ptrdiff_t i = 0; i < s.n * s.dv && ok; i++)
            if (!(fabs(out[i] - want[i]) <= 4 * FLT_EPSILON * fabs(ad[i]))) {
              tap_diag("beta %g, element %td: got %.9g want %.9g", betas[bi],
                       i, (double)out[i], want[i]);
              ok = false;
            }
        }
      }
    }
    tap_ok(ok, "(j) shape (%td,%td,%td): from empty memory, segment_step out "
               "= (1 - sigmoid(beta)) A_dot for beta in {0, 1.5, -2, 4, +inf, "
               "-inf}, eps in {0, 0.5}", s.n, s.dk, s.dv);
    segment_free(&g);
    free(ad), free(out), free(m), free(z), free(want);
  }
}

int main(void) {
  ctx = tu_ref_context();
  identity_a();
  identity_b();
  identity_c();
  identity_d();
  identity_e();
  identity_f();
  identity_g();
  identity_h();
  identity_i();
  identity_j();
  infini_context_free(ctx);
  return tap_done();
}

/*
 * vectors/test_ref_vectors.c - the float `ref` backend on every shipped
 * golden vector, through the public API, judged by the tolerance model
 * (conformance/tolerance.c) under the fp32 profile. One TAP line per test.
 * (The full runner with reports is infini-conform; this keeps the milestone
 * honest on its own.)
 *
 *   test-ref-vectors [DIR [PROFILE [BACKEND|PLUGIN.so]]]
 * DIR defaults to $srcdir/vectors/v2, PROFILE to fp32, BACKEND to ref; a
 * path ending in .so is loaded as a plugin (used for ad-hoc checks of
 * variants and mutants). With a fourth argument "quiet" only failures and
 * the summary are printed.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/tolerance.h"
#include "tests/tap.h"
#include "vectors/vecset.h"

static float *layout(const vs_tensor *t, size_t rows, size_t w, ptrdiff_t ld,
                     size_t *ld_out) {
  size_t l = ld > 0 ? (size_t)ld : w;
  float *b = malloc(sizeof(float) * (rows ? (rows - 1) * l + w : 1));
  /* rogue value between rows: a kernel that reads it produces garbage */
  for (size_t i = 0; rows && i < (rows - 1) * l + w; i++)
    b[i] = NAN;
  if (t)
    for (size_t r = 0; r < rows; r++)
      memcpy(b + r * l, (const float *)t->data + r * w, w * sizeof(float));
  *ld_out = l;
  return b;
}

static void pack(const float *b, size_t rows, size_t w, size_t ld, float *dst) {
  for (size_t r = 0; r < rows; r++)
    memcpy(dst + r * w, b + r * ld, w * sizeof(float));
}

/* Run one test; got[i] receives output i packed. */
static infini_status run(infini_context *ctx, const vs_group *g, vs_test *t,
                         float **got) {
  const size_t n = (size_t)g->n, dk = (size_t)g->d_key, dv = (size_t)g->d_value;
  size_t l0, l1, l2, lo;
  infini_status st = INFINI_OK;
  infini_head_shape sh = {g->n, g->d_key, g->d_value};
  switch (g->op) {
  case VS_FEATURE_MAP: {
    size_t R = (size_t)g->rows, C = (size_t)g->cols;
    float *x = layout(&t->inputs[0], R, C, g->ld_in[0], &l0);
    float *y = layout(NULL, R, C, g->ld_out, &lo);
    st = infini_feature_map(ctx, g->rows, g->cols, x, (ptrdiff_t)l0, y, (ptrdiff_t)lo);
    pack(y, R, C, lo, got[0]);
    free(x), free(y);
    break;
  }
  case VS_MIX: {
    size_t R = (size_t)g->rows, C = (size_t)g->cols;
    float *a = layout(&t->inputs[0], R, C, g->ld_in[0], &l0);
    float *d = layout(&t->inputs[1], R, C, g->ld_in[1], &l1);
    float *o = layout(NULL, R, C, g->ld_out, &lo);
    st = infini_mix(ctx, g->rows, g->cols, g->beta, a, (ptrdiff_t)l0, d,
                    (ptrdiff_t)l1, o, (ptrdiff_t)lo);
    pack(o, R, C, lo, got[0]);
    free(a), free(d), free(o);
    break;
  }
  case VS_RETRIEVE: {
    float *q = layout(&t->inputs[0], n, dk, g->ld_in[0], &l0);
    float *m = layout(&t->inputs[1], dk, dv, g->ld_in[1], &l1);
    float *a = layout(NULL, n, dv, g->ld_out, &lo);
    st = infini_retrieve(ctx, &sh, q, (ptrdiff_t)l0, m, (ptrdiff_t)l1,
                         t->inputs[2].data, g->eps, a, (ptrdiff_t)lo);
    pack(a, n, dv, lo, got[0]);
    free(q), free(m), free(a);
    break;
  }
  case VS_UPDATE_LINEAR:
  case VS_UPDATE_DELTA: {
    float *k = layout(&t->inputs[0], n, dk, g->ld_in[0], &l0);
    float *v = layout(&t->inputs[1], n, dv, g->ld_in[1], &l1);
    float *m = layout(&t->inputs[2], dk, dv, g->ld_in[2], &l2);
    memcpy(got[1], t->inputs[3].data, dk * sizeof(float));
    st = g->op == VS_UPDATE_DELTA
             ? infini_update_delta(ctx, &sh, k, (ptrdiff_t)l0, v, (ptrdiff_t)l1, m,
                                   (ptrdiff_t)l2, got[1], g->eps)
             : infini_update_linear(ctx, &sh, k, (ptrdiff_t)l0, v, (ptrdiff_t)l1, m,
                                    (ptrdiff_t)l2, got[1]);
    pack(m, dk, dv, l2, got[0]);
    free(k), free(v), free(m);
    break;
  }
  case VS_LOCAL_ATTENTION: {
    float *q = layout(&t->inputs[0], n, dk, g->ld_in[0], &l0);
    float *k = layout(&t->inputs[1], n, dk, g->ld_in[1], &l1);
    float *v = layout(&t->inputs[2], n, dv, g->ld_in[2], &l2);
    float *o = layout(NULL, n, dv, g->ld_out, &lo);
    st = infini_local_attention(ctx, &sh, q, (ptrdiff_t)l0, k, (ptrdiff_t)l1, v,
                                (ptrdiff_t)l2, g->scale, o, (ptrdiff_t)lo);
    pack(o, n, dv, lo, got[0]);
    free(q), free(k), free(v), free(o);
    break;
  }
  case VS_SEGMENT_STEP: {
    size_t lm;
    float *m = layout(NULL, dk, dv, g->ld_m, &lm);
    for (size_t r = 0; r < dk; r++)
      memset(m + r * lm, 0, dv * sizeof(float));
    memset(got[2], 0, dk * sizeof(float));
    infini_step_params p = {g->rule, g->beta, g->eps, g->scale};
    for (ptrdiff_t s = 0; s < g->segments && st == INFINI_OK; s++) {
      vs_tensor tq = t->inputs[0], tk = t->inputs[1], tv = t->inputs[2];
      tq.data = (float *)tq.data + (size_t)s * n * dk;
      tk.data = (float *)tk.data + (size_t)s * n * dk;
      tv.data = (float *)tv.data + (size_t)s * n * dv;
      float *q = layout(&tq, n, dk, g->ld_in[0], &l0);
      float *k = layout(&tk, n, dk, g->ld_in[1], &l1);
      float *v = layout(&tv, n, dv, g->ld_in[2], &l2);
      float *o = layout(NULL, n, dv, g->ld_out, &lo);
      st = infini_segment_step(ctx, &sh, &p, q, (ptrdiff_t)l0, k, (ptrdiff_t)l1, v,
                               (ptrdiff_t)l2, m, (ptrdiff_t)lm, got[2], o, (ptrdiff_t)lo);
      pack(o, n, dv, lo, got[0] + (size_t)s * n * dv);
      free(q), free(k), free(v), free(o);
    }
    pack(m, dk, dv, lm, got[1]);
    free(m);
    break;
  }
  case VS_LAYER_STEP: {
    const size_t H = (size_t)g->n_heads, G = (size_t)g->n_kv_heads;
    infini_layer_config c = {g->n_heads, g->n_kv_heads, g->d_key, g->d_value,
                             g->rule, g->eps, g->scale};
    infini_state *state;
    st = infini_state_create(g->n_kv_heads, g->d_key, g->d_value, &state);
    if (st != INFINI_OK)
      return st;
    for (ptrdiff_t s = 0; s < g->segments && st == INFINI_OK; s++) {
      vs_tensor tq = t->inputs[0], tk = t->inputs[1], tv = t->inputs[2];
      tq.data = (float *)tq.data + (size_t)s * n * H * dk;
      tk.data = (float *)tk.data + (size_t)s * n * G * dk;
      tv.data = (float *)tv.data + (size_t)s * n * G * dv;
      float *q = layout(&tq, n, H * dk, g->ld_in[0], &l0);
      float *k = layout(&tk, n, G * dk, g->ld_in[1], &l1);
      float *v = layout(&tv, n, G * dv, g->ld_in[2], &l2);
      float *o = layout(NULL, n, H * dv, g->ld_out, &lo);
      st = infini_layer_step(ctx, &c, g->n, q, (ptrdiff_t)l0, k, (ptrdiff_t)l1, v,
                             (ptrdiff_t)l2, t->inputs[3].data, state, o, (ptrdiff_t)lo);
      pack(o, n, H * dv, lo, got[0] + (size_t)s * n * H * dv);
      free(q), free(k), free(v), free(o);
    }
    for (size_t h = 0; h < G; h++) {
      float *m, *z;
      ptrdiff_t ldm;
      infini_state_head(state, (ptrdiff_t)h, &m, &ldm, &z);
      pack(m, dk, dv, (size_t)ldm, got[1] + h * dk * dv);
      memcpy(got[2] + h * dk, z, dk * sizeof(float));
    }
    infini_state_free(state);
    break;
  }
  default:
    return INFINI_ERR_PARAM;
  }
  return st;
}

int main(int argc, char **argv) {
  const char *srcdir = getenv("srcdir");
  char dir[4096], err[1024];
  tol_profile profile = TOL_FP32;
  const infini_backend *be = NULL;
  infini_context *ctx;
  bool quiet = argc > 4 && !strcmp(argv[4], "quiet");
  snprintf(dir, sizeof dir, "%s/vectors/v2", srcdir ? srcdir : ".");
  if (argc > 1)
    snprintf(dir, sizeof dir, "%s", argv[1]);
  if (argc > 2 && !tol_profile_from_name(argv[2], &profile)) {
    fprintf(stderr, "unknown profile %s\n", argv[2]);
    return 2;
  }
  if (argc > 3 && strstr(argv[3], ".so")) {
    if (infini_plugin_load(argv[3], &be) != INFINI_OK) {
      fprintf(stderr, "cannot load plugin %s\n", argv[3]);
      return 2;
    }
  } else if (infini_backend_find(argc > 3 ? argv[3] : "ref", &be) != INFINI_OK) {
    fprintf(stderr, "no backend %s\n", argv[3]);
    return 2;
  }
  if (infini_context_create(be, &ctx) != INFINI_OK)
    return 99;
  int failed = 0, total = 0;
  for (int op = 0; op < VS_OP_COUNT; op++) {
    char path[4200];
    vs_set set;
    double worst = 0;
    const char *worst_where = "";
    char wbuf[256] = "";
    snprintf(path, sizeof path, "%s/%s.json", dir, vs_op_name((vs_op)op));
    if (!vs_set_load(path, &set, err, sizeof err)) {
      tap_ok(false, "%s", err);
      continue;
    }
    for (int gi = 0; gi < set.n_groups; gi++) {
      vs_group *g = &set.groups[gi];
      for (int ti = 0; ti < g->n_tests; ti++) {
        vs_test *t = &g->tests[ti];
        float *got[VS_MAX_OUTPUTS];
        tol_result res[VS_MAX_OUTPUTS];
        int which = 0;
        if (!vs_test_load(&set, t, err, sizeof err)) {
          tap_ok(false, "%s tcId %d: %s", vs_op_name((vs_op)op), t->id, err);
          continue;
        }
        for (int i = 0; i < t->outputs.count; i++)
          got[i] = calloc(vs_tensor_count(&t->outputs.items[i].expected) + 1,
                          sizeof(float));
        infini_status st = run(ctx, g, t, got);
        bool pass = st == INFINI_OK &&
                    tol_judge_test(t, profile, (const float *const *)got, res, &which);
        double r = 0;
        int wo = 0;
        for (int i = 0; i < t->outputs.count && st == INFINI_OK; i++)
          if (res[i].worst_ratio > r || i == 0) {
            r = res[i].worst_ratio;
            wo = i;
          }
        total++;
        if (!pass)
          failed++;
        if (st == INFINI_OK && r >= worst) {
          worst = r;
          snprintf(wbuf, sizeof wbuf, "tcId %d %s", t->id,
                   t->outputs.items[wo].expected.name);
          worst_where = wbuf;
        }
        if (!quiet || !pass)
          tap_ok(pass, "%s tcId %d%s: worst ratio %.3g in %s[%zu] (got %.9g, expected %.9g, allowed %.3g)%s",
                 vs_op_name((vs_op)op), t->id,
                 t->result == VS_ACCEPTABLE ? (which ? " (alternative)" : " (outputs)") : "",
                 r, st == INFINI_OK ? t->outputs.items[wo].expected.name : "-",
                 st == INFINI_OK ? res[wo].worst_index : 0,
                 st == INFINI_OK ? res[wo].got : 0, st == INFINI_OK ? res[wo].expected : 0,
                 st == INFINI_OK ? res[wo].allowed : 0,
                 st == INFINI_OK ? "" : " [status error]");
        for (int i = 0; i < t->outputs.count; i++)
          free(got[i]);
        vs_test_unload(t);
      }
    }
    tap_diag("%s: worst ratio %.4g (%s)", vs_op_name((vs_op)op), worst, worst_where);
    vs_set_free(&set);
  }
  tap_diag("%s on %s under %s: %d of %d tests failed", be->name, dir,
           tol_profile_name(profile), failed, total);
  if (quiet && failed == 0)
    tap_ok(true, "all %d tests pass", total);
  infini_context_free(ctx);
  return tap_done();
}

/*
 * conformance/test_diagnose.c - the runner's judging and its diagnosis of
 * convention differences, on the shipped vectors (TAP):
 *
 *  - every case run on the ref backend through the runner passes;
 *  - the diagnosis model without any alternative ("none") reproduces every
 *    expected output within tolerance (it is the oracle, re-expressed);
 *  - for each convention difference of the issue (first segment unmixed,
 *    1/sqrt(d_model) scale, swapped gate, eps added, update before
 *    retrieval, K/V swapped, delta prediction from the updated memory, z not
 *    updated in delta mode), outputs computed under that convention fail
 *    wherever they differ, and every such failure is diagnosed as that
 *    convention (or, where two conventions give the same outputs, names
 *    it second).
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/conform.h"
#include "tests/tap.h"

static cf_case *cases;
static size_t n_cases;

/* The outputs under alternative `alt` of case c; judged and diagnosed.
 * Returns 0 (outputs conform), 1 (fail, diagnosed with `phrase`), 2 (fail,
 * diagnosed otherwise), 3 (fail, not diagnosed). */
static int probe(const cf_case *c, const char *alt, const char *phrase, char **said) {
  cf_outputs out = {0};
  if (!cf_diagnose_model(c, alt, &out))
    return -1;
  cf_result r;
  memset(&r, 0, sizeof r);
  cf_judge(c, TOL_FP32, &out, &r);
  int verdict = 0;
  if (r.failed) {
    char *d = cf_diagnose(c, TOL_FP32, &out);
    verdict = !d ? 3 : strstr(d, phrase) ? 1 : 2;
    if (verdict == 3)
      tap_diag("%s %s:%d not diagnosed: %s", alt, c->set->file, c->test->id, r.message);
    if (said && d && verdict == 2 && !*said)
      *said = cf_xstrdup(d);
    free(d);
  }
  free(r.message);
  cf_outputs_free(&out);
  return verdict;
}

typedef struct convention {
  const char *alt;      /* name for cf_diagnose_model; "scale" gets a value */
  const char *phrase;   /* what the diagnosis must say */
} convention;

static const convention conventions[] = {
    {"first_unmixed", "first segment unmixed"},
    {"scale", "scale differs"},
    {"gate_swap", "gate sides swapped"},
    {"eps:1e-6", "eps added"},
    {"eps:1e-3", "eps added"},
    {"update_first", "update before retrieval"},
    {"kv_swap_mem", "K and V swapped in the memory update"},
    {"delta_from_updated", "delta prediction from the updated memory"},
    {"z_frozen", "z not updated in delta mode"},
};

int main(void) {
  char err[1024];
  cf_vectors v;
  const char *dir = cf_default_vectors();
  if (!cf_vectors_load(dir, &v, err, sizeof err)) {
    printf("Bail out! %s\n", err);
    return 99;
  }
  cf_selection sel;
  cf_selection_init(&sel);
  n_cases = cf_select(&v, &sel, &cases);
  if (!cf_cases_load(cases, n_cases, err, sizeof err)) {
    printf("Bail out! %s\n", err);
    return 99;
  }
  tap_diag("%zu cases from %s", n_cases, v.dir);

  /* ref through the runner, and the model without alternative. */
  const infini_backend *ref;
  infini_context *ctx;
  if (infini_backend_find("ref", &ref) != INFINI_OK ||
      infini_context_create(ref, &ctx) != INFINI_OK) {
    printf("Bail out! no ref backend\n");
    return 99;
  }
  for (int op = 0; op < VS_OP_COUNT; op++) {
    size_t n = 0, ran = 0, model_ok = 0;
    for (size_t i = 0; i < n_cases; i++) {
      const cf_case *c = &cases[i];
      if ((int)c->group->op != op)
        continue;
      n++;
      cf_outputs got = {0};
      char *why = NULL;
      if (cf_run_case(ctx, c, &got, &why)) {
        cf_result r;
        memset(&r, 0, sizeof r);
        cf_judge(c, TOL_FP32, &got, &r);
        ran += !r.failed;
        if (r.failed)
          tap_diag("ref %s:%d: %s", c->set->file, c->test->id, r.message);
        free(r.message);
      } else {
        tap_diag("ref %s:%d: %s", c->set->file, c->test->id, why);
      }
      free(why);
      cf_outputs_free(&got);
      cf_result r;
      memset(&r, 0, sizeof r);
      if (cf_diagnose_model(c, "none", &got)) {
        cf_judge(c, TOL_FP32, &got, &r);
        model_ok += !r.failed;
        if (r.failed)
          tap_diag("model %s:%d: %s", c->set->file, c->test->id, r.message);
        free(r.message);
      }
      cf_outputs_free(&got);
    }
    if (!n)
      continue;
    tap_ok(ran == n, "%s: ref passes %zu of %zu cases through the runner",
           vs_op_name((vs_op)op), ran, n);
    tap_ok(model_ok == n, "%s: the diagnosis model reproduces %zu of %zu cases",
           vs_op_name((vs_op)op), model_ok, n);
  }
  infini_context_free(ctx);

  /* Each convention difference: caught and named. */
  for (size_t k = 0; k < sizeof conventions / sizeof conventions[0]; k++) {
    const convention *cv = &conventions[k];
    size_t failed = 0, named = 0, other = 0, silent = 0;
    char *said = NULL;
    cf_diagnose_reset();
    for (size_t i = 0; i < n_cases; i++) {
      const cf_case *c = &cases[i];
      char alt[64];
      if (strcmp(cv->alt, "scale") == 0) {
        /* the paper's 1/sqrt(d_model): H d_key, H = the layer's or 8 */
        double H = c->group->op == VS_LAYER_STEP ? (double)c->group->n_heads : 8;
        if (H < 2)
          H = 8;
        snprintf(alt, sizeof alt, "scale:%.9g", 1 / sqrt(H * (double)c->group->d_key));
      } else {
        snprintf(alt, sizeof alt, "%s", cv->alt);
      }
      int verdict = probe(c, alt, cv->phrase, &said);
      if (verdict <= 0)
        continue;
      failed++;
      named += verdict == 1;
      other += verdict == 2;
      silent += verdict == 3;
    }
    tap_ok(failed > 0, "%s: the vectors catch it (%zu cases fail)", cv->alt, failed);
    tap_ok(named == failed,
           "%s: %zu of %zu failures diagnosed as \"%s\" (%zu otherwise, %zu not at all)",
           cv->alt, named, failed, cv->phrase, other, silent);
    if (said)
      tap_diag("%s: also said \"%s\"", cv->alt, said);
    free(said);
  }

  free(cases);
  cf_selection_free(&sel);
  cf_vectors_free(&v);
  return tap_done();
}

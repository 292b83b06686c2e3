/*
 * conformance/model/test_model_golden.c - every backend's float model
 * (infini_model_forward) against the full-model golden set, per segment,
 * per layer and for the logits (docs/tolerances.md "Model-level
 * tolerance"). TAP: one case per preset and backend, with the worst ratio
 * error / tolerance and where it is; a backend that cannot run here is a
 * SKIP.
 *
 *   test-model-golden [SET_DIR]     (default: the source tree's vectors/model/v1)
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/model/golden.h"
#include "tests/tap.h"

/* The backend's float model over the whole stream, one call. */
static bool run_backend(const mg_set *s, const infini_backend *be, float *logits,
                        float *hidden, char *err, size_t errlen) {
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  infini_model *model = NULL;
  infini_model_state *st = NULL;
  bool ok = mg_set_model(s, tmp, be, &model, err, errlen);
  ok = ok && infini_model_state_create(model, &st) == INFINI_OK &&
       infini_model_forward(model, st, s->tok, s->tokens, logits, hidden) == INFINI_OK;
  if (!ok && !err[0])
    snprintf(err, errlen, "the model could not run");
  infini_model_state_free(st);
  infini_model_free(model);
  return ok;
}

static double check_backend(const mg_set *s, const infini_backend *be) {
  const infini_model_config *c = &s->config;
  float *logits = malloc(sizeof(float) * (size_t)(s->tokens * c->vocab_size));
  float *hidden = malloc(sizeof(float) * (size_t)(c->n_layers * s->tokens * c->d_model));
  char err[512] = "", where[32];
  mg_verdict v = {0};
  bool ok = logits && hidden && run_backend(s, be, logits, hidden, err, sizeof err);
  if (ok) {
    mg_judge(s, s->segments, (mg_view){logits, NULL, s->tokens},
             (mg_view){hidden, NULL, s->tokens}, NULL, &v);
    mg_tensor_name(c, v.tensor, where, sizeof where);
    ok = v.worst <= 1.0;
  }
  tap_ok(ok, "%s on %s%s: worst error/tolerance %.3g (%s, segment %td)%s%s",
         s->preset->name, be->name,
         be->availability() == INFINI_EMULATED ? " (emulated)" : "", v.worst,
         ok || !err[0] ? where : "-", v.seg, err[0] ? ": " : "", err);
  free(logits);
  free(hidden);
  return ok ? v.worst : INFINITY;
}

/* $INFINI_TEST_BACKENDS, when set, names the backends to run (separated by
 * spaces or commas); the others are skipped. Cross-architecture runs under
 * qemu use it: there SIMDe-emulated backends, emulated again by qemu, take
 * many minutes, and the question is only whether the files read right. */
static bool selected(const char *name) {
  const char *list = getenv("INFINI_TEST_BACKENDS");
  if (!list)
    return true;
  const size_t len = strlen(name);
  for (const char *p = list; (p = strstr(p, name)) != NULL; p += len) {
    const bool starts = p == list || p[-1] == ' ' || p[-1] == ',';
    const bool ends = p[len] == '\0' || p[len] == ' ' || p[len] == ',';
    if (starts && ends)
      return true;
  }
  return false;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : INFINI_SRCDIR "/vectors/model/v1";
  size_t n;
  const mg_preset *p = mg_presets(&n);
  double worst[64] = {0};
  for (size_t i = 0; i < n; i++) {
    mg_set s;
    char err[512];
    if (!tap_ok(mg_set_load(dir, &p[i], &s, err, sizeof err), "%s: set loads from %s",
                p[i].name, dir)) {
      tap_diag("%s", err);
      continue;
    }
    for (size_t b = 0; b < infini_backend_count() && b < 64; b++) {
      const infini_backend *be = infini_backend_at(b);
      if (be->availability() == INFINI_UNAVAILABLE) {
        printf("ok %d - %s on %s # SKIP cannot run here\n", ++tap_count,
               p[i].name, be->name);
        continue;
      }
      if (!selected(be->name)) {
        printf("ok %d - %s on %s # SKIP not in $INFINI_TEST_BACKENDS\n",
               ++tap_count, p[i].name, be->name);
        continue;
      }
      const double r = check_backend(&s, be);
      worst[b] = r > worst[b] ? r : worst[b];
    }
    mg_set_free(&s);
  }
  for (size_t b = 0; b < infini_backend_count() && b < 64; b++)
    tap_diag("%s: worst ratio over every preset %.3g", infini_backend_at(b)->name,
             worst[b]);
  return tap_done();
}

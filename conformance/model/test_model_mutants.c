/*
 * conformance/model/test_model_mutants.c - the model-level mutants and
 * variants (docs/mutants.md "Model-level mutants"): the independent double
 * model (dmodel.c), with each mutation, must be rejected by the golden
 * check of every preset where the mutation changes the model; with each
 * correct variant it must be accepted on every preset. TAP: one case per
 * mutant and variant, saying which tensor caught the mutant (the first
 * failing segment and tensor, and the worst), then the margin.
 *
 *   test-model-mutants [SET_DIR]
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "conformance/model/dmodel.h"
#include "conformance/model/golden.h"
#include "tests/tap.h"

#define MAX_PRESETS 16

/* A mutation that cannot change a preset's model in exact arithmetic is
 * not judged there: h % H_kv == h / G when H == H_kv, and without RoPE
 * rotated and raw Q/K are the same. Nor is one below the resolution of
 * float32 arithmetic: dropping the default norm_eps 1e-5 moves hidden
 * states of mean square ~1.3 by 4e-6 relatively, under the model's
 * tolerance; the presets with eps 2^-6 judge it. */
static bool applies(dm_mutant mu, const infini_model_config *c) {
  if (mu == CAT_rms_no_eps)
    return c->norm_eps >= 1e-3f;
  if (mu == CAT_gqa_mod)
    return c->n_heads != c->n_kv_heads;
  if (mu == CAT_rope_before_memory)
    return c->position == INFINI_POSITION_ROPE;
  return true;
}

/* The double model over the set's stream: whole segments per call, or one
 * token per call (variant token_by_token). */
static bool run(dmodel *m, const mg_set *s, bool per_token, double *logits,
                double *hidden) {
  dm_stream *st;
  if (dm_stream_create(m, &st) != INFINI_OK)
    return false;
  const infini_model_config *c = &s->config;
  const ptrdiff_t T = s->tokens, L = c->n_layers, D = c->d_model, V = c->vocab_size;
  const ptrdiff_t step = per_token ? 1 : c->segment_len;
  double *hl = malloc(sizeof(double) * (size_t)(L * step * D));
  bool ok = hl != NULL;
  for (ptrdiff_t at = 0; ok && at < T; at += step) {
    ok = dm_forward(m, st, s->tok + at, step, logits + at * V, hl) == INFINI_OK;
    for (ptrdiff_t l = 0; ok && l < L; l++) /* [L x step x D] into [L x T x D] */
      for (ptrdiff_t i = 0; i < step * D; i++)
        hidden[(l * T + at) * D + i] = hl[l * step * D + i];
  }
  free(hl);
  dm_stream_free(st);
  return ok;
}

static bool judge(const mg_set *s, const infini_model *model, dm_mutant mu,
                  dm_variant va, mg_verdict *v) {
  const infini_model_config *c = &s->config;
  double *logits = malloc(sizeof(double) * (size_t)(s->tokens * c->vocab_size));
  double *hidden = malloc(sizeof(double) * (size_t)(c->n_layers * s->tokens * c->d_model));
  dmodel *m = NULL;
  bool ok = logits && hidden && dm_create(model, mu, va, &m) == INFINI_OK &&
            run(m, s, va == CAT_token_by_token, logits, hidden);
  if (ok)
    mg_judge(s, s->segments, (mg_view){NULL, logits, s->tokens},
             (mg_view){NULL, hidden, s->tokens}, NULL, v);
  dm_free(m);
  free(logits);
  free(hidden);
  return ok;
}

typedef struct loaded {
  mg_set set[MAX_PRESETS];
  infini_model *model[MAX_PRESETS];
  size_t n;
} loaded;

static bool load_all(const char *dir, loaded *w) {
  size_t n;
  const mg_preset *p = mg_presets(&n);
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  const infini_backend *ref = NULL;
  char err[512] = "";
  w->n = 0;
  bool ok = infini_backend_find("ref", &ref) == INFINI_OK;
  for (size_t i = 0; ok && i < n && i < MAX_PRESETS; i++, w->n++) {
    ok = mg_set_load(dir, &p[i], &w->set[i], err, sizeof err) &&
         mg_set_model(&w->set[i], tmp, ref, &w->model[i], err, sizeof err);
    if (!ok)
      tap_diag("%s: %s", p[i].name, err);
  }
  return tap_ok(ok, "%zu golden sets and their weights load from %s", w->n, dir);
}

/* One mutant over every preset: rejected wherever it applies. Returns
 * its weakest worst ratio (the preset where it is hardest to see). */
static double check_mutant(const loaded *w, dm_mutant mu) {
  double weakest = INFINITY;
  bool ok = true;
  char caught[1024] = "";
  size_t len = 0, judged = 0;
  for (size_t i = 0; i < w->n; i++) {
    const infini_model_config *c = &w->set[i].config;
    mg_verdict v = {0};
    char first[32] = "-", worst[32];
    if (!applies(mu, c))
      continue;
    judged++;
    ok = judge(&w->set[i], w->model[i], mu, CAT_plain, &v) && ok && v.worst > 1.0;
    if (v.first_fail_seg >= 0)
      mg_tensor_name(c, v.first_fail_tensor, first, sizeof first);
    mg_tensor_name(c, v.tensor, worst, sizeof worst);
    weakest = v.worst < weakest ? v.worst : weakest;
    len += (size_t)snprintf(caught + len, len < sizeof caught ? sizeof caught - len : 0,
                            "%s%s: first %s seg %td, worst %.3g (%s seg %td)",
                            len ? "; " : "", w->set[i].preset->name, first,
                            v.first_fail_seg, v.worst, worst, v.seg);
  }
  tap_ok(ok && judged > 0, "mutant %s rejected (%s): %s", dm_mutant_name(mu), dm_mutant_desc(mu), caught);
  return weakest;
}

/* One variant over every preset: accepted everywhere. Returns its worst
 * ratio. */
static double check_variant(const loaded *w, dm_variant va) {
  double strongest = 0.0;
  bool ok = true;
  char where[64] = "-", at[32];
  for (size_t i = 0; i < w->n; i++) {
    mg_verdict v = {0};
    ok = judge(&w->set[i], w->model[i], DM_NONE, va, &v) && ok && v.worst <= 1.0;
    if (v.worst >= strongest) {
      strongest = v.worst;
      mg_tensor_name(&w->set[i].config, v.tensor, at, sizeof at);
      snprintf(where, sizeof where, "%s %s seg %td", w->set[i].preset->name, at, v.seg);
    }
  }
  tap_ok(ok, "variant %s accepted (%s): worst ratio %.3g (%s)", dm_variant_name(va),
         dm_variant_desc(va), strongest, where);
  return strongest;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : INFINI_SRCDIR "/vectors/model/v1";
  static loaded w;
  if (!load_all(dir, &w))
    return tap_done();
  double weakest = INFINITY, strongest = 0.0;
  dm_mutant weak_m = DM_NONE;
  dm_variant strong_v = CAT_plain;
  /* Every bug and variant of the catalogue that concerns the model. */
  for (int id = 0; id < CAT_COUNT; id++) {
    const cat_entry *e = cat_get((cat_id)id);
    if (!(e->ops & CAT_MODEL))
      continue;
    const double r = e->kind == CAT_BUG ? check_mutant(&w, (cat_id)id)
                                        : check_variant(&w, (cat_id)id);
    if (e->kind == CAT_BUG && r < weakest)
      weakest = r, weak_m = (cat_id)id;
    if (e->kind == CAT_VARIANT && r > strongest)
      strongest = r, strong_v = (cat_id)id;
  }
  tap_ok(weakest > 1.0 && strongest <= 1.0,
         "margin: weakest mutant %s %.3g, strongest variant %s %.3g: factor %.3g",
         dm_mutant_name(weak_m), weakest, dm_variant_name(strong_v), strongest,
         weakest / strongest);
  for (size_t i = 0; i < w.n; i++) {
    infini_model_free(w.model[i]);
    mg_set_free(&w.set[i]);
  }
  return tap_done();
}

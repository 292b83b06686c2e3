/*
 * conformance/model/infini-model-vectors.c - writes the full-model golden
 * set (docs/tolerances.md, 11.1): for each preset, random weights
 * (infini_model_write_random, not stored: the manifest keeps their
 * SHA-256), the token stream, the double oracle's logits and hidden states
 * rounded to float32, and the tolerance (docs/tolerances.md, "Model-level
 * tolerance").
 *
 *   infini-model-vectors --out DIR [--tmp DIR] [PRESET...]
 *
 * Without presets it writes all of them; the shipped set vectors/model/v1
 * is exactly this output (make check rebuilds it byte for byte).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/model/golden.h"
#include "ref/model_oracle.h"

/* The oracle over the whole stream: double logits and hidden states. */
static bool oracle_run(const infini_model *model, const int32_t *tok,
                       ptrdiff_t n, double *logits, double *hidden) {
  infini_oracle_model *om = NULL;
  infini_oracle_state *os = NULL;
  bool ok = infini_oracle_model_create(model, &om) == INFINI_OK &&
            infini_oracle_state_create(om, &os) == INFINI_OK &&
            infini_oracle_forward(om, os, tok, n, logits, hidden) == INFINI_OK;
  infini_oracle_state_free(os);
  infini_oracle_model_free(om);
  return ok;
}

static float *to_float(const double *d, size_t n) {
  float *f = malloc(n * sizeof *f);
  for (size_t i = 0; f && i < n; i++)
    f[i] = (float)d[i];
  return f;
}

/* Worst tolerance per tensor, relative to the expected norm: the summary
 * line, so a regeneration shows what the tolerance is. */
static void summary(const mg_set *s) {
  const infini_model_config *c = &s->config;
  const ptrdiff_t L = c->n_layers;
  const mg_view el = {s->logits, NULL, s->tokens}, eh = {s->hidden, NULL, s->tokens}, none = {0};
  printf("%s: %td segments, tolerance / ||expected|| (largest over segments):",
         s->preset->name, s->segments);
  for (ptrdiff_t t = 0; t <= L; t++) {
    double worst = 0.0;
    for (ptrdiff_t seg = 0; seg < s->segments; seg++) {
      const double r = s->tol[seg * (L + 1) + t] /
                       mg_seg_norm(c, t, seg, t < L ? eh : el, none);
      worst = r > worst ? r : worst;
    }
    char name[32];
    mg_tensor_name(c, t, name, sizeof name);
    printf(" %s %.3g", name, worst);
  }
  printf("\n");
}

static bool build(const mg_preset *p, const char *out, const char *tmp) {
  char err[512] = "", path[4096];
  mg_set s = {.preset = p, .segments = p->segments};
  infini_model *model = NULL;
  const infini_backend *ref = NULL;
  double *logits = NULL, *hidden = NULL;
  bool ok = mg_preset_config(p, &s.config) == INFINI_OK &&
            infini_backend_find("ref", &ref) == INFINI_OK &&
            mg_weights_write(p, tmp, path, sizeof path, s.weights_sha256, err, sizeof err) &&
            infini_model_load(path, ref, &model, err, sizeof err) == INFINI_OK;
  remove(path);
  const infini_model_config *c = &s.config;
  s.tokens = s.segments * c->segment_len;
  const size_t nl = (size_t)(s.tokens * c->vocab_size),
               nh = (size_t)(c->n_layers * s.tokens * c->d_model);
  if (ok) {
    s.tok = malloc(sizeof(int32_t) * (size_t)s.tokens);
    s.tol = malloc(sizeof(double) * (size_t)(s.segments * (c->n_layers + 1)));
    logits = malloc(nl * sizeof(double));
    hidden = malloc(nh * sizeof(double));
    ok = s.tok && s.tol && logits && hidden;
  }
  if (ok)
    mg_tokens(p->token_seed, c->vocab_size, s.tokens, s.tok);
  ok = ok && (oracle_run(model, s.tok, s.tokens, logits, hidden) ||
              !snprintf(err, sizeof err, "the oracle failed"));
  ok = ok && (s.logits = to_float(logits, nl)) && (s.hidden = to_float(hidden, nh));
  ok = ok && mg_tolerance(model, s.tok, s.segments, logits, hidden, s.tol, NULL,
                          err, sizeof err);
  ok = ok && mg_set_write(out, &s, err, sizeof err);
  if (ok)
    summary(&s);
  else
    fprintf(stderr, "infini-model-vectors: %s: %s\n", p->name, err[0] ? err : "failed");
  free(logits);
  free(hidden);
  mg_set_free(&s);
  infini_model_free(model);
  return ok;
}

int main(int argc, char **argv) {
  const char *out = NULL, *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  int first = 1;
  for (; first < argc && argv[first][0] == '-'; first += 2) {
    if (first + 1 >= argc)
      break;
    if (strcmp(argv[first], "--out") == 0)
      out = argv[first + 1];
    else if (strcmp(argv[first], "--tmp") == 0)
      tmp = argv[first + 1];
    else
      break;
  }
  if (!out || (first < argc && argv[first][0] == '-')) {
    fprintf(stderr, "usage: infini-model-vectors --out DIR [--tmp DIR] [PRESET...]\n");
    return 2;
  }
  size_t n;
  const mg_preset *all = mg_presets(&n);
  int bad = 0;
  if (first == argc)
    for (size_t i = 0; i < n; i++)
      bad |= !build(&all[i], out, tmp);
  for (int i = first; i < argc; i++) {
    const mg_preset *p = mg_preset_find(argv[i]);
    if (!p) {
      fprintf(stderr, "infini-model-vectors: no preset '%s'\n", argv[i]);
      return 2;
    }
    bad |= !build(p, out, tmp);
  }
  return bad;
}

/*
 * conformance/model/golden.h - the full-model golden set (vectors/model/v1,
 * docs/tolerances.md section 11.1): the presets, the token streams, the
 * set on disk (manifest and .npy files), the tolerance of the model
 * (docs/tolerances.md, "Model-level tolerance") and the judge.
 */
#ifndef INFINI_CONFORMANCE_MODEL_GOLDEN_H
#define INFINI_CONFORMANCE_MODEL_GOLDEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "infini_model.h"

#define MG_SCHEMA "infini-model-vectors"
#define MG_SCHEMA_VERSION 1
/* generatorVersion: "infini-model-vectors " and infini_version(). */
#define MG_GENERATOR "infini-model-vectors"

/** A golden config: the model, its weight and token seeds, its length. */
typedef struct mg_preset {
  const char *name;
  ptrdiff_t vocab, d_model, layers, heads, kv_heads, d_head, d_ff, seg_len;
  infini_update_rule rule;
  infini_position position;
  float norm_eps;     /* 0: the default (infini_model_config_init) */
  uint64_t weight_seed, token_seed;
  ptrdiff_t segments; /* segments stored in the set */
  float rope_theta;   /* 0: the default */
} mg_preset;

/** The shipped presets (count in *n). */
const mg_preset *mg_presets(size_t *n);
const mg_preset *mg_preset_find(const char *name);
/** Its config: infini_model_config_init's defaults with the preset's
 *  shape, rule, position and norm_eps. */
infini_status mg_preset_config(const mg_preset *p, infini_model_config *c);

/** The token stream: (splitmix64(seed) >> 32) % V, n tokens. */
void mg_tokens(uint64_t seed, ptrdiff_t vocab, ptrdiff_t n, int32_t *out);

/** A golden set of one preset, in memory. */
typedef struct mg_set {
  const mg_preset *preset;
  infini_model_config config;
  char weights_sha256[65];
  ptrdiff_t segments, tokens;   /* tokens = segments * N */
  int32_t *tok;                 /* [tokens] */
  float *logits;                /* [tokens x V] */
  float *hidden;                /* [L x tokens x D] */
  double *tol;                  /* [segments x (L + 1)]: layers, then logits */
} mg_set;

void mg_set_free(mg_set *s);

/** Write random weights for the preset (infini_model_write_random) into
 *  dir, and their SHA-256; the file is dir/<name>.safetensors. */
bool mg_weights_write(const mg_preset *p, const char *dir, char *path,
                      size_t pathlen, char sha256[65], char *err, size_t errlen);

/** Load a set's manifest and files (each checked against its sha256). */
bool mg_set_load(const char *dir, const mg_preset *p, mg_set *s, char *err,
                 size_t errlen);
/** Write a set: dir/<name>.json and dir/<name>/{tokens,logits,hidden,tol}.npy. */
bool mg_set_write(const char *dir, const mg_set *s, char *err, size_t errlen);

/** The weights of a set, regenerated and checked against the manifest's
 *  SHA-256, loaded for @p backend (NULL: default). */
bool mg_set_model(const mg_set *s, const char *tmpdir,
                  const infini_backend *backend, infini_model **model,
                  char *err, size_t errlen);

/**
 * The tolerance (docs/tolerances.md, "Model-level tolerance"): for every
 * rounding site of the model, the independent double model run with that
 * site perturbed by its first-order bound with random signs; per segment
 * and tensor (layer 1..L, then logits) the Frobenius norm of the deviation
 * from the unperturbed run, summed over the sites, plus u ||expected|| for
 * the float32 storage of the goldens; rounded up to 3 significant digits.
 * exp_logits / exp_hidden: the expected values (for the storage term).
 * per_site (may be NULL): [sites x segments x (L+1)] the sites' parts.
 */
bool mg_tolerance(const infini_model *model, const int32_t *tok,
                  ptrdiff_t segments, const double *exp_logits,
                  const double *exp_hidden, double *tol, double *per_site,
                  char *err, size_t errlen);

/** The same under a model profile (docs/tolerances.md 11.5): every
 *  product's factors rounded with unit roundoff u_t, every stored result
 *  with u_o, float32 arithmetic; mg_tolerance is u_t = u_o = 0. */
bool mg_tolerance_profile(const infini_model *model, const int32_t *tok,
                          ptrdiff_t segments, const double *exp_logits,
                          const double *exp_hidden, double u_t, double u_o, double *tol,
                          double *per_site, char *err, size_t errlen);

/** The independent double model (dmodel.h) over n tokens of the stream,
 *  with a catalogue bug (a cat_id marked CAT_MODEL, or DM_NONE): logits
 *  [n x V], hidden [L x n x D]. */
bool mg_run_double(const infini_model *model, int mutant, const int32_t *tok, ptrdiff_t n,
                   double *logits, double *hidden);

/** The config as the manifests write it (integers, rule and position
 *  names, floats as hex-float strings). */
json_t *mg_config_json(const infini_model_config *c);

/** Frobenius norm of the rows of segment s of tensor t (0..L-1 hidden,
 *  L logits) of [L x T x D] / [T x V] arrays of either precision. */
typedef struct mg_view {
  const float *f;   /* float data, or */
  const double *d;  /* double data */
  ptrdiff_t tokens; /* T of the arrays */
} mg_view;

/** Worst ratio ||got - exp|| / tol over segments and tensors. */
typedef struct mg_verdict {
  double worst;           /* largest ratio (pass: <= 1) */
  ptrdiff_t seg, tensor;  /* where (tensor L = logits) */
  ptrdiff_t first_fail_seg, first_fail_tensor; /* -1 when none fails */
} mg_verdict;

/** Judge segments [0, segments) of got against the set: ratios [segments
 *  x (L+1)] (may be NULL) and the verdict. */
void mg_judge(const mg_set *s, ptrdiff_t segments, mg_view got_logits,
              mg_view got_hidden, double *ratios, mg_verdict *v);

/** Per-segment Frobenius norm of (a - b) (b may have .f = .d = NULL:
 *  the norm of a), for tensor t, segment seg. */
double mg_seg_norm(const infini_model_config *c, ptrdiff_t t, ptrdiff_t seg,
                   mg_view a, mg_view b);

/** "layer 3" / "logits" for tensor t. */
void mg_tensor_name(const infini_model_config *c, ptrdiff_t t, char *buf,
                    size_t len);

#endif

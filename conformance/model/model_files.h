/*
 * conformance/model/model_files.h - full-model conformance through the
 * file workflow (docs/conformance.md, "Checking a whole model"):
 *
 *   infini-conform export DIR --model PRESET[,PRESET|all]
 *     writes, per preset, the weights (regenerated, checked by SHA-256),
 *     the token stream and the config, and DIR/index.json naming the
 *     outputs an implementation writes: logits [T x V] (required) and the
 *     residual stream after every block, hidden [L x T x D] (optional);
 *   infini-conform check DIR [--profile P]
 *     judges them against the golden set (vectors/model/v1) segment by
 *     segment with the model-level tolerance of the profile, says where
 *     the error first exceeds it and, with the hidden states, whether it
 *     enters in a block or comes in through the carried memory, and names
 *     the catalogue's model-level deviation it looks like.
 *
 * As for the operators, the judge comes from the exporter's golden set
 * (--model-vectors, else cf_default_model_vectors()), never from the folder under test:
 * the index records the manifest's SHA-256 and check refuses another.
 */
#ifndef INFINI_CONFORMANCE_MODEL_FILES_H
#define INFINI_CONFORMANCE_MODEL_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "conformance/tolerance.h"

/** Model profiles: fp32, tf32, bf16-fp32 (autocast style). false, with a
 *  sentence in err, for the others. u_t, u_o: dm_set_profile's units. */
bool mc_profile_units(tol_profile p, double *u_t, double *u_o, char *err, size_t errlen);

/** Export the presets of list ("all" or NAME,NAME) from the golden set in
 *  mvdir into dir (which must be empty or absent, unless force). */
bool mc_export(const char *mvdir, const char *list, const char *dir, bool force,
               size_t *count, char *err, size_t errlen);

/** Does dir/index.json hold a "models" list (a model export)? */
bool mc_is_model_export(const char *dir);

/** The verdict on one model of an export. */
typedef struct mc_result {
  char model[64];
  bool failed;
  char *problem;          /* an output that could not be judged, or NULL */
  bool hidden;            /* the hidden states were judged (else logits alone) */
  ptrdiff_t segments, layers;
  double *ratios;         /* [segments x (L + 1)]: blocks 1..L, then logits; NaN: not judged */
  double worst;
  ptrdiff_t worst_seg, worst_tensor;
  ptrdiff_t fail_seg, fail_tensor; /* the first ratio > 1 (-1: none) */
  char *location;         /* where it first went wrong, a sentence; NULL when it passes */
  char *diagnosis;        /* "looks like NAME: ..." or NULL */
  char diagnosed[64];     /* NAME, or "" */
  char closest[64];       /* the best candidate, named or not */
  double closest_ratio;
} mc_result;

typedef struct mc_report {
  const char *profile, *dir, *model_vectors;
  mc_result *results;
  size_t n;
} mc_report;

/** Judge every model of the export in dir; false (err) when the export or
 *  the golden set cannot be read at all. */
bool mc_check(const char *mvdir, const char *dir, tol_profile profile, bool diagnose,
              mc_report *rep, char *err, size_t errlen);
void mc_report_free(mc_report *rep);

/** The text report (one block per model) and the summary line. */
void mc_report_print(const mc_report *rep, FILE *f, bool verbose);
/** The summary line alone. */
void mc_report_summary(const mc_report *rep, FILE *f);
/** How many models failed. */
int mc_report_failed(const mc_report *rep);
/** 0 when every model passes, 1 otherwise. */
int mc_report_status(const mc_report *rep);
bool mc_report_json(const mc_report *rep, const char *path, bool force, char *err,
                    size_t errlen);
bool mc_report_tap(const mc_report *rep, const char *path, bool force, char *err,
                   size_t errlen);

#endif

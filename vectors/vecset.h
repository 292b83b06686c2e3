/*
 * vectors/vecset.h - the golden-vector set in memory: one manifest per
 * operator (<set dir>/<operator>.json, e.g. vectors/v1/retrieve.json; schema
 * vectors/schema/infini-vectors-1.schema.json) and its NumPy tensors
 * (<set dir>/data/...). docs/vectors.md is the normative description of
 * the format; this header is its C model, shared by infini-vectors (the
 * generator, which writes sets) and infini-conform (the runner, which reads
 * them). Not installed.
 */
#ifndef INFINI_VECTORS_VECSET_H
#define INFINI_VECTORS_VECSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "infini.h"

#define VS_SCHEMA_NAME "infini-vectors"
/* The schema versions this reader accepts; a writer writes the set's own
 * (docs/vectors.md, "Identity"). Version 2 (spec 1.1) added the outcome of
 * masked non-finite positions (S24) as an alternative. */
#define VS_SCHEMA_VERSION_MIN 1
#define VS_SCHEMA_VERSION 2

/** Operators a vector exercises (manifest "operator"). */
typedef enum vs_op {
  VS_FEATURE_MAP = 0,   /* "feature_map"     x -> y */
  VS_RETRIEVE,          /* "retrieve"        q, m, z -> a */
  VS_UPDATE_LINEAR,     /* "update_linear"   k, v, m, z -> m, z */
  VS_UPDATE_DELTA,      /* "update_delta"    k, v, m, z -> m, z */
  VS_MIX,               /* "mix"             a_mem, a_dot -> out */
  VS_LOCAL_ATTENTION,   /* "local_attention" q, k, v -> out */
  VS_SEGMENT_STEP,      /* "segment_step"    q, k, v [S x N x d] -> out [S x N x dv], m, z */
  VS_LAYER_STEP,        /* "layer_step"      q, k, v [S x N x H*d], beta [H] -> out, m [Hkv x dk x dv], z */
  VS_OP_COUNT
} vs_op;

const char *vs_op_name(vs_op op);
bool vs_op_from_name(const char *name, vs_op *op);

/** Verdict of a test (Wycheproof style). */
typedef enum vs_result {
  VS_VALID = 0,      /* must match "outputs" within tolerance */
  VS_ACCEPTABLE = 1  /* must match "outputs" or one of "alternatives" */
} vs_result;

typedef enum vs_dtype { VS_F32 = 0, VS_F64 = 1 } vs_dtype;

#define VS_MAX_DIMS 4

/** One .npy file of the set, loaded on demand and checked against sha256. */
typedef struct vs_tensor {
  char *name;              /* role, e.g. "q", "out", "out.mag" */
  char *file;              /* path relative to the manifest's directory */
  char sha256[65];         /* lowercase hex */
  vs_dtype dtype;
  int ndim;
  size_t dims[VS_MAX_DIMS];
  void *data;              /* NULL until vs_tensor_load */
} vs_tensor;

size_t vs_tensor_count(const vs_tensor *t);

/** Tolerance of one output tensor (docs/tolerances.md, section 1):
 *  "gauge": |got - expected| <= u_profile * (c_arith * mag + c_input * cond)
 *                               + tiny_profile,
 *           with c_input applied only under reduced-precision profiles;
 *  "ulp":   the same plus ulps ULPs of the profile's format at expected
 *           (the feature map: mag there is sigma's absolute allowance). */
typedef struct vs_tolerance {
  char model[16];          /* "ulp" or "gauge" */
  double ulps;             /* ulp model */
  double c_arith, c_input; /* gauge model */
} vs_tolerance;

/** An expected output: values (f64), its tolerance and the aux arrays it
 *  needs ("mag", "cond"; NULL when absent). */
typedef struct vs_output {
  vs_tensor expected;
  vs_tensor *mag, *cond;
  vs_tolerance tol;
} vs_output;

#define VS_MAX_INPUTS 8
#define VS_MAX_OUTPUTS 4
#define VS_MAX_FLAGS 16
#define VS_MAX_ALTERNATIVES 2

/** A set of expected outputs; tests have one, acceptable tests more. */
typedef struct vs_outputs {
  int count;
  vs_output items[VS_MAX_OUTPUTS];
} vs_outputs;

typedef struct vs_test {
  int id;                   /* tcId: stable forever within (file, version) */
  uint64_t seed;            /* PRNG seed the inputs were drawn with (docs/vectors.md) */
  char *comment;
  int n_flags;
  char *flags[VS_MAX_FLAGS];
  vs_result result;
  int n_inputs;
  vs_tensor inputs[VS_MAX_INPUTS];
  vs_outputs outputs;
  int n_alternatives;
  vs_outputs alternatives[VS_MAX_ALTERNATIVES];
} vs_test;

/** Shared parameters of a group of tests. Fields an operator does not use
 *  are 0. Strides are the row strides (in elements) a C backend must be
 *  called with; the runner lays the packed .npy data out with them. */
typedef struct vs_group {
  vs_op op;
  ptrdiff_t rows, cols;              /* feature_map, mix */
  ptrdiff_t n, d_key, d_value;       /* per-head shape */
  ptrdiff_t n_heads, n_kv_heads;     /* layer_step (1, 1 otherwise) */
  ptrdiff_t segments;                /* segment_step, layer_step */
  infini_update_rule rule;
  float eps, scale, beta;            /* beta: mix, segment_step */
  ptrdiff_t ld_in[VS_MAX_INPUTS];    /* per input, in test input order; 0 = packed */
  ptrdiff_t ld_out;                  /* 0 = packed */
  ptrdiff_t ld_m;                    /* segment_step: row stride of M (0 = packed) */
  char *regime;                      /* "typical", "large_logits", ... */
  int n_tests;
  vs_test *tests;
} vs_group;

typedef struct vs_set {
  char *dir;                /* directory of the manifest */
  char *file;               /* manifest file name */
  int schema_version;
  char *spec_version, *generator_version;
  int number_of_tests;
  int n_groups;
  vs_group *groups;
  char sha256[65];          /* of the manifest's bytes as loaded ("" if not
                               loaded from a file); its tensors' digests
                               are in it, so it names the whole set */
} vs_set;

/** A row stride may exceed twice its row width by at most this many
 *  elements (docs/vectors.md): strided buffers stay within about twice the
 *  data they describe. */
#define VS_STRIDE_SLACK 64

/** The largest manifest vs_set_load reads (64 MiB; the shipped ones are
 *  under 200 kB): a larger file is refused before it is read. */
#define VS_MANIFEST_MAX ((size_t)64 << 20)

/** Load and validate a manifest (structure, names, dims, counts). Tensors
 *  are not read yet. On failure returns false and writes one clear line to
 *  err (errlen bytes). */
bool vs_set_load(const char *manifest_path, vs_set *set, char *err, size_t errlen);

/** Read a tensor's .npy, check its sha256, dtype and dims. */
bool vs_tensor_load(const vs_set *set, vs_tensor *t, char *err, size_t errlen);

/** Write a set's manifest (the generator); tensors are written separately. */
bool vs_set_save(const vs_set *set, const char *manifest_path, char *err, size_t errlen);

void vs_set_free(vs_set *set);

/* ---- additions (beyond the first contract) ---------------------------- */

/** Manifest file name of an operator inside a set directory: "<name>.json". */
#define VS_MANIFEST_SUFFIX ".json"

/** Canonical tensor names of an operator, in the order of vs_test.inputs
 *  (and of vs_group.ld_in) and of vs_outputs.items. Returns the count. */
int vs_op_inputs(vs_op op, const char *const **names);
int vs_op_outputs(vs_op op, const char *const **names);

/** The dims a tensor (input or output, by name) of the group's operator
 *  must have, from the group's shape; false for a name the operator lacks. */
/** Does the group lay any input or output out with a row stride? */
bool vs_group_strided(const vs_group *g);
/** One gate for all heads: no beta input (not loaded counts as none), or
 *  every element of it equal. */
bool vs_test_one_beta(const vs_test *t);

bool vs_tensor_dims(const vs_group *g, const char *name, int *ndim,
                    size_t dims[VS_MAX_DIMS]);

/** The test's input with that name, or NULL. */
vs_tensor *vs_test_input(vs_test *t, const char *name);

/** Load every tensor of a test (inputs, outputs, aux, alternatives). */
bool vs_test_load(const vs_set *set, vs_test *t, char *err, size_t errlen);
/** Free the data of every tensor of a test (keeps the description). */
void vs_test_unload(vs_test *t);

/** The generator's writer: encode data (dtype, ndim, dims and file taken
 *  from t) as .npy under set_dir, atomically, and record its sha256 in t. */
bool vs_tensor_save(const char *set_dir, vs_tensor *t, const void *data,
                    char *err, size_t errlen);

/** Explanation of a flag of the standard vocabulary (the manifest's
 *  "notes"), or NULL for an unknown flag. */
const char *vs_flag_note(const char *flag);

/** Float parameters are stored exactly as hex-float strings
 *  ("0x1.6a09e6p-1", "inf", "-inf", "0x0p+0"); these convert. */
void vs_format_hexfloat(double x, char buf[40]);
bool vs_parse_hexfloat(const char *s, double *x);

#endif

/*
 * conformance/conform.h - the internals of infini-conform shared by its
 * modules: the selected cases, the verdict on one case, the collected run
 * and the entry points of each module (docs/conformance.md describes the
 * tool; this header is not installed).
 *
 *   select.c    which cases run (--op, --id, --flag, include/exclude/xfail lists)
 *   runner.c    lays a case out in guard-padded buffers with the group's
 *               strides and calls a backend through the public API
 *   judge.c     applies the tolerance model (tol_judge) to a case's outputs,
 *               alternatives of acceptable tests included
 *   diagnose.c  explains a failure by the catalogue of known deviations
 *   report.c    table, TAP, JUnit XML and JSON reports (atomic writes)
 *   files.c     the file workflow: export inputs, check outputs
 */
#ifndef INFINI_CONFORMANCE_CONFORM_H
#define INFINI_CONFORMANCE_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "conformance/tolerance.h"
#include "infini.h"
#include "vectors/vecset.h"
#include "src/fileio.h"

/** Exit statuses (docs/conformance.md, "Exit status"). */
enum {
  CF_EXIT_PASS = 0,  /* every required case passed */
  CF_EXIT_FAIL = 1,  /* some required case failed (or XPASS under --strict) */
  CF_EXIT_USAGE = 2  /* bad usage, unreadable or corrupt vectors, I/O error */
};

#if defined(__GNUC__)
#define CF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CF_PRINTF(a, b)
#endif

/* ---- small utilities (util.c) ------------------------------------------ */

/** Print "infini-conform: <message>" as one line on stderr. */
void cf_error(const char *fmt, ...) CF_PRINTF(1, 2);
/** malloc or exit(2) with a message; strdup likewise. */
void *cf_xmalloc(size_t bytes);
void *cf_xcalloc(size_t count, size_t size);
void *cf_xrealloc(void *p, size_t bytes);
char *cf_xstrdup(const char *s);
/** A growing string. */
typedef struct cf_buf {
  char *s;
  size_t len, cap;
} cf_buf;
void cf_buf_printf(cf_buf *b, const char *fmt, ...) CF_PRINTF(2, 3);
/** Take the string (caller frees); the buffer is left empty. */
char *cf_buf_take(cf_buf *b);
/** "%.9g" of a float-valued double, "nan", "inf", "-inf". */
const char *cf_fmt_num(double x, char buf[32]);
/** "[1][2][3]" for a flat index into a tensor of these dims. */
void cf_fmt_index(size_t flat, int ndim, const size_t *dims, char *out,
                  size_t outlen);

/* ---- the vectors and the selected cases -------------------------------- */

/** Every manifest of a vector directory (or one manifest file). */
typedef struct cf_vectors {
  char *dir;          /* as resolved (absolute when it could be made so) */
  int n_sets;
  vs_set *sets;
} cf_vectors;

/** Where the vectors are: $INFINI_VECTORS, else the source tree's
 *  vectors/v2, else the installed $(pkgdatadir)/vectors/v2. An explicit
 *  --vectors wins over all. */
const char *cf_default_vectors(void);
/** The full-model golden set: $INFINI_MODEL_VECTORS, else the source
 *  tree's vectors/model/v1, else the installed $(pkgdatadir)/model/v1. */
const char *cf_default_model_vectors(void);

/** Load every *.json manifest of dir (sorted by name), or dir itself when
 *  it is a file. false with one line in err on failure. */
bool cf_vectors_load(const char *path, cf_vectors *v, char *err, size_t errlen);
void cf_vectors_free(cf_vectors *v);

/** The version a case id carries: the file's schemaVersion (docs/vectors.md:
 *  (file, schemaVersion, tcId) names a vector forever), as text. */
const char *cf_set_version(const vs_set *set);

/** A case: one test of one group of one file. */
typedef struct cf_case {
  const vs_set *set;
  vs_group *group;
  vs_test *test;
  bool excluded;    /* matched --exclude-list: reported as skipped */
  bool xfail;       /* matched --xfail-list: expected to fail */
  char not_applicable[192]; /* "not applicable: why" under --declare, or "" */
} cf_case;

/* ---- declared restrictions (declare.c) ------------------------------------ */

/** What an implementation cannot take (--declare LIST, docs/conformance.md
 *  "Restricted implementations"): the cases that need it are not
 *  applicable. */
typedef struct cf_declaration {
  bool any;
  bool default_scale;          /* scale = 1/sqrt(d_key) only */
  bool square;                 /* d_key = d_value only */
  bool no_gqa;                 /* n_kv_heads = n_heads only */
  bool one_beta;               /* one gate for all heads of a layer */
  bool packed;                 /* no row strides (C backends) */
  bool fixed_eps, fixed_rule;
  float eps;                   /* fixed_eps: the one eps it uses */
  infini_update_rule rule;     /* fixed_rule: the one rule it has */
  char text[256];              /* the list as given, for the reports */
} cf_declaration;

/** Add the restrictions of a comma-separated list (default-scale, square,
 *  no-gqa, one-beta, packed, eps=E, rule=linear|delta); false with one line
 *  in err for an unknown one. */
bool cf_declaration_parse(cf_declaration *d, const char *list, char *err, size_t errlen);
/** Mark the loaded cases the declaration cannot run. A case whose eps
 *  differs from a declared one stays applicable when computing it with the
 *  declared eps moves its outputs by less than a tenth of the profile's
 *  tolerance (the diagnoser's double implementation). */
void cf_declaration_apply(const cf_declaration *d, tol_profile profile, cf_case *cases,
                          size_t n);
/** Mark the loaded cases the profile cannot judge: an input whose every
 *  nonzero element is a normal float32 below the smallest normal number
 *  of the profile's storage format (float16: the tiny_den vectors). */
void cf_profile_range_apply(tol_profile profile, cf_case *cases, size_t n);
/** "excluded (exclude list)", "not applicable: ...", or NULL. */
const char *cf_case_skip_reason(const cf_case *c);
/** The coverage left by a declaration: per operator, and the flags of
 *  which no case is applicable. Nothing without a declaration. */
void cf_declaration_report(const cf_declaration *d, const cf_case *cases, size_t n, FILE *f);

/** Patterns of one list or one kind of option. */
typedef struct cf_patterns {
  int n, cap;
  char **items;     /* normalised patterns */
  char **origins;   /* "FILE:LINE" or "--op", for messages */
  bool *used;       /* matched at least once */
} cf_patterns;

typedef struct cf_selection {
  cf_patterns ops, ids, flags;        /* --op, --id, --flag (OR within each) */
  cf_patterns include, exclude, xfail;
  bool have_include;
} cf_selection;

void cf_selection_init(cf_selection *sel);
void cf_selection_free(cf_selection *sel);
/** Add a command-line pattern; kind is "op", "id" or "flag". false with a
 *  message when the pattern is malformed. */
bool cf_selection_add(cf_selection *sel, const char *kind, const char *value,
                      char *err, size_t errlen);
/** The largest index.json check reads (64 MiB). */
#define CF_INDEX_MAX ((size_t)64 << 20)
/** May export write into dir: absent, or a directory that is empty (or
 *  anything, with force)? false with a sentence in err. */
bool cf_export_dir_ok(const char *dir, bool force, char *err, size_t errlen);
/** dir and its missing parents (mkdir -p), each through the project's
 *  folder maker (a link is refused). */
bool cf_make_dirs(const char *dir, char *err, size_t errlen);
/** The largest --include/--exclude/--xfail list read (1 MiB). */
#define CF_LIST_MAX ((size_t)1 << 20)
/** Read a list file (which = "include", "exclude", "xfail"). */
bool cf_selection_read_list(cf_selection *sel, const char *which,
                            const char *path, char *err, size_t errlen);
/** Is the pattern syntax valid? (FILE:TCID, FILE:*, TCID, flag:NAME, op:NAME) */
bool cf_pattern_valid(const char *pattern, char *err, size_t errlen);

/** Apply the selection: fill *cases (caller frees) with every selected
 *  case in file, group, test order. */
size_t cf_select(const cf_vectors *v, cf_selection *sel, cf_case **cases);

/** Load every tensor of the cases (inputs, outputs, aux, alternatives);
 *  false with one line in err for an unreadable or corrupt file, or a
 *  tensor whose shape disagrees with its group. */
bool cf_cases_load(cf_case *cases, size_t n, char *err, size_t errlen);

/* ---- outputs of one case ------------------------------------------------ */

/** The output tensors an operator produces, in a fixed order. */
typedef struct cf_outputs {
  int n;
  const char *names[VS_MAX_OUTPUTS];
  float *data[VS_MAX_OUTPUTS];   /* packed, C order; NULL when missing */
  size_t count[VS_MAX_OUTPUTS];  /* elements in data */
  char *missing[VS_MAX_OUTPUTS]; /* why data is NULL (file workflow) */
} cf_outputs;

/** The expected output of that name in a set of outputs, or NULL. */
const vs_output *cf_find_output(const vs_outputs *outs, const char *name);
/** An input by name, or NULL; its index in *index (may be NULL). */
const vs_tensor *cf_find_input(const vs_test *t, const char *name, int *index);
void cf_outputs_free(cf_outputs *o);

/* ---- verdicts ------------------------------------------------------------ */

typedef enum cf_outcome {
  CF_PASS = 0,
  CF_FAIL,    /* a required case failed */
  CF_XFAIL,   /* failed, as the xfail list said */
  CF_XPASS,   /* passed although the xfail list said it would fail */
  CF_SKIP,    /* excluded, or not run */
  CF_OUTCOME_COUNT
} cf_outcome;

const char *cf_outcome_name(cf_outcome o); /* "pass", "fail", ... */

/** What explains a failure: catalogue entries (conformance/catalogue.h),
 *  best first, each with its parameter and its ratio; n = 0 when no known
 *  cause explains the outputs clearly better than the spec does. */
/* The diagnoser names a deviation when the implementation is within
 * CF_DIAG_MATCH of it and CF_DIAG_CLEARER times closer to it than to the
 * specification (docs/mutants.md, "Diagnosis"); the operators and the
 * whole model use the same rule. */
#define CF_DIAG_MATCH 4.0
#define CF_DIAG_CLEARER 8.0
#define CF_DIAG_MAX 4
typedef struct cf_diagnosis {
  int n;
  int id[CF_DIAG_MAX];      /* cat_id */
  double param[CF_DIAG_MAX];
  double ratio[CF_DIAG_MAX];
  double spec_ratio;        /* the same measure against the spec */
  bool together;            /* the entries are parts of one combination, not alternatives */
  bool tried;               /* a diagnosis was attempted */
  int closest;              /* the best candidate, named or not (-1: none applied) */
  double closest_param, closest_ratio;
} cf_diagnosis;

/** The verdict on one case for one backend (or one file set). */
typedef struct cf_result {
  const char *backend;
  const cf_case *c;
  cf_outcome outcome;
  bool failed;            /* the outputs did not conform (before xfail) */
  double ratio;           /* worst error/allowed; NaN when not judged */
  char tensor[24];        /* where the worst ratio is: tensor name ... */
  char index[64];         /* ... and element, "[1][2]" */
  double got, expected, allowed;
  char *message;          /* failure: several lines; skip: the reason */
  char *diagnosis;        /* "looks like NAME: ...", or NULL */
  cf_diagnosis diag;      /* the catalogue entries it names (diag.n = 0: none) */
  double seconds;
} cf_result;

/** Judge a case's outputs with the tolerance model; fills r (ratio,
 *  worst element, message on failure). Valid tests: every expected output
 *  within tolerance. Acceptable tests: "outputs" or one alternative. */
void cf_judge(const cf_case *c, tol_profile profile, const cf_outputs *got,
              cf_result *r);

/* ---- running a backend (runner.c) ---------------------------------------- */

/** Run a case on a context's backend. On success fills *got (packed).
 *  On a non-OK status, or a write outside an output, or a modified input,
 *  returns false with a message (caller frees) in *why. */
bool cf_run_case(infini_context *ctx, const cf_case *c, cf_outputs *got,
                 char **why);

/* ---- diagnosis (diagnose.c) ---------------------------------------------- */

/** When a catalogue deviation explains the outputs of a failed case, a
 *  malloc'd line "looks like NAME: message (...; docs/spec.md Sx;
 *  docs/mutants.md)" naming it, and *d filled; else NULL (d->n = 0). The
 *  result depends on this case and these outputs only. */
char *cf_diagnose_names(const cf_case *c, tol_profile profile, const cf_outputs *got,
                        cf_diagnosis *d);
/** Which failures get a diagnosis: none (off), or all but the cases that
 *  carry a flag of skip_flag, one flag or a comma-separated list (NULL:
 *  all). The search costs about a second on a
 *  model-sized case, against milliseconds on the small ones. */
typedef struct cf_diagnose_policy {
  bool off;
  const char *skip_flag;
} cf_diagnose_policy;
bool cf_should_diagnose(const cf_diagnose_policy *p, const cf_case *c);
/** cf_diagnose_names without the details. */
char *cf_diagnose(const cf_case *c, tol_profile profile, const cf_outputs *got);
/** For the tests: the outputs (rounded to float) of the one configurable
 *  implementation on a case under a configuration of the catalogue,
 *  "none" (the specification) or NAME[=VALUE][+...] ("gate_swap",
 *  "eps_added=1e-6", "scale_other=0.125"). false for a bad name. */
bool cf_diagnose_model(const cf_case *c, const char *spec, cf_outputs *out);

/* ---- collected results and reports (report.c) ---------------------------- */

typedef struct cf_report {
  cf_result *results;
  size_t n, cap;
  const char *profile;
  const char *vectors_dir;
  const char *mode;          /* "run" or "check" */
  int n_backends;
  const char *backends[64];  /* in run order */
  const char *skipped_backends[64]; /* unavailable here */
  int n_skipped_backends;
  bool strict;
} cf_report;

cf_result *cf_report_add(cf_report *rep);
void cf_report_free(cf_report *rep);
/** Exit status per the rules: 0, or 1 when a required case failed (or an
 *  XPASS under --strict). */
int cf_report_status(const cf_report *rep);

/** The readable table and failure details on f; verbose prints every
 *  failure, else at most max_details. */
void cf_report_table(const cf_report *rep, FILE *f, bool verbose,
                     int max_details);
/** The one-line summary. */
void cf_report_summary(const cf_report *rep, FILE *f);
/** TAP, JUnit XML, JSON, each written to a temporary file beside path and
 *  renamed over it; an existing file is replaced only with force, a
 *  symbolic link never. false with one line in err. */
bool cf_report_tap(const cf_report *rep, const char *path, bool force,
                   char *err, size_t errlen);
bool cf_report_junit(const cf_report *rep, const char *path, bool force,
                     char *err, size_t errlen);
bool cf_report_json(const cf_report *rep, const char *path, bool force,
                    char *err, size_t errlen);

/** Atomic file writing through the project's one writer (src/fileio.h):
 *  open a temporary beside path (never through a symbolic link); commit
 *  moves it to path, abort removes it. An existing file at path is
 *  replaced only when replace is true. */
typedef fileio_atomic cf_atomic;
bool cf_atomic_open(cf_atomic *a, const char *path, bool replace, char *err,
                    size_t errlen);
bool cf_atomic_commit(cf_atomic *a, char *err, size_t errlen);
void cf_atomic_abort(cf_atomic *a);

/* ---- file workflow (files.c) --------------------------------------------- */

/** A case as index.json describes it (case, file, version, tcId,
 *  operator, comment, flags, verdict, params, inputs and outputs with
 *  their shapes), without file names; a new jansson reference. */
struct json_t *cf_case_json(const cf_case *c);
/** Write the inputs of the cases and index.json to dir. */
bool cf_export(const cf_vectors *v, const cf_case *cases, size_t n,
               const char *dir, bool force, char *err, size_t errlen);
/** Read the index of dir and the outputs an implementation wrote there;
 *  judge each indexed case that is also selected into rep, as backend
 *  `name`. false with one line in err when the index is unreadable or names
 *  cases the vectors do not have. */
bool cf_check(const cf_vectors *v, cf_case *cases, size_t n, const char *dir,
              tol_profile profile, const cf_diagnose_policy *diagnose, cf_report *rep,
              const char *name, char *err, size_t errlen);

/* ---- .npy (npyio.c): minimal reader and writer for the file workflow ----- */

/** Write a float32 or float64 array (C order, little-endian). */
bool cf_npy_write(const char *path, vs_dtype dtype, int ndim, const size_t *dims,
                  const void *data, char *err, size_t errlen);
/** Read a float32 or float64 .npy into floats (float64 rounded to float);
 *  fills ndim/dims. The file is one an implementation wrote: a link, a
 *  FIFO, a device or a file larger than a header plus max_count float64
 *  values is refused before a byte is read. false with a message naming
 *  the problem. */
bool cf_npy_read_float(const char *path, size_t max_count, int *ndim,
                       size_t *dims, float **data, size_t *count, char *err,
                       size_t errlen);

#endif

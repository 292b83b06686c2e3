/*
 * vectors/test_flags.c - every flag a shipped test carries is true of its
 * inputs and parameters (docs/vectors.md, "Flags"): a `nan` test holds a
 * NaN, a `gqa` test has fewer kv heads than query heads, a `small_den`
 * test a small normaliser, and so on. A flag that lies makes a test prove
 * nothing while it claims coverage (v1's retrieve:27 was flagged `nan` and
 * held none). One TAP line per manifest and flag.
 *
 *   test-flags [DIR]      DIR defaults to $srcdir/vectors/v2
 *
 * Flags that say why a test was made rather than what it holds
 * (`typical`, `tile_edge`, `exact`, `worked_example`, `cancellation`) are
 * not checked.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/tap.h"
#include "vectors/vecset.h"

#define LN_2M150 (-103.97207708399179) /* below: exp rounds to 0 in float32 */

/* The loaded input `name` of a test, or NULL. */
static const float *input(vs_test *t, const char *name, size_t *count) {
  vs_tensor *x = vs_test_input(t, name);
  if (!x || !x->data)
    return NULL;
  *count = vs_tensor_count(x);
  return x->data;
}

typedef bool (*elem_pred)(float x);
static bool is_nan(float x) { return isnan(x); }
static bool is_neg_inf(float x) { return isinf(x) && x < 0; }
static bool is_pos_inf(float x) { return isinf(x) && x > 0; }
static bool is_subnormal(float x) { return fpclassify(x) == FP_SUBNORMAL; }
static bool is_nonzero(float x) { return x != 0; }
static bool underflows(float x) { return x < LN_2M150; }
static bool is_large(float x) { return fabsf(x) > 8; }          /* typical: |x| < 4 */
static bool exp_subnormal(float x) { return x > LN_2M150 && x < -87.33654475; }

/* Does any element of the named inputs (all inputs when names is NULL)
 * satisfy p? */
static bool any(vs_test *t, const char *const *names, elem_pred p) {
  for (int i = 0; i < t->n_inputs; i++) {
    bool wanted = !names;
    for (int k = 0; names && names[k]; k++)
      wanted |= !strcmp(t->inputs[i].name, names[k]);
    if (!wanted || !t->inputs[i].data)
      continue;
    const float *x = t->inputs[i].data;
    for (size_t j = 0; j < vs_tensor_count(&t->inputs[i]); j++)
      if (p(x[j]))
        return true;
  }
  return false;
}

static float default_scale(const vs_group *g) {
  return (float)(1.0 / sqrt((double)g->d_key));
}

/* The betas of a test: the group's, or the layer step's input. */
static bool beta_any(const vs_group *g, vs_test *t, bool (*p)(float)) {
  size_t n;
  const float *b = input(t, "beta", &n);
  if (!b)
    return g->op == VS_MIX || g->op == VS_SEGMENT_STEP ? p(g->beta) : false;
  for (size_t i = 0; i < n; i++)
    if (p(b[i]))
      return true;
  return false;
}
static bool gate_open(float b) { return b != 0; }
static bool gate_extreme(float b) { return fabsf(b) >= 30; }

/* A non-finite key or value at a row that some earlier row of its segment
 * masks (row >= 1 of a segment). */
static bool masked_nonfinite(const vs_group *g, vs_test *t) {
  static const char *const kv[] = {"k", "v"};
  for (int k = 0; k < 2; k++) {
    size_t n;
    const float *x = input(t, kv[k], &n);
    if (!x)
      continue;
    const size_t segments = g->segments > 0 ? (size_t)g->segments : 1; /* 0: unused */
    const size_t rows = segments * (size_t)g->n, width = n / rows;
    for (size_t r = 0; r < rows; r++)
      for (size_t c = 0; r % (size_t)g->n && c < width; c++)
        if (!isfinite(x[r * width + c]))
          return true;
  }
  return false;
}

static bool all_zero_or_absent(vs_test *t, const char *name) {
  size_t n;
  const float *x = input(t, name, &n);
  for (size_t i = 0; x && i < n; i++)
    if (x[i] != 0)
      return false;
  return true;
}

/* small_den: a normaliser z of order 1e-3 or, for the steps, which start
 * from an empty memory, keys of segment 1 shifted so far down (sigma(k) <
 * e^-6, typical keys >= -4) that the memory they write is small. */
static bool small_normaliser(const vs_group *g, vs_test *t) {
  size_t n;
  const float *z = input(t, "z", &n);
  if (!z && (g->op == VS_SEGMENT_STEP || g->op == VS_LAYER_STEP)) {
    const float *k = input(t, "k", &n);
    const size_t first = k ? n / (size_t)g->segments : 0;
    for (size_t i = 0; i < first; i++)
      if (!(k[i] < -6))
        return false;
    return first > 0;
  }
  if (!z)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!(fabsf(z[i]) < 0.01f))
      return false;
  return true;
}

static bool has_dk_dv(vs_op op) { return op != VS_FEATURE_MAP && op != VS_MIX; }

/* tiny_den: a normaliser z below 1e-5 and eps > 0 (it exists to show it). */
static bool tiny_normaliser(const vs_group *g, vs_test *t) {
  size_t n;
  const float *z = input(t, "z", &n);
  for (size_t i = 0; z && i < n; i++)
    if (!(fabsf(z[i]) < 1e-5f))
      return false;
  return z && g->eps > 0;
}

/* subnormal_den: a head's row of q (or of k, for a prediction) whose every
 * sigma is subnormal in float32 (packed rows of d_key per head). */
static bool subnormal_den_row(const vs_group *g, vs_test *t) {
  static const char *const names[] = {"q", "k"};
  for (int k = 0; k < 2; k++) {
    size_t n = 0;
    const float *x = input(t, names[k], &n);
    const size_t dk = (size_t)g->d_key;
    for (size_t r = 0; x && dk && r + dk <= n; r += dk) {
      bool all = true;
      for (size_t c = 0; c < dk && all; c++)
        all = exp_subnormal(x[r + c]);
      if (all)
        return true;
    }
  }
  return false;
}


static bool model_sized(const vs_group *g) {
  if (g->op == VS_FEATURE_MAP || g->op == VS_MIX)
    return g->rows >= 256 && g->cols >= 64;
  return g->n >= 256 && g->d_key >= 64 && g->d_value >= 64;
}

/* 1: the flag holds; 0: it does not; -1: not checkable from the inputs. */
static int flag_holds(const vs_group *g, vs_test *t, const char *flag) {
  static const char *const logits[] = {"x", "q", "k", "a_mem", "a_dot", NULL};
  static const char *const sigma_args[] = {"x", "q", "k", NULL};
  if (!strcmp(flag, "nan"))
    return any(t, NULL, is_nan);
  if (!strcmp(flag, "neg_inf"))
    return any(t, NULL, is_neg_inf);
  if (!strcmp(flag, "pos_inf"))
    return any(t, NULL, is_pos_inf);
  if (!strcmp(flag, "subnormal"))
    return any(t, NULL, is_subnormal) ||
           (g->op == VS_FEATURE_MAP && any(t, NULL, exp_subnormal));
  if (!strcmp(flag, "zeros"))
    return !any(t, NULL, is_nonzero);
  if (!strcmp(flag, "underflow"))
    return any(t, sigma_args, underflows);
  if (!strcmp(flag, "large_logits"))
    return any(t, logits, is_large);
  if (!strcmp(flag, "first_segment"))
    return all_zero_or_absent(t, "m") && all_zero_or_absent(t, "z");
  if (!strcmp(flag, "small_den"))
    return small_normaliser(g, t);
  if (!strcmp(flag, "tiny_den"))
    return tiny_normaliser(g, t);
  if (!strcmp(flag, "subnormal_den"))
    return subnormal_den_row(g, t);
  if (!strcmp(flag, "eps"))
    return g->eps != 0;
  if (!strcmp(flag, "scale"))
    return g->scale != default_scale(g);
  if (!strcmp(flag, "gate"))
    return beta_any(g, t, gate_open);
  if (!strcmp(flag, "gate_extreme"))
    return beta_any(g, t, gate_extreme);
  if (!strcmp(flag, "gqa"))
    return g->n_kv_heads < g->n_heads;
  if (!strcmp(flag, "multi_head"))
    return g->n_heads > 1;
  if (!strcmp(flag, "multi_segment"))
    return g->segments >= 3;
  if (!strcmp(flag, "long_run"))
    return g->segments >= 64;
  if (!strcmp(flag, "delta_rule"))
    return g->rule == INFINI_UPDATE_DELTA;
  if (!strcmp(flag, "strided"))
    return vs_group_strided(g);
  if (!strcmp(flag, "realistic"))
    return model_sized(g);
  if (!strcmp(flag, "masked_nonfinite"))
    return masked_nonfinite(g, t);
  if (!strcmp(flag, "restricted"))
    return (!has_dk_dv(g->op) || g->d_key == g->d_value) && vs_test_one_beta(t);
  return -1;
}

/* Per manifest: for each flag, how many tests carry it and which lie. */
typedef struct tally {
  char flag[32];
  int carried, unchecked;
  char liars[256];
} tally;

static tally *tally_of(tally *ts, int *n, const char *flag) {
  for (int i = 0; i < *n; i++)
    if (!strcmp(ts[i].flag, flag))
      return &ts[i];
  tally *t = &ts[(*n)++];
  memset(t, 0, sizeof *t);
  snprintf(t->flag, sizeof t->flag, "%s", flag);
  return t;
}

static void check_manifest(const char *dir, vs_op op) {
  char path[4200], err[1024];
  vs_set set;
  snprintf(path, sizeof path, "%s/%s.json", dir, vs_op_name(op));
  if (!vs_set_load(path, &set, err, sizeof err)) {
    tap_ok(false, "%s", err);
    return;
  }
  tally ts[64];
  int n = 0;
  for (int gi = 0; gi < set.n_groups; gi++) {
    vs_group *g = &set.groups[gi];
    for (int ti = 0; ti < g->n_tests; ti++) {
      vs_test *t = &g->tests[ti];
      if (!vs_test_load(&set, t, err, sizeof err)) {
        tap_ok(false, "%s tcId %d: %s", set.file, t->id, err);
        continue;
      }
      for (int f = 0; f < t->n_flags && n < 64; f++) {
        tally *ty = tally_of(ts, &n, t->flags[f]);
        const int holds = flag_holds(g, t, t->flags[f]);
        ty->carried++;
        ty->unchecked += holds < 0;
        if (holds == 0) {
          size_t l = strlen(ty->liars);
          snprintf(ty->liars + l, sizeof ty->liars - l, " %d", t->id);
        }
      }
      vs_test_unload(t);
    }
  }
  for (int i = 0; i < n; i++) {
    if (ts[i].unchecked == ts[i].carried)
      continue; /* says why, not what: nothing to check */
    tap_ok(!ts[i].liars[0], "%s: flag %s true of all %d tests carrying it%s%s",
           set.file, ts[i].flag, ts[i].carried, ts[i].liars[0] ? "; false of tcId" : "",
           ts[i].liars);
  }
  vs_set_free(&set);
}

int main(int argc, char **argv) {
  const char *srcdir = getenv("srcdir");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/vectors/v2", srcdir ? srcdir : ".");
  if (argc > 1)
    snprintf(dir, sizeof dir, "%s", argv[1]);
  tap_diag("flags of the tests in %s", dir);
  for (int op = 0; op < VS_OP_COUNT; op++)
    check_manifest(dir, (vs_op)op);
  return tap_done();
}

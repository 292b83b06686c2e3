/*
 * conformance/declare.c - declared restrictions (docs/conformance.md,
 * "Restricted implementations"). An implementation that cannot take every
 * parameter of the specification says so with --declare LIST; the cases
 * it cannot run are not applicable: skipped with the reason, left out of
 * an export, not required by check. The coverage report says how much of
 * each operator and which kinds of test (flags) the declaration leaves
 * unjudged, so a restriction cannot hide a gap.
 */
#include "config.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/conform.h"

/* One item of the list: NAME or NAME=VALUE. */
static bool parse_item(cf_declaration *d, const char *item, char *err, size_t errlen) {
  char *end;
  if (!strcmp(item, "default-scale"))
    d->default_scale = true;
  else if (!strcmp(item, "square"))
    d->square = true;
  else if (!strcmp(item, "no-gqa"))
    d->no_gqa = true;
  else if (!strcmp(item, "one-beta"))
    d->one_beta = true;
  else if (!strcmp(item, "packed"))
    d->packed = true;
  else if (!strcmp(item, "rule=linear") || !strcmp(item, "rule=delta")) {
    d->fixed_rule = true;
    d->rule = item[5] == 'l' ? INFINI_UPDATE_LINEAR : INFINI_UPDATE_DELTA;
  } else if (!strncmp(item, "eps=", 4)) {
    d->eps = strtof(item + 4, &end);
    if (end == item + 4 || *end || !(d->eps >= 0) || isinf(d->eps)) {
      snprintf(err, errlen, "--declare: eps=%s is not a finite number >= 0", item + 4);
      return false;
    }
    d->fixed_eps = true;
  } else {
    snprintf(err, errlen,
             "--declare: unknown restriction '%.40s' (default-scale, square, no-gqa, one-beta, "
             "packed, eps=E, rule=linear|delta)", item);
    return false;
  }
  return true;
}

bool cf_declaration_parse(cf_declaration *d, const char *list, char *err, size_t errlen) {
  char buf[256];
  if (strlen(list) >= sizeof buf) {
    snprintf(err, errlen, "--declare: the list is longer than %zu characters", sizeof buf - 1);
    return false;
  }
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
       item = strtok_r(NULL, ",", &save))
    if (!parse_item(d, item, err, errlen))
      return false;
  size_t used = strlen(d->text);
  snprintf(d->text + used, sizeof d->text - used, "%s%s", used ? "," : "", list);
  d->any = true;
  return true;
}

static bool uses_scale(vs_op op) {
  return op == VS_LOCAL_ATTENTION || op == VS_SEGMENT_STEP || op == VS_LAYER_STEP;
}
static bool uses_eps(vs_op op) {
  return op == VS_RETRIEVE || op == VS_UPDATE_DELTA || op == VS_SEGMENT_STEP ||
         op == VS_LAYER_STEP;
}
static bool uses_rule(vs_op op) {
  return op == VS_UPDATE_LINEAR || op == VS_UPDATE_DELTA || op == VS_SEGMENT_STEP ||
         op == VS_LAYER_STEP;
}
/* The update rule a case runs: the update operators are one rule each. */
static infini_update_rule rule_of(const vs_group *g) {
  if (g->op == VS_UPDATE_LINEAR)
    return INFINI_UPDATE_LINEAR;
  return g->op == VS_UPDATE_DELTA ? INFINI_UPDATE_DELTA : g->rule;
}
static bool has_dk_dv(vs_op op) { return op != VS_FEATURE_MAP && op != VS_MIX; }


/* Does the declared eps leave the case's outputs where they are? The
 * double implementation of the diagnoser computes the case twice, with
 * its own eps and with eps = E, and the second is judged against the
 * first with the case's tolerance: applicable when no output moves by
 * more than CF_EPS_INVISIBLE (a tenth of the tolerance), so the declared
 * eps cannot be what passes or fails it. Judging the second against the
 * vector instead would also count the float32 rounding of the model's own
 * result (up to a third of the tolerance on the 33-column tile twins),
 * which is no effect of eps. */
#define CF_EPS_INVISIBLE 0.1
static bool eps_invisible(const cf_case *c, float eps, tol_profile profile, double *ratio) {
  vs_group g = *c->group;
  g.eps = eps;
  cf_case moved_case = *c, base_case = *c;
  moved_case.group = &g;
  cf_outputs base = {0}, moved = {0};
  vs_test t = *c->test; /* its expected outputs replaced by base's */
  double *expected[VS_MAX_OUTPUTS] = {0};
  cf_result r;
  memset(&r, 0, sizeof r);
  r.ratio = NAN;
  bool ok = cf_diagnose_model(c, "none", &base) &&
            cf_diagnose_model(&moved_case, "none", &moved);
  t.result = VS_VALID;
  t.n_alternatives = 0;
  for (int i = 0; ok && i < t.outputs.count; i++) {
    vs_tensor *e = &t.outputs.items[i].expected;
    int j = 0;
    while (j < base.n && strcmp(base.names[j], e->name) != 0)
      j++;
    ok = j < base.n && base.data[j] && base.count[j] == vs_tensor_count(e);
    if (!ok)
      break;
    expected[i] = cf_xmalloc(base.count[j] * sizeof(double) + 1);
    for (size_t k = 0; k < base.count[j]; k++)
      expected[i][k] = base.data[j][k];
    e->dtype = VS_F64;
    e->data = expected[i];
  }
  if (ok) {
    base_case.test = &t;
    cf_judge(&base_case, profile, &moved, &r);
    ok = !r.failed && r.ratio <= CF_EPS_INVISIBLE;
  }
  *ratio = r.ratio;
  free(r.message);
  for (int i = 0; i < VS_MAX_OUTPUTS; i++)
    free(expected[i]);
  cf_outputs_free(&base);
  cf_outputs_free(&moved);
  return ok;
}

/* Why the declaration cannot run case c (into why), or false. */
static bool not_applicable(const cf_declaration *d, tol_profile profile, const cf_case *c,
                           char *why, size_t len) {
  const vs_group *g = c->group;
  const float default_scale = (float)(1.0 / sqrt((double)g->d_key));
  double ratio = 0;
  if (d->square && has_dk_dv(g->op) && g->d_key != g->d_value)
    snprintf(why, len, "d_key %td != d_value %td (declared square)", g->d_key, g->d_value);
  else if (d->default_scale && uses_scale(g->op) && g->scale != default_scale)
    snprintf(why, len, "scale %.9g is not 1/sqrt(d_key) (declared default-scale)",
             (double)g->scale);
  else if (d->no_gqa && g->op == VS_LAYER_STEP && g->n_kv_heads != g->n_heads)
    snprintf(why, len, "%td kv heads for %td query heads (declared no-gqa)", g->n_kv_heads,
             g->n_heads);
  else if (d->one_beta && g->op == VS_LAYER_STEP && !vs_test_one_beta(c->test))
    snprintf(why, len, "a beta per head (declared one-beta)");
  else if (d->fixed_rule && uses_rule(g->op) && rule_of(g) != d->rule)
    snprintf(why, len, "the %s rule (declared rule=%s)",
             rule_of(g) == INFINI_UPDATE_DELTA ? "delta" : "linear",
             d->rule == INFINI_UPDATE_DELTA ? "delta" : "linear");
  else if (d->packed && vs_group_strided(g))
    snprintf(why, len, "row strides (declared packed)");
  else if (d->fixed_eps && uses_eps(g->op) && g->eps != d->eps &&
           !eps_invisible(c, d->eps, profile, &ratio))
    snprintf(why, len, "eps %.9g, and eps %.9g moves its outputs by %s of the tolerance "
             "(declared eps)", (double)g->eps, (double)d->eps,
             isnan(ratio) ? "NaN" : ratio > 1e3 ? "more than 1000 times" : "over a tenth");
  else
    return false;
  return true;
}

void cf_declaration_apply(const cf_declaration *d, tol_profile profile, cf_case *cases,
                          size_t n) {
  for (size_t i = 0; d->any && i < n; i++) {
    char why[160];
    if (not_applicable(d, profile, &cases[i], why, sizeof why))
      snprintf(cases[i].not_applicable, sizeof cases[i].not_applicable,
               "not applicable: %s", why);
  }
}

/* An input tensor whose every finite nonzero element is a normal float32
 * below the smallest normal number of the profile's storage format: stored
 * there it keeps a few bits, or none, an error relative to nothing the
 * tolerance model's cond term (relative input rounding) can bound. The
 * tiny_den vectors (z of order 1e-7) are such inputs for float16. */
static const char *below_storage_range(const cf_case *c, tol_profile profile) {
  const double tiny = tol_tiny(profile);
  if (tiny <= FLT_MIN)
    return NULL;
  for (int i = 0; i < c->test->n_inputs; i++) {
    const vs_tensor *t = &c->test->inputs[i];
    if (t->dtype != VS_F32 || !t->data)
      continue;
    const float *x = t->data;
    size_t below = 0, other = 0;
    for (size_t j = 0, n = vs_tensor_count(t); j < n; j++) {
      const double a = fabs((double)x[j]);
      if (a >= FLT_MIN && a < tiny)
        below++;
      else if (isfinite(a) && a != 0)
        other++;
    }
    if (below > 0 && other == 0)
      return t->name;
  }
  return NULL;
}

void cf_profile_range_apply(tol_profile profile, cf_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *name = cases[i].not_applicable[0] ? NULL : below_storage_range(&cases[i], profile);
    if (name)
      snprintf(cases[i].not_applicable, sizeof cases[i].not_applicable,
               "not applicable under %s: input %s lies below the normal range of its storage "
               "format (|x| < %.3g), where rounding keeps too few bits to judge",
               tol_profile_name(profile), name, tol_tiny(profile));
  }
}

const char *cf_case_skip_reason(const cf_case *c) {
  if (c->excluded)
    return "excluded (exclude list)";
  return c->not_applicable[0] ? c->not_applicable : NULL;
}

/* ---- coverage -------------------------------------------------------------- */

typedef struct flag_count {
  const char *flag;
  int total, judged;
} flag_count;

static void count_flag(flag_count *fc, int *n, int cap, const char *flag, bool judged) {
  for (int i = 0; i < *n; i++)
    if (!strcmp(fc[i].flag, flag)) {
      fc[i].total++;
      fc[i].judged += judged;
      return;
    }
  if (*n < cap)
    fc[(*n)++] = (flag_count){flag, 1, judged};
}

void cf_declaration_report(const cf_declaration *d, const cf_case *cases, size_t n, FILE *f) {
  if (!d->any)
    return;
  int total[VS_OP_COUNT] = {0}, judged[VS_OP_COUNT] = {0}, n_flags = 0;
  flag_count fc[64];
  size_t all = 0;
  for (size_t i = 0; i < n; i++) {
    const bool ok = !cases[i].not_applicable[0];
    total[cases[i].group->op]++;
    judged[cases[i].group->op] += ok;
    all += ok;
    for (int k = 0; k < cases[i].test->n_flags; k++)
      count_flag(fc, &n_flags, 64, cases[i].test->flags[k], ok);
  }
  fprintf(f, "declared %s: %zu of %zu cases applicable;", d->text, all, n);
  for (int op = 0; op < VS_OP_COUNT; op++)
    if (total[op])
      fprintf(f, " %s %d/%d (%d%%)", vs_op_name((vs_op)op), judged[op], total[op],
              100 * judged[op] / total[op]);
  fprintf(f, "\n");
  bool any = false;
  for (int i = 0; i < n_flags; i++)
    if (fc[i].judged == 0) {
      fprintf(f, "%s %s (%d case%s)", any ? "," : "not covered at all by the declaration:",
              fc[i].flag, fc[i].total, fc[i].total == 1 ? "" : "s");
      any = true;
    }
  if (any)
    fprintf(f, "\n");
}

/*
 * conformance/diagnose.c - explain a failure by the catalogue of known
 * deviations (conformance/catalogue.h).
 *
 * For a case that failed, the outputs are recomputed in double by the one
 * configurable implementation (conformance/mutants/impl.c, dev_*_f64)
 * under every catalogue bug that applies to the case: its operator is in
 * the entry's `ops`, the case has what the entry's `when` asks (the delta
 * rule, GQA, a NaN expected, ...), and the entry is diagnosable. A
 * parameterised entry is tried with each of its `tries` values; "fit"
 * (scale_other) fits the parameter to the outputs (golden section on
 * log(scale)) when nothing else explains them.
 *
 * Each candidate gets a ratio: the worst, over every output element, of
 * |got - alternative| / allowed, where allowed is the case's own tolerance
 * evaluated at the alternative's value (and at its magnitude, where larger
 * than the specified one). The spec gets the same ratio against the
 * expected outputs. A candidate is NAMED only when it explains the outputs
 * clearly better than the spec does:
 *
 *     ratio(candidate) <= DIAG_MATCH   and
 *     ratio(spec) >= DIAG_CLEARER * ratio(candidate)
 *
 * (docs/mutants.md "Diagnosis" gives the reasons for both numbers and what
 * they were measured against). Otherwise the runner says it found no
 * known cause. The best candidate is named first; others that pass as
 * well and are not aliases of it follow ("; or ..."). When no single
 * entry passes, combinations of up to DIAG_COMBINE entries are grown
 * greedily from the best one (combine(): each part must be clearly visible
 * on its own and lower the ratio by DIAG_CLEARER), and a combination that
 * passes the same rule is named as bugs found together.
 *
 * When nothing is named and the case stresses the format's range (flags
 * subnormal, underflow, large_logits) and the spec's ratio is at most
 * DIAG_PRECISION, the failure is labelled a precision limit instead.
 *
 * Every failure gets the same full search: the diagnosis of a case does not
 * depend on the rest of the run, its order or the machine's load, and the
 * cost is bounded by the candidates tried (entries x parameters; when no
 * single one is named, at most 2 x that for the combinations and
 * FIT_STEPS evaluations for a fitted scale), not by time.
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/conform.h"
#include "conformance/mutants/impl.h"

#define DIAG_MATCH CF_DIAG_MATCH
#define DIAG_CLEARER CF_DIAG_CLEARER
#define MAX_CANDIDATES 128
#define FIT_STEPS 48
#define DIAG_COMBINE 3 /* entries in a combination, at most */
#define DIAG_PRECISION 8.0 /* a miss this small on a range case: precision */

/* ---- the case in double ------------------------------------------------- */

/* The inputs of the case, in double, converted once per diagnosis. */
typedef struct case_inputs {
  const vs_test *test;
  int n;
  const char *names[VS_MAX_INPUTS];
  double *data[VS_MAX_INPUTS];
} case_inputs;

static void inputs_free(case_inputs *in) {
  for (int i = 0; i < in->n; i++)
    free(in->data[i]);
  in->n = 0;
}

/* Input `name` as `count` doubles (zeros beyond what the test holds). */
static const double *input(case_inputs *in, const char *name, size_t count) {
  for (int i = 0; i < in->n; i++)
    if (strcmp(in->names[i], name) == 0)
      return in->data[i];
  const vs_tensor *t = cf_find_input(in->test, name, NULL);
  double *x = cf_xcalloc(count ? count : 1, sizeof *x);
  for (size_t i = 0; t && t->data && i < count && i < vs_tensor_count(t); i++)
    x[i] = t->dtype == VS_F64 ? ((const double *)t->data)[i]
                              : (double)((const float *)t->data)[i];
  if (in->n < VS_MAX_INPUTS) {
    in->names[in->n] = name;
    in->data[in->n++] = x;
  }
  return x;
}

/* The outputs of one configuration, by name. */
typedef struct alt_outputs {
  int n;
  const char *names[VS_MAX_OUTPUTS];
  double *data[VS_MAX_OUTPUTS];
  size_t count[VS_MAX_OUTPUTS];
} alt_outputs;

static double *alt_take(alt_outputs *o, const char *name, size_t count) {
  const int i = o->n++;
  o->names[i] = name;
  o->count[i] = count;
  o->data[i] = cf_xcalloc(count ? count : 1, sizeof(double));
  return o->data[i];
}

static void alt_free(alt_outputs *o) {
  for (int i = 0; i < o->n; i++)
    free(o->data[i]);
  o->n = 0;
}

/* The state outputs m, z of an update or a step, starting from the inputs. */
static void take_state(case_inputs *in, alt_outputs *o, size_t m_count, size_t z_count,
                       double **m, double **z) {
  *m = alt_take(o, "m", m_count);
  *z = alt_take(o, "z", z_count);
  memcpy(*m, input(in, "m", m_count), m_count * sizeof **m);
  memcpy(*z, input(in, "z", z_count), z_count * sizeof **z);
}

/* S segments of a step (H = H_kv = 1 for segment_step), state carried. */
static bool steps(const cat_config *cfg, const vs_group *g, case_inputs *in, alt_outputs *o) {
  const bool layer = g->op == VS_LAYER_STEP;
  const ptrdiff_t S = g->segments > 0 ? g->segments : 1, n = g->n;
  const ptrdiff_t H = layer ? g->n_heads : 1, Hkv = layer ? g->n_kv_heads : 1;
  const ptrdiff_t dk = g->d_key, dv = g->d_value;
  const double *q = input(in, "q", (size_t)(S * n * H * dk));
  const double *k = input(in, "k", (size_t)(S * n * Hkv * dk));
  const double *v = input(in, "v", (size_t)(S * n * Hkv * dv));
  double *out = alt_take(o, "out", (size_t)(S * n * H * dv)), *m, *z;
  take_state(in, o, (size_t)(Hkv * dk * dv), (size_t)(Hkv * dk), &m, &z);
  float *beta = cf_xcalloc((size_t)H, sizeof *beta);
  const double *b = layer ? input(in, "beta", (size_t)H) : NULL;
  for (ptrdiff_t h = 0; h < H; h++)
    beta[h] = layer ? (float)b[h] : g->beta;
  const infini_head_shape sh = {n, dk, dv};
  const infini_step_params pr = {g->rule, g->beta, g->eps, g->scale};
  const infini_layer_config lc = {H, Hkv, dk, dv, g->rule, g->eps, g->scale};
  bool ok = true;
  for (ptrdiff_t s = 0; ok && s < S; s++) {
    const double *qs = q + s * n * H * dk, *ks = k + s * n * Hkv * dk, *vs = v + s * n * Hkv * dv;
    double *os = out + s * n * H * dv;
    ok = (layer ? dev_layer_step_f64(cfg, &lc, n, qs, H * dk, ks, Hkv * dk, vs, Hkv * dv, beta,
                                     m, z, os, H * dv, NULL)
                : dev_segment_step_f64(cfg, &sh, &pr, qs, dk, ks, dk, vs, dv, m, dv, z, os,
                                       dv, NULL)) == INFINI_OK;
  }
  free(beta);
  return ok;
}

/* The outputs of case c under configuration cfg; false when out of memory. */
static bool compute(const cf_case *c, const cat_config *cfg, case_inputs *in, alt_outputs *o) {
  const vs_group *g = c->group;
  const ptrdiff_t n = g->n, dk = g->d_key, dv = g->d_value;
  const infini_head_shape sh = {n, dk, dv};
  infini_status st = INFINI_OK;
  double *m, *z;
  o->n = 0;
  switch (g->op) {
  case VS_FEATURE_MAP: {
    const size_t count = (size_t)(g->rows * g->cols);
    st = dev_feature_map_f64(cfg, g->rows, g->cols, input(in, "x", count), g->cols,
                             alt_take(o, "y", count), g->cols);
    break;
  }
  case VS_RETRIEVE:
    st = dev_retrieve_f64(cfg, &sh, input(in, "q", (size_t)(n * dk)), dk,
                          input(in, "m", (size_t)(dk * dv)), dv, input(in, "z", (size_t)dk),
                          g->eps, alt_take(o, "a", (size_t)(n * dv)), dv);
    break;
  case VS_UPDATE_LINEAR:
  case VS_UPDATE_DELTA: {
    const double *k = input(in, "k", (size_t)(n * dk)), *v = input(in, "v", (size_t)(n * dv));
    take_state(in, o, (size_t)(dk * dv), (size_t)dk, &m, &z);
    st = g->op == VS_UPDATE_DELTA
             ? dev_update_delta_f64(cfg, &sh, k, dk, v, dv, m, dv, z, g->eps, NULL)
             : dev_update_linear_f64(cfg, &sh, k, dk, v, dv, m, dv, z);
    break;
  }
  case VS_MIX: {
    const ptrdiff_t rows = g->rows > 0 ? g->rows : n, cols = g->rows > 0 ? g->cols : dv;
    const size_t count = (size_t)(rows * cols);
    st = dev_mix_f64(cfg, rows, cols, g->beta, input(in, "a_mem", count), cols,
                     input(in, "a_dot", count), cols, alt_take(o, "out", count), cols);
    break;
  }
  case VS_LOCAL_ATTENTION:
    st = dev_local_attention_f64(cfg, &sh, input(in, "q", (size_t)(n * dk)), dk,
                                 input(in, "k", (size_t)(n * dk)), dk,
                                 input(in, "v", (size_t)(n * dv)), dv, g->scale,
                                 alt_take(o, "out", (size_t)(n * dv)), dv, NULL);
    break;
  case VS_SEGMENT_STEP:
  case VS_LAYER_STEP:
    return steps(cfg, g, in, o);
  default:
    return false;
  }
  return st == INFINI_OK;
}

/* ---- ratios --------------------------------------------------------------- */

/* The ratio of one element against an alternative value a (mag, cond: the
 * specified computation's; the alternative's own |a| counts as a magnitude
 * too, as the vectors' magnitudes belong to the specified computation). */
static double element_ratio(const vs_output *want, tol_profile profile, size_t i, double x,
                            double a) {
  if (isnan(a))
    return isnan(x) ? 0 : INFINITY;
  if (isinf(a))
    return x == a ? 0 : INFINITY;
  if (isnan(x))
    return INFINITY;
  if (isinf(x))
    return fabs(a) >= 0x1.fffffep+127 && (x > 0) == (a > 0) ? 0 : INFINITY;
  const double *mag = want->mag ? want->mag->data : NULL;
  const double *cond = want->cond ? want->cond->data : NULL;
  double m = mag && isfinite(mag[i]) ? mag[i] : 0; /* NaN where the spec's result is NaN */
  const double cd = cond && isfinite(cond[i]) ? cond[i] : 0;
  if (fabs(a) > m)
    m = fabs(a);
  const double r = fabs(x - a) / tol_allowed(&want->tol, profile, a, m, cd);
  return isnan(r) ? INFINITY : r;
}

/* Worst ratio of got against reference values, one array per expected
 * output of the case (ref[o] has the count of output o); stops early once
 * clearly not a match. */
static double ratio_against(const cf_case *c, tol_profile profile, const cf_outputs *got,
                            const double *const *ref) {
  double worst = 0;
  const vs_outputs *outs = &c->test->outputs;
  for (int o = 0; o < outs->count; o++) {
    const vs_output *want = &outs->items[o];
    const size_t count = vs_tensor_count(&want->expected);
    int gi = -1;
    for (int i = 0; i < got->n; i++)
      if (strcmp(got->names[i], want->expected.name) == 0)
        gi = i;
    if (gi < 0 || !got->data[gi] || got->count[gi] != count || !ref[o])
      return INFINITY;
    for (size_t i = 0; i < count && worst <= 1e6; i++) {
      const double r = element_ratio(want, profile, i, got->data[gi][i], ref[o][i]);
      worst = r > worst ? r : worst;
    }
  }
  return worst;
}

/* Against an alternative's outputs, matched by name. */
static double alt_ratio(const cf_case *c, tol_profile profile, const cf_outputs *got,
                        const alt_outputs *ao) {
  const vs_outputs *outs = &c->test->outputs;
  const double *ref[VS_MAX_OUTPUTS] = {0};
  for (int o = 0; o < outs->count; o++)
    for (int i = 0; i < ao->n; i++)
      if (strcmp(ao->names[i], outs->items[o].expected.name) == 0 &&
          ao->count[i] == vs_tensor_count(&outs->items[o].expected))
        ref[o] = ao->data[i];
  return ratio_against(c, profile, got, ref);
}

/* The spec's ratio: against the expected outputs, or the best of the
 * acceptable alternatives' (the same measure as the candidates'). */
static double spec_ratio(const cf_case *c, tol_profile profile, const cf_outputs *got) {
  const vs_test *t = c->test;
  const double *ref[VS_MAX_OUTPUTS] = {0};
  for (int o = 0; o < t->outputs.count; o++)
    ref[o] = t->outputs.items[o].expected.data;
  double best = ratio_against(c, profile, got, ref);
  for (int a = 0; a < t->n_alternatives; a++) {
    const vs_outputs *alt = &t->alternatives[a];
    for (int o = 0; o < t->outputs.count; o++)
      ref[o] = o < alt->count ? alt->items[o].expected.data : NULL;
    const double r = ratio_against(c, profile, got, ref);
    best = r < best ? r : best;
  }
  return best;
}

/* ---- candidates ------------------------------------------------------------ */

static bool expects_nan(const cf_case *c) {
  const vs_outputs *outs = &c->test->outputs;
  for (int o = 0; o < outs->count; o++) {
    const double *e = outs->items[o].expected.data;
    for (size_t i = 0; e && i < vs_tensor_count(&outs->items[o].expected); i++)
      if (isnan(e[i]))
        return true;
  }
  return false;
}

static bool got_nonfinite(const cf_case *c, const cf_outputs *got) {
  const vs_outputs *outs = &c->test->outputs;
  for (int o = 0; o < outs->count; o++) {
    const vs_tensor *t = &outs->items[o].expected;
    const double *e = t->data;
    for (int k = 0; k < got->n; k++)
      if (strcmp(got->names[k], t->name) == 0 && got->data[k] && e &&
          got->count[k] == vs_tensor_count(t))
        for (size_t i = 0; i < got->count[k]; i++)
          if (!isfinite(got->data[k][i]) && isfinite(e[i]))
            return true;
  }
  return false;
}

/* The `when` bits the case satisfies. */
static unsigned case_shows(const cf_case *c, const cf_outputs *got) {
  const vs_group *g = c->group;
  const bool step = g->op == VS_SEGMENT_STEP || g->op == VS_LAYER_STEP;
  unsigned w = 0;
  if (g->op == VS_UPDATE_DELTA || (step && g->rule == INFINI_UPDATE_DELTA))
    w |= CAT_W_DELTA;
  if (g->op == VS_UPDATE_LINEAR || (step && g->rule == INFINI_UPDATE_LINEAR))
    w |= CAT_W_LINEAR;
  if (g->op == VS_LAYER_STEP && g->n_kv_heads > 1 && g->n_heads > g->n_kv_heads)
    w |= CAT_W_GQA;
  if (g->op == VS_LAYER_STEP && g->n_heads > 1)
    w |= CAT_W_HEADS;
  if (g->eps != 0)
    w |= CAT_W_EPS;
  if (expects_nan(c))
    w |= CAT_W_NAN;
  if (got_nonfinite(c, got))
    w |= CAT_W_NONFINITE;
  return w;
}

/* A candidate: one catalogue bug with one parameter. */
typedef struct candidate {
  cat_id id;
  double param;
  double ratio;
} candidate;

/* Parameter values of entry e for this case: its `tries` list, with "H"
 * the layer's number of query heads (layer steps only). */
static int params_of(const cat_entry *e, const vs_group *g, double *out, int max) {
  int n = 0;
  if (!e->tries[0] || strcmp(e->tries, "fit") == 0) {
    out[n++] = 0;
    return n;
  }
  for (const char *p = e->tries; *p && n < max;) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    double x;
    char *end;
    if (*p == 'H') {
      end = (char *)p + 1;
      if (g->op != VS_LAYER_STEP) {
        p = end;
        continue;
      }
      x = (double)g->n_heads;
    } else {
      x = strtod(p, &end);
      if (end == p)
        break;
    }
    bool seen = false;
    for (int i = 0; i < n; i++)
      seen |= out[i] == x;
    if (!seen)
      out[n++] = x;
    p = end;
  }
  return n;
}

static bool applies(const cat_entry *e, const vs_group *g, unsigned shows) {
  return e->kind == CAT_BUG && !e->why_not[0] && (e->ops & (1u << g->op)) &&
         (e->when & shows) == e->when;
}

/* ---- the search ------------------------------------------------------------- */

typedef struct search {
  const cf_case *c;
  tol_profile profile;
  const cf_outputs *got;
  case_inputs in;
} search;

static double try_config(search *s, const cat_config *cfg) {
  alt_outputs o = {0};
  const double r = compute(s->c, cfg, &s->in, &o) ? alt_ratio(s->c, s->profile, s->got, &o)
                                                   : INFINITY;
  alt_free(&o);
  return r;
}

/* One entry alone (the configuration, for the callers that compute it). */
static cat_config one_entry(cat_id id, double param) {
  cat_config cfg;
  cat_config_init(&cfg);
  cfg.on[id] = true;
  cfg.param[id] = param;
  return cfg;
}

static double try_one(search *s, cat_id id, double param) {
  const cat_config cfg = one_entry(id, param);
  return try_config(s, &cfg);
}

/* scale_other: golden-section search of log(scale) in [scale/64, 64 scale]
 * for the smallest worst ratio. */
static double fit_scale(search *s) {
  const double phi = 0.6180339887498949;
  const double asked = fabs((double)s->c->group->scale) > 0 ? fabs((double)s->c->group->scale) : 1;
  double lo = log(asked / 64), hi = log(asked * 64);
  double x1 = hi - phi * (hi - lo), x2 = lo + phi * (hi - lo);
  double f1 = try_one(s, CAT_scale_other, exp(x1)), f2 = try_one(s, CAT_scale_other, exp(x2));
  for (int it = 0; it < FIT_STEPS && hi - lo > 1e-7; it++) {
    if (f1 < f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - phi * (hi - lo);
      f1 = try_one(s, CAT_scale_other, exp(x1));
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + phi * (hi - lo);
      f2 = try_one(s, CAT_scale_other, exp(x2));
    }
  }
  return (double)(float)exp((lo + hi) / 2) * (s->c->group->scale < 0 ? -1 : 1);
}

static bool named(double ratio, double spec) {
  return ratio <= DIAG_MATCH && spec >= DIAG_CLEARER * ratio;
}

/* Every applicable candidate, tried; sorted by ratio (stable: catalogue
 * order breaks ties). Returns the count. */
static int search_all(search *s, candidate *list) {
  const vs_group *g = s->c->group;
  const unsigned shows = case_shows(s->c, s->got);
  int n = 0;
  for (int id = 0; id < CAT_COUNT && n < MAX_CANDIDATES; id++) {
    const cat_entry *e = cat_get((cat_id)id);
    if (!applies(e, g, shows) || strcmp(e->tries, "fit") == 0)
      continue;
    double params[16];
    const int np = params_of(e, g, params, 16);
    for (int p = 0; p < np && n < MAX_CANDIDATES; p++) {
      list[n] = (candidate){(cat_id)id, params[p], try_one(s, (cat_id)id, params[p])};
      n++;
    }
  }
  /* insertion sort by ratio, stable */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && list[j].ratio < list[j - 1].ratio; j--) {
      const candidate t = list[j];
      list[j] = list[j - 1];
      list[j - 1] = t;
    }
  return n;
}

/* ---- combinations ------------------------------------------------------------ */

/* Several entries switched on together. */
typedef struct combo {
  int k;
  cat_id id[DIAG_COMBINE];
  double param[DIAG_COMBINE];
  double ratio;
} combo;

static double try_combo(search *s, const combo *c) {
  cat_config cfg;
  cat_config_init(&cfg);
  for (int i = 0; i < c->k; i++) {
    cfg.on[c->id[i]] = true;
    cfg.param[c->id[i]] = c->param[i];
  }
  return try_config(s, &cfg);
}

static bool in_combo(const combo *c, cat_id id) {
  for (int i = 0; i < c->k; i++)
    if (cat_same(c->id[i], id))
      return true;
  return false;
}

/* Is one entry's own effect clearly visible on this case: do its outputs,
 * computed exactly, differ from the expected ones by more than
 * DIAG_CLEARER times the tolerance? A part of a combination must be, or
 * a tiny epsilon could be named for absorbing the rounding of another
 * part's ill-conditioned formula. */
static bool visible_alone(search *s, cat_id id, double param) {
  const cat_config cfg = one_entry(id, param);
  alt_outputs o = {0};
  double worst = 0;
  if (compute(s->c, &cfg, &s->in, &o)) {
    const vs_outputs *outs = &s->c->test->outputs;
    for (int k = 0; k < outs->count; k++)
      for (int i = 0; i < o.n; i++)
        if (strcmp(o.names[i], outs->items[k].expected.name) == 0 &&
            o.count[i] == vs_tensor_count(&outs->items[k].expected))
          for (size_t e = 0; e < o.count[i]; e++) {
            const double r = element_ratio(&outs->items[k], s->profile, e, o.data[i][e],
                                           ((const double *)outs->items[k].expected.data)[e]);
            worst = r > worst ? r : worst;
          }
  }
  alt_free(&o);
  return worst > DIAG_CLEARER;
}

/* When no single entry is named: the best single one grown greedily, one
 * entry at a time up to DIAG_COMBINE, each time by the candidate that
 * lowers the ratio most among those whose own effect is clearly visible
 * on the case, and only while that lowers it by DIAG_CLEARER (a part that
 * does not clearly help is not named). At most 2 x n more evaluations.
 * True with the combination in *out when it is named. */
static bool combine(search *s, const candidate *list, int n, double spec, combo *out) {
  combo cur = {1, {list[0].id}, {list[0].param}, list[0].ratio};
  for (int depth = 2; depth <= DIAG_COMBINE; depth++) {
    combo tried[MAX_CANDIDATES];
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (in_combo(&cur, list[i].id))
        continue;
      combo t = cur;
      t.id[t.k] = list[i].id;
      t.param[t.k++] = list[i].param;
      t.ratio = try_combo(s, &t);
      if (t.ratio <= cur.ratio / DIAG_CLEARER)
        tried[m++] = t;
    }
    /* the best addition whose part is visible alone */
    int best = -1;
    bool used[MAX_CANDIDATES] = {false};
    for (int left = m; left > 0 && best < 0; left--) {
      int b = -1;
      for (int i = 0; i < m; i++)
        if (!used[i] && (b < 0 || tried[i].ratio < tried[b].ratio))
          b = i;
      used[b] = true;
      if (visible_alone(s, tried[b].id[cur.k], tried[b].param[cur.k]))
        best = b;
    }
    if (best < 0)
      return false;
    cur = tried[best];
    if (named(cur.ratio, spec)) {
      *out = cur;
      return true;
    }
  }
  return false;
}

/* ---- messages ---------------------------------------------------------------- */

static void say(cf_buf *b, const candidate *k) {
  const cat_entry *e = cat_get(k->id);
  char msg[256];
  cat_message(k->id, k->param, msg, sizeof msg);
  if (cat_has_param(k->id))
    cf_buf_printf(b, "%s=%.6g: %s", e->name, k->param, msg);
  else
    cf_buf_printf(b, "%s: %s", e->name, msg);
  if (k->id == CAT_scale_other)
    cf_buf_printf(b, " (1/sqrt(%.6g))", 1 / (k->param * k->param));
  if (k->ratio >= 0)
    cf_buf_printf(b, " (ratio %.3g against it; docs/spec.md %s; docs/mutants.md)", k->ratio,
                  e->rule);
  else
    cf_buf_printf(b, " (docs/spec.md %s)", e->rule);
}

/* "looks like A + B together (...): A: ...; B: ..." */
static char *say_combo(cf_diagnosis *d, const combo *c) {
  cf_buf b = {0};
  d->together = true;
  cf_buf_printf(&b, "looks like %d bugs together (ratio %.3g against the combination; the "
                "spec's ratio is %.3g): ", c->k, c->ratio, d->spec_ratio);
  for (int i = 0; i < c->k; i++) {
    d->id[d->n] = c->id[i];
    d->param[d->n] = c->param[i];
    d->ratio[d->n++] = c->ratio;
    if (i)
      cf_buf_printf(&b, " + ");
    say(&b, &(candidate){c->id[i], c->param[i], -1});
  }
  cf_buf_printf(&b, "; docs/mutants.md");
  return cf_buf_take(&b);
}

/* No entry explains it: a small miss on a case built to stress the
 * format's range (subnormals, underflow, large values) is a precision
 * limit (flush to zero, exp overflow, a sum out of range), not a
 * structural bug; say so rather than nothing. NULL otherwise. */
static char *precision_limit(const cf_case *c, double spec) {
  static const char *const range_flags[] = {"subnormal", "underflow", "large_logits"};
  if (!(spec <= DIAG_PRECISION))
    return NULL;
  for (int f = 0; f < c->test->n_flags; f++)
    for (size_t k = 0; k < sizeof range_flags / sizeof range_flags[0]; k++)
      if (strcmp(c->test->flags[f], range_flags[k]) == 0) {
        cf_buf b = {0};
        cf_buf_printf(&b, "no known bug: within %g times the tolerance (ratio %.3g) on a "
                      "'%s' case, a precision limit (flush to zero, exp out of range, "
                      "rounding of extreme values), not a structural bug; see "
                      "docs/tolerances.md section 1", DIAG_PRECISION, spec, range_flags[k]);
        return cf_buf_take(&b);
      }
  return NULL;
}

bool cf_should_diagnose(const cf_diagnose_policy *p, const cf_case *c) {
  if (p->off)
    return false;
  if (!p->skip_flag)
    return true;
  /* skip_flag: one flag or a comma-separated list */
  for (int f = 0; f < c->test->n_flags; f++) {
    const char *flag = c->test->flags[f], *at = p->skip_flag;
    const size_t len = strlen(flag);
    for (; (at = strstr(at, flag)) != NULL; at += len)
      if ((at == p->skip_flag || at[-1] == ',') && (at[len] == ',' || at[len] == '\0'))
        return false;
  }
  return true;
}

char *cf_diagnose_names(const cf_case *c, tol_profile profile, const cf_outputs *got,
                        cf_diagnosis *d) {
  search s = {c, profile, got, {c->test, 0, {0}, {0}}};
  candidate list[MAX_CANDIDATES];
  memset(d, 0, sizeof *d);
  d->closest = -1;
  /* No output read (every file missing or unreadable): no arithmetic to
   * explain, and the search (every candidate recomputed in double) would
   * cost as much as for a wrong output. */
  bool any = false;
  for (int k = 0; k < got->n; k++)
    any |= got->data[k] != NULL;
  if (!any)
    return NULL;
  d->tried = true;
  d->spec_ratio = spec_ratio(c, profile, got);
  int n = search_all(&s, list);

  /* Nothing explains it: a scale other than the usual ones? */
  const cat_entry *so = cat_get(CAT_scale_other);
  if ((n == 0 || !named(list[0].ratio, d->spec_ratio)) &&
      applies(so, c->group, case_shows(c, got))) {
    const double sc = fit_scale(&s);
    if (fabs(sc - (double)c->group->scale) > 1e-6 * fabs((double)c->group->scale)) {
      const candidate fit = {CAT_scale_other, sc, try_one(&s, CAT_scale_other, sc)};
      if (named(fit.ratio, d->spec_ratio))
        list[0] = fit, n = n > 0 ? n : 1;
    }
  }
  combo together;
  const bool combined = n > 1 && !named(list[0].ratio, d->spec_ratio) &&
                        combine(&s, list, n, d->spec_ratio, &together);
  inputs_free(&s.in);
  d->closest = n > 0 ? (int)list[0].id : -1;
  d->closest_param = n > 0 ? list[0].param : 0;
  d->closest_ratio = n > 0 ? list[0].ratio : INFINITY;

  if (combined)
    return say_combo(d, &together);

  /* The best, then any other entry that explains the outputs as well
   * (within a factor 2 of the best, or both below 0.1): the case cannot
   * tell them apart, and the user should know. */
  for (int i = 0; i < n && d->n < CF_DIAG_MAX; i++) {
    if (!named(list[i].ratio, d->spec_ratio) ||
        (i > 0 && list[i].ratio > 2 * list[0].ratio && list[i].ratio > 0.1))
      break;
    bool alias = false; /* an alias of one already named adds nothing */
    for (int j = 0; j < d->n; j++)
      alias |= cat_same((cat_id)d->id[j], list[i].id);
    if (alias)
      continue;
    d->id[d->n] = list[i].id;
    d->param[d->n] = list[i].param;
    d->ratio[d->n++] = list[i].ratio;
  }
  if (d->n == 0)
    return precision_limit(c, d->spec_ratio);
  cf_buf b = {0};
  cf_buf_printf(&b, "looks like ");
  for (int i = 0; i < d->n; i++) {
    if (i)
      cf_buf_printf(&b, "; or ");
    say(&b, &(candidate){d->id[i], d->param[i], d->ratio[i]});
  }
  cf_buf_printf(&b, "; the spec's ratio is %.3g", d->spec_ratio);
  return cf_buf_take(&b);
}

char *cf_diagnose(const cf_case *c, tol_profile profile, const cf_outputs *got) {
  cf_diagnosis d;
  return cf_diagnose_names(c, profile, got, &d);
}

/* ---- for the tests: the outputs of a configuration --------------------------- */

bool cf_diagnose_model(const cf_case *c, const char *spec, cf_outputs *out) {
  cat_config cfg;
  char err[256];
  if (strcmp(spec, "none") == 0)
    cat_config_init(&cfg);
  else if (!cat_config_parse(spec, &cfg, err, sizeof err))
    return false;
  case_inputs in = {c->test, 0, {0}, {0}};
  alt_outputs o = {0};
  const bool ok = compute(c, &cfg, &in, &o);
  inputs_free(&in);
  out->n = o.n;
  for (int i = 0; i < o.n; i++) {
    out->names[i] = o.names[i];
    out->count[i] = o.count[i];
    out->missing[i] = NULL;
    out->data[i] = cf_xmalloc(o.count[i] * sizeof(float) + 1);
    for (size_t e = 0; e < o.count[i]; e++)
      out->data[i][e] = (float)o.data[i][e];
  }
  alt_free(&o);
  return ok;
}

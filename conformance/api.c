/*
 * conformance/api.c - the in-memory judging API (include/infini_conform.h),
 * the library libinfini-conform: infini-conform's own modules (select.c,
 * cases.c, declare.c, judge.c, diagnose.c) behind an opaque set, so every
 * language gets the same judge as the command line.
 */
#include "config.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/catalogue.h"
#include "conformance/conform.h"
#include "infini_conform.h"

struct infini_conform_set {
  cf_vectors vectors;
  cf_selection selection;
  cf_declaration declared;
  bool loaded;
  cf_case *cases;
  size_t n;
  char **json;         /* per case, made on first request */
};

static void set_err(char *err, size_t errlen, const char *fmt, const char *arg) {
  if (err && errlen)
    snprintf(err, errlen, fmt, arg);
}

infini_conform_set *infini_conform_open(const char *vectors, char *err, size_t errlen) {
  char why[1024];
  infini_conform_set *s = cf_xcalloc(1, sizeof *s);
  if (!cf_vectors_load(vectors ? vectors : cf_default_vectors(), &s->vectors, why,
                       sizeof why)) {
    set_err(err, errlen, "%s", why);
    free(s);
    return NULL;
  }
  cf_selection_init(&s->selection);
  return s;
}

void infini_conform_close(infini_conform_set *s) {
  if (!s)
    return;
  for (size_t i = 0; s->json && i < s->n; i++)
    free(s->json[i]);
  free(s->json);
  free(s->cases); /* the tensors belong to the vector sets */
  cf_selection_free(&s->selection);
  cf_vectors_free(&s->vectors);
  free(s);
}

const char *infini_conform_vectors(const infini_conform_set *s) {
  return s ? s->vectors.dir : NULL;
}

/* A call that must come before infini_conform_load(). */
static bool before_load(const infini_conform_set *s, const char *what, char *err,
                        size_t errlen) {
  if (!s) {
    set_err(err, errlen, "%s: no set (NULL)", what);
    return false;
  }
  if (s->loaded) {
    set_err(err, errlen, "%s: the cases are already loaded", what);
    return false;
  }
  return true;
}

int infini_conform_select(infini_conform_set *s, const char *kind, const char *pattern,
                          char *err, size_t errlen) {
  char why[512];
  if (!before_load(s, "select", err, errlen))
    return -1;
  if (!kind || !pattern || (strcmp(kind, "op") && strcmp(kind, "id") && strcmp(kind, "flag"))) {
    set_err(err, errlen, "select: kind must be op, id or flag, not %s", kind ? kind : "NULL");
    return -1;
  }
  if (!cf_selection_add(&s->selection, kind, pattern, why, sizeof why)) {
    set_err(err, errlen, "%s", why);
    return -1;
  }
  return 0;
}

int infini_conform_declare(infini_conform_set *s, const char *list, char *err,
                           size_t errlen) {
  char why[512];
  if (!before_load(s, "declare", err, errlen))
    return -1;
  if (!list || !cf_declaration_parse(&s->declared, list, why, sizeof why)) {
    set_err(err, errlen, "%s", list ? why : "declare: no list (NULL)");
    return -1;
  }
  return 0;
}

ptrdiff_t infini_conform_load(infini_conform_set *s, const char *profile, char *err,
                              size_t errlen) {
  char why[1024];
  tol_profile p = TOL_FP32;
  if (!before_load(s, "load", err, errlen))
    return -1;
  if (profile && !tol_profile_from_name(profile, &p)) {
    set_err(err, errlen, "unknown profile %s (fp32, tf32, bf16-fp32, fp16-fp32, bf16, fp16)",
            profile);
    return -1;
  }
  s->n = cf_select(&s->vectors, &s->selection, &s->cases);
  if (s->n == 0) {
    set_err(err, errlen, "no case of %s matches the selection", s->vectors.dir);
    return -1;
  }
  if (!cf_cases_load(s->cases, s->n, why, sizeof why)) {
    set_err(err, errlen, "%s", why);
    return -1;
  }
  cf_declaration_apply(&s->declared, p, s->cases, s->n);
  cf_profile_range_apply(p, s->cases, s->n);
  s->json = cf_xcalloc(s->n, sizeof *s->json);
  s->loaded = true;
  return (ptrdiff_t)s->n;
}

static const cf_case *case_at(const infini_conform_set *s, ptrdiff_t i) {
  return s && s->loaded && i >= 0 && (size_t)i < s->n ? &s->cases[i] : NULL;
}

const char *infini_conform_case_json(infini_conform_set *s, ptrdiff_t i) {
  const cf_case *c = case_at(s, i);
  if (!c)
    return NULL;
  if (!s->json[i]) {
    json_t *e = cf_case_json(c);
    const char *skip = cf_case_skip_reason(c);
    json_object_set_new(e, "skip", skip ? json_string(skip) : json_null());
    s->json[i] = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(e);
  }
  return s->json[i];
}

const void *infini_conform_case_input(const infini_conform_set *s, ptrdiff_t i,
                                      const char *name) {
  const cf_case *c = case_at(s, i);
  const vs_tensor *t = c && name ? cf_find_input(c->test, name, NULL) : NULL;
  return t ? t->data : NULL;
}

/* ---- judging --------------------------------------------------------------- */

static int bad_call(infini_conform_verdict *v, const char *fmt, const char *arg) {
  if (v) {
    memset(v, 0, sizeof *v);
    v->ratio = NAN;
    snprintf(v->message, sizeof v->message, fmt, arg);
  }
  return -1;
}

/* The outputs as the judge reads them: each expected output by name, its
 * data copied (the judge owns cf_outputs' buffers), a wrong shape recorded
 * as the reason it is missing. false for a name the case has no output of. */
static bool gather_outputs(const cf_case *c, int n, const char *const *names,
                           const float *const *data, const int *ndims,
                           const size_t *const *dims, cf_outputs *got, const char **bad) {
  memset(got, 0, sizeof *got);
  for (int k = 0; k < n; k++) {
    const vs_output *want = cf_find_output(&c->test->outputs, names[k]);
    if (!want) {
      *bad = names[k];
      return false;
    }
  }
  for (int o = 0; o < c->test->outputs.count; o++) {
    const vs_tensor *want = &c->test->outputs.items[o].expected;
    int g = got->n++;
    got->names[g] = want->name;
    for (int k = 0; k < n; k++) {
      if (strcmp(names[k], want->name) != 0)
        continue;
      bool same = ndims[k] == want->ndim && data[k] != NULL && dims[k] != NULL;
      for (int d = 0; same && d < want->ndim; d++)
        same = dims[k][d] == want->dims[d];
      if (!same) {
        char have[128] = "", need[128] = "";
        for (int d = 0; d < ndims[k] && d < VS_MAX_DIMS && dims[k]; d++)
          snprintf(have + strlen(have), sizeof have - strlen(have), "%s%zu", d ? ", " : "",
                   dims[k][d]);
        for (int d = 0; d < want->ndim; d++)
          snprintf(need + strlen(need), sizeof need - strlen(need), "%s%zu", d ? ", " : "",
                   want->dims[d]);
        cf_buf b = {0};
        if (!data[k] || !dims[k])
          cf_buf_printf(&b, "no data or no shape (NULL)");
        else
          cf_buf_printf(&b, "shape (%s), expected (%s)", have, need);
        got->missing[g] = cf_buf_take(&b);
        break;
      }
      size_t count = vs_tensor_count(want);
      got->data[g] = cf_xmalloc(count ? count * sizeof(float) : 1);
      memcpy(got->data[g], data[k], count * sizeof(float));
      got->count[g] = count;
      break;
    }
  }
  return true;
}

static void fill_verdict(const cf_result *r, infini_conform_verdict *v) {
  v->passed = !r->failed;
  v->ratio = r->ratio;
  snprintf(v->tensor, sizeof v->tensor, "%s", r->tensor);
  snprintf(v->index, sizeof v->index, "%s", r->index);
  v->got = r->got;
  v->expected = r->expected;
  v->allowed = r->allowed;
  snprintf(v->message, sizeof v->message, "%s", r->message ? r->message : "");
  snprintf(v->diagnosis, sizeof v->diagnosis, "%s", r->diagnosis ? r->diagnosis : "");
  for (int k = 0; k < r->diag.n; k++) {
    const cat_entry *e = cat_get((cat_id)r->diag.id[k]);
    size_t len = strlen(v->bugs);
    snprintf(v->bugs + len, sizeof v->bugs - len, "%s%s", k ? (r->diag.together ? "+" : "|") : "",
             e ? e->name : "?");
  }
}

int infini_conform_judge(infini_conform_set *s, ptrdiff_t i, const char *profile, int n,
                         const char *const *names, const float *const *data,
                         const int *ndims, const size_t *const *dims, int flags,
                         infini_conform_verdict *v) {
  const cf_case *c = case_at(s, i);
  tol_profile p;
  if (!v)
    return -1;
  if (!c)
    return bad_call(v, "judge: no case %s in the set (not loaded, or out of range)",
                    s && s->loaded ? "at that index" : "loaded");
  if (!profile || !tol_profile_from_name(profile, &p))
    return bad_call(v, "judge: unknown profile %s (fp32, tf32, bf16-fp32, fp16-fp32, bf16, "
                    "fp16)", profile ? profile : "NULL");
  if (n < 0 || (n > 0 && (!names || !data || !ndims || !dims)))
    return bad_call(v, "judge: %s", "the output arrays are NULL or n < 0");
  for (int k = 0; k < n; k++)
    if (!names[k])
      return bad_call(v, "judge: %s", "an output name is NULL");
  cf_outputs got;
  const char *bad = NULL;
  if (!gather_outputs(c, n, names, data, ndims, dims, &got, &bad))
    return bad_call(v, "judge: this case has no output named %s", bad);
  cf_result r;
  memset(&r, 0, sizeof r);
  r.c = c;
  cf_judge(c, p, &got, &r);
  if (r.failed && (flags & INFINI_CONFORM_DIAGNOSE))
    r.diagnosis = cf_diagnose_names(c, p, &got, &r.diag);
  memset(v, 0, sizeof *v);
  fill_verdict(&r, v);
  free(r.message);
  free(r.diagnosis);
  cf_outputs_free(&got);
  return 0;
}

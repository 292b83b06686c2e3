/*
 * conformance/judge.c - the verdict on one case: every expected output
 * tensor judged by the tolerance model (conformance/tolerance.h), ratio =
 * error / allowed error, pass when every ratio <= 1. An `acceptable` test
 * (flag underflow, spec (S6)) passes when its outputs match "outputs" or
 * one of its "alternatives" as a whole.
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/conform.h"

const char *cf_outcome_name(cf_outcome o) {
  static const char *const names[] = {"pass", "fail", "xfail", "xpass", "skip"};
  return (unsigned)o < CF_OUTCOME_COUNT ? names[o] : "?";
}

/* The verdict on one set of expected outputs. */
typedef struct set_verdict {
  bool pass;
  double worst;           /* worst ratio over its tensors */
  char tensor[24], index[64];
  double got, expected, allowed;
  cf_buf lines;           /* one line per failing tensor */
} set_verdict;

static int got_index(const cf_outputs *got, const char *name) {
  for (int i = 0; i < got->n; i++)
    if (strcmp(got->names[i], name) == 0)
      return i;
  return -1;
}

static void record(set_verdict *v, const char *name, double ratio,
                   const char *index, double got, double expected,
                   double allowed) {
  if (!(ratio > v->worst))
    return;
  v->worst = ratio;
  snprintf(v->tensor, sizeof v->tensor, "%s", name);
  snprintf(v->index, sizeof v->index, "%s", index);
  v->got = got;
  v->expected = expected;
  v->allowed = allowed;
}

static void judge_set(const vs_outputs *outs, tol_profile profile,
                      const cf_outputs *got, set_verdict *v) {
  memset(v, 0, sizeof *v);
  v->pass = true;
  v->worst = -1;
  for (int o = 0; o < outs->count; o++) {
    const vs_output *out = &outs->items[o];
    const char *name = out->expected.name;
    const size_t want = vs_tensor_count(&out->expected);
    int gi = got_index(got, name);
    if (gi < 0 || !got->data[gi] || got->count[gi] != want) {
      v->pass = false;
      record(v, name, INFINITY, "", NAN, NAN, NAN);
      if (gi >= 0 && got->missing[gi])
        cf_buf_printf(&v->lines, "output %s: %s\n", name, got->missing[gi]);
      else if (gi >= 0 && got->data[gi])
        cf_buf_printf(&v->lines, "output %s: %zu elements, expected %zu\n", name,
                      got->count[gi], want);
      else
        cf_buf_printf(&v->lines, "output %s: not produced\n", name);
      continue;
    }
    tol_result res;
    char idx[64];
    tol_judge(out, profile, got->data[gi], want, &res);
    double ratio = isnan(res.worst_ratio) ? INFINITY : res.worst_ratio;
    if (!res.pass && !(ratio > 1))
      ratio = INFINITY; /* failed by a NaN/Inf/zero rule */
    cf_fmt_index(res.worst_index, out->expected.ndim, out->expected.dims, idx,
                 sizeof idx);
    record(v, name, ratio, idx, res.got, res.expected, res.allowed);
    if (!res.pass) {
      char g[32], e[32], a[32], r[32];
      v->pass = false;
      cf_buf_printf(&v->lines,
                    "output %s element %s: got %s, expected %s, allowed %s, ratio %s"
                    " (%zu of %zu elements fail)\n",
                    name, idx, cf_fmt_num(res.got, g), cf_fmt_num(res.expected, e),
                    cf_fmt_num(res.allowed, a), cf_fmt_num(ratio, r),
                    res.n_failed ? res.n_failed : (size_t)1, want);
    }
  }
  if (v->worst < 0)
    v->worst = 0;
}

void cf_judge(const cf_case *c, tol_profile profile, const cf_outputs *got,
              cf_result *r) {
  const vs_test *t = c->test;
  set_verdict best, v;
  int best_which = -1;
  judge_set(&t->outputs, profile, got, &best);
  for (int a = 0; a < t->n_alternatives && !best.pass; a++) {
    judge_set(&t->alternatives[a], profile, got, &v);
    if (v.pass || v.worst < best.worst) {
      free(best.lines.s);
      best = v;
      best_which = a;
    } else {
      free(v.lines.s);
    }
  }
  r->failed = !best.pass;
  r->ratio = best.worst;
  snprintf(r->tensor, sizeof r->tensor, "%s", best.tensor);
  snprintf(r->index, sizeof r->index, "%s", best.index);
  r->got = best.got;
  r->expected = best.expected;
  r->allowed = best.allowed;
  if (r->failed) {
    cf_buf m = {0};
    if (t->n_alternatives > 0)
      cf_buf_printf(&m, "matches neither the outputs nor any of %d alternative(s)"
                    "; closest: %s\n", t->n_alternatives,
                    best_which < 0 ? "the outputs" : "an alternative");
    if (best.lines.s)
      cf_buf_printf(&m, "%s", best.lines.s);
    free(best.lines.s);
    r->message = cf_buf_take(&m);
    /* drop the final newline */
    size_t len = strlen(r->message);
    if (len && r->message[len - 1] == '\n')
      r->message[len - 1] = '\0';
  } else {
    free(best.lines.s);
  }
}

/*
 * conformance/test_api.c - the judging API (include/infini_conform.h) on
 * bad calls: NULL everywhere, calls out of order, out-of-range cases,
 * unknown names and profiles, NULL or wrong shapes, and the verdicts it
 * must give: the expected outputs pass, a perturbed one fails at the right
 * element, a missing one fails with a sentence. Every bad call returns an
 * error with one line and never crashes (TAP; runs under the sanitizers).
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "infini_conform.h"
#include "tests/tap.h"

static bool one_line(const char *s) {
  return s && s[0] && !strchr(s, '\n');
}

static void bad_opens(void) {
  char err[256] = "";
  int rc;
  infini_conform_set *none = infini_conform_open("/nonexistent/vectors", err, sizeof err);
  tap_ok(!none && one_line(err), "open a missing folder: %s", err);
  tap_ok(!infini_conform_open("/nonexistent/vectors", NULL, 0), "open with no err buffer");
  infini_conform_close(NULL);
  rc = infini_conform_select(NULL, "op", "mix", err, sizeof err);
  tap_ok(rc == -1 && one_line(err),
         "select on NULL: %s", err);
  tap_ok(infini_conform_declare(NULL, "square", err, sizeof err) == -1, "declare on NULL");
  rc = infini_conform_load(NULL, "fp32", err, sizeof err);
  tap_ok(rc == -1, "load NULL");
  tap_ok(!infini_conform_case_json(NULL, 0) && !infini_conform_case_input(NULL, 0, "q") &&
         !infini_conform_vectors(NULL), "case accessors on NULL");
}

static void bad_selections(infini_conform_set *s) {
  char err[256] = "";
  int rc;
  rc = infini_conform_select(s, "color", "red", err, sizeof err);
  tap_ok(rc == -1 && one_line(err),
         "unknown kind: %s", err);
  tap_ok(infini_conform_select(s, "op", NULL, err, sizeof err) == -1, "NULL pattern");
  rc = infini_conform_select(s, "id", "mix.json:x", err, sizeof err);
  tap_ok(rc == -1 && one_line(err),
         "malformed id: %s", err);
  rc = infini_conform_declare(s, "round-heads", err, sizeof err);
  tap_ok(rc == -1 && one_line(err),
         "unknown restriction: %s", err);
  tap_ok(infini_conform_declare(s, NULL, err, sizeof err) == -1, "NULL declaration");
  tap_ok(!infini_conform_case_json(s, 0), "no case before load");
}

/* Judge case 0 (mix.json:1, one output "out") with out[] of shape dims. */
static int judge(infini_conform_set *s, const float *out, const size_t *dims, int ndim,
                 const char *name, const char *profile, infini_conform_verdict *v) {
  const char *names[] = {name};
  const float *data[] = {out};
  const int ndims[] = {ndim};
  const size_t *shapes[] = {dims};
  return infini_conform_judge(s, 0, profile, 1, names, data, ndims, shapes, 0, v);
}

static void verdicts(infini_conform_set *s) {
  char err[256] = "";
  int rc;
  infini_conform_verdict v;
  const char *json = infini_conform_case_json(s, 0);
  tap_ok(json && strstr(json, "\"operator\":\"mix\"") && strstr(json, "\"skip\":null"),
         "case JSON names the operator and no skip");
  const float *a_mem = infini_conform_case_input(s, 0, "a_mem");
  const float *a_dot = infini_conform_case_input(s, 0, "a_dot");
  tap_ok(a_mem && a_dot && !infini_conform_case_input(s, 0, "nope"), "inputs by name");
  tap_ok(!infini_conform_case_json(s, 1) && !infini_conform_case_json(s, -1),
         "case JSON out of range");
  rc = infini_conform_select(s, "op", "mix", err, sizeof err);
  tap_ok(rc == -1 && one_line(err),
         "select after load: %s", err);
  const char *beta_at = strstr(json, "\"beta\":");
  const char *rows_at = strstr(json, "\"rows\":"), *cols_at = strstr(json, "\"cols\":");
  size_t dims[2] = {(size_t)atoi(rows_at + 7), (size_t)atoi(cols_at + 7)};
  size_t n = dims[0] * dims[1];
  double g = 1 / (1 + exp(-strtod(beta_at + 7, NULL)));
  float *out = malloc(n * sizeof *out);
  for (size_t i = 0; i < n; i++)
    out[i] = (float)(g * a_mem[i] + (1 - g) * a_dot[i]);
  rc = judge(s, out, dims, 2, "out", "fp32", &v);
  tap_ok(rc == 0 && v.passed && v.ratio <= 1 &&
         !v.message[0], "the spec's mix passes (ratio %.3g)", v.ratio);
  out[n - 1] += 0.5f;
  rc = judge(s, out, dims, 2, "out", "fp32", &v);
  tap_ok(rc == 0 && !v.passed && v.ratio > 1 &&
         strcmp(v.tensor, "out") == 0 && one_line(v.message),
         "a perturbed element fails at %s%s: %s", v.tensor, v.index, v.message);
  size_t wrong[2] = {dims[0], dims[1] + 1};
  rc = judge(s, out, wrong, 2, "out", "fp32", &v);
  tap_ok(rc == 0 && !v.passed &&
         strstr(v.message, "shape"), "a wrong shape fails: %s", v.message);
  rc = judge(s, out, NULL, 2, "out", "fp32", &v);
  tap_ok(rc == 0 && !v.passed, "NULL dims fail: %s",
         v.message);
  rc = judge(s, NULL, dims, 2, "out", "fp32", &v);
  tap_ok(rc == 0 && !v.passed, "NULL data fails");
  rc = infini_conform_judge(s, 0, "fp32", 0, NULL, NULL, NULL, NULL, 0, &v);
  tap_ok(rc == 0 &&
         !v.passed && strstr(v.message, "not produced"), "no output: %s", v.message);
  rc = judge(s, out, dims, 2, "a", "fp32", &v);
  tap_ok(rc == -1 && one_line(v.message),
         "unknown output name: %s", v.message);
  rc = judge(s, out, dims, 2, "out", "fp64", &v);
  tap_ok(rc == -1 && one_line(v.message),
         "unknown profile: %s", v.message);
  rc = judge(s, out, dims, 2, "out", NULL, &v);
  tap_ok(rc == -1, "NULL profile");
  rc = infini_conform_judge(s, 5, "fp32", 0, NULL, NULL, NULL, NULL, 0, &v);
  tap_ok(rc == -1 &&
         one_line(v.message), "case out of range: %s", v.message);
  rc = infini_conform_judge(s, 0, "fp32", -1, NULL, NULL, NULL, NULL, 0, &v);
  tap_ok(rc == -1,
         "n < 0");
  rc = infini_conform_judge(s, 0, "fp32", 1, NULL, NULL, NULL, NULL, 0, &v);
  tap_ok(rc == -1,
         "NULL output arrays");
  rc = infini_conform_judge(s, 0, "fp32", 0, NULL, NULL, NULL, NULL, 0, NULL);
  tap_ok(rc == -1,
         "NULL verdict");
  free(out);
}

int main(void) {
  char err[256] = "";
  ptrdiff_t rc;
  bad_opens();
  infini_conform_set *s = infini_conform_open(NULL, err, sizeof err);
  if (!tap_ok(s != NULL, "open the default vectors %s", err))
    return tap_done();
  tap_diag("vectors: %s", infini_conform_vectors(s));
  bad_selections(s);
  tap_ok(infini_conform_select(s, "id", "mix.json:1", err, sizeof err) == 0, "select");
  rc = infini_conform_load(s, "fp33", err, sizeof err);
  tap_ok(rc == -1 && one_line(err),
         "load under an unknown profile: %s", err);
  rc = infini_conform_load(s, NULL, err, sizeof err);
  tap_ok(rc == 1, "load one case");
  rc = infini_conform_load(s, NULL, err, sizeof err);
  tap_ok(rc == -1, "load twice: %s", err);
  verdicts(s);
  infini_conform_close(s);
  return tap_done();
}

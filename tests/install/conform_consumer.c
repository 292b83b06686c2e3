/* A program outside the source tree that judges an implementation in
 * memory through libinfini-conform (include/infini_conform.h), built
 * through pkg-config against the build tree (tests/test-uninstalled-pc.sh)
 * and against an installed prefix (scripts/install-test.sh), where it finds
 * the installed vectors by itself. Its "implementation" is the gate mix of
 * mix.json:1 (docs/spec.md (7)): out = sigmoid(beta) a_mem +
 * (1 - sigmoid(beta)) a_dot. The correct one must pass; the same with the
 * gate sides swapped must fail and be named gate_swap. Exit 0 when both
 * verdicts are right. */
#include <infini_conform.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One number of the case's JSON parameters ("beta":0.5). */
static double param(const char *json, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\":", name);
  const char *at = strstr(json, key);
  return at ? strtod(at + strlen(key), NULL) : NAN;
}

static int judge_mix(infini_conform_set *s, int swapped, infini_conform_verdict *v) {
  const char *json = infini_conform_case_json(s, 0);
  const float *a_mem = infini_conform_case_input(s, 0, "a_mem");
  const float *a_dot = infini_conform_case_input(s, 0, "a_dot");
  size_t dims[2] = {(size_t)param(json, "rows"), (size_t)param(json, "cols")};
  double g = 1 / (1 + exp(-param(json, "beta")));
  if (swapped)
    g = 1 - g;
  size_t n = dims[0] * dims[1];
  float *out = malloc(n ? n * sizeof *out : 1);
  if (!a_mem || !a_dot || !out || n == 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    out[i] = (float)(g * a_mem[i] + (1 - g) * a_dot[i]);
  const char *names[] = {"out"};
  const float *data[] = {out};
  const int ndims[] = {2};
  const size_t *shapes[] = {dims};
  int rc = infini_conform_judge(s, 0, "fp32", 1, names, data, ndims, shapes,
                                INFINI_CONFORM_DIAGNOSE, v);
  free(out);
  return rc;
}

int main(void) {
  char err[512];
  infini_conform_set *s = infini_conform_open(NULL, err, sizeof err);
  if (!s || infini_conform_select(s, "id", "mix.json:1", err, sizeof err) != 0 ||
      infini_conform_load(s, "fp32", err, sizeof err) != 1) {
    fprintf(stderr, "conform_consumer: %s\n", err);
    return 1;
  }
  infini_conform_verdict good, bad;
  int rc = judge_mix(s, 0, &good) | judge_mix(s, 1, &bad);
  printf("correct mix: %s (ratio %.3g); gates swapped: %s, looks like %s\n",
         good.passed ? "pass" : "fail", good.ratio, bad.passed ? "pass" : "fail",
         bad.bugs[0] ? bad.bugs : "nothing known");
  int ok = rc == 0 && good.passed && !bad.passed && strcmp(bad.bugs, "gate_swap") == 0;
  infini_conform_close(s);
  return ok ? 0 : 1;
}

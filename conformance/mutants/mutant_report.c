/*
 * conformance/mutants/mutant_report.c - the helper of check-mutants.sh:
 *
 *   mutant-report --list
 *       one line per configuration of infini_mutant.so:
 *         variant <name> <profile that must accept it>
 *         mutant <name>
 *   mutant-report --worst REPORT.json [BACKEND]
 *       from an infini-conform --json report, one line per backend (or for
 *       BACKEND only):
 *         <backend> <worst ratio> <cases> <failed> <unjudged> <where> <caught>
 *       The worst ratio is the largest per-case ratio (error / allowed
 *       error); "inf" when a case failed a NaN/Inf/zero rule, and cases that
 *       were not judged (a kernel error, a stray write: ratio null without
 *       ratio_text) are counted as unjudged. <where> is FILE:TCID/OPERATOR
 *       of the worst case; <caught> lists, per operator with a failed case,
 *       OPERATOR:FAILED/CASES separated by commas ("-" when none failed).
 *
 * Exit status 0, or 2 for a usage error or an unreadable report.
 */
#include "config.h"
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/mutants/impl.h"

static int list(void) {
  for (int v = 0; v < MV_COUNT; v++)
    printf("variant %s %s\n", mut_variant_name((mut_variant)v),
           mut_variant_profile((mut_variant)v));
  for (int m = 1; m < MM_COUNT; m++)
    printf("mutant %s\n", mut_mutation_name((mut_mutation)m));
  return 0;
}

enum { MAX_OPS = 16 };

typedef struct tally {
  const char *backend;
  double worst;
  long cases, failed, unjudged;
  char where[192];
  int n_ops;
  const char *op[MAX_OPS];
  long op_cases[MAX_OPS], op_failed[MAX_OPS];
} tally;

static void count_op(tally *t, const char *op, bool failed) {
  int k = 0;
  while (k < t->n_ops && strcmp(t->op[k], op) != 0)
    k++;
  if (k == t->n_ops) {
    if (k == MAX_OPS)
      return;
    t->op[t->n_ops] = op;
    t->op_cases[k] = t->op_failed[k] = 0;
    t->n_ops++;
  }
  t->op_cases[k]++;
  t->op_failed[k] += failed;
}

/* The ratio of one case: a number, "inf"/"nan" text, or NaN (unjudged). */
static double case_ratio(json_t *c) {
  json_t *r = json_object_get(c, "ratio");
  if (json_is_number(r))
    return json_number_value(r);
  const char *text = json_string_value(json_object_get(c, "ratio_text"));
  if (text)
    return strtod(text, NULL); /* "inf", "-inf" and "nan" parse */
  return NAN;
}

static int worst(const char *path, const char *only) {
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  if (!root) {
    fprintf(stderr, "mutant-report: %s:%d: %s\n", path, jerr.line, jerr.text);
    return 2;
  }
  json_t *cases = json_object_get(root, "cases");
  if (!json_is_array(cases)) {
    fprintf(stderr, "mutant-report: %s: no \"cases\" array\n", path);
    json_decref(root);
    return 2;
  }

  enum { MAX_BACKENDS = 64 };
  tally t[MAX_BACKENDS];
  int n = 0;
  size_t i;
  json_t *c;
  json_array_foreach(cases, i, c) {
    const char *be = json_string_value(json_object_get(c, "backend"));
    if (!be || (only && strcmp(be, only) != 0))
      continue;
    int b = 0;
    while (b < n && strcmp(t[b].backend, be) != 0)
      b++;
    if (b == n) {
      if (n == MAX_BACKENDS)
        continue;
      t[n] = (tally){.backend = be, .worst = -1, .where = "-"};
      n++;
    }
    const char *result = json_string_value(json_object_get(c, "result"));
    const char *op = json_string_value(json_object_get(c, "operator"));
    const bool failed =
        result && (strcmp(result, "fail") == 0 || strcmp(result, "xfail") == 0);
    const double r = case_ratio(c);
    t[b].cases++;
    t[b].failed += failed;
    count_op(&t[b], op ? op : "?", failed);
    if (isnan(r)) {
      t[b].unjudged++;
      continue;
    }
    if (r > t[b].worst) {
      const char *file = json_string_value(json_object_get(c, "file"));
      t[b].worst = r;
      snprintf(t[b].where, sizeof t[b].where, "%s:%lld/%s", file ? file : "?",
               (long long)json_integer_value(json_object_get(c, "tcId")),
               op ? op : "?");
    }
  }
  if (only && n == 0)
    printf("%s nan 0 0 0 - -\n", only);
  for (int b = 0; b < n; b++) {
    printf("%s %.4g %ld %ld %ld %s ", t[b].backend,
           t[b].worst < 0 ? NAN : t[b].worst, t[b].cases, t[b].failed,
           t[b].unjudged, t[b].where);
    const char *sep = "";
    for (int k = 0; k < t[b].n_ops; k++)
      if (t[b].op_failed[k]) {
        printf("%s%s:%ld/%ld", sep, t[b].op[k], t[b].op_failed[k], t[b].op_cases[k]);
        sep = ",";
      }
    printf("%s\n", *sep ? "" : "-");
  }
  json_decref(root);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0)
    return list();
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "--worst") == 0)
    return worst(argv[2], argc == 4 ? argv[3] : NULL);
  fprintf(stderr, "usage: mutant-report --list\n"
                  "       mutant-report --worst REPORT.json [BACKEND]\n");
  return 2;
}

/*
 * conformance/mutants/mutant_report.c - the catalogue's reader for the
 * shell and the docs (helper of check-mutants.sh and test-catalogue-doc.sh):
 *
 *   mutant-report --list
 *       one line per configuration of infini_mutant.so that check-mutants
 *       runs, from conformance/catalogue.h:
 *         mutant SPEC BACKEND PROFILES ENTRY DIAGNOSABLE
 *         variant NAME BACKEND PROFILE
 *       SPEC is what INFINI_MUTANT takes (NAME or NAME=VALUE, one per
 *       instance of a parameterised entry), BACKEND the plugin's backend
 *       name, PROFILES the profiles that must reject it (comma-separated),
 *       DIAGNOSABLE yes or no.
 *   mutant-report --list-model
 *       one line per model-level bug of the catalogue: model NAME RULE
 *       (the bugs a full-model example may plant)
 *   mutant-report --worst REPORT.json [BACKEND]
 *       from an infini-conform --json report, one line per backend (or for
 *       BACKEND only):
 *         <backend> <worst ratio> <cases> <failed> <unjudged> <where> <caught>
 *       The worst ratio is the largest per-case ratio (error / allowed
 *       error); "inf" when a case failed a NaN/Inf/zero rule; cases that
 *       were not judged (ratio null without ratio_text) are unjudged.
 *       <where> is FILE:TCID/OPERATOR of the worst case; <caught> lists,
 *       per operator with a failed case, OPERATOR:FAILED/CASES ("-": none).
 *   mutant-report --diagnosed REPORT.json BACKEND ENTRY [FLAGS]
 *       how the failures of BACKEND were diagnosed (leaving out the cases
 *       carrying one of the comma-separated FLAGS, which the run did not
 *       diagnose: --no-diagnose-flag), against ENTRY (a bug,
 *       a combination A+B+..., or a variant):
 *         <failed> <as itself> <as another> <not diagnosed> <other names|->
 *       "as itself": ENTRY (or a declared alias) is among the names; for a
 *       combination, every name is one of its parts; "as another": not.
 *       For a variant every name counts as another (its names are not
 *       listed).
 *   mutant-report --markdown
 *       the catalogue as the tables of docs/mutants.md.
 *   mutant-report --restricted
 *       one line per restricted subset (CAT_RESTRICTIONS): DECLARATION
 *       MOOT UNREACHABLE, the comma-separated entries the restriction makes
 *       correct and those the subset cannot reach ("-": none).
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
#include "conformance/catalogue.h"

static const char *const profile_names[] = {"fp32", "bf16", "fp16", "bf16-fp32", "fp16-fp32",
                                            "tf32"};

/* "fp32,bf16" for a CAT_P_* mask ("-" for none). */
static void profiles_text(unsigned mask, char *out, size_t len) {
  size_t at = 0;
  out[0] = '\0';
  for (int p = 0; p < 6; p++)
    if (mask & (1u << p))
      at += (size_t)snprintf(out + at, len - at, "%s%s", at ? "," : "", profile_names[p]);
  if (!at)
    snprintf(out, len, "-");
}

/* The plugin's backend name for a configuration spec. */
static void backend_of(const char *kind, const char *spec, char *out, size_t len) {
  cat_config c;
  char err[256], name[128];
  if (!cat_config_parse(spec, &c, err, sizeof err)) {
    snprintf(out, len, "?");
    return;
  }
  cat_config_name(&c, name, sizeof name);
  snprintf(out, len, "%s-%s", kind, name);
}

/* One mutant line of --list (arg: the entry). */
static void list_instance(const char *spec, void *arg) {
  const cat_entry *e = arg;
  char be[160], prof[80];
  profiles_text(e->visible, prof, sizeof prof);
  backend_of("mutant", spec, be, sizeof be);
  printf("mutant %s %s %s %s %s\n", spec, be, prof, e->name, e->why_not[0] ? "no" : "yes");
}

static int list(void) {
  char be[160];
  for (int i = 0; i < CAT_COUNT; i++) {
    const cat_entry *e = cat_get((cat_id)i);
    if (!(e->ops & CAT_OPS))
      continue; /* model-level: test-model-mutants */
    if (e->kind == CAT_VARIANT) {
      backend_of("variant", e->name, be, sizeof be);
      printf("variant %s %s %s\n", e->name, be, e->profile);
    } else {
      cat_for_instances((cat_id)i, list_instance, (void *)e);
    }
  }
  /* Bugs seen together: judged under fp32, diagnosed as all their parts. */
#define COMBINATION(spec, where)                                                        \
  backend_of("mutant", spec, be, sizeof be);                                            \
  printf("mutant %s %s fp32 %s yes\n", spec, be, spec);
  CAT_COMBINATIONS(COMBINATION)
#undef COMBINATION
  return 0;
}

/* --list-model: the model-level bugs, "model NAME RULE", one per line
 * (what the full-model examples may plant: test-conform-model-torch). */
static int list_model(void) {
  for (int i = 0; i < CAT_COUNT; i++) {
    const cat_entry *e = cat_get((cat_id)i);
    if (e->kind == CAT_BUG && (e->ops & CAT_MODEL))
      printf("model %s %s\n", e->name, e->rule);
  }
  return 0;
}

/* ---- reading reports ------------------------------------------------------- */

static json_t *load_cases(const char *path, json_t **root) {
  json_error_t jerr;
  *root = json_load_file(path, 0, &jerr);
  if (!*root) {
    fprintf(stderr, "mutant-report: %s:%d: %s\n", path, jerr.line, jerr.text);
    return NULL;
  }
  json_t *cases = json_object_get(*root, "cases");
  if (!json_is_array(cases)) {
    fprintf(stderr, "mutant-report: %s: no \"cases\" array\n", path);
    json_decref(*root);
    return NULL;
  }
  return cases;
}

static bool case_failed(json_t *c) {
  const char *result = json_string_value(json_object_get(c, "result"));
  return result && (strcmp(result, "fail") == 0 || strcmp(result, "xfail") == 0);
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
  return text ? strtod(text, NULL) : NAN; /* "inf", "-inf" and "nan" parse */
}

static void tally_case(tally *t, json_t *c) {
  const char *op = json_string_value(json_object_get(c, "operator"));
  const bool failed = case_failed(c);
  const double r = case_ratio(c);
  t->cases++;
  t->failed += failed;
  count_op(t, op ? op : "?", failed);
  if (isnan(r)) {
    t->unjudged++;
    return;
  }
  if (r > t->worst) {
    const char *file = json_string_value(json_object_get(c, "file"));
    t->worst = r;
    snprintf(t->where, sizeof t->where, "%s:%lld/%s", file ? file : "?",
             (long long)json_integer_value(json_object_get(c, "tcId")), op ? op : "?");
  }
}

static void print_tally(const tally *t) {
  printf("%s %.4g %ld %ld %ld %s ", t->backend, t->worst < 0 ? NAN : t->worst, t->cases,
         t->failed, t->unjudged, t->where);
  const char *sep = "";
  for (int k = 0; k < t->n_ops; k++)
    if (t->op_failed[k]) {
      printf("%s%s:%ld/%ld", sep, t->op[k], t->op_failed[k], t->op_cases[k]);
      sep = ",";
    }
  printf("%s\n", *sep ? "" : "-");
}

static int worst(const char *path, const char *only) {
  json_t *root, *cases = load_cases(path, &root), *c;
  if (!cases)
    return 2;
  enum { MAX_BACKENDS = 64 };
  tally t[MAX_BACKENDS];
  int n = 0;
  size_t i;
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
      t[n++] = (tally){.backend = be, .worst = -1, .where = "-"};
    }
    tally_case(&t[b], c);
  }
  if (only && n == 0)
    printf("%s nan 0 0 0 - -\n", only);
  for (int b = 0; b < n; b++)
    print_tally(&t[b]);
  json_decref(root);
  return 0;
}

/* The entry name of one element of a "diagnosed" array (the part before
 * "=VALUE"). */
static void base_name(json_t *n, char out[96]) {
  snprintf(out, 96, "%s", json_string_value(n) ? json_string_value(n) : "?");
  out[strcspn(out, "=")] = '\0';
}

/* Is `entry` (or an alias of it) among the names of a case's "diagnosed"
 * array? When not, the names are appended to `others` (comma-separated,
 * once each). */
static bool names_self(json_t *names, cat_id entry, char *others, size_t len) {
  size_t k;
  json_t *n;
  json_array_foreach(names, k, n) {
    char base[96];
    base_name(n, base);
    cat_id id;
    if (cat_find(base, &id) && cat_same(entry, id))
      return true;
  }
  json_array_foreach(names, k, n) {
    char base[96];
    base_name(n, base);
    if (!strstr(others, base) && strlen(others) + strlen(base) + 2 < len)
      strcat(strcat(others, *others ? "," : ""), base);
  }
  return false;
}

/* Are the names right for `want`? Alternatives ("; or"): one of them must
 * be a bug of want (the others explain the case as well). Entries named
 * together: every one must be a bug of want (a case shows only the parts
 * that apply to it). Wrong names are appended to `others`. */
static bool names_right(json_t *names, bool together, const cat_config *want, char *others,
                        size_t len) {
  if (!together) { /* alternatives: one of them must be a bug of want */
    char none[1] = "";
    for (int b = 0; b < CAT_COUNT; b++)
      if (want->on[b] && names_self(names, (cat_id)b, none, 0))
        return true;
    for (int b = 0; b < CAT_COUNT; b++)
      if (want->on[b])
        return names_self(names, (cat_id)b, others, len); /* lists them */
    return false;
  }
  bool right = true;
  size_t k;
  json_t *n;
  json_array_foreach(names, k, n) {
    char base[96];
    base_name(n, base);
    cat_id id;
    bool part = false;
    for (int b = 0; b < CAT_COUNT && !part; b++)
      part = want->on[b] && cat_find(base, &id) && cat_same((cat_id)b, id);
    if (!part && !strstr(others, base) && strlen(others) + strlen(base) + 2 < len)
      strcat(strcat(others, *others ? "," : ""), base);
    right &= part;
  }
  return right;
}

/* Does case c carry one of the comma-separated flags of list? */
static bool has_listed_flag(json_t *c, const char *list) {
  json_t *flags = json_object_get(c, "flags"), *f;
  size_t i;
  json_array_foreach(flags, i, f) {
    const char *name = json_string_value(f), *at = list;
    const size_t len = name ? strlen(name) : 0;
    for (; name && (at = strstr(at, name)) != NULL; at += len)
      if ((at == list || at[-1] == ',') && (at[len] == ',' || at[len] == '\0'))
        return true;
  }
  return false;
}

static int diagnosed(const char *path, const char *backend, const char *entry_name,
                     const char *undiagnosed_flags) {
  cat_config want;
  char err[256];
  if (!cat_config_parse(entry_name, &want, err, sizeof err)) {
    fprintf(stderr, "mutant-report: %s\n", err);
    return 2;
  }
  json_t *root, *cases = load_cases(path, &root), *c;
  if (!cases)
    return 2;
  long failed = 0, self = 0, other = 0, none = 0;
  char others[512] = "";
  size_t i;
  json_array_foreach(cases, i, c) {
    const char *be = json_string_value(json_object_get(c, "backend"));
    if (!be || strcmp(be, backend) != 0 || !case_failed(c))
      continue;
    if (undiagnosed_flags && has_listed_flag(c, undiagnosed_flags))
      continue; /* judged but, by --no-diagnose-flag, never diagnosed */
    failed++;
    json_t *names = json_object_get(c, "diagnosed");
    if (!json_is_array(names) || json_array_size(names) == 0)
      none++;
    else if (want.variant == CAT_plain &&
             names_right(names, json_is_true(json_object_get(c, "together")), &want, others,
                         sizeof others))
      self++;
    else
      other++;
  }
  printf("%ld %ld %ld %ld %s\n", failed, self, other, none, *others ? others : "-");
  json_decref(root);
  return 0;
}

/* ---- the docs' tables ---------------------------------------------------------- */

static const char *const op_short[] = {"feature_map", "retrieve", "update_linear",
                                       "update_delta", "mix", "local_attention",
                                       "segment_step", "layer_step", "model"};

static void ops_text(unsigned ops, char *out, size_t len) {
  size_t at = 0;
  out[0] = '\0';
  if ((ops & CAT_OPS) == CAT_OPS)
    at += (size_t)snprintf(out, len, "all operators");
  for (int b = 0; b < 9; b++)
    if ((ops & (1u << b)) && !(b < 8 && (ops & CAT_OPS) == CAT_OPS))
      at += (size_t)snprintf(out + at, len - at, "%s%s", at ? ", " : "", op_short[b]);
}

static int markdown(void) {
  printf("| entry | what it models | operators | rule | rejected under | diagnosis |\n");
  printf("|---|---|---|---|---|---|\n");
  for (int i = 0; i < CAT_COUNT; i++) {
    const cat_entry *e = cat_get((cat_id)i);
    if (e->kind != CAT_BUG)
      continue;
    char ops[256], prof[80], msg[256];
    ops_text(e->ops, ops, sizeof ops);
    profiles_text(e->visible, prof, sizeof prof);
    snprintf(msg, sizeof msg, "%s", e->message);
    printf("| `%s`%s%s | %s | %s | %s | %s | %s |\n", e->name, e->instances[0] ? " = " : "",
           e->instances, msg, ops, e->rule, (e->ops & CAT_OPS) ? prof : "model check",
           e->why_not[0] ? e->why_not : (e->alias[0] ? "named (aliases: see below)" : "named"));
  }
  printf("\n| variant | what it does differently | operators | accepted under |\n");
  printf("|---|---|---|---|\n");
  for (int i = 0; i < CAT_COUNT; i++) {
    const cat_entry *e = cat_get((cat_id)i);
    char ops[256];
    if (e->kind != CAT_VARIANT)
      continue;
    ops_text(e->ops, ops, sizeof ops);
    printf("| `%s` | %s | %s | %s |\n", e->name, e->message, ops, e->profile);
  }
  printf("\nAliases (entries whose outputs coincide on some cases; either name is right):\n\n");
  for (int i = 0; i < CAT_COUNT; i++) {
    const cat_entry *e = cat_get((cat_id)i);
    if (e->kind == CAT_BUG && e->alias[0])
      printf("- `%s`: %s\n", e->name, e->alias);
  }
  printf("\nRestricted implementations (`--declare`) whose subsets check-mutants proves:\n\n");
  printf("| declaration | moot (correct under it) | unreachable (known gaps) | why |\n");
  printf("|---|---|---|---|\n");
#define RESTRICTED_ROW(declaration, moot, unreachable, why)                                        \
  printf("| `%s` | %s | %s | %s |\n", declaration, *moot ? moot : "-",                              \
         *unreachable ? unreachable : "-", why);
  CAT_RESTRICTIONS(RESTRICTED_ROW)
#undef RESTRICTED_ROW
  return 0;
}

/* A space-separated list of entries as "a,b,c" ("-": none) into out;
 * false when a name is not an entry of the catalogue. */
static bool entry_list(const char *names, char *out, size_t len) {
  char buf[256], err[128];
  cat_config cfg;
  snprintf(buf, sizeof buf, "%s", names);
  snprintf(out, len, "%s", *names ? names : "-");
  for (char *p = out; *p; p++)
    if (*p == ' ')
      *p = ',';
  for (char *save = NULL, *name = strtok_r(buf, " ", &save); name;
       name = strtok_r(NULL, " ", &save))
    if (!cat_config_parse(name, &cfg, err, sizeof err)) {
      fprintf(stderr, "mutant-report: CAT_RESTRICTIONS: %s\n", err);
      return false;
    }
  return true;
}

/* One line of --restricted: DECLARATION MOOT UNREACHABLE. */
static bool restricted_line(const char *declaration, const char *moot,
                            const char *unreachable) {
  char m[256], u[256];
  if (!entry_list(moot, m, sizeof m) || !entry_list(unreachable, u, sizeof u))
    return false;
  printf("%s %s %s\n", declaration, m, u);
  return true;
}

static int restricted(void) {
  bool ok = true;
#define RESTRICTED(declaration, moot, unreachable, why)                                            \
  ok = restricted_line(declaration, moot, unreachable) && ok;
  CAT_RESTRICTIONS(RESTRICTED)
#undef RESTRICTED
  return ok ? 0 : 2;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--restricted") == 0)
    return restricted();
  if (argc == 2 && strcmp(argv[1], "--list-model") == 0)
    return list_model();
  if (argc == 2 && strcmp(argv[1], "--list") == 0)
    return list();
  if (argc == 2 && strcmp(argv[1], "--markdown") == 0)
    return markdown();
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "--worst") == 0)
    return worst(argv[2], argc == 4 ? argv[3] : NULL);
  if ((argc == 5 || argc == 6) && strcmp(argv[1], "--diagnosed") == 0)
    return diagnosed(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
  fprintf(stderr, "usage: mutant-report --list | --list-model | --markdown | --restricted\n"
                  "       mutant-report --worst REPORT.json [BACKEND]\n"
                  "       mutant-report --diagnosed REPORT.json BACKEND ENTRY [FLAGS]\n");
  return 2;
}

/*
 * conformance/report.c - what a run found, in four forms: the readable
 * table (per backend and operator) with the failures above it, TAP, JUnit
 * XML and JSON. Report files are written to a temporary file beside the
 * named path and renamed over it when complete, so a reader never sees a
 * half-written report and nothing but the named file is replaced.
 */
#include "config.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conformance/catalogue.h"
#include "conformance/conform.h"

/* ---- the collection ------------------------------------------------------ */

cf_result *cf_report_add(cf_report *rep) {
  if (rep->n == rep->cap) {
    rep->cap = rep->cap ? 2 * rep->cap : 1024;
    rep->results = cf_xrealloc(rep->results, rep->cap * sizeof *rep->results);
  }
  cf_result *r = &rep->results[rep->n++];
  memset(r, 0, sizeof *r);
  r->ratio = NAN;
  r->got = r->expected = r->allowed = NAN;
  return r;
}

void cf_report_free(cf_report *rep) {
  for (size_t i = 0; i < rep->n; i++) {
    free(rep->results[i].message);
    free(rep->results[i].diagnosis);
  }
  free(rep->results);
  rep->results = NULL;
  rep->n = rep->cap = 0;
}

static bool is_required_failure(const cf_report *rep, const cf_result *r) {
  return r->outcome == CF_FAIL || (rep->strict && r->outcome == CF_XPASS);
}

int cf_report_status(const cf_report *rep) {
  for (size_t i = 0; i < rep->n; i++)
    if (is_required_failure(rep, &rep->results[i]))
      return CF_EXIT_FAIL;
  return CF_EXIT_PASS;
}

/* ---- atomic files -------------------------------------------------------- */

bool cf_atomic_open(cf_atomic *a, const char *path, bool replace, char *err,
                    size_t errlen) {
  return fileio_atomic_open(a, path, replace ? FILEIO_REPLACE : 0, err,
                            errlen) == INFINI_OK;
}

void cf_atomic_abort(cf_atomic *a) { fileio_atomic_abort(a); }

bool cf_atomic_commit(cf_atomic *a, char *err, size_t errlen) {
  return fileio_atomic_commit(a, err, errlen) == INFINI_OK;
}

/* ---- helpers ------------------------------------------------------------- */

static const char *case_file(const cf_result *r) { return r->c->set->file; }

static void flags_text(const vs_test *t, char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < t->n_flags && used < len; i++) {
    int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "", t->flags[i]);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

/* Tallies of one backend x operator cell (or of a whole run). */
typedef struct tally {
  size_t cases, count[CF_OUTCOME_COUNT];
  const cf_result *worst;
} tally;

/* A failure that could not be judged (a kernel error, a stray write) has
 * no ratio; it ranks above every judged case. */
static double rank(const cf_result *r) {
  if (isnan(r->ratio))
    return r->failed ? INFINITY : -1;
  return r->ratio;
}

static void tally_add(tally *t, const cf_result *r) {
  t->cases++;
  t->count[r->outcome]++;
  if (r->outcome != CF_SKIP && rank(r) >= 0 &&
      (!t->worst || rank(r) > rank(t->worst) ||
       (rank(r) == rank(t->worst) && r->failed && !t->worst->failed)))
    t->worst = r;
}

/* The tally of backend b's cases of operator op. */
static tally tally_of(const cf_report *rep, int b, int op) {
  tally t = {0};
  for (size_t i = 0; i < rep->n; i++) {
    const cf_result *r = &rep->results[i];
    if ((int)r->c->group->op == op && strcmp(r->backend, rep->backends[b]) == 0)
      tally_add(&t, r);
  }
  return t;
}

static void where_text(const cf_result *r, char *out, size_t len) {
  if (!r) {
    snprintf(out, len, "-");
    return;
  }
  if (!r->tensor[0]) {
    snprintf(out, len, "%s:%d", case_file(r), r->c->test->id);
    return;
  }
  snprintf(out, len, "%s:%d %s%s", case_file(r), r->c->test->id, r->tensor,
           r->index);
}

static void ratio_text(const cf_result *r, char *out, size_t len) {
  if (r && isnan(r->ratio) && r->failed)
    snprintf(out, len, "error");
  else if (!r || isnan(r->ratio))
    snprintf(out, len, "-");
  else if (isinf(r->ratio))
    snprintf(out, len, "inf");
  else
    snprintf(out, len, "%.3g", r->ratio);
}

/* Passed and failed as the exit status counts them: an XPASS passes,
 * except under --strict. */
static size_t passed(const cf_report *rep, const tally *t) {
  return t->count[CF_PASS] + (rep->strict ? 0 : t->count[CF_XPASS]);
}

static size_t failed(const cf_report *rep, const tally *t) {
  return t->count[CF_FAIL] + (rep->strict ? t->count[CF_XPASS] : 0);
}

/* ---- the table ------------------------------------------------------------ */

static void print_case_header(FILE *f, const cf_result *r) {
  char flags[512];
  const vs_test *t = r->c->test;
  flags_text(t, flags, sizeof flags);
  fprintf(f, "%s %s %s:%d (version %s, %s)", r->outcome == CF_XPASS ? "XPASS" : "FAIL",
          r->backend, case_file(r), t->id, cf_set_version(r->c->set),
          vs_op_name(r->c->group->op));
  if (t->comment && *t->comment)
    fprintf(f, " \"%s\"", t->comment);
  if (flags[0])
    fprintf(f, " [flags: %s]", flags);
  fputc('\n', f);
}

static void print_indented(FILE *f, const char *text) {
  const char *p = text;
  while (p && *p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    fprintf(f, "    %.*s\n", (int)len, p);
    p = nl ? nl + 1 : NULL;
  }
}

void cf_report_table(const cf_report *rep, FILE *f, bool verbose, int max_details) {
  /* Failures first, each with its case, tensor, element and diagnosis. */
  int shown = 0, hidden = 0;
  for (size_t i = 0; i < rep->n; i++) {
    const cf_result *r = &rep->results[i];
    if (!is_required_failure(rep, r) && r->outcome != CF_XPASS)
      continue;
    if (!verbose && shown >= max_details) {
      hidden++;
      continue;
    }
    shown++;
    print_case_header(f, r);
    if (r->outcome == CF_XPASS)
      print_indented(f, "passed, but the xfail list expects it to fail");
    else
      print_indented(f, r->message);
    if (r->diagnosis)
      print_indented(f, r->diagnosis);
  }
  if (hidden)
    fprintf(f, "(%d more failure(s) not shown; --verbose shows all, the reports "
            "list every case)\n", hidden);
  if (shown || hidden)
    fputc('\n', f);

  int w = 12;
  for (int b = 0; b < rep->n_backends; b++)
    if ((int)strlen(rep->backends[b]) > w)
      w = (int)strlen(rep->backends[b]);
  for (int b = 0; b < rep->n_skipped_backends; b++)
    if ((int)strlen(rep->skipped_backends[b]) > w)
      w = (int)strlen(rep->skipped_backends[b]);
  fprintf(f, "%-*s %-16s %6s %6s %6s %6s %7s %11s  %s\n", w, "backend", "operator",
          "cases", "passed", "failed", "xfail", "skipped", "worst ratio", "where");
  for (int b = 0; b < rep->n_backends; b++) {
    for (int op = 0; op < VS_OP_COUNT; op++) {
      tally t = tally_of(rep, b, op);
      if (!t.cases)
        continue;
      char ratio[32], where[160];
      ratio_text(t.worst, ratio, sizeof ratio);
      where_text(t.worst, where, sizeof where);
      fprintf(f, "%-*s %-16s %6zu %6zu %6zu %6zu %7zu %11s  %s\n", w, rep->backends[b],
              vs_op_name((vs_op)op), t.cases, passed(rep, &t), failed(rep, &t),
              t.count[CF_XFAIL], t.count[CF_SKIP], ratio, where);
    }
  }
  for (int b = 0; b < rep->n_skipped_backends; b++)
    fprintf(f, "%-*s %-16s (unavailable on this CPU: not run)\n", w,
            rep->skipped_backends[b], "-");
}

void cf_report_summary(const cf_report *rep, FILE *f) {
  tally t = {0};
  for (size_t i = 0; i < rep->n; i++)
    tally_add(&t, &rep->results[i]);
  fprintf(f, "conformance: %d backend%s, %zu cases, %zu passed, %zu failed",
          rep->n_backends, rep->n_backends == 1 ? "" : "s", t.cases,
          passed(rep, &t), failed(rep, &t));
  if (t.count[CF_XFAIL])
    fprintf(f, ", %zu xfail", t.count[CF_XFAIL]);
  if (t.count[CF_XPASS])
    fprintf(f, rep->strict ? " (%zu of them XPASS, failures under --strict)" : ", %zu xpass",
            t.count[CF_XPASS]);
  if (t.count[CF_SKIP])
    fprintf(f, ", %zu skipped", t.count[CF_SKIP]);
  if (rep->n_skipped_backends)
    fprintf(f, ", %d backend%s unavailable", rep->n_skipped_backends,
            rep->n_skipped_backends == 1 ? "" : "s");
  fprintf(f, " (profile %s)\n", rep->profile);
}

/* ---- TAP ------------------------------------------------------------------ */

/* TAP descriptions must not contain '#' (it starts a directive). */
static void tap_text(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '#')
      fputs("\\#", f);
    else if (*s == '\n')
      fputc(' ', f);
    else
      fputc(*s, f);
  }
}

static void tap_diag(FILE *f, const char *text) {
  const char *p = text;
  while (p && *p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    fprintf(f, "#   %.*s\n", (int)len, p);
    p = nl ? nl + 1 : NULL;
  }
}

bool cf_report_tap(const cf_report *rep, const char *path, bool force,
                   char *err, size_t errlen) {
  cf_atomic a;
  if (!cf_atomic_open(&a, path, force, err, errlen))
    return false;
  FILE *f = a.f;
  fprintf(f, "TAP version 13\n1..%zu\n", rep->n);
  for (size_t i = 0; i < rep->n; i++) {
    const cf_result *r = &rep->results[i];
    const vs_test *t = r->c->test;
    /* xfail: "not ok # TODO"; XPASS: "ok # TODO" (a bonus), or under
     * --strict a plain "not ok". */
    const bool strict_xpass = r->outcome == CF_XPASS && rep->strict;
    const bool ok = r->outcome == CF_PASS || r->outcome == CF_SKIP ||
                    (r->outcome == CF_XPASS && !strict_xpass);
    fprintf(f, "%s %zu - %s %s:%d %s ", ok ? "ok" : "not ok", i + 1, r->backend,
            case_file(r), t->id, vs_op_name(r->c->group->op));
    tap_text(f, t->comment);
    switch (r->outcome) {
    case CF_SKIP:
      fprintf(f, " # SKIP ");
      tap_text(f, r->message ? r->message : "excluded");
      break;
    case CF_XFAIL:
      fprintf(f, " # TODO expected failure (xfail list)");
      break;
    case CF_XPASS:
      if (strict_xpass)
        fprintf(f, " (XPASS: the xfail list expects it to fail; --strict)");
      else
        fprintf(f, " # TODO expected failure (xfail list) passed: XPASS");
      break;
    default:
      break;
    }
    fputc('\n', f);
    if (r->outcome == CF_FAIL || r->outcome == CF_XFAIL) {
      char flags[512];
      flags_text(t, flags, sizeof flags);
      fprintf(f, "#   version %s; flags: %s\n", cf_set_version(r->c->set),
              flags[0] ? flags : "none");
      tap_diag(f, r->message);
      tap_diag(f, r->diagnosis);
    }
  }
  if (ferror(f)) {
    snprintf(err, errlen, "cannot write %s", path);
    cf_atomic_abort(&a);
    return false;
  }
  return cf_atomic_commit(&a, err, errlen);
}

/* ---- JUnit XML ------------------------------------------------------------- */

/* XML 1.0 text: escape markup, drop characters XML cannot carry. */
static void xml_text(FILE *f, const char *s) {
  for (; s && *s; s++) {
    unsigned char ch = (unsigned char)*s;
    switch (ch) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&apos;", f); break;
    default:
      if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r')
        fputc('?', f);
      else
        fputc(ch, f);
    }
  }
}

static const char *first_line(const char *s, char *buf, size_t len) {
  if (!s)
    return "";
  const char *nl = strchr(s, '\n');
  size_t n = nl ? (size_t)(nl - s) : strlen(s);
  if (n >= len)
    n = len - 1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return buf;
}

bool cf_report_junit(const cf_report *rep, const char *path, bool force,
                     char *err, size_t errlen) {
  cf_atomic a;
  if (!cf_atomic_open(&a, path, force, err, errlen))
    return false;
  FILE *f = a.f;
  tally all = {0};
  double total_time = 0;
  for (size_t i = 0; i < rep->n; i++) {
    tally_add(&all, &rep->results[i]);
    total_time += rep->results[i].seconds;
  }
  size_t all_failures = all.count[CF_FAIL] + (rep->strict ? all.count[CF_XPASS] : 0);
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  fprintf(f, "<testsuites name=\"infini-conform\" tests=\"%zu\" failures=\"%zu\" "
          "errors=\"0\" skipped=\"%zu\" time=\"%.6f\">\n", all.cases, all_failures,
          all.count[CF_SKIP] + all.count[CF_XFAIL], total_time);
  for (int b = 0; b < rep->n_backends; b++) {
    for (int op = 0; op < VS_OP_COUNT; op++) {
      tally t = {0};
      double time = 0;
      for (size_t i = 0; i < rep->n; i++) {
        const cf_result *r = &rep->results[i];
        if ((int)r->c->group->op == op && strcmp(r->backend, rep->backends[b]) == 0) {
          tally_add(&t, r);
          time += r->seconds;
        }
      }
      if (!t.cases)
        continue;
      size_t failures = t.count[CF_FAIL] + (rep->strict ? t.count[CF_XPASS] : 0);
      fprintf(f, "  <testsuite name=\"");
      xml_text(f, rep->backends[b]);
      fprintf(f, ".%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
              "time=\"%.6f\">\n", vs_op_name((vs_op)op), t.cases, failures,
              t.count[CF_SKIP] + t.count[CF_XFAIL], time);
      fprintf(f, "    <properties>\n      <property name=\"profile\" value=\"");
      xml_text(f, rep->profile);
      fprintf(f, "\"/>\n      <property name=\"vectors\" value=\"");
      xml_text(f, rep->vectors_dir);
      fprintf(f, "\"/>\n    </properties>\n");
      for (size_t i = 0; i < rep->n; i++) {
        const cf_result *r = &rep->results[i];
        if ((int)r->c->group->op != op || strcmp(r->backend, rep->backends[b]) != 0)
          continue;
        const vs_test *tc = r->c->test;
        char line[512], flags[512];
        flags_text(tc, flags, sizeof flags);
        fprintf(f, "    <testcase classname=\"");
        xml_text(f, r->backend);
        fputc('.', f);
        xml_text(f, case_file(r));
        fprintf(f, "\" name=\"tcId %d (version ", tc->id);
        xml_text(f, cf_set_version(r->c->set));
        fprintf(f, ")");
        if (tc->comment && *tc->comment) {
          fputs(": ", f);
          xml_text(f, tc->comment);
        }
        fprintf(f, "\" time=\"%.6f\"", r->seconds);
        if (r->outcome == CF_PASS || (r->outcome == CF_XPASS && !rep->strict)) {
          if (r->outcome == CF_XPASS)
            fprintf(f, ">\n      <system-out>XPASS: passed, but the xfail list "
                    "expects it to fail</system-out>\n    </testcase>\n");
          else
            fprintf(f, "/>\n");
          continue;
        }
        fprintf(f, ">\n");
        if (r->outcome == CF_SKIP) {
          fprintf(f, "      <skipped message=\"");
          xml_text(f, r->message ? r->message : "excluded");
          fprintf(f, "\"/>\n");
        } else if (r->outcome == CF_XFAIL) {
          fprintf(f, "      <skipped message=\"expected failure (xfail list): ");
          xml_text(f, first_line(r->message, line, sizeof line));
          fprintf(f, "\"/>\n");
        } else {
          const char *msg = r->outcome == CF_XPASS
                                ? "XPASS: passed, but the xfail list expects it to fail"
                                : first_line(r->message, line, sizeof line);
          fprintf(f, "      <failure type=\"%s\" message=\"",
                  r->outcome == CF_XPASS ? "xpass" : "nonconforming");
          xml_text(f, msg);
          fprintf(f, "\">");
          fprintf(f, "flags: ");
          xml_text(f, flags[0] ? flags : "none");
          fputc('\n', f);
          xml_text(f, r->message);
          if (r->diagnosis) {
            fputc('\n', f);
            xml_text(f, r->diagnosis);
          }
          fprintf(f, "</failure>\n");
        }
        fprintf(f, "    </testcase>\n");
      }
      fprintf(f, "  </testsuite>\n");
    }
  }
  fprintf(f, "</testsuites>\n");
  if (ferror(f)) {
    snprintf(err, errlen, "cannot write %s", path);
    cf_atomic_abort(&a);
    return false;
  }
  return cf_atomic_commit(&a, err, errlen);
}

/* ---- JSON ------------------------------------------------------------------ */

/* JSON has no NaN or infinity: finite numbers as numbers, others as null
 * plus a string form where it matters. */
/* The catalogue entries a diagnosis names, as ["NAME", "NAME=VALUE"]. */
static json_t *diagnosed_names(const cf_diagnosis *d) {
  json_t *a = json_array();
  for (int i = 0; i < d->n; i++) {
    char name[96];
    if (cat_has_param((cat_id)d->id[i]))
      snprintf(name, sizeof name, "%s=%.6g", cat_get((cat_id)d->id[i])->name, d->param[i]);
    else
      snprintf(name, sizeof name, "%s", cat_get((cat_id)d->id[i])->name);
    json_array_append_new(a, json_string(name));
  }
  return a;
}

static json_t *json_num(double x) {
  return isfinite(x) ? json_real(x) : json_null();
}

static json_t *json_num_text(double x) {
  char buf[32];
  return json_string(cf_fmt_num(x, buf));
}

/* The best candidate of a diagnosis, named or not, with the measures the
 * naming rule compares (docs/conformance.md). */
static json_t *closest_entry(const cf_diagnosis *d) {
  json_t *o = json_object();
  const cat_entry *e = cat_get((cat_id)d->closest);
  json_object_set_new(o, "name", json_string(e ? e->name : ""));
  if (e && cat_has_param((cat_id)d->closest))
    json_object_set_new(o, "param", json_real(d->closest_param));
  json_object_set_new(o, "ratio", json_num_text(d->closest_ratio));
  json_object_set_new(o, "spec_ratio", json_num_text(d->spec_ratio));
  return o;
}

bool cf_report_json(const cf_report *rep, const char *path, bool force,
                    char *err, size_t errlen) {
  json_t *root = json_object();
  json_object_set_new(root, "tool", json_string("infini-conform"));
  json_object_set_new(root, "version", json_string(infini_version()));
  json_object_set_new(root, "spec_version", json_string(INFINI_SPEC_VERSION));
  json_object_set_new(root, "mode", json_string(rep->mode ? rep->mode : "run"));
  json_object_set_new(root, "profile", json_string(rep->profile));
  json_object_set_new(root, "vectors", json_string(rep->vectors_dir ? rep->vectors_dir : ""));
  json_object_set_new(root, "strict", json_boolean(rep->strict));
  json_t *backends = json_array();
  for (int b = 0; b < rep->n_backends; b++)
    json_array_append_new(backends, json_string(rep->backends[b]));
  json_object_set_new(root, "backends", backends);
  json_t *unavailable = json_array();
  for (int b = 0; b < rep->n_skipped_backends; b++)
    json_array_append_new(unavailable, json_string(rep->skipped_backends[b]));
  json_object_set_new(root, "unavailable_backends", unavailable);

  tally all = {0};
  for (size_t i = 0; i < rep->n; i++)
    tally_add(&all, &rep->results[i]);
  json_t *summary = json_object();
  json_object_set_new(summary, "cases", json_integer((json_int_t)all.cases));
  for (int o = 0; o < CF_OUTCOME_COUNT; o++)
    json_object_set_new(summary, cf_outcome_name((cf_outcome)o),
                        json_integer((json_int_t)all.count[o]));
  json_object_set_new(summary, "exit_status", json_integer(cf_report_status(rep)));
  json_object_set_new(root, "summary", summary);

  json_t *table = json_array();
  for (int b = 0; b < rep->n_backends; b++)
    for (int op = 0; op < VS_OP_COUNT; op++) {
      tally t = tally_of(rep, b, op);
      if (!t.cases)
        continue;
      json_t *row = json_object();
      json_object_set_new(row, "backend", json_string(rep->backends[b]));
      json_object_set_new(row, "operator", json_string(vs_op_name((vs_op)op)));
      json_object_set_new(row, "cases", json_integer((json_int_t)t.cases));
      for (int o = 0; o < CF_OUTCOME_COUNT; o++)
        json_object_set_new(row, cf_outcome_name((cf_outcome)o),
                            json_integer((json_int_t)t.count[o]));
      json_object_set_new(row, "worst_ratio", t.worst ? json_num(t.worst->ratio) : json_null());
      if (t.worst) {
        char where[160];
        where_text(t.worst, where, sizeof where);
        json_object_set_new(row, "worst_where", json_string(where));
      }
      json_array_append_new(table, row);
    }
  json_object_set_new(root, "table", table);

  json_t *cases = json_array();
  for (size_t i = 0; i < rep->n; i++) {
    const cf_result *r = &rep->results[i];
    const vs_test *t = r->c->test;
    json_t *c = json_object();
    json_object_set_new(c, "backend", json_string(r->backend));
    json_object_set_new(c, "file", json_string(case_file(r)));
    json_object_set_new(c, "version", json_string(cf_set_version(r->c->set)));
    json_object_set_new(c, "tcId", json_integer(t->id));
    json_object_set_new(c, "operator", json_string(vs_op_name(r->c->group->op)));
    json_object_set_new(c, "comment", json_string(t->comment ? t->comment : ""));
    json_t *flags = json_array();
    for (int k = 0; k < t->n_flags; k++)
      json_array_append_new(flags, json_string(t->flags[k]));
    json_object_set_new(c, "flags", flags);
    json_object_set_new(c, "verdict", json_string(t->result == VS_ACCEPTABLE ? "acceptable" : "valid"));
    json_object_set_new(c, "result", json_string(cf_outcome_name(r->outcome)));
    json_object_set_new(c, "ratio", json_num(r->ratio));
    if (!isnan(r->ratio) && !isfinite(r->ratio))
      json_object_set_new(c, "ratio_text", json_num_text(r->ratio));
    if (r->tensor[0]) {
      json_object_set_new(c, "tensor", json_string(r->tensor));
      json_object_set_new(c, "index", json_string(r->index));
      json_object_set_new(c, "got", json_num_text(r->got));
      json_object_set_new(c, "expected", json_num_text(r->expected));
      json_object_set_new(c, "allowed", json_num_text(r->allowed));
    }
    if (r->message)
      json_object_set_new(c, "message", json_string(r->message));
    if (r->diagnosis)
      json_object_set_new(c, "diagnosis", json_string(r->diagnosis));
    if (r->diag.n > 0)
      json_object_set_new(c, "diagnosed", diagnosed_names(&r->diag));
    if (r->diag.together)
      json_object_set_new(c, "together", json_true());
    if (r->diag.tried && r->diag.closest >= 0)
      json_object_set_new(c, "closest", closest_entry(&r->diag));
    json_object_set_new(c, "seconds", json_real(r->seconds));
    json_array_append_new(cases, c);
  }
  json_object_set_new(root, "cases", cases);

  cf_atomic a;
  if (!cf_atomic_open(&a, path, force, err, errlen)) {
    json_decref(root);
    return false;
  }
  int rc = json_dumpf(root, a.f, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (rc != 0 || fputc('\n', a.f) == EOF || ferror(a.f)) {
    snprintf(err, errlen, "cannot write %s", path);
    cf_atomic_abort(&a);
    return false;
  }
  return cf_atomic_commit(&a, err, errlen);
}

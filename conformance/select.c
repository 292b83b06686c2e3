/*
 * conformance/select.c - which cases run.
 *
 * Command-line filters narrow the set: --op NAME, --id PATTERN and
 * --flag NAME (several of one kind: any of them; different kinds: all of
 * them). List files (one pattern per line, '#' starts a comment) then say
 * what to include (only those), exclude (reported as skipped) and expect to
 * fail (xfail). Patterns:
 *
 *   FILE:TCID        retrieve.json:12     one case (FILE may use * and ?)
 *   FILE@VER:TCID    retrieve.json@1:12   ... of that file version only
 *   FILE:A-B         retrieve.json:1-20   a range of ids
 *   FILE:* or FILE   retrieve.json:*      every case of a file
 *   TCID             12                   that id in every file
 *   flag:NAME        flag:underflow       every case carrying the flag
 *   op:NAME          op:mix               every case of an operator
 *   *                                     everything
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/conform.h"

void cf_selection_init(cf_selection *sel) { memset(sel, 0, sizeof *sel); }

static void patterns_free(cf_patterns *p) {
  for (int i = 0; i < p->n; i++) {
    free(p->items[i]);
    free(p->origins[i]);
  }
  free(p->items);
  free(p->origins);
  free(p->used);
  memset(p, 0, sizeof *p);
}

void cf_selection_free(cf_selection *sel) {
  patterns_free(&sel->ops);
  patterns_free(&sel->ids);
  patterns_free(&sel->flags);
  patterns_free(&sel->include);
  patterns_free(&sel->exclude);
  patterns_free(&sel->xfail);
}

static void patterns_add(cf_patterns *p, const char *item, const char *origin) {
  if (p->n == p->cap) {
    p->cap = p->cap ? 2 * p->cap : 8;
    p->items = cf_xrealloc(p->items, (size_t)p->cap * sizeof *p->items);
    p->origins = cf_xrealloc(p->origins, (size_t)p->cap * sizeof *p->origins);
    p->used = cf_xrealloc(p->used, (size_t)p->cap * sizeof *p->used);
  }
  p->items[p->n] = cf_xstrdup(item);
  p->origins[p->n] = cf_xstrdup(origin);
  p->used[p->n] = false;
  p->n++;
}

static bool all_digits(const char *s, size_t len) {
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!isdigit((unsigned char)s[i]))
      return false;
  return true;
}

/* TCID part: "*", "N" or "A-B". */
static bool parse_ids(const char *s, long *lo, long *hi) {
  if (strcmp(s, "*") == 0) {
    *lo = 0;
    *hi = -1; /* any */
    return true;
  }
  const char *dash = strchr(s, '-');
  if (!dash) {
    if (!all_digits(s, strlen(s)))
      return false;
    *lo = *hi = strtol(s, NULL, 10);
    return true;
  }
  if (!all_digits(s, (size_t)(dash - s)) || !all_digits(dash + 1, strlen(dash + 1)))
    return false;
  *lo = strtol(s, NULL, 10);
  *hi = strtol(dash + 1, NULL, 10);
  return *lo <= *hi;
}

bool cf_pattern_valid(const char *p, char *err, size_t errlen) {
  long lo, hi;
  if (!*p) {
    snprintf(err, errlen, "empty pattern");
    return false;
  }
  if (strncmp(p, "flag:", 5) == 0) {
    if (!p[5]) {
      snprintf(err, errlen, "pattern '%s' names no flag", p);
      return false;
    }
    return true;
  }
  if (strncmp(p, "op:", 3) == 0) {
    vs_op op;
    if (!vs_op_from_name(p + 3, &op)) {
      snprintf(err, errlen, "pattern '%s': unknown operator '%s'", p, p + 3);
      return false;
    }
    return true;
  }
  if (strcmp(p, "*") == 0)
    return true;
  const char *colon = strrchr(p, ':');
  if (!colon) {
    if (all_digits(p, strlen(p)))
      return true; /* TCID */
    if (strchr(p, '.') || strchr(p, '*') || strchr(p, '?'))
      return true; /* FILE */
    snprintf(err, errlen,
             "pattern '%s' is none of FILE:TCID, FILE:*, TCID, flag:NAME, op:NAME", p);
    return false;
  }
  if (colon == p) {
    snprintf(err, errlen, "pattern '%s' has no file before ':'", p);
    return false;
  }
  if (!parse_ids(colon + 1, &lo, &hi)) {
    snprintf(err, errlen,
             "pattern '%s': '%s' is not a test id, a range A-B or *", p, colon + 1);
    return false;
  }
  return true;
}

/* Does FILE[@VER] match the case's file and version? */
static bool file_matches(const char *pat, size_t len, const cf_case *c) {
  char file[512], *at;
  if (len >= sizeof file)
    return false;
  memcpy(file, pat, len);
  file[len] = '\0';
  at = strchr(file, '@');
  if (at) {
    *at = '\0';
    if (strcmp(at + 1, cf_set_version(c->set)) != 0)
      return false;
  }
  if (fnmatch(file, c->set->file, 0) == 0)
    return true;
  /* "retrieve" also names retrieve.json */
  char with_ext[520];
  snprintf(with_ext, sizeof with_ext, "%s.json", file);
  return fnmatch(with_ext, c->set->file, 0) == 0;
}

static bool pattern_matches(const char *p, const cf_case *c) {
  if (strncmp(p, "flag:", 5) == 0) {
    for (int i = 0; i < c->test->n_flags; i++)
      if (fnmatch(p + 5, c->test->flags[i], 0) == 0)
        return true;
    return false;
  }
  if (strncmp(p, "op:", 3) == 0)
    return strcmp(p + 3, vs_op_name(c->group->op)) == 0;
  if (strcmp(p, "*") == 0)
    return true;
  const char *colon = strrchr(p, ':');
  long lo = 0, hi = -1;
  if (!colon) {
    if (all_digits(p, strlen(p)))
      return c->test->id == strtol(p, NULL, 10);
    return file_matches(p, strlen(p), c);
  }
  if (!file_matches(p, (size_t)(colon - p), c))
    return false;
  if (!parse_ids(colon + 1, &lo, &hi))
    return false;
  return hi < 0 || (c->test->id >= lo && c->test->id <= hi);
}

static bool any_match(cf_patterns *p, const cf_case *c) {
  bool hit = false;
  for (int i = 0; i < p->n; i++)
    if (pattern_matches(p->items[i], c)) {
      p->used[i] = true;
      hit = true;
    }
  return hit;
}

bool cf_selection_add(cf_selection *sel, const char *kind, const char *value,
                      char *err, size_t errlen) {
  if (!*value || strspn(value, ",") == strlen(value)) {
    snprintf(err, errlen, "--%s needs a value", kind);
    return false;
  }
  /* Comma-separated values are several patterns. */
  char *copy = cf_xstrdup(value), *save = NULL;
  bool ok = true;
  for (char *item = strtok_r(copy, ",", &save); item && ok;
       item = strtok_r(NULL, ",", &save)) {
    char pattern[600];
    if (strcmp(kind, "op") == 0) {
      vs_op op;
      if (!vs_op_from_name(item, &op)) {
        snprintf(err, errlen, "--op: unknown operator '%s' (one of feature_map, "
                 "retrieve, update_linear, update_delta, mix, local_attention, "
                 "segment_step, layer_step)", item);
        ok = false;
        break;
      }
      snprintf(pattern, sizeof pattern, "op:%s", item);
      patterns_add(&sel->ops, pattern, "--op");
    } else if (strcmp(kind, "flag") == 0) {
      snprintf(pattern, sizeof pattern, "flag:%s", item);
      patterns_add(&sel->flags, pattern, "--flag");
    } else {
      if (!cf_pattern_valid(item, err, errlen)) {
        ok = false;
        break;
      }
      patterns_add(&sel->ids, item, "--id");
    }
  }
  free(copy);
  return ok;
}

bool cf_selection_read_list(cf_selection *sel, const char *which,
                            const char *path, char *err, size_t errlen) {
  cf_patterns *p = strcmp(which, "include") == 0   ? &sel->include
                   : strcmp(which, "exclude") == 0 ? &sel->exclude
                                                   : &sel->xfail;
  /* The one reader: a FIFO or /dev/zero is refused at once, a list over
   * CF_LIST_MAX before it is read. */
  unsigned char *bytes;
  size_t len;
  char why[600];
  if (fileio_read_all(path, CF_LIST_MAX, &bytes, &len, why, sizeof why) !=
      INFINI_OK) {
    snprintf(err, errlen, "cannot read --%s-list: %s", which, why);
    return false;
  }
  if (memchr(bytes, 0, len)) {
    snprintf(err, errlen, "cannot read --%s-list %s: it holds a NUL byte, "
             "so it is not a list of patterns", which, path);
    free(bytes);
    return false;
  }
  int lineno = 0;
  bool ok = true;
  char *next = (char *)bytes;
  for (char *line = next; ok && line && line < (char *)bytes + len; line = next) {
    lineno++;
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    char *hash = strchr(line, '#');
    if (hash)
      *hash = '\0';
    char *s = line;
    while (isspace((unsigned char)*s))
      s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
      *--e = '\0';
    if (!*s)
      continue;
    /* One pattern per line; anything after whitespace is a comment too. */
    for (char *t = s; *t; t++)
      if (isspace((unsigned char)*t)) {
        *t = '\0';
        break;
      }
    char pwhy[300];
    if (!cf_pattern_valid(s, pwhy, sizeof pwhy)) {
      snprintf(err, errlen, "%s:%d: %s", path, lineno, fileio_one_line(pwhy));
      ok = false;
      break;
    }
    char origin[600];
    snprintf(origin, sizeof origin, "%s:%d", path, lineno);
    patterns_add(p, s, origin);
  }
  free(bytes);
  if (strcmp(which, "include") == 0)
    sel->have_include = true;
  return ok;
}

static void warn_unused(const cf_patterns *p, const char *what) {
  for (int i = 0; i < p->n; i++)
    if (!p->used[i])
      fprintf(stderr, "infini-conform: warning: %s pattern '%s' (%s) matches no case\n",
              what, p->items[i], p->origins[i]);
}

size_t cf_select(const cf_vectors *v, cf_selection *sel, cf_case **out) {
  size_t n = 0, cap = 0;
  cf_case *cases = NULL;
  for (int s = 0; s < v->n_sets; s++) {
    const vs_set *set = &v->sets[s];
    for (int g = 0; g < set->n_groups; g++) {
      vs_group *group = &set->groups[g];
      for (int t = 0; t < group->n_tests; t++) {
        cf_case c = {set, group, &group->tests[t], false, false, ""};
        if (sel->ops.n && !any_match(&sel->ops, &c))
          continue;
        if (sel->ids.n && !any_match(&sel->ids, &c))
          continue;
        if (sel->flags.n && !any_match(&sel->flags, &c))
          continue;
        if (sel->have_include && !any_match(&sel->include, &c))
          continue;
        c.excluded = any_match(&sel->exclude, &c);
        c.xfail = any_match(&sel->xfail, &c);
        if (n == cap) {
          cap = cap ? 2 * cap : 256;
          cases = cf_xrealloc(cases, cap * sizeof *cases);
        }
        cases[n++] = c;
      }
    }
  }
  warn_unused(&sel->include, "include-list");
  warn_unused(&sel->exclude, "exclude-list");
  warn_unused(&sel->xfail, "xfail-list");
  *out = cases;
  return n;
}

/*
 * conformance/catalogue.c - the entries of conformance/catalogue.h as a
 * table, and the small lookups every reader of the catalogue needs.
 */
#include "config.h"
#include "conformance/catalogue.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_BUG(name, ops, when, rule, visible, tries, instances, alias, why_not, message) \
  {#name, CAT_BUG, ops, when, rule, visible, tries, instances, alias, why_not, "", message},
#define ROW_VARIANT(name, ops, profile, message) \
  {#name, CAT_VARIANT, ops, 0, "", 0, "", "", "", "", profile, message},
static const cat_entry entries[CAT_COUNT] = {CATALOGUE(ROW_BUG, ROW_VARIANT)};
#undef ROW_BUG
#undef ROW_VARIANT

const cat_entry *cat_get(cat_id id) {
  return (unsigned)id < CAT_COUNT ? &entries[id] : NULL;
}

bool cat_find(const char *name, cat_id *id) {
  for (int i = 0; name && i < CAT_COUNT; i++)
    if (strcmp(entries[i].name, name) == 0) {
      *id = (cat_id)i;
      return true;
    }
  return false;
}

bool cat_has_param(cat_id id) {
  return (unsigned)id < CAT_COUNT && entries[id].tries[0] != '\0';
}

/* Is `word` one of the space-separated words of `list`? */
static bool listed(const char *list, const char *word) {
  const size_t len = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += len)
    if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
      return true;
  return false;
}

bool cat_same(cat_id id, cat_id other) {
  if (id == other)
    return true;
  const cat_entry *a = cat_get(id), *b = cat_get(other);
  return a && b && listed(a->alias, b->name);
}

void cat_message(cat_id id, double param, char *out, size_t len) {
  const cat_entry *e = cat_get(id);
  if (!e || len == 0) {
    if (len)
      out[0] = '\0';
    return;
  }
  const char *at = strstr(e->message, "{p}");
  if (!at) {
    snprintf(out, len, "%s", e->message);
    return;
  }
  snprintf(out, len, "%.*s%.6g%s", (int)(at - e->message), e->message, param, at + 3);
}

void cat_for_instances(cat_id id, void (*fn)(const char *spec, void *arg), void *arg) {
  const cat_entry *e = cat_get(id);
  if (!e || e->kind != CAT_BUG)
    return;
  if (!e->instances[0]) {
    fn(e->name, arg);
    return;
  }
  char values[128], spec[160];
  snprintf(values, sizeof values, "%s", e->instances);
  for (char *save = NULL, *v = strtok_r(values, " ", &save); v; v = strtok_r(NULL, " ", &save)) {
    snprintf(spec, sizeof spec, "%s=%s", e->name, v);
    fn(spec, arg);
  }
}

/* ---- configurations -------------------------------------------------------- */

void cat_config_init(cat_config *c) {
  memset(c, 0, sizeof *c);
  c->variant = CAT_plain;
}

/* One NAME[=VALUE] of a configuration (len bytes at s). */
static bool parse_one(const char *s, size_t len, cat_config *c, bool *have_variant,
                      char *err, size_t errlen) {
  char word[96];
  if (len == 0 || len >= sizeof word) {
    snprintf(err, errlen, "bad deviation name of %zu characters", len);
    return false;
  }
  memcpy(word, s, len);
  word[len] = '\0';
  char *value = strchr(word, '=');
  if (value)
    *value++ = '\0';
  cat_id id;
  if (!cat_find(word, &id)) {
    snprintf(err, errlen, "unknown deviation '%.64s' (mutant-report --list names them)", word);
    return false;
  }
  const cat_entry *e = cat_get(id);
  if (e->kind == CAT_VARIANT) {
    if (value || *have_variant) {
      snprintf(err, errlen, "%s: a variant takes no value, and only one variant may be chosen",
               word);
      return false;
    }
    *have_variant = true;
    c->variant = id;
    return true;
  }
  if (value && !cat_has_param(id)) {
    snprintf(err, errlen, "%s takes no parameter", word);
    return false;
  }
  double p = 0;
  if (cat_has_param(id)) {
    const char *text = value ? value : e->instances;
    char *end;
    p = strtod(text, &end);
    if (end == text || (value && *end != '\0') || !isfinite(p)) {
      snprintf(err, errlen, "%s: bad parameter '%.32s'", word, text);
      return false;
    }
  }
  c->on[id] = true;
  c->param[id] = p;
  return true;
}

bool cat_config_parse(const char *spec, cat_config *c, char *err, size_t errlen) {
  cat_config_init(c);
  bool have_variant = false;
  for (const char *s = spec;;) {
    const char *plus = strchr(s, '+');
    const size_t len = plus ? (size_t)(plus - s) : strlen(s);
    if (!parse_one(s, len, c, &have_variant, err, errlen))
      return false;
    if (!plus)
      return true;
    s = plus + 1;
  }
}

void cat_config_name(const cat_config *c, char *out, size_t len) {
  size_t at = 0;
  out[0] = '\0';
  if (c->variant != CAT_plain)
    at += (size_t)snprintf(out, len, "%s", entries[c->variant].name);
  for (int i = 0; i < CAT_COUNT && at < len; i++) {
    if (!c->on[i])
      continue;
    const char *sep = at ? "+" : "";
    if (cat_has_param((cat_id)i))
      at += (size_t)snprintf(out + at, len - at, "%s%s=%.6g", sep, entries[i].name, c->param[i]);
    else
      at += (size_t)snprintf(out + at, len - at, "%s%s", sep, entries[i].name);
  }
  if (at == 0)
    snprintf(out, len, "plain");
}

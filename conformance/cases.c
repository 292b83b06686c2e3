/*
 * conformance/cases.c - finding and loading the golden vectors: the default
 * vector directory, every manifest of a directory, the tensors of the
 * selected cases and the shape each operator's tensors must have.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "conformance/conform.h"

#ifndef INFINI_SRCDIR
#define INFINI_SRCDIR "."
#endif
#ifndef INFINI_BUILDDIR
#define INFINI_BUILDDIR "."
#endif
#ifndef INFINI_PKGDATADIR
#define INFINI_PKGDATADIR "/usr/local/share/infini"
#endif

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *cf_default_vectors(void) {
  const char *env = getenv("INFINI_VECTORS");
  if (env && *env)
    return env;
  if (is_dir(INFINI_BUILDDIR "/vectors/v2"))
    return INFINI_BUILDDIR "/vectors/v2";
  if (is_dir(INFINI_SRCDIR "/vectors/v2"))
    return INFINI_SRCDIR "/vectors/v2";
  return INFINI_PKGDATADIR "/vectors/v2";
}

const char *cf_default_model_vectors(void) {
  const char *env = getenv("INFINI_MODEL_VECTORS");
  if (env && *env)
    return env;
  if (is_dir(INFINI_SRCDIR "/vectors/model/v1"))
    return INFINI_SRCDIR "/vectors/model/v1";
  return INFINI_PKGDATADIR "/model/v1";
}

/* docs/vectors.md, "Identity": (manifest file name, schemaVersion, tcId)
 * names a vector forever. */
const char *cf_set_version(const vs_set *set) {
  static char text[64][12];
  int v = set->schema_version;
  if (v < 0 || v >= 64)
    return "?";
  if (!text[v][0])
    snprintf(text[v], sizeof text[v], "%d", v);
  return text[v];
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_set(const void *a, const void *b);

bool cf_vectors_load(const char *path, cf_vectors *v, char *err, size_t errlen) {
  memset(v, 0, sizeof *v);
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "cannot read the vectors %s: %s", path, strerror(errno));
    return false;
  }
  char resolved[PATH_MAX];
  if (!realpath(path, resolved))
    snprintf(resolved, sizeof resolved, "%s", path);

  char **files = NULL;
  size_t n = 0;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (!d) {
      snprintf(err, errlen, "cannot read the vector directory %s: %s", path,
               strerror(errno));
      return false;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.' || !ends_with(e->d_name, ".json"))
        continue;
      files = cf_xrealloc(files, (n + 1) * sizeof *files);
      size_t len = strlen(resolved) + strlen(e->d_name) + 2;
      files[n] = cf_xmalloc(len);
      snprintf(files[n], len, "%s/%s", resolved, e->d_name);
      n++;
    }
    closedir(d);
    if (n == 0) {
      snprintf(err, errlen, "no vector manifests (*.json) in %s", path);
      return false;
    }
    qsort(files, n, sizeof *files, cmp_str);
    v->dir = cf_xstrdup(resolved);
  } else {
    files = cf_xmalloc(sizeof *files);
    files[0] = cf_xstrdup(resolved);
    n = 1;
    char *slash = strrchr(resolved, '/');
    if (slash)
      *slash = '\0';
    v->dir = cf_xstrdup(slash ? resolved : ".");
  }

  v->sets = cf_xcalloc(n, sizeof *v->sets);
  bool ok = true;
  for (size_t i = 0; i < n; i++) {
    char why[512];
    if (ok) {
      if (!vs_set_load(files[i], &v->sets[v->n_sets], why, sizeof why)) {
        /* the loader's message usually names the file already */
        const char *base = strrchr(files[i], '/');
        base = base ? base + 1 : files[i];
        if (strstr(why, base))
          snprintf(err, errlen, "%s", why);
        else
          snprintf(err, errlen, "%s: %s", files[i], why);
        ok = false;
      } else {
        v->n_sets++;
      }
    }
    free(files[i]);
  }
  free(files);
  if (!ok)
    cf_vectors_free(v);
  else
    qsort(v->sets, (size_t)v->n_sets, sizeof *v->sets, cmp_set);
  return ok;
}

/* Sets in operator order (the order of vs_op), then by file name. */
static int set_rank(const vs_set *s) {
  if (s->n_groups > 0)
    return (int)s->groups[0].op;
  return VS_OP_COUNT;
}

static int cmp_set(const void *a, const void *b) {
  const vs_set *x = a, *y = b;
  int rx = set_rank(x), ry = set_rank(y);
  if (rx != ry)
    return rx < ry ? -1 : 1;
  return strcmp(x->file, y->file);
}

void cf_vectors_free(cf_vectors *v) {
  for (int i = 0; i < v->n_sets; i++)
    vs_set_free(&v->sets[i]);
  free(v->sets);
  free(v->dir);
  memset(v, 0, sizeof *v);
}

const vs_output *cf_find_output(const vs_outputs *outs, const char *name) {
  for (int i = 0; i < outs->count; i++)
    if (strcmp(outs->items[i].expected.name, name) == 0)
      return &outs->items[i];
  return NULL;
}

const vs_tensor *cf_find_input(const vs_test *t, const char *name, int *index) {
  for (int i = 0; i < t->n_inputs; i++)
    if (strcmp(t->inputs[i].name, name) == 0) {
      if (index)
        *index = i;
      return &t->inputs[i];
    }
  return NULL;
}

void cf_outputs_free(cf_outputs *o) {
  for (int i = 0; i < o->n; i++) {
    free(o->data[i]);
    free(o->missing[i]);
    o->data[i] = NULL;
    o->missing[i] = NULL;
  }
  o->n = 0;
}

/* The number of elements a tensor of this role must have in this group
 * (0: unknown role), and whether the role is required. */
static size_t expected_count(const vs_group *g, const char *name, bool output,
                             bool *required) {
  const size_t n = (size_t)g->n, dk = (size_t)g->d_key, dv = (size_t)g->d_value;
  const size_t S = g->segments > 0 ? (size_t)g->segments : 1;
  const size_t H = g->n_heads > 0 ? (size_t)g->n_heads : 1;
  const size_t Hkv = g->n_kv_heads > 0 ? (size_t)g->n_kv_heads : 1;
  const size_t rc = g->rows > 0 ? (size_t)g->rows * (size_t)g->cols : n * dv;
  *required = true;
  switch (g->op) {
  case VS_FEATURE_MAP:
    if (strcmp(name, output ? "y" : "x") == 0)
      return (size_t)g->rows * (size_t)g->cols;
    return 0;
  case VS_RETRIEVE:
    if (output)
      return strcmp(name, "a") == 0 ? n * dv : 0;
    if (strcmp(name, "q") == 0)
      return n * dk;
    if (strcmp(name, "m") == 0)
      return dk * dv;
    if (strcmp(name, "z") == 0)
      return dk;
    return 0;
  case VS_UPDATE_LINEAR:
  case VS_UPDATE_DELTA:
    if (strcmp(name, "m") == 0)
      return dk * dv;
    if (strcmp(name, "z") == 0)
      return dk;
    if (output)
      return 0;
    if (strcmp(name, "k") == 0)
      return n * dk;
    if (strcmp(name, "v") == 0)
      return n * dv;
    return 0;
  case VS_MIX:
    if (output)
      return strcmp(name, "out") == 0 ? rc : 0;
    if (strcmp(name, "a_mem") == 0 || strcmp(name, "a_dot") == 0)
      return rc;
    return 0;
  case VS_LOCAL_ATTENTION:
    if (output)
      return strcmp(name, "out") == 0 ? n * dv : 0;
    if (strcmp(name, "q") == 0 || strcmp(name, "k") == 0)
      return n * dk;
    if (strcmp(name, "v") == 0)
      return n * dv;
    return 0;
  case VS_SEGMENT_STEP:
  case VS_LAYER_STEP: {
    const bool layer = g->op == VS_LAYER_STEP;
    const size_t hq = layer ? H : 1, hkv = layer ? Hkv : 1;
    if (strcmp(name, "m") == 0) {
      *required = output;
      return hkv * dk * dv;
    }
    if (strcmp(name, "z") == 0) {
      *required = output;
      return hkv * dk;
    }
    if (output)
      return strcmp(name, "out") == 0 ? S * n * hq * dv : 0;
    if (strcmp(name, "q") == 0)
      return S * n * hq * dk;
    if (strcmp(name, "k") == 0)
      return S * n * hkv * dk;
    if (strcmp(name, "v") == 0)
      return S * n * hkv * dv;
    if (layer && strcmp(name, "beta") == 0)
      return H;
    return 0;
  }
  default:
    return 0;
  }
}

static const char *const input_roles[VS_OP_COUNT][7] = {
    [VS_FEATURE_MAP] = {"x"},
    [VS_RETRIEVE] = {"q", "m", "z"},
    [VS_UPDATE_LINEAR] = {"k", "v", "m", "z"},
    [VS_UPDATE_DELTA] = {"k", "v", "m", "z"},
    [VS_MIX] = {"a_mem", "a_dot"},
    [VS_LOCAL_ATTENTION] = {"q", "k", "v"},
    [VS_SEGMENT_STEP] = {"q", "k", "v", "m", "z"},
    [VS_LAYER_STEP] = {"q", "k", "v", "beta", "m", "z"},
};

static bool load_one(const vs_set *set, vs_tensor *t, char *err, size_t errlen) {
  if (t->data)
    return true;
  char why[512];
  if (!vs_tensor_load(set, t, why, sizeof why)) {
    snprintf(err, errlen, "%s/%s: %s", set->dir, t->file ? t->file : "?", why);
    return false;
  }
  return true;
}

static bool check_group(const vs_group *g, char *why, size_t len) {
  if (g->n < 0 || g->d_key < 0 || g->d_value < 0 || g->rows < 0 || g->cols < 0 ||
      g->segments < 0 || g->n_heads < 0 || g->n_kv_heads < 0) {
    snprintf(why, len, "a negative size");
    return false;
  }
  if (g->op == VS_FEATURE_MAP && (g->rows < 1 || g->cols < 1)) {
    snprintf(why, len, "rows and cols must be >= 1");
    return false;
  }
  if (g->op != VS_FEATURE_MAP && g->op != VS_MIX &&
      (g->n < 1 || g->d_key < 1 || g->d_value < 1)) {
    snprintf(why, len, "n, d_key and d_value must be >= 1");
    return false;
  }
  if (g->op == VS_LAYER_STEP &&
      (g->n_heads < 1 || g->n_kv_heads < 1 || g->n_heads % g->n_kv_heads != 0)) {
    snprintf(why, len, "n_kv_heads must divide n_heads");
    return false;
  }
  return true;
}

bool cf_cases_load(cf_case *cases, size_t n, char *err, size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    cf_case *c = &cases[i];
    vs_test *t = c->test;
    char why[256];
    if (!check_group(c->group, why, sizeof why)) {
      snprintf(err, errlen, "%s/%s: tcId %d: corrupt group: %s", c->set->dir,
               c->set->file, t->id, why);
      return false;
    }
    for (int k = 0; k < t->n_inputs; k++) {
      bool required;
      size_t want = expected_count(c->group, t->inputs[k].name, false, &required);
      if (want == 0) {
        snprintf(err, errlen, "%s/%s: tcId %d: unknown input '%s' for %s",
                 c->set->dir, c->set->file, t->id, t->inputs[k].name,
                 vs_op_name(c->group->op));
        return false;
      }
      if (vs_tensor_count(&t->inputs[k]) != want) {
        snprintf(err, errlen,
                 "%s/%s: tcId %d: input '%s' has %zu elements, the group's shape "
                 "needs %zu", c->set->dir, c->set->file, t->id, t->inputs[k].name,
                 vs_tensor_count(&t->inputs[k]), want);
        return false;
      }
      if (!load_one(c->set, &t->inputs[k], err, errlen))
        return false;
    }
    for (int r = 0; r < 7 && input_roles[c->group->op][r]; r++) {
      bool required;
      const char *role = input_roles[c->group->op][r];
      expected_count(c->group, role, false, &required);
      if (required && !cf_find_input(t, role, NULL)) {
        snprintf(err, errlen, "%s/%s: tcId %d: %s needs input '%s'", c->set->dir,
                 c->set->file, t->id, vs_op_name(c->group->op), role);
        return false;
      }
    }
    const char *const *names;
    int n_names = vs_op_outputs(c->group->op, &names);
    for (int a = -1; a < t->n_alternatives; a++) {
      vs_outputs *outs = a < 0 ? &t->outputs : &t->alternatives[a];
      if (outs->count < 1) {
        snprintf(err, errlen, "%s/%s: tcId %d: no expected outputs", c->set->dir,
                 c->set->file, t->id);
        return false;
      }
      for (int o = 0; o < outs->count; o++) {
        vs_output *out = &outs->items[o];
        bool required, known = false;
        for (int k = 0; k < n_names; k++)
          known = known || strcmp(names[k], out->expected.name) == 0;
        size_t want = expected_count(c->group, out->expected.name, true, &required);
        if (!known || want == 0) {
          snprintf(err, errlen, "%s/%s: tcId %d: unknown output '%s' for %s",
                   c->set->dir, c->set->file, t->id, out->expected.name,
                   vs_op_name(c->group->op));
          return false;
        }
        if (vs_tensor_count(&out->expected) != want) {
          snprintf(err, errlen,
                   "%s/%s: tcId %d: output '%s' has %zu elements, the group's "
                   "shape needs %zu", c->set->dir, c->set->file, t->id,
                   out->expected.name, vs_tensor_count(&out->expected), want);
          return false;
        }
        if (!load_one(c->set, &out->expected, err, errlen))
          return false;
        vs_tensor *aux[2] = {out->mag, out->cond};
        for (int x = 0; x < 2; x++) {
          if (aux[x] && !load_one(c->set, aux[x], err, errlen))
            return false;
        }
      }
    }
  }
  return true;
}

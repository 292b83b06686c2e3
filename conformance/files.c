/*
 * conformance/files.c - the file workflow, for implementations in any
 * language (docs/conformance.md, "Checking an implementation through files").
 *
 *   infini-conform export DIR   writes DIR/index.json, DIR/in/<case>.<input>.npy
 *                               and an empty DIR/out/;
 *   (the implementation)        reads the index and the inputs, writes
 *                               DIR/out/<case>.<output>.npy (float32 or float64);
 *   infini-conform check DIR    judges those outputs against the vectors.
 *
 * <case> is "<file stem>-<tcId>", e.g. retrieve-12: with the file's version
 * (in the index) it names the vector forever.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "conformance/conform.h"

#define INDEX_FORMAT "infini-conform-export"
#define INDEX_VERSION 1

static void case_stem(const cf_case *c, char *out, size_t len) {
  const char *file = c->set->file;
  size_t n = strlen(file);
  if (n > 5 && strcmp(file + n - 5, ".json") == 0)
    n -= 5;
  snprintf(out, len, "%.*s-%d", (int)n, file, c->test->id);
}

/* Relative path of a tensor of a case: "in/retrieve-12.q.npy". */
static void tensor_path(const cf_case *c, const char *sub, const char *name,
                        char *out, size_t len) {
  char stem[300];
  case_stem(c, stem, sizeof stem);
  snprintf(out, len, "%s/%s.%s.npy", sub, stem, name);
}

/* dir/rel into out; false (with a message) when it does not fit. */
static bool join(char *out, size_t len, const char *dir, const char *rel, char *err,
                 size_t errlen) {
  int w = snprintf(out, len, "%s/%s", dir, rel);
  if (w < 0 || (size_t)w >= len) {
    snprintf(err, errlen, "path too long: %s/%s", dir, rel);
    return false;
  }
  return true;
}

static json_t *json_float(float x) {
  if (isnan(x))
    return json_string("nan");
  if (isinf(x))
    return json_string(x > 0 ? "inf" : "-inf");
  return json_real((double)x);
}

static json_t *shape_json(const vs_tensor *t) {
  json_t *a = json_array();
  for (int d = 0; d < t->ndim; d++)
    json_array_append_new(a, json_integer((json_int_t)t->dims[d]));
  return a;
}

/* The parameters an implementation needs, per operator. */
static json_t *params_json(const vs_group *g) {
  json_t *p = json_object();
  const char *rule = g->rule == INFINI_UPDATE_DELTA ? "delta" : "linear";
  switch (g->op) {
  case VS_FEATURE_MAP:
    json_object_set_new(p, "rows", json_integer(g->rows));
    json_object_set_new(p, "cols", json_integer(g->cols));
    break;
  case VS_MIX:
    json_object_set_new(p, "rows", json_integer(g->rows > 0 ? g->rows : g->n));
    json_object_set_new(p, "cols", json_integer(g->rows > 0 ? g->cols : g->d_value));
    json_object_set_new(p, "beta", json_float(g->beta));
    break;
  default:
    if (g->op == VS_SEGMENT_STEP || g->op == VS_LAYER_STEP)
      json_object_set_new(p, "segments", json_integer(g->segments > 0 ? g->segments : 1));
    json_object_set_new(p, "n", json_integer(g->n));
    if (g->op == VS_LAYER_STEP) {
      json_object_set_new(p, "n_heads", json_integer(g->n_heads));
      json_object_set_new(p, "n_kv_heads", json_integer(g->n_kv_heads));
    }
    json_object_set_new(p, "d_key", json_integer(g->d_key));
    json_object_set_new(p, "d_value", json_integer(g->d_value));
    if (g->op == VS_SEGMENT_STEP || g->op == VS_LAYER_STEP)
      json_object_set_new(p, "rule", json_string(rule));
    if (g->op == VS_SEGMENT_STEP)
      json_object_set_new(p, "beta", json_float(g->beta));
    if (g->op == VS_RETRIEVE || g->op == VS_UPDATE_DELTA || g->op == VS_SEGMENT_STEP ||
        g->op == VS_LAYER_STEP)
      json_object_set_new(p, "eps", json_float(g->eps));
    if (g->op == VS_LOCAL_ATTENTION || g->op == VS_SEGMENT_STEP || g->op == VS_LAYER_STEP)
      json_object_set_new(p, "scale", json_float(g->scale));
    break;
  }
  return p;
}

/* A case as the export index describes it, without file names (the
 * in-memory API, conformance/api.c, gives the same description). */
json_t *cf_case_json(const cf_case *c) {
  const vs_test *t = c->test;
  json_t *e = json_object();
  char stem[300];
  case_stem(c, stem, sizeof stem);
  json_object_set_new(e, "case", json_string(stem));
  json_object_set_new(e, "file", json_string(c->set->file));
  json_object_set_new(e, "version", json_string(cf_set_version(c->set)));
  json_object_set_new(e, "tcId", json_integer(t->id));
  json_object_set_new(e, "operator", json_string(vs_op_name(c->group->op)));
  json_object_set_new(e, "comment", json_string(t->comment ? t->comment : ""));
  json_t *flags = json_array();
  for (int f = 0; f < t->n_flags; f++)
    json_array_append_new(flags, json_string(t->flags[f]));
  json_object_set_new(e, "flags", flags);
  json_object_set_new(e, "verdict", json_string(t->result == VS_ACCEPTABLE ? "acceptable" : "valid"));
  json_object_set_new(e, "params", params_json(c->group));
  json_t *inputs = json_object();
  for (int k = 0; k < t->n_inputs; k++) {
    const vs_tensor *in = &t->inputs[k];
    json_t *d = json_object();
    json_object_set_new(d, "shape", shape_json(in));
    json_object_set_new(d, "dtype", json_string(in->dtype == VS_F64 ? "float64" : "float32"));
    json_object_set_new(inputs, in->name, d);
  }
  json_object_set_new(e, "inputs", inputs);
  json_t *outputs = json_object();
  for (int o = 0; o < t->outputs.count; o++) {
    const vs_tensor *out = &t->outputs.items[o].expected;
    json_t *d = json_object();
    json_object_set_new(d, "shape", shape_json(out));
    json_object_set_new(outputs, out->name, d);
  }
  json_object_set_new(e, "outputs", outputs);
  return e;
}

static bool dir_is_empty(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return true;
  struct dirent *e;
  bool empty = true;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  closedir(d);
  return empty;
}

/* The project's one folder maker: a link at DIR/in is refused. */
static bool make_dir(const char *path, char *err, size_t errlen) {
  return fileio_make_dir(path, err, errlen) == INFINI_OK;
}

/* DIR and any missing parent (mkdir -p), each through make_dir. */
bool cf_make_dirs(const char *path, char *err, size_t errlen) {
  char part[PATH_MAX];
  if (snprintf(part, sizeof part, "%s", path) >= (int)sizeof part) {
    snprintf(err, errlen, "%.64s...: path too long", path);
    return false;
  }
  for (char *p = part + 1; *p; p++)
    if (*p == '/' && p[-1] != '/') {
      *p = '\0';
      struct stat st;
      const bool there = stat(part, &st) == 0 && S_ISDIR(st.st_mode);
      if (!there && !make_dir(part, err, errlen))
        return false;
      *p = '/';
    }
  return make_dir(path, err, errlen);
}

/* export --force over an earlier export: remove the outputs its index
 * names and those this export will name, so that no stale output can be
 * judged as the implementation's (regular files only; links are left,
 * and will be refused by the reader). */
static void remove_outputs(const char *dir, const cf_case *cases, size_t n) {
  char path[PATH_MAX], rel[PATH_MAX], err[2 * PATH_MAX + 32];
  json_error_t je;
  if (join(path, sizeof path, dir, "index.json", err, sizeof err)) {
    json_t *old = json_load_file(path, 0, &je);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(old, "cases"), i, e) {
      const char *key;
      json_t *out;
      json_object_foreach(json_object_get(e, "outputs"), key, out) {
        const char *file = json_string_value(json_object_get(out, "file"));
        struct stat st;
        if (file && strncmp(file, "out/", 4) == 0 && !strstr(file, "..") &&
            join(path, sizeof path, dir, file, err, sizeof err) && lstat(path, &st) == 0 &&
            S_ISREG(st.st_mode))
          unlink(path);
      }
    }
    json_decref(old);
  }
  for (size_t i = 0; i < n; i++)
    for (int o = 0; o < cases[i].test->outputs.count; o++) {
      struct stat st;
      tensor_path(&cases[i], "out", cases[i].test->outputs.items[o].expected.name, rel,
                  sizeof rel);
      if (join(path, sizeof path, dir, rel, err, sizeof err) && lstat(path, &st) == 0 &&
          S_ISREG(st.st_mode))
        unlink(path);
    }
}

/* The identity of the vectors the cases come from: each manifest's file
 * name and the SHA-256 of its bytes (which hold every tensor's SHA-256,
 * checked when the tensor is loaded). */
static json_t *manifest_digests(const cf_case *cases, size_t n) {
  json_t *d = json_object();
  for (size_t i = 0; i < n; i++)
    json_object_set_new(d, cases[i].set->file,
                        json_string(cases[i].set->sha256));
  return d;
}

/* The judge comes from the exporter, never from the folder under test:
 * check judges against --vectors or the default set, and refuses when the
 * index says the inputs were exported from other vectors (a forged copy
 * with huge tolerances, or simply another version). */
static bool same_vectors(const cf_vectors *v, json_t *root, const char *dir,
                         char *err, size_t errlen) {
  json_t *d = json_object_get(root, "vector_manifests");
  if (!json_is_object(d) || json_object_size(d) == 0) {
    snprintf(err, errlen, "%s/index.json records no vector digests (written by "
             "an older infini-conform export): export again", dir);
    return false;
  }
  const char *file;
  json_t *hex;
  json_object_foreach(d, file, hex) {
    const vs_set *set = NULL;
    for (int s = 0; s < v->n_sets && !set; s++)
      if (strcmp(v->sets[s].file, file) == 0)
        set = &v->sets[s];
    const char *want = json_string_value(hex);
    if (!set || !want || strcmp(want, set->sha256) != 0) {
      snprintf(err, errlen, "%s/index.json: exported from vectors whose %.80s "
               "has sha256 %.64s, but %s %s; check with --vectors naming the "
               "vectors it was exported from", dir, file, want ? want : "(none)",
               v->dir, set ? "has another" : "has no such manifest");
      fileio_one_line(err);
      return false;
    }
  }
  return true;
}

bool cf_export_dir_ok(const char *dir, bool force, char *err, size_t errlen) {
  struct stat st;
  if (stat(dir, &st) != 0)
    return true;
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s exists and is not a directory", dir);
    return false;
  }
  if (!force && !dir_is_empty(dir)) {
    snprintf(err, errlen, "%s is not empty (choose a new directory, or --force)", dir);
    return false;
  }
  return true;
}

bool cf_export(const cf_vectors *v, const cf_case *cases, size_t n, const char *dir,
               bool force, char *err, size_t errlen) {
  if (!cf_export_dir_ok(dir, force, err, errlen))
    return false;
  char path[PATH_MAX], rel[PATH_MAX];
  if (force)
    remove_outputs(dir, cases, n);
  if (!cf_make_dirs(dir, err, errlen) || !join(path, sizeof path, dir, "in", err, errlen) ||
      !make_dir(path, err, errlen) || !join(path, sizeof path, dir, "out", err, errlen) ||
      !make_dir(path, err, errlen))
    return false;

  json_t *root = json_object();
  json_object_set_new(root, "format", json_string(INDEX_FORMAT));
  json_object_set_new(root, "format_version", json_integer(INDEX_VERSION));
  json_object_set_new(root, "spec_version", json_string(INFINI_SPEC_VERSION));
  json_object_set_new(root, "tool", json_string("infini-conform"));
  json_object_set_new(root, "tool_version", json_string(infini_version()));
  json_object_set_new(root, "vectors", json_string(v->dir));
  json_object_set_new(root, "vector_manifests", manifest_digests(cases, n));
  json_object_set_new(root, "output_dtype", json_string("float32 or float64, little-endian, C order"));
  json_t *list = json_array();
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    const cf_case *c = &cases[i];
    const vs_test *t = c->test;
    json_t *e = cf_case_json(c);
    json_t *inputs = json_object_get(e, "inputs");
    for (int k = 0; k < t->n_inputs && ok; k++) {
      const vs_tensor *in = &t->inputs[k];
      tensor_path(c, "in", in->name, rel, sizeof rel);
      ok = join(path, sizeof path, dir, rel, err, errlen) &&
           cf_npy_write(path, in->dtype, in->ndim, in->dims, in->data, err, errlen);
      json_object_set_new(json_object_get(inputs, in->name), "file", json_string(rel));
    }
    json_t *outputs = json_object_get(e, "outputs");
    for (int o = 0; o < t->outputs.count; o++) {
      const vs_tensor *out = &t->outputs.items[o].expected;
      tensor_path(c, "out", out->name, rel, sizeof rel);
      json_object_set_new(json_object_get(outputs, out->name), "file", json_string(rel));
    }
    json_array_append_new(list, e);
  }
  json_object_set_new(root, "cases", list);
  if (ok) {
    cf_atomic a;
    ok = join(path, sizeof path, dir, "index.json", err, errlen) &&
         cf_atomic_open(&a, path, true, err, errlen);
    if (ok) {
      if (json_dumpf(root, a.f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
          fputc('\n', a.f) == EOF) {
        snprintf(err, errlen, "cannot write %s", path);
        cf_atomic_abort(&a);
        ok = false;
      } else {
        ok = cf_atomic_commit(&a, err, errlen);
      }
    }
  }
  json_decref(root);
  return ok;
}

static json_t *load_index(const char *dir, char *err, size_t errlen) {
  char path[PATH_MAX];
  json_error_t je;
  if (!join(path, sizeof path, dir, "index.json", err, errlen))
    return NULL;
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "%s: no index (%s); run 'infini-conform export %s' first",
             dir, strerror(errno), dir);
    return NULL;
  }
  /* The folder under test is written by the implementation: its index is
   * read with the one reader, not through a link, and capped. */
  unsigned char *bytes;
  size_t len;
  if (fileio_read_all_flags(path, FILEIO_NOFOLLOW, CF_INDEX_MAX, &bytes, &len,
                            err, errlen) != INFINI_OK)
    return NULL;
  json_t *root = json_loadb((const char *)bytes, len, 0, &je);
  free(bytes);
  if (!root) {
    snprintf(err, errlen, "%s:%d: not valid JSON: %s", path, je.line,
             fileio_one_line(je.text));
    return NULL;
  }
  const char *format = json_string_value(json_object_get(root, "format"));
  json_int_t version = json_integer_value(json_object_get(root, "format_version"));
  if (!format || strcmp(format, INDEX_FORMAT) != 0 || version != INDEX_VERSION ||
      !json_is_array(json_object_get(root, "cases"))) {
    snprintf(err, errlen, "%s is not an index written by infini-conform export "
             "(format %s version %d)", path, INDEX_FORMAT, INDEX_VERSION);
    json_decref(root);
    return NULL;
  }
  return root;
}

static void shape_text(int ndim, const size_t *dims, char *out, size_t len) {
  size_t used = 0;
  used += (size_t)snprintf(out, len, "(");
  for (int d = 0; d < ndim && used < len; d++)
    used += (size_t)snprintf(out + used, len - used, "%zu%s", dims[d],
                             d + 1 < ndim || ndim == 1 ? (ndim == 1 ? "," : ", ") : "");
  if (used < len)
    snprintf(out + used, len - used, ")");
}

/* Is file a older than file b (modification times, to the nanosecond)? */
static bool older(const struct stat *a, const struct stat *b) {
  return a->st_mtim.tv_sec < b->st_mtim.tv_sec ||
         (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec < b->st_mtim.tv_nsec);
}

/* Read the outputs of a case from dir into got; an output older than the
 * export (index.json, *exported) is stale and counts as missing. */
static void read_outputs(const cf_case *c, const char *dir, const struct stat *exported,
                         cf_outputs *got) {
  const char *const *names;
  int n_names = vs_op_outputs(c->group->op, &names);
  got->n = 0;
  for (int k = 0; k < n_names; k++) {
    const vs_output *want = cf_find_output(&c->test->outputs, names[k]);
    if (!want)
      continue;
    char rel[PATH_MAX], path[PATH_MAX], why[2 * PATH_MAX];
    tensor_path(c, "out", names[k], rel, sizeof rel);
    int i = got->n++;
    got->names[i] = names[k];
    got->data[i] = NULL;
    got->count[i] = 0;
    got->missing[i] = NULL;
    int ndim;
    size_t dims[VS_MAX_DIMS], count;
    float *data;
    struct stat st;
    if (join(path, sizeof path, dir, rel, why, sizeof why) && lstat(path, &st) == 0 &&
        S_ISREG(st.st_mode) && older(&st, exported)) {
      snprintf(why, sizeof why, "%s is older than the export (index.json): a stale "
               "output, not written by the implementation since", rel);
      got->missing[i] = cf_xstrdup(why);
      continue;
    }
    if (!join(path, sizeof path, dir, rel, why, sizeof why) ||
        !cf_npy_read_float(path, vs_tensor_count(&want->expected), &ndim, dims, &data,
                           &count, why, sizeof why)) {
      got->missing[i] = cf_xstrdup(why);
      continue;
    }
    bool same = ndim == want->expected.ndim;
    for (int d = 0; same && d < ndim; d++)
      same = dims[d] == want->expected.dims[d];
    if (!same) {
      char have[128], need[128];
      shape_text(ndim, dims, have, sizeof have);
      shape_text(want->expected.ndim, want->expected.dims, need, sizeof need);
      snprintf(why, sizeof why, "%s has shape %s, expected %s", rel, have, need);
      got->missing[i] = cf_xstrdup(why);
      free(data);
      continue;
    }
    got->data[i] = data;
    got->count[i] = count;
  }
}

/* Does the index list (file, tcid) before entry idx? */
static bool listed_before(json_t *list, size_t idx, const char *file, int tcid) {
  for (size_t j = 0; j < idx; j++) {
    json_t *e = json_array_get(list, j);
    const char *f = json_string_value(json_object_get(e, "file"));
    if (f && strcmp(f, file) == 0 && json_integer_value(json_object_get(e, "tcId")) == tcid)
      return true;
  }
  return false;
}

bool cf_check(const cf_vectors *v, cf_case *cases, size_t n, const char *dir,
              tol_profile profile, const cf_diagnose_policy *diagnose, cf_report *rep,
              const char *name,
              char *err, size_t errlen) {
  json_t *root = load_index(dir, err, errlen);
  if (!root)
    return false;
  if (!same_vectors(v, root, dir, err, errlen)) {
    json_decref(root);
    return false;
  }
  char ipath[PATH_MAX];
  struct stat exported;
  if (!join(ipath, sizeof ipath, dir, "index.json", err, errlen) || stat(ipath, &exported) != 0) {
    json_decref(root);
    return false;
  }
  json_t *list = json_object_get(root, "cases");
  bool *judged = cf_xcalloc(n ? n : 1, sizeof *judged);
  size_t idx;
  json_t *e;
  bool ok = true;
  json_array_foreach(list, idx, e) {
    const char *file = json_string_value(json_object_get(e, "file"));
    const char *version = json_string_value(json_object_get(e, "version"));
    json_t *id = json_object_get(e, "tcId");
    if (!file || !version || !json_is_integer(id)) {
      snprintf(err, errlen, "%s/index.json: case %zu lacks file, version or tcId", dir, idx);
      ok = false;
      break;
    }
    int tcid = (int)json_integer_value(id);
    if (listed_before(list, idx, file, tcid)) {
      snprintf(err, errlen, "%s/index.json lists %s:%d twice: the index is not the one "
               "export wrote; export again", dir, file, tcid);
      ok = false;
      break;
    }
    cf_case *c = NULL;
    for (size_t i = 0; i < n && !c; i++)
      if (cases[i].test->id == tcid && strcmp(cases[i].set->file, file) == 0)
        c = &cases[i], judged[i] = true;
    if (!c) {
      /* Not selected; but it must exist in the vectors at all. */
      bool exists = false;
      for (int s = 0; s < v->n_sets && !exists; s++) {
        if (strcmp(v->sets[s].file, file) != 0)
          continue;
        for (int g = 0; g < v->sets[s].n_groups && !exists; g++)
          for (int t = 0; t < v->sets[s].groups[g].n_tests && !exists; t++)
            exists = v->sets[s].groups[g].tests[t].id == tcid;
      }
      if (!exists) {
        snprintf(err, errlen, "%s/index.json names %s:%d, which the vectors in %s do "
                 "not have", dir, file, tcid, v->dir);
        ok = false;
        break;
      }
      continue;
    }
    if (strcmp(version, cf_set_version(c->set)) != 0) {
      snprintf(err, errlen, "%s/index.json: %s:%d was exported from version %s, the "
               "vectors in %s are version %s; export again", dir, file, tcid, version,
               v->dir, cf_set_version(c->set));
      ok = false;
      break;
    }
    cf_result *r = cf_report_add(rep);
    r->backend = name;
    r->c = c;
    if (cf_case_skip_reason(c)) {
      r->outcome = CF_SKIP;
      r->message = cf_xstrdup(cf_case_skip_reason(c));
      continue;
    }
    cf_outputs got = {0};
    read_outputs(c, dir, &exported, &got);
    cf_judge(c, profile, &got, r);
    if (r->failed && cf_should_diagnose(diagnose, c))
      r->diagnosis = cf_diagnose_names(c, profile, &got, &r->diag);
    cf_outputs_free(&got);
    if (c->xfail)
      r->outcome = r->failed ? CF_XFAIL : CF_XPASS;
    else
      r->outcome = r->failed ? CF_FAIL : CF_PASS;
  }
  json_decref(root);
  if (ok && rep->n == 0) {
    snprintf(err, errlen, "no case of %s/index.json is selected", dir);
    ok = false;
  }
  /* Every selected case must have been exported: a case removed from the
   * index cannot pass by absence; a partial implementation claims its
   * subset with --op/--id/--flag on check. */
  size_t missing = 0, first = 0;
  for (size_t i = 0; ok && i < n; i++)
    if (!judged[i] && !cf_case_skip_reason(&cases[i]) && missing++ == 0)
      first = i;
  if (ok && missing) {
    snprintf(err, errlen, "%s/index.json lacks %zu of the %zu selected cases (first: %s:%d); "
             "export them, or claim the subset you implement with --op, --id or --flag on "
             "check", dir, missing, n, cases[first].set->file, cases[first].test->id);
    ok = false;
  }
  free(judged);
  return ok;
}

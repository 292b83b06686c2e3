/*
 * vectors/test_manifest.c - the manifest loader and writer (vecset.c): a
 * small set written with vs_set_save / vs_tensor_save loads back; each
 * kind of defect (missing field, wrong type, unknown operator, count
 * mismatch, truncated JSON, wrong sha256, dtype or shape, unexplained flag,
 * acceptable test without alternatives, duplicate tcId) is rejected with
 * one line naming it.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "tests/tap.h"
#include "vectors/vecset.h"

static char dir[256];

static void tensor(vs_tensor *t, const char *name, const char *file, vs_dtype dt,
                   int ndim, size_t d0, size_t d1, const void *data) {
  char err[256];
  memset(t, 0, sizeof *t);
  t->name = strdup(name);
  t->file = strdup(file);
  t->dtype = dt;
  t->ndim = ndim;
  t->dims[0] = d0;
  t->dims[1] = d1;
  if (!vs_tensor_save(dir, t, data, err, sizeof err))
    tap_diag("cannot save %s: %s", file, err);
}

/* Write the good set: retrieve, one group, one test. */
static bool write_good(const char *path) {
  static const float q[6] = {1, 0, -1, 0.5f, 2, -2}, m[6] = {1, 2, 3, 4, 5, 6},
                     z[3] = {1, 2, 3};
  static const double a[4] = {0.1, 0.2, 0.3, 0.4}, mag[4] = {1, 1, 1, 1},
                      cond[4] = {2, 2, 2, 2};
  vs_set set;
  vs_group g;
  vs_test t;
  char err[256];
  memset(&set, 0, sizeof set);
  memset(&g, 0, sizeof g);
  memset(&t, 0, sizeof t);
  set.spec_version = strdup(INFINI_SPEC_VERSION);
  set.generator_version = strdup("test");
  set.groups = &g;
  set.n_groups = 1;
  g.op = VS_RETRIEVE;
  g.n = 2, g.d_key = 3, g.d_value = 2, g.n_heads = g.n_kv_heads = 1;
  g.eps = 0.25f;
  g.ld_in[0] = 5;
  g.regime = strdup("typical");
  g.tests = &t;
  g.n_tests = 1;
  t.id = 7;
  t.seed = 0x0123456789abcdefu;
  t.comment = strdup("a test");
  t.flags[t.n_flags++] = strdup("typical");
  t.n_inputs = 3;
  tensor(&t.inputs[0], "q", "data/q.npy", VS_F32, 2, 2, 3, q);
  tensor(&t.inputs[1], "m", "data/m.npy", VS_F32, 2, 3, 2, m);
  tensor(&t.inputs[2], "z", "data/z.npy", VS_F32, 1, 3, 0, z);
  t.outputs.count = 1;
  vs_output *o = &t.outputs.items[0];
  tensor(&o->expected, "a", "data/a.npy", VS_F64, 2, 2, 2, a);
  o->mag = calloc(1, sizeof *o->mag);
  o->cond = calloc(1, sizeof *o->cond);
  tensor(o->mag, "a.mag", "data/a.mag.npy", VS_F64, 2, 2, 2, mag);
  tensor(o->cond, "a.cond", "data/a.cond.npy", VS_F64, 2, 2, 2, cond);
  snprintf(o->tol.model, sizeof o->tol.model, "gauge");
  o->tol.c_arith = 8;
  o->tol.c_input = 1;
  bool ok = vs_set_save(&set, path, err, sizeof err);
  if (!ok)
    tap_diag("%s", err);
  /* free what we allocated (vs_set_free would free the stack arrays) */
  for (int i = 0; i < 3; i++)
    free(t.inputs[i].name), free(t.inputs[i].file);
  free(o->expected.name), free(o->expected.file);
  free(o->mag->name), free(o->mag->file), free(o->cond->name), free(o->cond->file);
  free(o->mag), free(o->cond);
  free(t.comment), free(t.flags[0]), free(g.regime);
  free(set.spec_version), free(set.generator_version);
  return ok;
}

static json_t *good_json;

/* Apply an edit to a copy of the good manifest, save it, expect the loader
 * (and, with tensors = true, the loading of the test's tensors) to fail
 * with a message containing needle. */
typedef void (*edit_fn)(json_t *root);

static void expect(edit_fn edit, bool tensors, const char *needle, const char *what) {
  char path[300], err[512] = "";
  vs_set set;
  json_t *root = json_deep_copy(good_json);
  edit(root);
  snprintf(path, sizeof path, "%s/bad.json", dir);
  json_dump_file(root, path, JSON_PRESERVE_ORDER);
  json_decref(root);
  bool ok = vs_set_load(path, &set, err, sizeof err);
  if (ok && tensors) {
    ok = vs_test_load(&set, &set.groups[0].tests[0], err, sizeof err);
    vs_set_free(&set);
  } else if (ok) {
    vs_set_free(&set);
  }
  tap_ok(!ok && strstr(err, needle) != NULL && !strchr(err, '\n'),
         "rejects %s (\"%s\")", what, err);
}

#define TEST0(r) json_array_get(json_object_get(json_array_get(json_object_get(r, "testGroups"), 0), "tests"), 0)
#define GROUP0(r) json_array_get(json_object_get(r, "testGroups"), 0)

static void e_no_count(json_t *r) { json_object_del(r, "numberOfTests"); }
static void e_count(json_t *r) { json_object_set_new(r, "numberOfTests", json_integer(2)); }
static void e_version_type(json_t *r) { json_object_set_new(r, "schemaVersion", json_string("1")); }
static void e_version(json_t *r) { json_object_set_new(r, "schemaVersion", json_integer(3)); }
static void e_schema(json_t *r) { json_object_set_new(r, "schema", json_string("wycheproof")); }
static void e_op(json_t *r) { json_object_set_new(r, "operator", json_string("softmax")); }
static void e_group_op(json_t *r) { json_object_set_new(GROUP0(r), "operator", json_string("mix")); }
static void e_no_tcid(json_t *r) { json_object_del(TEST0(r), "tcId"); }
static void e_tcid_type(json_t *r) { json_object_set_new(TEST0(r), "tcId", json_string("7")); }
static void e_flags_type(json_t *r) { json_object_set_new(TEST0(r), "flags", json_string("typical")); }
static void e_flag_note(json_t *r) {
  json_array_append_new(json_object_get(TEST0(r), "flags"), json_string("mystery"));
}
static void e_result(json_t *r) { json_object_set_new(TEST0(r), "result", json_string("invalid")); }
static void e_acceptable(json_t *r) { json_object_set_new(TEST0(r), "result", json_string("acceptable")); }
static void e_no_input(json_t *r) { json_object_del(json_object_get(TEST0(r), "inputs"), "z"); }
static void e_no_mag(json_t *r) { json_object_del(json_object_get(TEST0(r), "outputs"), "a.mag"); }
static void e_shape(json_t *r) {
  json_t *q = json_object_get(json_object_get(TEST0(r), "inputs"), "q");
  json_array_set_new(json_object_get(q, "shape"), 0, json_integer(3));
}
static void e_dtype(json_t *r) {
  json_t *q = json_object_get(json_object_get(TEST0(r), "inputs"), "q");
  json_object_set_new(q, "dtype", json_string("<f8"));
}
static void e_sha(json_t *r) {
  json_t *q = json_object_get(json_object_get(TEST0(r), "inputs"), "q");
  json_object_set_new(q, "sha256", json_string("0000000000000000000000000000000000000000000000000000000000000000"));
}
static void e_sha_form(json_t *r) {
  json_t *q = json_object_get(json_object_get(TEST0(r), "inputs"), "q");
  json_object_set_new(q, "sha256", json_string("XYZ"));
}
static void e_path(json_t *r) {
  json_t *q = json_object_get(json_object_get(TEST0(r), "inputs"), "q");
  json_object_set_new(q, "file", json_string("../../etc/passwd"));
}
static void e_missing_file(json_t *r) {
  json_t *q = json_object_get(json_object_get(TEST0(r), "inputs"), "q");
  json_object_set_new(q, "file", json_string("data/none.npy"));
}
static void e_eps(json_t *r) {
  json_object_set_new(json_object_get(GROUP0(r), "params"), "eps", json_real(0.25));
}
static void e_eps_neg(json_t *r) {
  json_object_set_new(json_object_get(GROUP0(r), "params"), "eps", json_string("-0x1p-2"));
}
static void e_stride(json_t *r) {
  json_object_set_new(json_object_get(GROUP0(r), "strides"), "q", json_integer(2));
}
static void e_tol(json_t *r) {
  json_object_set_new(json_object_get(json_object_get(GROUP0(r), "tolerance"), "a"),
                      "model", json_string("rtol"));
}
static void e_size(json_t *r) {
  json_object_set_new(json_object_get(GROUP0(r), "shape"), "n", json_integer(0));
}
static void e_dup(json_t *r) {
  json_t *tests = json_object_get(GROUP0(r), "tests");
  json_array_append_new(tests, json_deep_copy(json_array_get(tests, 0)));
  json_object_set_new(r, "numberOfTests", json_integer(2));
}

int main(void) {
  char path[300], err[512];
  vs_set set;
  snprintf(dir, sizeof dir, "test-manifest.tmp");
  mkdir(dir, 0777);
  snprintf(path, sizeof path, "%s/data", dir);
  mkdir(path, 0777);
  snprintf(path, sizeof path, "%s/retrieve.json", dir);
  tap_ok(write_good(path), "vs_set_save writes a manifest");

  bool ok = vs_set_load(path, &set, err, sizeof err);
  tap_ok(ok, "the good manifest loads (%s)", ok ? "ok" : err);
  if (ok) {
    vs_group *g = &set.groups[0];
    vs_test *t = &g->tests[0];
    tap_ok(set.number_of_tests == 1 && g->op == VS_RETRIEVE && g->n == 2 &&
               g->d_key == 3 && g->d_value == 2 && g->eps == 0.25f && g->ld_in[0] == 5 &&
               g->ld_in[1] == 0 && t->id == 7 && t->seed == 0x0123456789abcdefu &&
               t->n_flags == 1 && t->outputs.count == 1 &&
               !strcmp(t->outputs.items[0].tol.model, "gauge") &&
               t->outputs.items[0].tol.c_arith == 8,
           "fields read back");
    ok = vs_test_load(&set, t, err, sizeof err);
    tap_ok(ok && ((float *)t->inputs[0].data)[2] == -1 &&
               ((double *)t->outputs.items[0].expected.data)[3] == 0.4 &&
               ((double *)t->outputs.items[0].cond->data)[0] == 2,
           "tensors load and hash-check (%s)", ok ? "ok" : err);
    vs_set_free(&set);
  }
  {
    json_error_t je;
    good_json = json_load_file(path, 0, &je);
    const char *keys[] = {"schema", "schemaVersion", "specVersion", "generatorVersion",
                          "operator", "numberOfTests", "notes", "testGroups"};
    size_t i = 0;
    const char *key;
    json_t *val;
    bool order = true;
    json_object_foreach(good_json, key, val) order = order && i < 8 && !strcmp(key, keys[i++]);
    tap_ok(good_json && order, "top-level keys in the documented order");
  }
  {
    char buf[40];
    double x;
    vs_format_hexfloat(0.70710677f, buf);
    bool a = !strcmp(buf, "0x1.6a09e6p-1") && vs_parse_hexfloat(buf, &x) && (float)x == 0.70710677f;
    vs_format_hexfloat(-INFINITY, buf);
    bool b = !strcmp(buf, "-inf") && vs_parse_hexfloat(buf, &x) && x == -INFINITY;
    vs_format_hexfloat(0x1p-149, buf);
    bool c = !strcmp(buf, "0x1p-149") && vs_parse_hexfloat(buf, &x) && x == 0x1p-149;
    vs_format_hexfloat(0.0, buf);
    bool d = !strcmp(buf, "0x0p+0") && !vs_parse_hexfloat("0.5", &x);
    tap_ok(a && b && c && d, "hex-float parameters: canonical text, exact round trip");
  }

  expect(e_no_count, false, "missing \"numberOfTests\"", "a missing top-level field");
  expect(e_count, false, "numberOfTests is 2 but the groups hold 1", "a test count mismatch");
  expect(e_version_type, false, "\"schemaVersion\" is not an integer", "a wrongly typed field");
  expect(e_version, false, "schemaVersion 3 is not supported", "an unknown schema version");
  expect(e_schema, false, "schema \"wycheproof\"", "another schema name");
  expect(e_op, false, "unknown operator \"softmax\"", "an unknown operator");
  expect(e_group_op, false, "operator \"mix\" in a manifest of operator \"retrieve\"",
         "a group of another operator");
  expect(e_no_tcid, false, "missing \"tcId\"", "a test without tcId");
  expect(e_tcid_type, false, "\"tcId\" is not an integer", "a string tcId");
  expect(e_flags_type, false, "\"flags\" is not an array", "flags that are not an array");
  expect(e_flag_note, false, "flag \"mystery\" is not explained", "a flag without a note");
  expect(e_result, false, "result \"invalid\"", "an unknown result");
  expect(e_acceptable, false, "acceptable test without \"alternatives\"",
         "an acceptable test without alternatives");
  expect(e_no_input, false, "2 inputs, operator retrieve has 3", "a missing input");
  expect(e_no_mag, false, "missing output \"a.mag\"", "a missing aux array");
  expect(e_shape, false, "shape[0] = 3", "a shape that disagrees with the group");
  expect(e_dtype, false, "dtype \"<f8\", expected \"<f4\"", "a wrong dtype");
  expect(e_sha_form, false, "sha256 is not 64 lowercase hex digits", "a malformed sha256");
  expect(e_sha, true, "does not match the manifest", "a wrong sha256");
  expect(e_path, false, "not a relative path inside the set", "a path escaping the set");
  expect(e_missing_file, true, "data/none.npy", "a missing tensor file");
  expect(e_eps, false, "\"eps\" is not a string", "a float parameter not in hex-float form");
  expect(e_eps_neg, false, "eps is not finite and >= 0", "a negative eps");
  expect(e_stride, false, "stride of \"q\" is not an integer >= its row width 3",
         "a stride below the row width");
  expect(e_tol, false, "tolerance model \"rtol\"", "an unknown tolerance model");
  expect(e_size, false, "\"n\" = 0 is not a size", "a zero size");
  expect(e_dup, false, "tcId 7 appears twice", "a duplicate tcId");

  /* truncated JSON */
  {
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
      fclose(f);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    f = fopen(path, "wb");
    if (f) {
      fwrite(buf, 1, n / 2, f);
      fclose(f);
    }
    ok = vs_set_load(path, &set, err, sizeof err);
    tap_ok(!ok && strstr(err, "invalid JSON"), "rejects truncated JSON (\"%s\")", err);
  }
  ok = vs_set_load("test-manifest.tmp/none.json", &set, err, sizeof err);
  tap_ok(!ok && strstr(err, "none.json"), "a missing manifest: error names it");
  json_decref(good_json);
  {
    const char *files[] = {"data/q.npy", "data/m.npy", "data/z.npy", "data/a.npy",
                           "data/a.mag.npy", "data/a.cond.npy", "retrieve.json",
                           "bad.json", "data", ""};
    for (int i = 0; i < 10; i++) {
      snprintf(path, sizeof path, "%s/%s", dir, files[i]);
      remove(path);
    }
  }
  return tap_done();
}

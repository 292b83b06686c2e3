/*
 * conformance/model/model_files.c - export and check a whole model through
 * the file workflow (model_files.h, docs/conformance.md "Checking a whole
 * model").
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conformance/conform.h"
#include "conformance/catalogue.h"
#include "conformance/model/golden.h"
#include "conformance/model/model_files.h"
#include "src/fileio.h"
#include "vectors/npy.h"
#include "vectors/sha256.h"

#define INDEX_FORMAT "infini-conform-export"
#define INDEX_VERSION 1

/* ---- where things are ---------------------------------------------------- */

/* The export's files of preset p, relative to the export folder. They are
 * computed, never taken from the index: the folder under test cannot point
 * the judge at other files. */
static void rel_path(const char *preset, const char *file, char *out, size_t len) {
  snprintf(out, len, "model/%s/%s", preset, file);
}

static bool join(char *out, size_t len, const char *dir, const char *rel, char *err,
                 size_t errlen) {
  if ((size_t)snprintf(out, len, "%s/%s", dir, rel) >= len) {
    snprintf(err, errlen, "%.64s...: path too long", dir);
    return false;
  }
  return true;
}

/* ---- profiles ------------------------------------------------------------ */

bool mc_profile_units(tol_profile p, double *u_t, double *u_o, char *err, size_t errlen) {
  *u_t = *u_o = 0.0;
  switch (p) {
  case TOL_FP32:
    return true;
  case TOL_TF32: /* tensor cores read float32 factors with 10 mantissa bits */
    *u_t = 0x1p-11;
    return true;
  case TOL_BF16_FP32: /* autocast: bf16 factors and results, float32 sums */
    *u_t = *u_o = 0x1p-8;
    return true;
  default:
    snprintf(err, errlen, "a model is judged under fp32, tf32 or bf16-fp32, not %s "
             "(docs/tolerances.md 11.5)", tol_profile_name(p));
    return false;
  }
}

/* ---- the golden set's identity ------------------------------------------- */

static bool manifest_sha256(const char *mvdir, const char *preset, char hex[65], char *err,
                            size_t errlen) {
  char path[PATH_MAX];
  unsigned char *bytes;
  size_t len;
  snprintf(path, sizeof path, "%s/%s.json", mvdir, preset);
  if (fileio_read_all(path, VS_MANIFEST_MAX, &bytes, &len, err, errlen) != INFINI_OK)
    return false;
  vs_sha256_hex(bytes, len, hex);
  free(bytes);
  return true;
}

/* The presets of list: "all", or NAME,NAME (at most n_max). */
static size_t parse_list(const char *list, const mg_preset **out, size_t n_max, char *err,
                         size_t errlen) {
  size_t n_all, n = 0;
  const mg_preset *all = mg_presets(&n_all);
  if (strcmp(list, "all") == 0) {
    for (size_t i = 0; i < n_all && n < n_max; i++)
      out[n++] = &all[i];
    return n;
  }
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    const mg_preset *p = mg_preset_find(tok);
    if (!p) {
      cf_buf names = {0};
      for (size_t i = 0; i < n_all; i++)
        cf_buf_printf(&names, "%s%s", i ? ", " : "", all[i].name);
      char *text = cf_buf_take(&names);
      snprintf(err, errlen, "no model preset named '%.64s' (the presets: %s, or all)", tok,
               text);
      free(text);
      return 0;
    }
    for (size_t i = 0; i < n; i++)
      if (out[i] == p) {
        snprintf(err, errlen, "model preset %s named twice", p->name);
        return 0;
      }
    if (n == n_max) {
      snprintf(err, errlen, "at most %zu model presets", n_max);
      return 0;
    }
    out[n++] = p;
  }
  if (n == 0)
    snprintf(err, errlen, "--model needs a preset name or all");
  return n;
}

/* ---- export -------------------------------------------------------------- */

static bool make_dirs(const char *dir, const char *preset, char *err, size_t errlen) {
  char path[PATH_MAX];
  const char *parts[] = {"/model", "/model/%s", "/model/%s/out"};
  if (!cf_make_dirs(dir, err, errlen))
    return false;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    char rel[256];
    snprintf(rel, sizeof rel, parts[i], preset);
    snprintf(path, sizeof path, "%s%s", dir, rel);
    struct stat st; /* a link there is refused by the folder maker */
    const bool real_dir = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
    if (!real_dir && fileio_make_dir(path, err, errlen) != INFINI_OK)
      return false;
  }
  return true;
}

/* export --force: the outputs of an earlier export of the same preset go,
 * so none can be judged as the implementation's (regular files only). */
static void remove_old_outputs(const char *dir, const char *preset) {
  static const char *const outs[] = {"out/logits.npy", "out/hidden.npy"};
  for (size_t i = 0; i < 2; i++) {
    char rel[256], path[PATH_MAX];
    struct stat st;
    rel_path(preset, outs[i], rel, sizeof rel);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
      unlink(path);
  }
}

static json_t *shape(int n, const size_t *dims) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(a, json_integer((json_int_t)dims[i]));
  return a;
}

/* One preset into dir/model/<name>/ and its entry of the index. */
static json_t *export_one(const char *mvdir, const mg_preset *p, const char *dir, char *err,
                          size_t errlen) {
  mg_set s;
  char msha[65], wsha[65], tmp[PATH_MAX], path[PATH_MAX], rel[256];
  if (!manifest_sha256(mvdir, p->name, msha, err, errlen) ||
      !mg_set_load(mvdir, p, &s, err, errlen))
    return NULL;
  json_t *e = NULL;
  const infini_model_config *c = &s.config;
  const size_t T = (size_t)s.tokens, d_tok[1] = {T}, d_log[2] = {T, (size_t)c->vocab_size},
               d_hid[3] = {(size_t)c->n_layers, T, (size_t)c->d_model};
  unsigned char *bytes = NULL;
  size_t len;
  snprintf(path, sizeof path, "%s/model/%s", dir, p->name);
  /* the weights, regenerated: the same bytes the golden set was made from */
  bool ok = mg_weights_write(p, path, tmp, sizeof tmp, wsha, err, errlen);
  if (ok && strcmp(wsha, s.weights_sha256) != 0) {
    snprintf(err, errlen, "%s: regenerated weights have sha256 %s, the manifest says %s",
             p->name, wsha, s.weights_sha256);
    remove(tmp);
    ok = false;
  }
  rel_path(p->name, "weights.safetensors", rel, sizeof rel);
  if (ok && (!join(path, sizeof path, dir, rel, err, errlen) || rename(tmp, path) != 0)) {
    if (!err[0])
      snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    remove(tmp);
    ok = false;
  }
  char trel[256];
  rel_path(p->name, "tokens.npy", trel, sizeof trel);
  ok = ok && npy_encode(NPY_I4, 1, d_tok, s.tok, &bytes, &len, err, errlen) &&
       join(path, sizeof path, dir, trel, err, errlen) &&
       npy_write_file(path, bytes, len, err, errlen);
  free(bytes);
  if (ok) {
    char lrel[256], hrel[256];
    rel_path(p->name, "out/logits.npy", lrel, sizeof lrel);
    rel_path(p->name, "out/hidden.npy", hrel, sizeof hrel);
    char manifest[96];
    snprintf(manifest, sizeof manifest, "%s.json", p->name);
    e = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I}", "model", p->name, "manifest",
                  manifest, "manifest_sha256", msha, "config", mg_config_json(c), "segments",
                  (json_int_t)s.segments, "tokens", (json_int_t)s.tokens, "segment_len",
                  (json_int_t)c->segment_len);
    json_object_set_new(
        e, "inputs",
        json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:o}}", "weights", "file", rel, "sha256", wsha,
                  "tokens", "file", trel, "dtype", "int32", "shape", shape(1, d_tok)));
    json_object_set_new(
        e, "outputs",
        json_pack("{s:{s:s, s:o, s:s, s:b}, s:{s:s, s:o, s:s, s:b}}", "logits", "file", lrel,
                  "shape", shape(2, d_log), "dtype", "float32 or float64", "required", 1,
                  "hidden", "file", hrel, "shape", shape(3, d_hid), "dtype",
                  "float32 or float64", "required", 0));
  }
  mg_set_free(&s);
  return e;
}

static bool write_index(const char *dir, json_t *root, char *err, size_t errlen) {
  char path[PATH_MAX];
  cf_atomic a;
  if (!join(path, sizeof path, dir, "index.json", err, errlen) ||
      !cf_atomic_open(&a, path, true, err, errlen))
    return false;
  if (json_dumpf(root, a.f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
      fputc('\n', a.f) == EOF) {
    snprintf(err, errlen, "cannot write %s", path);
    cf_atomic_abort(&a);
    return false;
  }
  return cf_atomic_commit(&a, err, errlen);
}

bool mc_export(const char *mvdir, const char *list, const char *dir, bool force,
               size_t *count, char *err, size_t errlen) {
  const mg_preset *presets[32];
  err[0] = 0;
  const size_t n = parse_list(list, presets, 32, err, errlen);
  *count = 0;
  if (n == 0)
    return false;
  if (!cf_export_dir_ok(dir, force, err, errlen))
    return false;
  json_t *root = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:[], s:[]}", "format",
                           INDEX_FORMAT, "format_version", INDEX_VERSION, "spec_version",
                           INFINI_SPEC_VERSION, "tool", "infini-conform", "tool_version",
                           infini_version(), "model_vectors", mvdir, "output_dtype",
                           "float32 or float64, little-endian, C order", "cases", "models");
  json_t *models = json_object_get(root, "models");
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    ok = make_dirs(dir, presets[i]->name, err, errlen);
    if (ok && force)
      remove_old_outputs(dir, presets[i]->name);
    json_t *e = ok ? export_one(mvdir, presets[i], dir, err, errlen) : NULL;
    ok = e != NULL;
    if (ok)
      json_array_append_new(models, e);
  }
  ok = ok && write_index(dir, root, err, errlen);
  json_decref(root);
  if (ok)
    *count = n;
  return ok;
}

/* ---- check --------------------------------------------------------------- */

static json_t *load_index(const char *dir, char *err, size_t errlen) {
  char path[PATH_MAX];
  unsigned char *bytes;
  size_t len;
  json_error_t je;
  if (!join(path, sizeof path, dir, "index.json", err, errlen) ||
      fileio_read_all_flags(path, FILEIO_NOFOLLOW, CF_INDEX_MAX, &bytes, &len, err,
                            errlen) != INFINI_OK)
    return NULL;
  json_t *root = json_loadb((const char *)bytes, len, 0, &je);
  free(bytes);
  if (!root)
    snprintf(err, errlen, "%s:%d: not valid JSON: %s", path, je.line,
             fileio_one_line(je.text));
  return root;
}

bool mc_is_model_export(const char *dir) {
  char err[512];
  json_t *root = load_index(dir, err, sizeof err);
  const bool yes = root && json_is_array(json_object_get(root, "models")) &&
                   json_array_size(json_object_get(root, "models")) > 0;
  json_decref(root);
  return yes;
}

static void shape_text(int ndim, const size_t *dims, char *out, size_t len) {
  size_t used = (size_t)snprintf(out, len, "[");
  for (int d = 0; d < ndim && used < len; d++)
    used += (size_t)snprintf(out + used, len - used, "%s%zu", d ? " x " : "", dims[d]);
  if (used < len)
    snprintf(out + used, len - used, "]");
}

static bool older(const struct stat *a, const struct stat *b) {
  return a->st_mtim.tv_sec < b->st_mtim.tv_sec ||
         (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec < b->st_mtim.tv_nsec);
}

/* Read one output of the export (float32 or float64 .npy of the given
 * shape). *absent: there is no file at all (not an error for hidden). */
static bool read_output(const char *dir, const char *preset, const char *file, int ndim,
                        const size_t *dims, const struct stat *exported, float **data,
                        bool *absent, char *why, size_t len) {
  char rel[256], path[PATH_MAX];
  struct stat st;
  size_t want = 1, count, got_dims[VS_MAX_DIMS];
  int got_ndim;
  *data = NULL;
  *absent = false;
  for (int d = 0; d < ndim; d++)
    want *= dims[d];
  rel_path(preset, file, rel, sizeof rel);
  if (!join(path, sizeof path, dir, rel, why, len))
    return false;
  if (lstat(path, &st) != 0) {
    *absent = errno == ENOENT;
    snprintf(why, len, "missing file %s (%s)", rel, strerror(errno));
    return false;
  }
  if (S_ISREG(st.st_mode) && older(&st, exported)) {
    snprintf(why, len, "%s is older than the export (index.json): a stale output, not "
             "written by the implementation since", rel);
    return false;
  }
  if (!cf_npy_read_float(path, want, &got_ndim, got_dims, data, &count, why, len))
    return false;
  bool same = got_ndim == ndim;
  for (int d = 0; same && d < ndim; d++)
    same = got_dims[d] == dims[d];
  if (!same) {
    char have[96], want_text[96];
    shape_text(got_ndim, got_dims, have, sizeof have);
    shape_text(ndim, dims, want_text, sizeof want_text);
    snprintf(why, len, "%s has shape %s, the index names %s", rel, have, want_text);
    free(*data);
    *data = NULL;
    return false;
  }
  return true;
}

/* Ratios of got against expected (either a golden set's floats or a
 * double model's run) for every segment and judged tensor. */
static void ratios_of(const mg_set *s, const double *tol, mg_view got_l, mg_view got_h,
                      mg_view exp_l, mg_view exp_h, bool hidden, double *ratios) {
  const infini_model_config *c = &s->config;
  const ptrdiff_t L = c->n_layers;
  for (ptrdiff_t seg = 0; seg < s->segments; seg++)
    for (ptrdiff_t t = 0; t <= L; t++) {
      double r = NAN;
      if (t == L || hidden) {
        const double e = t < L ? mg_seg_norm(c, t, seg, got_h, exp_h)
                               : mg_seg_norm(c, t, seg, got_l, exp_l);
        r = isnan(e) ? INFINITY : e / tol[seg * (L + 1) + t];
      }
      ratios[seg * (L + 1) + t] = r;
    }
}

static double worst_of(const double *ratios, size_t n) {
  double w = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(ratios[i]) && ratios[i] > w)
      w = ratios[i];
  return w;
}

/* Where it first went wrong (docs/conformance.md, "Checking a whole
 * model"): the first segment with a ratio above 1 and in it the first
 * tensor. With the hidden states, the input of that block (the previous
 * block's output, or the exact embedding) is within tolerance there, so
 * the error enters in that block; in the first segment the memory is
 * empty, so it is the block's own computation; later, the same block
 * passed every earlier segment, so what differs is the memory carried
 * into this one (its update at the end of the previous segment, or its
 * read). Without them only the segment is known. */
static char *locate(const mc_result *r) {
  cf_buf b = {0};
  const ptrdiff_t L = r->layers, s = r->fail_seg, t = r->fail_tensor;
  const double ratio = r->ratios[s * (L + 1) + t];
  cf_buf_printf(&b, "first exceeds the tolerance in segment %td of %td", s + 1, r->segments);
  if (!r->hidden) {
    cf_buf_printf(&b, " (logits, ratio %.3g); no hidden states were written, so the block "
                  "is not known", ratio);
    return cf_buf_take(&b);
  }
  if (t == L)
    cf_buf_printf(&b, ", in the logits (ratio %.3g) while every block's output is within "
                  "it: the error enters after the last block (final norm or LM head)", ratio);
  else if (s == 0)
    cf_buf_printf(&b, ", block %td of %td (ratio %.3g), whose input is within it: the error "
                  "enters in block %td (in segment 1, where a correct memory is still empty)",
                  t + 1, L, ratio, t + 1);
  else
    cf_buf_printf(&b, ", block %td of %td (ratio %.3g), whose input is within it; block %td "
                  "passed segments 1-%td: the error comes in through the memory carried into "
                  "segment %td (its update at the end of segment %td, or its read)",
                  t + 1, L, ratio, t + 1, s, s + 1, s);
  return cf_buf_take(&b);
}

/* The catalogue's model-level bugs, each computed by the double model and
 * judged like a golden set: named when the implementation is within
 * CF_DIAG_MATCH of it and the specification's ratio is CF_DIAG_CLEARER
 * times larger (the operators' rule, docs/mutants.md "Diagnosis"). */
static void diagnose(const mg_set *s, const infini_model *model, const double *tol,
                     mg_view got_l, mg_view got_h, mc_result *r) {
  const infini_model_config *c = &s->config;
  const ptrdiff_t T = s->tokens, L = c->n_layers;
  const size_t cells = (size_t)(s->segments * (L + 1));
  double *lg = malloc(sizeof(double) * (size_t)(T * c->vocab_size));
  double *hd = malloc(sizeof(double) * (size_t)(L * T * c->d_model));
  double *ratios = malloc(sizeof(double) * cells);
  r->closest_ratio = INFINITY;
  int best = -1;
  for (int id = 0; lg && hd && ratios && id < CAT_COUNT; id++) {
    const cat_entry *e = cat_get((cat_id)id);
    if (e->kind != CAT_BUG || !(e->ops & CAT_MODEL))
      continue;
    if (!mg_run_double(model, id, s->tok, T, lg, hd))
      continue;
    const mg_view el = {NULL, lg, T}, eh = {NULL, hd, T};
    ratios_of(s, tol, got_l, got_h, el, eh, r->hidden, ratios);
    const double w = worst_of(ratios, cells);
    if (w < r->closest_ratio)
      r->closest_ratio = w, best = id;
  }
  if (best >= 0) {
    const cat_entry *e = cat_get((cat_id)best);
    snprintf(r->closest, sizeof r->closest, "%s", e->name);
    if (r->closest_ratio <= CF_DIAG_MATCH && r->worst >= CF_DIAG_CLEARER * r->closest_ratio) {
      snprintf(r->diagnosed, sizeof r->diagnosed, "%s", e->name);
      cf_buf b = {0};
      /* the rule's label: (Mn) is docs/model.md's, (Sn) docs/spec.md's */
      cf_buf_printf(&b, "looks like %s: %s (ratio %.3g against it, %.3g against the "
                    "specification; docs/%s.md %s; docs/mutants.md)", e->name, e->message,
                    r->closest_ratio, r->worst, e->rule[0] == 'M' ? "model" : "spec", e->rule);
      r->diagnosis = cf_buf_take(&b);
    }
  }
  free(lg);
  free(hd);
  free(ratios);
}

/* The tolerance of the profile: the shipped one under fp32, else computed
 * by the double model with the profile's roundings (as the shipped one
 * was, docs/tolerances.md 11.3 and 11.5). */
static bool profile_tolerance(const mg_set *s, const infini_model *model, double u_t,
                              double u_o, double *tol, char *err, size_t errlen) {
  const infini_model_config *c = &s->config;
  const ptrdiff_t T = s->tokens, L = c->n_layers;
  const size_t nl = (size_t)(T * c->vocab_size), nh = (size_t)(L * T * c->d_model);
  if (u_t == 0 && u_o == 0) {
    memcpy(tol, s->tol, sizeof(double) * (size_t)(s->segments * (L + 1)));
    return true;
  }
  double *el = malloc(sizeof(double) * nl), *eh = malloc(sizeof(double) * nh);
  bool ok = el && eh;
  for (size_t i = 0; ok && i < nl; i++)
    el[i] = s->logits[i];
  for (size_t i = 0; ok && i < nh; i++)
    eh[i] = s->hidden[i];
  ok = ok && mg_tolerance_profile(model, s->tok, s->segments, el, eh, u_t, u_o, tol, NULL,
                                  err, errlen);
  free(el);
  free(eh);
  return ok;
}

/* A private folder for the regenerated weights. */
static bool temp_dir(char *out, size_t len, char *err, size_t errlen) {
  const char *tmp = getenv("TMPDIR");
  snprintf(out, len, "%s/infini-conform-model.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(out)) {
    snprintf(err, errlen, "cannot make a temporary folder %s: %s", out, strerror(errno));
    return false;
  }
  return true;
}

/* Judge one model entry of the index. false: the export itself is wrong. */
static bool check_one(const char *mvdir, const char *dir, json_t *e, const struct stat *exported,
                      tol_profile profile, bool want_diagnosis, mc_result *r, char *err,
                      size_t errlen) {
  const char *name = json_string_value(json_object_get(e, "model"));
  const char *sha = json_string_value(json_object_get(e, "manifest_sha256"));
  const mg_preset *p = name ? mg_preset_find(name) : NULL;
  char msha[65];
  double u_t, u_o;
  if (!p || !sha) {
    snprintf(err, errlen, "%s/index.json: a model entry without a known preset name or "
             "manifest_sha256: export again", dir);
    return false;
  }
  if (!mc_profile_units(profile, &u_t, &u_o, err, errlen) ||
      !manifest_sha256(mvdir, p->name, msha, err, errlen))
    return false;
  if (strcmp(msha, sha) != 0) {
    snprintf(err, errlen, "%s/index.json: %s was exported from a golden set whose manifest "
             "has sha256 %.64s, but %s/%s.json has another; check with --model-vectors "
             "naming the set it was exported from", dir, p->name, sha, mvdir, p->name);
    return false;
  }
  mg_set s;
  if (!mg_set_load(mvdir, p, &s, err, errlen))
    return false;
  const infini_model_config *c = &s.config;
  const ptrdiff_t T = s.tokens, L = c->n_layers;
  const size_t cells = (size_t)(s.segments * (L + 1));
  const size_t d_log[2] = {(size_t)T, (size_t)c->vocab_size},
               d_hid[3] = {(size_t)L, (size_t)T, (size_t)c->d_model};
  snprintf(r->model, sizeof r->model, "%s", p->name);
  r->segments = s.segments;
  r->layers = L;
  r->ratios = cf_xcalloc(cells, sizeof(double));
  r->fail_seg = r->fail_tensor = -1;
  for (size_t i = 0; i < cells; i++)
    r->ratios[i] = NAN;

  float *logits = NULL, *hidden = NULL;
  bool absent;
  char why[1024];
  if (!read_output(dir, p->name, "out/logits.npy", 2, d_log, exported, &logits, &absent, why,
                   sizeof why)) {
    r->failed = true;
    r->problem = cf_xstrdup(why);
    r->worst = INFINITY;
    mg_set_free(&s);
    return true;
  }
  r->hidden = read_output(dir, p->name, "out/hidden.npy", 3, d_hid, exported, &hidden, &absent,
                          why, sizeof why);
  if (!r->hidden && !absent) {
    /* written, but not judgeable: never silently fall back to the logits */
    r->failed = true;
    r->problem = cf_xstrdup(why);
    r->worst = INFINITY;
    free(logits);
    mg_set_free(&s);
    return true;
  }

  char tmp[PATH_MAX];
  infini_model *model = NULL;
  double *tol = cf_xcalloc(cells, sizeof(double));
  const bool need_model = u_t != 0 || u_o != 0 || want_diagnosis;
  bool ok = true;
  if (need_model) { /* the weights regenerated, never read from the export */
    ok = temp_dir(tmp, sizeof tmp, err, errlen);
    if (ok) {
      ok = mg_set_model(&s, tmp, NULL, &model, err, errlen);
      rmdir(tmp);
    }
  }
  ok = ok && profile_tolerance(&s, model, u_t, u_o, tol, err, errlen);
  if (ok) {
    const mg_view gl = {logits, NULL, T}, gh = {hidden, NULL, T};
    const mg_view el = {s.logits, NULL, T}, eh = {s.hidden, NULL, T};
    ratios_of(&s, tol, gl, gh, el, eh, r->hidden, r->ratios);
    r->worst = -1;
    for (ptrdiff_t seg = 0; seg < s.segments; seg++)
      for (ptrdiff_t t = 0; t <= L; t++) {
        const double x = r->ratios[seg * (L + 1) + t];
        if (isnan(x))
          continue;
        if (x > r->worst)
          r->worst = x, r->worst_seg = seg, r->worst_tensor = t;
        if (x > 1.0 && r->fail_seg < 0)
          r->fail_seg = seg, r->fail_tensor = t;
      }
    r->failed = r->fail_seg >= 0;
    if (r->failed) {
      r->location = locate(r);
      if (want_diagnosis)
        diagnose(&s, model, tol, gl, gh, r);
    }
  }
  if (model)
    infini_model_free(model);
  free(tol);
  free(logits);
  free(hidden);
  mg_set_free(&s);
  return ok;
}

bool mc_check(const char *mvdir, const char *dir, tol_profile profile, bool want_diagnosis,
              mc_report *rep, char *err, size_t errlen) {
  memset(rep, 0, sizeof *rep);
  rep->profile = tol_profile_name(profile);
  rep->dir = dir;
  rep->model_vectors = mvdir;
  double u_t, u_o;
  if (!mc_profile_units(profile, &u_t, &u_o, err, errlen))
    return false;
  json_t *root = load_index(dir, err, errlen);
  if (!root)
    return false;
  const char *format = json_string_value(json_object_get(root, "format"));
  json_t *models = json_object_get(root, "models");
  char ipath[PATH_MAX];
  struct stat exported;
  bool ok = format && strcmp(format, INDEX_FORMAT) == 0 &&
            json_integer_value(json_object_get(root, "format_version")) == INDEX_VERSION &&
            json_is_array(models) && json_array_size(models) > 0;
  if (!ok)
    snprintf(err, errlen, "%s/index.json is not a model export of infini-conform (format %s "
             "version %d with a models list)", dir, INDEX_FORMAT, INDEX_VERSION);
  ok = ok && join(ipath, sizeof ipath, dir, "index.json", err, errlen) &&
       stat(ipath, &exported) == 0;
  const size_t n = ok ? json_array_size(models) : 0;
  rep->results = cf_xcalloc(n ? n : 1, sizeof *rep->results);
  for (size_t i = 0; ok && i < n; i++) {
    for (size_t j = 0; j < i; j++)
      if (json_equal(json_object_get(json_array_get(models, i), "model"),
                     json_object_get(json_array_get(models, j), "model"))) {
        snprintf(err, errlen, "%s/index.json lists a model twice: the index is not the one "
                 "export wrote; export again", dir);
        ok = false;
      }
    ok = ok && check_one(mvdir, dir, json_array_get(models, i), &exported, profile,
                         want_diagnosis, &rep->results[i], err, errlen);
    rep->n = i + 1;
  }
  json_decref(root);
  return ok;
}

void mc_report_free(mc_report *rep) {
  for (size_t i = 0; i < rep->n; i++) {
    mc_result *r = &rep->results[i];
    free(r->problem);
    free(r->ratios);
    free(r->location);
    free(r->diagnosis);
  }
  free(rep->results);
  memset(rep, 0, sizeof *rep);
}

/* ---- reports ------------------------------------------------------------- */

static void tensor_name(const mc_result *r, ptrdiff_t t, char *buf, size_t len) {
  if (t == r->layers)
    snprintf(buf, len, "logits");
  else
    snprintf(buf, len, "block %td", t + 1);
}

void mc_report_print(const mc_report *rep, FILE *f, bool verbose) {
  for (size_t i = 0; i < rep->n; i++) {
    const mc_result *r = &rep->results[i];
    char where[32];
    tensor_name(r, r->worst_tensor, where, sizeof where);
    if (r->problem) {
      fprintf(f, "model %s: FAIL: %s\n", r->model, r->problem);
      continue;
    }
    fprintf(f, "model %s: %s under %s, judged on %s; worst ratio %.3g (segment %td, %s)\n",
            r->model, r->failed ? "FAIL" : "pass", rep->profile,
            r->hidden ? "the logits and the hidden states of every block"
                      : "the logits alone (no hidden.npy written)",
            r->worst, r->worst_seg + 1, where);
    if (r->location)
      fprintf(f, "  %s\n", r->location);
    if (r->diagnosis)
      fprintf(f, "  %s\n", r->diagnosis);
    else if (r->failed && r->closest[0])
      fprintf(f, "  no known deviation explains it (closest: %s, ratio %.3g against it)\n",
              r->closest, r->closest_ratio);
    if (verbose || r->failed) {
      /* the per-segment ratios, one line per tensor */
      for (ptrdiff_t t = 0; t <= r->layers; t++) {
        tensor_name(r, t, where, sizeof where);
        if (isnan(r->ratios[t]))
          continue;
        fprintf(f, "    %-9s", where);
        for (ptrdiff_t s = 0; s < r->segments; s++)
          fprintf(f, " %.2g", r->ratios[s * (r->layers + 1) + t]);
        fputc('\n', f);
      }
    }
  }
  mc_report_summary(rep, f);
}

void mc_report_summary(const mc_report *rep, FILE *f) {
  const int failed = mc_report_failed(rep);
  fprintf(f, "conformance: %zu model%s, %zu passed, %d failed (profile %s, golden set %s)\n",
          rep->n, rep->n == 1 ? "" : "s", rep->n - (size_t)failed, failed, rep->profile,
          rep->model_vectors);
}

int mc_report_failed(const mc_report *rep) {
  int n = 0;
  for (size_t i = 0; i < rep->n; i++)
    n += rep->results[i].failed;
  return n;
}

int mc_report_status(const mc_report *rep) { return mc_report_failed(rep) ? 1 : 0; }

static json_t *number(double x) { return isfinite(x) ? json_real(x) : json_null(); }

bool mc_report_json(const mc_report *rep, const char *path, bool force, char *err,
                    size_t errlen) {
  json_t *models = json_array();
  for (size_t i = 0; i < rep->n; i++) {
    const mc_result *r = &rep->results[i];
    json_t *o = json_pack("{s:s, s:s, s:b, s:o}", "model", r->model, "verdict",
                          r->failed ? "fail" : "pass", "hidden_judged", r->hidden,
                          "worst_ratio", number(r->worst));
    if (r->problem)
      json_object_set_new(o, "problem", json_string(r->problem));
    if (r->ratios && !r->problem) {
      json_object_set_new(o, "worst", json_pack("{s:I, s:I}", "segment",
                                                (json_int_t)r->worst_seg + 1, "tensor",
                                                (json_int_t)r->worst_tensor + 1));
      json_object_set_new(o, "first_failure",
                          r->fail_seg < 0 ? json_null()
                                          : json_pack("{s:I, s:I, s:s}", "segment",
                                                      (json_int_t)r->fail_seg + 1, "tensor",
                                                      (json_int_t)r->fail_tensor + 1, "where",
                                                      r->location ? r->location : ""));
      json_t *rows = json_array();
      for (ptrdiff_t s = 0; s < r->segments; s++) {
        json_t *row = json_array();
        for (ptrdiff_t t = 0; t <= r->layers; t++)
          json_array_append_new(row, number(r->ratios[s * (r->layers + 1) + t]));
        json_array_append_new(rows, row);
      }
      json_object_set_new(o, "ratios", rows);
    }
    json_object_set_new(o, "diagnosed", json_string(r->diagnosed));
    if (r->closest[0])
      json_object_set_new(o, "closest", json_pack("{s:s, s:o}", "name", r->closest, "ratio",
                                                  number(r->closest_ratio)));
    json_array_append_new(models, o);
  }
  json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:o}", "mode", "check-model", "profile",
                           rep->profile, "export", rep->dir, "model_vectors",
                           rep->model_vectors, "models", models);
  json_object_set_new(root, "tensors", json_string("ratios[segment][tensor]: blocks 1..L, "
                                                   "then the logits; null: not judged"));
  cf_atomic a;
  bool ok = cf_atomic_open(&a, path, force, err, errlen);
  if (ok && (json_dumpf(root, a.f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
             fputc('\n', a.f) == EOF)) {
    snprintf(err, errlen, "cannot write %s", path);
    cf_atomic_abort(&a);
    ok = false;
  } else if (ok) {
    ok = cf_atomic_commit(&a, err, errlen);
  }
  json_decref(root);
  return ok;
}

bool mc_report_tap(const mc_report *rep, const char *path, bool force, char *err,
                   size_t errlen) {
  cf_atomic a;
  if (!cf_atomic_open(&a, path, force, err, errlen))
    return false;
  fprintf(a.f, "TAP version 13\n1..%zu\n", rep->n);
  for (size_t i = 0; i < rep->n; i++) {
    const mc_result *r = &rep->results[i];
    fprintf(a.f, "%s %zu - model %s (profile %s): ", r->failed ? "not ok" : "ok", i + 1,
            r->model, rep->profile);
    if (r->problem)
      fprintf(a.f, "%s\n", r->problem);
    else
      fprintf(a.f, "worst ratio %.3g%s%s%s%s\n", r->worst, r->location ? "; " : "",
              r->location ? r->location : "", r->diagnosis ? "; " : "",
              r->diagnosis ? r->diagnosis : "");
  }
  return cf_atomic_commit(&a, err, errlen);
}

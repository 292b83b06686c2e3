/*
 * conformance/model/golden.c - the full-model golden set: presets, token
 * streams, manifest and tensor files, tolerance and judge (golden.h).
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/model/dmodel.h"
#include "conformance/model/golden.h"
#include "vectors/fail.h"
#include "vectors/npy.h"
#include "vectors/prng.h"
#include "vectors/sha256.h"
#include "vectors/vecset.h"
#include "src/fileio.h"

#define U 0x1p-24

/* ---- presets ------------------------------------------------------------ */

#define TINY 256, 64, 2, 2, 2, 32, 128, 16
#define TINY_GQA 256, 64, 2, 4, 2, 16, 128, 16
#define SMALL 256, 256, 4, 4, 4, 64, 512, 32
#define PROBE 256, 64, 2, 2, 2, 32, 128, 32
#define LIN INFINI_UPDATE_LINEAR
#define DEL INFINI_UPDATE_DELTA
#define ROPE INFINI_POSITION_ROPE
#define NOPOS INFINI_POSITION_NONE

/* Seeds: the weights' 0x1nn, the tokens' 0x2nn, nn the preset's number;
 * never reused, so no two presets share weights or streams. norm_eps: 0
 * keeps the default 1e-5, too small to see next to hidden states of mean
 * square ~1.3 (it moves them by 4e-6 relatively, below the tolerance);
 * 2^-6 makes an implementation that ignores it fail (docs/mutants.md). */
#define EPS_DEFAULT 0.0f
#define EPS_VISIBLE 0x1p-6f
static const mg_preset presets[] = {
    {"tiny_linear_rope", TINY, LIN, ROPE, EPS_DEFAULT, 0x101, 0x201, 16, 0},
    {"tiny_delta_rope", TINY, DEL, ROPE, EPS_VISIBLE, 0x102, 0x202, 16, 0},
    {"tiny_linear_nopos", TINY, LIN, NOPOS, EPS_VISIBLE, 0x103, 0x203, 16, 0},
    {"tiny_delta_nopos", TINY, DEL, NOPOS, EPS_VISIBLE, 0x104, 0x204, 16, 0},
    {"tiny_gqa_delta_rope", TINY_GQA, DEL, ROPE, EPS_VISIBLE, 0x105, 0x205, 16, 0},
    {"small_linear_rope", SMALL, LIN, ROPE, EPS_DEFAULT, 0x106, 0x206, 16, 0},
    {"small_delta_rope", SMALL, DEL, ROPE, EPS_VISIBLE, 0x107, 0x207, 16, 0},
    /* The probe of the coarse profiles (docs/tolerances.md 11.5): bugs
     * whose effect scales with norm_eps and with the rotation angles
     * (RMSNorm without eps, RoPE before the memory) stay visible under
     * bf16-fp32 with norm_eps = 1/4, theta = 100 and N = 32. */
    {"tiny_probe", PROBE, LIN, ROPE, 0x1p-2f, 0x108, 0x208, 16, 100.0f},
};

const mg_preset *mg_presets(size_t *n) {
  *n = sizeof presets / sizeof presets[0];
  return presets;
}

const mg_preset *mg_preset_find(const char *name) {
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
    if (strcmp(presets[i].name, name) == 0)
      return &presets[i];
  return NULL;
}

infini_status mg_preset_config(const mg_preset *p, infini_model_config *c) {
  infini_status st = infini_model_config_init(c, p->vocab, p->d_model, p->layers,
                                              p->heads, p->kv_heads, p->d_head,
                                              p->d_ff, p->seg_len);
  c->rule = p->rule;
  c->position = p->position;
  if (p->norm_eps > 0.0f)
    c->norm_eps = p->norm_eps;
  if (p->rope_theta > 0.0f)
    c->rope_theta = p->rope_theta;
  return st;
}

void mg_tokens(uint64_t seed, ptrdiff_t vocab, ptrdiff_t n, int32_t *out) {
  vs_rng r = {seed};
  for (ptrdiff_t i = 0; i < n; i++)
    out[i] = (int32_t)((vs_next(&r) >> 32) % (uint64_t)vocab);
}

void mg_set_free(mg_set *s) {
  if (!s)
    return;
  free(s->tok);
  free(s->logits);
  free(s->hidden);
  free(s->tol);
  memset(s, 0, sizeof *s);
}

/* ---- norms and the judge ------------------------------------------------ */

static double view_at(mg_view v, size_t i) { return v.f ? (double)v.f[i] : v.d[i]; }

double mg_seg_norm(const infini_model_config *c, ptrdiff_t t, ptrdiff_t seg,
                   mg_view a, mg_view b) {
  const ptrdiff_t N = c->segment_len, L = c->n_layers;
  const ptrdiff_t w = t < L ? c->d_model : c->vocab_size;
  const bool diff = b.f || b.d;
  double ss = 0.0;
  for (ptrdiff_t i = seg * N; i < (seg + 1) * N; i++)
    for (ptrdiff_t j = 0; j < w; j++) {
      const size_t ia = (size_t)((t < L ? t * a.tokens + i : i) * w + j);
      const size_t ib = (size_t)((t < L ? t * b.tokens + i : i) * w + j);
      const double e = view_at(a, ia) - (diff ? view_at(b, ib) : 0.0);
      ss += e * e;
    }
  return sqrt(ss);
}

void mg_tensor_name(const infini_model_config *c, ptrdiff_t t, char *buf,
                    size_t len) {
  if (t < c->n_layers)
    snprintf(buf, len, "hidden[%td]", t + 1);
  else
    snprintf(buf, len, "logits");
}

void mg_judge(const mg_set *s, ptrdiff_t segments, mg_view got_logits,
              mg_view got_hidden, double *ratios, mg_verdict *v) {
  const infini_model_config *c = &s->config;
  const ptrdiff_t L = c->n_layers;
  const mg_view el = {s->logits, NULL, s->tokens}, eh = {s->hidden, NULL, s->tokens};
  *v = (mg_verdict){0.0, 0, 0, -1, -1};
  for (ptrdiff_t seg = 0; seg < segments; seg++)
    for (ptrdiff_t t = 0; t <= L; t++) {
      const double err = t < L ? mg_seg_norm(c, t, seg, got_hidden, eh)
                               : mg_seg_norm(c, t, seg, got_logits, el);
      /* A NaN error is a failure: it compares false with everything. */
      const double r = isnan(err) ? INFINITY : err / s->tol[seg * (L + 1) + t];
      if (ratios)
        ratios[seg * (L + 1) + t] = r;
      if (r > v->worst || (seg == 0 && t == 0))
        v->worst = r, v->seg = seg, v->tensor = t;
      if (r > 1.0 && v->first_fail_seg < 0)
        v->first_fail_seg = seg, v->first_fail_tensor = t;
    }
}

/* ---- the tolerance ------------------------------------------------------ */

/* One run of the double model over the whole stream, whole segments. */
static bool dm_run(dmodel *m, const int32_t *tok, ptrdiff_t n, double *logits,
                   double *hidden) {
  dm_stream *s;
  if (dm_stream_create(m, &s) != INFINI_OK)
    return false;
  const bool ok = dm_forward(m, s, tok, n, logits, hidden) == INFINI_OK;
  dm_stream_free(s);
  return ok;
}

bool mg_run_double(const infini_model *model, int mutant, const int32_t *tok, ptrdiff_t n,
                   double *logits, double *hidden) {
  dmodel *m = NULL;
  if (dm_create(model, (dm_mutant)mutant, CAT_plain, &m) != INFINI_OK)
    return false;
  const bool ok = dm_run(m, tok, n, logits, hidden);
  dm_free(m);
  return ok;
}

/* Add each segment's deviation of the perturbed run (l1, h1) from the
 * clean one (l0, h0) to tol and, if given, to its site's part. */
static void add_deviation(const infini_model_config *c, ptrdiff_t segments,
                          ptrdiff_t T, const double *l0, const double *h0,
                          const double *l1, const double *h1, double *tol,
                          double *part) {
  const ptrdiff_t L = c->n_layers;
  for (ptrdiff_t seg = 0; seg < segments; seg++)
    for (ptrdiff_t t = 0; t <= L; t++) {
      const mg_view a = {NULL, t < L ? h1 : l1, T}, b = {NULL, t < L ? h0 : l0, T};
      const double d = mg_seg_norm(c, t, seg, a, b);
      tol[seg * (L + 1) + t] += d;
      if (part)
        part[seg * (L + 1) + t] = d;
    }
}

typedef struct runs {
  double *l0, *h0, *l1, *h1;
} runs;

static void runs_free(runs *r) {
  free(r->l0);
  free(r->h0);
  free(r->l1);
  free(r->h1);
}

static bool runs_alloc(const infini_model_config *c, ptrdiff_t T, runs *r) {
  const size_t nl = (size_t)(T * c->vocab_size), nh = (size_t)(c->n_layers * T * c->d_model);
  r->l0 = malloc(nl * sizeof(double));
  r->l1 = malloc(nl * sizeof(double));
  r->h0 = malloc(nh * sizeof(double));
  r->h1 = malloc(nh * sizeof(double));
  return r->l0 && r->l1 && r->h0 && r->h1;
}

bool mg_tolerance(const infini_model *model, const int32_t *tok,
                  ptrdiff_t segments, const double *exp_logits,
                  const double *exp_hidden, double *tol, double *per_site,
                  char *err, size_t errlen) {
  return mg_tolerance_profile(model, tok, segments, exp_logits, exp_hidden, 0.0, 0.0, tol,
                              per_site, err, errlen);
}

bool mg_tolerance_profile(const infini_model *model, const int32_t *tok,
                          ptrdiff_t segments, const double *exp_logits,
                          const double *exp_hidden, double u_t, double u_o, double *tol,
                          double *per_site, char *err, size_t errlen) {
  const infini_model_config *c = infini_model_get_config(model);
  const ptrdiff_t T = segments * c->segment_len, L = c->n_layers;
  const size_t cells = (size_t)(segments * (L + 1));
  dmodel *m = NULL;
  runs r = {0};
  bool ok = runs_alloc(c, T, &r) && dm_create(model, DM_NONE, CAT_plain, &m) == INFINI_OK;
  ok = ok && dm_run(m, tok, T, r.l0, r.h0);
  memset(tol, 0, cells * sizeof(double));
  for (unsigned site = 0; ok && site < DM_SITE_COUNT; site++) {
    /* Each site has its own sign stream, so adding a site does not change
     * the others' parts. */
    dm_set_profile(m, u_t, u_o);
    dm_set_noise(m, 1u << site, UINT64_C(0x70100000) + site);
    ok = dm_run(m, tok, T, r.l1, r.h1);
    add_deviation(c, segments, T, r.l0, r.h0, r.l1, r.h1, tol,
                  per_site ? per_site + site * cells : NULL);
  }
  /* The goldens are the oracle rounded to float32: u ||e|| at most. */
  for (ptrdiff_t seg = 0; ok && seg < segments; seg++)
    for (ptrdiff_t t = 0; t <= L; t++) {
      const mg_view e = {NULL, t < L ? exp_hidden : exp_logits, T}, none = {0};
      tol[seg * (L + 1) + t] += U * mg_seg_norm(c, t, seg, e, none);
    }
  dm_free(m);
  runs_free(&r);
  return ok || fail(err, errlen, "tolerance: out of memory or double model failed");
}

/* ---- files -------------------------------------------------------------- */

static bool file_sha256(const char *path, char hex[65], char *err, size_t errlen) {
  unsigned char *bytes;
  size_t len;
  if (!npy_read_file(path, &bytes, &len, err, errlen))
    return false;
  vs_sha256_hex(bytes, len, hex);
  free(bytes);
  return true;
}

bool mg_weights_write(const mg_preset *p, const char *dir, char *path,
                      size_t pathlen, char sha256[65], char *err, size_t errlen) {
  infini_model_config c;
  if (mg_preset_config(p, &c) != INFINI_OK)
    return fail(err, errlen, "%s: invalid config", p->name);
  /* The pid keeps parallel tests (regeneration, checks) apart. */
  snprintf(path, pathlen, "%s/%s.%ld.safetensors", dir, p->name, (long)getpid());
  if (infini_model_write_random(&c, p->weight_seed, path, err, errlen) != INFINI_OK)
    return false;
  return file_sha256(path, sha256, err, errlen);
}

bool mg_set_model(const mg_set *s, const char *tmpdir,
                  const infini_backend *backend, infini_model **model,
                  char *err, size_t errlen) {
  char path[4096], sha[65];
  if (!mg_weights_write(s->preset, tmpdir, path, sizeof path, sha, err, errlen))
    return false;
  bool ok = strcmp(sha, s->weights_sha256) == 0 ||
            fail(err, errlen, "%s: regenerated weights have sha256 %s, the manifest says %s",
                 s->preset->name, sha, s->weights_sha256);
  ok = ok && infini_model_load(path, backend, model, err, errlen) == INFINI_OK;
  remove(path);
  return ok;
}

static bool make_dir(const char *path) {
  return mkdir(path, 0777) == 0 || errno == EEXIST;
}

/* One tensor file: encoded, written, its entry in the manifest's "files". */
static bool write_npy(const char *dir, const char *name, const char *file,
                      npy_dtype dt, int ndim, const size_t *dims,
                      const void *data, json_t *files, char *err, size_t errlen) {
  unsigned char *bytes;
  size_t len;
  char path[4096], hex[65];
  if (!npy_encode(dt, ndim, dims, data, &bytes, &len, err, errlen))
    return false;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  bool ok = npy_write_file(path, bytes, len, err, errlen);
  vs_sha256_hex(bytes, len, hex);
  free(bytes);
  json_t *shape = json_array();
  for (int i = 0; i < ndim; i++)
    json_array_append_new(shape, json_integer((json_int_t)dims[i]));
  json_object_set_new(files, name,
                      json_pack("{s:s, s:s, s:s, s:o}", "file", file, "sha256", hex,
                                "dtype", npy_dtype_descr(dt), "shape", shape));
  return ok;
}

static json_t *hexf(double x) {
  char b[40];
  vs_format_hexfloat(x, b);
  return json_string(b);
}

json_t *mg_config_json(const infini_model_config *c) {
  json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s}",
                        "vocab_size", (json_int_t)c->vocab_size, "d_model",
                        (json_int_t)c->d_model, "n_layers", (json_int_t)c->n_layers,
                        "n_heads", (json_int_t)c->n_heads, "n_kv_heads",
                        (json_int_t)c->n_kv_heads, "d_head", (json_int_t)c->d_head,
                        "d_ff", (json_int_t)c->d_ff, "segment_len",
                        (json_int_t)c->segment_len, "rule",
                        c->rule == INFINI_UPDATE_DELTA ? "delta" : "linear",
                        "position", c->position == INFINI_POSITION_ROPE ? "rope" : "none");
  json_object_set_new(o, "rope_theta", hexf(c->rope_theta));
  json_object_set_new(o, "norm_eps", hexf(c->norm_eps));
  json_object_set_new(o, "attn_eps", hexf(c->attn_eps));
  json_object_set_new(o, "attn_scale", hexf(c->attn_scale));
  return o;
}

static json_t *seed_json(uint64_t seed) {
  char b[24];
  snprintf(b, sizeof b, "0x%016llx", (unsigned long long)seed);
  return json_string(b);
}

static json_t *tolerance_json(void) {
  json_t *sites = json_object();
  for (unsigned i = 0; i < DM_SITE_COUNT; i++)
    json_object_set_new(sites, dm_site_name(i), json_string(dm_site_desc(i)));
  return json_pack("{s:s, s:f, s:s, s:s, s:o, s:s}", "model", "injected-rounding",
                   "unit_roundoff", U, "norm", "Frobenius, per segment and tensor",
                   "file", "tol",
                   "sites", sites, "storage", "u * ||expected|| (float32 goldens)");
}

/* The specification version the model set (schema 1) encodes: it holds
 * no non-finite inputs, so spec 1.1's (S24) changes none of its verdicts,
 * and the set stays byte for byte what it was. */
#define MG_SPEC_VERSION "1.0"

static json_t *manifest_json(const mg_set *s) {
  const mg_preset *p = s->preset;
  char generator[64];
  snprintf(generator, sizeof generator, "%s %s", MG_GENERATOR, infini_version());
  json_t *m = json_pack("{s:s, s:i, s:s, s:s, s:s}", "schema", MG_SCHEMA,
                        "schemaVersion", MG_SCHEMA_VERSION, "specVersion",
                        MG_SPEC_VERSION, "generatorVersion", generator,
                        "name", p->name);
  json_object_set_new(m, "config", mg_config_json(&s->config));
  json_object_set_new(m, "weights",
                      json_pack("{s:s, s:o, s:s}", "generator",
                                "infini_model_write_random", "seed",
                                seed_json(p->weight_seed), "sha256", s->weights_sha256));
  json_object_set_new(m, "tokens",
                      json_pack("{s:s, s:o, s:I}", "generator",
                                "(splitmix64(seed) >> 32) % vocab_size", "seed",
                                seed_json(p->token_seed), "count", (json_int_t)s->tokens));
  json_object_set_new(m, "segments", json_integer((json_int_t)s->segments));
  json_object_set_new(m, "tolerance", tolerance_json());
  return m;
}

bool mg_set_write(const char *dir, const mg_set *s, char *err, size_t errlen) {
  const infini_model_config *c = &s->config;
  const size_t T = (size_t)s->tokens, V = (size_t)c->vocab_size,
               D = (size_t)c->d_model, L = (size_t)c->n_layers;
  const size_t d_tok[1] = {T}, d_log[2] = {T, V}, d_hid[3] = {L, T, D},
               d_tol[2] = {(size_t)s->segments, L + 1};
  char sub[4096], f[4][256];
  const char *names[4] = {"tokens", "logits", "hidden", "tol"};
  snprintf(sub, sizeof sub, "%s/%s", dir, s->preset->name);
  if (!make_dir(dir) || !make_dir(sub))
    return fail(err, errlen, "%s: cannot create: %s", sub, strerror(errno));
  for (int i = 0; i < 4; i++)
    snprintf(f[i], sizeof f[i], "%s/%s.npy", s->preset->name, names[i]);
  json_t *m = manifest_json(s), *files = json_object();
  bool ok = write_npy(dir, "tokens", f[0], NPY_I4, 1, d_tok, s->tok, files, err, errlen) &&
            write_npy(dir, "logits", f[1], NPY_F4, 2, d_log, s->logits, files, err, errlen) &&
            write_npy(dir, "hidden", f[2], NPY_F4, 3, d_hid, s->hidden, files, err, errlen) &&
            write_npy(dir, "tol", f[3], NPY_F8, 2, d_tol, s->tol, files, err, errlen);
  json_object_set_new(m, "files", files);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.json", dir, s->preset->name);
  char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
  const size_t tlen = text ? strlen(text) : 0;
  if (text)
    text[tlen] = '\n'; /* over the NUL: the file ends in a newline */
  ok = ok && text && npy_write_file(path, (const unsigned char *)text, tlen + 1, err, errlen);
  free(text);
  json_decref(m);
  return ok;
}

/* ---- reading a set ------------------------------------------------------ */

/* The bytes of tensor `name` of the manifest's "files", checked against
 * its sha256. */
static bool read_checked(const char *dir, json_t *files, const char *name,
                         unsigned char **bytes, size_t *len, char *err,
                         size_t errlen) {
  const char *file = NULL, *sha = NULL;
  char path[4096], hex[65];
  if (json_unpack(json_object_get(files, name), "{s:s, s:s}", "file", &file,
                  "sha256", &sha) != 0)
    return fail(err, errlen, "manifest: files.%s lacks file or sha256", name);
  snprintf(path, sizeof path, "%s/%s", dir, file);
  if (!npy_read_file(path, bytes, len, err, errlen))
    return false;
  vs_sha256_hex(*bytes, *len, hex);
  if (strcmp(hex, sha) != 0) {
    free(*bytes);
    return fail(err, errlen, "%s: sha256 %s, the manifest says %s", path, hex, sha);
  }
  return true;
}

/* A float tensor of the expected dtype and shape; data malloc'ed. */
static bool load_npy(const char *dir, json_t *files, const char *name,
                     npy_dtype dt, int ndim, const size_t *dims, void **data,
                     char *err, size_t errlen) {
  unsigned char *bytes;
  size_t len;
  npy_array a;
  if (!read_checked(dir, files, name, &bytes, &len, err, errlen))
    return false;
  bool ok = npy_parse(bytes, len, &a, err, errlen);
  free(bytes);
  if (!ok)
    return false;
  ok = a.dtype == dt && a.ndim == ndim &&
       memcmp(a.dims, dims, sizeof(size_t) * (size_t)ndim) == 0;
  if (!ok) {
    npy_free(&a);
    return fail(err, errlen, "%s: dtype or shape differ from the config", name);
  }
  *data = a.data;
  return true;
}

/* The token file: the stream regenerated from the seed must have the
 * file's bytes (npy_parse reads floats only; the bytes are the proof). */
static bool load_tokens(const char *dir, json_t *files, mg_set *s, char *err,
                        size_t errlen) {
  unsigned char *file, *mine;
  size_t flen, mlen, dims[1] = {(size_t)s->tokens};
  if (!(s->tok = malloc(sizeof(int32_t) * (size_t)s->tokens)))
    return fail(err, errlen, "out of memory");
  mg_tokens(s->preset->token_seed, s->config.vocab_size, s->tokens, s->tok);
  if (!read_checked(dir, files, "tokens", &file, &flen, err, errlen))
    return false;
  bool ok = npy_encode(NPY_I4, 1, dims, s->tok, &mine, &mlen, err, errlen);
  ok = ok && ((flen == mlen && memcmp(file, mine, flen) == 0) ||
              fail(err, errlen, "tokens: the file is not the stream of the seed"));
  free(file);
  if (mlen)
    free(mine);
  return ok;
}

static bool check_header(json_t *m, const mg_set *s, char *err, size_t errlen) {
  const char *schema = "", *name = "", *sha = "";
  json_int_t version = 0, segments = 0;
  if (json_unpack(m, "{s:s, s:I, s:s, s:I, s:{s:s}}", "schema", &schema,
                  "schemaVersion", &version, "name", &name, "segments",
                  &segments, "weights", "sha256", &sha) != 0)
    return fail(err, errlen, "manifest: schema, schemaVersion, name, segments or weights missing");
  if (strcmp(schema, MG_SCHEMA) != 0 || version != MG_SCHEMA_VERSION)
    return fail(err, errlen, "manifest: schema %s version %lld, want %s %d", schema,
                (long long)version, MG_SCHEMA, MG_SCHEMA_VERSION);
  if (strcmp(name, s->preset->name) != 0 || segments < 1 || strlen(sha) != 64)
    return fail(err, errlen, "manifest: name, segments or weights.sha256 invalid");
  json_t *want = mg_config_json(&s->config);
  bool same = json_equal(want, json_object_get(m, "config"));
  json_decref(want);
  return same || fail(err, errlen, "manifest: config differs from preset %s", name);
}

bool mg_set_load(const char *dir, const mg_preset *p, mg_set *s, char *err,
                 size_t errlen) {
  char path[4096];
  json_error_t je;
  memset(s, 0, sizeof *s);
  s->preset = p;
  if (mg_preset_config(p, &s->config) != INFINI_OK)
    return fail(err, errlen, "%s: invalid config", p->name);
  snprintf(path, sizeof path, "%s/%s.json", dir, p->name);
  /* the project's one reader: no FIFO or device, at most VS_MANIFEST_MAX */
  unsigned char *bytes;
  size_t len;
  if (fileio_read_all(path, VS_MANIFEST_MAX, &bytes, &len, err, errlen) != INFINI_OK)
    return false;
  json_t *m = json_loadb((const char *)bytes, len, 0, &je);
  free(bytes);
  if (!m)
    return fail(err, errlen, "%s:%d: %s", path, je.line, fileio_one_line(je.text));
  bool ok = check_header(m, s, err, errlen);
  if (ok) {
    const infini_model_config *c = &s->config;
    snprintf(s->weights_sha256, sizeof s->weights_sha256, "%s",
             json_string_value(json_object_get(json_object_get(m, "weights"), "sha256")));
    s->segments = (ptrdiff_t)json_integer_value(json_object_get(m, "segments"));
    s->tokens = s->segments * c->segment_len;
    const size_t T = (size_t)s->tokens, L = (size_t)c->n_layers,
                 d_log[2] = {T, (size_t)c->vocab_size},
                 d_hid[3] = {L, T, (size_t)c->d_model},
                 d_tol[2] = {(size_t)s->segments, L + 1};
    json_t *files = json_object_get(m, "files");
    ok = load_tokens(dir, files, s, err, errlen) &&
         load_npy(dir, files, "logits", NPY_F4, 2, d_log, (void **)&s->logits, err, errlen) &&
         load_npy(dir, files, "hidden", NPY_F4, 3, d_hid, (void **)&s->hidden, err, errlen) &&
         load_npy(dir, files, "tol", NPY_F8, 2, d_tol, (void **)&s->tol, err, errlen);
  }
  json_decref(m);
  if (!ok)
    mg_set_free(s);
  return ok;
}

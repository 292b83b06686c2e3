/*
 * tests/test_model.c - the model's forward pass (docs/model.md): float
 * against the double oracle, streaming invariance (segment at once ==
 * token by token == random chunks) on every backend that runs here,
 * bounded state, reset, bad input and the Table 1 arithmetic.
 *
 * Models get random weights written straight into model_alloc's tensors
 * from vectors/prng.h, so this test does not depend on the weights file
 * reader. The tolerances here are loose sanity bounds; the model's real
 * tolerance is conformance/model's.
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infini_model.h"
#include "ref/model_oracle.h"
#include "ref/model_ops.h"
#include "ref/ref.h"
#include "src/model.h"
#include "tests/tap.h"
#include "tests/testutil.h"
#include "vectors/prng.h"

/* A stream of 4 whole segments and a partial fifth. */
#define SEGMENTS 4
#define EXTRA 3

/* ---- models ------------------------------------------------------------- */

static infini_model_config tiny_config(infini_update_rule rule,
                                       infini_position pos, ptrdiff_t n_kv) {
  infini_model_config c;
  infini_model_config_init(&c, 61, 32, 2, 4, n_kv, 8, 48, 8);
  c.rule = rule;
  c.position = pos;
  return c;
}

/* d_head = 6: no dense block (128 columns) holds whole heads, so RoPE runs
 * after the projections instead of inside their tasks (src/model.c, qkv). */
static infini_model_config odd_head_config(void) {
  infini_model_config c;
  infini_model_config_init(&c, 61, 24, 2, 4, 2, 6, 40, 8);
  c.position = INFINI_POSITION_ROPE;
  return c;
}

static const char *config_name(const infini_model_config *c) {
  static char buf[64];
  snprintf(buf, sizeof buf, "%s, %s, H_kv %td, d_head %td",
           c->rule == INFINI_UPDATE_DELTA ? "delta" : "linear",
           c->position == INFINI_POSITION_ROPE ? "RoPE" : "no RoPE",
           c->n_kv_heads, c->d_head);
  return buf;
}

/* Norm gains near 1, gates in [-2, 2), matrices uniform with a 1/sqrt(in)
 * scale, so activations stay O(1) through the layers. */
static void fill_tensor(vs_rng *r, const model_tensor *t) {
  const bool gain = strstr(t->name, "norm") != NULL;
  const bool gate = strstr(t->name, "beta") != NULL;
  const float scale = t->ndim == 2 ? 1.0f / sqrtf((float)t->shape[1]) : 1.0f;
  for (ptrdiff_t i = 0; i < t->count; i++) {
    const float u = vs_uniform(r);
    t->data[i] = gain ? 1.0f + 0.25f * u : gate ? 2.0f * u : scale * u;
  }
}

static infini_model *make_model(const infini_model_config *c,
                                const infini_backend *be, uint64_t seed) {
  infini_model *m = NULL;
  if (model_alloc(c, be, &m) != INFINI_OK)
    return NULL;
  vs_rng r = {seed};
  for (ptrdiff_t i = 0; i < model_tensor_count(c); i++) {
    model_tensor t;
    model_tensor_at(m, i, &t);
    fill_tensor(&r, &t);
  }
  if (model_pack_weights(m) != INFINI_OK) { /* as the loader does */
    infini_model_free(m);
    return NULL;
  }
  return m;
}

static void make_tokens(int32_t *t, ptrdiff_t n, ptrdiff_t vocab, uint64_t seed) {
  vs_rng r = {seed};
  for (ptrdiff_t i = 0; i < n; i++)
    t[i] = (int32_t)(vs_next(&r) % (uint64_t)vocab);
}

/* ---- backends a third party would register ------------------------------ */

static infini_availability native(void) { return INFINI_NATIVE; }

/* Only the required kernels (the float reference's), no segment or layer
 * step: the library composes those, as for a minimal plugin. */
static const infini_backend minimal_backend = {
    .abi_version = INFINI_ABI_VERSION, .struct_size = sizeof(infini_backend),
    .name = "model-minimal", .description = "required kernels only (test_model)",
    .availability = native, .workspace_bytes = infini_ref_work_bytes_f32,
    .feature_map = infini_ref_feature_map_f32,
    .retrieve = infini_ref_retrieve_f32,
    .update_linear = infini_ref_update_linear_f32,
    .update_delta = infini_ref_update_delta_f32, .mix = infini_ref_mix_f32,
    .local_attention = infini_ref_local_attention_f32};

static infini_status failing_retrieve(const infini_head_shape *shape,
                                      const float *q, ptrdiff_t ldq,
                                      const float *m, ptrdiff_t ldm,
                                      const float *z, float eps, float *a,
                                      ptrdiff_t lda) {
  (void)shape, (void)q, (void)ldq, (void)m, (void)ldm, (void)z, (void)eps;
  (void)a, (void)lda;
  return INFINI_ERR_BACKEND;
}

/* A kernel that fails: the model reports it, it does not crash. */
static void test_failing_backend(void) {
  static infini_backend failing;
  failing = minimal_backend;
  failing.name = "model-failing";
  failing.retrieve = failing_retrieve;
  const infini_model_config c = tiny_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE, 4);
  infini_model *m = make_model(&c, &failing, 1);
  infini_model_state *s = NULL;
  float logits[61];
  const infini_status st =
      m && infini_model_state_create(m, &s) == INFINI_OK
          ? infini_model_step(m, s, 1, logits) : INFINI_ERR_NOMEM;
  tap_ok(st == INFINI_ERR_BACKEND, "a failing backend kernel -> INFINI_ERR_BACKEND (got %s)",
         tu_status_name(st));
  infini_model_state_free(s);
  infini_model_free(m);
}

/* ---- runs --------------------------------------------------------------- */

/* Outputs of one stream: logits [n x V] and hidden [L x n x D]. */
typedef struct outputs {
  ptrdiff_t n, n_logits, n_hidden;
  float *logits, *hidden;
} outputs;

static outputs outputs_new(const infini_model_config *c, ptrdiff_t n) {
  outputs o = {n, n * c->vocab_size, c->n_layers * n * c->d_model, NULL, NULL};
  o.logits = calloc((size_t)o.n_logits, sizeof(float));
  o.hidden = calloc((size_t)o.n_hidden, sizeof(float));
  if (!o.logits || !o.hidden)
    abort();
  return o;
}

static void outputs_free(outputs *o) {
  free(o->logits);
  free(o->hidden);
}

/* Feed the stream in chunks of cuts[0], cuts[1], ... (cycled); a cut of 0
 * means random lengths 1..2N. hidden is gathered into the whole stream's
 * [L x n x D] layout. */
static infini_status run(const infini_model *m, infini_model_state *s,
                         const int32_t *tokens, outputs *o, ptrdiff_t cut,
                         uint64_t seed) {
  const infini_model_config *c = infini_model_get_config(m);
  const ptrdiff_t d = c->d_model;
  float *hid = malloc((size_t)(c->n_layers * o->n * d) * sizeof(float));
  vs_rng r = {seed};
  infini_status st = hid ? INFINI_OK : INFINI_ERR_NOMEM;
  for (ptrdiff_t at = 0; st == INFINI_OK && at < o->n;) {
    ptrdiff_t k = cut ? cut : 1 + (ptrdiff_t)(vs_next(&r) % (uint64_t)(2 * c->segment_len));
    if (k > o->n - at)
      k = o->n - at;
    st = infini_model_forward(m, s, tokens + at, k,
                              o->logits + at * c->vocab_size, hid);
    for (ptrdiff_t l = 0; st == INFINI_OK && l < c->n_layers; l++)
      memcpy(o->hidden + (l * o->n + at) * d, hid + l * k * d,
             (size_t)(k * d) * sizeof(float));
    at += k;
  }
  free(hid);
  return st;
}

/* Normwise: max |got - want| <= rtol max |want|, float against float. */
static bool close_ff(const char *what, ptrdiff_t count, const float *got,
                     const float *want, double rtol) {
  double *w = malloc((size_t)count * sizeof(double));
  if (!w)
    abort();
  tu_to_f64(1, count, want, count, w, count);
  const bool ok = tu_close_norm(what, 1, count, got, count, w, count, rtol);
  free(w);
  return ok;
}

/* ---- float against the oracle, streaming invariance --------------------- */

/* Loose: the model's real tolerance is conformance/model's. Float32
 * through two layers of O(1) activations stays near 1e-6 relative. */
#define ORACLE_RTOL 1e-4
/* Chunkings differ only in which attention kernel computes a row (the
 * backend's square causal kernel for a chunk starting a segment, the
 * scalar row helper for rows continuing one, the fused layer step for
 * whole segments without RoPE) and so in the rounding of its sums: a few
 * float32 ulps, carried through the layers. */
#define CHUNK_RTOL 1e-5

static void oracle_outputs(const infini_model *m, const int32_t *tokens,
                           ptrdiff_t n, ptrdiff_t cut, double *logits,
                           double *hidden, infini_status *st) {
  infini_oracle_model *om = NULL;
  infini_oracle_state *os = NULL;
  const infini_model_config *c = infini_model_get_config(m);
  *st = infini_oracle_model_create(m, &om);
  if (*st == INFINI_OK)
    *st = infini_oracle_state_create(om, &os);
  for (ptrdiff_t at = 0; *st == INFINI_OK && at < n; at += cut) {
    const ptrdiff_t k = cut < n - at ? cut : n - at;
    double *hid = hidden ? malloc((size_t)(c->n_layers * k * c->d_model) * sizeof(double)) : NULL;
    *st = infini_oracle_forward(om, os, tokens + at, k,
                                logits + at * c->vocab_size, hid);
    for (ptrdiff_t l = 0; hid && l < c->n_layers; l++)
      memcpy(hidden + (l * n + at) * c->d_model, hid + l * k * c->d_model,
             (size_t)(k * c->d_model) * sizeof(double));
    free(hid);
  }
  infini_oracle_state_free(os);
  infini_oracle_model_free(om);
}

/* The oracle is chunking-invariant to the bit (ref/model_oracle.h). */
static void test_oracle_chunking(const infini_model *m, const int32_t *tokens,
                                 ptrdiff_t n, const char *name) {
  const infini_model_config *c = infini_model_get_config(m);
  const size_t count = (size_t)(n * c->vocab_size);
  double *a = malloc(count * sizeof(double)), *b = malloc(count * sizeof(double));
  infini_status sa, sb;
  oracle_outputs(m, tokens, n, n, a, NULL, &sa);
  oracle_outputs(m, tokens, n, 1, b, NULL, &sb);
  tap_ok(sa == INFINI_OK && sb == INFINI_OK &&
             memcmp(a, b, count * sizeof(double)) == 0,
         "oracle: one call == token by token, bit for bit (%s)", name);
  free(a);
  free(b);
}

/* Every chunking on one backend against the oracle and each other. */
static void test_backend(const infini_model_config *c, const infini_backend *be,
                         const int32_t *tokens, ptrdiff_t n,
                         const double *want_logits, const double *want_hidden) {
  const char *name = config_name(c);
  infini_model *m = make_model(c, be, 42);
  infini_model_state *s = NULL;
  outputs whole = outputs_new(c, n), single = outputs_new(c, n),
          random = outputs_new(c, n), segments = outputs_new(c, n);
  const bool ok = m && infini_model_state_create(m, &s) == INFINI_OK &&
                  run(m, s, tokens, &whole, n, 0) == INFINI_OK &&
                  infini_model_state_reset(s) == INFINI_OK &&
                  run(m, s, tokens, &segments, c->segment_len, 0) == INFINI_OK &&
                  infini_model_state_reset(s) == INFINI_OK &&
                  run(m, s, tokens, &single, 1, 0) == INFINI_OK &&
                  infini_model_state_reset(s) == INFINI_OK &&
                  run(m, s, tokens, &random, 0, 7) == INFINI_OK;
  tap_ok(ok, "%s: %s: forward runs", be->name, name);
  tap_ok(ok && tu_close_norm("logits", 1, whole.n_logits, whole.logits,
                             whole.n_logits, want_logits, whole.n_logits,
                             ORACLE_RTOL) &&
             tu_close_norm("hidden", 1, whole.n_hidden, whole.hidden,
                           whole.n_hidden, want_hidden, whole.n_hidden,
                           ORACLE_RTOL),
         "%s: %s: float logits and hidden states near the f64 oracle",
         be->name, name);
  /* One call of the whole stream is cut into the same segments. */
  tap_ok(ok && memcmp(segments.logits, whole.logits, (size_t)whole.n_logits * sizeof(float)) == 0,
         "%s: %s: one call per segment == one call, bit for bit", be->name, name);
  tap_ok(ok && close_ff("logits", whole.n_logits, single.logits, whole.logits, CHUNK_RTOL) &&
             close_ff("hidden", whole.n_hidden, single.hidden, whole.hidden, CHUNK_RTOL),
         "%s: %s: token by token == one call", be->name, name);
  tap_ok(ok && close_ff("logits", whole.n_logits, random.logits, whole.logits, CHUNK_RTOL) &&
             close_ff("hidden", whole.n_hidden, random.hidden, whole.hidden, CHUNK_RTOL),
         "%s: %s: random chunks == one call", be->name, name);
  outputs_free(&whole);
  outputs_free(&single);
  outputs_free(&random);
  outputs_free(&segments);
  infini_model_state_free(s);
  infini_model_free(m);
}

static void test_config(const infini_model_config *c) {
  const ptrdiff_t n = SEGMENTS * c->segment_len + EXTRA;
  int32_t *tokens = malloc((size_t)n * sizeof *tokens);
  double *logits = malloc((size_t)(n * c->vocab_size) * sizeof(double));
  double *hidden = malloc((size_t)(c->n_layers * n * c->d_model) * sizeof(double));
  infini_model *m = make_model(c, NULL, 42);
  infini_status st = m ? INFINI_OK : INFINI_ERR_NOMEM;
  make_tokens(tokens, n, c->vocab_size, 5);
  if (st == INFINI_OK)
    oracle_outputs(m, tokens, n, n, logits, hidden, &st);
  if (!tap_ok(st == INFINI_OK, "oracle runs (%s)", config_name(c)))
    goto done;
  test_oracle_chunking(m, tokens, n, config_name(c));
  tap_diag("%s: %td tokens, %zu registered backends", config_name(c), n,
           infini_backend_count());
  for (size_t i = 0; i < infini_backend_count(); i++) {
    const infini_backend *be = infini_backend_at(i);
    if (be->availability() == INFINI_UNAVAILABLE)
      tap_ok(true, "# SKIP %s: %s: backend cannot run here", be->name,
             config_name(c));
    else
      test_backend(c, be, tokens, n, logits, hidden);
  }
done:
  infini_model_free(m);
  free(tokens);
  free(logits);
  free(hidden);
}

/* ---- state: bounded, reset, step -------------------------------------- */

static void test_state(void) {
  const infini_model_config c = tiny_config(INFINI_UPDATE_DELTA, INFINI_POSITION_ROPE, 2);
  const ptrdiff_t n = SEGMENTS * c.segment_len + EXTRA;
  size_t mem, seg;
  int32_t tokens[SEGMENTS * 8 + EXTRA];
  infini_model *m = make_model(&c, NULL, 3);
  infini_model_state *s = NULL, *fresh = NULL;
  outputs a = outputs_new(&c, n), b = outputs_new(&c, n);
  make_tokens(tokens, n, c.vocab_size, 11);
  tap_ok(infini_model_state_bytes(&c, &mem, &seg) == INFINI_OK &&
             mem == (size_t)(c.n_layers * c.n_kv_heads * c.d_head * (c.d_head + 1)) * sizeof(float) &&
             seg == (size_t)(3 * c.n_layers * c.segment_len * c.n_kv_heads * c.d_head) * sizeof(float),
         "state bytes: L H_kv dh (dh + 1) floats of memory, N rows of K, RoPE(K), V");
  if (!m || infini_model_state_create(m, &s) != INFINI_OK ||
      infini_model_state_create(m, &fresh) != INFINI_OK)
    abort();

  /* Bounded: the same buffers before and after a long stream. */
  const float *k0 = s->seg_k, *v0 = s->seg_v, *sc0 = s->lane.scratch;
  const size_t bytes0 = s->scratch_bytes;
  size_t m0, m1;
  infini_state_size(s->memory[0], &m0);
  infini_status st = run(m, s, tokens, &a, 0, 1);
  for (int i = 0; st == INFINI_OK && i < 20; i++)
    st = infini_model_forward(m, s, tokens, n, NULL, NULL);
  infini_state_size(s->memory[0], &m1);
  uint64_t pos = 0;
  infini_model_state_position(s, &pos);
  tap_ok(st == INFINI_OK && pos == (uint64_t)(21 * n) && m0 == m1 &&
             s->seg_k == k0 && s->seg_v == v0 && s->lane.scratch == sc0 &&
             s->scratch_bytes == bytes0,
         "state size and buffers unchanged after %d tokens", 21 * (int)n);

  /* Reset gives what a fresh state gives, to the bit. */
  st = infini_model_state_reset(s);
  infini_model_state_position(s, &pos);
  const bool reset_ok = st == INFINI_OK && pos == 0 &&
                        run(m, s, tokens, &a, n, 0) == INFINI_OK &&
                        run(m, fresh, tokens, &b, n, 0) == INFINI_OK;
  tap_ok(reset_ok && memcmp(a.logits, b.logits, (size_t)a.n_logits * sizeof(float)) == 0 &&
             memcmp(a.hidden, b.hidden, (size_t)a.n_hidden * sizeof(float)) == 0,
         "reset: same outputs as a fresh state, bit for bit");

  /* infini_model_step is forward with n = 1. */
  float step_logits[61];
  infini_model_state_reset(s);
  infini_model_state_reset(fresh);
  bool same = true;
  for (ptrdiff_t i = 0; i < n && same; i++) {
    same = infini_model_step(m, s, tokens[i], step_logits) == INFINI_OK &&
           infini_model_forward(m, fresh, &tokens[i], 1, a.logits, NULL) == INFINI_OK &&
           memcmp(step_logits, a.logits, sizeof step_logits) == 0;
  }
  tap_ok(same, "infini_model_step == forward of one token");
  outputs_free(&a);
  outputs_free(&b);
  infini_model_state_free(s);
  infini_model_state_free(fresh);
  infini_model_free(m);
}

/* ---- bad input ---------------------------------------------------------- */

static void expect(infini_status got, infini_status want, const char *what) {
  tap_ok(got == want, "%s -> %s (got %s)", what, tu_status_name(want),
         tu_status_name(got));
}

static void test_bad_configs(void) {
  infini_model_config c = tiny_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE, 4);
  infini_model_config bad;
  infini_model *m = NULL;
  expect(infini_model_config_check(&c), INFINI_OK, "tiny config");
  expect(infini_model_config_check(NULL), INFINI_ERR_NULL, "config NULL");
  bad = c; bad.d_model = 0;
  expect(infini_model_config_check(&bad), INFINI_ERR_SIZE, "d_model 0");
  bad = c; bad.segment_len = -1;
  expect(infini_model_config_check(&bad), INFINI_ERR_SIZE, "segment_len -1");
  bad = c; bad.n_kv_heads = 3;
  expect(infini_model_config_check(&bad), INFINI_ERR_SHAPE, "H_kv 3 with H 4");
  bad = c; bad.d_head = 7;
  expect(infini_model_config_check(&bad), INFINI_ERR_SHAPE, "odd d_head with RoPE");
  bad.position = INFINI_POSITION_NONE;
  expect(infini_model_config_check(&bad), INFINI_OK, "odd d_head without RoPE");
  bad = c; bad.rope_theta = NAN;
  expect(infini_model_config_check(&bad), INFINI_ERR_PARAM, "rope_theta NaN");
  bad = c; bad.rope_theta = 1.0f;
  expect(infini_model_config_check(&bad), INFINI_ERR_PARAM, "rope_theta 1");
  bad = c; bad.norm_eps = 0.0f;
  expect(infini_model_config_check(&bad), INFINI_ERR_PARAM, "norm_eps 0");
  bad = c; bad.attn_eps = -1.0f;
  expect(infini_model_config_check(&bad), INFINI_ERR_PARAM, "attn_eps -1");
  bad = c; bad.attn_scale = INFINITY;
  expect(infini_model_config_check(&bad), INFINI_ERR_PARAM, "attn_scale inf");
  bad = c; bad.rule = (infini_update_rule)7;
  expect(infini_model_config_check(&bad), INFINI_ERR_PARAM, "unknown rule");
  bad = c; bad.position = (infini_position)9;
  expect(infini_model_config_check(&bad), INFINI_ERR_PARAM, "unknown position");
  bad = c; bad.vocab_size = PTRDIFF_MAX / 2;
  expect(infini_model_config_check(&bad), INFINI_ERR_OVERFLOW, "vocab PTRDIFF_MAX/2");
  bad = c; bad.n_layers = PTRDIFF_MAX;
  expect(infini_model_config_check(&bad), INFINI_ERR_OVERFLOW, "n_layers PTRDIFF_MAX");
  expect(infini_model_config_init(&bad, 10, 8, 1, 2, 2, 0, 8, 4), INFINI_ERR_SIZE,
         "config_init d_head 0");
  expect(model_alloc(&c, NULL, NULL), INFINI_ERR_NULL, "model_alloc out NULL");
  bad = c; bad.n_heads = 0;
  expect(model_alloc(&bad, NULL, &m), INFINI_ERR_SIZE, "model_alloc bad config");
  tap_ok(m == NULL, "model_alloc: nothing returned on error");
}

static void test_bad_forward(void) {
  const infini_model_config c = tiny_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE, 4);
  infini_model *m = make_model(&c, NULL, 1), *other = make_model(&c, NULL, 1);
  infini_model_state *s = NULL, *s_other = NULL, *fresh = NULL;
  float logits[3 * 61], want[3 * 61], hidden[2 * 3 * 32];
  int32_t tokens[3] = {1, 2, 3};
  uint64_t pos = 1;
  if (!m || !other || infini_model_state_create(m, &s) ||
      infini_model_state_create(other, &s_other) ||
      infini_model_state_create(m, &fresh))
    abort();
  expect(infini_model_forward(NULL, s, tokens, 3, logits, NULL), INFINI_ERR_NULL, "model NULL");
  expect(infini_model_forward(m, NULL, tokens, 3, logits, NULL), INFINI_ERR_NULL, "state NULL");
  expect(infini_model_forward(m, s, NULL, 3, logits, NULL), INFINI_ERR_NULL, "tokens NULL");
  expect(infini_model_forward(m, s, tokens, 0, logits, NULL), INFINI_ERR_SIZE, "n 0");
  expect(infini_model_forward(m, s, tokens, -2, logits, NULL), INFINI_ERR_SIZE, "n -2");
  expect(infini_model_forward(m, s_other, tokens, 3, logits, NULL), INFINI_ERR_SHAPE,
         "state of another model");
  expect(infini_model_forward(m, s, tokens, PTRDIFF_MAX / 8, logits, NULL),
         INFINI_ERR_OVERFLOW, "n * V overflows");
  expect(infini_model_forward(m, s, tokens, 3, logits, logits + 10), INFINI_ERR_ALIAS,
         "hidden overlaps logits");
  tokens[2] = 61;
  expect(infini_model_forward(m, s, tokens, 3, logits, NULL), INFINI_ERR_PARAM, "token V");
  tokens[2] = -1;
  expect(infini_model_forward(m, s, tokens, 3, logits, NULL), INFINI_ERR_PARAM, "token -1");
  expect(infini_model_step(m, s, 61, logits), INFINI_ERR_PARAM, "step token V");
  m->layers[1].beta[2] = NAN;
  expect(infini_model_forward(m, s, &tokens[0], 1, logits, NULL), INFINI_ERR_PARAM,
         "a NaN gate in the weights");
  m->layers[1].beta[2] = 0.5f;
  infini_model_state_position(s, &pos);
  tokens[2] = 3;
  /* Nothing was consumed: the next call matches a fresh stream's. */
  const bool ok = pos == 0 &&
                  infini_model_forward(m, s, tokens, 3, logits, hidden) == INFINI_OK &&
                  infini_model_forward(m, fresh, tokens, 3, want, NULL) == INFINI_OK &&
                  memcmp(logits, want, sizeof want) == 0;
  tap_ok(ok, "rejected calls consumed nothing");
  expect(infini_model_state_create(NULL, &s_other), INFINI_ERR_NULL, "state_create model NULL");
  expect(infini_model_state_reset(NULL), INFINI_ERR_NULL, "reset NULL");
  expect(infini_model_state_position(s, NULL), INFINI_ERR_NULL, "position NULL");
  tap_ok(infini_model_get_config(NULL) == NULL && infini_model_backend(NULL) == NULL,
         "getters of NULL give NULL");
  infini_model_state_free(s);
  infini_model_state_free(s_other);
  infini_model_state_free(fresh);
  infini_model_free(m);
  infini_model_free(other);
}

/* ---- footprint and oracle functions ----------------------------------- */

/* The paper's Table 1 language model: 12 layers, 8 heads of 128, N 2048. */
static void test_table1(void) {
  infini_model_config c;
  size_t mem, seg;
  infini_model_config_init(&c, 32000, 1024, 12, 8, 8, 128, 4096, 2048);
  tap_ok(infini_model_state_bytes(&c, &mem, &seg) == INFINI_OK &&
             mem == (size_t)1585152 * sizeof(float),
         "Table 1: memory of 12 layers x 8 heads of 128 = 1,585,152 floats");
  tap_ok(seg == (size_t)3 * 12 * 2048 * 8 * 128 * sizeof(float),
         "partial-segment cache: K, RoPE(K), V of N tokens per layer");
}

/* ulps between a and b (b != 0). */
static double ulps(double a, double b) {
  return fabs(a - b) / (nextafter(fabs(b), INFINITY) - fabs(b));
}

static void test_trig_oracle(void) {
  double worst = 0;
  for (int i = 0; i < 2000; i++) {
    const double x = i * 0.731 + 1e-3;
    worst = fmax(worst, fmax(ulps(infini_sin_oracle(x), sin(x)),
                             ulps(infini_cos_oracle(x), cos(x))));
    worst = fmax(worst, ulps(infini_log_oracle(x + 1.5), log(x + 1.5)));
  }
  tap_ok(worst <= 1.0, "oracle sin, cos, log within 1 ulp of libm (worst %g)", worst);
  tap_ok(isnan(infini_sin_oracle(1e7)) && isnan(infini_log_oracle(-1.0)) &&
             infini_sin_oracle(0.0) == 0.0 && infini_cos_oracle(0.0) == 1.0,
         "oracle trig: domain limits and exact points");
}

/* ---- threads: the same bits for every count ---------------------------- */

/* Outputs of a stream on `threads` threads, whole (cut 0: random chunks
 * from seed 3) or cut into chunks of `cut`. A model this small would run
 * every task on the caller (MIN_PARALLEL_WORK): split every run instead. */
static bool run_threads(const infini_model *m, const int32_t *tokens,
                        outputs *o, int threads, ptrdiff_t cut) {
  infini_model_state *s = NULL;
  bool ok = infini_model_state_create(m, &s) == INFINI_OK &&
            infini_model_state_set_threads(s, threads) == INFINI_OK;
  if (ok)
    s->min_parallel_work = 0;
  ok = ok && run(m, s, tokens, o, cut, 3) == INFINI_OK;
  infini_model_state_free(s);
  return ok;
}

/* D = 64, F = 320, V = 300: the gate, up and LM head have three blocks of
 * output columns (the last partial), the others one, so 2 and 3 threads
 * split them unevenly; q, k and v are one run, up and gate another (a
 * task: a block of each, then SwiGLU); the 4 heads are tasks too, the
 * last of each pair updating the pair's memory head (2 of them); every
 * backend, whole segments and random chunks. */
static void test_threads(void) {
  infini_model_config c;
  infini_model_config_init(&c, 300, 64, 2, 4, 2, 16, 320, 8);
  const ptrdiff_t n = 3 * c.segment_len + 5;
  int32_t *tokens = malloc((size_t)n * sizeof *tokens);
  make_tokens(tokens, n, c.vocab_size, 11);
  for (size_t i = 0; tokens && i < infini_backend_count(); i++) {
    const infini_backend *be = infini_backend_at(i);
    if (be->availability() == INFINI_UNAVAILABLE)
      continue;
    infini_model *m = make_model(&c, be, 9);
    outputs one = outputs_new(&c, n), many = outputs_new(&c, n);
    bool same = m != NULL;
    for (ptrdiff_t cut = 0; same && cut <= c.segment_len; cut += c.segment_len) {
      same = run_threads(m, tokens, &one, 1, cut);
      for (int t = 2; same && t <= 3; t++)
        same = run_threads(m, tokens, &many, t, cut) &&
               memcmp(one.logits, many.logits, (size_t)one.n_logits * 4) == 0 &&
               memcmp(one.hidden, many.hidden, (size_t)one.n_hidden * 4) == 0;
    }
    tap_ok(same, "%s: 2 and 3 threads, whole segments and random chunks == "
                 "1 thread, bit for bit", be->name);
    outputs_free(&one);
    outputs_free(&many);
    infini_model_free(m);
  }
  free(tokens);
  infini_model_state *s = NULL;
  infini_model *m = make_model(&c, NULL, 9);
  const bool made = m && infini_model_state_create(m, &s) == INFINI_OK;
  tap_ok(made && infini_model_state_set_threads(NULL, 2) == INFINI_ERR_NULL &&
             infini_model_state_set_threads(s, 0) == INFINI_ERR_PARAM &&
             infini_model_state_set_threads(s, INFINI_MODEL_MAX_THREADS + 1) ==
                 INFINI_ERR_PARAM &&
             infini_model_state_set_threads(s, 4) == INFINI_OK &&
             infini_model_state_set_threads(s, 1) == INFINI_OK,
         "infini_model_state_set_threads: NULL, 0, MAX + 1 refused; 4 then 1 accepted");
  infini_model_state_free(s);
  infini_model_free(m);
}

/* ---- pipelined calls: the same bits, failures stop every stage --------- */

/* A stream fed as three calls: `head` tokens (so the long calls start
 * inside a segment), 8 segments on threads + 1 threads, then the rest on
 * `threads` (the pipeline's buffers made again for the new count); all
 * on 1 thread for threads = 1. */
static bool run_long_call(const infini_model *m, const int32_t *tokens,
                          outputs *o, int threads, ptrdiff_t head) {
  const infini_model_config *c = infini_model_get_config(m);
  const ptrdiff_t cuts[3] = {head, 8 * c->segment_len, o->n - head - 8 * c->segment_len};
  const int before = threads > 1 ? threads + 1 : 1; /* 1: the reference */
  const int counts[3] = {before, before, threads};
  infini_model_state *s = NULL;
  bool ok = infini_model_state_create(m, &s) == INFINI_OK;
  for (ptrdiff_t i = 0, at = 0; ok && i < 3; at += cuts[i++])
    ok = infini_model_state_set_threads(s, counts[i]) == INFINI_OK &&
         infini_model_forward(m, s, tokens + at, cuts[i],
                              o->logits + at * c->vocab_size, NULL) == INFINI_OK;
  uint64_t pos = 0;
  ok = ok && infini_model_state_position(s, &pos) == INFINI_OK && pos == (uint64_t)o->n;
  infini_model_state_free(s);
  return ok;
}

/* A call of 19 chunks runs as a pipeline of min(T, 2L) stages (src/model.c,
 * "Pipelined calls"): L = 4 layers, 8 units, on 2..9 threads gives 2..8
 * stages, cut at layers and inside them, unevenly for most counts, with
 * and without RoPE (without: the fused layer step), the delta rule too.
 * Every chunk of every stage must give the 1-thread bits: logits, and the
 * hidden rows (run_threads' whole-stream check) on 3 and 8 stages. */
static void test_pipeline(void) {
  const infini_position positions[2] = {INFINI_POSITION_ROPE, INFINI_POSITION_NONE};
  for (int i = 0; i < 2; i++) {
    infini_model_config c;
    infini_model_config_init(&c, 300, 64, 4, 4, 2, 16, 320, 8);
    c.position = positions[i];
    c.rule = i ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR;
    const ptrdiff_t n = 17 * c.segment_len + 5;
    int32_t *tokens = malloc((size_t)n * sizeof *tokens);
    make_tokens(tokens, n, c.vocab_size, 12);
    infini_model *m = tokens ? make_model(&c, NULL, 10) : NULL;
    outputs one = outputs_new(&c, n), many = outputs_new(&c, n);
    bool same = m && run_long_call(m, tokens, &one, 1, 3);
    int t = 2;
    for (; same && t <= 9; t++)
      same = run_long_call(m, tokens, &many, t, 3) &&
             memcmp(one.logits, many.logits, (size_t)one.n_logits * 4) == 0;
    char differs[48] = "";
    if (!same)
      snprintf(differs, sizeof differs, " (differs at %d threads)", t - 1);
    tap_ok(same, "pipelined call (%s, %s rule): 2..9 threads == 1 thread, "
                 "bit for bit%s",
           i ? "no RoPE" : "RoPE", i ? "delta" : "linear", differs);
    same = m && run_threads(m, tokens, &one, 1, n);
    for (t = 3; same && t <= 8; t += 5)
      same = run_threads(m, tokens, &many, t, n) &&
             memcmp(one.logits, many.logits, (size_t)one.n_logits * 4) == 0 &&
             memcmp(one.hidden, many.hidden, (size_t)one.n_hidden * 4) == 0;
    tap_ok(same, "pipelined call: hidden rows of every layer on 3 and 8 stages == 1 thread");
    outputs_free(&one);
    outputs_free(&many);
    infini_model_free(m);
    free(tokens);
  }
}

/* A kernel failing in a pipelined call: every stage stops (no hang) and
 * the call reports it. */
static void test_pipeline_failure(void) {
  static infini_backend failing;
  failing = minimal_backend;
  failing.name = "model-failing-pipeline";
  failing.retrieve = failing_retrieve;
  infini_model_config c = tiny_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE, 4);
  c.n_layers = 3;
  infini_model *m = make_model(&c, &failing, 1);
  infini_model_state *s = NULL;
  const ptrdiff_t n = 8 * c.segment_len;
  int32_t *tokens = calloc((size_t)n, sizeof *tokens);
  infini_status st = INFINI_ERR_NOMEM;
  if (m && tokens && infini_model_state_create(m, &s) == INFINI_OK &&
      infini_model_state_set_threads(s, 3) == INFINI_OK)
    st = infini_model_forward(m, s, tokens, n, NULL, NULL);
  tap_ok(st == INFINI_ERR_BACKEND,
         "a failing kernel in a pipelined call -> INFINI_ERR_BACKEND (got %s)",
         tu_status_name(st));
  free(tokens);
  infini_model_state_free(s);
  infini_model_free(m);
}

int main(void) {
  tap_ok(infini_backend_register(&minimal_backend) == INFINI_OK,
         "register a backend with only the required kernels");
  const infini_model_config configs[] = {
      tiny_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE, 4),
      tiny_config(INFINI_UPDATE_DELTA, INFINI_POSITION_ROPE, 4),
      tiny_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_NONE, 4),
      tiny_config(INFINI_UPDATE_DELTA, INFINI_POSITION_NONE, 2),
      tiny_config(INFINI_UPDATE_DELTA, INFINI_POSITION_ROPE, 2),
      tiny_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE, 1),
      odd_head_config(),
  };
  for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
    test_config(&configs[i]);
  test_state();
  test_bad_configs();
  test_bad_forward();
  test_table1();
  test_trig_oracle();
  test_failing_backend();
  test_threads();
  test_pipeline();
  test_pipeline_failure();
  return tap_done();
}

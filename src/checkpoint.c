/*
 * src/checkpoint.c - save and restore a stream (docs/model.md,
 * "Checkpoints").
 *
 * Every number is written byte by byte in little-endian order and decoded
 * the same way, never by casting the buffer, so a checkpoint written on
 * x86 restores on big-endian s390x. Loading validates and decodes the
 * whole file into temporary buffers before it writes anything into the
 * state: a bad file never leaves a half-restored stream behind.
 */
#include "config.h"
#include "src/checkpoint.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "src/fileio.h"
#include "src/model.h"

static const unsigned char magic[8] = {'I', 'N', 'F', 'I', 'N', 'I', 'C', 'K'};

/* Byte offsets of the header fields. */
enum {
  OFF_VERSION = 8,
  OFF_DIGEST = 12,
  OFF_CONFIG = 44,
  N_CONFIG_FIELDS = 14,
  FIRST_FLOAT_FIELD = 10, /* rope_theta, norm_eps, attn_eps, attn_scale */
  OFF_TOKENS = OFF_CONFIG + 8 * N_CONFIG_FIELDS
};
_Static_assert(OFF_TOKENS + 8 == CHECKPOINT_HEADER_BYTES, "header layout");


/* ---- little-endian encoding --------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t x) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(x >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t x) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(x >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
  uint32_t x = 0;
  for (int i = 0; i < 4; i++)
    x |= (uint32_t)p[i] << (8 * i);
  return x;
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t x = 0;
  for (int i = 0; i < 8; i++)
    x |= (uint64_t)p[i] << (8 * i);
  return x;
}

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static void put_floats(unsigned char *p, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    put_u32(p + 4 * i, float_bits(x[i]));
}

static void get_floats(const unsigned char *p, float *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uint32_t u = get_u32(p + 4 * i);
    memcpy(&x[i], &u, sizeof u);
  }
}

/* ---- the config as 14 u64 fields ---------------------------------------- */

/* Every config field is stored as a u64 (sizes and enums as themselves,
 * floats as their bit pattern), so one loop encodes, decodes and compares
 * them, and a mismatch can name the field. */
static const char *const field_names[N_CONFIG_FIELDS] = {
    "vocab_size", "d_model",  "n_layers",   "n_heads",  "n_kv_heads",
    "d_head",     "d_ff",     "segment_len", "rule",    "position",
    "rope_theta", "norm_eps", "attn_eps",   "attn_scale"};

static void config_fields(const infini_model_config *c,
                          uint64_t f[N_CONFIG_FIELDS]) {
  const ptrdiff_t sizes[8] = {c->vocab_size, c->d_model, c->n_layers,
                              c->n_heads,    c->n_kv_heads, c->d_head,
                              c->d_ff,       c->segment_len};
  for (int i = 0; i < 8; i++)
    f[i] = (uint64_t)sizes[i];
  f[8] = (uint64_t)c->rule;
  f[9] = (uint64_t)c->position;
  f[10] = float_bits(c->rope_theta);
  f[11] = float_bits(c->norm_eps);
  f[12] = float_bits(c->attn_eps);
  f[13] = float_bits(c->attn_scale);
}

/* ---- sizes ---------------------------------------------------------------- */

/* The shape a checkpoint's body depends on, as the file states it. */
typedef struct ckpt_shape {
  uint64_t layers, kv_heads, d_head, segment_len, tokens, fill;
  size_t row;         /* floats in one partial-segment row: Hkv * dh */
  size_t head_floats; /* M and z of one head: dh * (dh + 1) */
  size_t mem_floats;  /* every layer's memories */
  size_t seg_floats;  /* one of seg_k/seg_k_pos/seg_v, rows 0..fill-1, all layers */
  size_t total;       /* bytes of the whole file */
} ckpt_shape;

static bool mul_ok(size_t a, uint64_t b, size_t *out) {
  if (b > SIZE_MAX || (a != 0 && (size_t)b > SIZE_MAX / a))
    return false;
  *out = a * (size_t)b;
  return true;
}

static bool add_ok(size_t a, size_t b, size_t *out) {
  if (a > SIZE_MAX - b)
    return false;
  *out = a + b;
  return true;
}

/* Fill in the derived sizes; false when a size is zero or a count does not
 * fit in size_t (or a shape no model could have). */
static bool shape_sizes(ckpt_shape *s) {
  if (!s->layers || !s->kv_heads || !s->d_head || !s->segment_len ||
      s->d_head >= PTRDIFF_MAX)
    return false;
  s->fill = s->tokens % s->segment_len;
  size_t head, per_layer, seg, body;
  if (!mul_ok(1, s->kv_heads, &s->row) ||
      !mul_ok(s->row, s->d_head, &s->row) ||
      !mul_ok(s->d_head, s->d_head + 1, &head) ||
      !mul_ok(head, s->kv_heads, &per_layer) ||
      !mul_ok(per_layer, s->layers, &s->mem_floats) ||
      !mul_ok(s->row, s->fill, &seg) || !mul_ok(seg, s->layers, &s->seg_floats))
    return false;
  s->head_floats = head;
  size_t floats;
  if (!mul_ok(s->seg_floats, 3, &floats) ||
      !add_ok(floats, s->mem_floats, &floats) || !mul_ok(4, floats, &body) ||
      !add_ok(body, CHECKPOINT_HEADER_BYTES + CHECKPOINT_TRAILER_BYTES,
              &s->total))
    return false;
  return true;
}

static ckpt_shape shape_of(const infini_model_config *c, uint64_t tokens) {
  ckpt_shape s = {.layers = (uint64_t)c->n_layers,
                  .kv_heads = (uint64_t)c->n_kv_heads,
                  .d_head = (uint64_t)c->d_head,
                  .segment_len = (uint64_t)c->segment_len,
                  .tokens = tokens};
  return s;
}

/* ---- save ------------------------------------------------------------------ */

static void sha256_of(const unsigned char *p, size_t n, unsigned char out[32]) {
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, n, p);
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

static void encode_header(const infini_model *model, uint64_t tokens,
                          unsigned char *p) {
  memcpy(p, magic, sizeof magic);
  put_u32(p + OFF_VERSION, INFINI_CHECKPOINT_VERSION);
  memcpy(p + OFF_DIGEST, model->digest, 32);
  uint64_t f[N_CONFIG_FIELDS];
  config_fields(&model->config, f);
  for (int i = 0; i < N_CONFIG_FIELDS; i++)
    put_u64(p + OFF_CONFIG + 8 * i, f[i]);
  put_u64(p + OFF_TOKENS, tokens);
}

/* Body: per layer, per key/value head, M (d_head rows) then z; then per
 * layer the rows 0..fill-1 of seg_k, seg_k_pos and seg_v. */
static unsigned char *encode_body(const infini_model_state *state,
                                  const ckpt_shape *s, unsigned char *p) {
  const size_t dh = (size_t)s->d_head;
  for (uint64_t l = 0; l < s->layers; l++)
    for (uint64_t g = 0; g < s->kv_heads; g++) {
      float *m, *z;
      ptrdiff_t ldm;
      infini_state_head(state->memory[l], (ptrdiff_t)g, &m, &ldm, &z);
      for (size_t r = 0; r < dh; r++, p += 4 * dh)
        put_floats(p, m + r * (size_t)ldm, dh);
      put_floats(p, z, dh);
      p += 4 * dh;
    }
  const size_t layer_stride = s->row * (size_t)s->segment_len;
  const size_t rows = s->row * (size_t)s->fill;
  for (uint64_t l = 0; l < s->layers; l++) {
    const float *seg[3] = {state->seg_k, state->seg_k_pos, state->seg_v};
    for (int t = 0; t < 3; t++, p += 4 * rows)
      put_floats(p, seg[t] + l * layer_stride, rows);
  }
  return p;
}

infini_status infini_model_checkpoint_save(const infini_model *model,
                                           const infini_model_state *state,
                                           const char *path, char *err,
                                           size_t errlen) {
  if (!model || !state || !path)
    return INFINI_ERR_NULL;
  if (state->model != model) {
    fileio_set_error(err, errlen, "%s: the stream belongs to another model", path);
    return INFINI_ERR_SHAPE;
  }
  ckpt_shape s = shape_of(&model->config, state->tokens);
  if (!shape_sizes(&s)) {
    fileio_set_error(err, errlen, "%s: the state is too large to save", path);
    return INFINI_ERR_OVERFLOW;
  }
  unsigned char *buf = malloc(s.total);
  if (!buf) {
    fileio_set_error(err, errlen, "%s: out of memory for %zu bytes", path, s.total);
    return INFINI_ERR_NOMEM;
  }
  encode_header(model, state->tokens, buf);
  unsigned char *end = encode_body(state, &s, buf + CHECKPOINT_HEADER_BYTES);
  sha256_of(buf, (size_t)(end - buf), end);
  const infini_status st = fileio_write_atomic(path, buf, s.total, err, errlen);
  free(buf);
  return st;
}

/* ---- load ------------------------------------------------------------------ */

/* Magic, version and the declared shape; FORMAT or VERSION on failure. */
static infini_status check_header(const unsigned char *b, size_t len,
                                  ckpt_shape *s, char *err, size_t errlen) {
  const size_t n = len < sizeof magic ? len : sizeof magic;
  if (n && memcmp(b, magic, n) != 0) {
    fileio_set_error(err, errlen, "not an infini checkpoint (bad magic bytes)");
    return INFINI_ERR_FORMAT;
  }
  if (len < OFF_DIGEST) {
    fileio_set_error(err, errlen, "truncated checkpoint: %zu bytes, not even a "
            "version field", len);
    return INFINI_ERR_FORMAT;
  }
  const uint32_t version = get_u32(b + OFF_VERSION);
  if (version != INFINI_CHECKPOINT_VERSION) {
    fileio_set_error(err, errlen, "checkpoint format version %lu, this library reads "
            "version %d", (unsigned long)version, INFINI_CHECKPOINT_VERSION);
    return INFINI_ERR_VERSION;
  }
  if (len < CHECKPOINT_HEADER_BYTES + CHECKPOINT_TRAILER_BYTES) {
    fileio_set_error(err, errlen, "truncated checkpoint: %zu bytes, shorter than its "
            "header and checksum (%d)", len,
            CHECKPOINT_HEADER_BYTES + CHECKPOINT_TRAILER_BYTES);
    return INFINI_ERR_FORMAT;
  }
  const unsigned char *c = b + OFF_CONFIG;
  *s = (ckpt_shape){.layers = get_u64(c + 16), .kv_heads = get_u64(c + 32),
                    .d_head = get_u64(c + 40), .segment_len = get_u64(c + 56),
                    .tokens = get_u64(b + OFF_TOKENS)};
  if (!shape_sizes(s)) {
    fileio_set_error(err, errlen, "checkpoint header declares a zero size or sizes "
            "whose byte count overflows");
    return INFINI_ERR_FORMAT;
  }
  if (len != s->total) {
    fileio_set_error(err, errlen, "%s checkpoint: %zu bytes, its header implies %zu",
            len < s->total ? "truncated" : "trailing bytes in", len, s->total);
    return INFINI_ERR_FORMAT;
  }
  return INFINI_OK;
}

/* "its <field> is <file's>, the model's is <model's>": sizes and enums as
 * integers, the float fields (index FIRST_FLOAT_FIELD on) as floats. */
static void describe_mismatch(int i, uint64_t got, uint64_t want, char *err,
                              size_t errlen) {
  if (i < FIRST_FLOAT_FIELD) {
    fileio_set_error(err, errlen, "checkpoint is from another model: its %s is %llu, "
            "the model's is %llu", field_names[i], (unsigned long long)got,
            (unsigned long long)want);
    return;
  }
  float g, w;
  const uint32_t gb = (uint32_t)got, wb = (uint32_t)want;
  memcpy(&g, &gb, sizeof g);
  memcpy(&w, &wb, sizeof w);
  fileio_set_error(err, errlen, "checkpoint is from another model: its %s is %.9g, "
          "the model's is %.9g", field_names[i], (double)g, (double)w);
}

/* Checksum, then config and weights against the model. */
static infini_status check_identity(const infini_model *model,
                                    const unsigned char *b, size_t len,
                                    char *err, size_t errlen) {
  unsigned char sum[32];
  sha256_of(b, len - CHECKPOINT_TRAILER_BYTES, sum);
  if (memcmp(sum, b + len - CHECKPOINT_TRAILER_BYTES, sizeof sum) != 0) {
    fileio_set_error(err, errlen, "checkpoint is corrupt: its SHA-256 checksum does "
            "not match its content");
    return INFINI_ERR_FORMAT;
  }
  uint64_t want[N_CONFIG_FIELDS];
  config_fields(&model->config, want);
  for (int i = 0; i < N_CONFIG_FIELDS; i++) {
    const uint64_t got = get_u64(b + OFF_CONFIG + 8 * i);
    if (got != want[i]) {
      describe_mismatch(i, got, want[i], err, errlen);
      return INFINI_ERR_MISMATCH;
    }
  }
  if (memcmp(b + OFF_DIGEST, model->digest, 32) != 0) {
    fileio_set_error(err, errlen, "checkpoint is from a model with the same config "
            "but other weights (model digest differs)");
    return INFINI_ERR_MISMATCH;
  }
  return INFINI_OK;
}

/* Every layer's memory has the model's shape, so the commit cannot fail. */
static bool state_shape_ok(const infini_model_state *state,
                           const ckpt_shape *s) {
  for (uint64_t l = 0; l < s->layers; l++) {
    ptrdiff_t hkv, dk, dv;
    if (infini_state_shape(state->memory[l], &hkv, &dk, &dv) != INFINI_OK ||
        (uint64_t)hkv != s->kv_heads || (uint64_t)dk != s->d_head ||
        (uint64_t)dv != s->d_head)
      return false;
  }
  return true;
}

/* Write the decoded floats (memories then the three segment arrays) into
 * the state. Rows past fill are zeroed, so a restored state depends only
 * on the file. */
static void commit(infini_model_state *state, const ckpt_shape *s,
                   const float *x) {
  const size_t dh = (size_t)s->d_head;
  for (uint64_t l = 0; l < s->layers; l++)
    for (uint64_t g = 0; g < s->kv_heads; g++) {
      float *m, *z;
      ptrdiff_t ldm;
      infini_state_head(state->memory[l], (ptrdiff_t)g, &m, &ldm, &z);
      for (size_t r = 0; r < dh; r++, x += dh)
        memcpy(m + r * (size_t)ldm, x, dh * sizeof *x);
      memcpy(z, x, dh * sizeof *x);
      x += dh;
    }
  const size_t layer_stride = s->row * (size_t)s->segment_len;
  const size_t rows = s->row * (size_t)s->fill;
  for (uint64_t l = 0; l < s->layers; l++) {
    float *seg[3] = {state->seg_k, state->seg_k_pos, state->seg_v};
    for (int t = 0; t < 3; t++, x += rows) {
      float *dst = seg[t] + l * layer_stride;
      memcpy(dst, x, rows * sizeof *x);
      memset(dst + rows, 0, (layer_stride - rows) * sizeof *x);
    }
  }
  state->tokens = s->tokens;
}

infini_status checkpoint_parse(const infini_model *model,
                               const unsigned char *bytes, size_t len,
                               infini_model_state *state, char *err,
                               size_t errlen) {
  if (!model || !state || (!bytes && len))
    return INFINI_ERR_NULL;
  if (state->model != model) {
    fileio_set_error(err, errlen, "the stream to restore belongs to another model");
    return INFINI_ERR_SHAPE;
  }
  ckpt_shape s;
  infini_status st = check_header(bytes, len, &s, err, errlen);
  if (st == INFINI_OK)
    st = check_identity(model, bytes, len, err, errlen);
  if (st != INFINI_OK)
    return st;
  if (!state_shape_ok(state, &s)) {
    fileio_set_error(err, errlen, "the stream's memory does not have the model's shape");
    return INFINI_ERR_SHAPE;
  }
  const size_t floats = s.mem_floats + 3 * s.seg_floats;
  float *tmp = malloc(floats ? floats * sizeof *tmp : 1);
  if (!tmp) {
    fileio_set_error(err, errlen, "out of memory for a %zu-byte checkpoint", len);
    return INFINI_ERR_NOMEM;
  }
  get_floats(bytes + CHECKPOINT_HEADER_BYTES, tmp, floats);
  commit(state, &s, tmp);
  free(tmp);
  return INFINI_OK;
}

infini_status infini_model_checkpoint_load(const infini_model *model,
                                           infini_model_state *state,
                                           const char *path, char *err,
                                           size_t errlen) {
  if (!model || !state || !path)
    return INFINI_ERR_NULL;
  /* The largest file this model can have (a full partial segment less one
   * row); anything longer is refused before it is read. */
  ckpt_shape s = shape_of(&model->config, (uint64_t)model->config.segment_len - 1);
  if (!shape_sizes(&s))
    return INFINI_ERR_OVERFLOW;
  unsigned char *bytes;
  size_t len;
  infini_status st = fileio_read_all(path, s.total, &bytes, &len, err, errlen);
  if (st != INFINI_OK)
    return st;
  char why[256] = "";
  st = checkpoint_parse(model, bytes, len, state, why, sizeof why);
  free(bytes);
  if (st != INFINI_OK)
    fileio_set_error(err, errlen, "%s: %s", path, why);
  return st;
}

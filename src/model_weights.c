/*
 * src/model_weights.c - the model's weights file (docs/model.md, "Weights
 * file"): the config as safetensors metadata, the loader
 * (infini_model_load), the generator of deterministic random weights
 * (infini_model_write_random) and the model digest. Tensor names, shapes
 * and order come from model.c's one table (model_tensor_info).
 */
#include "config.h"
#include "src/model.h"

#include <ctype.h>
#include <math.h>
#include <nettle/sha2.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/fileio.h"
#include "src/safetensors.h"
#include "vectors/prng.h"

#define FORMAT_NAME "infini-model"
/* Any file size is accepted: the header is checked against the real size
 * and the config before a byte of data is read (load_fd). */
#define MAX_FILE_BYTES (SIZE_MAX - 1)

/* ---- the config as metadata -------------------------------------------- */

typedef enum key_kind { K_SIZE, K_RULE, K_POSITION, K_FLOAT } key_kind;

/* One metadata key per config field, in the order they are written and
 * hashed. */
static const struct config_key {
  const char *key;
  key_kind kind;
  size_t offset;
} config_keys[] = {
    {"vocab_size", K_SIZE, offsetof(infini_model_config, vocab_size)},
    {"d_model", K_SIZE, offsetof(infini_model_config, d_model)},
    {"n_layers", K_SIZE, offsetof(infini_model_config, n_layers)},
    {"n_heads", K_SIZE, offsetof(infini_model_config, n_heads)},
    {"n_kv_heads", K_SIZE, offsetof(infini_model_config, n_kv_heads)},
    {"d_head", K_SIZE, offsetof(infini_model_config, d_head)},
    {"d_ff", K_SIZE, offsetof(infini_model_config, d_ff)},
    {"segment_len", K_SIZE, offsetof(infini_model_config, segment_len)},
    {"rule", K_RULE, offsetof(infini_model_config, rule)},
    {"position", K_POSITION, offsetof(infini_model_config, position)},
    {"rope_theta", K_FLOAT, offsetof(infini_model_config, rope_theta)},
    {"norm_eps", K_FLOAT, offsetof(infini_model_config, norm_eps)},
    {"attn_eps", K_FLOAT, offsetof(infini_model_config, attn_eps)},
    {"attn_scale", K_FLOAT, offsetof(infini_model_config, attn_scale)},
};
#define N_CONFIG_KEYS (sizeof config_keys / sizeof config_keys[0])
/* "format", "format_version", then the config keys. */
#define N_META (2 + N_CONFIG_KEYS)
#define META_VALUE_MAX 32
#define META_KEY_MAX 16

/* A float as C99's %a prints it widened to double with glibc: "0x0p+0",
 * or "0x1.<hex digits, trailing zeros dropped>p<signed exponent>".
 * Written out here rather than left to printf so that the metadata, and
 * the digest over it, are the same bytes with every C library. */
static void hex_float(float x, char *out, size_t outlen) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  const char *sign = u >> 31 ? "-" : "";
  int exp = (int)(u >> 23 & 0xff);
  uint32_t mant = u & UINT32_C(0x7fffff);
  if (exp == 0xff) {
    snprintf(out, outlen, "%s", mant ? "nan" : u >> 31 ? "-inf" : "inf");
    return;
  }
  if (exp == 0 && mant == 0) {
    snprintf(out, outlen, "%s0x0p+0", sign);
    return;
  }
  exp -= 127;
  if (exp == -127) { /* subnormal: shift the leading 1 out of the fraction */
    exp = -126;
    while (!(mant & UINT32_C(0x800000))) {
      mant <<= 1;
      exp--;
    }
    mant &= UINT32_C(0x7fffff);
  }
  char digits[8];
  snprintf(digits, sizeof digits, "%06lx", (unsigned long)(mant << 1));
  size_t n = strlen(digits);
  while (n && digits[n - 1] == '0')
    digits[--n] = 0;
  snprintf(out, outlen, "%s0x1%s%sp%+d", sign, n ? "." : "", digits, exp);
}

static void encode_value(const infini_model_config *c,
                         const struct config_key *k, char *out) {
  const char *field = (const char *)c + k->offset;
  switch (k->kind) {
  case K_SIZE:
    snprintf(out, META_VALUE_MAX, "%td", *(const ptrdiff_t *)field);
    break;
  case K_RULE:
    snprintf(out, META_VALUE_MAX, "%s",
             c->rule == INFINI_UPDATE_DELTA ? "delta" : "linear");
    break;
  case K_POSITION:
    snprintf(out, META_VALUE_MAX, "%s",
             c->position == INFINI_POSITION_ROPE ? "rope" : "none");
    break;
  case K_FLOAT:
    hex_float(*(const float *)field, out, META_VALUE_MAX);
    break;
  }
}

/* The metadata of a config, in the written (and hashed) order. */
typedef struct meta_text {
  st_meta entries[N_META];
  char keys[N_META][META_KEY_MAX];
  char values[N_META][META_VALUE_MAX];
} meta_text;

static void config_meta(const infini_model_config *c, meta_text *mt) {
  snprintf(mt->keys[0], META_KEY_MAX, "format");
  snprintf(mt->values[0], META_VALUE_MAX, "%s", FORMAT_NAME);
  snprintf(mt->keys[1], META_KEY_MAX, "format_version");
  snprintf(mt->values[1], META_VALUE_MAX, "%d", INFINI_MODEL_FORMAT_VERSION);
  for (size_t i = 0; i < N_CONFIG_KEYS; i++) {
    snprintf(mt->keys[2 + i], META_KEY_MAX, "%s", config_keys[i].key);
    encode_value(c, &config_keys[i], mt->values[2 + i]);
  }
  for (size_t i = 0; i < N_META; i++) {
    mt->entries[i].key = mt->keys[i];
    mt->entries[i].value = mt->values[i];
  }
}

/* A size: decimal digits only, no sign, within ptrdiff_t. */
static bool parse_size(const char *s, ptrdiff_t *out) {
  ptrdiff_t v = 0;
  if (!*s)
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (PTRDIFF_MAX - (*s - '0')) / 10)
      return false;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return true;
}

/* A float as C's strtof reads it (hex floats are exact), the whole string. */
static bool parse_float(const char *s, float *out) {
  char *end;
  if (!*s || isspace((unsigned char)*s))
    return false;
  *out = strtof(s, &end);
  return *end == 0;
}

static bool parse_enum(const char *s, const char *zero, const char *one,
                       int *out) {
  if (strcmp(s, zero) == 0 || strcmp(s, one) == 0) {
    *out = strcmp(s, one) == 0;
    return true;
  }
  return false;
}

static bool decode_value(const char *s, const struct config_key *k,
                         infini_model_config *c) {
  char *field = (char *)c + k->offset;
  int e;
  switch (k->kind) {
  case K_SIZE: return parse_size(s, (ptrdiff_t *)field);
  case K_FLOAT: return parse_float(s, (float *)field);
  case K_RULE:
    if (!parse_enum(s, "linear", "delta", &e))
      return false;
    c->rule = e ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR;
    return true;
  case K_POSITION:
    if (!parse_enum(s, "none", "rope", &e))
      return false;
    c->position = e ? INFINI_POSITION_ROPE : INFINI_POSITION_NONE;
    return true;
  }
  return false;
}

static infini_status check_format(const st_file *f, char *err, size_t errlen) {
  const char *format = st_meta_get(f, "format");
  const char *version = st_meta_get(f, "format_version");
  if (!format || strcmp(format, FORMAT_NAME) != 0)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "not an infini-model weights file (metadata \"format\" "
                    "is %s%.40s%s, not \"" FORMAT_NAME "\")",
                    format ? "\"" : "", format ? format : "absent",
                    format ? "\"" : "");
  char want[META_VALUE_MAX];
  snprintf(want, sizeof want, "%d", INFINI_MODEL_FORMAT_VERSION);
  if (!version)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "metadata has no \"format_version\"");
  if (strcmp(version, want) != 0)
    return fileio_error(err, errlen, INFINI_ERR_VERSION,
                    "format_version \"%.40s\" is not the version %s this "
                    "library reads",
                    version, want);
  return INFINI_OK;
}

static infini_status config_from_meta(const st_file *f,
                                      infini_model_config *c, char *err,
                                      size_t errlen) {
  infini_status st = check_format(f, err, errlen);
  if (st)
    return st;
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < N_CONFIG_KEYS; i++) {
    const char *s = st_meta_get(f, config_keys[i].key);
    if (!s)
      return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                      "metadata has no \"%s\"", config_keys[i].key);
    if (!decode_value(s, &config_keys[i], c))
      return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                      "metadata \"%s\" is \"%.40s\", not a valid value",
                      config_keys[i].key, s);
  }
  if ((st = infini_model_config_check(c)))
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "the config in the metadata is invalid: %s",
                    infini_strerror(st));
  return INFINI_OK;
}

/* ---- the digest ------------------------------------------------------------ */

/* The config part: one line "key=value\n" per metadata entry, in the
 * written order. */
static void hash_config(struct sha256_ctx *h, const infini_model_config *c) {
  meta_text mt;
  config_meta(c, &mt);
  for (size_t i = 0; i < N_META; i++) {
    char line[META_KEY_MAX + META_VALUE_MAX + 2];
    const int n = snprintf(line, sizeof line, "%s=%s\n", mt.keys[i],
                           mt.values[i]);
    sha256_update(h, (size_t)n, (const uint8_t *)line);
  }
}

void model_compute_digest(infini_model *m) {
  struct sha256_ctx h;
  sha256_init(&h);
  hash_config(&h, &m->config);
  const ptrdiff_t n = model_tensor_count(&m->config);
  for (ptrdiff_t i = 0; i < n; i++) {
    model_tensor t;
    model_tensor_at(m, i, &t);
    unsigned char buf[4096];
    for (ptrdiff_t done = 0; done < t.count;) {
      const ptrdiff_t k = t.count - done < 1024 ? t.count - done : 1024;
      st_encode_f32(t.data + done, (size_t)k, buf);
      sha256_update(&h, 4 * (size_t)k, buf);
      done += k;
    }
  }
  sha256_digest(&h, SHA256_DIGEST_SIZE, m->digest);
}

/* ---- the loader -------------------------------------------------------------- */

static void st_shape_of(const model_tensor *mt, st_tensor *t) {
  t->ndim = (size_t)mt->ndim;
  t->shape[0] = (size_t)mt->shape[0];
  t->shape[1] = (size_t)mt->shape[1];
}

/* "[a, b, ...]" */
static void format_shape(const st_tensor *t, char *buf, size_t len) {
  size_t n = (size_t)snprintf(buf, len, "[");
  for (size_t d = 0; d < t->ndim && n < len; d++)
    n += (size_t)snprintf(buf + n, len - n, "%s%zu", d ? ", " : "", t->shape[d]);
  if (n < len)
    snprintf(buf + n, len - n, "]");
}

static infini_status check_tensor(const model_tensor *mt, const st_tensor *t,
                                  char *err, size_t errlen) {
  if (!t)
    return fileio_error(err, errlen, INFINI_ERR_SHAPE, "tensor '%s' is missing",
                    mt->name);
  st_tensor want;
  st_shape_of(mt, &want);
  bool same = t->ndim == want.ndim;
  for (size_t d = 0; same && d < want.ndim; d++)
    same = t->shape[d] == want.shape[d];
  if (same)
    return INFINI_OK;
  char got_s[200], want_s[64];
  format_shape(t, got_s, sizeof got_s);
  format_shape(&want, want_s, sizeof want_s);
  return fileio_error(err, errlen, INFINI_ERR_SHAPE,
                  "tensor '%s' has shape %s, the config needs %s", mt->name,
                  got_s, want_s);
}

/* Weights must be finite: a NaN or infinity would not fail anywhere, it
 * would only make every output NaN. */
static infini_status check_finite(const model_tensor *mt, char *err,
                                  size_t errlen) {
  for (ptrdiff_t i = 0; i < mt->count; i++)
    if (!isfinite(mt->data[i]))
      return fileio_error(err, errlen, INFINI_ERR_PARAM,
                      "tensor '%s': element %td is not finite (after "
                      "conversion to float)",
                      mt->name, i);
  return INFINI_OK;
}

/* The config's tensors against the file's, before anything is allocated:
 * every tensor the config needs is present with its shape, and the file
 * has no other. At most n_tensors + 1 of the config's 3 + 10 L tensors are
 * visited (if it needs more than the file has, one of those is missing),
 * so a header declaring 10^15 layers is refused at once. */
static infini_status check_tensors(const infini_model_config *c,
                                   const st_file *f, char *err,
                                   size_t errlen) {
  const ptrdiff_t n = model_tensor_count(c);
  const ptrdiff_t visit =
      (size_t)n > f->n_tensors ? (ptrdiff_t)f->n_tensors + 1 : n;
  for (ptrdiff_t i = 0; i < visit; i++) {
    model_tensor mt;
    model_tensor_info(c, i, &mt);
    const infini_status st = check_tensor(&mt, st_find(f, mt.name), err, errlen);
    if (st)
      return st;
  }
  if ((size_t)n == f->n_tensors)
    return INFINI_OK;
  /* fewer needed than present: name one the config does not use */
  for (size_t k = 0; k < f->n_tensors; k++) {
    bool used = false;
    for (ptrdiff_t i = 0; i < n && !used; i++) {
      model_tensor mt;
      model_tensor_info(c, i, &mt);
      used = strcmp(mt.name, f->tensors[k].name) == 0;
    }
    if (!used)
      return fileio_error(err, errlen, INFINI_ERR_SHAPE,
                          "tensor '%.80s' is not a weight of this config",
                          f->tensors[k].name);
  }
  return INFINI_OK;
}

/* Read each tensor's bytes (already checked to lie inside the file) and
 * convert them into the model, one tensor at a time. */
static infini_status copy_tensors(infini_model *m, st_file *f, int fd,
                                  const char *path, uint64_t data_start,
                                  char *err, size_t errlen) {
  const ptrdiff_t n = model_tensor_count(&m->config);
  infini_status st = INFINI_OK;
  for (ptrdiff_t i = 0; i < n && !st; i++) {
    model_tensor mt;
    model_tensor_at(m, i, &mt);
    st_tensor *t = (st_tensor *)st_find(f, mt.name);
    const size_t bytes = t->end - t->begin;
    unsigned char *buf = malloc(bytes ? bytes : 1);
    if (!buf)
      return fileio_error(err, errlen, INFINI_ERR_NOMEM,
                          "out of memory for tensor '%s'", mt.name);
    st = fileio_pread(fd, path, buf, bytes, data_start + t->begin, err, errlen);
    if (!st) {
      t->data = buf;
      st_to_float(t, mt.data);
      st = check_finite(&mt, err, errlen);
    }
    t->data = NULL;
    free(buf);
  }
  return st;
}

static infini_status load_parsed(st_file *f, int fd, const char *path,
                                 uint64_t data_start,
                                 const infini_backend *backend,
                                 infini_model **out, char *err, size_t errlen) {
  infini_model_config c;
  infini_status st = config_from_meta(f, &c, err, errlen);
  if (!st)
    st = check_tensors(&c, f, err, errlen);
  infini_model *m = NULL;
  if (!st && (st = model_alloc(&c, backend, &m)))
    fileio_error(err, errlen, st, "cannot create the model: %s",
             infini_strerror(st));
  if (!st)
    st = copy_tensors(m, f, fd, path, data_start, err, errlen);
  if (!st && (st = model_pack_weights(m)))
    fileio_error(err, errlen, st, "cannot pack the weights for backend %s: %s",
                 m->backend->name, infini_strerror(st));
  if (st) {
    infini_model_free(m);
    return st;
  }
  model_compute_digest(m);
  *out = m;
  return INFINI_OK;
}

/* Prefix err's sentence with the path, so every message names its file. */
static infini_status with_path(infini_status st, const char *path, char *err,
                               size_t errlen) {
  if (st && err && errlen && strncmp(err, path, strlen(path)) != 0) {
    char *msg = malloc(errlen);
    if (msg) {
      snprintf(msg, errlen, "%s", err);
      snprintf(err, errlen, "%s: %s", path, msg);
      free(msg);
    }
  }
  return st;
}

/* Header first: the length, then the header (at most ST_MAX_HEADER bytes),
 * checked against the file's real size and the config's tensors; the data
 * is read only after all of that holds. */
static infini_status load_fd(int fd, const char *path, uint64_t size,
                             const infini_backend *backend, infini_model **out,
                             char *err, size_t errlen) {
  unsigned char first8[8] = {0};
  infini_status st = fileio_pread(fd, path, first8, size < 8 ? (size_t)size : 8,
                                  0, err, errlen);
  if (st)
    return st;
  const size_t head_len = st_prefix_bytes(first8, size);
  unsigned char *head = malloc(head_len + 1);
  if (!head)
    return fileio_error(err, errlen, INFINI_ERR_NOMEM, "out of memory");
  st = fileio_pread(fd, path, head, head_len, 0, err, errlen);
  st_file f;
  memset(&f, 0, sizeof f);
  if (!st)
    st = st_parse_header(head, head_len, size, &f, err, errlen);
  free(head);
  if (!st)
    st = load_parsed(&f, fd, path, head_len, backend, out, err, errlen);
  st_free(&f);
  return st;
}

infini_status infini_model_load(const char *path, const infini_backend *backend,
                                infini_model **out, char *err, size_t errlen) {
  if (!path || !out)
    return fileio_error(err, errlen, INFINI_ERR_NULL, "no path or no output");
  if (err && errlen)
    err[0] = 0;
  int fd;
  uint64_t size;
  infini_status st =
      fileio_open_read(path, 0, MAX_FILE_BYTES, &fd, &size, err, errlen);
  if (st)
    return with_path(st, path, err, errlen);
  st = load_fd(fd, path, size, backend, out, err, errlen);
  close(fd);
  return with_path(st, path, err, errlen);
}

/* ---- deterministic random weights -------------------------------------- */

/* The largest k with 4^k <= fan_in: 2^-k is the power of two nearest
 * above 1/sqrt(fan_in), within a factor sqrt(2). */
static int inv_sqrt_exponent(ptrdiff_t fan_in) {
  int k = 0;
  while (k < 31 && ((ptrdiff_t)1 << (2 * (k + 1))) <= fan_in)
    k++;
  return k;
}

typedef enum init_kind { INIT_EMBED, INIT_LINEAR, INIT_NORM, INIT_BETA } init_kind;

static init_kind kind_of(const model_tensor *t) {
  const size_t n = strlen(t->name);
  if (strcmp(t->name, "embed.weight") == 0)
    return INIT_EMBED;
  if (t->ndim == 2)
    return INIT_LINEAR;
  return n >= 5 && strcmp(t->name + n - 5, ".beta") == 0 ? INIT_BETA
                                                           : INIT_NORM;
}

/* 1 + j/256 with j = (x >> 59) - 16 in [-16, 16): near 1, exact. */
static float norm_weight(vs_rng *r) {
  const int j = (int)(vs_next(r) >> 59) - 16;
  return (float)(256 + j) * 0x1p-8f;
}

/* One element; every construction is exact in float (docs/model.md,
 * "Weights file"). */
static float draw(vs_rng *r, init_kind kind, float scale) {
  switch (kind) {
  case INIT_EMBED: return vs_normalish(r);
  case INIT_LINEAR: return vs_uniform(r) * scale;
  case INIT_BETA: return vs_uniform(r) * 2.0f;
  case INIT_NORM: return norm_weight(r);
  }
  return 0;
}

static int write_random_tensor(FILE *f, vs_rng *r, const model_tensor *t) {
  const init_kind kind = kind_of(t);
  const float scale =
      kind == INIT_LINEAR ? ldexpf(1.0f, -inv_sqrt_exponent(t->shape[1])) : 1;
  float buf[1024];
  for (ptrdiff_t done = 0; done < t->count;) {
    const ptrdiff_t k = t->count - done < 1024 ? t->count - done : 1024;
    for (ptrdiff_t i = 0; i < k; i++)
      buf[i] = draw(r, kind, scale);
    if (st_write_f32(f, buf, (size_t)k))
      return -1;
    done += k;
  }
  return 0;
}

struct random_file {
  const infini_model_config *config;
  uint64_t seed;
  const unsigned char *header;
  size_t header_len;
};

static int write_random_file(void *fp, void *arg) {
  FILE *f = fp;
  const struct random_file *rf = arg;
  if (fwrite(rf->header, 1, rf->header_len, f) != rf->header_len)
    return -1;
  vs_rng r = {rf->seed};
  const ptrdiff_t n = model_tensor_count(rf->config);
  for (ptrdiff_t i = 0; i < n; i++) {
    model_tensor t;
    model_tensor_info(rf->config, i, &t);
    if (write_random_tensor(f, &r, &t))
      return -1;
  }
  return 0;
}

/* The safetensors header of a config: its metadata and every tensor's
 * name and shape, F32, in canonical order. */
static infini_status config_header(const infini_model_config *c,
                                   unsigned char **out, size_t *len, char *err,
                                   size_t errlen) {
  const ptrdiff_t n = model_tensor_count(c);
  /* Every tensor's header entry takes more than ST_MIN_ENTRY bytes, so a
   * config with more tensors cannot be written in a header the reader
   * accepts: refuse it before allocating a table of n entries. */
  if ((uint64_t)n > ST_MAX_HEADER / ST_MIN_ENTRY)
    return fileio_error(err, errlen, INFINI_ERR_OVERFLOW,
                        "%td layers need %td tensors, more than a safetensors "
                        "header of %llu bytes can list (at most %llu)",
                        c->n_layers, n, (unsigned long long)ST_MAX_HEADER,
                        (unsigned long long)(ST_MAX_HEADER / ST_MIN_ENTRY));
  model_tensor *mts = calloc((size_t)n, sizeof *mts);
  st_tensor *ts = calloc((size_t)n, sizeof *ts);
  infini_status st = INFINI_ERR_NOMEM;
  if (mts && ts) {
    for (ptrdiff_t i = 0; i < n; i++) {
      model_tensor_info(c, i, &mts[i]);
      ts[i].name = mts[i].name;
      ts[i].dtype = ST_F32;
      st_shape_of(&mts[i], &ts[i]);
    }
    meta_text mt;
    config_meta(c, &mt);
    st = st_header(ts, (size_t)n, mt.entries, N_META, out, len, err, errlen);
  } else {
    fileio_set_error(err, errlen, "out of memory for a header of %td tensors", n);
  }
  free(mts);
  free(ts);
  return st;
}

infini_status infini_model_write_random(const infini_model_config *config,
                                        uint64_t seed, const char *path,
                                        char *err, size_t errlen) {
  if (!config || !path)
    return fileio_error(err, errlen, INFINI_ERR_NULL, "no config or no path");
  infini_status st = infini_model_config_check(config);
  if (st)
    return fileio_error(err, errlen, st, "invalid config: %s",
                    infini_strerror(st));
  struct random_file rf = {config, seed, NULL, 0};
  unsigned char *header = NULL;
  if ((st = config_header(config, &header, &rf.header_len, err, errlen)))
    return with_path(st, path, err, errlen);
  rf.header = header;
  st = fileio_write_atomic_with(path, write_random_file, &rf, err, errlen);
  free(header);
  return st;
}

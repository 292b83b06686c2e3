/*
 * tests/test_safetensors.c - the safetensors reader and writer and the
 * model's weights file (docs/model.md, "Weights file").
 *
 * - Decoding: little-endian integers, F32, F16, BF16 and F64 from fixed
 *   byte patterns, so a big-endian host (s390x CI) checks the same bytes.
 * - A hand-written file with F16, BF16, F64, F32 scalar and empty tensors;
 *   the writer's headers parse back.
 * - A catalogue of malformed files, each refused with INFINI_ERR_FORMAT
 *   and a sentence, every truncation of a good file included.
 * - The model file: random weights round-trip through the loader bit for
 *   bit and equal the documented construction recomputed here; the tiny
 *   preset's file and digest have fixed SHA-256s, so the generator cannot
 *   drift silently; mismatched model files are refused with the status
 *   and the tensor's name.
 */
#include "config.h"
#include <math.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infini_model.h"
#include "src/model.h"
#include "src/safetensors.h"
#include "tests/tap.h"
#include "vectors/prng.h"

/* SHA-256 of `infini-weights --preset tiny` (seed 0), and the digest of
 * the model it holds. Change them only with the documented construction
 * (and say so in the commit): every file generated before would change. */
static const char tiny_file_sha256[] =
    "21432922518101d02e86aa8d2aa62241511b72c4a5eecd6cff5dba03ae264440";
static const char tiny_digest[] =
    "2fb5790344dca7b73c6e10f8bff19a581e27e5c3b40dda485cfc508130293722";

static char tmpdir[64];

/* ---- helpers -------------------------------------------------------------- */

typedef struct bytes {
  unsigned char *p;
  size_t len;
} bytes;

/* A file: the 8-byte length of json, json (jlen bytes, 0: strlen), then
 * dlen data bytes (data, or each byte its index when data is NULL). */
static bytes file_of_n(const char *json, size_t jlen, const unsigned char *data,
                       size_t dlen) {
  const size_t n = jlen ? jlen : strlen(json);
  bytes b = {malloc(8 + n + dlen + 1), 8 + n + dlen};
  if (!b.p)
    abort();
  for (int i = 0; i < 8; i++)
    b.p[i] = (unsigned char)((uint64_t)n >> (8 * i));
  memcpy(b.p + 8, json, n);
  for (size_t i = 0; i < dlen; i++)
    b.p[8 + n + i] = data ? data[i] : (unsigned char)i;
  return b;
}

static bytes file_of(const char *json, const unsigned char *data, size_t dlen) {
  return file_of_n(json, 0, data, dlen);
}

/* Parsing b fails with status want, a sentence in err, and an empty out. */
static bool rejected_as(const unsigned char *p, size_t len, infini_status want,
                        const char *what) {
  /* An exact-size copy, so AddressSanitizer sees any read past the end. */
  unsigned char *copy = malloc(len ? len : 1);
  if (len)
    memcpy(copy, p, len);
  st_file f;
  char err[256] = "";
  const infini_status st = st_parse(copy, len, &f, err, sizeof err);
  free(copy);
  const bool ok = st == want && err[0] && f.n_tensors == 0 && !f.tensors;
  if (!ok || getenv("ST_VERBOSE"))
    tap_diag("%s: status %d, err '%s'", what, (int)st, err);
  if (!st)
    st_free(&f);
  return ok;
}

static void hex_of(const uint8_t *d, size_t n, char *out) {
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha256_of(const unsigned char *p, size_t n, uint8_t out[32]) {
  struct sha256_ctx h;
  sha256_init(&h);
  sha256_update(&h, n, p);
  sha256_digest(&h, SHA256_DIGEST_SIZE, out);
}

static bool read_file(const char *path, bytes *b) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  fseek(f, 0, SEEK_END);
  b->len = (size_t)ftell(f);
  rewind(f);
  b->p = malloc(b->len + 1);
  const bool ok = b->p && fread(b->p, 1, b->len, f) == b->len;
  fclose(f);
  return ok;
}

static bool write_bytes(const char *path, const unsigned char *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return false;
  const bool ok = fwrite(p, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

static void path_in(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", tmpdir, name);
}

/* ---- decoding ---------------------------------------------------------- */

static bool same_float(float got, float want) {
  return (isnan(got) && isnan(want)) ||
         (got == want && signbit(got) == signbit(want));
}

static void test_decode_integers(void) {
  const unsigned char b8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  tap_ok(st_load_le64(b8) == UINT64_C(0x0807060504030201),
         "decode: le64 of 01..08 is 0x0807060504030201");
  unsigned char out[4];
  st_f32_to_le(-1.5f, out);
  tap_ok(out[0] == 0 && out[1] == 0 && out[2] == 0xc0 && out[3] == 0xbf,
         "encode: -1.5f is 00 00 c0 bf");
}

static void test_decode_floats(void) {
  static const struct {
    const char *what;
    st_dtype dtype;
    unsigned char b[8];
    float want;
  } cases[] = {
      {"F32 1.0", ST_F32, {0x00, 0x00, 0x80, 0x3f}, 1.0f},
      {"F32 -1.5", ST_F32, {0x00, 0x00, 0xc0, 0xbf}, -1.5f},
      {"F32 smallest subnormal", ST_F32, {0x01, 0, 0, 0}, 0x1p-149f},
      {"F16 1.0", ST_F16, {0x00, 0x3c}, 1.0f},
      {"F16 -2.0", ST_F16, {0x00, 0xc0}, -2.0f},
      {"F16 1/3", ST_F16, {0x55, 0x35}, 0x1.554p-2f},
      {"F16 65504", ST_F16, {0xff, 0x7b}, 65504.0f},
      {"F16 smallest subnormal", ST_F16, {0x01, 0x00}, 0x1p-24f},
      {"F16 largest subnormal", ST_F16, {0xff, 0x03}, 0x1.ff8p-15f},
      {"F16 -0", ST_F16, {0x00, 0x80}, -0.0f},
      {"F16 +inf", ST_F16, {0x00, 0x7c}, INFINITY},
      {"F16 -inf", ST_F16, {0x00, 0xfc}, -INFINITY},
      {"F16 NaN", ST_F16, {0x00, 0x7e}, NAN},
      {"BF16 1.0", ST_BF16, {0x80, 0x3f}, 1.0f},
      {"BF16 3.140625", ST_BF16, {0x49, 0x40}, 3.140625f},
      {"BF16 -inf", ST_BF16, {0x80, 0xff}, -INFINITY},
      {"F64 1.0", ST_F64, {0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, 1.0f},
      {"F64 0.1 rounds to 0.1f", ST_F64,
       {0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f}, 0.1f},
      {"F64 -2^-1074 rounds to -0", ST_F64, {1, 0, 0, 0, 0, 0, 0, 0x80}, -0.0f},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st_tensor t = {.dtype = cases[i].dtype, .count = 1, .data = cases[i].b};
    float got;
    st_to_float(&t, &got);
    tap_ok(same_float(got, cases[i].want), "decode: %s (got %a)",
           cases[i].what, (double)got);
  }
}

/* ---- a hand-written file ---------------------------------------------- */

static const char hand_json[] =
    "{\"__metadata__\":{\"source\":\"hand\"},"
    "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
    "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[6,10]},"
    "\"d\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[10,18]},"
    "\"f\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[18,22]},"
    "\"z\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[22,22]}}  ";
static const unsigned char hand_data[22] = {
    0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00,            /* F16 1, -2, 2^-24 */
    0x49, 0x40, 0x80, 0xbf,                        /* BF16 3.140625, -1 */
    0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f, /* F64 0.1 */
    0x00, 0x00, 0x80, 0x3f};                       /* F32 1 */

static bool values_are(const st_file *f, const char *name, size_t n,
                       const float *want) {
  const st_tensor *t = st_find(f, name);
  float got[4] = {0};
  if (!t || t->count != n)
    return false;
  st_to_float(t, got);
  for (size_t i = 0; i < n; i++)
    if (!same_float(got[i], want[i]))
      return false;
  return true;
}

static void test_hand_file(void) {
  bytes b = file_of(hand_json, hand_data, sizeof hand_data);
  st_file f;
  char err[256] = "";
  const infini_status st = st_parse(b.p, b.len, &f, err, sizeof err);
  if (!tap_ok(st == INFINI_OK && f.n_tensors == 5, "hand file parses: %s",
              err)) {
    free(b.p);
    return;
  }
  const st_tensor *d = st_find(&f, "d"), *z = st_find(&f, "z");
  tap_ok(f.n_meta == 1 && strcmp(st_meta_get(&f, "source"), "hand") == 0 &&
             !st_meta_get(&f, "h"),
         "hand file: metadata");
  tap_ok(d && d->dtype == ST_F64 && d->ndim == 2 && d->shape[0] == 1 &&
             d->begin == 10 && d->end == 18,
         "hand file: F64 tensor's dtype, shape and offsets");
  tap_ok(z && z->count == 0 && z->ndim == 2 && st_find(&f, "f")->ndim == 0 &&
             st_find(&f, "f")->count == 1,
         "hand file: an empty tensor and a scalar");
  tap_ok(values_are(&f, "h", 3, (const float[]){1, -2, 0x1p-24f}) &&
             values_are(&f, "b", 2, (const float[]){3.140625f, -1}) &&
             values_are(&f, "d", 1, (const float[]){0.1f}) &&
             values_are(&f, "f", 1, (const float[]){1}),
         "hand file: F16, BF16, F64 and F32 values");
  st_free(&f);
  free(b.p);
}

static void test_writer(void) {
  st_tensor t[2] = {{.name = "w", .dtype = ST_F32, .ndim = 2, .shape = {2, 3}},
                    {.name = "v", .dtype = ST_BF16, .ndim = 1, .shape = {5}}};
  char key[] = "k", value[] = "v\"\\";
  st_meta m = {key, value};
  unsigned char *h = NULL;
  size_t hlen = 0;
  char err[256] = "";
  infini_status st = st_header(t, 2, &m, 1, &h, &hlen, err, sizeof err);
  tap_ok(st == INFINI_OK && hlen % 8 == 0 && t[1].begin == 24 &&
             t[1].end == 34,
         "writer: header padded to 8 bytes, offsets placed");
  bytes b = {malloc(hlen + 34), hlen + 34};
  memcpy(b.p, h, hlen);
  memset(b.p + hlen, 0, 34);
  st_file f;
  st = st_parse(b.p, b.len, &f, err, sizeof err);
  tap_ok(st == INFINI_OK && f.n_tensors == 2 &&
             strcmp(st_meta_get(&f, "k"), value) == 0 &&
             st_find(&f, "v")->dtype == ST_BF16,
         "writer: its header parses back (%s)", err);
  st_free(&f);
  free(b.p);
  free(h);
  st_tensor dup[2] = {t[0], t[0]};
  tap_ok(st_header(dup, 2, NULL, 0, &h, &hlen, err, sizeof err) ==
             INFINI_ERR_PARAM,
         "writer: a repeated name is refused");
  st_tensor huge = {.name = "x", .dtype = ST_F64, .ndim = 2,
                    .shape = {SIZE_MAX / 4, 2}};
  tap_ok(st_header(&huge, 1, NULL, 0, &h, &hlen, err, sizeof err) ==
             INFINI_ERR_OVERFLOW,
         "writer: an overflowing byte count is refused");
}

/* ---- malformed files ---------------------------------------------------- */

#define T_A "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"
/* sizeof, not strlen, so a header may hold a NUL byte */
#define BAD(what, json, dlen) {what, json, sizeof(json) - 1, dlen}
static const struct bad_header {
  const char *what, *json;
  size_t jlen, dlen;
} bad_headers[] = {
    BAD("empty header", "", 8),
    BAD("header not starting with '{'", " {" T_A "}", 8),
    BAD("a JSON array", "[1]", 0),
    BAD("invalid JSON", "{\"a\":", 8),
    BAD("trailing garbage", "{" T_A "}x", 8),
    BAD("a NUL byte in the header", "{" T_A "}\0", 8),
    BAD("invalid UTF-8 in a name", "{\"\xff\":1}", 8),
    BAD("duplicate tensor names", "{" T_A "," T_A "}", 8),
    BAD("entry not an object", "{\"a\":[1]}", 8),
    BAD("missing dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
    BAD("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8),
    BAD("missing data_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8),
    BAD("unexpected key", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                       "\"data_offsets\":[0,8],\"x\":1}}", 8),
    BAD("dtype not a string", "{\"a\":{\"dtype\":4,\"shape\":[2],"
                           "\"data_offsets\":[0,8]}}", 8),
    BAD("unknown dtype I32", "{\"a\":{\"dtype\":\"I32\",\"shape\":[2],"
                          "\"data_offsets\":[0,8]}}", 8),
    BAD("lower-case dtype", "{\"a\":{\"dtype\":\"f32\",\"shape\":[2],"
                         "\"data_offsets\":[0,8]}}", 8),
    BAD("shape not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":2,"
                           "\"data_offsets\":[0,8]}}", 8),
    BAD("negative dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],"
                           "\"data_offsets\":[0,8]}}", 8),
    BAD("fractional dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],"
                             "\"data_offsets\":[0,8]}}", 8),
    BAD("nine dimensions", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,"
                        "2],\"data_offsets\":[0,8]}}", 8),
    BAD("element count overflows", "{\"a\":{\"dtype\":\"F32\",\"shape\":"
                                "[4294967296,4294967296,4294967296],"
                                "\"data_offsets\":[0,8]}}", 8),
    BAD("dimension beyond 64 bits", "{\"a\":{\"dtype\":\"F32\",\"shape\":"
                                 "[18446744073709551617],"
                                 "\"data_offsets\":[0,8]}}", 8),
    BAD("byte count overflows", "{\"a\":{\"dtype\":\"F64\",\"shape\":"
                             "[2305843009213693952],"
                             "\"data_offsets\":[0,8]}}", 8),
    BAD("huge shape, small offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":"
                                  "[1073741824,1024],"
                                  "\"data_offsets\":[0,8]}}", 8),
    BAD("offsets not two", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                        "\"data_offsets\":[0,8,8]}}", 8),
    BAD("negative offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                        "\"data_offsets\":[-8,0]}}", 8),
    BAD("end before begin", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                         "\"data_offsets\":[8,0]}}", 8),
    BAD("end past the data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                          "\"data_offsets\":[0,8]}}", 7),
    BAD("bytes disagree with the shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                                      "\"data_offsets\":[0,12]}}", 12),
    BAD("overlapping tensors", "{" T_A ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
                            "\"data_offsets\":[4,12]}}", 12),
    BAD("same range twice", "{" T_A ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
                         "\"data_offsets\":[0,8]}}", 8),
    BAD("a hole at the start", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                            "\"data_offsets\":[4,12]}}", 12),
    BAD("a hole between tensors", "{" T_A ",\"b\":{\"dtype\":\"F32\",\"shape\":"
                               "[1],\"data_offsets\":[12,16]}}", 16),
    BAD("bytes after the last tensor", "{" T_A "}", 9),
    BAD("data but no tensor", "{}", 4),
    BAD("metadata not an object", "{\"__metadata__\":[]," T_A "}", 8),
    BAD("metadata value a number", "{\"__metadata__\":{\"k\":1}," T_A "}", 8),
    BAD("metadata value null", "{\"__metadata__\":{\"k\":null}," T_A "}", 8),
};

static void test_bad_headers(void) {
  for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
    const struct bad_header *c = &bad_headers[i];
    bytes b = file_of_n(c->json, c->jlen, NULL, c->dlen);
    tap_ok(rejected_as(b.p, b.len, INFINI_ERR_FORMAT, c->what),
           "malformed: %s", c->what);
    free(b.p);
  }
  bytes good = file_of("{" T_A "}", NULL, 8);
  st_file f;
  tap_ok(st_parse(good.p, good.len, &f, NULL, 0) == INFINI_OK,
         "malformed: the catalogue's base file itself parses");
  st_free(&f);
  free(good.p);
}

static void test_bad_lengths(void) {
  /* data of spaces: a header length past the end would read them as JSON
   * whitespace right up to the end of the buffer and beyond */
  bytes b = file_of("{" T_A "}", (const unsigned char *)"        ", 8);
  bool all = true;
  for (size_t n = 0; n < 8; n++)
    all &= rejected_as(b.p, n, INFINI_ERR_FORMAT, "short file");
  tap_ok(all, "malformed: files of 0 to 7 bytes");
  const uint64_t lengths[] = {UINT64_MAX, UINT64_C(1) << 40, ST_MAX_HEADER + 1,
                              1000, b.len - 7}; /* the last: 1 byte past */
  for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
    for (int k = 0; k < 8; k++)
      b.p[k] = (unsigned char)(lengths[i] >> (8 * k));
    st_file f;
    char err[256] = "";
    /* refused for its length, before the header is looked at */
    tap_ok(st_parse(b.p, b.len, &f, err, sizeof err) == INFINI_ERR_FORMAT &&
               strncmp(err, "header length", 13) == 0,
           "malformed: header length %llu (%s)", (unsigned long long)lengths[i],
           err);
  }
  free(b.p);
}

/* Every proper prefix of the hand file, and every prefix of its header
 * with the length field saying so, is refused. */
static void test_truncations(void) {
  bytes b = file_of(hand_json, hand_data, sizeof hand_data);
  bool all = true;
  for (size_t n = 0; n < b.len; n++)
    all &= rejected_as(b.p, n, INFINI_ERR_FORMAT, "truncated file");
  tap_ok(all, "malformed: the hand file cut at each of its %zu bytes", b.len);
  const size_t hlen = strlen(hand_json);
  all = true;
  for (size_t n = 0; n < hlen - 2; n++) { /* hlen - 2: the padding */
    for (int k = 0; k < 8; k++)
      b.p[k] = (unsigned char)((uint64_t)n >> (8 * k));
    all &= rejected_as(b.p, 8 + n, INFINI_ERR_FORMAT, "truncated header");
  }
  tap_ok(all, "malformed: the header cut at each of its bytes, length "
              "field matching");
  free(b.p);
}

/* ---- the model file ---------------------------------------------------- */

static infini_model_config tiny_config(void) {
  infini_model_config c;
  if (infini_model_config_init(&c, 256, 64, 2, 2, 2, 32, 128, 16))
    abort();
  return c;
}

/* The construction of docs/model.md ("Weights file"), written again from
 * the text: one splitmix64 stream, tensors in canonical order. */
static float documented_value(vs_rng *r, const model_tensor *t) {
  const size_t n = strlen(t->name);
  if (strcmp(t->name, "embed.weight") == 0)
    return vs_normalish(r);
  if (t->ndim == 2) {
    int k = 0; /* largest k with 4^k <= fan_in */
    while ((ptrdiff_t)1 << (2 * k + 2) <= t->shape[1])
      k++;
    return vs_uniform(r) * ldexpf(1, -k);
  }
  if (strcmp(t->name + n - 5, ".beta") == 0)
    return 2 * vs_uniform(r);
  return 1 + (float)((int)(vs_next(r) >> 59) - 16) / 256;
}

static bool weights_documented(const infini_model *m, uint64_t seed) {
  vs_rng r = {seed};
  for (ptrdiff_t i = 0; i < model_tensor_count(&m->config); i++) {
    model_tensor t;
    model_tensor_at(m, i, &t);
    for (ptrdiff_t j = 0; j < t.count; j++) {
      const float want = documented_value(&r, &t);
      if (memcmp(&want, &t.data[j], sizeof want) != 0) {
        tap_diag("%s[%td] = %a, documented %a", t.name, j,
                 (double)t.data[j], (double)want);
        return false;
      }
    }
  }
  return true;
}

static infini_model *write_and_load(const infini_model_config *c,
                                    uint64_t seed, const char *name) {
  char path[128], err[256] = "";
  path_in(path, sizeof path, name);
  infini_model *m = NULL;
  infini_status st = infini_model_write_random(c, seed, path, err, sizeof err);
  if (!st)
    st = infini_model_load(path, NULL, &m, err, sizeof err);
  if (st)
    tap_diag("%s: %s (%s)", name, infini_strerror(st), err);
  return m;
}

static void test_round_trip(void) {
  const infini_model_config c = tiny_config();
  infini_model *a = write_and_load(&c, 0, "tiny.safetensors");
  infini_model *b = write_and_load(&c, 0, "tiny2.safetensors");
  infini_model *other = write_and_load(&c, 1, "seed1.safetensors");
  if (!tap_ok(a && b && other, "model file: written and loaded")) {
    infini_model_free(a);
    infini_model_free(b);
    infini_model_free(other);
    return;
  }
  tap_ok(weights_documented(a, 0),
         "model file: every weight equals the documented construction");
  tap_ok(memcmp(a->digest, b->digest, 32) == 0 &&
             memcmp(a->digest, other->digest, 32) != 0,
         "model file: the digest is stable and depends on the weights");
  char hex[65];
  hex_of(a->digest, 32, hex);
  tap_ok(strcmp(hex, tiny_digest) == 0, "model file: tiny digest %s", hex);
  bytes f1 = {0}, f2 = {0};
  char p1[128], p2[128];
  path_in(p1, sizeof p1, "tiny.safetensors");
  path_in(p2, sizeof p2, "tiny2.safetensors");
  uint8_t sum[32];
  if (read_file(p1, &f1) && read_file(p2, &f2)) {
    sha256_of(f1.p, f1.len, sum);
    hex_of(sum, 32, hex);
    tap_ok(f1.len == f2.len && memcmp(f1.p, f2.p, f1.len) == 0,
           "model file: the same seed writes the same bytes");
    tap_ok(strcmp(hex, tiny_file_sha256) == 0,
           "model file: tiny preset file SHA-256 %s", hex);
  }
  free(f1.p);
  free(f2.p);
  infini_model_free(a);
  infini_model_free(b);
  infini_model_free(other);
}

/* The metadata strings: sizes in decimal, names, floats as %a prints
 * them (the library formats them itself; glibc's printf is the witness). */
static bool meta_is(const st_file *f, const char *key, const char *want) {
  const char *got = st_meta_get(f, key);
  if (got && strcmp(got, want) == 0)
    return true;
  tap_diag("metadata %s is '%s', want '%s'", key, got ? got : "(none)", want);
  return false;
}

static bool float_meta_is(const st_file *f, const char *key, float x) {
  char want[64];
  snprintf(want, sizeof want, "%a", (double)x);
  return meta_is(f, key, want);
}

static void test_metadata(void) {
  infini_model_config c = tiny_config();
  c.rule = INFINI_UPDATE_DELTA;
  c.position = INFINI_POSITION_NONE;
  c.attn_eps = 0x1p-149f; /* subnormal */
  c.norm_eps = 1e-6f;
  c.rope_theta = 12345.678f;
  c.attn_scale = -0.3f;
  infini_model *m = write_and_load(&c, 7, "meta.safetensors");
  char path[128];
  path_in(path, sizeof path, "meta.safetensors");
  bytes b = {0};
  st_file f = {0};
  if (!tap_ok(m && read_file(path, &b) &&
                  st_parse(b.p, b.len, &f, NULL, 0) == INFINI_OK,
              "metadata: a delta, no-RoPE model is written and loaded")) {
    infini_model_free(m);
    free(b.p);
    return;
  }
  tap_ok(meta_is(&f, "format", "infini-model") &&
             meta_is(&f, "format_version", "1") &&
             meta_is(&f, "vocab_size", "256") && meta_is(&f, "d_ff", "128") &&
             meta_is(&f, "rule", "delta") && meta_is(&f, "position", "none"),
         "metadata: format, version, sizes and names");
  tap_ok(float_meta_is(&f, "attn_eps", c.attn_eps) &&
             float_meta_is(&f, "norm_eps", c.norm_eps) &&
             float_meta_is(&f, "rope_theta", c.rope_theta) &&
             float_meta_is(&f, "attn_scale", c.attn_scale),
         "metadata: floats as C99 hex floats");
  tap_ok(memcmp(infini_model_get_config(m), &c, sizeof c) == 0,
         "metadata: the config round-trips exactly");
  st_free(&f);
  free(b.p);
  infini_model_free(m);
}

/* ---- mismatched model files --------------------------------------------- */

/* A model file's layout to modify: the tiny file's tensors and metadata. */
typedef struct layout {
  st_tensor t[32];
  size_t n;
  st_meta m[24];
  size_t n_meta;
  char values[24][32];
} layout;

static void layout_of(const st_file *f, layout *l) {
  memset(l, 0, sizeof *l);
  l->n = f->n_tensors;
  memcpy(l->t, f->tensors, f->n_tensors * sizeof *l->t);
  l->n_meta = f->n_meta;
  for (size_t i = 0; i < f->n_meta; i++) {
    l->m[i].key = f->meta[i].key;
    snprintf(l->values[i], sizeof l->values[i], "%s", f->meta[i].value);
    l->m[i].value = l->values[i];
  }
}

static void set_meta(layout *l, const char *key, const char *value) {
  for (size_t i = 0; i < l->n_meta; i++)
    if (strcmp(l->m[i].key, key) == 0)
      snprintf(l->values[i], sizeof l->values[i], "%s", value);
}

static void drop_meta(layout *l, const char *key) {
  for (size_t i = 0; i < l->n_meta; i++)
    if (strcmp(l->m[i].key, key) == 0)
      l->m[i] = l->m[--l->n_meta];
}

/* One element of value x (1 or NaN, which every dtype holds) in dtype. */
static void encode_one(st_dtype dtype, float x, unsigned char *p) {
  unsigned char f32[4];
  st_f32_to_le(x, f32);
  switch (dtype) {
  case ST_F32: memcpy(p, f32, 4); break;
  case ST_BF16: memcpy(p, f32 + 2, 2); break;
  case ST_F16: p[0] = 0; p[1] = isnan(x) ? 0x7e : 0x3c; break;
  case ST_F64:
    memset(p, 0, 6);
    p[6] = isnan(x) ? 0xf8 : 0xf0;
    p[7] = isnan(x) ? 0x7f : 0x3f;
    break;
  }
}

/* Write l as a file of dtype with every weight 1, but element 0 of
 * tensor nan_at (if < n) NaN. */
static bool write_layout(const char *path, layout *l, st_dtype dtype,
                         size_t nan_at) {
  for (size_t i = 0; i < l->n; i++)
    l->t[i].dtype = dtype;
  unsigned char *h = NULL;
  size_t hlen = 0;
  if (st_header(l->t, l->n, l->m, l->n_meta, &h, &hlen, NULL, 0))
    return false;
  const size_t size = st_dtype_size(dtype), dlen = l->n ? l->t[l->n - 1].end : 0;
  unsigned char *p = malloc(hlen + dlen);
  memcpy(p, h, hlen);
  for (size_t i = 0; i < l->n; i++)
    for (size_t j = 0; j < l->t[i].count; j++)
      encode_one(dtype, i == nan_at && j == 0 ? NAN : 1.0f,
                 p + hlen + l->t[i].begin + j * size);
  const bool ok = write_bytes(path, p, hlen + dlen);
  free(p);
  free(h);
  return ok;
}

/* Loading l fails with want and err names needle. */
static void expect_load(layout *l, infini_status want, const char *needle,
                        const char *what) {
  char path[128], err[256] = "";
  path_in(path, sizeof path, "bad.safetensors");
  infini_model *m = NULL;
  infini_status st = INFINI_ERR_IO;
  if (write_layout(path, l, ST_F32, SIZE_MAX))
    st = infini_model_load(path, NULL, &m, err, sizeof err);
  tap_ok(st == want && !m && strstr(err, path) && strstr(err, needle),
         "model file refused: %s", what);
  tap_diag("%s", err);
  infini_model_free(m);
}

static void test_mismatches(const st_file *tiny) {
  layout l;
  layout_of(tiny, &l);
  l.t[3] = l.t[--l.n];
  expect_load(&l, INFINI_ERR_SHAPE, tiny->tensors[3].name, "a missing tensor");
  layout_of(tiny, &l);
  l.t[l.n++] = (st_tensor){.name = "extra.weight", .ndim = 1, .shape = {4}};
  expect_load(&l, INFINI_ERR_SHAPE, "extra.weight", "an extra tensor");
  layout_of(tiny, &l);
  l.t[2].shape[1]++;
  expect_load(&l, INFINI_ERR_SHAPE, tiny->tensors[2].name, "a wrong shape");
  layout_of(tiny, &l);
  l.t[0].ndim = 3;
  l.t[0].shape[2] = 1;
  expect_load(&l, INFINI_ERR_SHAPE, "embed.weight", "a wrong rank");
  layout_of(tiny, &l);
  set_meta(&l, "format_version", "2");
  expect_load(&l, INFINI_ERR_VERSION, "format_version", "format version 2");
  layout_of(tiny, &l);
  set_meta(&l, "format", "pt");
  expect_load(&l, INFINI_ERR_FORMAT, "format", "format \"pt\"");
  layout_of(tiny, &l);
  l.n_meta = 0;
  expect_load(&l, INFINI_ERR_FORMAT, "format", "no metadata");
  layout_of(tiny, &l);
  drop_meta(&l, "segment_len");
  expect_load(&l, INFINI_ERR_FORMAT, "segment_len", "a missing config key");
}

static void test_bad_config_values(const st_file *tiny) {
  static const struct {
    const char *key, *value;
  } bad[] = {{"d_model", "64x"}, {"d_model", "-64"}, {"d_model", ""},
             {"d_model", " 64"}, {"n_layers", "99999999999999999999"},
             {"rule", "gated"}, {"position", "ROPE"},
             {"norm_eps", "1e-5 "}, {"norm_eps", "nan"}, {"norm_eps", "0"},
             {"n_kv_heads", "3"}, {"segment_len", "0"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    layout l;
    layout_of(tiny, &l);
    set_meta(&l, bad[i].key, bad[i].value);
    char what[80];
    snprintf(what, sizeof what, "%s \"%s\"", bad[i].key, bad[i].value);
    expect_load(&l, INFINI_ERR_FORMAT, "metadata", what);
  }
}

/* PyTorch writes F16, BF16 or F64 too: each loads, converted to float;
 * a NaN weight is refused. */
static void test_dtypes(const st_file *tiny) {
  static const st_dtype dtypes[] = {ST_F16, ST_BF16, ST_F64, ST_F32};
  char path[128], err[256] = "";
  path_in(path, sizeof path, "dtype.safetensors");
  for (size_t d = 0; d < 4; d++) {
    layout l;
    layout_of(tiny, &l);
    infini_model *m = NULL;
    infini_status st = INFINI_ERR_IO;
    const size_t nan_at = dtypes[d] == ST_F32 ? 5 : SIZE_MAX;
    if (write_layout(path, &l, dtypes[d], nan_at))
      st = infini_model_load(path, NULL, &m, err, sizeof err);
    if (dtypes[d] == ST_F32) {
      tap_ok(st == INFINI_ERR_PARAM && strstr(err, tiny->tensors[5].name),
             "model file refused: a NaN weight (%s)", err);
    } else {
      model_tensor t;
      if (m)
        model_tensor_at(m, 1, &t);
      tap_ok(st == INFINI_OK && m && t.data[0] == 1 && t.data[t.count - 1] == 1,
             "model file of %s loads as float (%s)", st_dtype_name(dtypes[d]),
             err);
    }
    infini_model_free(m);
  }
}

static void test_load_errors(const bytes *tiny) {
  char path[128], err[256] = "";
  infini_model *m = NULL;
  path_in(path, sizeof path, "absent.safetensors");
  tap_ok(infini_model_load(path, NULL, &m, err, sizeof err) == INFINI_ERR_IO &&
             strstr(err, path),
         "model file refused: a missing file (%s)", err);
  tap_ok(infini_model_load(tmpdir, NULL, &m, err, sizeof err) == INFINI_ERR_IO,
         "model file refused: a directory");
  path_in(path, sizeof path, "cut.safetensors");
  const size_t hlen = (size_t)st_load_le64(tiny->p);
  const size_t cuts[] = {0, 7, 8, 9, hlen / 2, hlen + 7, hlen + 8,
                         hlen + 100, tiny->len - 1};
  bool all = true;
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    write_bytes(path, tiny->p, cuts[i]);
    all &= infini_model_load(path, NULL, &m, err, sizeof err) ==
               INFINI_ERR_FORMAT && !m;
  }
  tap_ok(all, "model file refused: truncated at 9 places");
}

static void test_write_errors(void) {
  infini_model_config c = tiny_config();
  char path[128], err[256] = "";
  path_in(path, sizeof path, "no/such/dir/w.safetensors");
  tap_ok(infini_model_write_random(&c, 0, path, err, sizeof err) ==
             INFINI_ERR_IO,
         "write_random: an unwritable path is an IO error (%s)", err);
  c.n_kv_heads = 3;
  path_in(path, sizeof path, "invalid.safetensors");
  struct stat sb;
  tap_ok(infini_model_write_random(&c, 0, path, err, sizeof err) !=
                 INFINI_OK &&
             stat(path, &sb) != 0,
         "write_random: an invalid config writes nothing (%s)", err);
}

static void test_model_files(void) {
  test_round_trip();
  test_metadata();
  char path[128];
  path_in(path, sizeof path, "tiny.safetensors");
  bytes b = {0};
  st_file f;
  if (!tap_ok(read_file(path, &b) &&
                  st_parse(b.p, b.len, &f, NULL, 0) == INFINI_OK,
              "the tiny file parses")) {
    free(b.p);
    return;
  }
  test_mismatches(&f);
  test_bad_config_values(&f);
  test_dtypes(&f);
  test_load_errors(&b);
  test_write_errors();
  st_free(&f);
  free(b.p);
}

/* Remove the temporary directory and what the tests wrote in it. */
static void cleanup(void) {
  static const char *const names[] = {
      "tiny.safetensors", "tiny2.safetensors", "seed1.safetensors",
      "meta.safetensors", "bad.safetensors",   "dtype.safetensors",
      "cut.safetensors"};
  char path[128];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    path_in(path, sizeof path, names[i]);
    unlink(path);
  }
  rmdir(tmpdir);
}

int main(void) {
  test_decode_integers();
  test_decode_floats();
  test_hand_file();
  test_writer();
  test_bad_headers();
  test_bad_lengths();
  test_truncations();
  const char *t = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/infini-st-XXXXXX", t && *t ? t : "/tmp");
  if (!mkdtemp(tmpdir)) {
    tap_ok(false, "cannot create a temporary directory");
    return tap_done();
  }
  test_model_files();
  cleanup();
  return tap_done();
}

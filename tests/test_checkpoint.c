/*
 * tests/test_checkpoint.c - checkpoints (docs/model.md, "Checkpoints").
 *
 * - Round trip: a stream saved mid-segment, at a segment boundary and
 *   empty, restored into a fresh stream and continued, gives the same
 *   logits, bit for bit, as the stream that was never interrupted (fed in
 *   the same calls), on every backend that runs here.
 * - Rejection: a checkpoint of another config or other weights
 *   (MISMATCH), every truncation, every single-byte corruption, a wrong
 *   version, trailing bytes, overflowing sizes and a missing file are
 *   refused, and the stream they were loaded into is unchanged.
 * - Saving: a failed save leaves the previous good checkpoint intact and
 *   no temporary file behind.
 */
#include "config.h"
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "infini_model.h"
#include "src/checkpoint.h"
#include "src/fileio.h"
#include "src/model.h"
#include "tests/tap.h"
#include "tests/testutil.h"

/* A small grouped-query model: 2 layers, 4 query heads over 2 key/value
 * heads of 8, segments of 8 tokens, so a 40-token stream crosses 5
 * segment boundaries in a few milliseconds. */
static infini_model_config small_config(infini_update_rule rule,
                                        infini_position position) {
  infini_model_config c;
  if (infini_model_config_init(&c, 32, 32, 2, 4, 2, 8, 48, 8) != INFINI_OK)
    abort();
  c.rule = rule;
  c.position = position;
  c.attn_eps = rule == INFINI_UPDATE_DELTA ? 1e-6f : 0.0f;
  return c;
}

enum { STREAM = 40 };

static char tmpdir[64];

static void path_in(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", tmpdir, name);
}

/* Random weights for c written to the temp dir, then loaded on backend. */
static infini_model *make_model(const infini_model_config *c, uint64_t seed,
                                const infini_backend *backend) {
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/weights-%llu.safetensors", tmpdir,
           (unsigned long long)seed);
  infini_model *m = NULL;
  if (infini_model_write_random(c, seed, path, err, sizeof err) != INFINI_OK ||
      infini_model_load(path, backend, &m, err, sizeof err) != INFINI_OK) {
    tap_diag("cannot build the test model: %s", err);
    exit(99);
  }
  unlink(path);
  return m;
}

static infini_model_state *new_state(const infini_model *m) {
  infini_model_state *s = NULL;
  if (infini_model_state_create(m, &s) != INFINI_OK)
    exit(99);
  return s;
}

static void tokens_of(int32_t *t, ptrdiff_t n, int32_t vocab) {
  tu_rng r = tu_rng_seed(5);
  for (ptrdiff_t i = 0; i < n; i++)
    t[i] = (int32_t)(tu_next(&r) % (uint64_t)vocab);
}

static bool feed(const infini_model *m, infini_model_state *s,
                 const int32_t *t, ptrdiff_t n, float *logits) {
  return n == 0 || infini_model_forward(m, s, t, n, logits, NULL) == INFINI_OK;
}

/* ---- state snapshots: everything a load may write ---------------------- */

typedef struct snapshot {
  unsigned char *bytes;
  size_t len;
} snapshot;

static size_t seg_floats(const infini_model_config *c) {
  return (size_t)(c->n_layers * c->segment_len * c->n_kv_heads * c->d_head);
}

static snapshot take(const infini_model_state *s) {
  const infini_model_config *c = &s->model->config;
  const size_t dh = (size_t)c->d_head, heads = (size_t)(c->n_layers * c->n_kv_heads);
  const size_t seg = seg_floats(c) * sizeof(float);
  snapshot p = {NULL, sizeof s->tokens + heads * dh * (dh + 1) * 4 + 3 * seg};
  unsigned char *w = p.bytes = malloc(p.len);
  if (!w)
    abort();
  memcpy(w, &s->tokens, sizeof s->tokens);
  w += sizeof s->tokens;
  for (ptrdiff_t l = 0; l < c->n_layers; l++)
    for (ptrdiff_t g = 0; g < c->n_kv_heads; g++) {
      float *m, *z;
      ptrdiff_t ldm;
      infini_state_head(s->memory[l], g, &m, &ldm, &z);
      for (size_t r = 0; r < dh; r++, w += dh * 4)
        memcpy(w, m + r * (size_t)ldm, dh * 4);
      memcpy(w, z, dh * 4);
      w += dh * 4;
    }
  const float *segs[3] = {s->seg_k, s->seg_k_pos, s->seg_v};
  for (int t = 0; t < 3; t++, w += seg)
    memcpy(w, segs[t], seg);
  return p;
}

static bool same_snapshot(const snapshot *a, const infini_model_state *s) {
  snapshot b = take(s);
  const bool same = a->len == b.len && memcmp(a->bytes, b.bytes, a->len) == 0;
  free(b.bytes);
  return same;
}

/* ---- round trip ---------------------------------------------------------- */

/* Feed cut tokens, save, restore into a fresh stream, feed the rest; the
 * reference stream is fed the same two calls without the detour. */
static bool round_trip(const infini_model *m, ptrdiff_t cut, const char *path) {
  const ptrdiff_t v = m->config.vocab_size, rest = STREAM - cut;
  int32_t t[STREAM];
  tokens_of(t, STREAM, (int32_t)v);
  float *want = malloc(sizeof(float) * (size_t)(STREAM * v));
  float *got = malloc(sizeof(float) * (size_t)(STREAM * v));
  infini_model_state *a = new_state(m), *b = new_state(m);
  char err[256] = "";
  bool ok = want && got && feed(m, a, t, cut, NULL) &&
            infini_model_checkpoint_save(m, a, path, err, sizeof err) == INFINI_OK &&
            infini_model_checkpoint_load(m, b, path, err, sizeof err) == INFINI_OK &&
            feed(m, a, t + cut, rest, want) && feed(m, b, t + cut, rest, got) &&
            memcmp(want, got, sizeof(float) * (size_t)(rest * v)) == 0 &&
            a->tokens == b->tokens;
  if (!ok && err[0])
    tap_diag("%s", err);
  infini_model_state_free(a);
  infini_model_state_free(b);
  free(want);
  free(got);
  return ok;
}

static void test_round_trips(void) {
  const infini_model_config cfgs[2] = {
      small_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE),
      small_config(INFINI_UPDATE_DELTA, INFINI_POSITION_NONE)};
  const char *cfg_names[2] = {"linear+rope", "delta"};
  const ptrdiff_t cuts[3] = {13, 16, 0}; /* mid-segment, boundary, empty */
  char path[128];
  path_in(path, sizeof path, "round.ckpt");
  for (size_t i = 0; i < infini_backend_count(); i++) {
    const infini_backend *be = infini_backend_at(i);
    if (be->availability() == INFINI_UNAVAILABLE)
      continue;
    for (int c = 0; c < 2; c++) {
      infini_model *m = make_model(&cfgs[c], 11, be);
      for (int k = 0; k < 3; k++)
        tap_ok(round_trip(m, cuts[k], path),
               "%s %s: saved after %td tokens, restored, continued: "
               "bit-identical logits", be->name, cfg_names[c], cuts[k]);
      infini_model_free(m);
    }
  }
  unlink(path);
}

/* ---- rejection ------------------------------------------------------------ */

/* The checkpoint bytes of model m after n tokens. */
static unsigned char *checkpoint_bytes(const infini_model *m, ptrdiff_t n,
                                       size_t *len) {
  char path[128], err[256];
  path_in(path, sizeof path, "bytes.ckpt");
  int32_t t[STREAM];
  tokens_of(t, n, (int32_t)m->config.vocab_size);
  infini_model_state *s = new_state(m);
  unsigned char *b = NULL;
  if (!feed(m, s, t, n, NULL) ||
      infini_model_checkpoint_save(m, s, path, err, sizeof err) != INFINI_OK ||
      fileio_read_all(path, 1 << 24, &b, len, err, sizeof err) != INFINI_OK)
    exit(99);
  infini_model_state_free(s);
  unlink(path);
  return b;
}

/* parse must fail with want (or any error when want is INFINI_OK) and
 * leave s unchanged. */
static bool refused(const infini_model *m, const unsigned char *b, size_t len,
                    infini_model_state *s, infini_status want) {
  snapshot before = take(s);
  char err[256] = "";
  const infini_status st = checkpoint_parse(m, b, len, s, err, sizeof err);
  const bool ok = st != INFINI_OK && (want == INFINI_OK || st == want) &&
                  err[0] != 0 && same_snapshot(&before, s);
  if (!ok)
    tap_diag("len %zu: got %s (%s)", len, tu_status_name(st), err);
  free(before.bytes);
  return ok;
}

/* Recompute b's SHA-256 trailer after a field was changed, so the change
 * reaches the checks behind the checksum. */
static void reseal(unsigned char *b, size_t len) {
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, len - CHECKPOINT_TRAILER_BYTES, b);
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, b + len - CHECKPOINT_TRAILER_BYTES);
}

static void test_truncations(const infini_model *m, infini_model_state *s,
                             const unsigned char *b, size_t len) {
  bool all = true;
  for (size_t n = 0; n < len && all; n++)
    all = refused(m, b, n, s, INFINI_ERR_FORMAT);
  tap_ok(all, "every one of the %zu truncations is refused (FORMAT), the "
         "stream unchanged", len);
  unsigned char *longer = malloc(len + 1);
  memcpy(longer, b, len);
  longer[len] = 0;
  tap_ok(refused(m, longer, len + 1, s, INFINI_ERR_FORMAT),
         "a trailing byte is refused (FORMAT)");
  free(longer);
}

static void test_corruptions(const infini_model *m, infini_model_state *s,
                             const unsigned char *b, size_t len) {
  unsigned char *c = malloc(len);
  memcpy(c, b, len);
  const unsigned char flips[2] = {0x01, 0x80};
  bool all = true;
  for (size_t i = 0; i < len && all; i++)
    for (int f = 0; f < 2 && all; f++) {
      c[i] ^= flips[f];
      all = refused(m, c, len, s, INFINI_OK);
      c[i] ^= flips[f];
    }
  tap_ok(all, "every single-byte corruption of the %zu bytes (bit 0 and bit "
         "7) is refused, the stream unchanged", len);
  free(c);
}

/* A little-endian u64 at offset off of a copy of b, resealed. */
static unsigned char *with_u64(const unsigned char *b, size_t len, size_t off,
                               uint64_t x) {
  unsigned char *c = malloc(len);
  memcpy(c, b, len);
  for (int i = 0; i < 8; i++)
    c[off + (size_t)i] = (unsigned char)(x >> (8 * i));
  reseal(c, len);
  return c;
}

enum { OFF_VERSION = 8, OFF_CONFIG = 44 };

static void test_fields(const infini_model *m, infini_model_state *s,
                        const unsigned char *b, size_t len) {
  /* version is a u32 at 8: writing a u64 there also sets the first 4
   * bytes of the digest to 0, which is checked after the version. */
  unsigned char *c = malloc(len);
  memcpy(c, b, len);
  c[OFF_VERSION] = INFINI_CHECKPOINT_VERSION + 1;
  reseal(c, len);
  tap_ok(refused(m, c, len, s, INFINI_ERR_VERSION),
         "version %d is refused (VERSION)", INFINI_CHECKPOINT_VERSION + 1);
  c[OFF_VERSION] = 0;
  tap_ok(refused(m, c, len, s, INFINI_ERR_VERSION), "version 0 is refused");
  free(c);
  /* config fields: n_layers (index 2) and d_head (index 5) */
  const struct {
    size_t field;
    uint64_t value;
    const char *what;
  } cases[] = {
      {2, 0, "zero layers"},
      {2, 3, "three layers (length disagrees)"},
      {5, UINT64_C(1) << 40, "d_head 2^40 (sizes overflow)"},
      {5, UINT64_MAX, "d_head 2^64-1"},
      {7, 0, "segment_len 0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    c = with_u64(b, len, OFF_CONFIG + 8 * cases[i].field, cases[i].value);
    tap_ok(refused(m, c, len, s, INFINI_ERR_FORMAT),
           "a resealed checkpoint declaring %s is refused (FORMAT)",
           cases[i].what);
    free(c);
  }
  c = with_u64(b, len, OFF_CONFIG, (uint64_t)m->config.vocab_size + 1);
  tap_ok(refused(m, c, len, s, INFINI_ERR_MISMATCH),
         "a resealed checkpoint with another vocab_size is refused (MISMATCH)");
  free(c);
}

static void test_other_models(const infini_model *m, infini_model_state *s,
                              const unsigned char *b, size_t len) {
  const infini_model_config *c = &m->config;
  infini_model *same_config = make_model(c, 12, NULL);
  infini_model_config dc = small_config(INFINI_UPDATE_DELTA, c->position);
  infini_model *delta = make_model(&dc, 11, NULL);
  infini_model_state *s1 = new_state(same_config), *s2 = new_state(delta);
  tap_ok(refused(same_config, b, len, s1, INFINI_ERR_MISMATCH),
         "same config, other weights: refused (MISMATCH)");
  tap_ok(refused(delta, b, len, s2, INFINI_ERR_MISMATCH),
         "other config (delta rule): refused (MISMATCH)");
  char err[256];
  tap_ok(checkpoint_parse(m, b, len, s2, err, sizeof err) == INFINI_ERR_SHAPE,
         "a stream of another model is refused (SHAPE)");
  infini_model_state_free(s1);
  infini_model_state_free(s2);
  infini_model_free(same_config);
  infini_model_free(delta);
  (void)s;
}

static void test_rejections(void) {
  const infini_model_config c =
      small_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE);
  infini_model *m = make_model(&c, 11, NULL);
  size_t len;
  unsigned char *b = checkpoint_bytes(m, 13, &len);
  /* the stream the bad files are loaded into is itself mid-stream, so a
   * load that wrote zeros or partial data would show */
  infini_model_state *s = new_state(m);
  int32_t t[STREAM];
  tokens_of(t, 21, (int32_t)c.vocab_size);
  if (!feed(m, s, t, 21, NULL))
    exit(99);
  char err[256] = "", path[128];
  tap_ok(checkpoint_parse(m, b, len, s, err, sizeof err) == INFINI_OK &&
             s->tokens == 13,
         "the good checkpoint itself parses (%zu bytes)", len);
  if (!feed(m, s, t + 13, 8, NULL))
    exit(99);
  test_truncations(m, s, b, len);
  test_corruptions(m, s, b, len);
  test_fields(m, s, b, len);
  test_other_models(m, s, b, len);
  snapshot before = take(s);
  path_in(path, sizeof path, "missing.ckpt");
  tap_ok(infini_model_checkpoint_load(m, s, path, err, sizeof err) ==
                 INFINI_ERR_IO && strstr(err, path) && same_snapshot(&before, s),
         "a missing file is refused (IO) and named: %s", err);
  free(before.bytes);
  infini_model_state_free(s);
  infini_model_free(m);
  free(b);
}

/* ---- failed saves ---------------------------------------------------------- */

/* Number of directory entries other than . and .. */
static int entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  if (d)
    closedir(d);
  return n;
}

static bool file_is(const char *path, const unsigned char *b, size_t len) {
  unsigned char *got;
  size_t n;
  if (fileio_read_all(path, len + 1, &got, &n, NULL, 0) != INFINI_OK)
    return false;
  const bool same = n == len && memcmp(got, b, len) == 0;
  free(got);
  return same;
}

/* Overwrite good with a stream whose checkpoint is longer than the file
 * size limit, so the write itself fails half-way, as on a full disk (the
 * limit raises SIGXFSZ, ignored here, and write() then fails with EFBIG). */
static bool failed_write_keeps(const infini_model *m, infini_model_state *s,
                               const char *good, const unsigned char *b,
                               size_t len, const char *dir) {
  int32_t t[STREAM];
  tokens_of(t, 15, (int32_t)m->config.vocab_size);
  struct rlimit old, small;
  if (!feed(m, s, t, 15, NULL) || getrlimit(RLIMIT_FSIZE, &old) != 0)
    return false;
  small = old;
  small.rlim_cur = len / 2;
  void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
  char err[256] = "";
  infini_status st = INFINI_ERR_NULL;
  if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
    st = infini_model_checkpoint_save(m, s, good, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
  }
  signal(SIGXFSZ, handler);
  tap_diag("%s", err);
  return st == INFINI_ERR_IO && file_is(good, b, len) && entries(dir) == 1;
}

static void test_failed_saves(void) {
  const infini_model_config c =
      small_config(INFINI_UPDATE_LINEAR, INFINI_POSITION_ROPE);
  infini_model *m = make_model(&c, 11, NULL);
  size_t len;
  unsigned char *b = checkpoint_bytes(m, 13, &len);
  char dir[128], good[160], bad[200], err[256];
  path_in(dir, sizeof dir, "saves");
  snprintf(good, sizeof good, "%s/good.ckpt", dir);
  if (mkdir(dir, 0700) != 0 || fileio_write_atomic(good, b, len, NULL, 0))
    exit(99);
  infini_model_state *s = new_state(m);
  const struct {
    const char *suffix, *what;
  } cases[] = {{"/missing/x.ckpt", "a path in a missing directory"},
               {"/good.ckpt/x.ckpt", "a path under a file"},
               {"", "a path that is a directory"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(bad, sizeof bad, "%s%s", dir, cases[i].suffix);
    err[0] = 0;
    const infini_status st = infini_model_checkpoint_save(m, s, bad, err, sizeof err);
    tap_ok(st == INFINI_ERR_IO && err[0] && file_is(good, b, len) &&
               entries(dir) == 1 && entries(tmpdir) == 1,
           "save to %s fails (IO: %s), the good checkpoint intact, no "
           "temporary file left", cases[i].what, err);
  }
  tap_ok(failed_write_keeps(m, s, good, b, len, dir),
         "a save cut short by a full disk (file size limit) fails (IO), the "
         "good checkpoint intact, no temporary file left");
  if (geteuid() == 0) {
    tap_ok(true, "# SKIP read-only directory: running as root");
  } else {
    chmod(dir, 0500);
    const infini_status st = infini_model_checkpoint_save(m, s, good, err, sizeof err);
    chmod(dir, 0700);
    tap_ok(st == INFINI_ERR_IO && file_is(good, b, len) && entries(dir) == 1,
           "overwrite in a read-only directory fails (IO), the good "
           "checkpoint intact, no temporary file left");
  }
  unlink(good);
  rmdir(dir);
  infini_model_state_free(s);
  infini_model_free(m);
  free(b);
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/infini-ckpt-XXXXXX",
           base && strlen(base) < 32 ? base : "/tmp");
  if (!mkdtemp(tmpdir)) {
    tap_diag("cannot create a temporary directory");
    return 99;
  }
  test_round_trips();
  test_rejections();
  test_failed_saves();
  rmdir(tmpdir);
  return tap_done();
}

/*
 * fuzz/fuzz_checkpoint.c - the checkpoint reader (src/checkpoint.c,
 * checkpoint_parse) on hostile bytes, against one tiny model (weights from
 * infini_model_write_random) and a stream that has read a few tokens.
 *
 * A checkpoint ends in the SHA-256 of the rest, and a fuzzer would almost
 * never get past it; so the harness reseals every input (recomputes the
 * trailer) before parsing, and the fields behind the checksum get fuzzed.
 * (A bad checksum itself is tests/test_checkpoint's business.)
 * A rejected file must leave the stream exactly as it was and a sentence
 * in err; an accepted one must save and load again to the same position.
 *
 * With FUZZ_CHECKPOINT_SEEDS=DIR set, the first call also writes the seed
 * corpus (checkpoints of this model at several positions) to DIR.
 */
#include "config.h"

#include <nettle/sha2.h>
#include <unistd.h>
#include "fuzz/fuzz.h"
#include "src/checkpoint.h"
#include "src/model.h"

static infini_model *model;
static infini_model_state *state;
static const int32_t prefix[] = {1, 5, 2, 7}; /* one segment and a bit */
#define PREFIX_LEN (sizeof prefix / sizeof prefix[0])

/* A temporary path in $TMPDIR (or /tmp), for the weights and the re-save. */
static void temp_path(char *buf, size_t len, const char *what) {
  const char *tmp = getenv("TMPDIR");
  snprintf(buf, len, "%s/fuzz-checkpoint-%ld-%s",
           tmp && strlen(tmp) < 200 ? tmp : "/tmp", (long)getpid(), what);
}

static void feed(infini_model_state *s, size_t n) {
  FUZZ_REQUIRE(infini_model_state_reset(s) == INFINI_OK &&
                   (n == 0 || infini_model_forward(model, s, prefix,
                                                   (ptrdiff_t)n, NULL,
                                                   NULL) == INFINI_OK),
               "cannot run the tiny model");
}

/* V = 13, D = 8, L = 2, H = 2, H_kv = 1, d_head = 4, F = 12, N = 3. */
static void make_model(void) {
  infini_model_config c;
  const infini_backend *ref = NULL;
  char path[256], err[256] = "";
  temp_path(path, sizeof path, "weights.safetensors");
  FUZZ_REQUIRE(infini_model_config_init(&c, 13, 8, 2, 2, 1, 4, 12, 3) ==
                       INFINI_OK &&
                   infini_model_write_random(&c, 6, path, err, sizeof err) ==
                       INFINI_OK &&
                   infini_backend_find("ref", &ref) == INFINI_OK &&
                   infini_model_load(path, ref, &model, err, sizeof err) ==
                       INFINI_OK &&
                   infini_model_state_create(model, &state) == INFINI_OK,
               "cannot build the tiny model");
  unlink(path);
}

static void write_seeds(const char *dir) {
  char path[512], err[256] = "";
  for (size_t n = 0; n <= PREFIX_LEN; n++) {
    feed(state, n);
    snprintf(path, sizeof path, "%s/tokens-%zu.ckpt", dir, n);
    FUZZ_REQUIRE(infini_model_checkpoint_save(model, state, path, err,
                                              sizeof err) == INFINI_OK,
                 "cannot write a seed");
  }
}

/* Everything a restore may write: position, memories, segment cache. */
typedef struct snapshot {
  uint64_t tokens;
  unsigned char *bytes;
  size_t len;
} snapshot;

static size_t state_bytes(const infini_model_state *s, unsigned char *out) {
  const infini_model_config *c = &s->model->config;
  const size_t dh = (size_t)c->d_head;
  size_t mem, seg, n = 0;
  FUZZ_REQUIRE(infini_model_state_bytes(c, &mem, &seg) == INFINI_OK,
               "cannot size the state");
  for (ptrdiff_t l = 0; l < c->n_layers; l++)
    for (ptrdiff_t g = 0; g < c->n_kv_heads; g++) {
      float *m, *z;
      ptrdiff_t ldm;
      infini_state_head(s->memory[l], g, &m, &ldm, &z);
      for (size_t r = 0; r < dh; r++, n += dh * sizeof(float))
        if (out)
          memcpy(out + n, m + r * (size_t)ldm, dh * sizeof(float));
      if (out)
        memcpy(out + n, z, dh * sizeof(float));
      n += dh * sizeof(float);
    }
  if (out)
    memcpy(out + n, s->seg_k, seg); /* one allocation from seg_k */
  return n + seg;
}

static snapshot take(const infini_model_state *s) {
  snapshot p = {s->tokens, NULL, state_bytes(s, NULL)};
  p.bytes = malloc(p.len);
  FUZZ_REQUIRE(p.bytes != NULL, "out of memory");
  state_bytes(s, p.bytes);
  return p;
}

static void reseal(unsigned char *b, size_t len) {
  struct sha256_ctx ctx;
  if (len < CHECKPOINT_TRAILER_BYTES)
    return;
  sha256_init(&ctx);
  sha256_update(&ctx, len - CHECKPOINT_TRAILER_BYTES, b);
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, b + len - CHECKPOINT_TRAILER_BYTES);
}

/* Save the restored stream and load it into a fresh one. */
static void check_round_trip(void) {
  char path[256], err[256] = "";
  infini_model_state *again = NULL;
  uint64_t a = 0, b = 1;
  temp_path(path, sizeof path, "resaved.ckpt");
  FUZZ_REQUIRE(infini_model_checkpoint_save(model, state, path, err,
                                            sizeof err) == INFINI_OK,
               "an accepted checkpoint cannot be saved again");
  FUZZ_REQUIRE(infini_model_state_create(model, &again) == INFINI_OK &&
                   infini_model_checkpoint_load(model, again, path, err,
                                                sizeof err) == INFINI_OK,
               "a re-saved checkpoint is rejected");
  infini_model_state_position(state, &a);
  infini_model_state_position(again, &b);
  FUZZ_REQUIRE(a == b, "round trip changed the position");
  infini_model_state_free(again);
  unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!model) {
    make_model();
    const char *seeds = getenv("FUZZ_CHECKPOINT_SEEDS");
    if (seeds)
      write_seeds(seeds);
  }
  unsigned char *b = malloc(size ? size : 1);
  FUZZ_REQUIRE(b != NULL, "out of memory");
  if (size)
    memcpy(b, data, size);
  reseal(b, size);
  feed(state, PREFIX_LEN);
  snapshot before = take(state);
  char err[256] = "";
  const infini_status st = checkpoint_parse(model, b, size, state, err,
                                            sizeof err);
  if (st == INFINI_OK) {
    check_round_trip();
  } else {
    snapshot after = take(state);
    FUZZ_REQUIRE(st == INFINI_ERR_FORMAT || st == INFINI_ERR_VERSION ||
                     st == INFINI_ERR_MISMATCH || st == INFINI_ERR_NOMEM,
                 "checkpoint_parse returned an undocumented status");
    FUZZ_REQUIRE(after.tokens == before.tokens && after.len == before.len &&
                     memcmp(after.bytes, before.bytes, after.len) == 0,
                 "a rejected checkpoint modified the stream");
    fuzz_require_message(err);
    free(after.bytes);
  }
  free(before.bytes);
  free(b);
  return 0;
}

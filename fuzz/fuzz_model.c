/*
 * fuzz/fuzz_model.c - the whole weights loader (infini_model_load: the
 * one reader, the header-first safetensors parse, the config checks
 * against the tensors present, the tensor reads) on hostile files. It
 * reads a path, so each input is written to a file in a private temporary
 * directory. A rejected file must leave one line; an accepted one must
 * load again to the same digest (the loader depends on nothing but the
 * bytes).
 */
#include "config.h"

#include <unistd.h>
#include "fuzz/fuzz.h"
#include "infini_model.h"
#include "src/model.h"

static char dir[64], in_path[96];

static void remove_files(void) {
  unlink(in_path);
  rmdir(dir);
}

static void make_dir(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/fuzz-model-XXXXXX",
           tmp && strlen(tmp) < 32 ? tmp : "/tmp");
  FUZZ_REQUIRE(mkdtemp(dir) != NULL, "cannot create a temporary directory");
  snprintf(in_path, sizeof in_path, "%s/in.safetensors", dir);
  atexit(remove_files);
}

static void write_input(const uint8_t *data, size_t size) {
  FILE *f = fopen(in_path, "wb");
  FUZZ_REQUIRE(f != NULL, "cannot write the input file");
  FUZZ_REQUIRE(fwrite(data, 1, size, f) == size && fclose(f) == 0,
               "cannot write the input file");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  infini_model *m = NULL, *again = NULL;
  char err[512] = "";
  if (!dir[0])
    make_dir();
  write_input(data, size);
  const infini_status st = infini_model_load(in_path, NULL, &m, err, sizeof err);
  if (st != INFINI_OK) {
    FUZZ_REQUIRE(m == NULL, "a rejected file returned a model");
    fuzz_require_message(err);
    return 0;
  }
  FUZZ_REQUIRE(infini_model_config_check(infini_model_get_config(m)) ==
                   INFINI_OK,
               "an accepted file has a config the check refuses");
  FUZZ_REQUIRE(infini_model_load(in_path, NULL, &again, err, sizeof err) ==
                   INFINI_OK,
               "an accepted file is refused the second time");
  FUZZ_REQUIRE(memcmp(m->digest, again->digest, sizeof m->digest) == 0,
               "the same file loaded to two digests");
  infini_model_free(again);
  infini_model_free(m);
  return 0;
}

/*
 * fuzz/fuzz_manifest.c - the manifest reader (vectors/vecset.c,
 * vs_set_load) on hostile JSON. It reads a path, so each input is written
 * to a file in a private temporary directory. An accepted manifest must be
 * written back by vs_set_save and load again with the same tests.
 */
#include "config.h"

#include <unistd.h>
#include "fuzz/fuzz.h"
#include "vectors/vecset.h"

static char dir[64], in_path[96], out_path[96];

static void remove_files(void) {
  unlink(in_path);
  unlink(out_path);
  rmdir(dir);
}

/* One directory per process, removed at exit (left behind only when a
 * crash stops the process, where it helps to look at the input). */
static void make_dir(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/fuzz-manifest-XXXXXX",
           tmp && strlen(tmp) < 32 ? tmp : "/tmp");
  FUZZ_REQUIRE(mkdtemp(dir) != NULL, "cannot create a temporary directory");
  snprintf(in_path, sizeof in_path, "%s/in.json", dir);
  snprintf(out_path, sizeof out_path, "%s/out.json", dir);
  atexit(remove_files);
}

static void write_input(const uint8_t *data, size_t size) {
  FILE *f = fopen(in_path, "wb");
  FUZZ_REQUIRE(f != NULL, "cannot write the input file");
  FUZZ_REQUIRE(fwrite(data, 1, size, f) == size && fclose(f) == 0,
               "cannot write the input file");
}

static void check_round_trip(const vs_set *set) {
  char err[512] = "";
  vs_set again;
  FUZZ_REQUIRE(vs_set_save(set, out_path, err, sizeof err),
               "an accepted manifest cannot be saved");
  FUZZ_REQUIRE(vs_set_load(out_path, &again, err, sizeof err),
               "a saved manifest is rejected");
  FUZZ_REQUIRE(again.n_groups == set->n_groups &&
                   again.number_of_tests == set->number_of_tests,
               "round trip changed the groups or tests");
  for (int g = 0; g < set->n_groups; g++)
    for (int t = 0; t < set->groups[g].n_tests; t++)
      FUZZ_REQUIRE(again.groups[g].tests[t].id == set->groups[g].tests[t].id,
                   "round trip changed a tcId");
  vs_set_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vs_set set;
  char err[512] = "";
  if (!dir[0])
    make_dir();
  write_input(data, size);
  if (!vs_set_load(in_path, &set, err, sizeof err)) {
    fuzz_require_message(err);
    return 0;
  }
  check_round_trip(&set);
  vs_set_free(&set);
  return 0;
}

/*
 * fuzz/replay.c - a main for a fuzz harness without libFuzzer: feeds each
 * file of the harness's seed corpus to LLVMFuzzerTestOneInput, in name
 * order, one TAP line per file. A crash or a broken invariant (abort) ends
 * the run, which the TAP driver reports as a failure. Arguments, when
 * given, are files or directories to replay instead of FUZZ_CORPUS.
 * Each input is copied into a buffer of exactly its size, so that under
 * AddressSanitizer a read past the end is caught as libFuzzer would.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include "fuzz/fuzz.h"
#include "tests/tap.h"

#ifndef FUZZ_CORPUS
#error "FUZZ_CORPUS (the corpus directory) must be defined"
#endif

static unsigned char *read_file(const char *path, size_t *len) {
  struct stat st;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  unsigned char *data = NULL;
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
    const size_t n = (size_t)st.st_size;
    data = malloc(n ? n : 1); /* exactly n: never malloc(0) */
    if (data && fread(data, 1, n, f) != n) {
      free(data);
      data = NULL;
    }
    *len = n;
  }
  fclose(f);
  return data;
}

static void replay_file(const char *path) {
  size_t len = 0;
  unsigned char *data = read_file(path, &len);
  if (!data) {
    tap_ok(0, "%s: cannot read", path);
    return;
  }
  tap_diag("%s (%zu bytes)", path, len); /* named before a crash */
  LLVMFuzzerTestOneInput(data, len);
  free(data);
  tap_ok(1, "%s (%zu bytes): handled", path, len);
}

static int no_dot(const struct dirent *e) { return e->d_name[0] != '.'; }

static void replay_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    tap_ok(0, "%s: %s", path, strerror(errno));
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    replay_file(path);
    return;
  }
  struct dirent **names;
  const int n = scandir(path, &names, no_dot, alphasort);
  tap_ok(n > 0, "%s: a non-empty corpus", path);
  for (int i = 0; i < n; i++) {
    char file[4096];
    snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
    replay_file(file);
    free(names[i]);
  }
  if (n >= 0)
    free(names);
}

int main(int argc, char **argv) {
  if (argc < 2)
    replay_path(FUZZ_CORPUS);
  for (int i = 1; i < argc; i++)
    replay_path(argv[i]);
  return tap_done();
}

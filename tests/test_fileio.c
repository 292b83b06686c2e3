/*
 * tests/test_fileio.c - the project's one writer and one reader
 * (src/fileio.h) against hostile file systems (issue 19): links planted at
 * the destination, at its folder and at the temporary's name; existing
 * files without FILEIO_REPLACE; stale temporaries of dead writers; FIFOs,
 * devices and huge sparse files given to the reader. alarm() turns a hang
 * into a failure.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/fileio.h"
#include "tests/tap.h"
#include "vectors/npy.h"

static char root[4200];

static const char *at(const char *name) {
  static char buf[4][4400];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", root, name);
  return buf[k];
}

static void put(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static int has(const char *path, const char *text) {
  char buf[256] = "";
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strcmp(buf, text) == 0;
}

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static int is_link(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static int one_line(const char *s) { return s[0] && !strchr(s, '\n'); }

static void writer_tests(void) {
  char err[512];
  infini_status st = fileio_write_atomic_flags(at("new"), "A", 1, 0, err, sizeof err);
  tap_ok(st == INFINI_OK && has(at("new"), "A"), "a new file is written");
  put(at("old"), "keep");
  st = fileio_write_atomic_flags(at("old"), "B", 1, 0, err, sizeof err);
  tap_ok(st == INFINI_ERR_IO && strstr(err, "exists") && has(at("old"), "keep"),
         "an existing file is kept without FILEIO_REPLACE (%s)", err);
  st = fileio_write_atomic(at("old"), "B", 1, err, sizeof err);
  tap_ok(st == INFINI_OK && has(at("old"), "B"), "FILEIO_REPLACE replaces it");

  mkdir(at("outside"), 0777);
  symlink(at("outside/target"), at("dangling"));
  st = fileio_write_atomic(at("dangling"), "C", 1, err, sizeof err);
  tap_ok(st == INFINI_ERR_IO && one_line(err) && is_link(at("dangling")) &&
             !exists(at("outside/target")),
         "a dangling link at the destination is refused, not replaced (%s)", err);
  put(at("outside/victim"), "victim");
  symlink(at("outside/victim"), at("link"));
  st = fileio_write_atomic(at("link"), "D", 1, err, sizeof err);
  tap_ok(st == INFINI_ERR_IO && is_link(at("link")) &&
             has(at("outside/victim"), "victim"),
         "a link to a file is refused; the file is untouched (%s)", err);
  symlink(at("outside"), at("linkdir"));
  st = fileio_write_atomic(at("linkdir/x"), "E", 1, err, sizeof err);
  tap_ok(st == INFINI_ERR_IO && strstr(err, "symbolic link") &&
             !exists(at("outside/x")),
         "a folder that is a link is refused (%s)", err);
  st = fileio_write_atomic(at("outside/"), "E", 1, err, sizeof err);
  tap_ok(st == INFINI_ERR_IO && one_line(err), "a path ending in / is refused (%s)", err);
}

/* Links planted at every name the writer might pick for its temporary
 * (this writer's and the old npy writer's "path.tmp.PID"): none is
 * followed. */
static void planted_temp_tests(void) {
  char err[512], name[4400], target[4400];
  const long pid = (long)getpid();
  mkdir(at("plant"), 0777);
  mkdir(at("plant-out"), 0777);
  for (int i = 0; i < 1000; i++) {
    snprintf(name, sizeof name, "%s/.t.npy.infini-tmp-%ld-%d", at("plant"), pid, i);
    snprintf(target, sizeof target, "%s/t%d", at("plant-out"), i);
    symlink(target, name);
  }
  snprintf(name, sizeof name, "%s/t.npy.tmp.%ld", at("plant"), pid);
  symlink(at("plant-out/old-name"), name);
  const unsigned char bytes[4] = {1, 2, 3, 4};
  const bool ok = npy_write_file(at("plant/t.npy"), bytes, 4, err, sizeof err);
  int empty = 1;
  for (int i = 0; i < 1000 && empty; i++) {
    snprintf(target, sizeof target, "%s/t%d", at("plant-out"), i);
    empty = !exists(target);
  }
  empty = empty && !exists(at("plant-out/old-name"));
  tap_ok(empty, "no write through a link planted at a temporary's name "
         "(write %s%s%s)", ok ? "succeeded" : "refused: ", ok ? "" : err, "");
}

static pid_t dead_pid(void) {
  pid_t p = fork();
  if (p == 0)
    _exit(0);
  waitpid(p, NULL, 0);
  return p;
}

static void stale_temp_tests(void) {
  char err[512], dead[4400], live[4400];
  mkdir(at("stale"), 0777);
  snprintf(dead, sizeof dead, "%s/.y.infini-tmp-%ld-3", at("stale"), (long)dead_pid());
  snprintf(live, sizeof live, "%s/.y.infini-tmp-%ld-999999", at("stale"), (long)getpid());
  put(dead, "half");
  put(live, "in flight");
  put(at("stale/.y.other"), "not ours");
  const infini_status st = fileio_write_atomic(at("stale/y"), "Y", 1, err, sizeof err);
  tap_ok(st == INFINI_OK && !exists(dead) && exists(live) &&
             exists(at("stale/.y.other")),
         "a dead writer's temporary is removed; a live one's and other files stay");
}

static void reader_tests(void) {
  char err[512];
  unsigned char *b = NULL;
  size_t n = 0;
  mkfifo(at("fifo"), 0666);
  infini_status st = fileio_read_all(at("fifo"), 1 << 20, &b, &n, err, sizeof err);
  tap_ok(st == INFINI_ERR_IO && strstr(err, "not a regular file"),
         "a FIFO is refused at once (%s)", err);
  symlink("/dev/zero", at("zero"));
  st = fileio_read_all(at("zero"), 1 << 20, &b, &n, err, sizeof err);
  tap_ok(st == INFINI_ERR_IO && strstr(err, "not a regular file"),
         "a link to /dev/zero is refused (%s)", err);
  const int fd = open(at("sparse"), O_WRONLY | O_CREAT, 0666);
  const int grown = fd >= 0 && ftruncate(fd, (off_t)3 << 30) == 0;
  if (fd >= 0)
    close(fd);
  st = fileio_read_all(at("sparse"), 1 << 20, &b, &n, err, sizeof err);
  tap_ok(grown && st == INFINI_ERR_FORMAT && strstr(err, "more than"),
         "a 3 GB sparse file is refused by its size before a byte is read (%s)", err);
  put(at("plain"), "text");
  symlink(at("plain"), at("plain-link"));
  st = fileio_read_all_flags(at("plain-link"), FILEIO_NOFOLLOW, 100, &b, &n, err,
                             sizeof err);
  tap_ok(st == INFINI_ERR_IO && strstr(err, "symbolic link"),
         "FILEIO_NOFOLLOW refuses a link (%s)", err);
  st = fileio_read_all(at("plain-link"), 100, &b, &n, err, sizeof err);
  tap_ok(st == INFINI_OK && n == 4 && memcmp(b, "text", 4) == 0 && b[4] == 0,
         "without it a link to a regular file is read");
  if (st == INFINI_OK)
    free(b);
  const bool ok = npy_read_file(at("fifo"), &b, &n, err, sizeof err);
  tap_ok(!ok && one_line(err), "npy_read_file refuses a FIFO (%s)", err);
  fileio_set_error(err, sizeof err, "quoted: %s", "line one\nline two\r");
  tap_ok(one_line(err), "error text quoting input bytes stays on one line (%s)", err);
}

int main(void) {
  alarm(60); /* a reader that blocks on a FIFO fails the test, not CI */
  /* absolute, so the links planted below point where they seem to */
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) {
    printf("Bail out! getcwd failed\n");
    return 99;
  }
  snprintf(root, sizeof root, "%s/test-fileio.tmp.%ld", cwd, (long)getpid());
  if (mkdir(root, 0777) != 0) {
    printf("Bail out! cannot create %s\n", root);
    return 99;
  }
  writer_tests();
  planted_temp_tests();
  stale_temp_tests();
  reader_tests();
  if (!tap_failed) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
      tap_diag("could not remove %s", root);
  }
  return tap_done();
}

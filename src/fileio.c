/* src/fileio.c - see src/fileio.h. */
#include "config.h"
#include "src/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- one-line errors ------------------------------------------------------ */

char *fileio_one_line(char *s) {
  for (char *p = s; p && *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
  return s;
}

static void format_error(char *err, size_t errlen, const char *fmt,
                         va_list ap) {
  if (err && errlen) {
    vsnprintf(err, errlen, fmt, ap);
    fileio_one_line(err);
  }
}

void fileio_set_error(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  format_error(err, errlen, fmt, ap);
  va_end(ap);
}

infini_status fileio_error(char *err, size_t errlen, infini_status status,
                           const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  format_error(err, errlen, fmt, ap);
  va_end(ap);
  return status;
}

/* ---- the reader ----------------------------------------------------------- */

/* O_NONBLOCK makes opening a FIFO return at once (instead of waiting for a
 * writer); the fstat on the descriptor (not the name, which could change)
 * then refuses it, a device, or a folder before anything is read. */
infini_status fileio_open_read(const char *path, unsigned flags,
                               uint64_t max_len, int *fd, uint64_t *size,
                               char *err, size_t errlen) {
  if (!path || !fd || !size)
    return INFINI_ERR_NULL;
  const int nofollow = (flags & FILEIO_NOFOLLOW) ? O_NOFOLLOW : 0;
  const int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | nofollow);
  if (f < 0) {
    if (errno == ELOOP && nofollow)
      return fileio_error(err, errlen, INFINI_ERR_IO,
                          "%s: is a symbolic link; not read", path);
    return fileio_error(err, errlen, INFINI_ERR_IO, "%s: %s", path,
                        strerror(errno));
  }
  struct stat st;
  infini_status status = INFINI_OK;
  if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode))
    status = fileio_error(err, errlen, INFINI_ERR_IO,
                          "%s: not a regular file", path);
  else if ((uint64_t)st.st_size > max_len)
    status = fileio_error(err, errlen, INFINI_ERR_FORMAT,
                          "%s: %llu bytes, more than the %llu this reader accepts",
                          path, (unsigned long long)st.st_size,
                          (unsigned long long)max_len);
  else if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) != 0)
    status = fileio_error(err, errlen, INFINI_ERR_IO, "%s: %s", path,
                          strerror(errno));
  if (status != INFINI_OK) {
    close(f);
    return status;
  }
  *fd = f;
  *size = (uint64_t)st.st_size;
  return INFINI_OK;
}

infini_status fileio_pread(int fd, const char *path, void *buf, size_t len,
                           uint64_t off, char *err, size_t errlen) {
  size_t done = 0;
  while (done < len) {
    const ssize_t got = pread(fd, (unsigned char *)buf + done, len - done,
                              (off_t)(off + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return fileio_error(err, errlen, INFINI_ERR_IO,
                          "%s: read error (%zu of %zu bytes): %s", path, done,
                          len, got < 0 ? strerror(errno) : "file shrank");
    done += (size_t)got;
  }
  return INFINI_OK;
}

infini_status fileio_read_all_flags(const char *path, unsigned flags,
                                    size_t max_len, unsigned char **bytes,
                                    size_t *len, char *err, size_t errlen) {
  if (!path || !bytes || !len)
    return INFINI_ERR_NULL;
  int fd;
  uint64_t size;
  infini_status st =
      fileio_open_read(path, flags, max_len, &fd, &size, err, errlen);
  if (st != INFINI_OK)
    return st;
  const size_t n = (size_t)size;
  unsigned char *buf = malloc(n + 1);
  if (!buf) {
    close(fd);
    return fileio_error(err, errlen, INFINI_ERR_NOMEM,
                        "%s: out of memory for %zu bytes", path, n);
  }
  st = fileio_pread(fd, path, buf, n, 0, err, errlen);
  close(fd);
  if (st != INFINI_OK) {
    free(buf);
    return st;
  }
  buf[n] = 0;
  *bytes = buf;
  *len = n;
  return INFINI_OK;
}

infini_status fileio_read_all(const char *path, size_t max_len,
                              unsigned char **bytes, size_t *len, char *err,
                              size_t errlen) {
  return fileio_read_all_flags(path, 0, max_len, bytes, len, err, errlen);
}

/* ---- the writer ----------------------------------------------------------- */

#define TMP_TAG ".infini-tmp-"

/* Split path into its folder (".", "/", or the text before the last '/',
 * trailing slashes removed so O_NOFOLLOW sees the last component) and its
 * last component, which must name a file. */
static infini_status split_path(const char *path, char **dir, char **base,
                                char *err, size_t errlen) {
  const char *slash = strrchr(path, '/');
  const char *b = slash ? slash + 1 : path;
  if (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
    return fileio_error(err, errlen, INFINI_ERR_IO,
                        "%s: names a folder, not a file; not written", path);
  size_t dlen = slash ? (size_t)(slash - path) : 0;
  while (dlen > 1 && path[dlen - 1] == '/')
    dlen--;
  *dir = !slash ? strdup(".") : dlen == 0 ? strdup("/") : strndup(path, dlen);
  *base = strdup(b);
  if (!*dir || !*base) {
    free(*dir);
    free(*base);
    return fileio_error(err, errlen, INFINI_ERR_NOMEM, "%s: out of memory",
                        path);
  }
  return INFINI_OK;
}

/* The folder is opened with O_NOFOLLOW: a folder that is a symbolic link
 * (an exported DIR/in planted as a link to elsewhere) is refused, and every
 * later step goes through this descriptor, so renaming folders meanwhile
 * cannot redirect the write. */
static infini_status open_dir(const char *path, const char *dir, int *dirfd,
                              char *err, size_t errlen) {
  const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    *dirfd = fd;
    return INFINI_OK;
  }
  const int saved = errno;
  struct stat st;
  if ((saved == ELOOP || saved == ENOTDIR) && lstat(dir, &st) == 0 &&
      S_ISLNK(st.st_mode))
    return fileio_error(err, errlen, INFINI_ERR_IO,
                        "%s: its folder %s is a symbolic link; not written",
                        path, dir);
  return fileio_error(err, errlen, INFINI_ERR_IO, "%s: folder %s: %s", path,
                      dir, strerror(saved));
}

/* A link at the destination (dangling or not) is never replaced: the user
 * may have meant the file it points to, and replacing the link silently
 * is as wrong as writing through it. */
static infini_status check_dest(int dirfd, const char *path, const char *base,
                                unsigned flags, char *err, size_t errlen) {
  struct stat st;
  if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? INFINI_OK
                           : fileio_error(err, errlen, INFINI_ERR_IO, "%s: %s",
                                          path, strerror(errno));
  if (S_ISLNK(st.st_mode))
    return fileio_error(err, errlen, INFINI_ERR_IO,
                        "%s: is a symbolic link; not replaced", path);
  if (!S_ISREG(st.st_mode))
    return fileio_error(err, errlen, INFINI_ERR_IO,
                        "%s: exists and is not a regular file; not replaced",
                        path);
  if (!(flags & FILEIO_REPLACE))
    return fileio_error(err, errlen, INFINI_ERR_IO,
                        "%s: exists; not replaced without --force", path);
  return INFINI_OK;
}

/* Is name ".X.infini-tmp-PID-N" with PID a process that no longer exists? */
static int is_stale_temp(const char *name) {
  if (name[0] != '.')
    return 0;
  const char *tag = strstr(name + 1, TMP_TAG);
  if (!tag)
    return 0;
  char *end;
  errno = 0;
  const long pid = strtol(tag + strlen(TMP_TAG), &end, 10);
  if (errno || pid <= 0 || *end != '-' || pid == (long)getpid())
    return 0;
  strtoul(end + 1, &end, 10);
  if (*end)
    return 0;
  return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Remove temporaries left by writers that were killed (kill -9, power
 * loss). Once per folder per thread: a folder of thousands of exported
 * files is scanned once, not once per file. */
static void remove_stale_temps(int dirfd) {
  static _Thread_local dev_t last_dev;
  static _Thread_local ino_t last_ino;
  static _Thread_local int have_last;
  struct stat st;
  if (fstat(dirfd, &st) != 0 ||
      (have_last && st.st_dev == last_dev && st.st_ino == last_ino))
    return;
  have_last = 1, last_dev = st.st_dev, last_ino = st.st_ino;
  const int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return;
  }
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (is_stale_temp(e->d_name))
      (void)unlinkat(dirfd, e->d_name, 0);
  closedir(d);
}

/* The temporary is created with O_EXCL | O_NOFOLLOW through the folder's
 * descriptor, so a link planted at its name is refused, never followed.
 * Mode 0666 lets the kernel apply the umask: the result has the mode a
 * plain fopen() would give (mkstemp's 0600 would not). */
static infini_status create_temp(fileio_atomic *a, char *err, size_t errlen) {
  static atomic_uint counter;
  const size_t size = strlen(a->base) + 64;
  a->tmp = malloc(size);
  if (!a->tmp)
    return fileio_error(err, errlen, INFINI_ERR_NOMEM, "%s: out of memory",
                        a->path);
  for (int attempt = 0; attempt < 100; attempt++) {
    /* at most 160 bytes of the name, so the temporary's name fits NAME_MAX */
    snprintf(a->tmp, size, ".%.160s" TMP_TAG "%ld-%u", a->base, (long)getpid(),
             atomic_fetch_add(&counter, 1u));
    const int fd = openat(a->dirfd, a->tmp,
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0666);
    if (fd < 0 && errno == EEXIST)
      continue;
    if (fd < 0)
      break;
    a->f = fdopen(fd, "wb");
    if (a->f)
      return INFINI_OK;
    close(fd);
    (void)unlinkat(a->dirfd, a->tmp, 0);
    break;
  }
  return fileio_error(err, errlen, INFINI_ERR_IO,
                      "%s: cannot create a temporary file next to it: %s",
                      a->path, strerror(errno));
}

static void atomic_free(fileio_atomic *a) {
  if (a->dirfd >= 0)
    close(a->dirfd);
  free(a->path);
  free(a->base);
  free(a->tmp);
  memset(a, 0, sizeof *a);
  a->dirfd = -1;
}

infini_status fileio_check_destination(const char *path, unsigned flags,
                                       char *err, size_t errlen) {
  if (!path)
    return INFINI_ERR_NULL;
  char *dir, *base;
  infini_status st = split_path(path, &dir, &base, err, errlen);
  if (st != INFINI_OK)
    return st;
  int dirfd = -1;
  st = open_dir(path, dir, &dirfd, err, errlen);
  if (st == INFINI_OK)
    st = check_dest(dirfd, path, base, flags, err, errlen);
  if (dirfd >= 0)
    close(dirfd);
  free(dir);
  free(base);
  return st;
}

infini_status fileio_atomic_open(fileio_atomic *a, const char *path,
                                 unsigned flags, char *err, size_t errlen) {
  memset(a, 0, sizeof *a);
  a->dirfd = -1;
  if (!path)
    return INFINI_ERR_NULL;
  char *dir = NULL;
  a->flags = flags;
  a->path = strdup(path);
  infini_status st = a->path ? split_path(path, &dir, &a->base, err, errlen)
                             : INFINI_ERR_NOMEM;
  if (st == INFINI_OK)
    st = open_dir(path, dir, &a->dirfd, err, errlen);
  free(dir);
  if (st == INFINI_OK)
    st = check_dest(a->dirfd, path, a->base, flags, err, errlen);
  if (st == INFINI_OK) {
    remove_stale_temps(a->dirfd);
    st = create_temp(a, err, errlen);
  }
  if (st != INFINI_OK)
    atomic_free(a);
  return st;
}

void fileio_atomic_abort(fileio_atomic *a) {
  if (a->f)
    fclose(a->f);
  if (a->tmp && a->dirfd >= 0)
    (void)unlinkat(a->dirfd, a->tmp, 0);
  atomic_free(a);
}

/* Without FILEIO_REPLACE the temporary is hard-linked to the destination,
 * which fails with EEXIST if a file appeared there since the check: an
 * existing file is never replaced, even in a race. File systems without
 * hard links fall back to a checked rename. */
static int move_into_place(fileio_atomic *a) {
  if (a->flags & FILEIO_REPLACE)
    return renameat(a->dirfd, a->tmp, a->dirfd, a->base);
  if (linkat(a->dirfd, a->tmp, a->dirfd, a->base, 0) == 0) {
    (void)unlinkat(a->dirfd, a->tmp, 0);
    return 0;
  }
  if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP &&
      errno != ENOSYS)
    return -1;
  struct stat st;
  if (fstatat(a->dirfd, a->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    errno = EEXIST;
    return -1;
  }
  return renameat(a->dirfd, a->tmp, a->dirfd, a->base);
}

infini_status fileio_atomic_commit(fileio_atomic *a, char *err,
                                   size_t errlen) {
  int failed = ferror(a->f) != 0;
  int saved = failed ? EIO : 0;
  if (!failed && fflush(a->f) != 0)
    failed = 1, saved = errno;
  if (!failed && fsync(fileno(a->f)) != 0 && errno != EINVAL)
    failed = 1, saved = errno;
  if (fclose(a->f) != 0 && !failed)
    failed = 1, saved = errno;
  a->f = NULL;
  if (!failed && move_into_place(a) != 0)
    failed = 1, saved = errno;
  infini_status st = INFINI_OK;
  if (failed && saved == EEXIST)
    st = fileio_error(err, errlen, INFINI_ERR_IO,
                      "%s: exists; not replaced without --force", a->path);
  else if (failed)
    st = fileio_error(err, errlen, INFINI_ERR_IO, "%s: write failed: %s",
                      a->path, saved ? strerror(saved) : "short write");
  else
    (void)fsync(a->dirfd); /* the rename itself survives a crash */
  if (failed)
    fileio_atomic_abort(a);
  else
    atomic_free(a);
  return st;
}

infini_status fileio_make_dir(const char *path, char *err, size_t errlen) {
  if (!path)
    return INFINI_ERR_NULL;
  if (mkdir(path, 0777) != 0 && errno != EEXIST)
    return fileio_error(err, errlen, INFINI_ERR_IO, "cannot create %s: %s",
                        path, strerror(errno));
  struct stat st;
  if (lstat(path, &st) != 0)
    return fileio_error(err, errlen, INFINI_ERR_IO, "%s: %s", path,
                        strerror(errno));
  if (S_ISLNK(st.st_mode))
    return fileio_error(err, errlen, INFINI_ERR_IO,
                        "%s: is a symbolic link; not written into", path);
  if (!S_ISDIR(st.st_mode))
    return fileio_error(err, errlen, INFINI_ERR_IO,
                        "%s exists and is not a directory", path);
  return INFINI_OK;
}

static infini_status write_with(const char *path, fileio_writer write,
                                void *arg, unsigned flags, char *err,
                                size_t errlen) {
  if (!path || !write)
    return INFINI_ERR_NULL;
  fileio_atomic a;
  infini_status st = fileio_atomic_open(&a, path, flags, err, errlen);
  if (st != INFINI_OK)
    return st;
  if (write(a.f, arg) != 0) {
    const int saved = errno;
    fileio_atomic_abort(&a);
    return fileio_error(err, errlen, INFINI_ERR_IO, "%s: write failed: %s",
                        path, saved ? strerror(saved) : "short write");
  }
  return fileio_atomic_commit(&a, err, errlen);
}

infini_status fileio_write_atomic_with(const char *path, fileio_writer write,
                                       void *arg, char *err, size_t errlen) {
  return write_with(path, write, arg, FILEIO_REPLACE, err, errlen);
}

struct buffer_arg {
  const void *data;
  size_t len;
};

static int write_buffer(void *f, void *arg) {
  const struct buffer_arg *b = arg;
  return b->len && fwrite(b->data, 1, b->len, f) != b->len;
}

infini_status fileio_write_atomic_flags(const char *path, const void *data,
                                        size_t len, unsigned flags, char *err,
                                        size_t errlen) {
  if (!data && len)
    return INFINI_ERR_NULL;
  struct buffer_arg b = {data, len};
  return write_with(path, write_buffer, &b, flags, err, errlen);
}

infini_status fileio_write_atomic(const char *path, const void *data,
                                  size_t len, char *err, size_t errlen) {
  return fileio_write_atomic_flags(path, data, len, FILEIO_REPLACE, err,
                                   errlen);
}

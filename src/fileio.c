/* src/fileio.c - see src/fileio.h. */
#include "config.h"
#include "src/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void format_error(char *err, size_t errlen, const char *fmt,
                         va_list ap) {
  if (err && errlen)
    vsnprintf(err, errlen, fmt, ap);
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

infini_status fileio_read_all(const char *path, size_t max_len,
                              unsigned char **bytes, size_t *len, char *err,
                              size_t errlen) {
  if (!path || !bytes || !len)
    return INFINI_ERR_NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    fileio_set_error(err, errlen, "%s: %s", path, strerror(errno));
    return INFINI_ERR_IO;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fileio_set_error(err, errlen, "%s: not a regular file", path);
    fclose(f);
    return INFINI_ERR_IO;
  }
  if ((unsigned long long)st.st_size > (unsigned long long)max_len) {
    fileio_set_error(err, errlen, "%s: %lld bytes, more than the %zu this reader accepts",
            path, (long long)st.st_size, max_len);
    fclose(f);
    return INFINI_ERR_FORMAT;
  }
  size_t n = (size_t)st.st_size;
  unsigned char *buf = malloc(n + 1);
  if (!buf) {
    fclose(f);
    fileio_set_error(err, errlen, "%s: out of memory for %zu bytes", path, n);
    return INFINI_ERR_NOMEM;
  }
  size_t got = fread(buf, 1, n, f);
  const int read_error = ferror(f);
  fclose(f);
  if (got != n || read_error) {
    free(buf);
    fileio_set_error(err, errlen, "%s: read error (%zu of %zu bytes)", path, got, n);
    return INFINI_ERR_IO;
  }
  buf[n] = 0;
  *bytes = buf;
  *len = n;
  return INFINI_OK;
}

/* The temporary file sits next to the destination, so rename() never
 * crosses a file system and is atomic. It is created with O_EXCL and mode
 * 0666, so the kernel applies the umask and the result has the mode a plain
 * fopen() would give (mkstemp's 0600 would not; and calling umask() to
 * read the mask would race with other threads). */
static FILE *open_temp(const char *path, char **tmp_path) {
  static atomic_uint counter;
  const size_t size = strlen(path) + 48;
  char *tmp = malloc(size);
  if (!tmp)
    return NULL;
  for (int attempt = 0; attempt < 100; attempt++) {
    snprintf(tmp, size, "%s.tmp-%ld-%u", path, (long)getpid(),
             atomic_fetch_add(&counter, 1u));
    const int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST)
        continue;
      break;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
      close(fd);
      unlink(tmp);
      break;
    }
    *tmp_path = tmp;
    return f;
  }
  const int saved = errno;
  free(tmp);
  errno = saved;
  return NULL;
}

infini_status fileio_write_atomic_with(const char *path, fileio_writer write,
                                       void *arg, char *err, size_t errlen) {
  if (!path || !write)
    return INFINI_ERR_NULL;
  char *tmp = NULL;
  FILE *f = open_temp(path, &tmp);
  if (!f) {
    fileio_set_error(err, errlen, "%s: cannot create a temporary file next to it: %s",
            path, strerror(errno));
    return INFINI_ERR_IO;
  }
  int failed = write(f, arg) != 0;
  failed |= fflush(f) != 0;
  failed |= fsync(fileno(f)) != 0;
  int saved = errno;
  failed |= fclose(f) != 0;
  if (!failed && rename(tmp, path) != 0) {
    saved = errno;
    failed = 1;
  }
  if (failed) {
    unlink(tmp);
    fileio_set_error(err, errlen, "%s: write failed: %s", path,
            saved ? strerror(saved) : "short write");
  }
  free(tmp);
  return failed ? INFINI_ERR_IO : INFINI_OK;
}

struct buffer_arg {
  const void *data;
  size_t len;
};

static int write_buffer(void *f, void *arg) {
  const struct buffer_arg *b = arg;
  return b->len && fwrite(b->data, 1, b->len, f) != b->len;
}

infini_status fileio_write_atomic(const char *path, const void *data,
                                  size_t len, char *err, size_t errlen) {
  if (!data && len)
    return INFINI_ERR_NULL;
  struct buffer_arg b = {data, len};
  return fileio_write_atomic_with(path, write_buffer, &b, err, errlen);
}

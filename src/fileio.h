/*
 * src/fileio.h - whole-file reads and crash-safe writes, shared by every
 * reader and writer of the library and its tools (checkpoints, weights,
 * reports, golden vectors).
 *
 * fileio_write_atomic writes to a temporary file in the destination's
 * directory, flushes it to disk, then renames it over the destination:
 * a crash or a failed write leaves either the old file or the new one,
 * never a half-written file in place of a good one.
 */
#ifndef INFINI_SRC_FILEIO_H
#define INFINI_SRC_FILEIO_H

#include <stddef.h>
#include "infini.h"

/**
 * Read a whole regular file into a malloc'ed buffer (*bytes, *len; one
 * extra NUL byte after the data so text can be parsed in place).
 * Files larger than max_len are refused with INFINI_ERR_FORMAT.
 * Returns INFINI_ERR_IO when the file cannot be opened or read; err (if
 * not NULL) then holds a sentence naming the file and strerror(errno).
 */
infini_status fileio_read_all(const char *path, size_t max_len,
                              unsigned char **bytes, size_t *len, char *err,
                              size_t errlen);

/** A writer callback: write the file's content to f, return 0 on success. */
typedef int (*fileio_writer)(void *f_opaque, void *arg);

/**
 * Write len bytes to path atomically (temporary file, fsync, rename).
 * On any failure the temporary file is removed, path is untouched, and
 * INFINI_ERR_IO is returned with a sentence in err.
 */
infini_status fileio_write_atomic(const char *path, const void *data,
                                  size_t len, char *err, size_t errlen);

/**
 * Atomic write of content produced by a stdio callback: write(f, arg) gets
 * a FILE * (as void *) opened on the temporary file.
 */
infini_status fileio_write_atomic_with(const char *path, fileio_writer write,
                                       void *arg, char *err, size_t errlen);

#if defined(__GNUC__)
#define FILEIO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FILEIO_PRINTF(f, a)
#endif

/** Write one formatted sentence to err (nothing when err is NULL or
 *  errlen is 0): the error-message helper of every reader and writer. */
void fileio_set_error(char *err, size_t errlen, const char *fmt, ...)
    FILEIO_PRINTF(3, 4);

/** fileio_set_error, then return status, so a reader can write
 *  `return fileio_error(err, errlen, INFINI_ERR_FORMAT, "...", ...)`. */
infini_status fileio_error(char *err, size_t errlen, infini_status status,
                           const char *fmt, ...) FILEIO_PRINTF(4, 5);

#endif

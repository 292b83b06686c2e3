/*
 * src/fileio.h - the one reader and the one writer of every file the
 * library and its tools touch (checkpoints, weights, reports, golden
 * vectors, exported inputs, logits).
 *
 * The writer writes to a temporary file created in the destination's
 * directory, flushes it to disk, then renames it over the destination: a
 * crash or a failed write leaves either the old file or the new one, never
 * a half-written file in place of a good one. It never writes through a
 * symbolic link: the directory is opened with O_NOFOLLOW (so a folder that
 * is a link is refused), the temporary is created with O_EXCL | O_NOFOLLOW
 * through that directory descriptor, and a destination that is a link
 * (dangling or not) is refused. An existing destination is replaced only
 * with FILEIO_REPLACE. Temporaries are named ".NAME.infini-tmp-PID-N"; the
 * writer removes those of processes that no longer exist.
 *
 * The reader opens with O_NONBLOCK (a FIFO cannot block it), fstat's the
 * descriptor, refuses anything but a regular file and any size above the
 * caller's cap before reading a byte, then reads.
 */
#ifndef INFINI_SRC_FILEIO_H
#define INFINI_SRC_FILEIO_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "infini.h"

/** Reader flag: refuse a path whose last component is a symbolic link
 *  (files inside a folder written by someone else). */
#define FILEIO_NOFOLLOW 1u
/** Writer flag: replace an existing regular file at the destination
 *  (without it an existing destination is refused). */
#define FILEIO_REPLACE 2u

/**
 * Open path for reading: a regular file of at most max_len bytes.
 * On success *fd is open (blocking mode) and *size holds the file's size.
 * Otherwise INFINI_ERR_IO (cannot open, not a regular file) or
 * INFINI_ERR_FORMAT (larger than max_len), with one line in err.
 */
infini_status fileio_open_read(const char *path, unsigned flags,
                               uint64_t max_len, int *fd, uint64_t *size,
                               char *err, size_t errlen);

/** Read exactly len bytes at offset off of fd (pread loop); a short file
 *  is INFINI_ERR_IO with one line naming path. */
infini_status fileio_pread(int fd, const char *path, void *buf, size_t len,
                           uint64_t off, char *err, size_t errlen);

/**
 * Read a whole regular file into a malloc'ed buffer (*bytes, *len; one
 * extra NUL byte after the data so text can be parsed in place), through
 * fileio_open_read with flags 0 (a link the user named is followed).
 * Files larger than max_len are refused with INFINI_ERR_FORMAT before a
 * byte is read. Returns INFINI_ERR_IO when the file cannot be opened or
 * read, or is not a regular file; err (if not NULL) then holds one line.
 */
infini_status fileio_read_all(const char *path, size_t max_len,
                              unsigned char **bytes, size_t *len, char *err,
                              size_t errlen);

/** fileio_read_all with reader flags (FILEIO_NOFOLLOW). */
infini_status fileio_read_all_flags(const char *path, unsigned flags,
                                    size_t max_len, unsigned char **bytes,
                                    size_t *len, char *err, size_t errlen);

/** A writer callback: write the file's content to f, return 0 on success. */
typedef int (*fileio_writer)(void *f_opaque, void *arg);

/**
 * Write len bytes to path atomically (temporary file, fsync, rename),
 * replacing an existing regular file (FILEIO_REPLACE). On any failure the
 * temporary file is removed, path is untouched, and INFINI_ERR_IO is
 * returned with one line in err.
 */
infini_status fileio_write_atomic(const char *path, const void *data,
                                  size_t len, char *err, size_t errlen);

/** fileio_write_atomic with writer flags (0: never replace). */
infini_status fileio_write_atomic_flags(const char *path, const void *data,
                                        size_t len, unsigned flags, char *err,
                                        size_t errlen);

/**
 * Atomic write of content produced by a stdio callback: write(f, arg) gets
 * a FILE * (as void *) opened on the temporary file. Replaces.
 */
infini_status fileio_write_atomic_with(const char *path, fileio_writer write,
                                       void *arg, char *err, size_t errlen);

/** An atomic write in progress: write to f, then commit or abort. */
typedef struct fileio_atomic {
  FILE *f;        /**< the temporary file, open for writing */
  int dirfd;      /**< the destination's directory */
  unsigned flags; /**< FILEIO_REPLACE or 0 */
  char *path;     /**< the destination as given (for messages) */
  char *base;     /**< its last component */
  char *tmp;      /**< the temporary's name inside dirfd */
} fileio_atomic;

/** Check the destination and create the temporary. */
infini_status fileio_atomic_open(fileio_atomic *a, const char *path,
                                 unsigned flags, char *err, size_t errlen);
/** Flush, fsync and move the temporary into place; frees a either way. */
infini_status fileio_atomic_commit(fileio_atomic *a, char *err, size_t errlen);
/** Remove the temporary and free a (safe on a zeroed or closed a). */
void fileio_atomic_abort(fileio_atomic *a);

/**
 * Would a write to path be accepted? The checks fileio_atomic_open makes
 * first (folder not a link, destination not a link, not an existing file
 * without FILEIO_REPLACE), for tools that must refuse before a long run.
 */
infini_status fileio_check_destination(const char *path, unsigned flags,
                                       char *err, size_t errlen);

/**
 * Create the folder path (its parent must exist), or accept an existing
 * folder; a symbolic link there (to a folder or not) is refused, so the
 * sub-folders a tool makes inside its output folder (DIR/in, DIR/data/op)
 * cannot send its writes elsewhere.
 */
infini_status fileio_make_dir(const char *path, char *err, size_t errlen);

#if defined(__GNUC__)
#define FILEIO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FILEIO_PRINTF(f, a)
#endif

/** Write one formatted sentence to err (nothing when err is NULL or
 *  errlen is 0): the error-message helper of every reader and writer.
 *  Control characters (a newline quoted from input bytes) become '?', so
 *  the message stays on one line. */
void fileio_set_error(char *err, size_t errlen, const char *fmt, ...)
    FILEIO_PRINTF(3, 4);

/** fileio_set_error, then return status, so a reader can write
 *  `return fileio_error(err, errlen, INFINI_ERR_FORMAT, "...", ...)`. */
infini_status fileio_error(char *err, size_t errlen, infini_status status,
                           const char *fmt, ...) FILEIO_PRINTF(4, 5);

/** Replace control characters of s in place by '?' (one-line messages
 *  that quote input bytes, e.g. jansson's error text). Returns s. */
char *fileio_one_line(char *s);

#endif

/*
 * vectors/npy.h - NumPy .npy files (format version 1.0), the tensors of a
 * golden-vector set (docs/vectors.md, "Tensor files").
 *
 * Only what the vector sets use: little-endian float32 ('<f4') and float64
 * ('<f8'), C order, any number of dimensions up to NPY_MAX_DIMS. The writer
 * produces deterministic bytes, identical to numpy.save's for the same array
 * (header padded with spaces to a multiple of 64 bytes, ending in '\n').
 * The reader is strict: every malformed or unexpected header, truncation,
 * trailing bytes and size overflow is rejected with one line of text.
 * Both convert explicitly between the file's little-endian bytes and the
 * host's representation, so they work on big-endian hosts too. The writer
 * stores every NaN as the canonical quiet NaN (0x7fc00000, 0x7ff8000000000000).
 */
#ifndef INFINI_VECTORS_NPY_H
#define INFINI_VECTORS_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 4

/* NPY_I4 ('<i4', int32) is written only, for the token streams of the
 * model golden set (conformance/model): npy_parse accepts floats only, so
 * the float readers of vector sets never meet an integer array. */
typedef enum npy_dtype { NPY_F4 = 0, NPY_F8 = 1, NPY_I4 = 2 } npy_dtype;

/** A decoded array: data is float* (NPY_F4) or double* (NPY_F8), packed,
 *  C order, in host representation; malloc'ed (free with npy_free). */
typedef struct npy_array {
  npy_dtype dtype;
  int ndim;
  size_t dims[NPY_MAX_DIMS];
  size_t count; /* product of dims (1 for ndim == 0) */
  void *data;
} npy_array;

/** "<f4" / "<f8" / "<i4". */
const char *npy_dtype_descr(npy_dtype dtype);
size_t npy_dtype_size(npy_dtype dtype);

/** Parse a whole .npy file held in memory. On failure returns false and
 *  writes one line (no trailing newline) to err. */
bool npy_parse(const unsigned char *bytes, size_t len, npy_array *out,
               char *err, size_t errlen);

/** Encode an array into a malloc'ed buffer (*bytes, *len). */
bool npy_encode(npy_dtype dtype, int ndim, const size_t *dims,
                const void *data, unsigned char **bytes, size_t *len,
                char *err, size_t errlen);

/** The largest file npy_read_file reads (1 GiB): every shipped tensor is
 *  far smaller, and a bigger file is refused before it is read. */
#define NPY_READ_MAX ((size_t)1 << 30)
/** Room for an .npy header (magic, version, length and its text: at most
 *  65535 bytes in version 1; version 2's longer headers get this much). */
#define NPY_HEADER_MAX ((size_t)1 << 20)

/** Read a whole regular file into memory (malloc'ed), at most
 *  NPY_READ_MAX bytes (src/fileio.h's reader: a FIFO, a device or a
 *  larger file is refused with one line before a byte is read). */
bool npy_read_file(const char *path, unsigned char **bytes, size_t *len,
                   char *err, size_t errlen);

/** npy_read_file with the reader's flags (FILEIO_NOFOLLOW) and a cap. */
bool npy_read_file_capped(const char *path, unsigned flags, size_t max_len,
                          unsigned char **bytes, size_t *len, char *err,
                          size_t errlen);

/** Write bytes to path atomically, replacing a regular file there, never
 *  through a symbolic link (src/fileio.h's writer). */
bool npy_write_file(const char *path, const unsigned char *bytes, size_t len,
                    char *err, size_t errlen);

void npy_free(npy_array *a);

#endif

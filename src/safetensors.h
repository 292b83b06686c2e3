/*
 * src/safetensors.h - a strict in-memory reader and a deterministic writer
 * of the safetensors format (the weights files the Python ecosystem
 * writes; docs/model.md, "Weights file"):
 *
 *   bytes 0..7   header length n, unsigned 64-bit little-endian
 *   bytes 8..    n bytes of JSON: an object mapping each tensor name to
 *                {"dtype": "F32", "shape": [d0, ...], "data_offsets":
 *                [begin, end]}, plus an optional "__metadata__" object of
 *                string values
 *   the rest     the data section; offsets count from its first byte, and
 *                the tensors cover it exactly, without holes or overlaps
 *
 * Every number is decoded from its little-endian bytes, so the reader and
 * the writer give the same results on big-endian machines (s390x CI).
 * The reader treats its input as hostile: every offset, size and product
 * is checked before it is used, and a bad file gets INFINI_ERR_FORMAT and
 * one sentence, never a read out of bounds.
 */
#ifndef INFINI_SRC_SAFETENSORS_H
#define INFINI_SRC_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "infini.h"

/** Largest header accepted (the reference implementation's limit): a
 *  larger length is a corrupt or hostile file, not a model. */
#define ST_MAX_HEADER ((uint64_t)100 << 20)
/** Fewest bytes a tensor's entry takes in a header
 *  (`"n":{"dtype":"F32","shape":[],"data_offsets":[0,4]},` is 49): a
 *  header of ST_MAX_HEADER bytes lists at most ST_MAX_HEADER / ST_MIN_ENTRY
 *  tensors, the limit on n_layers of a weights file (docs/model.md). */
#define ST_MIN_ENTRY 48
/** Most dimensions a tensor may have. */
#define ST_MAX_DIMS 8

/** The element types this reader converts to float. */
typedef enum st_dtype { ST_F32, ST_F16, ST_BF16, ST_F64 } st_dtype;

/** One tensor of a file, or one tensor to write. */
typedef struct st_tensor {
  char *name;        /* NUL-terminated; owned by the st_file when parsed */
  st_dtype dtype;
  size_t ndim;       /* 0 is a scalar (one element) */
  size_t shape[ST_MAX_DIMS];
  size_t count;      /* elements: the product of shape */
  size_t begin, end; /* byte range within the data section */
  const unsigned char *data; /* parsed: the bytes, inside the caller's buffer */
} st_tensor;

/** One "__metadata__" entry: both strings owned by the st_file. */
typedef struct st_meta {
  char *key, *value;
} st_meta;

/** A parsed file. The tensors point into the bytes given to st_parse,
 *  which must outlive it. Tensors are in header order. */
typedef struct st_file {
  st_tensor *tensors;
  size_t n_tensors;
  st_meta *meta;
  size_t n_meta;
} st_file;

/**
 * Parse a whole safetensors file held in bytes[0..len). On success *out
 * lists the tensors and the metadata (free with st_free). On failure *out
 * is empty (st_free is harmless) and err holds one sentence.
 * @return INFINI_ERR_FORMAT for any malformed file, INFINI_ERR_NOMEM,
 *         INFINI_ERR_NULL.
 */
infini_status st_parse(const unsigned char *bytes, size_t len, st_file *out,
                       char *err, size_t errlen);

/**
 * Parse the header of a file of file_len bytes from its first len bytes
 * (at least st_prefix_bytes of them), without its data: every tensor's
 * dtype, shape and offsets are checked against the real file size as
 * st_parse checks them, but each tensor's data is NULL (point it into the
 * data section, which starts at 8 + header length, once it is read). So a
 * loader checks a huge or sparse file before reading its data.
 */
infini_status st_parse_header(const unsigned char *bytes, size_t len,
                              uint64_t file_len, st_file *out, char *err,
                              size_t errlen);

/** How many leading bytes of a file of file_len bytes st_parse_header
 *  needs, given its first 8 (fewer when file_len < 8): the length and
 *  the header, or only the length when that is already invalid. */
size_t st_prefix_bytes(const unsigned char first8[8], uint64_t file_len);

/** Free what st_parse allocated and empty *f (NULL is ignored). */
void st_free(st_file *f);

/** The metadata value of key, or NULL. */
const char *st_meta_get(const st_file *f, const char *key);

/** The tensor named name, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);

/** "F32", "F16", "BF16", "F64". */
const char *st_dtype_name(st_dtype dtype);

/** Bytes of one element of dtype. */
size_t st_dtype_size(st_dtype dtype);

/** Convert a parsed tensor's count elements to float: F16 and BF16 are
 *  exact, F64 rounds to nearest. */
void st_to_float(const st_tensor *t, float *out);

/* ---- little-endian decoding, exposed for the byte-level tests --------- */

uint64_t st_load_le64(const unsigned char *p);
float st_f32_from_le(const unsigned char *p);
float st_f16_from_le(const unsigned char *p);
float st_bf16_from_le(const unsigned char *p);
double st_f64_from_le(const unsigned char *p);
void st_f32_to_le(float x, unsigned char *p);

/* ---- writer ------------------------------------------------------------ */

/**
 * The header of a file holding tensors t[0..n) in that order, contiguous
 * from data offset 0, and the metadata m[0..n_meta) (written first, as
 * "__metadata__"): 8 length bytes then the compact JSON, padded with
 * spaces to a multiple of 8 bytes so the data is aligned. Each t[i] needs
 * name, dtype, ndim and shape; t[i].count, begin and end are set.
 * *out is malloc'ed. The same input always gives the same bytes.
 * @return INFINI_ERR_OVERFLOW when a size overflows, INFINI_ERR_PARAM for
 *         a duplicate or reserved name, INFINI_ERR_NOMEM.
 */
infini_status st_header(st_tensor *t, size_t n, const st_meta *m,
                        size_t n_meta, unsigned char **out, size_t *len,
                        char *err, size_t errlen);

/** out[0..4 count) = x[0..count) as F32 little-endian bytes. */
void st_encode_f32(const float *x, size_t count, unsigned char *out);

/** Write count floats to f as F32 little-endian; 0 on success. */
int st_write_f32(FILE *f, const float *x, size_t count);


#endif

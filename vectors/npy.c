/*
 * vectors/npy.c - strict reader and deterministic writer of NumPy .npy
 * files (see npy.h and docs/vectors.md, "Tensor files").
 */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vectors/npy.h"
#include "vectors/fail.h"
#include "src/fileio.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};


const char *npy_dtype_descr(npy_dtype dtype) {
  return dtype == NPY_F8 ? "<f8" : dtype == NPY_I4 ? "<i4" : "<f4";
}

size_t npy_dtype_size(npy_dtype dtype) { return dtype == NPY_F8 ? 8 : 4; }

void npy_free(npy_array *a) {
  if (a) {
    free(a->data);
    a->data = NULL;
  }
}

/* ---- little-endian element conversion (independent of the host) -------- */

static void decode_elements(npy_dtype dtype, const unsigned char *src,
                            size_t count, void *dst) {
  if (dtype == NPY_F4) {
    float *f = dst;
    for (size_t i = 0; i < count; i++, src += 4) {
      uint32_t u = (uint32_t)src[0] | (uint32_t)src[1] << 8 |
                   (uint32_t)src[2] << 16 | (uint32_t)src[3] << 24;
      memcpy(&f[i], &u, 4);
    }
  } else {
    double *d = dst;
    for (size_t i = 0; i < count; i++, src += 8) {
      uint64_t u = 0;
      for (int b = 7; b >= 0; b--)
        u = u << 8 | src[b];
      memcpy(&d[i], &u, 8);
    }
  }
}

/* NaNs are written as the canonical quiet NaN, positive with an empty
 * payload: the sign and payload of a NaN produced by arithmetic differ
 * between machines (x86 gives a negative default NaN, Arm and s390x a
 * positive one) and are meaningless, and the files must have the same
 * bytes everywhere. */
#define NPY_CANON_NAN_F4 UINT32_C(0x7fc00000)
#define NPY_CANON_NAN_F8 UINT64_C(0x7ff8000000000000)

static void encode_elements(npy_dtype dtype, const void *src, size_t count,
                            unsigned char *dst) {
  if (dtype == NPY_I4) {
    const int32_t *v = src;
    for (size_t i = 0; i < count; i++, dst += 4)
      for (int b = 0; b < 4; b++)
        dst[b] = (unsigned char)((uint32_t)v[i] >> (8 * b));
  } else if (dtype == NPY_F4) {
    const float *f = src;
    for (size_t i = 0; i < count; i++, dst += 4) {
      uint32_t u;
      memcpy(&u, &f[i], 4);
      if ((u & UINT32_C(0x7f800000)) == UINT32_C(0x7f800000) && (u & UINT32_C(0x007fffff)))
        u = NPY_CANON_NAN_F4;
      for (int b = 0; b < 4; b++)
        dst[b] = (unsigned char)(u >> (8 * b));
    }
  } else {
    const double *d = src;
    for (size_t i = 0; i < count; i++, dst += 8) {
      uint64_t u;
      memcpy(&u, &d[i], 8);
      if ((u & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
          (u & UINT64_C(0x000fffffffffffff)))
        u = NPY_CANON_NAN_F8;
      for (int b = 0; b < 8; b++)
        dst[b] = (unsigned char)(u >> (8 * b));
    }
  }
}

/* ---- header parser: a Python dict literal with exactly three keys ------- */

typedef struct cursor {
  const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
                           *c->p == '\r'))
    c->p++;
}

static bool take(cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

/* A quoted string ('...' or "...") without escapes, copied into buf. */
static bool parse_str(cursor *c, char *buf, size_t buflen) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return false;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || n + 1 >= buflen)
      return false;
    buf[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return false;
  c->p++;
  buf[n] = 0;
  return true;
}

static bool parse_word(cursor *c, const char *w) {
  size_t n = strlen(w);
  skip_ws(c);
  if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
    c->p += n;
    return true;
  }
  return false;
}

/* (d0, d1, ...) with non-negative decimal integers; (d0,) and () too. */
static bool parse_shape(cursor *c, npy_array *a, char *err, size_t errlen) {
  a->ndim = 0;
  if (!take(c, '('))
    return fail(err, errlen, "npy: shape is not a tuple");
  for (;;) {
    skip_ws(c);
    if (take(c, ')'))
      return true;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
      return fail(err, errlen,
                  "npy: shape is not a tuple of non-negative integers");
    size_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      unsigned digit = (unsigned)(*c->p++ - '0');
      if (v > (SIZE_MAX - digit) / 10)
        return fail(err, errlen, "npy: shape dimension too large");
      v = v * 10 + digit;
    }
    if (a->ndim == NPY_MAX_DIMS)
      return fail(err, errlen, "npy: more than %d dimensions", NPY_MAX_DIMS);
    a->dims[a->ndim++] = v;
    if (take(c, ','))
      continue;
    if (take(c, ')'))
      return a->ndim != 1 ||
             fail(err, errlen, "npy: one-element shape tuple lacks its comma");
    return fail(err, errlen, "npy: malformed shape tuple");
  }
}

/* A string from the file, made fit for a one-line message: bytes outside
 * printable ASCII (a newline in a key, say) become '?'. */
static const char *printable(const char *s, char buf[32]) {
  size_t i = 0;
  for (; s[i] && i < 31; i++)
    buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
  buf[i] = 0;
  return buf;
}

static bool parse_header(const char *h, size_t hlen, npy_array *a, char *err,
                         size_t errlen) {
  cursor c = {h, h + hlen};
  bool have_descr = false, have_fortran = false, have_shape = false;
  char key[32], descr[32], shown[32];
  if (!take(&c, '{'))
    return fail(err, errlen, "npy: header is not a dict");
  for (;;) {
    if (take(&c, '}'))
      break;
    if (c.p >= c.end)
      return fail(err, errlen, "npy: unterminated header dict");
    if (!parse_str(&c, key, sizeof key))
      return fail(err, errlen, "npy: malformed header dict key");
    if (!take(&c, ':'))
      return fail(err, errlen, "npy: missing ':' in header dict");
    if (strcmp(key, "descr") == 0 && !have_descr) {
      if (!parse_str(&c, descr, sizeof descr))
        return fail(err, errlen, "npy: descr is not a string");
      have_descr = true;
    } else if (strcmp(key, "fortran_order") == 0 && !have_fortran) {
      if (parse_word(&c, "True"))
        return fail(err, errlen, "npy: fortran_order True is not supported");
      if (!parse_word(&c, "False"))
        return fail(err, errlen, "npy: fortran_order is not True or False");
      have_fortran = true;
    } else if (strcmp(key, "shape") == 0 && !have_shape) {
      if (!parse_shape(&c, a, err, errlen))
        return false;
      have_shape = true;
    } else {
      return fail(err, errlen, "npy: unexpected or repeated header key '%s'",
                  printable(key, shown));
    }
    if (take(&c, ','))
      continue;
    if (take(&c, '}'))
      break;
    return fail(err, errlen, "npy: unterminated header dict");
  }
  skip_ws(&c);
  if (c.p != c.end)
    return fail(err, errlen, "npy: garbage after the header dict");
  if (!have_descr || !have_fortran || !have_shape)
    return fail(err, errlen, "npy: header lacks key '%s'",
                !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
  if (strcmp(descr, "<f4") == 0)
    a->dtype = NPY_F4;
  else if (strcmp(descr, "<f8") == 0)
    a->dtype = NPY_F8;
  else if (descr[0] == '>')
    return fail(err, errlen, "npy: big-endian descr '%s' is not supported",
                printable(descr, shown));
  else
    return fail(err, errlen, "npy: unsupported descr '%s' (want '<f4' or '<f8')",
                printable(descr, shown));
  return true;
}

bool npy_parse(const unsigned char *b, size_t len, npy_array *a, char *err,
               size_t errlen) {
  memset(a, 0, sizeof *a);
  if (len < 10 || memcmp(b, npy_magic, 6) != 0)
    return fail(err, errlen, "npy: bad magic (not a .npy file)");
  unsigned major = b[6], minor = b[7];
  size_t hstart, hlen;
  if (major == 1 && minor == 0) {
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    hstart = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (len < 12)
      return fail(err, errlen, "npy: file shorter than its header");
    hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
           (size_t)b[11] << 24;
    hstart = 12;
  } else {
    return fail(err, errlen, "npy: unsupported format version %u.%u", major,
                minor);
  }
  if (hlen > len - hstart)
    return fail(err, errlen, "npy: header length %zu beyond the end of the file",
                hlen);
  if (!parse_header((const char *)b + hstart, hlen, a, err, errlen))
    return false;

  size_t count = 1, item = npy_dtype_size(a->dtype);
  for (int i = 0; i < a->ndim; i++) {
    if (a->dims[i] != 0 && count > SIZE_MAX / a->dims[i])
      return fail(err, errlen, "npy: element count overflows size_t");
    count *= a->dims[i];
  }
  if (count > SIZE_MAX / item)
    return fail(err, errlen, "npy: byte count overflows size_t");
  size_t have = len - hstart - hlen, want = count * item;
  if (have < want)
    return fail(err, errlen, "npy: truncated data: %zu bytes, shape needs %zu",
                have, want);
  if (have > want)
    return fail(err, errlen, "npy: %zu bytes of trailing garbage after the data",
                have - want);
  a->count = count;
  a->data = malloc(want ? want : 1);
  if (!a->data)
    return fail(err, errlen, "npy: out of memory");
  decode_elements(a->dtype, b + hstart + hlen, count, a->data);
  return true;
}

/* numpy >= 1.24 leaves room to grow the first axis in place (21 digits)
 * and pads the header to a multiple of 64 bytes ending in '\n'; doing the
 * same makes our files byte-identical to numpy.save's. */
#define NPY_ALIGN 64
#define NPY_GROWTH_DIGITS 21

bool npy_encode(npy_dtype dtype, int ndim, const size_t *dims,
                const void *data, unsigned char **bytes, size_t *len,
                char *err, size_t errlen) {
  char h[256];
  int n;
  size_t count = 1;
  if (ndim < 0 || ndim > NPY_MAX_DIMS)
    return fail(err, errlen, "npy: %d dimensions not supported", ndim);
  n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (",
               npy_dtype_descr(dtype));
  for (int i = 0; i < ndim; i++) {
    n += snprintf(h + n, sizeof h - (size_t)n, i ? ", %zu" : "%zu", dims[i]);
    /* The same product test as the parser's, so whatever it accepts
     * encodes: a zero dimension after huge ones is a valid empty array. */
    if (dims[i] != 0 && count > SIZE_MAX / dims[i])
      return fail(err, errlen, "npy: array too large");
    count *= dims[i];
  }
  if (count > (SIZE_MAX - 1024) / 8)
    return fail(err, errlen, "npy: array too large");
  n += snprintf(h + n, sizeof h - (size_t)n, "%s), }", ndim == 1 ? "," : "");
  if (ndim > 0) {
    char first[32];
    int w = snprintf(first, sizeof first, "%zu", dims[0]);
    for (int i = w; i < NPY_GROWTH_DIGITS; i++)
      h[n++] = ' ';
  }
  size_t hlen = (size_t)n + 1; /* + '\n' */
  size_t pad = NPY_ALIGN - (10 + hlen) % NPY_ALIGN;
  hlen += pad;
  size_t item = npy_dtype_size(dtype), total = 10 + hlen + count * item;
  unsigned char *b = malloc(total);
  if (!b)
    return fail(err, errlen, "npy: out of memory");
  memcpy(b, npy_magic, 6);
  b[6] = 1;
  b[7] = 0;
  b[8] = (unsigned char)(hlen & 0xff);
  b[9] = (unsigned char)(hlen >> 8);
  memcpy(b + 10, h, (size_t)n);
  memset(b + 10 + n, ' ', pad);
  b[10 + hlen - 1] = '\n';
  encode_elements(dtype, data, count, b + 10 + hlen);
  *bytes = b;
  *len = total;
  return true;
}

/* Both go through the project's one reader and one writer (src/fileio.h):
 * a FIFO or a device is refused before a byte is read, the size is capped
 * before anything is allocated, and a write never follows a symbolic link
 * or leaves a half-written file in place. */
bool npy_read_file_capped(const char *path, unsigned flags, size_t max_len,
                          unsigned char **bytes, size_t *len, char *err,
                          size_t errlen) {
  return fileio_read_all_flags(path, flags, max_len, bytes, len, err,
                               errlen) == INFINI_OK;
}

bool npy_read_file(const char *path, unsigned char **bytes, size_t *len,
                   char *err, size_t errlen) {
  return npy_read_file_capped(path, 0, NPY_READ_MAX, bytes, len, err, errlen);
}

bool npy_write_file(const char *path, const unsigned char *bytes, size_t len,
                    char *err, size_t errlen) {
  return fileio_write_atomic(path, bytes, len, err, errlen) == INFINI_OK;
}

/*
 * vectors/test_npy.c - the .npy reader and writer (vectors/npy.c): good
 * files round-trip and match numpy.save's bytes; every kind of malformed
 * file is rejected with a one-line error naming the problem.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/tap.h"
#include "vectors/npy.h"

/* A file from a header dict text and data bytes (v1.0, padded to 64). */
static unsigned char *make(const char *dict, const void *data, size_t dlen,
                           size_t *len) {
  size_t h = strlen(dict) + 1, pad = 64 - (10 + h) % 64;
  unsigned char *b = calloc(10 + h + pad + dlen + 1, 1);
  memcpy(b, "\x93NUMPY\x01\x00", 8);
  b[8] = (unsigned char)((h + pad) & 255);
  b[9] = (unsigned char)((h + pad) >> 8);
  memcpy(b + 10, dict, h - 1);
  memset(b + 10 + h - 1, ' ', pad);
  b[10 + h + pad - 1] = '\n';
  if (dlen)
    memcpy(b + 10 + h + pad, data, dlen);
  *len = 10 + h + pad + dlen;
  return b;
}

static void expect_fail(const unsigned char *b, size_t len, const char *needle,
                        const char *what) {
  npy_array a;
  char err[256] = "";
  bool ok = npy_parse(b, len, &a, err, sizeof err);
  tap_ok(!ok && strstr(err, needle) && !strchr(err, '\n'), "rejects %s (\"%s\")",
         what, err);
  if (ok)
    npy_free(&a);
}

static void bad_dict(const char *dict, size_t dlen, const char *needle,
                     const char *what) {
  static const unsigned char zeros[64];
  size_t len;
  unsigned char *b = make(dict, zeros, dlen, &len);
  expect_fail(b, len, needle, what);
  free(b);
}

int main(void) {
  /* ---- good files -------------------------------------------------------- */
  const float f[6] = {1.0f, -2.5f, 0.0f, 1e-40f, 3.0e38f, -0.0f};
  const double d[3] = {1.0, -1e-300, 3.141592653589793};
  size_t dims2[2] = {2, 3}, dims1[1] = {3}, dims0[1] = {0};
  unsigned char *b;
  size_t len;
  char err[256];
  npy_array a;

  tap_ok(npy_encode(NPY_F4, 2, dims2, f, &b, &len, err, sizeof err), "encode <f4 2x3");
  /* numpy.save of np.array([[1, -2.5, 0], [1e-40, 3e38, -0.]], '<f4') */
  static const char hdr[] =
      "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  tap_ok(len == 128 + 24 && memcmp(b, hdr, sizeof hdr - 1) == 0 && b[127] == '\n' &&
             b[126] == ' ',
         "header bytes as numpy.save writes them (128-byte header)");
  tap_ok(b[128] == 0x00 && b[129] == 0x00 && b[130] == 0x80 && b[131] == 0x3f,
         "data little-endian (1.0f = 00 00 80 3f) whatever the host");
  tap_ok(npy_parse(b, len, &a, err, sizeof err) && a.dtype == NPY_F4 && a.ndim == 2 &&
             a.dims[0] == 2 && a.dims[1] == 3 && memcmp(a.data, f, sizeof f) == 0,
         "round trip <f4 (subnormal, -0 and large values bit for bit)");
  npy_free(&a);
  /* trailing garbage and truncation of this good file */
  unsigned char *longer = malloc(len + 1);
  memcpy(longer, b, len);
  longer[len] = 0;
  expect_fail(longer, len + 1, "trailing garbage", "one byte of trailing garbage");
  expect_fail(b, len - 1, "truncated", "data one byte short");
  expect_fail(b, 128, "truncated", "header only, no data");
  expect_fail(b, 60, "beyond the end", "header length beyond the end of the file");
  expect_fail(b, 5, "bad magic", "a 5-byte file");
  free(longer);
  b[0] = 0x92;
  expect_fail(b, len, "bad magic", "bad magic byte");
  b[0] = 0x93;
  b[6] = 4;
  expect_fail(b, len, "version", "format version 4.0");
  b[6] = 1;
  b[7] = 1;
  expect_fail(b, len, "version", "format version 1.1");
  free(b);

  tap_ok(npy_encode(NPY_F8, 1, dims1, d, &b, &len, err, sizeof err) &&
             npy_parse(b, len, &a, err, sizeof err) && a.dtype == NPY_F8 &&
             a.ndim == 1 && a.dims[0] == 3 && memcmp(a.data, d, sizeof d) == 0,
         "round trip <f8 1-D");
  tap_ok(memcmp(b + 10, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 57) == 0,
         "1-D shape written as (3,)");
  npy_free(&a);
  free(b);
  tap_ok(npy_encode(NPY_F4, 0, dims1, f, &b, &len, err, sizeof err) &&
             npy_parse(b, len, &a, err, sizeof err) && a.ndim == 0 && a.count == 1,
         "0-d array (shape ()) holds one element");
  npy_free(&a);
  free(b);
  tap_ok(npy_encode(NPY_F8, 1, dims0, d, &b, &len, err, sizeof err) &&
             npy_parse(b, len, &a, err, sizeof err) && a.count == 0,
         "empty array (shape (0,))");
  npy_free(&a);
  free(b);

  {
    /* NaNs of any sign and payload are written as the canonical quiet NaN */
    uint32_t nb[2] = {UINT32_C(0xffc00000), UINT32_C(0x7f800001)};
    uint64_t db = UINT64_C(0xfff8000000000123);
    float fn[2];
    double dn;
    size_t one = 1, two = 2;
    unsigned char *b2;
    size_t l2;
    memcpy(fn, nb, sizeof fn);
    memcpy(&dn, &db, sizeof dn);
    bool ok = npy_encode(NPY_F4, 1, &two, fn, &b, &len, err, sizeof err) &&
              npy_encode(NPY_F8, 1, &one, &dn, &b2, &l2, err, sizeof err);
    tap_ok(ok && memcmp(b + 128, "\x00\x00\xc0\x7f\x00\x00\xc0\x7f", 8) == 0 &&
               memcmp(b2 + 128, "\x00\x00\x00\x00\x00\x00\xf8\x7f", 8) == 0,
           "NaN written as the canonical quiet NaN whatever its sign and payload");
    free(b);
    free(b2);
  }

  /* other spellings numpy accepts */
  b = make("{\"shape\": (1, 2), \"fortran_order\": False, \"descr\": \"<f4\"}", f, 8, &len);
  tap_ok(npy_parse(b, len, &a, err, sizeof err) && a.dims[1] == 2,
         "keys in another order, double quotes, no trailing comma");
  npy_free(&a);
  free(b);
  {
    /* version 2.0: 4-byte header length */
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    size_t h = strlen(dict) + 1, pad = 64 - (12 + h) % 64;
    unsigned char *v2 = calloc(12 + h + pad + 8, 1);
    memcpy(v2, "\x93NUMPY\x02\x00", 8);
    v2[8] = (unsigned char)(h + pad);
    memcpy(v2 + 12, dict, h - 1);
    memset(v2 + 12 + h - 1, ' ', pad);
    v2[12 + h + pad - 1] = '\n';
    memcpy(v2 + 12 + h + pad, f, 8);
    tap_ok(npy_parse(v2, 12 + h + pad + 8, &a, err, sizeof err) && a.count == 2,
           "format version 2.0 (4-byte header length)");
    npy_free(&a);
    free(v2);
  }

  /* ---- malformed headers ------------------------------------------------- */
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", 8,
           "unterminated", "unterminated dict");
  bad_dict("['descr', '<f4']", 8, "not a dict", "header that is not a dict");
  bad_dict("{'descr': '<f4', 'shape': (2,), }", 8, "lacks key 'fortran_order'",
           "missing fortran_order");
  bad_dict("{'fortran_order': False, 'shape': (2,), }", 8, "lacks key 'descr'",
           "missing descr");
  bad_dict("{'descr': '<f4', 'fortran_order': False, }", 8, "lacks key 'shape'",
           "missing shape");
  bad_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8,
           "fortran_order True", "fortran_order True");
  bad_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", 8,
           "not True or False", "fortran_order not a boolean");
  bad_dict("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8,
           "unsupported descr '<i4'", "unknown descr <i4");
  bad_dict("{'descr': '|u1', 'fortran_order': False, 'shape': (8,), }", 8,
           "unsupported descr", "unknown descr |u1");
  bad_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8,
           "big-endian", "big-endian descr >f4");
  bad_dict("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", 8,
           "big-endian", "big-endian descr >f8");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", 8,
           "not a tuple", "shape as a list");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8,
           "non-negative", "negative dimension");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }", 8,
           "shape", "non-integer dimension");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", 8,
           "comma", "(2) is not a tuple");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': 2, }", 8,
           "not a tuple", "shape as an integer");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 2), }", 8,
           "dimensions", "more than 4 dimensions");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8,
           "unexpected or repeated header key 'x'", "unknown key");
  bad_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8,
           "repeated", "repeated key");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", 8,
           "garbage after", "text after the dict");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
           8, "overflows", "element count overflowing size_t");
  bad_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }",
           8, "overflows", "byte count overflowing size_t");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
           8, "too large", "dimension beyond size_t");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8,
           "truncated", "data shorter than the shape");
  bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8,
           "trailing garbage", "data longer than the shape");

  /* ---- files: atomic write, read back ------------------------------------ */
  {
    char path[] = "test-npy.tmp.npy";
    unsigned char *r;
    size_t rl;
    tap_ok(npy_encode(NPY_F4, 2, dims2, f, &b, &len, err, sizeof err) &&
               npy_write_file(path, b, len, err, sizeof err) &&
               npy_read_file(path, &r, &rl, err, sizeof err) && rl == len &&
               memcmp(r, b, len) == 0,
           "write (temp name, then rename) and read back");
    free(r);
    free(b);
    remove(path);
    tap_diag("npy files written and read back");
    tap_ok(!npy_read_file("no/such/file.npy", &r, &rl, err, sizeof err) &&
               strstr(err, "no/such/file.npy"),
           "missing file: error names it (\"%s\")", err);
  }
  return tap_done();
}

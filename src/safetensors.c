/* src/safetensors.c - see src/safetensors.h. */
#include "config.h"
#include "src/safetensors.h"
#include "src/fileio.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const dtype_names[] = {"F32", "F16", "BF16", "F64"};
static const size_t dtype_sizes[] = {4, 2, 2, 8};
#define N_DTYPES (sizeof dtype_names / sizeof dtype_names[0])

/* Tensor names are printed at most this long, so a hostile name cannot
 * flood the message. */
#define NAME_FMT "'%.80s'"

const char *st_dtype_name(st_dtype dtype) {
  return (unsigned)dtype < N_DTYPES ? dtype_names[dtype] : "?";
}

size_t st_dtype_size(st_dtype dtype) {
  return (unsigned)dtype < N_DTYPES ? dtype_sizes[dtype] : 0;
}

/* ---- little-endian decoding: bytes are assembled into integers by
 * arithmetic, never copied as a float, so the host's byte order does not
 * matter. Copying an integer's object representation into a float of the
 * same width is right on every supported host (integers and floats share
 * their byte order). -------------------------------------------------- */

static uint32_t load_le16(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t load_le32(const unsigned char *p) {
  return load_le16(p) | load_le16(p + 2) << 16;
}

uint64_t st_load_le64(const unsigned char *p) {
  return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + 4) << 32;
}

static float float_of_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

float st_f32_from_le(const unsigned char *p) {
  return float_of_bits(load_le32(p));
}

/* bfloat16 is the top half of a float32. */
float st_bf16_from_le(const unsigned char *p) {
  return float_of_bits(load_le16(p) << 16);
}

/* IEEE binary16: every value, subnormals included, is exact in float. */
float st_f16_from_le(const unsigned char *p) {
  const uint32_t h = load_le16(p);
  const uint32_t sign = (h >> 15) << 31, exp = (h >> 10) & 0x1f,
                 mant = h & 0x3ff;
  if (exp == 0) { /* zero or subnormal: mant * 2^-24 */
    const float mag = ldexpf((float)mant, -24);
    return sign ? -mag : mag;
  }
  if (exp == 31) /* infinity or NaN, payload kept */
    return float_of_bits(sign | UINT32_C(0x7f800000) | mant << 13);
  return float_of_bits(sign | (exp + 112) << 23 | mant << 13);
}

double st_f64_from_le(const unsigned char *p) {
  const uint64_t u = st_load_le64(p);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

void st_f32_to_le(float x, unsigned char *p) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  for (int b = 0; b < 4; b++)
    p[b] = (unsigned char)(u >> (8 * b));
}

void st_to_float(const st_tensor *t, float *out) {
  const unsigned char *p = t->data;
  const size_t size = st_dtype_size(t->dtype);
  for (size_t i = 0; i < t->count; i++, p += size) {
    switch (t->dtype) {
    case ST_F32: out[i] = st_f32_from_le(p); break;
    case ST_F16: out[i] = st_f16_from_le(p); break;
    case ST_BF16: out[i] = st_bf16_from_le(p); break;
    case ST_F64: out[i] = (float)st_f64_from_le(p); break;
    }
  }
}

/* ---- parser -------------------------------------------------------------- */

void st_free(st_file *f) {
  if (!f)
    return;
  for (size_t i = 0; i < f->n_tensors; i++)
    free(f->tensors[i].name);
  for (size_t i = 0; i < f->n_meta; i++) {
    free(f->meta[i].key);
    free(f->meta[i].value);
  }
  free(f->tensors);
  free(f->meta);
  memset(f, 0, sizeof *f);
}

const char *st_meta_get(const st_file *f, const char *key) {
  for (size_t i = 0; i < f->n_meta; i++)
    if (strcmp(f->meta[i].key, key) == 0)
      return f->meta[i].value;
  return NULL;
}

const st_tensor *st_find(const st_file *f, const char *name) {
  for (size_t i = 0; i < f->n_tensors; i++)
    if (strcmp(f->tensors[i].name, name) == 0)
      return &f->tensors[i];
  return NULL;
}

static char *dup_string(const char *s) {
  const size_t n = strlen(s) + 1;
  char *d = malloc(n);
  return d ? memcpy(d, s, n) : NULL;
}

/* A JSON integer that is >= 0 and fits size_t. */
static bool get_size(const json_t *j, size_t *out) {
  if (!json_is_integer(j) || json_integer_value(j) < 0 ||
      (unsigned long long)json_integer_value(j) > SIZE_MAX)
    return false;
  *out = (size_t)json_integer_value(j);
  return true;
}

static infini_status parse_meta(json_t *obj, st_file *out, char *err,
                                size_t errlen) {
  if (!json_is_object(obj))
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "\"__metadata__\" is not a JSON object");
  out->meta = calloc(json_object_size(obj) + 1, sizeof *out->meta);
  if (!out->meta)
    return INFINI_ERR_NOMEM;
  const char *key;
  json_t *value;
  json_object_foreach(obj, key, value) {
    if (!json_is_string(value))
      return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                      "metadata " NAME_FMT " is not a string", key);
    st_meta *m = &out->meta[out->n_meta];
    m->key = dup_string(key);
    m->value = dup_string(json_string_value(value));
    out->n_meta++; /* counted now so st_free frees a half-made entry */
    if (!m->key || !m->value)
      return INFINI_ERR_NOMEM;
  }
  return INFINI_OK;
}

static infini_status parse_dtype(const char *name, const json_t *j,
                                 st_tensor *t, char *err, size_t errlen) {
  if (!json_is_string(j))
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "tensor " NAME_FMT ": \"dtype\" is not a string", name);
  for (size_t d = 0; d < N_DTYPES; d++)
    if (strcmp(json_string_value(j), dtype_names[d]) == 0) {
      t->dtype = (st_dtype)d;
      return INFINI_OK;
    }
  return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                  "tensor " NAME_FMT ": dtype '%.16s' is not supported "
                  "(F32, F16, BF16 or F64)",
                  name, json_string_value(j));
}

static infini_status parse_shape(const char *name, const json_t *j,
                                 st_tensor *t, char *err, size_t errlen) {
  if (!json_is_array(j) || json_array_size(j) > ST_MAX_DIMS)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "tensor " NAME_FMT ": \"shape\" is not an array of at "
                    "most %d sizes",
                    name, ST_MAX_DIMS);
  t->ndim = json_array_size(j);
  t->count = 1;
  for (size_t i = 0; i < t->ndim; i++) {
    if (!get_size(json_array_get(j, i), &t->shape[i]))
      return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                      "tensor " NAME_FMT ": shape[%zu] is not a non-negative "
                      "integer",
                      name, i);
    if (t->shape[i] && t->count > SIZE_MAX / t->shape[i])
      return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                      "tensor " NAME_FMT ": the element count of its shape "
                      "overflows",
                      name);
    t->count *= t->shape[i];
  }
  if (t->count > SIZE_MAX / st_dtype_size(t->dtype))
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "tensor " NAME_FMT ": its byte count overflows", name);
  return INFINI_OK;
}

static infini_status parse_offsets(const char *name, const json_t *j,
                                   size_t data_len, st_tensor *t, char *err,
                                   size_t errlen) {
  if (!json_is_array(j) || json_array_size(j) != 2 ||
      !get_size(json_array_get(j, 0), &t->begin) ||
      !get_size(json_array_get(j, 1), &t->end))
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "tensor " NAME_FMT ": \"data_offsets\" is not two "
                    "non-negative integers",
                    name);
  if (t->end < t->begin || t->end > data_len)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "tensor " NAME_FMT ": data_offsets [%zu, %zu] are not a "
                    "range within the %zu-byte data section",
                    name, t->begin, t->end, data_len);
  const size_t want = t->count * st_dtype_size(t->dtype);
  if (t->end - t->begin != want)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "tensor " NAME_FMT ": %zu data bytes, but its shape and "
                    "dtype %s need %zu",
                    name, t->end - t->begin, st_dtype_name(t->dtype), want);
  return INFINI_OK;
}

static const char *const entry_keys[] = {"dtype", "shape", "data_offsets"};

static infini_status check_entry_keys(const char *name, json_t *obj,
                                      char *err, size_t errlen) {
  for (size_t k = 0; k < 3; k++)
    if (!json_object_get(obj, entry_keys[k]))
      return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                      "tensor " NAME_FMT ": no \"%s\"", name, entry_keys[k]);
  if (json_object_size(obj) == 3)
    return INFINI_OK;
  const char *key;
  json_t *value;
  json_object_foreach(obj, key, value) {
    if (strcmp(key, "dtype") && strcmp(key, "shape") &&
        strcmp(key, "data_offsets"))
      break;
  }
  return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                  "tensor " NAME_FMT ": unexpected key " NAME_FMT, name, key);
}

static infini_status parse_tensor(const char *name, json_t *obj,
                                  const unsigned char *data, size_t data_len,
                                  st_tensor *t, char *err, size_t errlen) {
  if (!json_is_object(obj))
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "tensor " NAME_FMT ": entry is not a JSON object", name);
  infini_status st = check_entry_keys(name, obj, err, errlen);
  if (!st)
    st = parse_dtype(name, json_object_get(obj, "dtype"), t, err, errlen);
  if (!st)
    st = parse_shape(name, json_object_get(obj, "shape"), t, err, errlen);
  if (!st)
    st = parse_offsets(name, json_object_get(obj, "data_offsets"), data_len,
                       t, err, errlen);
  if (st)
    return st;
  t->data = data ? data + t->begin : NULL; /* NULL: header only, no data yet */
  t->name = dup_string(name);
  return t->name ? INFINI_OK : INFINI_ERR_NOMEM;
}

static int by_offset(const void *a, const void *b) {
  const st_tensor *x = *(const st_tensor *const *)a;
  const st_tensor *y = *(const st_tensor *const *)b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

/* The format requires the tensors to cover the data section exactly: in
 * offset order each begins where the previous one ended. A hole would hide
 * bytes no tensor accounts for; an overlap would give two tensors the same
 * bytes. */
static infini_status check_coverage(const st_file *f, size_t data_len,
                                    char *err, size_t errlen) {
  const st_tensor **order = malloc((f->n_tensors + 1) * sizeof *order);
  if (!order)
    return INFINI_ERR_NOMEM;
  for (size_t i = 0; i < f->n_tensors; i++)
    order[i] = &f->tensors[i];
  qsort(order, f->n_tensors, sizeof *order, by_offset);
  infini_status st = INFINI_OK;
  size_t pos = 0;
  for (size_t i = 0; i < f->n_tensors && !st; i++) {
    if (order[i]->begin < pos)
      st = fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "tensors " NAME_FMT " and " NAME_FMT " overlap at data "
                    "byte %zu",
                    order[i - 1]->name, order[i]->name, order[i]->begin);
    else if (order[i]->begin > pos)
      st = fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "data bytes %zu..%zu belong to no tensor (a hole before "
                    NAME_FMT ")",
                    pos, order[i]->begin, order[i]->name);
    pos = order[i]->end;
  }
  free(order);
  if (!st && pos != data_len)
    st = fileio_error(err, errlen, INFINI_ERR_FORMAT,
                  "data bytes %zu..%zu belong to no tensor (after the last "
                  "one)",
                  pos, data_len);
  return st;
}

static infini_status parse_root(json_t *root, const unsigned char *data,
                                size_t data_len, st_file *out, char *err,
                                size_t errlen) {
  if (!json_is_object(root))
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "the header is not a JSON object");
  out->tensors = calloc(json_object_size(root) + 1, sizeof *out->tensors);
  if (!out->tensors)
    return INFINI_ERR_NOMEM;
  const char *key;
  json_t *value;
  infini_status st = INFINI_OK;
  json_object_foreach(root, key, value) {
    if (strcmp(key, "__metadata__") == 0) {
      st = parse_meta(value, out, err, errlen);
    } else {
      st = parse_tensor(key, value, data, data_len,
                        &out->tensors[out->n_tensors], err, errlen);
      if (out->tensors[out->n_tensors].name)
        out->n_tensors++;
    }
    if (st)
      return st;
  }
  return check_coverage(out, data_len, err, errlen);
}

/* The header of a file of file_len bytes, whose first len bytes are in
 * bytes (at least the length and the header, or the whole file when it is
 * shorter); data is the data section, or NULL to parse the header only.
 * Every offset is checked against the file's real size either way. */
static infini_status parse_file(const unsigned char *bytes, size_t len,
                                uint64_t file_len, const unsigned char *data,
                                st_file *out, char *err, size_t errlen) {
  if (!out || (!bytes && len))
    return INFINI_ERR_NULL;
  memset(out, 0, sizeof *out);
  if (file_len < 8 || len < 8)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "%llu bytes: too short for the 8-byte header length",
                    (unsigned long long)file_len);
  const uint64_t hlen = st_load_le64(bytes);
  if (hlen > ST_MAX_HEADER)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "header length %llu is larger than the %llu bytes a "
                    "header may have",
                    (unsigned long long)hlen,
                    (unsigned long long)ST_MAX_HEADER);
  if (hlen > file_len - 8)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "header length %llu runs past the end of the file "
                    "(%llu bytes after the length)",
                    (unsigned long long)hlen, (unsigned long long)(file_len - 8));
  if (hlen > len - 8)
    return INFINI_ERR_NULL; /* the caller did not give the whole header */
  if (hlen == 0 || bytes[8] != '{')
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "the header does not start with '{'");
  json_error_t je;
  json_t *root = json_loadb((const char *)bytes + 8, (size_t)hlen,
                            JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return fileio_error(err, errlen, INFINI_ERR_FORMAT,
                    "the header is not valid JSON: %s (header byte %d)",
                    je.text, je.position);
  const uint64_t data_len = file_len - 8 - hlen;
  infini_status st = data_len > SIZE_MAX
                         ? fileio_error(err, errlen, INFINI_ERR_FORMAT,
                                        "the data section is too large")
                         : parse_root(root, data, (size_t)data_len, out, err,
                                      errlen);
  json_decref(root);
  if (st == INFINI_ERR_NOMEM)
    fileio_error(err, errlen, st, "out of memory while reading the header");
  if (st)
    st_free(out);
  return st;
}

infini_status st_parse(const unsigned char *bytes, size_t len, st_file *out,
                       char *err, size_t errlen) {
  const uint64_t hlen = len >= 8 && bytes ? st_load_le64(bytes) : 0;
  const unsigned char *data =
      bytes && len >= 8 && hlen <= len - 8 ? bytes + 8 + hlen : NULL;
  return parse_file(bytes, len, len, data ? data : bytes, out, err, errlen);
}

infini_status st_parse_header(const unsigned char *bytes, size_t len,
                              uint64_t file_len, st_file *out, char *err,
                              size_t errlen) {
  return parse_file(bytes, len, file_len, NULL, out, err, errlen);
}

size_t st_prefix_bytes(const unsigned char first8[8], uint64_t file_len) {
  if (file_len < 8)
    return (size_t)file_len;
  uint64_t hlen = st_load_le64(first8);
  if (hlen > ST_MAX_HEADER)
    hlen = 0; /* refused from the length alone */
  if (hlen > file_len - 8)
    hlen = 0;
  return (size_t)(8 + hlen);
}

/* ---- writer -------------------------------------------------------------- */

/* Sets t's count, begin (= *pos) and end; advances *pos. */
static infini_status place_tensor(st_tensor *t, size_t *pos, char *err,
                                  size_t errlen) {
  size_t count = 1, bytes;
  for (size_t i = 0; i < t->ndim; i++) {
    if (t->shape[i] && count > SIZE_MAX / t->shape[i])
      return fileio_error(err, errlen, INFINI_ERR_OVERFLOW,
                      "tensor " NAME_FMT ": element count overflows", t->name);
    count *= t->shape[i];
  }
  const size_t size = st_dtype_size(t->dtype);
  if (!size || t->ndim > ST_MAX_DIMS)
    return fileio_error(err, errlen, INFINI_ERR_PARAM,
                    "tensor " NAME_FMT ": bad dtype or rank", t->name);
  if (count > SIZE_MAX / size || (bytes = count * size) > SIZE_MAX - *pos ||
      *pos + bytes > (size_t)INT64_MAX)
    return fileio_error(err, errlen, INFINI_ERR_OVERFLOW,
                    "tensor " NAME_FMT ": byte count overflows", t->name);
  t->count = count;
  t->begin = *pos;
  t->end = *pos += bytes;
  return INFINI_OK;
}

static json_t *tensor_entry(const st_tensor *t) {
  json_t *shape = json_array();
  for (size_t i = 0; shape && i < t->ndim; i++)
    json_array_append_new(shape, json_integer((json_int_t)t->shape[i]));
  return json_pack("{s:s, s:o, s:[I,I]}", "dtype", st_dtype_name(t->dtype),
                   "shape", shape, "data_offsets", (json_int_t)t->begin,
                   (json_int_t)t->end);
}

static infini_status add_metadata(json_t *root, const st_meta *m,
                                  size_t n_meta, char *err, size_t errlen) {
  if (!n_meta)
    return INFINI_OK;
  json_t *obj = json_object();
  if (json_object_set_new(root, "__metadata__", obj))
    return INFINI_ERR_NOMEM;
  for (size_t i = 0; i < n_meta; i++)
    if (json_object_get(obj, m[i].key) ||
        json_object_set_new(obj, m[i].key, json_string(m[i].value)))
      return fileio_error(err, errlen, INFINI_ERR_PARAM,
                      "metadata " NAME_FMT " is repeated or not UTF-8",
                      m[i].key);
  return INFINI_OK;
}

static infini_status build_header(json_t *root, st_tensor *t, size_t n,
                                  const st_meta *m, size_t n_meta, char *err,
                                  size_t errlen) {
  infini_status st = add_metadata(root, m, n_meta, err, errlen);
  size_t pos = 0;
  for (size_t i = 0; i < n && !st; i++) {
    if ((st = place_tensor(&t[i], &pos, err, errlen)))
      return st;
    if (strcmp(t[i].name, "__metadata__") == 0 ||
        json_object_get(root, t[i].name))
      return fileio_error(err, errlen, INFINI_ERR_PARAM,
                      "tensor name " NAME_FMT " is reserved or repeated",
                      t[i].name);
    if (json_object_set_new(root, t[i].name, tensor_entry(&t[i])))
      return INFINI_ERR_NOMEM;
  }
  return st;
}

/* Header order is insertion order (jansson keeps it), so the same tensors
 * and metadata always give the same bytes. */
infini_status st_header(st_tensor *t, size_t n, const st_meta *m,
                        size_t n_meta, unsigned char **out, size_t *len,
                        char *err, size_t errlen) {
  if ((!t && n) || (!m && n_meta) || !out || !len)
    return INFINI_ERR_NULL;
  json_t *root = json_object();
  if (!root)
    return INFINI_ERR_NOMEM;
  infini_status st = build_header(root, t, n, m, n_meta, err, errlen);
  char *text = st ? NULL
                  : json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (st)
    return st;
  if (!text)
    return INFINI_ERR_NOMEM;
  const size_t tlen = strlen(text), hlen = (tlen + 7) & ~(size_t)7;
  unsigned char *buf = malloc(8 + hlen);
  if (buf) {
    for (int b = 0; b < 8; b++)
      buf[b] = (unsigned char)((uint64_t)hlen >> (8 * b));
    memcpy(buf + 8, text, tlen);
    memset(buf + 8 + tlen, ' ', hlen - tlen);
    *out = buf;
    *len = 8 + hlen;
  }
  free(text);
  return buf ? INFINI_OK : INFINI_ERR_NOMEM;
}

void st_encode_f32(const float *x, size_t count, unsigned char *out) {
  for (size_t i = 0; i < count; i++)
    st_f32_to_le(x[i], out + 4 * i);
}

int st_write_f32(FILE *f, const float *x, size_t count) {
  unsigned char buf[4096];
  while (count) {
    const size_t k = count < sizeof buf / 4 ? count : sizeof buf / 4;
    st_encode_f32(x, k, buf);
    if (fwrite(buf, 4, k, f) != k)
      return -1;
    x += k;
    count -= k;
  }
  return 0;
}

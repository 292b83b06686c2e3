/*
 * fuzz/fuzz_safetensors.c - the safetensors reader (src/safetensors.c,
 * st_parse) on hostile bytes. Every accepted tensor must lie inside the
 * data section and convert to float; the accepted file, written again with
 * st_header and the same data, must parse to the same tensors and metadata.
 */
#include "config.h"

#include "fuzz/fuzz.h"
#include "src/safetensors.h"

static void check_tensor(const st_tensor *t, const uint8_t *data,
                         size_t size) {
  FUZZ_REQUIRE(t->begin <= t->end && t->data >= data &&
                   t->data + (t->end - t->begin) <= data + size,
               "a tensor's bytes lie outside the file");
  FUZZ_REQUIRE(t->count * st_dtype_size(t->dtype) == t->end - t->begin,
               "a tensor's byte count disagrees with its shape");
  float *x = malloc(t->count ? t->count * sizeof *x : 1);
  FUZZ_REQUIRE(x != NULL, "out of memory");
  st_to_float(t, x); /* ASan: reads only the tensor's own bytes */
  free(x);
}

static bool same_tensor(const st_tensor *a, const st_tensor *b) {
  return strcmp(a->name, b->name) == 0 && a->dtype == b->dtype &&
         a->ndim == b->ndim &&
         memcmp(a->shape, b->shape, a->ndim * sizeof a->shape[0]) == 0 &&
         a->end - a->begin == b->end - b->begin &&
         memcmp(a->data, b->data, a->end - a->begin) == 0;
}

/* The file again: st_header's header, then each tensor's bytes in order. */
static unsigned char *rewrite(const st_file *f, size_t *len) {
  st_tensor *t = malloc((f->n_tensors + 1) * sizeof *t);
  unsigned char *header = NULL;
  size_t hlen = 0;
  char err[256] = "";
  FUZZ_REQUIRE(t != NULL, "out of memory");
  if (f->n_tensors)
    memcpy(t, f->tensors, f->n_tensors * sizeof *t);
  FUZZ_REQUIRE(st_header(t, f->n_tensors, f->meta, f->n_meta, &header, &hlen,
                         err, sizeof err) == INFINI_OK,
               "the tensors of an accepted file cannot be written again");
  size_t total = hlen;
  for (size_t i = 0; i < f->n_tensors; i++)
    total += t[i].end - t[i].begin;
  unsigned char *out = realloc(header, total ? total : 1);
  FUZZ_REQUIRE(out != NULL, "out of memory");
  for (size_t i = 0; i < f->n_tensors; i++)
    memcpy(out + hlen + t[i].begin, f->tensors[i].data, t[i].end - t[i].begin);
  free(t);
  *len = total;
  return out;
}

static void check_round_trip(const st_file *f) {
  size_t len;
  unsigned char *bytes = rewrite(f, &len);
  st_file g;
  char err[256] = "";
  FUZZ_REQUIRE(st_parse(bytes, len, &g, err, sizeof err) == INFINI_OK,
               "a rewritten file is rejected");
  FUZZ_REQUIRE(g.n_tensors == f->n_tensors && g.n_meta == f->n_meta,
               "round trip changed the number of tensors or metadata");
  for (size_t i = 0; i < f->n_tensors; i++)
    FUZZ_REQUIRE(same_tensor(&f->tensors[i], &g.tensors[i]),
                 "round trip changed a tensor");
  for (size_t i = 0; i < f->n_meta; i++)
    FUZZ_REQUIRE(strcmp(f->meta[i].key, g.meta[i].key) == 0 &&
                     strcmp(f->meta[i].value, g.meta[i].value) == 0,
                 "round trip changed the metadata");
  st_free(&g);
  free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  st_file f;
  char err[256] = "";
  const infini_status st = st_parse(data, size, &f, err, sizeof err);
  if (st != INFINI_OK) {
    FUZZ_REQUIRE(st == INFINI_ERR_FORMAT || st == INFINI_ERR_NOMEM,
                 "st_parse returned an undocumented status");
    FUZZ_REQUIRE(f.n_tensors == 0 && f.n_meta == 0,
                 "a rejected file left tensors behind");
    fuzz_require_message(err);
    return 0;
  }
  for (size_t i = 0; i < f.n_tensors; i++)
    check_tensor(&f.tensors[i], data, size);
  check_round_trip(&f);
  st_free(&f);
  return 0;
}

/*
 * fuzz/fuzz_npy.c - the .npy reader (vectors/npy.c) on hostile bytes.
 * Accepted arrays must re-encode and parse back to the same dtype, shape
 * and bits (NaNs aside: the writer canonicalises them).
 */
#include "config.h"

#include <math.h>
#include "fuzz/fuzz.h"
#include "vectors/npy.h"

/* Same value, bit for bit, except that any NaN equals any NaN. */
static int same_element(npy_dtype dtype, const void *a, const void *b,
                        size_t i) {
  if (dtype == NPY_F4) {
    const float x = ((const float *)a)[i], y = ((const float *)b)[i];
    return (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0;
  }
  const double x = ((const double *)a)[i], y = ((const double *)b)[i];
  return (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0;
}

static void check_round_trip(const npy_array *a) {
  unsigned char *bytes = NULL;
  size_t len = 0;
  char err[256] = "";
  npy_array b;
  FUZZ_REQUIRE(npy_encode(a->dtype, a->ndim, a->dims, a->data, &bytes, &len,
                          err, sizeof err),
               "an accepted array cannot be encoded");
  FUZZ_REQUIRE(npy_parse(bytes, len, &b, err, sizeof err),
               "the encoding of an accepted array is rejected");
  FUZZ_REQUIRE(b.dtype == a->dtype && b.ndim == a->ndim &&
                   b.count == a->count &&
                   memcmp(b.dims, a->dims, sizeof(size_t) * (size_t)a->ndim) == 0,
               "round trip changed the dtype or the shape");
  for (size_t i = 0; i < a->count; i++)
    FUZZ_REQUIRE(same_element(a->dtype, a->data, b.data, i),
                 "round trip changed a value");
  npy_free(&b);
  free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  npy_array a;
  char err[256] = "";
  if (!npy_parse(data, size, &a, err, sizeof err)) {
    fuzz_require_message(err);
    return 0;
  }
  size_t count = 1;
  for (int i = 0; i < a.ndim; i++)
    count *= a.dims[i];
  FUZZ_REQUIRE(a.count == count, "count is not the product of the dims");
  check_round_trip(&a);
  npy_free(&a);
  return 0;
}

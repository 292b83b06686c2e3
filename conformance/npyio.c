/*
 * conformance/npyio.c - the .npy files of the file workflow, on top of the
 * vector library's strict codec (vectors/npy.h): writing the exported
 * inputs, and reading what another implementation wrote with one clear line
 * for everything that can be wrong with such a file (missing, not .npy,
 * wrong dtype, truncated, trailing bytes).
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "conformance/conform.h"
#include "vectors/npy.h"
#include "src/fileio.h"

bool cf_npy_write(const char *path, vs_dtype dtype, int ndim, const size_t *dims,
                  const void *data, char *err, size_t errlen) {
  unsigned char *bytes = NULL;
  size_t len = 0;
  char why[512];
  if (!npy_encode(dtype == VS_F64 ? NPY_F8 : NPY_F4, ndim, dims, data, &bytes, &len,
                  why, sizeof why)) {
    snprintf(err, errlen, "cannot encode %s: %s", path, why);
    return false;
  }
  /* the writer's message names the path already */
  bool ok = npy_write_file(path, bytes, len, err, errlen);
  free(bytes);
  return ok;
}

bool cf_npy_read_float(const char *path, size_t max_count, int *ndim,
                       size_t *dims, float **data, size_t *count, char *err,
                       size_t errlen) {
  *data = NULL;
  *count = 0;
  *ndim = 0;
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "missing file %s (%s)", path, strerror(errno));
    return false;
  }
  unsigned char *bytes = NULL;
  size_t len = 0;
  char why[512];
  const size_t cap = max_count > (SIZE_MAX - NPY_HEADER_MAX) / 8
                        ? SIZE_MAX
                        : NPY_HEADER_MAX + 8 * max_count;
  if (!npy_read_file_capped(path, FILEIO_NOFOLLOW, cap, &bytes, &len, why,
                            sizeof why)) {
    snprintf(err, errlen, "cannot read %s: %s", path, why);
    return false;
  }
  npy_array a;
  memset(&a, 0, sizeof a);
  bool ok = npy_parse(bytes, len, &a, why, sizeof why);
  free(bytes);
  if (!ok) {
    snprintf(err, errlen, "%s is not a valid float32/float64 .npy file: %s", path, why);
    return false;
  }
  *ndim = a.ndim;
  for (int d = 0; d < a.ndim && d < VS_MAX_DIMS; d++)
    dims[d] = a.dims[d];
  *count = a.count;
  *data = cf_xmalloc((a.count ? a.count : 1) * sizeof(float));
  for (size_t i = 0; i < a.count; i++)
    (*data)[i] = a.dtype == NPY_F8 ? (float)((const double *)a.data)[i]
                                   : ((const float *)a.data)[i];
  npy_free(&a);
  return true;
}

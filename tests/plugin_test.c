/*
 * tests/plugin_test.c - a plugin shared object for tests/test_badinput.c.
 *
 * It does not link libinfini: it only needs the table layout of infini.h.
 * What infini_plugin_backend() returns depends on the environment variable
 * INFINI_TEST_PLUGIN_MODE, read at each call, so one .so covers:
 *   "good" (or unset): a valid table named "testplugin" whose feature_map
 *                      is real and whose other kernels report
 *                      INFINI_ERR_BACKEND;
 *   "second":          the same under the name "testplugin2";
 *   "badabi":          a table with another ABI version;
 *   anything else:     NULL.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infini.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif

static infini_availability avail(void) { return INFINI_NATIVE; }

static infini_status fm(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                        ptrdiff_t ldx, float *y, ptrdiff_t ldy) {
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++) {
      const float v = x[i * ldx + j];
      y[i * ldy + j] = v > 0 ? v + 1 : expf(v);
    }
  return INFINI_OK;
}

static infini_status ret(const infini_head_shape *s, const float *q,
                         ptrdiff_t ldq, const float *m, ptrdiff_t ldm,
                         const float *z, float eps, float *a, ptrdiff_t lda) {
  return INFINI_ERR_BACKEND;
}

static infini_status upl(const infini_head_shape *s, const float *k,
                         ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
                         ptrdiff_t ldm, float *z) {
  return INFINI_ERR_BACKEND;
}

static infini_status upd(const infini_head_shape *s, const float *k,
                         ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
                         ptrdiff_t ldm, float *z, float eps, void *work) {
  return INFINI_ERR_BACKEND;
}

static infini_status mix(ptrdiff_t rows, ptrdiff_t cols, float beta,
                         const float *a, ptrdiff_t lda, const float *b,
                         ptrdiff_t ldb, float *o, ptrdiff_t ldo) {
  return INFINI_ERR_BACKEND;
}

static infini_status att(const infini_head_shape *s, const float *q,
                         ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                         const float *v, ptrdiff_t ldv, float scale, float *o,
                         ptrdiff_t ldo, void *work) {
  return INFINI_ERR_BACKEND;
}

#define TABLE(abi, nm)                                                   \
  {                                                                      \
    .abi_version = (abi), .struct_size = sizeof(infini_backend),         \
    .name = (nm), .description = "test plugin (tests/plugin_test.c)",    \
    .availability = avail, .feature_map = fm, .retrieve = ret,           \
    .update_linear = upl, .update_delta = upd, .mix = mix,               \
    .local_attention = att                                               \
  }

static const infini_backend good = TABLE(INFINI_ABI_VERSION, "testplugin");
static const infini_backend second = TABLE(INFINI_ABI_VERSION, "testplugin2");
static const infini_backend bad_abi = TABLE(INFINI_ABI_VERSION + 1, "testplugin3");

const infini_backend *infini_plugin_backend(void);

const infini_backend *infini_plugin_backend(void) {
  const char *mode = getenv("INFINI_TEST_PLUGIN_MODE");
  if (!mode || strcmp(mode, "good") == 0)
    return &good;
  if (strcmp(mode, "second") == 0)
    return &second;
  if (strcmp(mode, "badabi") == 0)
    return &bad_abi;
  return NULL;
}

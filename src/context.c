/* src/context.c - contexts (see context.h). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include "src/context.h"

#define SCRATCH_ALIGN 64

infini_status infini_context_create(const infini_backend *backend,
                                    infini_context **out) {
  if (!out)
    return INFINI_ERR_NULL;
  if (!backend) {
    infini_status st = infini_backend_find(NULL, &backend);
    if (st != INFINI_OK)
      return st;
  }
  infini_status st = infini_backend_check(backend);
  if (st != INFINI_OK)
    return st;
  if (backend->availability() == INFINI_UNAVAILABLE)
    return INFINI_ERR_UNAVAILABLE;
  infini_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx)
    return INFINI_ERR_NOMEM;
  ctx->backend = backend;
  *out = ctx;
  return INFINI_OK;
}

void infini_context_free(infini_context *ctx) {
  if (!ctx)
    return;
  free(ctx->scratch);
  free(ctx);
}

const infini_backend *infini_context_backend(const infini_context *ctx) {
  return ctx ? ctx->backend : NULL;
}

/* Byte counts saturate at SIZE_MAX instead of wrapping, so that a request
 * too large to satisfy reaches context_scratch() as SIZE_MAX, which it
 * refuses with INFINI_ERR_OVERFLOW, and never as a small wrapped value. */
size_t round_up_bytes(size_t bytes) {
  if (bytes > SIZE_MAX - (SCRATCH_ALIGN - 1))
    return SIZE_MAX;
  return (bytes + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN;
}

size_t add_bytes(size_t a, size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

size_t backend_workspace(const infini_backend *be, const infini_head_shape *shape) {
  return be->workspace_bytes ? round_up_bytes(be->workspace_bytes(shape)) : 0;
}

infini_status context_scratch(infini_context *ctx, size_t bytes, void **out) {
  if (bytes > ctx->scratch_bytes) {
    const size_t rounded = round_up_bytes(bytes);
    if (rounded == SIZE_MAX)
      return INFINI_ERR_OVERFLOW;
    void *p = aligned_alloc(SCRATCH_ALIGN, rounded);
    if (!p)
      return INFINI_ERR_NOMEM;
    free(ctx->scratch);
    ctx->scratch = p;
    ctx->scratch_bytes = rounded;
  }
  *out = ctx->scratch;
  return INFINI_OK;
}

/* src/context.c - contexts (see context.h). */
#include "config.h"
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

static size_t round_up(size_t bytes) {
  return (bytes + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN;
}

size_t backend_workspace(const infini_backend *be, const infini_head_shape *shape) {
  return be->workspace_bytes ? round_up(be->workspace_bytes(shape)) : 0;
}

infini_status context_scratch(infini_context *ctx, size_t bytes, void **out) {
  if (bytes > ctx->scratch_bytes) {
    if (bytes > SIZE_MAX - SCRATCH_ALIGN)
      return INFINI_ERR_OVERFLOW;
    void *p = aligned_alloc(SCRATCH_ALIGN, round_up(bytes));
    if (!p)
      return INFINI_ERR_NOMEM;
    free(ctx->scratch);
    ctx->scratch = p;
    ctx->scratch_bytes = round_up(bytes);
  }
  *out = ctx->scratch;
  return INFINI_OK;
}

/* src/context.h - the context: a backend and its reusable scratch arena. */
#ifndef INFINI_SRC_CONTEXT_H
#define INFINI_SRC_CONTEXT_H

#include <stddef.h>
#include "infini.h"

struct infini_context {
  const infini_backend *backend;
  void *scratch;        /* 64-byte aligned, scratch_bytes long */
  size_t scratch_bytes;
};

/** At least `bytes` of 64-byte aligned scratch; grows only, then reused. */
infini_status context_scratch(infini_context *ctx, size_t bytes, void **out);

/** The backend's workspace for this shape, rounded up to 64 bytes. */
size_t backend_workspace(const infini_backend *be, const infini_head_shape *shape);

#endif

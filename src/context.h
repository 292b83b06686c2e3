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

/** bytes rounded up to a multiple of 64; SIZE_MAX when that overflows. */
size_t round_up_bytes(size_t bytes);
/** a + b, or SIZE_MAX when that overflows. */
size_t add_bytes(size_t a, size_t b);

/** The backend's workspace for this shape, rounded up to 64 bytes
 *  (SIZE_MAX when that overflows; context_scratch refuses it). */
size_t backend_workspace(const infini_backend *be, const infini_head_shape *shape);

#endif

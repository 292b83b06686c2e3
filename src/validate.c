/* src/validate.c - argument checks (see validate.h). */
#include "config.h"
#include <math.h>
#include <stdint.h>
#include "src/validate.h"

infini_status check_sizes(ptrdiff_t a, ptrdiff_t b, ptrdiff_t c) {
  return (a >= 1 && b >= 1 && c >= 1) ? INFINI_OK : INFINI_ERR_SIZE;
}

infini_status checked_mul(ptrdiff_t a, ptrdiff_t b, ptrdiff_t *out) {
  if (a > PTRDIFF_MAX / b)
    return INFINI_ERR_OVERFLOW;
  *out = a * b;
  return INFINI_OK;
}

/* The elements a matrix spans are (rows-1)*ld + cols; that count times
 * sizeof(float) must fit in both size_t (allocation, memcpy) and
 * ptrdiff_t (the kernels' index arithmetic). */
infini_status check_matrix(const void *data, ptrdiff_t rows, ptrdiff_t cols,
                           ptrdiff_t ld, span *out) {
  if (ld < cols)
    return INFINI_ERR_STRIDE;
  ptrdiff_t body = 0;
  if (rows > 1 && checked_mul(rows - 1, ld, &body) != INFINI_OK)
    return INFINI_ERR_OVERFLOW;
  if (body > PTRDIFF_MAX - cols)
    return INFINI_ERR_OVERFLOW;
  const ptrdiff_t elements = body + cols;
  const ptrdiff_t limit =
      (ptrdiff_t)((SIZE_MAX < (size_t)PTRDIFF_MAX ? SIZE_MAX : (size_t)PTRDIFF_MAX) /
                  sizeof(float));
  if (elements > limit)
    return INFINI_ERR_OVERFLOW;
  if (out)
    *out = float_span(data, (size_t)elements);
  return INFINI_OK;
}

infini_status check_eps(float eps) {
  return (isfinite(eps) && eps >= 0) ? INFINI_OK : INFINI_ERR_PARAM;
}

infini_status check_scale(float scale) {
  return isfinite(scale) ? INFINI_OK : INFINI_ERR_PARAM;
}

infini_status check_beta(float beta) {
  return isnan(beta) ? INFINI_ERR_PARAM : INFINI_OK;
}

span float_span(const void *data, size_t count) {
  span s = {data, count * sizeof(float)};
  return s;
}

bool spans_overlap(span a, span b) {
  const uintptr_t a0 = (uintptr_t)a.data, b0 = (uintptr_t)b.data;
  return a0 < b0 + b.bytes && b0 < a0 + a.bytes;
}

infini_status check_step_params(const infini_step_params *p) {
  if (p->rule != INFINI_UPDATE_LINEAR && p->rule != INFINI_UPDATE_DELTA)
    return INFINI_ERR_PARAM;
  TRY(check_beta(p->beta));
  TRY(check_eps(p->eps));
  return check_scale(p->scale);
}

infini_status no_overlap(span out, span in) {
  return spans_overlap(out, in) ? INFINI_ERR_ALIAS : INFINI_OK;
}

infini_status same_or_disjoint(span out, ptrdiff_t ldo, span in, ptrdiff_t ldi) {
  if (out.data == in.data && ldo == ldi)
    return INFINI_OK;
  return no_overlap(out, in);
}

infini_status check_disjoint(const span *written, size_t n_written,
                             const span *read, size_t n_read) {
  for (size_t i = 0; i < n_written; i++) {
    for (size_t j = i + 1; j < n_written; j++)
      TRY(no_overlap(written[i], written[j]));
    for (size_t j = 0; j < n_read; j++)
      TRY(no_overlap(written[i], read[j]));
  }
  return INFINI_OK;
}

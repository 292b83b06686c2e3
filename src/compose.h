/*
 * src/compose.h - operations a backend may leave out (segment_step,
 * layer_step), composed from its required operators exactly as the spec
 * defines them, and the calls that pick the backend's own entry when it has
 * one. Arguments are already validated.
 */
#ifndef INFINI_SRC_COMPOSE_H
#define INFINI_SRC_COMPOSE_H

#include "infini.h"

/** Scratch bytes run_segment_step needs for this shape. */
size_t step_workspace(const infini_backend *be, const infini_head_shape *shape);
/** Scratch bytes run_layer_step needs for this per-head shape. */
size_t layer_workspace(const infini_backend *be, const infini_head_shape *shape);

infini_status run_segment_step(const infini_backend *be,
                               const infini_head_shape *shape,
                               const infini_step_params *params,
                               const float *q, ptrdiff_t ldq,
                               const float *k, ptrdiff_t ldk,
                               const float *v, ptrdiff_t ldv,
                               float *m, ptrdiff_t ldm, float *z,
                               float *out, ptrdiff_t ldo, void *work);

infini_status run_layer_step(const infini_backend *be,
                             const infini_layer_config *config, ptrdiff_t n,
                             const float *q, ptrdiff_t ldq,
                             const float *k, ptrdiff_t ldk,
                             const float *v, ptrdiff_t ldv,
                             const float *beta, float *m, float *z,
                             float *out, ptrdiff_t ldo, void *work);

/** A kernel's status as the library reports it: known codes pass through,
 *  anything else becomes INFINI_ERR_BACKEND. */
infini_status kernel_status(infini_status st);

#endif

/*
 * ref/model_oracle.h - the double-precision oracle of the model
 * (docs/model.md, "Oracle"): the same math as infini_model_forward, in
 * double, from an exact f32 -> f64 copy of a model's weights, with the
 * spec's double reference operators (infini_ref_*_f64) for the attention
 * and the same streaming semantics. Deterministic to the bit on every
 * IEEE-754 platform (FLT_EVAL_METHOD 0), so golden vectors made from it
 * rebuild byte for byte on x86-64, aarch64 and s390x.
 *
 * Unlike the float model, its outputs do not depend on how the stream is
 * cut into calls even in the last bit: it keeps the partial segment's
 * rotated queries and recomputes the causal attention of the segment's
 * prefix, whose rows depend only on their own query and earlier keys.
 * That costs O(N^2) per call instead of O(N): an oracle, not a decoder.
 *
 * Lives in ref/libinfini_oracle.la (not installed), linked by tests and
 * tools together with libinfini.
 */
#ifndef INFINI_REF_MODEL_ORACLE_H
#define INFINI_REF_MODEL_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "infini.h"
#include "infini_model.h"

typedef struct infini_oracle_model infini_oracle_model;
typedef struct infini_oracle_state infini_oracle_state;

/**
 * @brief An oracle of a model: its config and an exact f32 -> f64 copy of
 *        its weights (the model may be freed afterwards).
 * @return ::INFINI_ERR_NULL, ::INFINI_ERR_NOMEM, the config's status, or
 *         ::INFINI_ERR_PARAM for RoPE with segments longer than 2^19
 *         tokens (the oracle's sin and cos reduce angles below 2^19 pi/2).
 */
infini_status infini_oracle_model_create(const infini_model *model,
                                         infini_oracle_model **out);
/** @brief Free an oracle (NULL is ignored). */
void infini_oracle_model_free(infini_oracle_model *m);

/** @brief A fresh stream of the oracle: zero memories, position 0. */
infini_status infini_oracle_state_create(const infini_oracle_model *m,
                                         infini_oracle_state **out);
/** @brief Free an oracle stream (NULL is ignored). */
void infini_oracle_state_free(infini_oracle_state *s);

/**
 * @brief Feed n tokens, as ::infini_model_forward.
 * @param logits  NULL or [n x V].
 * @param hidden  NULL or [L x n x D], layer l, token i at (l * n + i) * D.
 * @return ::INFINI_ERR_NULL, ::INFINI_ERR_SIZE (n < 1), ::INFINI_ERR_PARAM
 *         (a token outside 0..V-1; nothing consumed), ::INFINI_ERR_SHAPE
 *         (a stream of another oracle), ::INFINI_ERR_OVERFLOW.
 */
infini_status infini_oracle_forward(const infini_oracle_model *m,
                                    infini_oracle_state *s,
                                    const int32_t *tokens, ptrdiff_t n,
                                    double *logits, double *hidden);

#endif /* INFINI_REF_MODEL_ORACLE_H */

/**
 * @file infini_model.h
 * @brief A small decoder-only Infini-Transformer (docs/model.md is
 *        normative): weights from safetensors, streaming with constant
 *        memory, token-by-token decoding and checkpoints.
 *
 * A ::infini_model holds the weights and the backend; it is immutable after
 * loading and may be shared by threads. A ::infini_model_state holds one
 * stream: every layer's compressive memory, the current partial segment's
 * keys and values, the position, and a context for scratch; use one state
 * per thread.
 *
 * Streaming semantics (docs/model.md, "Segments"): tokens are appended to
 * the stream; segment s holds stream positions [s N, (s+1) N). Every token
 * attends causally within its own segment and reads the memory as it was
 * before that segment; a segment is folded into the memory when its N-th
 * token has been processed. So the outputs do not depend on how the stream
 * is cut into calls: one call per segment, one per token, or any mix give
 * the same results up to floating-point rounding.
 */
#ifndef INFINI_MODEL_H
#define INFINI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "infini.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the safetensors weight layout (docs/model.md, "Weights"). */
#define INFINI_MODEL_FORMAT_VERSION 1
/** Version of the checkpoint file format (docs/model.md, "Checkpoints"). */
#define INFINI_CHECKPOINT_VERSION 1

/** Position encoding of the local attention. */
typedef enum infini_position {
  INFINI_POSITION_NONE = 0, /**< no position encoding */
  INFINI_POSITION_ROPE = 1  /**< RoPE on Q and K of the local attention only */
} infini_position;

/** Shape and hyper-parameters of a model (docs/model.md, "Config"). */
typedef struct infini_model_config {
  ptrdiff_t vocab_size;   /**< V, tokens are 0..V-1 */
  ptrdiff_t d_model;      /**< D, residual stream width */
  ptrdiff_t n_layers;     /**< L */
  ptrdiff_t n_heads;      /**< H, query heads per layer */
  ptrdiff_t n_kv_heads;   /**< H_kv, key/value heads; must divide H */
  ptrdiff_t d_head;       /**< per-head width (d_key = d_value = d_head) */
  ptrdiff_t d_ff;         /**< SwiGLU hidden width */
  ptrdiff_t segment_len;  /**< N, tokens per segment */
  infini_update_rule rule;   /**< memory update, linear or delta */
  infini_position position;  /**< position encoding of the local attention */
  float rope_theta;       /**< RoPE base, finite and > 1 (usually 10000) */
  float norm_eps;         /**< RMSNorm epsilon, finite and > 0 */
  float attn_eps;         /**< retrieval/delta eps, as in ::infini_step_params */
  float attn_scale;       /**< softmax scale, finite (usually 1/sqrt(d_head)) */
} infini_model_config;

/** Opaque model: its config, weights and backend (immutable once loaded). */
typedef struct infini_model infini_model;
/** Opaque stream state: memories, partial segment, position, scratch. */
typedef struct infini_model_state infini_model_state;

/**
 * @brief A valid config of the given shape with the usual defaults:
 *        linear update, RoPE with theta 10000, norm_eps 1e-5, attn_eps 0,
 *        attn_scale 1/sqrt(d_head).
 */
infini_status infini_model_config_init(infini_model_config *config,
                                       ptrdiff_t vocab_size, ptrdiff_t d_model,
                                       ptrdiff_t n_layers, ptrdiff_t n_heads,
                                       ptrdiff_t n_kv_heads, ptrdiff_t d_head,
                                       ptrdiff_t d_ff, ptrdiff_t segment_len);

/** @brief Check a config: sizes >= 1, H_kv divides H, d_head even with
 *         RoPE, parameters finite and in range, no size overflow. */
infini_status infini_model_config_check(const infini_model_config *config);

/**
 * @brief Load a model from a safetensors file (docs/model.md, "Weights").
 * @param path     the safetensors file.
 * @param backend  NULL for the dispatched default.
 * @param out      receives the model; free it with ::infini_model_free.
 * @param err      if not NULL, receives one sentence on failure (which
 *                 tensor, which byte, what was expected).
 * @param errlen   size of @p err in bytes.
 * @return ::INFINI_ERR_IO (cannot read), ::INFINI_ERR_FORMAT (malformed or
 *         truncated), ::INFINI_ERR_VERSION, ::INFINI_ERR_SHAPE (a tensor is
 *         missing or has the wrong shape or dtype for the config).
 */
infini_status infini_model_load(const char *path, const infini_backend *backend,
                                infini_model **out, char *err, size_t errlen);

/**
 * @brief Write deterministic random weights for @p config to a safetensors
 *        file (docs/model.md, "Generated weights": splitmix64 from @p seed).
 *        The file is written atomically.
 */
infini_status infini_model_write_random(const infini_model_config *config,
                                        uint64_t seed, const char *path,
                                        char *err, size_t errlen);

/** @brief Free a model (NULL is ignored). States must be freed first. */
void infini_model_free(infini_model *model);

/** @brief The model's config. */
const infini_model_config *infini_model_get_config(const infini_model *model);

/** @brief The model's backend. */
const infini_backend *infini_model_backend(const infini_model *model);

/**
 * @brief Bytes of a stream's state: the compressive memories
 *        (L * H_kv * d_head * (d_head + 1) floats, the paper's Table 1
 *        count) and the partial-segment cache (keys and values of at most
 *        N tokens per layer). Neither grows with the stream.
 */
infini_status infini_model_state_bytes(const infini_model_config *config,
                                       size_t *memory_bytes,
                                       size_t *segment_bytes);

/** @brief A fresh stream: zero memories, position 0. */
infini_status infini_model_state_create(const infini_model *model,
                                        infini_model_state **out);
/** @brief Free a stream (NULL is ignored). */
void infini_model_state_free(infini_model_state *state);

/** Most threads ::infini_model_state_set_threads accepts. */
#define INFINI_MODEL_MAX_THREADS 64

/**
 * @brief Run this stream's forward passes on @p threads threads (the
 *        caller and threads - 1 workers; 1 to ::INFINI_MODEL_MAX_THREADS,
 *        1 at creation). A call of at least 2 P chunks (segments, or
 *        parts of one), P = min(threads, 2 L), runs as a pipeline: the
 *        layers' 2 L halves (attention, feed-forward) are cut into P
 *        stages of about equal work, one thread each, and the chunks
 *        flow through them (prefill). A shorter call
 *        (token-by-token decoding, one segment) splits each dense layer's
 *        outputs between the threads in blocks fixed when the model was
 *        loaded, and shares out the attention and memory heads. Every
 *        piece is computed the same way whichever thread runs it, so the
 *        results are the same bits for every thread count. The workers
 *        live until the state is freed or the count is set again; so do
 *        the pipeline's buffers (scratch for P - 1 more stages and 2 P
 *        segments' activations), made by the first call that pipelines
 *        (when they cannot be had, such calls split the layers instead).
 * @return ::INFINI_ERR_PARAM for a count out of range,
 *         ::INFINI_ERR_NOMEM when the threads cannot be started (the
 *         state keeps its previous count).
 */
infini_status infini_model_state_set_threads(infini_model_state *state,
                                             int threads);
/** @brief Start the stream over: zero memories, position 0. */
infini_status infini_model_state_reset(infini_model_state *state);
/** @brief Tokens processed so far in this stream. */
infini_status infini_model_state_position(const infini_model_state *state,
                                          uint64_t *tokens);

/**
 * @brief Feed n tokens to the stream.
 * @param model   the model the state was created for.
 * @param state   the stream; advances by n tokens.
 * @param tokens  n token ids, each in 0..V-1.
 * @param n       number of tokens, >= 1.
 * @param logits  NULL, or [n x V] (row stride V): the logits of each token.
 * @param hidden  NULL, or [L x n x D]: the residual stream after each block
 *                (layer l, token i at hidden[(l * n + i) * D]).
 * @return ::INFINI_ERR_PARAM for a token outside 0..V-1 (nothing is then
 *         consumed); ::INFINI_ERR_SHAPE when the state belongs to another
 *         model.
 */
infini_status infini_model_forward(const infini_model *model,
                                   infini_model_state *state,
                                   const int32_t *tokens, ptrdiff_t n,
                                   float *logits, float *hidden);

/** @brief Feed one token (incremental decoding): infini_model_forward
 *         with n = 1. */
infini_status infini_model_step(const infini_model *model,
                                infini_model_state *state, int32_t token,
                                float *logits);

/**
 * @brief Save a stream (every memory, the partial segment, the position)
 *        to a versioned, checksummed file, written atomically.
 */
infini_status infini_model_checkpoint_save(const infini_model *model,
                                           const infini_model_state *state,
                                           const char *path, char *err,
                                           size_t errlen);

/**
 * @brief Restore a stream saved by ::infini_model_checkpoint_save.
 *        On any error the state is left unchanged.
 * @return ::INFINI_ERR_IO, ::INFINI_ERR_FORMAT (truncated, corrupt, bad
 *         checksum), ::INFINI_ERR_VERSION, ::INFINI_ERR_MISMATCH (saved
 *         from another config or other weights).
 */
infini_status infini_model_checkpoint_load(const infini_model *model,
                                           infini_model_state *state,
                                           const char *path, char *err,
                                           size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* INFINI_MODEL_H */

/*
 * src/model.h - the model and stream structures, shared by the model
 * (src/model.c), its weights loader (src/model_weights.c) and checkpoints
 * (src/checkpoint.c). docs/model.md is normative.
 */
#ifndef INFINI_SRC_MODEL_H
#define INFINI_SRC_MODEL_H

#include <stdint.h>

#include "infini.h"
#include "infini_model.h"

/* One block's weights, float32, row-major, PyTorch nn.Linear layout
 * ([out x in], y = x W^T). Names are the safetensors tensor names of
 * docs/model.md with "layers.<l>." in front. */
typedef struct model_layer_weights {
  float *attn_norm; /* attn_norm.weight        [D] */
  float *wq;        /* attn.q_proj.weight      [H*dh x D] */
  float *wk;        /* attn.k_proj.weight      [Hkv*dh x D] */
  float *wv;        /* attn.v_proj.weight      [Hkv*dh x D] */
  float *wo;        /* attn.o_proj.weight      [D x H*dh] */
  float *beta;      /* attn.beta               [H], gate logits */
  float *ffn_norm;  /* ffn_norm.weight         [D] */
  float *w_gate;    /* ffn.gate_proj.weight    [F x D] */
  float *w_up;      /* ffn.up_proj.weight      [F x D] */
  float *w_down;    /* ffn.down_proj.weight    [D x F] */
  /* The dense weights above in the backend's packed layout
   * (infini_backend.linear_pack), made by model_pack_weights; all NULL
   * when the backend has no dense-layer kernel (the portable code then
   * reads the weights as loaded). */
  struct {
    float *wq, *wk, *wv, *wo, *w_gate, *w_up, *w_down;
  } packed;
} model_layer_weights;

struct infini_model {
  infini_model_config config;
  const infini_backend *backend;
  /* SHA-256 of the config and the weights in canonical order (docs/model.md,
   * "Model digest"): a checkpoint records it and is refused by another
   * model. */
  uint8_t digest[32];
  float *embed;   /* embed.weight   [V x D] */
  float *norm;    /* norm.weight    [D] */
  float *lm_head; /* lm_head.weight [V x D] */
  model_layer_weights *layers; /* [L] */
  void *storage;  /* one allocation behind every weight pointer */
  float *lm_head_packed; /* as model_layer_weights.packed */
  void *packed_storage;  /* one allocation behind every packed weight */
};

/* What a thread running a chunk through some layers needs for itself:
 * contexts, the memory heads' counters and the forward pass's buffers.
 * A stream has one; a pipelined call gives each further stage its own
 * (src/model.c, "Pipelined calls"). */
typedef struct model_lane {
  infini_context *ctx;
  infini_context **head_ctx; /* [H] one per head: heads run on the threads */
  /* [H_kv] heads of each group still to read M_{s-1} in the current
   * segment-completing layer (src/model.c, head_task) */
  int *group_left;
  void *scratch; /* forward-pass buffers, owned by src/model.c */
} model_lane;

struct infini_model_state {
  const infini_model *model;
  model_lane lane; /* the calling thread's */
  infini_state **memory; /* [L], each H_kv heads of d_head x d_head */
  /* The partial segment: rows 0..fill-1 hold the keys and values of the
   * tokens of the current segment, fill = tokens % N. Per layer l, each is
   * [N x Hkv*dh] at offset l * N * Hkv * dh:
   *   seg_k     keys before RoPE (memory update reads them, eq. 8/9),
   *   seg_k_pos keys after RoPE (local attention reads them; == seg_k
   *             without RoPE),
   *   seg_v     values. */
  float *seg_k, *seg_k_pos, *seg_v;
  uint64_t tokens; /* tokens processed in this stream */
  struct pool *pool; /* infini_model_state_set_threads; NULL: one thread */
  /* The pipeline of infini_model_state_set_threads: pipe_stages stages
   * (1: none); once a call has made its buffers, stages 1..n_lanes run
   * on lanes[0..n_lanes-1] (stage 0 on `lane`), handing each chunk's
   * activations on through `ring`, ring_slots rows of [N x D]. */
  int pipe_stages;
  model_lane *lanes;
  int n_lanes, ring_slots;
  float *ring;
  /* Tasks of fewer multiply-adds run on the caller alone (src/model.c's
   * MIN_PARALLEL_WORK; the thread test sets 0 to split every run). */
  double min_parallel_work;
  size_t scratch_bytes;
};

/* ---- Internal interface of src/model.c (additions, issue 5) ---------- */

/* Every weight tensor, in the canonical order of docs/model.md ("Tensors"):
 * embed.weight, then for each layer l the ten tensors
 * layers.<l>.{attn_norm.weight, attn.q_proj.weight, attn.k_proj.weight,
 * attn.v_proj.weight, attn.o_proj.weight, attn.beta, ffn_norm.weight,
 * ffn.gate_proj.weight, ffn.up_proj.weight, ffn.down_proj.weight}, then
 * norm.weight and lm_head.weight. The loader, the digest and checkpoints
 * walk this one list instead of spelling the names again. */
#define MODEL_TENSOR_NAME_MAX 64
typedef struct model_tensor {
  char name[MODEL_TENSOR_NAME_MAX]; /* safetensors name */
  int ndim;                         /* 1 or 2 */
  ptrdiff_t shape[2];               /* [rows, cols], or [count, 1] if 1-D */
  ptrdiff_t count;                  /* elements */
  float *data;                      /* NULL from model_tensor_info() */
} model_tensor;

/** Number of tensors of a config: 3 + 10 L. */
ptrdiff_t model_tensor_count(const infini_model_config *config);
/** Tensor i (0 <= i < model_tensor_count) of a config; data = NULL. The
 *  config must have passed infini_model_config_check. */
void model_tensor_info(const infini_model_config *config, ptrdiff_t i,
                       model_tensor *out);
/** Tensor i of a model, with its data pointer. */
void model_tensor_at(const infini_model *model, ptrdiff_t i, model_tensor *out);

/**
 * A model with every weight zeroed and the digest zeroed: validates the
 * config (infini_model_config_check's statuses), takes the backend (NULL:
 * infini_backend_find("default"); ::INFINI_ERR_UNAVAILABLE when it cannot
 * run here), and makes one 64-byte aligned allocation behind every weight
 * pointer (each tensor starts on a 64-byte boundary). The loader then fills
 * the weights and the digest.
 */
infini_status model_alloc(const infini_model_config *config,
                          const infini_backend *backend, infini_model **out);

/**
 * Set model->digest: SHA-256 of the config's metadata lines and every
 * tensor's float32 little-endian bytes in canonical order (docs/model.md,
 * "Model digest"). The loader calls it (src/model_weights.c).
 */
void model_compute_digest(infini_model *model);

/**
 * Pack the dense weights for the backend's dense-layer kernel (once, after
 * the weights are set; a model is immutable afterwards). Nothing to do for
 * a backend without one.
 * @return INFINI_ERR_NOMEM or INFINI_ERR_OVERFLOW when the packed copy does
 *         not fit; the model still runs then, on the portable code.
 */
infini_status model_pack_weights(infini_model *model);

#endif

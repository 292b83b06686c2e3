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
};

struct infini_model_state {
  const infini_model *model;
  infini_context *ctx;
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
  void *scratch;   /* forward-pass buffers, owned by src/model.c */
  size_t scratch_bytes;
};

#endif

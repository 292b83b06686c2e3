/*
 * src/model.c - the decoder-only Infini-Transformer (docs/model.md is
 * normative; (M1)-(M12) are its labels, (6)-(11) and (Sn) the spec's):
 * configs, the weight layout, streams (states) and the float forward pass.
 *
 * The per-token math is the float build of ref/model_ops.c, the same
 * source as the double oracle's, except where the backend has its own
 * kernel: the dense layers (M3, over weights packed at load, split between
 * the stream's threads), RMSNorm (M2) and the SwiGLU gate (M10). The
 * attention runs through the model's backend with the public operators,
 * so a model runs on every backend, plugins included.
 */
#include "config.h"
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/model_ops.h"
#include "src/backends.h"
#include "src/model.h"
#include "src/pool.h"
#include "src/validate.h"

/* ------------------------------------------------------------------------ */
/* Arenas: one allocation carved into 64-byte aligned blocks. The same
 * carving function runs twice, first with base == NULL to count (and to
 * detect overflow), then on the allocation, so the layout is written once. */

#define ALIGN_FLOATS 16 /* 64 bytes */

typedef struct arena {
  float *base;       /* NULL while counting */
  ptrdiff_t used;    /* floats reserved so far */
  infini_status st;  /* INFINI_ERR_OVERFLOW once a size does not fit */
} arena;

static float *arena_take(arena *a, ptrdiff_t rows, ptrdiff_t cols) {
  ptrdiff_t n;
  if (a->st != INFINI_OK)
    return NULL;
  if (checked_mul(rows, cols, &n) != INFINI_OK ||
      n > PTRDIFF_MAX - ALIGN_FLOATS - a->used) {
    a->st = INFINI_ERR_OVERFLOW;
    return NULL;
  }
  float *p = a->base ? a->base + a->used : NULL;
  a->used += (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
  return p;
}

/* Bytes of a counted arena; the count must also index as ptrdiff_t. */
static infini_status arena_bytes(const arena *a, size_t *bytes) {
  if (a->st != INFINI_OK)
    return a->st;
  const size_t limit = (SIZE_MAX < (size_t)PTRDIFF_MAX ? SIZE_MAX
                                                       : (size_t)PTRDIFF_MAX);
  if ((size_t)a->used > limit / sizeof(float))
    return INFINI_ERR_OVERFLOW;
  *bytes = (size_t)a->used * sizeof(float);
  return INFINI_OK;
}

/* calloc of n >= 1 elements; the bound also tells the compiler that n is
 * positive (it warns about negative sizes otherwise). */
static void *calloc_array(ptrdiff_t n, size_t size) {
  if (n < 1 || (size_t)n > (size_t)PTRDIFF_MAX / size)
    return NULL;
  return calloc((size_t)n, size);
}

/* A zeroed 64-byte aligned block of `bytes` (a multiple of 64). */
static float *alloc_zeroed(size_t bytes) {
  float *p = aligned_alloc(64, bytes ? bytes : 64);
  if (p)
    memset(p, 0, bytes);
  return p;
}

/* Allocate a counted arena's floats, zeroed, and rewind it onto them for
 * the carving pass. */
static infini_status arena_alloc(arena *a, size_t *bytes) {
  TRY(arena_bytes(a, bytes));
  float *p = alloc_zeroed(*bytes);
  if (!p)
    return INFINI_ERR_NOMEM;
  *a = (arena){p, 0, INFINI_OK};
  return INFINI_OK;
}

/* ------------------------------------------------------------------------ */
/* The tensor list (docs/model.md, "Tensors"). */

enum { LAYER_TENSORS = 10 };

typedef enum dim { DIM_1, DIM_V, DIM_D, DIM_F, DIM_H, DIM_Q, DIM_KV } dim;

static const struct layer_tensor {
  const char *name;
  size_t offset; /* of the pointer in model_layer_weights */
  dim rows, cols;
} layer_tensors[LAYER_TENSORS] = {
    {"attn_norm.weight", offsetof(model_layer_weights, attn_norm), DIM_D, DIM_1},
    {"attn.q_proj.weight", offsetof(model_layer_weights, wq), DIM_Q, DIM_D},
    {"attn.k_proj.weight", offsetof(model_layer_weights, wk), DIM_KV, DIM_D},
    {"attn.v_proj.weight", offsetof(model_layer_weights, wv), DIM_KV, DIM_D},
    {"attn.o_proj.weight", offsetof(model_layer_weights, wo), DIM_D, DIM_Q},
    {"attn.beta", offsetof(model_layer_weights, beta), DIM_H, DIM_1},
    {"ffn_norm.weight", offsetof(model_layer_weights, ffn_norm), DIM_D, DIM_1},
    {"ffn.gate_proj.weight", offsetof(model_layer_weights, w_gate), DIM_F, DIM_D},
    {"ffn.up_proj.weight", offsetof(model_layer_weights, w_up), DIM_F, DIM_D},
    {"ffn.down_proj.weight", offsetof(model_layer_weights, w_down), DIM_D, DIM_F},
};

/* Sizes of a checked config never overflow (infini_model_config_check). */
static ptrdiff_t dim_size(const infini_model_config *c, dim d) {
  switch (d) {
  case DIM_V: return c->vocab_size;
  case DIM_D: return c->d_model;
  case DIM_F: return c->d_ff;
  case DIM_H: return c->n_heads;
  case DIM_Q: return c->n_heads * c->d_head;
  case DIM_KV: return c->n_kv_heads * c->d_head;
  case DIM_1: break;
  }
  return 1;
}

ptrdiff_t model_tensor_count(const infini_model_config *c) {
  return 3 + LAYER_TENSORS * c->n_layers;
}

static void set_info(model_tensor *t, const char *name, ptrdiff_t rows,
                     ptrdiff_t cols, int ndim) {
  snprintf(t->name, sizeof t->name, "%s", name);
  t->ndim = ndim;
  t->shape[0] = rows;
  t->shape[1] = cols;
  /* The config check carves the weights through here before it knows the
   * sizes fit; the arena reports that overflow, the count must not. */
  t->count = rows <= PTRDIFF_MAX / cols ? rows * cols : 0;
  t->data = NULL;
}

void model_tensor_info(const infini_model_config *c, ptrdiff_t i,
                       model_tensor *t) {
  const ptrdiff_t last_layer = LAYER_TENSORS * c->n_layers;
  if (i == 0) {
    set_info(t, "embed.weight", c->vocab_size, c->d_model, 2);
  } else if (i == last_layer + 1) {
    set_info(t, "norm.weight", c->d_model, 1, 1);
  } else if (i == last_layer + 2) {
    set_info(t, "lm_head.weight", c->vocab_size, c->d_model, 2);
  } else {
    const struct layer_tensor *lt = &layer_tensors[(i - 1) % LAYER_TENSORS];
    char name[MODEL_TENSOR_NAME_MAX];
    snprintf(name, sizeof name, "layers.%td.%s", (i - 1) / LAYER_TENSORS,
             lt->name);
    set_info(t, name, dim_size(c, lt->rows), dim_size(c, lt->cols),
             lt->cols == DIM_1 ? 1 : 2);
  }
}

/* Where tensor i's pointer lives in the model. */
static float **tensor_slot(infini_model *m, ptrdiff_t i) {
  const ptrdiff_t last_layer = LAYER_TENSORS * m->config.n_layers;
  if (i == 0)
    return &m->embed;
  if (i == last_layer + 1)
    return &m->norm;
  if (i == last_layer + 2)
    return &m->lm_head;
  model_layer_weights *w = &m->layers[(i - 1) / LAYER_TENSORS];
  return (float **)((char *)w + layer_tensors[(i - 1) % LAYER_TENSORS].offset);
}

void model_tensor_at(const infini_model *m, ptrdiff_t i, model_tensor *t) {
  model_tensor_info(&m->config, i, t);
  t->data = *tensor_slot((infini_model *)m, i);
}

/* Reserve every tensor in canonical order; with a model, set its pointers. */
static void carve_weights(const infini_model_config *c, arena *a,
                          infini_model *m) {
  for (ptrdiff_t i = 0; i < model_tensor_count(c); i++) {
    model_tensor t;
    model_tensor_info(c, i, &t);
    float *p = arena_take(a, t.shape[0], t.shape[1]);
    if (m)
      *tensor_slot(m, i) = p;
  }
}

/* ------------------------------------------------------------------------ */
/* Per-stream buffers. */

/* The partial-segment cache (src/model.h): per layer N rows of the key and
 * value heads. Keys after RoPE get their own block only with RoPE. */
static void carve_segment(const infini_model_config *c, arena *a,
                          infini_model_state *s) {
  const ptrdiff_t rows = c->n_layers * c->segment_len; /* fits: checked */
  const ptrdiff_t cols = c->n_kv_heads * c->d_head;
  float *k = arena_take(a, rows, cols);
  float *v = arena_take(a, rows, cols);
  float *k_pos = c->position == INFINI_POSITION_ROPE ? arena_take(a, rows, cols) : k;
  if (s) {
    s->seg_k = k;
    s->seg_v = v;
    s->seg_k_pos = k_pos;
  }
}

/* Forward-pass scratch, each sized for one segment (N rows). */
typedef struct model_scratch {
  float *x;        /* [N x D] residual stream of the chunk */
  float *u;        /* [N x D] normalised input of a sub-block */
  float *q;        /* [N x H*dh] queries before RoPE (memory read) */
  float *q_pos;    /* [N x H*dh] queries after RoPE (== q without RoPE) */
  float *attn;     /* [N x H*dh] concatenated heads (11) */
  float *a_mem;    /* [H][N x dh] each head's memory read (7) */
  float *gate;     /* [N x F] */
  float *up;       /* [N x F] */
  float *scores;   /* [H][N] a query row's scores per head (partial segments) */
  float *rope_cos; /* [N x dh/2] cos(p theta_i), p = position in segment */
  float *rope_sin; /* [N x dh/2] */
} model_scratch;

static void carve_scratch(const infini_model_config *c, arena *a,
                          model_scratch *s) {
  const ptrdiff_t n = c->segment_len, hq = c->n_heads * c->d_head;
  const bool rope = c->position == INFINI_POSITION_ROPE;
  s->x = arena_take(a, n, c->d_model);
  s->u = arena_take(a, n, c->d_model);
  s->q = arena_take(a, n, hq);
  s->q_pos = rope ? arena_take(a, n, hq) : s->q;
  s->attn = arena_take(a, n, hq);
  s->a_mem = arena_take(a, n, hq); /* a block per head: heads run in parallel */
  s->gate = arena_take(a, n, c->d_ff);
  s->up = arena_take(a, n, c->d_ff);
  s->scores = arena_take(a, n, c->n_heads);
  s->rope_cos = rope ? arena_take(a, n, c->d_head / 2) : NULL;
  s->rope_sin = rope ? arena_take(a, n, c->d_head / 2) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Configs. */

static infini_status check_config_params(const infini_model_config *c) {
  if (c->rule != INFINI_UPDATE_LINEAR && c->rule != INFINI_UPDATE_DELTA)
    return INFINI_ERR_PARAM;
  if (c->position != INFINI_POSITION_NONE && c->position != INFINI_POSITION_ROPE)
    return INFINI_ERR_PARAM;
  if (c->position == INFINI_POSITION_ROPE) {
    if (c->d_head % 2 != 0)
      return INFINI_ERR_SHAPE; /* RoPE rotates pairs (i, i + dh/2) */
    if (!(isfinite(c->rope_theta) && c->rope_theta > 1.0f))
      return INFINI_ERR_PARAM;
  }
  if (!(isfinite(c->norm_eps) && c->norm_eps > 0.0f))
    return INFINI_ERR_PARAM;
  TRY(check_eps(c->attn_eps));
  return check_scale(c->attn_scale);
}

/* The weights' arena size without walking the 3 + 10 L tensors (a config
 * declaring 10^15 layers must be refused at once, not after 10^16 steps):
 * every layer carves the same sizes, so one layer's floats times L, with
 * the overflow checked, plus the three model-wide tensors. */
static infini_status weights_bytes(const infini_model_config *c, size_t *bytes) {
  arena layer = {NULL, 0, INFINI_OK}, whole = layer;
  model_tensor t;
  for (ptrdiff_t i = 1; i <= LAYER_TENSORS; i++) {
    model_tensor_info(c, i, &t);
    arena_take(&layer, t.shape[0], t.shape[1]);
  }
  const ptrdiff_t model_wide[3] = {0, LAYER_TENSORS * c->n_layers + 1,
                                   LAYER_TENSORS * c->n_layers + 2};
  for (int k = 0; k < 3; k++) {
    model_tensor_info(c, model_wide[k], &t);
    arena_take(&whole, t.shape[0], t.shape[1]);
  }
  TRY(layer.st);
  TRY(whole.st);
  ptrdiff_t layers;
  TRY(checked_mul(layer.used, c->n_layers, &layers));
  if (layers > PTRDIFF_MAX - whole.used)
    return INFINI_ERR_OVERFLOW;
  whole.used += layers;
  return arena_bytes(&whole, bytes);
}

/* Every product the model and a stream allocate or index fits. */
static infini_status check_config_sizes(const infini_model_config *c) {
  ptrdiff_t hq, hkv, rows;
  size_t bytes;
  TRY(checked_mul(c->n_heads, c->d_head, &hq));
  TRY(checked_mul(c->n_kv_heads, c->d_head, &hkv));
  TRY(checked_mul(c->n_layers, c->segment_len, &rows));
  if (c->n_layers > (PTRDIFF_MAX - 3) / LAYER_TENSORS)
    return INFINI_ERR_OVERFLOW;
  arena segment = {NULL, 0, INFINI_OK}, scratch = segment;
  model_scratch unused;
  TRY(weights_bytes(c, &bytes));
  carve_segment(c, &segment, NULL);
  carve_scratch(c, &scratch, &unused);
  TRY(arena_bytes(&segment, &bytes));
  TRY(arena_bytes(&scratch, &bytes));
  size_t memory;
  return infini_state_bytes(c->n_kv_heads, c->d_head, c->d_head, &memory);
}

infini_status infini_model_config_check(const infini_model_config *c) {
  if (!c)
    return INFINI_ERR_NULL;
  TRY(check_sizes(c->vocab_size, c->d_model, c->n_layers));
  TRY(check_sizes(c->n_heads, c->n_kv_heads, c->d_head));
  TRY(check_sizes(c->d_ff, c->segment_len, 1));
  if (c->n_heads % c->n_kv_heads != 0)
    return INFINI_ERR_SHAPE;
  TRY(check_config_params(c));
  return check_config_sizes(c);
}

infini_status infini_model_config_init(infini_model_config *c, ptrdiff_t vocab,
                                       ptrdiff_t d_model, ptrdiff_t n_layers,
                                       ptrdiff_t n_heads, ptrdiff_t n_kv_heads,
                                       ptrdiff_t d_head, ptrdiff_t d_ff,
                                       ptrdiff_t segment_len) {
  if (!c)
    return INFINI_ERR_NULL;
  const infini_model_config init = {
      .vocab_size = vocab, .d_model = d_model, .n_layers = n_layers,
      .n_heads = n_heads, .n_kv_heads = n_kv_heads, .d_head = d_head,
      .d_ff = d_ff, .segment_len = segment_len,
      .rule = INFINI_UPDATE_LINEAR, .position = INFINI_POSITION_ROPE,
      .rope_theta = 10000.0f, .norm_eps = 1e-5f, .attn_eps = 0.0f,
      .attn_scale = d_head >= 1 ? infini_default_scale(d_head) : 1.0f};
  *c = init;
  return infini_model_config_check(c);
}

/* ------------------------------------------------------------------------ */
/* Models. */

static infini_status pick_backend(const infini_backend **be) {
  if (!*be)
    TRY(infini_backend_find("default", be));
  TRY(infini_backend_check(*be));
  return (*be)->availability() == INFINI_UNAVAILABLE ? INFINI_ERR_UNAVAILABLE
                                                     : INFINI_OK;
}

infini_status model_alloc(const infini_model_config *c,
                          const infini_backend *backend, infini_model **out) {
  if (!out)
    return INFINI_ERR_NULL;
  TRY(infini_model_config_check(c));
  TRY(pick_backend(&backend));
  arena a = {NULL, 0, INFINI_OK};
  size_t bytes;
  carve_weights(c, &a, NULL); /* sizes fit: the config check carved them */

  infini_model *m = calloc(1, sizeof *m);
  if (!m)
    return INFINI_ERR_NOMEM;
  m->config = *c;
  m->backend = backend;
  m->layers = calloc_array(c->n_layers, sizeof *m->layers);
  if (!m->layers || arena_alloc(&a, &bytes) != INFINI_OK) {
    infini_model_free(m);
    return INFINI_ERR_NOMEM;
  }
  m->storage = a.base;
  carve_weights(c, &a, m);
  *out = m;
  return INFINI_OK;
}

/* ------------------------------------------------------------------------ */
/* Dense layers (M3): packed once for the backend's kernel. */

/* A dense weight is packed in blocks of DENSE_BLOCK output columns, each
 * block on its own (linear_pack of rows o0..o0+DENSE_BLOCK-1 of W), so the
 * threads of a stream can split a layer's outputs whatever the backend's
 * layout. The blocks are fixed at load, so the results do not depend on
 * the thread count. Block b starts at b * dense_stride bytes. */
#define DENSE_BLOCK 128

static ptrdiff_t dense_blocks(ptrdiff_t d_out) {
  return (d_out + DENSE_BLOCK - 1) / DENSE_BLOCK;
}

/* Bytes of one packed block of `rows` outputs, 64-byte aligned; SIZE_MAX
 * when it does not fit. */
static size_t block_bytes(const infini_backend *be, ptrdiff_t d_in,
                          ptrdiff_t rows) {
  const size_t bytes = be->linear_packed_bytes(d_in, rows);
  return bytes > SIZE_MAX - 63 ? SIZE_MAX : (bytes + 63) / 64 * 64;
}

static size_t dense_stride(const infini_backend *be, ptrdiff_t d_in,
                           ptrdiff_t d_out) {
  return block_bytes(be, d_in, d_out < DENSE_BLOCK ? d_out : DENSE_BLOCK);
}

/* Reserve (base == NULL) or fill the packed blocks of W [d_out x d_in] at
 * *used bytes into base; *used becomes SIZE_MAX once a size does not fit. */
static void pack_weight(const infini_backend *be, char *base, size_t *used,
                        const float *w, ptrdiff_t d_in, ptrdiff_t d_out,
                        float **slot) {
  const size_t stride = dense_stride(be, d_in, d_out);
  const ptrdiff_t nb = dense_blocks(d_out);
  const ptrdiff_t last = d_out - (nb - 1) * DENSE_BLOCK;
  const size_t last_bytes = block_bytes(be, d_in, last);
  if (*used == SIZE_MAX || stride == SIZE_MAX || last_bytes > SIZE_MAX - *used ||
      (stride > 0 && (size_t)(nb - 1) > (SIZE_MAX - *used - last_bytes) / stride)) {
    *used = SIZE_MAX;
    return;
  }
  if (base) {
    *slot = (float *)(base + *used);
    for (ptrdiff_t b = 0; b < nb; b++)
      be->linear_pack(d_in, b + 1 < nb ? DENSE_BLOCK : last,
                      w + b * DENSE_BLOCK * d_in,
                      (float *)(base + *used + (size_t)b * stride));
  }
  *used += (size_t)(nb - 1) * stride + last_bytes;
}

static void pack_all(infini_model *m, char *base, size_t *used) {
  const infini_model_config *c = &m->config;
  const infini_backend *be = m->backend;
  const ptrdiff_t d = c->d_model, f = c->d_ff;
  const ptrdiff_t hq = c->n_heads * c->d_head, hkv = c->n_kv_heads * c->d_head;
  for (ptrdiff_t l = 0; l < c->n_layers; l++) {
    model_layer_weights *w = &m->layers[l];
    pack_weight(be, base, used, w->wq, d, hq, &w->packed.wq);
    pack_weight(be, base, used, w->wk, d, hkv, &w->packed.wk);
    pack_weight(be, base, used, w->wv, d, hkv, &w->packed.wv);
    pack_weight(be, base, used, w->wo, hq, d, &w->packed.wo);
    pack_weight(be, base, used, w->w_gate, d, f, &w->packed.w_gate);
    pack_weight(be, base, used, w->w_up, d, f, &w->packed.w_up);
    pack_weight(be, base, used, w->w_down, f, d, &w->packed.w_down);
  }
  pack_weight(be, base, used, m->lm_head, d, c->vocab_size, &m->lm_head_packed);
}

infini_status model_pack_weights(infini_model *m) {
  if (!INFINI_BACKEND_ENTRY(m->backend, linear))
    return INFINI_OK; /* the portable code reads the weights as loaded */
  size_t bytes = 0, again = 0;
  pack_all(m, NULL, &bytes);
  if (bytes == SIZE_MAX)
    return INFINI_ERR_OVERFLOW;
  char *base = aligned_alloc(64, bytes ? bytes : 64);
  if (!base)
    return INFINI_ERR_NOMEM;
  free(m->packed_storage);
  m->packed_storage = base;
  pack_all(m, base, &again);
  return INFINI_OK;
}

/* Tasks smaller than this many multiply-adds run on the caller alone: the
 * threads' hand-over (about a microsecond when they spin, tens when they
 * sleep) would cost more than the work (the tiny preset's heads). */
#define MIN_PARALLEL_WORK ((double)(1 << 18))
/* What one exp of the feature map costs, in multiply-adds (see the memory
 * update in attention()). */
#define EXP_COST_MACS 64.0

/* fn(arg, 0..n-1), each task about `work` multiply-adds: on the stream's
 * threads, or in order on the caller's. */
static void run_tasks(const infini_model_state *s, int n, double work, pool_task fn,
                      void *arg) {
  if (s->pool && n > 1 && work >= s->min_parallel_work)
    pool_run(s->pool, n, fn, arg);
  else
    for (int t = 0; t < n; t++)
      fn(arg, t);
}

/* What a dense task does with its block of y once computed: each task
 * owns its columns, so these run in parallel instead of on the caller
 * between two runs (where the other threads only wait), doing per element
 * exactly what the serial code did. */
typedef struct dense_after {
  float *residual; /* (M9), (M10) residual[:, block] += y[:, block] */
  ptrdiff_t ld_residual;
  /* (M5) rot[:, block] = RoPE(y[:, block]) at positions p0.., heads of
   * d_head (a block holds whole heads: DENSE_BLOCK % d_head == 0) */
  float *rot;
  ptrdiff_t ld_rot, p0, d_head;
  const float *rope_cos, *rope_sin;
  /* (M10) y[:, block] = silu(y[:, block]) up[:, block]: the up projection
   * is an earlier job of the same set, run by the same task (by_block) */
  const float *swiglu_up;
  ptrdiff_t ld_up;
} dense_after;

/* One dense layer y = x W^T on the packed W: its blocks are tasks. */
typedef struct dense_job {
  ptrdiff_t d_in, d_out, ldx, ldy;
  const float *x;
  const char *packed;
  size_t stride;
  float *y;
  dense_after after;
} dense_job;

/* Dense layers that read the same rows and run as one set of tasks (q, k,
 * v; up, gate), so the stream's threads meet once for all of them. Task t
 * is block t of the jobs in order, or, by_block (jobs of one width), block
 * t of every job, so that a job's follow-up can read an earlier job's
 * block (SwiGLU). */
#define DENSE_MAX_JOBS 3
typedef struct dense_set {
  const infini_backend *be;
  ptrdiff_t n;
  int n_jobs;
  bool by_block;
  dense_job job[DENSE_MAX_JOBS];
  int failed;
} dense_set;

/* (M5) RoPE of n rows of n_heads heads: the backend's kernel when it has
 * one (the same bits: rope in include/infini.h). */
static infini_status rope_rows(const infini_backend *be, ptrdiff_t n,
                               ptrdiff_t n_heads, ptrdiff_t d_head, ptrdiff_t p0,
                               const float *cos_t, const float *sin_t,
                               const float *x, ptrdiff_t ldx, float *y,
                               ptrdiff_t ldy) {
  if (!INFINI_BACKEND_ENTRY(be, rope)) {
    infini_ref_rope_f32(n, n_heads, d_head, p0, cos_t, sin_t, x, ldx, y, ldy);
    return INFINI_OK;
  }
  return be->rope(n, n_heads, d_head, p0, cos_t, sin_t, x, ldx, y, ldy) == INFINI_OK
             ? INFINI_OK
             : INFINI_ERR_BACKEND;
}

/* (M10) g = silu(g) up: the backend's kernel when it has one. */
static infini_status swiglu(const infini_backend *be, ptrdiff_t count, float *g,
                            const float *up) {
  if (!INFINI_BACKEND_ENTRY(be, swiglu)) {
    infini_ref_swiglu_f32(count, g, up);
    return INFINI_OK;
  }
  return be->swiglu(count, g, up) == INFINI_OK ? INFINI_OK : INFINI_ERR_BACKEND;
}

/* The block's follow-up (dense_after) on columns o0 .. o0 + cols - 1. */
static infini_status dense_after_block(const infini_backend *be,
                                       const dense_job *j, ptrdiff_t n,
                                       ptrdiff_t o0, ptrdiff_t cols) {
  const dense_after *a = &j->after;
  if (a->swiglu_up)
    for (ptrdiff_t r = 0; r < n; r++)
      TRY(swiglu(be, cols, j->y + r * j->ldy + o0, a->swiglu_up + r * a->ld_up + o0));
  if (a->residual)
    infini_ref_add_rows_f32(n, cols, j->y + o0, j->ldy, a->residual + o0,
                            a->ld_residual);
  if (a->rot)
    return rope_rows(be, n, cols / a->d_head, a->d_head, a->p0, a->rope_cos,
                     a->rope_sin, j->y + o0, j->ldy, a->rot + o0, a->ld_rot);
  return INFINI_OK;
}

/* Block b of job j and its follow-up. */
static infini_status dense_block(const dense_set *set, const dense_job *j,
                                 ptrdiff_t b) {
  const ptrdiff_t o0 = b * DENSE_BLOCK;
  const ptrdiff_t cols = j->d_out - o0 < DENSE_BLOCK ? j->d_out - o0 : DENSE_BLOCK;
  const float *packed = (const float *)(j->packed + (size_t)b * j->stride);
  if (set->be->linear(set->n, j->d_in, cols, j->x, j->ldx, packed, j->y + o0,
                      j->ldy) != INFINI_OK)
    return INFINI_ERR_BACKEND;
  return dense_after_block(set->be, j, set->n, o0, cols);
}

static void dense_task(void *arg, int t) {
  dense_set *set = arg;
  const dense_job *j = set->job;
  infini_status st = INFINI_OK;
  if (set->by_block)
    for (int i = 0; i < set->n_jobs && st == INFINI_OK; i++)
      st = dense_block(set, &j[i], t);
  else {
    while (t >= dense_blocks(j->d_out))
      t -= (int)dense_blocks(j++->d_out);
    st = dense_block(set, j, t);
  }
  if (st != INFINI_OK)
    __atomic_store_n(&set->failed, 1, __ATOMIC_RELAXED);
}

/* A dense layer of a set: (M3) y = x W^T, W packed (or NULL) and as
 * loaded, then its follow-up. */
typedef struct dense_layer {
  ptrdiff_t d_in, d_out;
  const float *x;
  ptrdiff_t ldx;
  const float *w, *packed;
  float *y;
  ptrdiff_t ldy;
  dense_after after;
} dense_layer;

/* The layers of `layers` over n rows: the backend's kernel on the packed
 * weights when there are some, every block of every layer one task of the
 * stream's threads; else the portable float code on W as loaded. */
static infini_status dense_layers(const infini_model_state *s, ptrdiff_t n,
                                  int count, bool by_block,
                                  const dense_layer *layers) {
  const infini_backend *be = s->model->backend;
  dense_set set = {be, n, count, by_block, {{0}}, 0};
  int tasks = 0;
  for (int i = 0; i < count; i++) {
    const dense_layer *d = &layers[i];
    if (!d->packed) {
      const dense_job whole = {d->d_in, d->d_out, d->ldx, d->ldy, d->x,
                               NULL, 0, d->y, d->after};
      infini_ref_linear_f32(n, d->d_in, d->d_out, d->x, d->ldx, d->w, d->y, d->ldy);
      if (dense_after_block(be, &whole, n, 0, d->d_out) != INFINI_OK)
        set.failed = 1;
      continue;
    }
    set.job[i] = (dense_job){d->d_in, d->d_out, d->ldx, d->ldy, d->x,
                             (const char *)d->packed,
                             dense_stride(be, d->d_in, d->d_out), d->y, d->after};
    tasks += (int)dense_blocks(d->d_out);
  }
  double work = (double)n * layers[0].d_in * DENSE_BLOCK;
  if (by_block) {
    tasks /= count;
    work *= count;
  }
  if (tasks > 0) /* the packed weights are all or none (model_pack_weights) */
    run_tasks(s, tasks, work, dense_task, &set);
  return set.failed ? INFINI_ERR_BACKEND : INFINI_OK;
}

/* One dense layer (M3) y = x W^T, then its follow-up. */
static infini_status dense(const infini_model_state *s, ptrdiff_t n,
                           ptrdiff_t d_in, ptrdiff_t d_out, const float *x,
                           ptrdiff_t ldx, const float *w, const float *packed,
                           float *y, ptrdiff_t ldy, dense_after after) {
  const dense_layer one = {d_in, d_out, x, ldx, w, packed, y, ldy, after};
  return dense_layers(s, n, 1, false, &one);
}

/* (M2) RMSNorm rows: the backend's kernel when it has one. */
static infini_status norm_rows(const infini_model *m, ptrdiff_t n,
                               const float *x, const float *w, float *y) {
  const ptrdiff_t d = m->config.d_model;
  const float eps = m->config.norm_eps;
  if (!INFINI_BACKEND_ENTRY(m->backend, rmsnorm)) {
    infini_ref_rmsnorm_f32(n, d, x, d, w, eps, y, d);
    return INFINI_OK;
  }
  return m->backend->rmsnorm(n, d, x, d, w, eps, y, d) == INFINI_OK
             ? INFINI_OK
             : INFINI_ERR_BACKEND;
}

void infini_model_free(infini_model *m) {
  if (!m)
    return;
  free(m->packed_storage);
  free(m->storage);
  free(m->layers);
  free(m);
}

const infini_model_config *infini_model_get_config(const infini_model *m) {
  return m ? &m->config : NULL;
}

const infini_backend *infini_model_backend(const infini_model *m) {
  return m ? m->backend : NULL;
}

/* ------------------------------------------------------------------------ */
/* Streams. */

infini_status infini_model_state_bytes(const infini_model_config *c,
                                       size_t *memory_bytes,
                                       size_t *segment_bytes) {
  if (!memory_bytes || !segment_bytes)
    return INFINI_ERR_NULL;
  TRY(infini_model_config_check(c));
  size_t per_layer;
  TRY(infini_state_bytes(c->n_kv_heads, c->d_head, c->d_head, &per_layer));
  if (per_layer > SIZE_MAX / (size_t)c->n_layers)
    return INFINI_ERR_OVERFLOW;
  /* The cache's blocks without their alignment padding: K, V and, with
   * RoPE, rotated K, each L N rows of H_kv dh (fits: the config check
   * carved them). */
  const size_t blocks = c->position == INFINI_POSITION_ROPE ? 3 : 2;
  *memory_bytes = per_layer * (size_t)c->n_layers;
  *segment_bytes = blocks * (size_t)(c->n_layers * c->segment_len) *
                   (size_t)(c->n_kv_heads * c->d_head) * sizeof(float);
  return INFINI_OK;
}

/* A lane's buffers: contexts, counters, scratch with the RoPE tables. */
static void lane_free(const infini_model_config *c, model_lane *ln) {
  if (ln->head_ctx)
    for (ptrdiff_t h = 0; h < c->n_heads; h++)
      infini_context_free(ln->head_ctx[h]);
  free(ln->head_ctx);
  free(ln->group_left);
  infini_context_free(ln->ctx);
  free(ln->scratch);
  *ln = (model_lane){0};
}

static infini_status lane_buffers(const infini_model *m, model_lane *ln,
                                  size_t *scratch_bytes) {
  const infini_model_config *c = &m->config;
  TRY(infini_context_create(m->backend, &ln->ctx));
  ln->head_ctx = calloc_array(c->n_heads, sizeof *ln->head_ctx);
  ln->group_left = calloc_array(c->n_kv_heads, sizeof *ln->group_left);
  if (!ln->head_ctx || !ln->group_left)
    return INFINI_ERR_NOMEM;
  for (ptrdiff_t h = 0; h < c->n_heads; h++)
    TRY(infini_context_create(m->backend, &ln->head_ctx[h]));
  model_scratch sc;
  arena a = {NULL, 0, INFINI_OK};
  carve_scratch(c, &a, &sc);
  TRY(arena_alloc(&a, scratch_bytes));
  ln->scratch = a.base;
  carve_scratch(c, &a, &sc);
  if (c->position == INFINI_POSITION_ROPE) /* (M5) angles p theta^(-2i/dh) */
    infini_ref_rope_table_f32(c->segment_len, c->d_head, c->rope_theta,
                              sc.rope_cos, sc.rope_sin);
  return INFINI_OK;
}

/* A lane, or NOMEM and nothing held. */
static infini_status lane_create(const infini_model *m, model_lane *ln,
                                 size_t *scratch_bytes) {
  *ln = (model_lane){0};
  const infini_status st = lane_buffers(m, ln, scratch_bytes);
  if (st != INFINI_OK)
    lane_free(&m->config, ln);
  return st;
}

/* The pipeline's lanes and ring (no pool). */
typedef struct pipe_parts {
  model_lane *lanes;
  int n_lanes, ring_slots;
  float *ring;
} pipe_parts;

static void pipe_parts_free(const infini_model_config *c, pipe_parts *pp) {
  for (int i = 0; pp->lanes && i < pp->n_lanes; i++)
    lane_free(c, &pp->lanes[i]);
  free(pp->lanes);
  free(pp->ring);
  *pp = (pipe_parts){0};
}

/* A ring slot: a chunk's rows x, [N x D], rounded up to 64 bytes (the
 * config check bounded N x D). */
static ptrdiff_t ring_slot_floats(const infini_model_config *c) {
  return (c->segment_len * c->d_model + 15) / 16 * 16;
}

/* The parts of a pipeline of `stages` stages (none for 1): a lane per
 * stage after the first and PIPE_SLOTS_PER_STAGE ring slots per stage. */
#define PIPE_SLOTS_PER_STAGE 2
static infini_status pipe_parts_create(const infini_model *m, int stages,
                                       pipe_parts *pp) {
  const infini_model_config *c = &m->config;
  *pp = (pipe_parts){0};
  if (stages < 2)
    return INFINI_OK;
  size_t unused;
  ptrdiff_t floats;
  pp->ring_slots = PIPE_SLOTS_PER_STAGE * stages;
  TRY(checked_mul(pp->ring_slots, ring_slot_floats(c), &floats));
  if ((size_t)floats > SIZE_MAX / sizeof(float))
    return INFINI_ERR_OVERFLOW;
  pp->lanes = calloc_array(stages - 1, sizeof *pp->lanes);
  pp->ring = alloc_zeroed((size_t)floats * sizeof(float));
  infini_status st = pp->lanes && pp->ring ? INFINI_OK : INFINI_ERR_NOMEM;
  for (; st == INFINI_OK && pp->n_lanes < stages - 1; pp->n_lanes++)
    st = lane_create(m, &pp->lanes[pp->n_lanes], &unused);
  if (st != INFINI_OK)
    pipe_parts_free(c, pp);
  return st;
}

void infini_model_state_free(infini_model_state *s) {
  if (!s)
    return;
  const infini_model_config *c = &s->model->config;
  if (s->memory)
    for (ptrdiff_t l = 0; l < c->n_layers; l++)
      infini_state_free(s->memory[l]);
  free(s->memory);
  free(s->seg_k); /* the segment cache's one allocation starts at seg_k */
  lane_free(c, &s->lane);
  pipe_parts pp = {s->lanes, s->n_lanes, s->ring_slots, s->ring};
  pipe_parts_free(c, &pp);
  pool_free(s->pool);
  free(s);
}

/* Stages of a pipelined call on `threads` threads: one per thread, at
 * least a unit (half a layer) each. */
static int pipe_stages(const infini_model_config *c, int threads) {
  return 2 * c->n_layers < threads ? (int)(2 * c->n_layers) : threads;
}

infini_status infini_model_state_set_threads(infini_model_state *s,
                                             int threads) {
  if (!s)
    return INFINI_ERR_NULL;
  if (threads < 1 || threads > INFINI_MODEL_MAX_THREADS)
    return INFINI_ERR_PARAM;
  const infini_model_config *c = &s->model->config;
  pool *p = NULL;
  if (threads > 1)
    TRY(pool_create(threads, &p));
  pool_free(s->pool);
  s->pool = p;
  /* the pipeline's buffers come with its first call (ensure_pipeline) */
  pipe_parts old = {s->lanes, s->n_lanes, s->ring_slots, s->ring};
  pipe_parts_free(c, &old);
  s->lanes = NULL;
  s->n_lanes = s->ring_slots = 0;
  s->ring = NULL;
  s->pipe_stages = pipe_stages(c, threads);
  return INFINI_OK;
}

/* The pipeline's buffers, made on its first call: a stream that never
 * gets a long call (decoding) never holds them. False when they cannot
 * be had; the call then splits each layer instead (the same bits). */
static bool ensure_pipeline(infini_model_state *s) {
  if (s->n_lanes == s->pipe_stages - 1 && s->ring)
    return true;
  pipe_parts pp;
  if (pipe_parts_create(s->model, s->pipe_stages, &pp) != INFINI_OK)
    return false;
  s->lanes = pp.lanes;
  s->n_lanes = pp.n_lanes;
  s->ring_slots = pp.ring_slots;
  s->ring = pp.ring;
  return true;
}

/* The stream's buffers: memories, segment cache, the caller's lane. */
static infini_status state_buffers(infini_model_state *s) {
  const infini_model_config *c = &s->model->config;
  s->memory = calloc_array(c->n_layers, sizeof *s->memory);
  if (!s->memory)
    return INFINI_ERR_NOMEM;
  for (ptrdiff_t l = 0; l < c->n_layers; l++)
    TRY(infini_state_create(c->n_kv_heads, c->d_head, c->d_head, &s->memory[l]));

  size_t seg_bytes;
  arena a = {NULL, 0, INFINI_OK};
  carve_segment(c, &a, NULL);
  TRY(arena_alloc(&a, &seg_bytes));
  carve_segment(c, &a, s); /* seg_k is the allocation's start */
  return lane_create(s->model, &s->lane, &s->scratch_bytes);
}

infini_status infini_model_state_create(const infini_model *m,
                                        infini_model_state **out) {
  if (!m || !out)
    return INFINI_ERR_NULL;
  infini_model_state *s = calloc(1, sizeof *s);
  if (!s)
    return INFINI_ERR_NOMEM;
  s->model = m;
  s->min_parallel_work = MIN_PARALLEL_WORK;
  const infini_status st = state_buffers(s);
  if (st != INFINI_OK) {
    infini_model_state_free(s);
    return st;
  }
  *out = s;
  return INFINI_OK;
}

infini_status infini_model_state_reset(infini_model_state *s) {
  if (!s)
    return INFINI_ERR_NULL;
  const infini_model_config *c = &s->model->config;
  for (ptrdiff_t l = 0; l < c->n_layers; l++)
    TRY(infini_state_reset(s->memory[l]));
  /* The cache's rows beyond the fill are never read; zeroing them anyway
   * makes a reset stream byte-identical to a fresh one (checkpoints). */
  size_t seg_bytes;
  arena a = {NULL, 0, INFINI_OK};
  carve_segment(c, &a, NULL);
  TRY(arena_bytes(&a, &seg_bytes));
  memset(s->seg_k, 0, seg_bytes);
  s->tokens = 0;
  return INFINI_OK;
}

infini_status infini_model_state_position(const infini_model_state *s,
                                          uint64_t *tokens) {
  if (!s || !tokens)
    return INFINI_ERR_NULL;
  *tokens = s->tokens;
  return INFINI_OK;
}

/* ------------------------------------------------------------------------ */
/* The forward pass (docs/model.md, (M1)-(M12)). A call is cut at segment
 * boundaries into chunks: c tokens at positions f..f+c-1 of one segment
 * (f = tokens of that segment already processed). */

typedef struct chunk {
  ptrdiff_t f, c;
} chunk;

/* Everything is checked before anything is consumed. */
static infini_status check_forward(const infini_model *m,
                                   const infini_model_state *s,
                                   const int32_t *tokens, ptrdiff_t n,
                                   const float *logits, const float *hidden) {
  if (!m || !s || !tokens)
    return INFINI_ERR_NULL;
  TRY(check_sizes(n, 1, 1));
  if (s->model != m)
    return INFINI_ERR_SHAPE;
  const infini_model_config *c = &m->config;
  ptrdiff_t n_logits, n_rows, n_hidden;
  TRY(checked_mul(n, c->vocab_size, &n_logits));
  TRY(checked_mul(n, c->n_layers, &n_rows));
  TRY(checked_mul(n_rows, c->d_model, &n_hidden));
  span written[2] = {{NULL, 0}, {NULL, 0}};
  const span read = float_span(tokens, (size_t)n); /* int32 = float bytes */
  if (logits)
    TRY(check_matrix(logits, 1, n_logits, n_logits, &written[0]));
  if (hidden)
    TRY(check_matrix(hidden, 1, n_hidden, n_hidden, &written[1]));
  TRY(check_disjoint(written, 2, &read, 1));
  for (ptrdiff_t i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
      return INFINI_ERR_PARAM;
  /* A NaN gate would stop the pass in the middle of a layer (infini_mix
   * refuses it); refuse it before anything changes. */
  for (ptrdiff_t l = 0; l < c->n_layers; l++)
    for (ptrdiff_t h = 0; h < c->n_heads; h++)
      TRY(check_beta(m->layers[l].beta[h]));
  return INFINI_OK;
}

/* (M6) One query row of a partial segment against the keys 0..count-1 of
 * its segment: the spec's causal softmax (S10), (S11) for a row whose
 * earlier rows were processed by an earlier call, so the square causal
 * operator does not apply. Scalar: it only runs on rows that continue a
 * segment (token-by-token decoding), where it is O(N d) per row.
 *   s_j = scale q . k_j, mx = max_j s_j, out = sum_j e^(s_j-mx) v_j / sum_j e^(s_j-mx) */
static void attend_row(const float *q, const float *k, ptrdiff_t ldk,
                       const float *v, ptrdiff_t ldv, ptrdiff_t count,
                       ptrdiff_t dh, float scale, float *scores, float *out) {
  float mx = 0, sum = 0;
  for (ptrdiff_t j = 0; j < count; j++) {
    float dot = 0;
    for (ptrdiff_t c = 0; c < dh; c++)
      dot += q[c] * k[j * ldk + c];
    scores[j] = scale * dot;
    if (j == 0 || scores[j] > mx || scores[j] != scores[j])
      mx = scores[j]; /* a NaN score makes the maximum NaN, as in (S16) */
  }
  for (ptrdiff_t c = 0; c < dh; c++)
    out[c] = 0;
  for (ptrdiff_t j = 0; j < count; j++) {
    const float p = expf(scores[j] - mx);
    sum += p;
    for (ptrdiff_t c = 0; c < dh; c++)
      out[c] += p * v[j * ldv + c];
  }
  for (ptrdiff_t c = 0; c < dh; c++)
    out[c] /= sum;
}

/* The layer's segment cache, rows from the segment's first token. */
typedef struct layer_cache {
  float *k, *k_pos, *v; /* [N x Hkv*dh] each */
} layer_cache;

static layer_cache cache_of(const infini_model_state *s, ptrdiff_t l) {
  const infini_model_config *c = &s->model->config;
  const ptrdiff_t off = l * c->segment_len * c->n_kv_heads * c->d_head;
  const layer_cache lc = {s->seg_k + off, s->seg_k_pos + off, s->seg_v + off};
  return lc;
}

/* (M4), (M6), (M7) for head h over the chunk: into sc->attn's head block.
 * Each head has its own context and scratch, so the heads can run on the
 * stream's threads in any order with the same bits. */
static infini_status attend_head(const infini_model_state *s, const model_scratch *sc,
                                 ptrdiff_t l, ptrdiff_t h, chunk ch) {
  const infini_model_config *c = &s->model->config;
  const ptrdiff_t n = c->segment_len, dh = c->d_head, hq = c->n_heads * dh;
  const ptrdiff_t hkv = c->n_kv_heads * dh, g = h / (c->n_heads / c->n_kv_heads);
  const infini_head_shape rows = {ch.c, dh, dh};
  const layer_cache lc = cache_of(s, l);
  const float *k = lc.k_pos + g * dh, *v = lc.v + g * dh;
  float *mem, *z, *out = sc->attn + h * dh, *a_mem = sc->a_mem + h * n * dh;
  infini_context *ctx = s->lane.head_ctx[h];
  ptrdiff_t ldm;
  TRY(infini_state_head(s->memory[l], g, &mem, &ldm, &z));
  /* (M4) A_mem from the un-rotated queries and M_{s-1}, z_{s-1} (7) */
  TRY(infini_retrieve(ctx, &rows, sc->q + h * dh, hq, mem, ldm, z, c->attn_eps,
                      a_mem, dh));
  /* (M6) A_dot: a chunk starting the segment is the square causal case */
  if (ch.f == 0)
    TRY(infini_local_attention(ctx, &rows, sc->q_pos + h * dh, hq, k, hkv, v,
                               hkv, c->attn_scale, out, hq));
  else
    for (ptrdiff_t r = 0; r < ch.c; r++)
      attend_row(sc->q_pos + r * hq + h * dh, k, hkv, v, hkv, ch.f + r + 1, dh,
                 c->attn_scale, sc->scores + h * n, out + r * hq);
  /* (M7) A = sigmoid(beta) A_mem + (1 - sigmoid(beta)) A_dot (10) */
  return infini_mix(ctx, ch.c, dh, s->model->layers[l].beta[h], a_mem, dh, out,
                    hq, out, hq);
}

/* The heads of a layer, one task each: task h of n_heads. */
typedef struct head_job {
  const infini_model_state *s;
  const model_scratch *sc;
  ptrdiff_t l;
  chunk ch;
  bool update; /* the chunk completes the segment: (M8) after the reads */
  int status; /* the first failure's infini_status, else INFINI_OK */
} head_job;

static void record_failure(head_job *j, infini_status st) {
  int ok = INFINI_OK;
  if (st != INFINI_OK)
    __atomic_compare_exchange_n(&j->status, &ok, (int)st, false, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
}


/* (M8) Fold the completed segment's un-rotated K, V into memory head g
 * of layer l, in context ctx (the calling head's own: the memory heads
 * run in parallel). */
static infini_status update_memory_head(const infini_model_state *s,
                                        infini_context *ctx, ptrdiff_t l,
                                        ptrdiff_t g) {
  const infini_model_config *c = &s->model->config;
  const ptrdiff_t dh = c->d_head, hkv = c->n_kv_heads * dh;
  const infini_head_shape seg = {c->segment_len, dh, dh};
  const layer_cache lc = cache_of(s, l);
  float *mem, *z;
  ptrdiff_t ldm;
  TRY(infini_state_head(s->memory[l], g, &mem, &ldm, &z));
  if (c->rule == INFINI_UPDATE_DELTA) /* (9) */
    return infini_update_delta(ctx, &seg, lc.k + g * dh, hkv, lc.v + g * dh, hkv,
                               mem, ldm, z, c->attn_eps);
  return infini_update_linear(ctx, &seg, lc.k + g * dh, hkv, lc.v + g * dh, hkv,
                              mem, ldm, z); /* (8) */
}

/* Head h's attention; then, when the chunk completes the segment and h
 * is the last head of its group to be done with M_{s-1} (M12), the
 * group's memory update: the update waits for no other head, and no
 * thread waits for the slowest head before the updates begin. The
 * counter's acquire-release decrement orders every read of the group's
 * memory before the update's writes, whichever threads ran the heads. */
static void head_task(void *arg, int h) {
  head_job *j = arg;
  const infini_model_state *s = j->s;
  record_failure(j, attend_head(s, j->sc, j->l, h, j->ch));
  if (!j->update)
    return;
  const ptrdiff_t g = h / (s->model->config.n_heads / s->model->config.n_kv_heads);
  if (__atomic_sub_fetch(&s->lane.group_left[g], 1, __ATOMIC_ACQ_REL) == 0 &&
      __atomic_load_n(&j->status, __ATOMIC_RELAXED) == INFINI_OK)
    record_failure(j, update_memory_head(s, s->lane.head_ctx[h], j->l, g));
}

/* (M2), (M3): u = RMSNorm(x) attn_norm; q, k, v = u Wq^T, u Wk^T, u Wv^T;
 * with RoPE, (M5) q_pos and k_pos (this chunk's rows of the cache) too,
 * rotated by the dense tasks when a block holds whole heads, else here. */
static infini_status qkv(const infini_model_state *s,
                         const model_layer_weights *w, chunk ch,
                         const model_scratch *sc, float *k, float *k_pos,
                         float *v) {
  const infini_model *m = s->model;
  const infini_model_config *c = &m->config;
  const ptrdiff_t d = c->d_model, dh = c->d_head, n = ch.c;
  const ptrdiff_t hq = c->n_heads * dh, hkv = c->n_kv_heads * dh;
  const bool rope = c->position == INFINI_POSITION_ROPE;
  const bool rope_in_tasks = rope && DENSE_BLOCK % dh == 0;
  dense_after q_after = {0}, k_after = {0};
  if (rope_in_tasks) {
    const dense_after rotate = {.p0 = ch.f, .d_head = dh, .rope_cos = sc->rope_cos,
                                .rope_sin = sc->rope_sin};
    q_after = rotate;
    q_after.rot = sc->q_pos;
    q_after.ld_rot = hq;
    k_after = rotate;
    k_after.rot = k_pos;
    k_after.ld_rot = hkv;
  }
  TRY(norm_rows(m, n, sc->x, w->attn_norm, sc->u));
  const dense_layer proj[3] = {
      {d, hq, sc->u, d, w->wq, w->packed.wq, sc->q, hq, q_after},
      {d, hkv, sc->u, d, w->wk, w->packed.wk, k, hkv, k_after},
      {d, hkv, sc->u, d, w->wv, w->packed.wv, v, hkv, {0}}};
  TRY(dense_layers(s, n, 3, false, proj));
  if (rope && !rope_in_tasks) {
    TRY(rope_rows(m->backend, n, c->n_heads, dh, ch.f, sc->rope_cos,
                  sc->rope_sin, sc->q, hq, sc->q_pos, hq));
    TRY(rope_rows(m->backend, n, c->n_kv_heads, dh, ch.f, sc->rope_cos,
                  sc->rope_sin, k, hkv, k_pos, hkv));
  }
  return INFINI_OK;
}

/* (M3)-(M8): layer l's attention over the chunk, into sc->attn. */
static infini_status attention(const infini_model_state *s, const model_scratch *sc,
                               ptrdiff_t l, chunk ch) {
  const infini_model_config *c = &s->model->config;
  const model_layer_weights *w = &s->model->layers[l];
  const ptrdiff_t dh = c->d_head, hq = c->n_heads * dh, hkv = c->n_kv_heads * dh;
  const layer_cache lc = cache_of(s, l);
  const bool completes = ch.f + ch.c == c->segment_len;
  /* (M2), (M3) this chunk's K and V go straight into the segment cache;
   * (M5) RoPE, for local attention only, into q_pos and k_pos */
  TRY(qkv(s, w, ch, sc, lc.k + ch.f * hkv, lc.k_pos + ch.f * hkv,
          lc.v + ch.f * hkv));
  if (c->position != INFINI_POSITION_ROPE && ch.f == 0 && completes) {
    /* A whole segment without RoPE is exactly the spec's layer step (S14):
     * let the backend run its fused version (it also updates the memory). */
    const infini_layer_config lcfg = {c->n_heads, c->n_kv_heads, dh, dh,
                                      c->rule, c->attn_eps, c->attn_scale};
    return infini_layer_step(s->lane.ctx, &lcfg, ch.c, sc->q, hq, lc.k, hkv, lc.v,
                             hkv, w->beta, s->memory[l], sc->attn, hq);
  }
  head_job job = {s, sc, l, ch, completes, INFINI_OK};
  /* a head: QK^T and PV over the segment so far, and the memory read */
  double head_work = (double)ch.c * dh * (2.0 * (ch.f + ch.c) + dh);
  if (completes) {
    /* (M8), (M12): the update follows every read of M_{s-1}; each group's
     * last head runs it (head_task). A memory head: sigma(K)^T V over the
     * segment (the delta rule's prediction first), and sigma's exp per
     * element of K, which costs about as much as EXP_COST_MACS
     * multiply-adds (a 16-lane Sleef exp takes about 20 cycles, 1.25 per
     * element, where AVX-512 does 64 multiply-adds); shared out over the
     * group's heads. */
    const ptrdiff_t group = c->n_heads / c->n_kv_heads;
    const double per_key = c->rule == INFINI_UPDATE_DELTA ? 2.0 * dh : dh;
    head_work += (double)c->segment_len * dh * (per_key + EXP_COST_MACS) / group;
    for (ptrdiff_t g = 0; g < c->n_kv_heads; g++)
      s->lane.group_left[g] = (int)group;
  }
  run_tasks(s, (int)c->n_heads, head_work, head_task, &job);
  return (infini_status)job.status;
}

/* (M10) x += SwiGLU(RMSNorm(x) ffn_norm). */
static infini_status ffn(const infini_model_state *s, const model_layer_weights *w,
                         ptrdiff_t n, const model_scratch *sc) {
  const infini_model *m = s->model;
  const infini_model_config *c = &m->config;
  const ptrdiff_t d = c->d_model, f = c->d_ff;
  const dense_after add_to_x = {.residual = sc->x, .ld_residual = d};
  const dense_after swiglu_with_up = {.swiglu_up = sc->up, .ld_up = f};
  TRY(norm_rows(m, n, sc->x, w->ffn_norm, sc->u));
  /* each task: a block of up, then of gate, then SwiGLU on that block */
  const dense_layer up_gate[2] = {
      {d, f, sc->u, d, w->w_up, w->packed.w_up, sc->up, f, {0}},
      {d, f, sc->u, d, w->w_gate, w->packed.w_gate, sc->gate, f, swiglu_with_up}};
  TRY(dense_layers(s, n, 2, true, up_gate));
  return dense(s, n, f, d, sc->gate, f, w->w_down, w->packed.w_down, sc->u, d,
               add_to_x);
}

/* A layer is two units of work, the pipeline's grain: unit 2l its
 * attention, (M2)-(M8) and (M9) x += A Wo^T; unit 2l+1 its feed-forward
 * (M10), after which the block's output is in x. */
static infini_status run_unit(const infini_model_state *s, const model_scratch *sc,
                              ptrdiff_t u, chunk ch, ptrdiff_t n, ptrdiff_t at,
                              float *hidden) {
  const infini_model_config *c = &s->model->config;
  const ptrdiff_t l = u / 2, d = c->d_model, hq = c->n_heads * c->d_head;
  const model_layer_weights *w = &s->model->layers[l];
  if (u % 2 == 0) {
    const dense_after add_to_x = {.residual = sc->x, .ld_residual = d};
    TRY(attention(s, sc, l, ch));
    return dense(s, ch.c, hq, d, sc->attn, hq, w->wo, w->packed.wo, sc->u, d,
                 add_to_x);
  }
  TRY(ffn(s, w, ch.c, sc));
  if (hidden)
    memcpy(hidden + (l * n + at) * d, sc->x, (size_t)(ch.c * d) * sizeof(float));
  return INFINI_OK;
}

/* Units u0..u1-1 over a chunk in sc->x; hidden rows at row `at` of the
 * call's n. */
static infini_status chunk_units(const infini_model_state *s,
                                 const model_scratch *sc, ptrdiff_t u0,
                                 ptrdiff_t u1, chunk ch, ptrdiff_t n,
                                 ptrdiff_t at, float *hidden) {
  for (ptrdiff_t u = u0; u < u1; u++)
    TRY(run_unit(s, sc, u, ch, n, at, hidden));
  return INFINI_OK;
}

/* (M11) logits = RMSNorm(x) norm lm_head^T, the chunk's rows. */
static infini_status chunk_logits(const infini_model_state *s,
                                  const model_scratch *sc, chunk ch,
                                  float *logits) {
  const infini_model *m = s->model;
  const ptrdiff_t d = m->config.d_model, v = m->config.vocab_size;
  TRY(norm_rows(m, ch.c, sc->x, m->norm, sc->u));
  return dense(s, ch.c, d, v, sc->u, d, m->lm_head, m->lm_head_packed, logits, v,
               (dense_after){0});
}

/* A lane's scratch, its x at `x` when not NULL (a ring slot). */
static model_scratch lane_scratch(const infini_model_config *c,
                                  const model_lane *ln, float *x) {
  model_scratch sc;
  arena a = {ln->scratch, 0, INFINI_OK};
  carve_scratch(c, &a, &sc);
  if (x)
    sc.x = x;
  return sc;
}

/* The chunks of a call (M12): chunks never cross a segment boundary, so
 * the first runs from position f0 of its segment to the segment's end (or
 * the call's), the others are whole segments but the last. */
typedef struct call_plan {
  ptrdiff_t n, len, f0, first; /* tokens, N, start in segment, first's size */
  ptrdiff_t n_chunks;
} call_plan;

static call_plan plan_call(const infini_model_state *s, ptrdiff_t n) {
  const ptrdiff_t len = s->model->config.segment_len;
  const ptrdiff_t f0 = (ptrdiff_t)(s->tokens % (uint64_t)len);
  const ptrdiff_t first = n < len - f0 ? n : len - f0;
  const call_plan p = {n, len, f0, first, 1 + (n - first + len - 1) / len};
  return p;
}

/* Chunk j of the call; returns its first token's row in the call. */
static ptrdiff_t chunk_at(const call_plan *p, ptrdiff_t j, chunk *ch) {
  if (j == 0) {
    *ch = (chunk){p->f0, p->first};
    return 0;
  }
  const ptrdiff_t at = p->first + (j - 1) * p->len;
  *ch = (chunk){0, p->n - at < p->len ? p->n - at : p->len};
  return at;
}

/* One chunk through the model on the caller's lane (and the pool's
 * threads); its outputs at row `at` of the call's. */
static infini_status run_chunk(infini_model_state *s, const int32_t *tokens,
                               chunk ch, ptrdiff_t n, ptrdiff_t at,
                               float *logits, float *hidden) {
  const infini_model *m = s->model;
  const infini_model_config *c = &m->config;
  const model_scratch sc = lane_scratch(c, &s->lane, NULL);
  infini_ref_embed_f32(ch.c, c->d_model, tokens, m->embed, sc.x, c->d_model); /* (M1) */
  TRY(chunk_units(s, &sc, 0, 2 * c->n_layers, ch, n, at, hidden));
  if (logits)
    TRY(chunk_logits(s, &sc, ch, logits + at * c->vocab_size));
  s->tokens += (uint64_t)ch.c;
  return INFINI_OK;
}

/* A call chunk by chunk, each on the caller's lane and the pool's threads. */
static infini_status run_split(infini_model_state *s, const int32_t *tokens,
                               const call_plan *plan, float *logits,
                               float *hidden) {
  for (ptrdiff_t j = 0; j < plan->n_chunks; j++) {
    chunk ch;
    const ptrdiff_t at = chunk_at(plan, j, &ch);
    TRY(run_chunk(s, tokens + at, ch, plan->n, at, logits, hidden));
  }
  return INFINI_OK;
}

/* ---- Pipelined calls ------------------------------------------------------
 * A call of many chunks on T threads runs as a pipeline instead of
 * splitting each dense layer and each layer's heads between the threads:
 * the layers' 2L units (run_unit: attention, feed-forward) are cut into
 * P = min(T, 2L) stages of consecutive units of about equal work (the
 * last has the LM head too), and stage p, one thread, runs its units over
 * every chunk in order, chunk j once stage p-1 is done with it. Splitting
 * a layer hands its activations from core to core in each of its five
 * runs of tasks (which made 2 threads only 1.5x: docs/performance.md); a
 * stage hands a chunk's activations on once, and keeps its units'
 * weights in its own core's caches. A chunk's rows x travel through the
 * stages in a ring slot; stage 0 refills a slot once the last stage is
 * done with its chunk.
 * Every chunk runs the same kernels on the same rows as the unpipelined
 * call (a stage is a lane with no pool: its tasks run in order on its
 * thread), so the bits are the same for every thread count. */

typedef struct pipeline {
  const infini_model_state *s;
  const int32_t *tokens;
  float *logits, *hidden;
  call_plan plan;
  int n_stages;
  ptrdiff_t first_unit[POOL_BOARD_MAX + 1]; /* stage p: [first_unit[p], [p+1]) */
  pool_board board; /* counter p: chunks stage p has finished */
  int status;       /* the first failure's infini_status */
} pipeline;

/* Multiply-adds per token of unit u and of the LM head: what the stages
 * are balanced by (a head: local attention over half a segment on
 * average, its memory read and update). */
static double unit_work(const infini_model_config *c, ptrdiff_t u) {
  const double d = (double)c->d_model, hq = (double)(c->n_heads * c->d_head);
  const double hkv = (double)(c->n_kv_heads * c->d_head);
  const double heads = (double)c->n_heads * c->d_head * (c->segment_len + 2.0 * c->d_head);
  return u % 2 == 0 ? d * (hq + 2 * hkv) + heads + hq * d : 3 * d * c->d_ff;
}

/* Stage boundaries: stage p-1 ends at the unit boundary where the work
 * done comes nearest to p/P of the whole, each stage at least one unit. */
static void cut_stages(const infini_model_config *c, int stages,
                       ptrdiff_t *first_unit) {
  const ptrdiff_t units = 2 * c->n_layers;
  double total = (double)c->d_model * c->vocab_size; /* the LM head */
  for (ptrdiff_t u = 0; u < units; u++)
    total += unit_work(c, u);
  first_unit[0] = 0;
  ptrdiff_t b = 0;
  double done = 0; /* the work of units 0..b-1 */
  for (int p = 1; p < stages; p++) {
    const double target = total * p / stages;
    while (b < units && fabs(done + unit_work(c, b) - target) < fabs(done - target))
      done += unit_work(c, b++);
    ptrdiff_t cut = b;
    if (cut < first_unit[p - 1] + 1)
      cut = first_unit[p - 1] + 1;
    if (cut > units - (stages - p))
      cut = units - (stages - p);
    first_unit[p] = cut;
  }
  first_unit[stages] = units;
}

static void pipe_fail(pipeline *pl, infini_status st) {
  int ok = INFINI_OK;
  __atomic_compare_exchange_n(&pl->status, &ok, (int)st, false, __ATOMIC_RELAXED,
                              __ATOMIC_RELAXED);
  pool_board_fail(&pl->board);
}

/* Stage p's part of chunk j, its rows in sc->x. */
static infini_status stage_chunk(const pipeline *pl, const infini_model_state *view,
                                 const model_scratch *sc, int p, ptrdiff_t j) {
  const infini_model_config *c = &view->model->config;
  chunk ch;
  const ptrdiff_t at = chunk_at(&pl->plan, j, &ch);
  if (p == 0) /* (M1) */
    infini_ref_embed_f32(ch.c, c->d_model, pl->tokens + at, view->model->embed,
                         sc->x, c->d_model);
  TRY(chunk_units(view, sc, pl->first_unit[p], pl->first_unit[p + 1], ch,
                  pl->plan.n, at, pl->hidden));
  if (p == pl->n_stages - 1 && pl->logits)
    TRY(chunk_logits(view, sc, ch, pl->logits + at * c->vocab_size));
  return INFINI_OK;
}

/* Task p: stage p over every chunk of the call. */
static void stage_task(void *arg, int p) {
  pipeline *pl = arg;
  const infini_model_state *s = pl->s;
  const infini_model_config *c = &s->model->config;
  infini_model_state view = *s; /* the stream as stage p sees it */
  view.pool = NULL;
  if (p > 0)
    view.lane = s->lanes[p - 1];
  const int last = pl->n_stages - 1;
  for (ptrdiff_t j = 0; j < pl->plan.n_chunks; j++) {
    /* stage 0: the slot's previous chunk has left the last stage; the
     * others: the chunk has left the stage before */
    const bool ready =
        p == 0 ? pool_board_wait(&pl->board, last, (long)(j - s->ring_slots + 1))
               : pool_board_wait(&pl->board, p - 1, (long)(j + 1));
    if (!ready)
      return;
    float *x = s->ring + (j % s->ring_slots) * ring_slot_floats(c);
    const model_scratch sc = lane_scratch(c, &view.lane, x);
    const infini_status st = stage_chunk(pl, &view, &sc, p, j);
    if (st != INFINI_OK) {
      pipe_fail(pl, st);
      return;
    }
    pool_board_raise(&pl->board, p, (long)(j + 1));
  }
}

/* A pipeline pays once every stage has a few chunks to work on: with k
 * chunks it takes k + P - 1 stage-steps of about 1/P of a chunk's work. */
#define PIPE_MIN_CHUNKS_PER_STAGE 2

static bool pipeline_pays(const infini_model_state *s, const call_plan *p) {
  return s->pool && s->pipe_stages > 1 &&
         p->n_chunks >= PIPE_MIN_CHUNKS_PER_STAGE * s->pipe_stages;
}

static infini_status run_pipeline(infini_model_state *s, const int32_t *tokens,
                                  const call_plan *plan, float *logits,
                                  float *hidden) {
  pipeline pl = {.s = s, .tokens = tokens, .logits = logits, .hidden = hidden,
                 .plan = *plan, .n_stages = s->n_lanes + 1, .status = INFINI_OK};
  cut_stages(&s->model->config, pl.n_stages, pl.first_unit);
  if (!pool_board_init(&pl.board))
    return run_split(s, tokens, plan, logits, hidden); /* the same bits */
  pool_run(s->pool, pl.n_stages, stage_task, &pl);
  pool_board_destroy(&pl.board);
  if (pl.status == INFINI_OK)
    s->tokens += (uint64_t)plan->n;
  return (infini_status)pl.status;
}

infini_status infini_model_forward(const infini_model *m, infini_model_state *s,
                                   const int32_t *tokens, ptrdiff_t n,
                                   float *logits, float *hidden) {
  TRY(check_forward(m, s, tokens, n, logits, hidden));
  const call_plan plan = plan_call(s, n);
  if (pipeline_pays(s, &plan) && ensure_pipeline(s))
    return run_pipeline(s, tokens, &plan, logits, hidden);
  return run_split(s, tokens, &plan, logits, hidden);
}

infini_status infini_model_step(const infini_model *m, infini_model_state *s,
                                int32_t token, float *logits) {
  return infini_model_forward(m, s, &token, 1, logits, NULL);
}

/*
 * ref/model_oracle.c - the model in double (see ref/model_oracle.h):
 * docs/model.md's (M1)-(M12) with the spec's double reference operators.
 * Compiled only in the oracle build (-DINFINI_REAL_F64).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref/model_oracle.h"
#include "ref/model_ops.h"
#include "ref/ref.h"
#include "src/model.h"

/* ref/trig_oracle.c reduces RoPE angles (at most N - 1) below 2^19 pi/2. */
#define ORACLE_MAX_ROPE_SEGMENT ((ptrdiff_t)1 << 19)

typedef struct oracle_layer {
  double *attn_norm, *wq, *wk, *wv, *wo, *ffn_norm, *w_gate, *w_up, *w_down;
  float *beta; /* [H]; the operators take beta as a float parameter */
} oracle_layer;

struct infini_oracle_model {
  infini_model_config config;
  double *embed, *norm, *lm_head;
  oracle_layer *layers;
  double *rope_cos, *rope_sin; /* [N x dh/2], NULL without RoPE */
};

struct infini_oracle_state {
  const infini_oracle_model *model;
  double *m, *z;         /* layer l, kv head g: block l * Hkv + g */
  double *seg_k;         /* per layer [N x Hkv*dh]: keys before RoPE */
  double *seg_k_pos;     /* keys after RoPE (== seg_k without RoPE) */
  double *seg_v;         /* values */
  double *seg_q_pos;     /* per layer [N x H*dh]: queries after RoPE */
  uint64_t tokens;
  /* scratch for one segment */
  double *x, *u, *q, *attn, *a_mem, *a_dot, *gate, *up;
  void *work; /* the delta update's */
};

/* rows x cols zeroed doubles; NULL when the product overflows or memory
 * is short (the config check bounded every float count already). */
static double *dalloc(ptrdiff_t rows, ptrdiff_t cols) {
  if (rows < 1 || cols < 1 || rows > PTRDIFF_MAX / cols ||
      (size_t)(rows * cols) > SIZE_MAX / sizeof(double))
    return NULL;
  return calloc((size_t)(rows * cols), sizeof(double));
}

/* An exact f32 -> f64 copy of count weights. */
static double *widen(const float *src, ptrdiff_t rows, ptrdiff_t cols) {
  double *d = dalloc(rows, cols);
  if (d)
    for (ptrdiff_t i = 0; i < rows * cols; i++)
      d[i] = (double)src[i];
  return d;
}

static void free_layer(oracle_layer *w) {
  double *all[] = {w->attn_norm, w->wq, w->wk, w->wv, w->wo,
                   w->ffn_norm, w->w_gate, w->w_up, w->w_down};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    free(all[i]);
  free(w->beta);
}

void infini_oracle_model_free(infini_oracle_model *m) {
  if (!m)
    return;
  if (m->layers)
    for (ptrdiff_t l = 0; l < m->config.n_layers; l++)
      free_layer(&m->layers[l]);
  free(m->layers);
  free(m->embed);
  free(m->norm);
  free(m->lm_head);
  free(m->rope_cos);
  free(m->rope_sin);
  free(m);
}

/* Widen one layer; false when memory is short. */
static bool copy_layer(const infini_model_config *c,
                       const model_layer_weights *src, oracle_layer *w) {
  const ptrdiff_t d = c->d_model, f = c->d_ff;
  const ptrdiff_t hq = c->n_heads * c->d_head, hkv = c->n_kv_heads * c->d_head;
  w->attn_norm = widen(src->attn_norm, d, 1);
  w->wq = widen(src->wq, hq, d);
  w->wk = widen(src->wk, hkv, d);
  w->wv = widen(src->wv, hkv, d);
  w->wo = widen(src->wo, d, hq);
  w->ffn_norm = widen(src->ffn_norm, d, 1);
  w->w_gate = widen(src->w_gate, f, d);
  w->w_up = widen(src->w_up, f, d);
  w->w_down = widen(src->w_down, d, f);
  w->beta = malloc((size_t)c->n_heads * sizeof(float));
  if (w->beta)
    memcpy(w->beta, src->beta, (size_t)c->n_heads * sizeof(float));
  return w->attn_norm && w->wq && w->wk && w->wv && w->wo && w->ffn_norm &&
         w->w_gate && w->w_up && w->w_down && w->beta;
}

/* The weights and the RoPE table; false when memory is short. */
static bool copy_model(const infini_model *src, infini_oracle_model *m) {
  const infini_model_config *c = &m->config;
  m->embed = widen(src->embed, c->vocab_size, c->d_model);
  m->norm = widen(src->norm, c->d_model, 1);
  m->lm_head = widen(src->lm_head, c->vocab_size, c->d_model);
  m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
  if (!m->embed || !m->norm || !m->lm_head || !m->layers)
    return false;
  for (ptrdiff_t l = 0; l < c->n_layers; l++)
    if (!copy_layer(c, &src->layers[l], &m->layers[l]))
      return false;
  if (c->position != INFINI_POSITION_ROPE)
    return true;
  m->rope_cos = dalloc(c->segment_len, c->d_head / 2);
  m->rope_sin = dalloc(c->segment_len, c->d_head / 2);
  if (!m->rope_cos || !m->rope_sin)
    return false;
  /* (M5) angles p theta^(-2i/dh), p = 0..N-1 (positions within a segment) */
  infini_ref_rope_table_f64(c->segment_len, c->d_head, c->rope_theta,
                            m->rope_cos, m->rope_sin);
  return true;
}

infini_status infini_oracle_model_create(const infini_model *model,
                                         infini_oracle_model **out) {
  if (!model || !out)
    return INFINI_ERR_NULL;
  infini_status st = infini_model_config_check(&model->config);
  if (st != INFINI_OK)
    return st;
  if (model->config.position == INFINI_POSITION_ROPE &&
      model->config.segment_len > ORACLE_MAX_ROPE_SEGMENT)
    return INFINI_ERR_PARAM;
  infini_oracle_model *m = calloc(1, sizeof *m);
  if (!m)
    return INFINI_ERR_NOMEM;
  m->config = model->config;
  if (!copy_model(model, m)) {
    infini_oracle_model_free(m);
    return INFINI_ERR_NOMEM;
  }
  *out = m;
  return INFINI_OK;
}

/* ------------------------------------------------------------------------ */

void infini_oracle_state_free(infini_oracle_state *s) {
  if (!s)
    return;
  double *all[] = {s->m, s->z, s->seg_k, s->seg_v, s->seg_q_pos,
                   s->x, s->u, s->q, s->attn, s->a_mem, s->a_dot,
                   s->gate, s->up};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    free(all[i]);
  if (s->seg_k_pos != s->seg_k)
    free(s->seg_k_pos);
  free(s->work);
  free(s);
}

/* Every buffer of a stream; false when memory is short. */
static bool state_buffers(const infini_model_config *c, infini_oracle_state *s) {
  const ptrdiff_t n = c->segment_len, dh = c->d_head, lay = c->n_layers;
  const ptrdiff_t hq = c->n_heads * dh, hkv = c->n_kv_heads * dh;
  const infini_head_shape seg = {n, dh, dh};
  s->m = dalloc(lay * c->n_kv_heads, dh * dh); /* (S3) M_0 = 0 */
  s->z = dalloc(lay * c->n_kv_heads, dh);      /* (S3) z_0 = 0 */
  s->seg_k = dalloc(lay * n, hkv);
  s->seg_v = dalloc(lay * n, hkv);
  s->seg_k_pos = c->position == INFINI_POSITION_ROPE ? dalloc(lay * n, hkv)
                                                      : s->seg_k;
  s->seg_q_pos = dalloc(lay * n, hq);
  s->x = dalloc(n, c->d_model);
  s->u = dalloc(n, c->d_model);
  s->q = dalloc(n, hq);
  s->attn = dalloc(n, hq);
  s->a_mem = dalloc(n, dh);
  s->a_dot = dalloc(n, dh);
  s->gate = dalloc(n, c->d_ff);
  s->up = dalloc(n, c->d_ff);
  s->work = malloc(infini_ref_work_bytes_f64(&seg) + 1);
  return s->m && s->z && s->seg_k && s->seg_v && s->seg_k_pos &&
         s->seg_q_pos && s->x && s->u && s->q && s->attn && s->a_mem &&
         s->a_dot && s->gate && s->up && s->work;
}

infini_status infini_oracle_state_create(const infini_oracle_model *m,
                                         infini_oracle_state **out) {
  if (!m || !out)
    return INFINI_ERR_NULL;
  infini_oracle_state *s = calloc(1, sizeof *s);
  if (!s)
    return INFINI_ERR_NOMEM;
  s->model = m;
  if (!state_buffers(&m->config, s)) {
    infini_oracle_state_free(s);
    return INFINI_ERR_NOMEM;
  }
  *out = s;
  return INFINI_OK;
}

/* ------------------------------------------------------------------------ */
/* The forward pass. A chunk is c tokens of one segment, at positions
 * f..f+c-1 within it (f = tokens already in the segment). */

typedef struct chunk {
  ptrdiff_t f, c;
} chunk;

/* (M3), (M5): this chunk's Q, K, V; K and V go into the segment cache,
 * rotated Q and K (or copies without RoPE) into the rotated caches. */
static void project(const infini_oracle_model *m, infini_oracle_state *s,
                    ptrdiff_t l, chunk ch) {
  const infini_model_config *c = &m->config;
  const oracle_layer *w = &m->layers[l];
  const ptrdiff_t dh = c->d_head, hq = c->n_heads * dh;
  const ptrdiff_t hkv = c->n_kv_heads * dh;
  const ptrdiff_t row = l * c->segment_len + ch.f; /* first cache row */
  double *k = s->seg_k + row * hkv, *v = s->seg_v + row * hkv;
  double *q_pos = s->seg_q_pos + row * hq;
  infini_ref_qkv_f64(ch.c, c->d_model, hq, hkv, s->x, c->d_model, w->attn_norm,
                     c->norm_eps, w->wq, w->wk, w->wv, s->u, s->q, hq, k, hkv,
                     v, hkv);
  if (c->position == INFINI_POSITION_ROPE) {
    infini_ref_rope_f64(ch.c, c->n_heads, dh, ch.f, m->rope_cos, m->rope_sin,
                        s->q, hq, q_pos, hq);
    infini_ref_rope_f64(ch.c, c->n_kv_heads, dh, ch.f, m->rope_cos,
                        m->rope_sin, k, hkv, s->seg_k_pos + row * hkv, hkv);
  } else {
    memcpy(q_pos, s->q, (size_t)(ch.c * hq) * sizeof(double));
  }
}

/* (M4), (M6), (M7): every query head's output for the chunk, into attn. */
static void attend(const infini_oracle_model *m, infini_oracle_state *s,
                   ptrdiff_t l, chunk ch) {
  const infini_model_config *c = &m->config;
  const ptrdiff_t dh = c->d_head, hq = c->n_heads * dh;
  const ptrdiff_t hkv = c->n_kv_heads * dh, group = c->n_heads / c->n_kv_heads;
  const ptrdiff_t seg0 = l * c->segment_len; /* the layer's first cache row */
  const infini_head_shape rows = {ch.c, dh, dh}, prefix = {ch.f + ch.c, dh, dh};
  for (ptrdiff_t h = 0; h < c->n_heads; h++) {
    const ptrdiff_t g = h / group, mem = l * c->n_kv_heads + g;
    /* (M4) A_mem with the un-rotated queries and M_{s-1}, z_{s-1} (7) */
    infini_ref_retrieve_f64(&rows, s->q + h * dh, hq, s->m + mem * dh * dh, dh,
                            s->z + mem * dh, c->attn_eps, s->a_mem, dh);
    /* (M6) the segment prefix's causal attention (6); rows f.. are ours */
    infini_ref_local_attention_f64(
        &prefix, s->seg_q_pos + seg0 * hq + h * dh, hq,
        s->seg_k_pos + seg0 * hkv + g * dh, hkv, s->seg_v + seg0 * hkv + g * dh,
        hkv, c->attn_scale, s->a_dot, dh, NULL);
    /* (M7) A = sigmoid(beta) A_mem + (1 - sigmoid(beta)) A_dot (10) */
    infini_ref_mix_f64(ch.c, dh, m->layers[l].beta[h], s->a_mem, dh,
                       s->a_dot + ch.f * dh, dh, s->attn + h * dh, hq);
  }
}

/* (M8) Fold the completed segment's un-rotated K, V into the memory. */
static void update_memory(const infini_oracle_model *m, infini_oracle_state *s,
                          ptrdiff_t l) {
  const infini_model_config *c = &m->config;
  const ptrdiff_t dh = c->d_head, hkv = c->n_kv_heads * dh;
  const ptrdiff_t seg0 = l * c->segment_len;
  const infini_head_shape seg = {c->segment_len, dh, dh};
  for (ptrdiff_t g = 0; g < c->n_kv_heads; g++) {
    const ptrdiff_t mem = l * c->n_kv_heads + g;
    const double *k = s->seg_k + seg0 * hkv + g * dh;
    const double *v = s->seg_v + seg0 * hkv + g * dh;
    double *m_g = s->m + mem * dh * dh, *z_g = s->z + mem * dh;
    if (c->rule == INFINI_UPDATE_DELTA) /* (9) */
      infini_ref_update_delta_f64(&seg, k, hkv, v, hkv, m_g, dh, z_g,
                                  c->attn_eps, s->work);
    else /* (8) */
      infini_ref_update_linear_f64(&seg, k, hkv, v, hkv, m_g, dh, z_g);
  }
}

/* One chunk through the model; outputs at row `at` of the call's arrays. */
static void run_chunk(const infini_oracle_model *m, infini_oracle_state *s,
                      const int32_t *tokens, chunk ch, ptrdiff_t n,
                      ptrdiff_t at, double *logits, double *hidden) {
  const infini_model_config *c = &m->config;
  const ptrdiff_t d = c->d_model, hq = c->n_heads * c->d_head;
  const bool completes = ch.f + ch.c == c->segment_len;
  infini_ref_embed_f64(ch.c, d, tokens, m->embed, s->x, d); /* (M1) */
  for (ptrdiff_t l = 0; l < c->n_layers; l++) {
    const oracle_layer *w = &m->layers[l];
    project(m, s, l, ch);
    attend(m, s, l, ch);
    if (completes) /* (M8), (M12): after every token of the segment read */
      update_memory(m, s, l);
    infini_ref_attn_out_f64(ch.c, d, hq, s->attn, hq, w->wo, s->u, s->x, d);
    infini_ref_ffn_f64(ch.c, d, c->d_ff, s->x, d, w->ffn_norm, c->norm_eps,
                       w->w_gate, w->w_up, w->w_down, s->u, s->gate, s->up);
    if (hidden)
      memcpy(hidden + (l * n + at) * d, s->x, (size_t)(ch.c * d) * sizeof(double));
  }
  if (logits) /* (M11) */
    infini_ref_logits_f64(ch.c, d, c->vocab_size, s->x, d, m->norm,
                          c->norm_eps, m->lm_head, s->u,
                          logits + at * c->vocab_size, c->vocab_size);
  s->tokens += (uint64_t)ch.c;
}

infini_status infini_oracle_forward(const infini_oracle_model *m,
                                    infini_oracle_state *s,
                                    const int32_t *tokens, ptrdiff_t n,
                                    double *logits, double *hidden) {
  if (!m || !s || !tokens)
    return INFINI_ERR_NULL;
  if (n < 1)
    return INFINI_ERR_SIZE;
  if (s->model != m)
    return INFINI_ERR_SHAPE;
  const infini_model_config *c = &m->config;
  if (n > PTRDIFF_MAX / c->vocab_size ||
      n > PTRDIFF_MAX / c->n_layers / c->d_model)
    return INFINI_ERR_OVERFLOW;
  for (ptrdiff_t i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
      return INFINI_ERR_PARAM;

  /* (M12) Cut the call at segment boundaries. */
  for (ptrdiff_t at = 0; at < n;) {
    const ptrdiff_t f = (ptrdiff_t)(s->tokens % (uint64_t)c->segment_len);
    const ptrdiff_t left = c->segment_len - f;
    const chunk ch = {f, n - at < left ? n - at : left};
    run_chunk(m, s, tokens + at, ch, n, at, logits, hidden);
    at += ch.c;
  }
  return INFINI_OK;
}

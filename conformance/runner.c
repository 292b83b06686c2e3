/*
 * conformance/runner.c - run one case on a backend through the public API.
 *
 * Every tensor is copied from its packed .npy data into a buffer laid out
 * with the group's row stride, inside guard padding: GUARD_PAD floats before
 * and after, and the stride gaps of every row, hold a NaN with a recognisable
 * payload ("rogue" values, as in the LAPACK testers). Output views start as
 * the same NaN, so an element the backend forgets to write cannot pass.
 * After each call the runner checks that every input buffer is bit-for-bit
 * unchanged and that nothing outside each output view changed; either
 * violation fails the case with the offending index.
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/conform.h"

#define GUARD_BITS UINT32_C(0x7FC1A5A5) /* quiet NaN, payload 0x41A5A5 */
#define GUARD_PAD 16                    /* floats before and after: 64 bytes */
#define ALIGN 64

typedef struct gbuf {
  const char *name;
  bool output;         /* the call may write the view */
  ptrdiff_t rows, cols, ld;
  size_t total;        /* floats from base */
  float *base, *view;
  uint32_t *snapshot;  /* the whole buffer after filling (inputs) */
} gbuf;

static float guard_value(void) {
  uint32_t u = GUARD_BITS;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* A rows x cols view with row stride ld (0: packed). */
static void gbuf_init(gbuf *b, const char *name, bool output, ptrdiff_t rows,
                      ptrdiff_t cols, ptrdiff_t ld) {
  memset(b, 0, sizeof *b);
  b->name = name;
  b->output = output;
  b->rows = rows;
  b->cols = cols;
  b->ld = ld > 0 ? ld : cols;
  /* vs_set_load bounds strides by the rows they pad; a group built any
   * other way must still not wrap rows x ld into a small buffer */
  if (rows < 0 || b->ld < 1 ||
      (size_t)rows > (SIZE_MAX / sizeof(float) - 2 * GUARD_PAD - ALIGN) /
                         (size_t)b->ld) {
    cf_error("%s: %td rows of stride %td do not fit in memory", name, rows,
             b->ld);
    exit(CF_EXIT_USAGE);
  }
  b->total = 2 * GUARD_PAD + (size_t)rows * (size_t)b->ld;
  size_t bytes = (b->total * sizeof(float) + ALIGN - 1) / ALIGN * ALIGN;
  b->base = aligned_alloc(ALIGN, bytes);
  if (!b->base)
    b->base = cf_xmalloc(bytes);
  const float g = guard_value();
  for (size_t i = 0; i < b->total; i++)
    b->base[i] = g;
  b->view = b->base + GUARD_PAD;
}

static void gbuf_free(gbuf *b) {
  free(b->base);
  free(b->snapshot);
  b->base = b->view = NULL;
  b->snapshot = NULL;
}

/* Copy packed floats (or doubles) into the view. */
static void gbuf_fill(gbuf *b, const vs_tensor *t, size_t offset) {
  for (ptrdiff_t i = 0; i < b->rows; i++)
    for (ptrdiff_t j = 0; j < b->cols; j++) {
      size_t k = offset + (size_t)(i * b->cols + j);
      b->view[i * b->ld + j] = t->dtype == VS_F64 ? (float)((const double *)t->data)[k]
                                                  : ((const float *)t->data)[k];
    }
}

static void gbuf_snapshot(gbuf *b) {
  free(b->snapshot);
  b->snapshot = cf_xmalloc(b->total * sizeof(uint32_t));
  memcpy(b->snapshot, b->base, b->total * sizeof(uint32_t));
}

static void gbuf_extract(const gbuf *b, float *dst) {
  for (ptrdiff_t i = 0; i < b->rows; i++)
    for (ptrdiff_t j = 0; j < b->cols; j++)
      dst[i * b->cols + j] = b->view[i * b->ld + j];
}

/* Describe position p (floats from base) of a buffer. */
static void describe_position(const gbuf *b, size_t p, cf_buf *why) {
  if (p < GUARD_PAD) {
    cf_buf_printf(why, "%zu float(s) before the start", GUARD_PAD - p);
    return;
  }
  size_t off = p - GUARD_PAD;
  size_t span = (size_t)(b->rows - 1) * (size_t)b->ld + (size_t)b->cols;
  if (off >= span) {
    cf_buf_printf(why, "%zu float(s) after the end", off - span + 1);
    return;
  }
  size_t i = off / (size_t)b->ld, j = off % (size_t)b->ld;
  if (j >= (size_t)b->cols)
    cf_buf_printf(why, "in the stride gap of row %zu (column %zu, row width %td, ld %td)",
                  i, j, b->cols, b->ld);
  else
    cf_buf_printf(why, "element [%zu][%zu]", i, j);
}

static bool in_view(const gbuf *b, size_t p) {
  if (p < GUARD_PAD)
    return false;
  size_t off = p - GUARD_PAD;
  size_t i = off / (size_t)b->ld, j = off % (size_t)b->ld;
  return i < (size_t)b->rows && j < (size_t)b->cols;
}

/* After a call: inputs unchanged, nothing outside an output's view changed. */
static bool gbuf_check(const gbuf *b, const char *call, cf_buf *why) {
  const uint32_t *now = (const uint32_t *)(const void *)b->base;
  for (size_t p = 0; p < b->total; p++) {
    bool inside = in_view(b, p);
    if (b->output && inside)
      continue;
    uint32_t want = b->output ? GUARD_BITS : b->snapshot[p];
    if (now[p] == want)
      continue;
    if (b->output || !inside)
      cf_buf_printf(why, "%s wrote outside its output %s: ", call, b->name);
    else
      cf_buf_printf(why, "%s modified its input %s: ", call, b->name);
    if (!b->output && !inside)
      cf_buf_printf(why, "(guard of input %s) ", b->name);
    describe_position(b, p, why);
    cf_buf_printf(why, " (0x%08x became 0x%08x)", (unsigned)want,
                  (unsigned)now[p]);
    return false;
  }
  return true;
}

/* ------------------------------------------------------------------------ */

static const char *status_name(infini_status st) {
  static const char *const names[] = {
      "INFINI_OK", "INFINI_ERR_NULL", "INFINI_ERR_SIZE", "INFINI_ERR_OVERFLOW",
      "INFINI_ERR_STRIDE", "INFINI_ERR_PARAM", "INFINI_ERR_ALIAS",
      "INFINI_ERR_SHAPE", "INFINI_ERR_NOMEM", "INFINI_ERR_NOT_FOUND",
      "INFINI_ERR_ABI", "INFINI_ERR_UNAVAILABLE", "INFINI_ERR_PLUGIN",
      "INFINI_ERR_BACKEND", "INFINI_ERR_FULL"};
  if ((unsigned)st < sizeof names / sizeof names[0])
    return names[st];
  return "an unknown status";
}

typedef struct run {
  const cf_case *c;
  gbuf bufs[12];
  int n_bufs;
  cf_buf why;
  bool ok;
} run;

static gbuf *new_buf(run *r, const char *name, bool output, ptrdiff_t rows,
                     ptrdiff_t cols, ptrdiff_t ld) {
  gbuf *b = &r->bufs[r->n_bufs++];
  gbuf_init(b, name, output, rows, cols, ld);
  return b;
}

/* The row stride of input `name` in this group (0 = packed). */
static ptrdiff_t ld_of(const cf_case *c, const char *name) {
  int idx;
  if (!cf_find_input(c->test, name, &idx) || idx >= VS_MAX_INPUTS)
    return 0;
  return c->group->ld_in[idx];
}

/* An input buffer: rows x cols from the tensor at element offset. */
static gbuf *input_buf(run *r, const char *name, ptrdiff_t rows, ptrdiff_t cols,
                       size_t offset) {
  const vs_tensor *t = cf_find_input(r->c->test, name, NULL);
  gbuf *b = new_buf(r, name, false, rows, cols, ld_of(r->c, name));
  if (t)
    gbuf_fill(b, t, offset);
  else
    for (ptrdiff_t i = 0; i < rows; i++)
      for (ptrdiff_t j = 0; j < cols; j++)
        b->view[i * b->ld + j] = 0.0f;
  gbuf_snapshot(b);
  return b;
}

static bool after_call(run *r, const char *call, infini_status st) {
  if (st != INFINI_OK) {
    cf_buf_printf(&r->why, "%s returned %s (%s)", call, status_name(st),
                  infini_strerror(st));
    return r->ok = false;
  }
  for (int i = 0; i < r->n_bufs; i++)
    if (!gbuf_check(&r->bufs[i], call, &r->why))
      return r->ok = false;
  return true;
}

static float *take(cf_outputs *got, const char *name, size_t count) {
  int i = got->n++;
  got->names[i] = name;
  got->count[i] = count;
  got->data[i] = cf_xmalloc(count * sizeof(float));
  got->missing[i] = NULL;
  return got->data[i];
}

static void run_feature_map(run *r, infini_context *ctx, cf_outputs *got) {
  const vs_group *g = r->c->group;
  gbuf *x = input_buf(r, "x", g->rows, g->cols, 0);
  gbuf *y = new_buf(r, "y", true, g->rows, g->cols, g->ld_out);
  if (after_call(r, "infini_feature_map",
                 infini_feature_map(ctx, g->rows, g->cols, x->view, x->ld,
                                    y->view, y->ld)))
    gbuf_extract(y, take(got, "y", (size_t)(g->rows * g->cols)));
}

static void run_retrieve(run *r, infini_context *ctx, cf_outputs *got) {
  const vs_group *g = r->c->group;
  const infini_head_shape shape = {g->n, g->d_key, g->d_value};
  gbuf *q = input_buf(r, "q", g->n, g->d_key, 0);
  gbuf *m = input_buf(r, "m", g->d_key, g->d_value, 0);
  gbuf *z = input_buf(r, "z", 1, g->d_key, 0);
  gbuf *a = new_buf(r, "a", true, g->n, g->d_value, g->ld_out);
  if (after_call(r, "infini_retrieve",
                 infini_retrieve(ctx, &shape, q->view, q->ld, m->view, m->ld,
                                 z->view, g->eps, a->view, a->ld)))
    gbuf_extract(a, take(got, "a", (size_t)(g->n * g->d_value)));
}

/* m and z of an update: filled from the inputs, then written in place. */
static gbuf *inout_buf(run *r, const char *name, ptrdiff_t rows, ptrdiff_t cols,
                       ptrdiff_t ld) {
  const vs_tensor *t = cf_find_input(r->c->test, name, NULL);
  gbuf *b = new_buf(r, name, true, rows, cols, ld);
  if (t)
    gbuf_fill(b, t, 0);
  else
    for (ptrdiff_t i = 0; i < rows; i++)
      for (ptrdiff_t j = 0; j < cols; j++)
        b->view[i * b->ld + j] = 0.0f; /* (S3) */
  return b;
}

static void run_update(run *r, infini_context *ctx, cf_outputs *got) {
  const vs_group *g = r->c->group;
  const infini_head_shape shape = {g->n, g->d_key, g->d_value};
  gbuf *k = input_buf(r, "k", g->n, g->d_key, 0);
  gbuf *v = input_buf(r, "v", g->n, g->d_value, 0);
  gbuf *m = inout_buf(r, "m", g->d_key, g->d_value, ld_of(r->c, "m"));
  gbuf *z = inout_buf(r, "z", 1, g->d_key, 0);
  bool ok;
  if (g->op == VS_UPDATE_DELTA)
    ok = after_call(r, "infini_update_delta",
                    infini_update_delta(ctx, &shape, k->view, k->ld, v->view, v->ld,
                                        m->view, m->ld, z->view, g->eps));
  else
    ok = after_call(r, "infini_update_linear",
                    infini_update_linear(ctx, &shape, k->view, k->ld, v->view,
                                         v->ld, m->view, m->ld, z->view));
  if (ok) {
    gbuf_extract(m, take(got, "m", (size_t)(g->d_key * g->d_value)));
    gbuf_extract(z, take(got, "z", (size_t)g->d_key));
  }
}

static void mix_shape(const vs_group *g, ptrdiff_t *rows, ptrdiff_t *cols) {
  *rows = g->rows > 0 ? g->rows : g->n;
  *cols = g->rows > 0 ? g->cols : g->d_value;
}

static void run_mix(run *r, infini_context *ctx, cf_outputs *got) {
  const vs_group *g = r->c->group;
  ptrdiff_t rows, cols;
  mix_shape(g, &rows, &cols);
  gbuf *am = input_buf(r, "a_mem", rows, cols, 0);
  gbuf *ad = input_buf(r, "a_dot", rows, cols, 0);
  gbuf *out = new_buf(r, "out", true, rows, cols, g->ld_out);
  if (after_call(r, "infini_mix",
                 infini_mix(ctx, rows, cols, g->beta, am->view, am->ld, ad->view,
                            ad->ld, out->view, out->ld)))
    gbuf_extract(out, take(got, "out", (size_t)(rows * cols)));
}

static void run_local_attention(run *r, infini_context *ctx, cf_outputs *got) {
  const vs_group *g = r->c->group;
  const infini_head_shape shape = {g->n, g->d_key, g->d_value};
  gbuf *q = input_buf(r, "q", g->n, g->d_key, 0);
  gbuf *k = input_buf(r, "k", g->n, g->d_key, 0);
  gbuf *v = input_buf(r, "v", g->n, g->d_value, 0);
  gbuf *out = new_buf(r, "out", true, g->n, g->d_value, g->ld_out);
  if (after_call(r, "infini_local_attention",
                 infini_local_attention(ctx, &shape, q->view, q->ld, k->view, k->ld,
                                        v->view, v->ld, g->scale, out->view,
                                        out->ld)))
    gbuf_extract(out, take(got, "out", (size_t)(g->n * g->d_value)));
}

/* Free the per-segment buffers (everything after the first `keep`). */
static void drop_bufs(run *r, int keep) {
  while (r->n_bufs > keep)
    gbuf_free(&r->bufs[--r->n_bufs]);
}

static void run_segment_step(run *r, infini_context *ctx, cf_outputs *got) {
  const vs_group *g = r->c->group;
  const ptrdiff_t S = g->segments > 0 ? g->segments : 1;
  const ptrdiff_t n = g->n, dk = g->d_key, dv = g->d_value;
  const infini_head_shape shape = {n, dk, dv};
  const infini_step_params params = {g->rule, g->beta, g->eps, g->scale};
  gbuf *m = inout_buf(r, "m", dk, dv, g->ld_m > 0 ? g->ld_m : ld_of(r->c, "m"));
  gbuf *z = inout_buf(r, "z", 1, dk, 0);
  float *out_all = take(got, "out", (size_t)(S * n * dv));
  const int keep = r->n_bufs;
  for (ptrdiff_t s = 0; s < S && r->ok; s++) {
    gbuf *q = input_buf(r, "q", n, dk, (size_t)(s * n * dk));
    gbuf *k = input_buf(r, "k", n, dk, (size_t)(s * n * dk));
    gbuf *v = input_buf(r, "v", n, dv, (size_t)(s * n * dv));
    gbuf *out = new_buf(r, "out", true, n, dv, g->ld_out);
    char call[64];
    snprintf(call, sizeof call, "infini_segment_step (segment %td)", s);
    if (after_call(r, call,
                   infini_segment_step(ctx, &shape, &params, q->view, q->ld, k->view,
                                       k->ld, v->view, v->ld, m->view, m->ld,
                                       z->view, out->view, out->ld)))
      gbuf_extract(out, out_all + s * n * dv);
    drop_bufs(r, keep);
  }
  if (r->ok) {
    gbuf_extract(m, take(got, "m", (size_t)(dk * dv)));
    gbuf_extract(z, take(got, "z", (size_t)dk));
  }
}

static void run_layer_step(run *r, infini_context *ctx, cf_outputs *got) {
  const vs_group *g = r->c->group;
  const ptrdiff_t S = g->segments > 0 ? g->segments : 1;
  const ptrdiff_t n = g->n, dk = g->d_key, dv = g->d_value;
  const ptrdiff_t H = g->n_heads, Hkv = g->n_kv_heads;
  const infini_layer_config cfg = {H, Hkv, dk, dv, g->rule, g->eps, g->scale};
  infini_state *state = NULL;
  infini_status st = infini_state_create(Hkv, dk, dv, &state);
  if (!after_call(r, "infini_state_create", st))
    return;
  /* Initial memory, when the test gives one (else (S3): zero). */
  const vs_tensor *m0 = cf_find_input(r->c->test, "m", NULL);
  const vs_tensor *z0 = cf_find_input(r->c->test, "z", NULL);
  for (ptrdiff_t h = 0; h < Hkv; h++) {
    float *mh, *zh;
    ptrdiff_t ldm;
    if (!after_call(r, "infini_state_head", infini_state_head(state, h, &mh, &ldm, &zh)))
      goto done;
    for (ptrdiff_t i = 0; i < dk; i++) {
      for (ptrdiff_t j = 0; j < dv; j++) {
        size_t e = (size_t)((h * dk + i) * dv + j);
        if (m0)
          mh[i * ldm + j] = m0->dtype == VS_F64 ? (float)((const double *)m0->data)[e]
                                                : ((const float *)m0->data)[e];
      }
      size_t e = (size_t)(h * dk + i);
      if (z0)
        zh[i] = z0->dtype == VS_F64 ? (float)((const double *)z0->data)[e]
                                    : ((const float *)z0->data)[e];
    }
  }
  gbuf *beta = input_buf(r, "beta", 1, H, 0);
  float *out_all = take(got, "out", (size_t)(S * n * H * dv));
  const int keep = r->n_bufs;
  for (ptrdiff_t s = 0; s < S && r->ok; s++) {
    gbuf *q = input_buf(r, "q", n, H * dk, (size_t)(s * n * H * dk));
    gbuf *k = input_buf(r, "k", n, Hkv * dk, (size_t)(s * n * Hkv * dk));
    gbuf *v = input_buf(r, "v", n, Hkv * dv, (size_t)(s * n * Hkv * dv));
    gbuf *out = new_buf(r, "out", true, n, H * dv, g->ld_out);
    char call[64];
    snprintf(call, sizeof call, "infini_layer_step (segment %td)", s);
    if (after_call(r, call,
                   infini_layer_step(ctx, &cfg, n, q->view, q->ld, k->view, k->ld,
                                     v->view, v->ld, beta->view, state, out->view,
                                     out->ld)))
      gbuf_extract(out, out_all + s * n * H * dv);
    drop_bufs(r, keep);
  }
  if (r->ok) {
    float *m_all = take(got, "m", (size_t)(Hkv * dk * dv));
    float *z_all = take(got, "z", (size_t)(Hkv * dk));
    for (ptrdiff_t h = 0; h < Hkv; h++) {
      float *mh, *zh;
      ptrdiff_t ldm;
      if (!after_call(r, "infini_state_head", infini_state_head(state, h, &mh, &ldm, &zh)))
        break;
      for (ptrdiff_t i = 0; i < dk; i++) {
        for (ptrdiff_t j = 0; j < dv; j++)
          m_all[(h * dk + i) * dv + j] = mh[i * ldm + j];
        z_all[h * dk + i] = zh[i];
      }
    }
  }
done:
  infini_state_free(state);
}

bool cf_run_case(infini_context *ctx, const cf_case *c, cf_outputs *got,
                 char **why) {
  run r;
  memset(&r, 0, sizeof r);
  r.c = c;
  r.ok = true;
  got->n = 0;
  switch (c->group->op) {
  case VS_FEATURE_MAP:
    run_feature_map(&r, ctx, got);
    break;
  case VS_RETRIEVE:
    run_retrieve(&r, ctx, got);
    break;
  case VS_UPDATE_LINEAR:
  case VS_UPDATE_DELTA:
    run_update(&r, ctx, got);
    break;
  case VS_MIX:
    run_mix(&r, ctx, got);
    break;
  case VS_LOCAL_ATTENTION:
    run_local_attention(&r, ctx, got);
    break;
  case VS_SEGMENT_STEP:
    run_segment_step(&r, ctx, got);
    break;
  case VS_LAYER_STEP:
    run_layer_step(&r, ctx, got);
    break;
  default:
    cf_buf_printf(&r.why, "unknown operator");
    r.ok = false;
  }
  drop_bufs(&r, 0);
  if (!r.ok) {
    cf_outputs_free(got);
    *why = cf_buf_take(&r.why);
    return false;
  }
  free(r.why.s);
  *why = NULL;
  return true;
}

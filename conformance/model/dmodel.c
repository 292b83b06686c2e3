/*
 * conformance/model/dmodel.c - the second implementation of the model in
 * double (see dmodel.h), written from docs/model.md: plain loops, one token
 * at a time inside a layer, no sharing of code with src/model.c or the
 * oracle (only the oracle's exp, so that the tolerance arrays it computes
 * rebuild to the bit on every platform).
 *
 * Mutations are branches `if (MUT(name))` with a comment saying which bug
 * they model; noise is `+ jit(m, DS_site, bound)`, which is 0 unless the
 * site is switched on.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/model/dmodel.h"
#include "src/model.h"

/* The oracle's deterministic exp, sin, cos and log (ref/exp_oracle.c,
 * ref/trig_oracle.c): primitives, not the model, so using them keeps this
 * implementation independent while its tolerance arrays rebuild to the
 * bit everywhere. */
double infini_exp_oracle(double x);
#include "ref/model_ops.h"


#define MUT(name) (m->mut == CAT_##name)
#define U 0x1p-24 /* unit roundoff of float32 */

typedef struct dm_layer {
  double *attn_norm, *wq, *wk, *wv, *wo, *beta, *ffn_norm, *wg, *wu, *wd;
} dm_layer;

struct dmodel {
  infini_model_config c;
  dm_mutant mut;
  dm_variant var;
  double *embed, *norm, *lm_head;
  dm_layer *layers;
  double *store; /* every weight, one allocation */
  unsigned sites; /* noise sites switched on (bit dm_site) */
  uint64_t rng;   /* splitmix64 state of the noise signs */
  /* The profile (dm_set_profile), in units of U: kt = u_t / U for the
   * factors of every product, ko = u_o / U for every stored result. */
  double kt, ko;
};

struct dm_stream {
  ptrdiff_t fill;   /* tokens of the current segment already seen */
  ptrdiff_t seg;    /* index of the current segment */
  uint64_t pos;     /* tokens seen in the stream */
  double *mem, *z;  /* [L][Hkv][dh][dh], [L][Hkv][dh] */
  double *k, *kr, *v; /* segment cache [L][N][Hkv*dh]: keys, rotated keys, values */
  double *x, *q, *qr; /* chunk: residual [N][D], queries [N][H*dh] (raw, rotated) */
  double *un, *att, *tmp, *g, *up; /* one token: [D], [H*dh], [D], [F], [F] */
};

/* ---- names -------------------------------------------------------------- */

#define NAME(name, desc) #name,
#define DESC(name, desc) desc,
static const char *const site_names[] = {DM_SITES(NAME)};
static const char *const site_descs[] = {DM_SITES(DESC)};
#undef NAME
#undef DESC
const char *dm_mutant_name(dm_mutant x) { return x == DM_NONE ? "none" : cat_get(x)->name; }
const char *dm_mutant_desc(dm_mutant x) { return x == DM_NONE ? "no mutation" : cat_get(x)->message; }
const char *dm_variant_name(dm_variant x) { return cat_get(x)->name; }
const char *dm_variant_desc(dm_variant x) { return cat_get(x)->message; }
const char *dm_site_name(dm_site x) { return site_names[x]; }
const char *dm_site_desc(dm_site x) { return site_descs[x]; }

/* ---- noise -------------------------------------------------------------- */

void dm_set_noise(dmodel *m, unsigned sites, uint64_t seed) {
  m->sites = sites;
  m->rng = seed;
}

void dm_set_profile(dmodel *m, double u_t, double u_o) {
  m->kt = u_t / U;
  m->ko = u_o / U;
}

/* The profile's additions to a site's bound (in units of U): both factors
 * of each product rounded, 2 u_t times the products' magnitude; and
 * `roundings` stores of a result of size |v|, u_o each. Both are 0 under
 * fp32, so the fp32 tolerance is unchanged to the bit. */
static double factors(const dmodel *m, double product_mag) { return 2.0 * m->kt * product_mag; }
static double stores(const dmodel *m, double roundings, double v) {
  return roundings * m->ko * fabs(v);
}

/* u * bound with a random sign when the site is on, else 0. The sign is
 * splitmix64's top bit: rounding errors are not adversarial, and the
 * amplitude is already the worst case of each site. */
static double jit(dmodel *m, dm_site site, double bound) {
  if (!(m->sites >> site & 1u))
    return 0.0;
  uint64_t z = (m->rng += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  z ^= z >> 31;
  return (z >> 63 ? U : -U) * bound;
}

/* ---- weights ------------------------------------------------------------ */

static double *take(double **p, const float *src, ptrdiff_t count) {
  double *d = *p;
  for (ptrdiff_t i = 0; i < count; i++)
    d[i] = src[i];
  *p += count;
  return d;
}

/* The interleaved-pair RoPE variant rotates pairs (2i, 2i+1) where the
 * model rotates (i, i + dh/2): permuting each head's rows of W_q and W_k
 * the same way makes the two compute the same scores (a dot product does
 * not depend on the order of its terms) and the same memory (sigma acts
 * element-wise and retrieval sums over the key dimension). */
static void interleave_rows(double *w, ptrdiff_t heads, ptrdiff_t dh,
                            ptrdiff_t cols, double *tmp) {
  for (ptrdiff_t h = 0; h < heads; h++) {
    double *head = w + h * dh * cols;
    memcpy(tmp, head, sizeof(double) * (size_t)(dh * cols));
    for (ptrdiff_t i = 0; i < dh / 2; i++) {
      memcpy(head + 2 * i * cols, tmp + i * cols, sizeof(double) * (size_t)cols);
      memcpy(head + (2 * i + 1) * cols, tmp + (i + dh / 2) * cols,
             sizeof(double) * (size_t)cols);
    }
  }
}

static void copy_layer(dmodel *m, const model_layer_weights *w, dm_layer *d,
                       double **p) {
  const infini_model_config *c = &m->c;
  const ptrdiff_t D = c->d_model, F = c->d_ff, hq = c->n_heads * c->d_head,
                  hkv = c->n_kv_heads * c->d_head;
  d->attn_norm = take(p, w->attn_norm, D);
  d->wq = take(p, w->wq, hq * D);
  d->wk = take(p, w->wk, hkv * D);
  d->wv = take(p, w->wv, hkv * D);
  d->wo = take(p, w->wo, D * hq);
  d->beta = take(p, w->beta, c->n_heads);
  d->ffn_norm = take(p, w->ffn_norm, D);
  d->wg = take(p, w->w_gate, F * D);
  d->wu = take(p, w->w_up, F * D);
  d->wd = take(p, w->w_down, D * F);
}

infini_status dm_create(const infini_model *model, dm_mutant mutant,
                        dm_variant variant, dmodel **out) {
  const infini_model_config *c = &model->config;
  const ptrdiff_t D = c->d_model, V = c->vocab_size, F = c->d_ff,
                  hq = c->n_heads * c->d_head, hkv = c->n_kv_heads * c->d_head;
  const ptrdiff_t per_layer = 2 * D + 2 * hq * D + 2 * hkv * D + c->n_heads +
                              3 * F * D;
  dmodel *m = calloc(1, sizeof *m);
  if (!m)
    return INFINI_ERR_NOMEM;
  m->c = *c;
  m->mut = mutant;
  m->var = variant;
  m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
  m->store = malloc(sizeof(double) * (size_t)(2 * V * D + D + c->n_layers * per_layer));
  double *tmp = malloc(sizeof(double) * (size_t)(c->d_head * D));
  if (!m->layers || !m->store || !tmp) {
    free(tmp);
    dm_free(m);
    return INFINI_ERR_NOMEM;
  }
  double *p = m->store;
  m->embed = take(&p, model->embed, V * D);
  m->norm = take(&p, model->norm, D);
  m->lm_head = take(&p, model->lm_head, V * D);
  for (ptrdiff_t l = 0; l < c->n_layers; l++) {
    copy_layer(m, &model->layers[l], &m->layers[l], &p);
    if (variant == CAT_rope_interleaved) {
      interleave_rows(m->layers[l].wq, c->n_heads, c->d_head, D, tmp);
      interleave_rows(m->layers[l].wk, c->n_kv_heads, c->d_head, D, tmp);
    }
  }
  free(tmp);
  *out = m;
  return INFINI_OK;
}

void dm_free(dmodel *m) {
  if (!m)
    return;
  free(m->store);
  free(m->layers);
  free(m);
}

const infini_model_config *dm_config(const dmodel *m) { return &m->c; }

/* ---- streams ------------------------------------------------------------ */

infini_status dm_stream_create(const dmodel *m, dm_stream **out) {
  const infini_model_config *c = &m->c;
  const size_t L = (size_t)c->n_layers, N = (size_t)c->segment_len,
               D = (size_t)c->d_model, dh = (size_t)c->d_head,
               hkv = (size_t)c->n_kv_heads, hq = (size_t)c->n_heads * dh,
               F = (size_t)c->d_ff;
  dm_stream *s = calloc(1, sizeof *s);
  if (!s)
    return INFINI_ERR_NOMEM;
  s->mem = calloc(L * hkv * dh * dh, sizeof(double));
  s->z = calloc(L * hkv * dh, sizeof(double));
  s->k = calloc(L * N * hkv * dh, sizeof(double));
  s->kr = calloc(L * N * hkv * dh, sizeof(double));
  s->v = calloc(L * N * hkv * dh, sizeof(double));
  s->x = calloc(N * D, sizeof(double));
  s->q = calloc(N * hq, sizeof(double));
  s->qr = calloc(N * hq, sizeof(double));
  s->un = calloc(D, sizeof(double));
  s->att = calloc(hq, sizeof(double));
  s->tmp = calloc(D, sizeof(double));
  s->g = calloc(F, sizeof(double));
  s->up = calloc(F, sizeof(double));
  if (!s->mem || !s->z || !s->k || !s->kr || !s->v || !s->x || !s->q ||
      !s->qr || !s->un || !s->att || !s->tmp || !s->g || !s->up) {
    dm_stream_free(s);
    return INFINI_ERR_NOMEM;
  }
  *out = s;
  return INFINI_OK;
}

void dm_stream_free(dm_stream *s) {
  if (!s)
    return;
  double *all[] = {s->mem, s->z, s->k, s->kr, s->v, s->x, s->q,
                   s->qr, s->un, s->att, s->tmp, s->g, s->up};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    free(all[i]);
  free(s);
}

/* ---- the per-token operations ------------------------------------------ */

/* RMSNorm (docs/model.md): y = w x / sqrt(mean(x^2) + eps). */
static void rmsnorm(dmodel *m, const double *x, const double *w, double *y) {
  const ptrdiff_t D = m->c.d_model;
  /* MUTANT rms_no_eps: the epsilon forgotten. */
  const double eps = MUT(rms_no_eps) ? 0.0 : (double)m->c.norm_eps;
  double mean = 0.0, ss = 0.0;
  /* MUTANT rms_mean: LayerNorm's centring, (x - mean) / std. */
  if (MUT(rms_mean)) {
    for (ptrdiff_t i = 0; i < D; i++)
      mean += x[i];
    mean /= (double)D;
  }
  for (ptrdiff_t i = 0; i < D; i++)
    ss += (x[i] - mean) * (x[i] - mean);
  const double r = 1.0 / sqrt(ss / (double)D + eps);
  for (ptrdiff_t i = 0; i < D; i++) {
    y[i] = w[i] * ((x[i] - mean) * r);
    y[i] += jit(m, DS_norm, (double)(D + 4) * fabs(y[i]) + stores(m, 1, y[i]));
  }
}

/* y = W x, W [rows x cols] (nn.Linear layout). */
static void dense(dmodel *m, const double *w, ptrdiff_t rows, ptrdiff_t cols,
                  const double *x, double *y) {
  const bool noisy = m->sites >> DS_dense & 1u;
  for (ptrdiff_t r = 0; r < rows; r++) {
    const double *wr = w + r * cols;
    double s = 0.0, mag = 0.0;
    for (ptrdiff_t j = 0; j < cols; j++)
      s += wr[j] * x[j];
    if (noisy)
      for (ptrdiff_t j = 0; j < cols; j++)
        mag += fabs(wr[j] * x[j]);
    y[r] = s + jit(m, DS_dense, (double)cols * mag + factors(m, mag) + stores(m, 1, s));
  }
}

/* RoPE (docs/model.md): pairs (i, i + dh/2) rotated by p theta^(-2i/dh);
 * the interleaved variant rotates (2i, 2i + 1). */
static void rope(dmodel *m, const double *x, double p, double *y) {
  const ptrdiff_t dh = m->c.d_head, half = dh / 2;
  const bool inter = m->var == CAT_rope_interleaved;
  for (ptrdiff_t i = 0; i < half; i++) {
    const ptrdiff_t a = inter ? 2 * i : i, b = inter ? 2 * i + 1 : i + half;
    const double freq = infini_exp_oracle(-(2.0 * (double)i / (double)dh) *
                                          infini_log_oracle((double)m->c.rope_theta));
    const double ang = p * freq;
    const double cs = infini_cos_oracle(ang), sn = infini_sin_oracle(ang), bound = (5.0 + 3.0 * ang) *
                                                        (fabs(x[a]) + fabs(x[b]));
    /* stored: two products and a sum, each rounded */
    const double all = bound + stores(m, 3, fabs(x[a]) + fabs(x[b]));
    y[a] = x[a] * cs - x[b] * sn + jit(m, DS_rope, all);
    y[b] = x[b] * cs + x[a] * sn + jit(m, DS_rope, all);
  }
}

/* The local attention's view of one head row: rotated, or as is. */
static void position(dmodel *m, const double *x, double p, double *y) {
  if (m->c.position == INFINI_POSITION_ROPE)
    rope(m, x, p, y);
  else
    memcpy(y, x, sizeof(double) * (size_t)m->c.d_head);
}

static double sigma(double x) { return x > 0.0 ? x + 1.0 : infini_exp_oracle(x); }
/* The scale of sigma's rounding error (docs/tolerances.md, F). */
static double sigma_hat(double x) { return x > 0.0 ? x + 1.0 : 1.0; }

/* Memory retrieval (7) of one row q [dh] from mem [dh x dh], z [dh]; the
 * zero-row rule (S5) gives 0 when the denominator is 0. pm (may be NULL)
 * receives the magnitude R1 of each output. */
static void retrieve(dmodel *m, const double *q, const double *mem,
                     const double *z, double *a, double *pm, bool noisy) {
  const ptrdiff_t dh = m->c.d_head;
  const double eps = (double)m->c.attn_eps;
  double den = eps, dmag = eps;
  for (ptrdiff_t c = 0; c < dh; c++) {
    den += sigma(q[c]) * z[c];
    dmag += sigma_hat(q[c]) * fabs(z[c]);
  }
  for (ptrdiff_t j = 0; j < dh; j++) {
    double num = 0.0, nmag = 0.0;
    for (ptrdiff_t c = 0; c < dh; c++) {
      num += sigma(q[c]) * mem[c * dh + j];
      nmag += sigma_hat(q[c]) * fabs(mem[c * dh + j]);
    }
    a[j] = den == 0.0 ? 0.0 : num / den;
    const double mag = den == 0.0 ? 0.0 : (nmag + fabs(a[j]) * dmag) / fabs(den);
    if (pm)
      pm[j] = mag;
    if (noisy)
      /* numerator and denominator are products, and stored */
      a[j] += jit(m, DS_retrieve, (double)(dh + 5) * mag + factors(m, mag) + stores(m, 2, mag));
  }
}

/* Causal local attention (6) of query row q over keys/values rows 0..r
 * (row stride ld) of one kv head; a [dh]. */
static void attend(dmodel *m, const double *q, const double *k,
                   const double *v, ptrdiff_t ld, ptrdiff_t r, double *a,
                   double *w) {
  const ptrdiff_t dh = m->c.d_head;
  const double scale = (double)m->c.attn_scale;
  double mx = -INFINITY, sum = 0.0;
  for (ptrdiff_t j = 0; j <= r; j++) {
    double s = 0.0;
    for (ptrdiff_t c = 0; c < dh; c++)
      s += q[c] * k[j * ld + c];
    w[j] = scale * s;
    mx = fmax(mx, w[j]);
  }
  for (ptrdiff_t j = 0; j <= r; j++) {
    double smag = 0.0;
    if (m->sites >> DS_scores & 1u)
      for (ptrdiff_t c = 0; c < dh; c++)
        smag += fabs(scale * q[c] * k[j * ld + c]);
    const double e = (double)(dh + 1) * smag + 3.0 * fabs(w[j] - mx) + 2.0 +
                     factors(m, smag) + stores(m, 1, w[j]);
    w[j] = infini_exp_oracle(w[j] - mx + jit(m, DS_scores, e));
    sum += w[j];
  }
  for (ptrdiff_t c = 0; c < dh; c++) {
    double s = 0.0, vmag = 0.0;
    for (ptrdiff_t j = 0; j <= r; j++) {
      s += w[j] * v[j * ld + c];
      vmag += w[j] * fabs(v[j * ld + c]);
    }
    a[c] = s / sum + jit(m, DS_attn_sum, (double)(4 * (r + 1) + 2) * vmag / sum +
                                             factors(m, vmag / sum) + stores(m, 1, s / sum));
  }
}

/* Memory update (8)/(9) of one kv head with rows 0..n-1 of k, v (stride
 * ld): linear M += sigma(K)^T V, delta M += sigma(K)^T (V - pred), and
 * z += sum sigma(k). The prediction uses the memory before the update. */
static void update(dmodel *m, const double *k, const double *v, ptrdiff_t ld,
                   ptrdiff_t n, double *mem, double *z, double *work) {
  const ptrdiff_t dh = m->c.d_head;
  const bool delta = m->c.rule == INFINI_UPDATE_DELTA;
  double *w = work, *pm = work + n * dh, *nm = work + 2 * n * dh;
  for (ptrdiff_t t = 0; t < n; t++)
    for (ptrdiff_t c = 0; c < dh; c++)
      w[t * dh + c] = v[t * ld + c], pm[t * dh + c] = 0.0;
  if (delta)
    for (ptrdiff_t t = 0; t < n; t++) {
      retrieve(m, k + t * ld, mem, z, nm, pm + t * dh, false);
      for (ptrdiff_t c = 0; c < dh; c++)
        w[t * dh + c] -= nm[c];
    }
  const double cm = delta ? fmax((double)(n + 4), (double)(dh + 5)) : (double)(n + 3);
  for (ptrdiff_t r = 0; r < dh; r++) {
    double zs = 0.0, zmag = fabs(z[r]);
    for (ptrdiff_t t = 0; t < n; t++) {
      zs += sigma(k[t * ld + r]);
      zmag += sigma_hat(k[t * ld + r]);
    }
    for (ptrdiff_t c = 0; c < dh; c++) {
      double s = 0.0, mag = fabs(mem[r * dh + c]);
      for (ptrdiff_t t = 0; t < n; t++) {
        const double sk = sigma(k[t * ld + r]);
        s += sk * w[t * dh + c];
        mag += sigma_hat(k[t * ld + r]) * fabs(w[t * dh + c]) + sk * pm[t * dh + c];
      }
      /* the product sigma(K)^T W read in the profile's factors and
       * stored once before it is added to the (float32) memory */
      mem[r * dh + c] += s + jit(m, DS_memory, cm * mag + factors(m, mag) + stores(m, 1, mag));
    }
    z[r] += zs + jit(m, DS_memory, (double)(n + 2) * zmag + stores(m, 1, zmag));
  }
}

/* ---- one layer on a chunk of tokens within one segment ------------------ */

typedef struct chunk {
  ptrdiff_t first; /* row of the chunk's first token in the segment cache */
  ptrdiff_t n;     /* tokens */
  ptrdiff_t seg_n; /* tokens of the whole segment */
  uint64_t pos;    /* stream position of the first token */
} chunk;

static double *layer_mem(const dmodel *m, dm_stream *s, ptrdiff_t l, double **z) {
  const ptrdiff_t dh = m->c.d_head, hkv = m->c.n_kv_heads;
  /* MUTANT shared_memory: every layer reads and updates layer 0's memory. */
  const ptrdiff_t ll = MUT(shared_memory) ? 0 : l;
  *z = s->z + ll * hkv * dh;
  return s->mem + ll * hkv * dh * dh;
}

/* Keys the memory reads: before RoPE. */
static const double *mem_keys(const dmodel *m, const dm_stream *s, ptrdiff_t l) {
  const ptrdiff_t off = l * m->c.segment_len * m->c.n_kv_heads * m->c.d_head;
  /* MUTANT rope_before_memory: the rotated keys go into the memory. */
  return (MUT(rope_before_memory) ? s->kr : s->k) + off;
}

static void fold_segment(dmodel *m, dm_stream *s, ptrdiff_t l, ptrdiff_t n,
                         double *work) {
  const ptrdiff_t dh = m->c.d_head, hkv = m->c.n_kv_heads, ld = hkv * dh;
  const ptrdiff_t off = l * m->c.segment_len * ld;
  double *z, *mem = layer_mem(m, s, l, &z);
  for (ptrdiff_t h = 0; h < hkv; h++)
    update(m, mem_keys(m, s, l) + h * dh, s->v + off + h * dh, ld, n,
           mem + h * dh * dh, z + h * dh, work);
}

/* Norm, projections and RoPE of every token of the chunk: queries to
 * s->q / s->qr, keys and values into the segment cache. */
static void project(dmodel *m, dm_stream *s, ptrdiff_t l, const chunk *ck) {
  const infini_model_config *c = &m->c;
  const dm_layer *w = &m->layers[l];
  const ptrdiff_t D = c->d_model, dh = c->d_head, hq = c->n_heads * dh,
                  hkv = c->n_kv_heads * dh, off = l * c->segment_len * hkv;
  for (ptrdiff_t i = 0; i < ck->n; i++) {
    const ptrdiff_t row = ck->first + i;
    double *q = s->q + i * hq, *qr = s->qr + i * hq, *k = s->k + off + row * hkv,
           *kr = s->kr + off + row * hkv;
    rmsnorm(m, s->x + i * D, w->attn_norm, s->un);
    dense(m, w->wq, hq, D, s->un, q);
    dense(m, w->wk, hkv, D, s->un, k);
    dense(m, w->wv, hkv, D, s->un, s->v + off + row * hkv);
    /* In-segment positions (docs/model.md); the variant uses the stream's. */
    const double p = m->var == CAT_abs_positions ? (double)(ck->pos + (uint64_t)i)
                                                : (double)row;
    for (ptrdiff_t h = 0; h < hq; h += dh)
      position(m, q + h, p, qr + h);
    for (ptrdiff_t h = 0; h < hkv; h += dh)
      position(m, k + h, p, kr + h);
  }
}

/* Attention of token i of the chunk: every query head, memory and local. */
static void attention(dmodel *m, dm_stream *s, ptrdiff_t l, const chunk *ck,
                      ptrdiff_t i, double *work) {
  const infini_model_config *c = &m->c;
  const ptrdiff_t dh = c->d_head, hq = c->n_heads * dh, hkv = c->n_kv_heads * dh,
                  off = l * c->segment_len * hkv, G = c->n_heads / c->n_kv_heads;
  double *z, *mem = layer_mem(m, s, l, &z), *a_mem = work, *a_dot = work + dh;
  /* MUTANT rope_before_memory: the rotated query reads the memory. */
  const double *qm = (MUT(rope_before_memory) ? s->qr : s->q) + i * hq;
  for (ptrdiff_t h = 0; h < c->n_heads; h++) {
    /* MUTANT gqa_mod: query head h reads kv head h % H_kv. */
    const ptrdiff_t kv = MUT(gqa_mod) ? h % c->n_kv_heads : h / G;
    retrieve(m, qm + h * dh, mem + kv * dh * dh, z + kv * dh, a_mem, NULL, true);
    attend(m, s->qr + i * hq + h * dh, s->kr + off + kv * dh, s->v + off + kv * dh,
           hkv, ck->first + i, a_dot, work + 2 * dh);
    const double g = 1.0 / (1.0 + infini_exp_oracle(-(double)m->layers[l].beta[h]));
    for (ptrdiff_t j = 0; j < dh; j++) {
      const double o = g * a_mem[j] + (1.0 - g) * a_dot[j];
      const double mag = fabs(g * a_mem[j]) + fabs(a_dot[j]);
      /* stored: two products and the sum */
      s->att[h * dh + j] = o + jit(m, DS_mix, 7.0 * mag + stores(m, 3, mag));
    }
  }
}

static double silu(double x) { return x / (1.0 + infini_exp_oracle(-x)); }
static double gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

static void residual(dmodel *m, double *x, const double *y, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) {
    x[i] += y[i];
    x[i] += jit(m, DS_residual, fabs(x[i]) + stores(m, 1, x[i]));
  }
}

/* SwiGLU block with its residual: x += W_down (silu(W_gate u) * W_up u). */
static void ffn(dmodel *m, const dm_layer *w, double *x, dm_stream *s) {
  const ptrdiff_t D = m->c.d_model, F = m->c.d_ff;
  rmsnorm(m, x, w->ffn_norm, s->un);
  dense(m, w->wg, F, D, s->un, s->g);
  dense(m, w->wu, F, D, s->un, s->up);
  for (ptrdiff_t f = 0; f < F; f++) {
    /* MUTANT gelu: GELU where SwiGLU has SiLU. */
    const double a = (MUT(gelu) ? gelu(s->g[f]) : silu(s->g[f])) * s->up[f];
    /* stored: silu(g) and the product */
    s->g[f] = a + jit(m, DS_act, 5.0 * fabs(a) + stores(m, 2, a));
  }
  dense(m, w->wd, D, F, s->g, s->tmp);
  residual(m, x, s->tmp, D);
}

/* MUTANT update_first: the segment is folded into the memory before its
 * tokens read it (whole-segment calls), instead of after its last token. */
static bool folds_early(const dmodel *m, const chunk *ck) {
  return MUT(update_first) && ck->first == 0 && ck->n == ck->seg_n;
}

static void layer(dmodel *m, dm_stream *s, ptrdiff_t l, const chunk *ck,
                  double *work) {
  const ptrdiff_t D = m->c.d_model, hq = m->c.n_heads * m->c.d_head;
  project(m, s, l, ck);
  if (folds_early(m, ck))
    fold_segment(m, s, l, ck->n, work);
  for (ptrdiff_t i = 0; i < ck->n; i++) {
    double *x = s->x + i * D;
    attention(m, s, l, ck, i, work);
    dense(m, m->layers[l].wo, D, hq, s->att, s->tmp);
    residual(m, x, s->tmp, D);
    ffn(m, &m->layers[l], x, s);
  }
}

/* ---- the stream --------------------------------------------------------- */

/* Tokens of segment seg (the boundary mutant makes the first one short). */
static ptrdiff_t segment_tokens(const dmodel *m, ptrdiff_t seg) {
  /* MUTANT boundary_off_by_one: segments cut at N-1, 2N-1, ... */
  return MUT(boundary_off_by_one) && seg == 0 ? m->c.segment_len - 1
                                              : m->c.segment_len;
}

static void end_segment(dmodel *m, dm_stream *s, const chunk *ck, double *work) {
  const infini_model_config *c = &m->c;
  const size_t mem_n = (size_t)(c->n_layers * c->n_kv_heads * c->d_head);
  for (ptrdiff_t l = 0; l < c->n_layers; l++)
    if (!folds_early(m, ck))
      fold_segment(m, s, l, ck->seg_n, work);
  /* MUTANT memory_reset: nothing carries over to the next segment. */
  if (MUT(mem_reset)) {
    memset(s->mem, 0, sizeof(double) * mem_n * (size_t)c->d_head);
    memset(s->z, 0, sizeof(double) * mem_n);
  }
  s->fill = 0;
  s->seg++;
}

static void outputs(dmodel *m, dm_stream *s, const chunk *ck, ptrdiff_t at,
                    double *logits) {
  const ptrdiff_t D = m->c.d_model, V = m->c.vocab_size;
  for (ptrdiff_t i = 0; i < ck->n; i++) {
    /* MUTANT no_final_norm: the LM head reads the raw residual stream. */
    if (MUT(no_final_norm))
      memcpy(s->un, s->x + i * D, sizeof(double) * (size_t)D);
    else
      rmsnorm(m, s->x + i * D, m->norm, s->un);
    dense(m, m->lm_head, V, D, s->un, logits + (at + i) * V);
  }
}

static void run_chunk(dmodel *m, dm_stream *s, const int32_t *tok,
                      const chunk *ck, ptrdiff_t at, ptrdiff_t n_all,
                      double *logits, double *hidden, double *work) {
  const ptrdiff_t D = m->c.d_model;
  for (ptrdiff_t i = 0; i < ck->n; i++)
    for (ptrdiff_t j = 0; j < D; j++)
      s->x[i * D + j] = m->embed[(ptrdiff_t)tok[i] * D + j];
  for (ptrdiff_t l = 0; l < m->c.n_layers; l++) {
    layer(m, s, l, ck, work);
    if (hidden)
      memcpy(hidden + (l * n_all + at) * D, s->x, sizeof(double) * (size_t)(ck->n * D));
  }
  if (logits)
    outputs(m, s, ck, at, logits);
  s->fill += ck->n;
  s->pos += (uint64_t)ck->n;
  if (s->fill == ck->seg_n)
    end_segment(m, s, ck, work);
}

infini_status dm_forward(dmodel *m, dm_stream *s, const int32_t *tokens,
                         ptrdiff_t n, double *logits, double *hidden) {
  const ptrdiff_t N = m->c.segment_len, dh = m->c.d_head;
  for (ptrdiff_t i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= m->c.vocab_size)
      return INFINI_ERR_PARAM;
  /* Work: delta update 3 N dh, attention 2 dh + N. */
  double *work = malloc(sizeof(double) * (size_t)(3 * N * dh + 2 * dh + N));
  if (!work)
    return INFINI_ERR_NOMEM;
  for (ptrdiff_t at = 0; at < n;) {
    chunk ck = {s->fill, 0, segment_tokens(m, s->seg), s->pos};
    ck.n = ck.seg_n - s->fill < n - at ? ck.seg_n - s->fill : n - at;
    run_chunk(m, s, tokens + at, &ck, at, n, logits, hidden, work);
    at += ck.n;
  }
  free(work);
  return INFINI_OK;
}

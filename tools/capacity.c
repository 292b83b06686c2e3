/*
 * tools/capacity.c - the experiments of infini-capacity (tools/capacity.h,
 * docs/capacity.md). The memory is driven through the public API only;
 * keys, values and every metric are computed here in double.
 */
#include "config.h"
#include "tools/capacity.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vectors/prng.h"

uint64_t cap_trial_seed(uint64_t seed, uint64_t trial, uint64_t tag) {
  vs_rng r = {seed};
  uint64_t h = vs_next(&r);
  r.state = h ^ (trial * UINT64_C(0xD1B54A32D192ED03));
  h = vs_next(&r);
  r.state = h ^ (tag * UINT64_C(0x8CB92BA72F3D8DD7));
  return vs_next(&r);
}

/* A standard normal (Box-Muller from two 53-bit uniforms in (0, 1]). */
static double gaussian(vs_rng *r) {
  const double u1 = (double)((vs_next(r) >> 11) + 1) * 0x1p-53;
  const double u2 = (double)(vs_next(r) >> 11) * 0x1p-53;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* rows x cols keys (the inputs of sigma) for items first..first+rows-1;
 * shared is the common direction of correlated keys (cols entries). */
static void make_keys(vs_rng *r, const cap_keyspec *s, const double *shared,
                      ptrdiff_t first, ptrdiff_t rows, ptrdiff_t cols,
                      float *k) {
  const double a = s->kind == CAP_KEYS_CORR ? sqrt(s->rho) : 0.0;
  const double b = s->kind == CAP_KEYS_CORR ? sqrt(1.0 - s->rho) : 1.0;
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t c = 0; c < cols; c++) {
      double x;
      if (s->kind == CAP_KEYS_ONEHOT)
        x = (first + i) % cols == c ? 0.0 : -s->shift;
      else
        x = s->scale * (a * shared[c] + b * gaussian(r)) - s->shift;
      k[i * cols + c] = (float)x;
    }
}

static void make_values(vs_rng *r, ptrdiff_t count, float *v) {
  for (ptrdiff_t i = 0; i < count; i++)
    v[i] = (float)gaussian(r);
}

/* Keys and values of one trial, and the memory they are written into. */
typedef struct trial {
  ptrdiff_t n;
  float *k, *v, *m, *z, *a;
} trial;

static void trial_free(trial *t) {
  free(t->k);
  free(t->v);
  free(t->m);
  free(t->z);
  free(t->a);
}

static infini_status trial_make(const cap_memory *mem, const cap_keyspec *s,
                                ptrdiff_t n, uint64_t seed, trial *t) {
  const size_t dk = (size_t)mem->d_key, dv = (size_t)mem->d_value;
  memset(t, 0, sizeof *t);
  t->n = n;
  t->k = malloc((size_t)n * dk * sizeof(float));
  t->v = malloc((size_t)n * dv * sizeof(float));
  t->a = malloc((size_t)n * dv * sizeof(float));
  t->m = calloc(dk * dv, sizeof(float));
  t->z = calloc(dk, sizeof(float));
  double *shared = malloc(dk * sizeof(double));
  if (!t->k || !t->v || !t->a || !t->m || !t->z || !shared) {
    free(shared);
    trial_free(t);
    memset(t, 0, sizeof *t); /* so that the caller's trial_free is safe */
    return INFINI_ERR_NOMEM;
  }
  vs_rng r = {seed};
  for (size_t c = 0; c < dk; c++)
    shared[c] = gaussian(&r);
  make_keys(&r, s, shared, 0, n, mem->d_key, t->k);
  make_values(&r, n * mem->d_value, t->v);
  free(shared);
  return INFINI_OK;
}

/* Write items first..first+count-1 as one segment. */
static infini_status write_segment(const cap_memory *mem, trial *t,
                                   ptrdiff_t first, ptrdiff_t count) {
  const infini_head_shape shape = {count, mem->d_key, mem->d_value};
  const float *k = t->k + first * mem->d_key;
  const float *v = t->v + first * mem->d_value;
  if (mem->rule == INFINI_UPDATE_DELTA)
    return infini_update_delta(mem->ctx, &shape, k, mem->d_key, v,
                               mem->d_value, t->m, mem->d_value, t->z,
                               mem->eps);
  return infini_update_linear(mem->ctx, &shape, k, mem->d_key, v,
                              mem->d_value, t->m, mem->d_value, t->z);
}

static double dot(const float *x, const float *y, ptrdiff_t n) {
  double s = 0;
  for (ptrdiff_t i = 0; i < n; i++)
    s += (double)x[i] * y[i];
  return s;
}

/* Metrics of the retrievals a (one row per probe, rows of v from
 * probe0) against values v; top-1 among the first `candidates` values. */
static void score(const float *a, const float *v, ptrdiff_t dv,
                  ptrdiff_t probe0, ptrdiff_t probes, ptrdiff_t candidates,
                  cap_metrics *out) {
  double err = 0, cs = 0, top = 0;
  double *norm = malloc((size_t)candidates * sizeof *norm);
  for (ptrdiff_t j = 0; norm && j < candidates; j++)
    norm[j] = sqrt(dot(v + j * dv, v + j * dv, dv));
  for (ptrdiff_t p = 0; p < probes; p++) {
    const float *ap = a + p * dv, *vp = v + (probe0 + p) * dv;
    const double aa = dot(ap, ap, dv), vv = dot(vp, vp, dv);
    const double av = dot(ap, vp, dv);
    double miss = 0; /* |a - v|^2 summed directly: exactly 0 iff a == v */
    for (ptrdiff_t c = 0; c < dv; c++)
      miss += ((double)ap[c] - vp[c]) * ((double)ap[c] - vp[c]);
    err += sqrt(miss / vv);
    const double own = aa > 0 ? av / (sqrt(aa) * sqrt(vv)) : 0.0;
    cs += own;
    /* identified when no other candidate is at least as close */
    bool best = aa > 0;
    for (ptrdiff_t j = 0; j < candidates && best; j++) {
      if (j == probe0 + p)
        continue;
      const float *vj = v + j * dv;
      const double nj = norm ? norm[j] : sqrt(dot(vj, vj, dv));
      if (dot(ap, vj, dv) / (sqrt(aa) * nj) >= own)
        best = false;
    }
    top += best;
  }
  free(norm);
  out->err = err / (double)probes;
  out->cos = cs / (double)probes;
  out->top1 = top / (double)probes;
}

/* Retrieve items probe0..probe0+probes-1 with their keys and score them. */
static infini_status probe(const cap_memory *mem, trial *t, ptrdiff_t probe0,
                           ptrdiff_t probes, ptrdiff_t candidates,
                           cap_metrics *out) {
  const infini_head_shape shape = {probes, mem->d_key, mem->d_value};
  const infini_status st =
      infini_retrieve(mem->ctx, &shape, t->k + probe0 * mem->d_key,
                      mem->d_key, t->m, mem->d_value, t->z, mem->eps, t->a,
                      mem->d_value);
  if (st == INFINI_OK)
    score(t->a, t->v, mem->d_value, probe0, probes, candidates, out);
  return st;
}

/* The least-squares ceiling: A = P V, P the orthogonal projector onto
 * the span of the columns of F = sigma(K) (n x d_key), i.e. the fitted
 * values of the best linear map W minimising ||F W - V||. Modified
 * Gram-Schmidt in double, each column orthogonalised twice ("twice is
 * enough"); a column whose residual falls below 1e-10 of its norm is
 * dependent and dropped. */
static void lsq_fit(const float *f, ptrdiff_t n, ptrdiff_t dk,
                    const float *v, ptrdiff_t dv, double *q, double *fit,
                    float *a) {
  ptrdiff_t rank = 0;
  for (ptrdiff_t c = 0; c < dk; c++) {
    double *qc = q + rank * n, norm0 = 0, norm = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
      qc[i] = f[i * dk + c];
      norm0 += qc[i] * qc[i];
    }
    for (int pass = 0; pass < 2; pass++)
      for (ptrdiff_t j = 0; j < rank; j++) {
        const double *qj = q + j * n;
        double s = 0;
        for (ptrdiff_t i = 0; i < n; i++)
          s += qj[i] * qc[i];
        for (ptrdiff_t i = 0; i < n; i++)
          qc[i] -= s * qj[i];
      }
    for (ptrdiff_t i = 0; i < n; i++)
      norm += qc[i] * qc[i];
    if (norm0 == 0 || norm <= 1e-20 * norm0)
      continue;
    for (ptrdiff_t i = 0; i < n; i++)
      qc[i] /= sqrt(norm);
    rank++;
  }
  for (ptrdiff_t col = 0; col < dv; col++) {
    for (ptrdiff_t i = 0; i < n; i++)
      fit[i] = 0;
    for (ptrdiff_t j = 0; j < rank; j++) {
      const double *qj = q + j * n;
      double s = 0;
      for (ptrdiff_t r = 0; r < n; r++)
        s += qj[r] * v[r * dv + col];
      for (ptrdiff_t i = 0; i < n; i++)
        fit[i] += s * qj[i];
    }
    for (ptrdiff_t i = 0; i < n; i++)
      a[i * dv + col] = (float)fit[i];
  }
}

/* The ceiling's metrics and the key features' mean overlap. */
static infini_status lsq_and_overlap(const cap_memory *mem, trial *t,
                                     cap_capacity_result *out) {
  const ptrdiff_t n = t->n, dk = mem->d_key, dv = mem->d_value;
  float *f = malloc((size_t)n * (size_t)dk * sizeof(float));
  double *q = malloc((size_t)n * (size_t)dk * sizeof(double));
  double *fit = malloc((size_t)n * sizeof(double));
  infini_status st = f && q && fit ? INFINI_OK : INFINI_ERR_NOMEM;
  if (!st)
    st = infini_feature_map(mem->ctx, n, dk, t->k, dk, f, dk);
  if (!st) {
    double self = 0, cross = 0, self2 = 0, cross2 = 0;
    for (ptrdiff_t i = 0; i < n; i++)
      for (ptrdiff_t j = 0; j < n; j++) {
        const double w = dot(f + i * dk, f + j * dk, dk);
        *(i == j ? &self : &cross) += w;
        *(i == j ? &self2 : &cross2) += w * w;
      }
    const double pairs = (double)n * (double)(n - 1);
    const bool some = n > 1 && self > 0;
    out->overlap = some ? cross / pairs / (self / (double)n) : 0.0;
    out->overlap_rms = some ? sqrt(cross2 / pairs / (self2 / (double)n)) : 0.0;
    lsq_fit(f, n, dk, t->v, dv, q, fit, t->a);
    score(t->a, t->v, dv, 0, n, n, &out->lsq);
  }
  free(f);
  free(q);
  free(fit);
  return st;
}

infini_status cap_capacity_trial(const cap_memory *mem,
                                 const cap_keyspec *spec, ptrdiff_t n,
                                 ptrdiff_t segments, uint64_t seed,
                                 cap_capacity_result *out) {
  trial t;
  infini_status st = trial_make(mem, spec, n, seed, &t);
  for (ptrdiff_t s = 0; !st && s < segments; s++) {
    const ptrdiff_t first = n * s / segments, end = n * (s + 1) / segments;
    if (end > first)
      st = write_segment(mem, &t, first, end - first);
  }
  if (!st)
    st = probe(mem, &t, 0, n, n, &out->memory);
  if (!st)
    st = lsq_and_overlap(mem, &t, out);
  trial_free(&t);
  return st;
}

infini_status cap_forgetting_trial(const cap_memory *mem,
                                   const cap_keyspec *spec, ptrdiff_t items,
                                   ptrdiff_t seg_len, ptrdiff_t later,
                                   uint64_t seed, cap_metrics *curve) {
  trial t;
  infini_status st =
      trial_make(mem, spec, items + seg_len * later, seed, &t);
  if (!st)
    st = write_segment(mem, &t, 0, items);
  ptrdiff_t written = items;
  for (ptrdiff_t s = 0; !st && s <= later; s++) {
    if (s > 0) {
      st = write_segment(mem, &t, written, seg_len);
      written += seg_len;
    }
    if (!st)
      st = probe(mem, &t, 0, items, written, &curve[s]);
  }
  trial_free(&t);
  return st;
}

infini_status cap_needles_trial(const cap_memory *mem,
                                const cap_keyspec *spec, ptrdiff_t needles,
                                double depth, ptrdiff_t length,
                                ptrdiff_t seg_len, uint64_t seed,
                                cap_metrics *out) {
  trial t;
  const ptrdiff_t n = length * seg_len;
  infini_status st = trial_make(mem, spec, n, seed, &t);
  for (ptrdiff_t s = 0; !st && s < length; s++)
    st = write_segment(mem, &t, s * seg_len, seg_len);
  const ptrdiff_t at = (ptrdiff_t)floor(depth * (double)(length - 1) + 0.5);
  if (!st)
    st = probe(mem, &t, at * seg_len, needles, n, out);
  trial_free(&t);
  return st;
}

double cap_half_life(const double *curve, ptrdiff_t count) {
  const double half = curve[0] / 2;
  for (ptrdiff_t s = 1; s < count; s++)
    if (curve[s] <= half) {
      const double drop = curve[s - 1] - curve[s];
      return (double)(s - 1) + (drop > 0 ? (curve[s - 1] - half) / drop : 0);
    }
  return -1;
}

double cap_theory_cos(ptrdiff_t n, double overlap_rms) {
  return 1 / sqrt(1 + (double)(n - 1) * overlap_rms * overlap_rms);
}

/* Standard normal density and distribution function. */
static double normal_pdf(double t) {
  return exp(-t * t / 2) / 2.5066282746310002; /* sqrt(2 pi) */
}
static double normal_cdf(double t) { return erfc(-t / sqrt(2)) / 2; }

double cap_theory_top1(ptrdiff_t n, ptrdiff_t d_value, double overlap,
                       double overlap_rms) {
  if (n == 1)
    return 1;
  const double dv = (double)d_value, r = overlap, r2 = overlap_rms;
  const double margin = (1 - r) * sqrt(dv);
  const double noise = sqrt(1 + (double)(n - 1) * r2 * r2);
  const double spread = sqrt(noise * noise + dv * fmax(r2 * r2 - r * r, 0));
  /* P(own + noise*t > every other), the others independent:
   * integral of pdf(t) cdf((margin + noise t) / spread)^(n-1) dt */
  double p = 0;
  const double h = 1.0 / 64;
  for (double t = -10; t <= 10; t += h)
    p += normal_pdf(t) *
         pow(normal_cdf((margin + noise * t) / spread), (double)(n - 1)) * h;
  return fmin(p, 1.0);
}

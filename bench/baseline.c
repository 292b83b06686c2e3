/*
 * bench/baseline.c - see baseline.h. M is d_key x d_value packed (row
 * stride d_value), as in an infini_state. The matrix products go to
 * OpenBLAS; sigma and the softmax use Sleef's expf16 (AVX-512) or expf8
 * (AVX2) over plain loops; local attention is the textbook composition:
 * S = Q K^T (full N x N sgemm), a masked row softmax, O = P V (sgemm).
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench/baseline.h"
#include "src/cpu.h"

#if defined(HAVE_OPENBLAS)
#include <cblas.h>
#endif
#if defined(HAVE_SLEEF) && (defined(__AVX512F__) || defined(__AVX2__))
#include <immintrin.h>
#include <sleef.h>
#endif

#if defined(HAVE_OPENBLAS)

int bl_available(void) {
#if defined(__AVX512F__)
  return cpu_has(CPU_AVX512F | CPU_AVX2 | CPU_FMA);
#elif defined(__AVX2__)
  return cpu_has(CPU_AVX2 | CPU_FMA);
#else
  return 1;
#endif
}

void bl_set_threads(int n) { openblas_set_num_threads(n); }

/* y = exp(x) over a contiguous run (Sleef where built, else libm). */
static void vexp_run(const float *x, float *y, ptrdiff_t n) {
  ptrdiff_t i = 0;
#if defined(HAVE_SLEEF) && defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, Sleef_expf16_u10avx512f(_mm512_loadu_ps(x + i)));
#elif defined(HAVE_SLEEF) && defined(__AVX2__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, Sleef_expf8_u10avx2(_mm256_loadu_ps(x + i)));
#endif
  for (; i < n; i++)
    y[i] = expf(x[i]);
}

const char *bl_exp_name(void) {
#if defined(HAVE_SLEEF) && defined(__AVX512F__)
  return "Sleef_expf16_u10avx512f";
#elif defined(HAVE_SLEEF) && defined(__AVX2__)
  return "Sleef_expf8_u10avx2";
#else
  return "libm expf";
#endif
}

int bl_scratch_init(bl_scratch *w, ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv) {
  w->sq = aligned_alloc(64, (size_t)(n * dk) * 4 + 64);
  w->sk = aligned_alloc(64, (size_t)(n * dk) * 4 + 64);
  w->s = aligned_alloc(64, (size_t)(n * n) * 4 + 64);
  w->t = aligned_alloc(64, (size_t)(n * dv) * 4 + 64);
  w->den = aligned_alloc(64, (size_t)n * 4 + 64);
  return w->sq && w->sk && w->s && w->t && w->den;
}

void bl_scratch_free(bl_scratch *w) {
  free(w->sq); free(w->sk); free(w->s); free(w->t); free(w->den);
}

/* sigma(x) = x > 0 ? x + 1 : exp(x), row by row: exp of the row, then a
 * plain loop picks the branch. */
void bl_feature_map(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                    ptrdiff_t ldx, float *y, ptrdiff_t ldy) {
  for (ptrdiff_t i = 0; i < rows; i++) {
    const float *xi = x + i * ldx;
    float *yi = y + i * ldy;
    vexp_run(xi, yi, cols);
    for (ptrdiff_t j = 0; j < cols; j++)
      if (xi[j] > 0)
        yi[j] = xi[j] + 1;
  }
}

void bl_retrieve(const infini_head_shape *s, const float *q, ptrdiff_t ldq,
                 const float *m, const float *z, float eps, float *a,
                 ptrdiff_t lda, bl_scratch *w) {
  const int n = (int)s->n, dk = (int)s->d_key, dv = (int)s->d_value;
  bl_feature_map(n, dk, q, ldq, w->sq, dk);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dv, dk, 1.0f,
              w->sq, dk, m, dv, 0.0f, a, (int)lda);
  cblas_sgemv(CblasRowMajor, CblasNoTrans, n, dk, 1.0f, w->sq, dk, z, 1, 0.0f,
              w->den, 1);
  for (int i = 0; i < n; i++) {
    const float den = w->den[i] + eps;
    for (int j = 0; j < dv; j++)
      a[i * lda + j] = den == 0 ? 0.0f : a[i * lda + j] / den;
  }
}

void bl_update(const infini_head_shape *s, int delta, const float *k,
               ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
               float *z, float eps, bl_scratch *w) {
  const int n = (int)s->n, dk = (int)s->d_key, dv = (int)s->d_value;
  bl_feature_map(n, dk, k, ldk, w->sk, dk);
  const float *rhs = v;
  int ldr = (int)ldv;
  if (delta) {
    /* W = V - sigma(K) M / (sigma(K) z + eps) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dv, dk, 1.0f,
                w->sk, dk, m, dv, 0.0f, w->t, dv);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, dk, 1.0f, w->sk, dk, z, 1,
                0.0f, w->den, 1);
    for (int t = 0; t < n; t++) {
      const float den = w->den[t] + eps;
      for (int j = 0; j < dv; j++)
        w->t[t * dv + j] = v[t * ldv + j] - (den == 0 ? 0.0f : w->t[t * dv + j] / den);
    }
    rhs = w->t;
    ldr = dv;
  }
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dk, dv, n, 1.0f, w->sk,
              dk, rhs, ldr, 1.0f, m, dv);
  for (int t = 0; t < n; t++)
    for (int c = 0; c < dk; c++)
      z[c] += w->sk[t * dk + c];
}

void bl_mix(ptrdiff_t rows, ptrdiff_t cols, float beta, const float *a_mem,
            const float *a_dot, float *out) {
  const float g = 1.0f / (1.0f + expf(-beta)), omg = 1.0f / (1.0f + expf(beta));
  for (ptrdiff_t i = 0; i < rows * cols; i++)
    out[i] = g * a_mem[i] + omg * a_dot[i];
}

void bl_attention(const infini_head_shape *s, const float *q, ptrdiff_t ldq,
                  const float *k, ptrdiff_t ldk, const float *v,
                  ptrdiff_t ldv, float scale, float *out, ptrdiff_t ldo,
                  bl_scratch *w) {
  const int n = (int)s->n, dk = (int)s->d_key, dv = (int)s->d_value;
  float *p = w->s;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, dk, scale, q,
              (int)ldq, k, (int)ldk, 0.0f, p, n);
  for (int i = 0; i < n; i++) {
    float *row = p + (size_t)i * n;
    float mx = row[0];
    for (int j = 1; j <= i; j++)
      mx = (row[j] > mx || row[j] != row[j]) ? row[j] : mx;
    for (int j = 0; j <= i; j++)
      row[j] -= mx;
    vexp_run(row, row, i + 1);
    float sum = 0;
    for (int j = 0; j <= i; j++)
      sum += row[j];
    const float inv = 1.0f / sum;
    for (int j = 0; j <= i; j++)
      row[j] *= inv;
    memset(row + i + 1, 0, (size_t)(n - i - 1) * sizeof(float));
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dv, n, 1.0f, p, n,
              v, (int)ldv, 0.0f, out, (int)ldo);
}

void bl_segment_step(const infini_head_shape *s, const infini_step_params *p,
                     const float *q, ptrdiff_t ldq, const float *k,
                     ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
                     float *z, float *out, ptrdiff_t ldo, bl_scratch *w) {
  const ptrdiff_t n = s->n, dv = s->d_value;
  float *a_mem = w->t;
  bl_retrieve(s, q, ldq, m, z, p->eps, a_mem, dv, w);
  bl_attention(s, q, ldq, k, ldk, v, ldv, p->scale, out, ldo, w);
  const float g = 1.0f / (1.0f + expf(-p->beta)), omg = 1.0f / (1.0f + expf(p->beta));
  for (ptrdiff_t i = 0; i < n; i++)
    for (ptrdiff_t j = 0; j < dv; j++)
      out[i * ldo + j] = g * a_mem[i * dv + j] + omg * out[i * ldo + j];
  bl_update(s, p->rule == INFINI_UPDATE_DELTA, k, ldk, v, ldv, m, z, p->eps, w);
}

void bl_linear(ptrdiff_t n, ptrdiff_t d_in, ptrdiff_t d_out, const float *x,
               const float *w, float *y) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d_out,
              (int)d_in, 1.0f, x, (int)d_in, w, (int)d_in, 0.0f, y, (int)d_out);
}

#else /* no OpenBLAS: no baseline column */

int bl_available(void) { return 0; }
const char *bl_exp_name(void) { return "none"; }
void bl_set_threads(int n) { (void)n; }
int bl_scratch_init(bl_scratch *w, ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv) {
  (void)w; (void)n; (void)dk; (void)dv;
  return 0;
}
void bl_scratch_free(bl_scratch *w) { (void)w; }
void bl_feature_map(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                    ptrdiff_t ldx, float *y, ptrdiff_t ldy) {
  (void)rows; (void)cols; (void)x; (void)ldx; (void)y; (void)ldy;
}
void bl_retrieve(const infini_head_shape *s, const float *q, ptrdiff_t ldq,
                 const float *m, const float *z, float eps, float *a,
                 ptrdiff_t lda, bl_scratch *w) {
  (void)s; (void)q; (void)ldq; (void)m; (void)z; (void)eps; (void)a; (void)lda; (void)w;
}
void bl_update(const infini_head_shape *s, int delta, const float *k,
               ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
               float *z, float eps, bl_scratch *w) {
  (void)s; (void)delta; (void)k; (void)ldk; (void)v; (void)ldv; (void)m; (void)z;
  (void)eps; (void)w;
}
void bl_mix(ptrdiff_t rows, ptrdiff_t cols, float beta, const float *a_mem,
            const float *a_dot, float *out) {
  (void)rows; (void)cols; (void)beta; (void)a_mem; (void)a_dot; (void)out;
}
void bl_attention(const infini_head_shape *s, const float *q, ptrdiff_t ldq,
                  const float *k, ptrdiff_t ldk, const float *v,
                  ptrdiff_t ldv, float scale, float *out, ptrdiff_t ldo,
                  bl_scratch *w) {
  (void)s; (void)q; (void)ldq; (void)k; (void)ldk; (void)v; (void)ldv; (void)scale;
  (void)out; (void)ldo; (void)w;
}
void bl_segment_step(const infini_head_shape *s, const infini_step_params *p,
                     const float *q, ptrdiff_t ldq, const float *k,
                     ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
                     float *z, float *out, ptrdiff_t ldo, bl_scratch *w) {
  (void)s; (void)p; (void)q; (void)ldq; (void)k; (void)ldk; (void)v; (void)ldv;
  (void)m; (void)z; (void)out; (void)ldo; (void)w;
}
void bl_linear(ptrdiff_t n, ptrdiff_t d_in, ptrdiff_t d_out, const float *x,
               const float *w, float *y) {
  (void)n; (void)d_in; (void)d_out; (void)x; (void)w; (void)y;
}
#endif

/* The AVX-512 FMA-chain peak (bench/peak.inc). */
#if defined(__AVX512F__)
#include <immintrin.h>
#define PEAK_FN peak_avx512
#define PEAK_CPU CPU_AVX512F
#define PEAK_LANES 16
#define PEAK_VEC __m512
#define PEAK_SET1 _mm512_set1_ps
#define PEAK_FMA _mm512_fmadd_ps
#define PEAK_LANE0(x) _mm512_cvtss_f32(x)
#include "bench/peak.inc"

/* Sum n floats (n a multiple of 128) with AVX-512 loads: 8 independent
 * vector sums, so the loads, not the add latency, set the pace. */
float read_sweep_avx512(const float *buf, size_t n) {
  __m512 acc[8];
  for (int j = 0; j < 8; j++)
    acc[j] = _mm512_setzero_ps();
  for (size_t i = 0; i + 128 <= n; i += 128)
    for (int j = 0; j < 8; j++)
      acc[j] = _mm512_add_ps(acc[j], _mm512_load_ps(buf + i + 16 * j));
  for (int j = 1; j < 8; j++)
    acc[0] = _mm512_add_ps(acc[0], acc[j]);
  return _mm512_cvtss_f32(acc[0]);
}
#else
double peak_avx512(double seconds) { (void)seconds; return 0; }
float read_sweep_avx512(const float *buf, size_t n) {
  (void)buf, (void)n;
  return 0;
}
#endif

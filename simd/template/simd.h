/*
 * simd/template/simd.h - what the operator templates of one ISA share:
 * the workspace layout and the internal kernels (named per ISA with
 * SIMD_NAME, so the three backends link side by side). Include after
 * simd/isa/<isa>.h.
 */
#ifndef INFINI_SIMD_TEMPLATE_SIMD_H
#define INFINI_SIMD_TEMPLATE_SIMD_H

#include <stdint.h>
#include "infini.h"

/* Local attention tiles: BR query rows (two micro-kernel row tiles, so each
 * key/value block fetched from L2 serves two register tiles) by BC keys (a
 * block of K^T and V, 64 keys: 32 KiB each at d = 128). */
#define BC 64
#define BR (2 * MR)

static inline ptrdiff_t simd_round_up(ptrdiff_t x, ptrdiff_t m) {
  return (x + m - 1) / m * m;
}

/* The workspace, in floats from the 64-byte aligned `work`; each region
 * starts on a 64-byte boundary. One layout serves every kernel:
 *   kt  K^T packed by key block: block b holds d_key rows of BC keys
 *   sk  sigma(K), n rows of ldk (d_key rounded up to 16)
 *   sq  sigma(Q), n rows of ldk
 *   w   V - Pred of the delta rule, n rows of ldw (d_value rounded up)
 *   zs  sum_t sigma(k_t), d_key
 *   pt  the BR x BC score / probability tile of local attention
 *   st  per-row softmax state: max, sum, rescale, block sum (4 x BR) */
typedef struct simd_layout {
  ptrdiff_t ldk, ldw, nblk;
  size_t kt, sk, sq, w, zs, pt, st, total;
} simd_layout;

/* Saturating size arithmetic: a shape whose workspace does not fit in
 * size_t gets SIZE_MAX (the context then fails to allocate and no kernel
 * runs), never a wrapped-around small size. */
static inline size_t simd_mul_sat(size_t a, size_t b) {
  size_t r;
  return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}
static inline size_t simd_add_sat(size_t a, size_t b) {
  size_t r;
  return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}
static inline size_t simd_region(size_t floats) { /* rounded to 16 floats */
  return floats > SIZE_MAX - 15 ? SIZE_MAX : (floats + 15) / 16 * 16;
}

static inline simd_layout simd_layout_of(const infini_head_shape *s) {
  simd_layout l;
  size_t at = 0;
  const size_t n = (size_t)s->n, dk = (size_t)s->d_key;
  l.ldk = simd_round_up(s->d_key, 16);
  l.ldw = simd_round_up(s->d_value, 16);
  l.nblk = (s->n + BC - 1) / BC;
  l.kt = at; at = simd_add_sat(at, simd_region(simd_mul_sat(simd_mul_sat((size_t)l.nblk, BC), dk)));
  l.sk = at; at = simd_add_sat(at, simd_mul_sat(n, (size_t)l.ldk));
  l.sq = at; at = simd_add_sat(at, simd_mul_sat(n, (size_t)l.ldk));
  l.w = at;  at = simd_add_sat(at, simd_mul_sat(n, (size_t)l.ldw));
  l.zs = at; at = simd_add_sat(at, (size_t)l.ldk);
  l.pt = at; at = simd_add_sat(at, simd_region(BR * BC));
  l.st = at; at = simd_add_sat(at, simd_region(4 * BR));
  l.total = at;
  return l;
}

/* How retrieve_rows writes a row a = num / den (or 0 when den == 0). */
typedef enum { EPI_STORE, EPI_VMINUS, EPI_MIX } simd_epi_mode;
typedef struct simd_epi {
  simd_epi_mode mode;
  const float *v;  /* EPI_VMINUS: out = v - a */
  ptrdiff_t ldv;
  float g, omg;    /* EPI_MIX: out = g a + omg out */
} simd_epi;

/* feature_map.inc: y = sigma(x); colsum (if not NULL) += column sums. */
void SIMD_NAME(sigma_rows)(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                           ptrdiff_t ldx, float *y, ptrdiff_t ldy,
                           float *colsum);
/* retrieve.inc: rows of sigma(x) M / (sigma(x) z + eps); x is already
 * sigma(x) when x_is_sigma. Not packed: chunks of d_key go through a
 * stack buffer. */
void SIMD_NAME(retrieve_rows)(ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv,
                              const float *x, ptrdiff_t ldx, int x_is_sigma,
                              const float *m, ptrdiff_t ldm, const float *z,
                              float eps, float *out, ptrdiff_t ldo,
                              const simd_epi *epi);
/* update_linear.inc: m[0:kr][0:dv] += s^T v, s: nt rows (stride lds) of kr
 * sigma values, v: nt rows of dv. */
void SIMD_NAME(update_rows)(ptrdiff_t nt, ptrdiff_t kr, ptrdiff_t dv,
                            const float *s, ptrdiff_t lds, const float *v,
                            ptrdiff_t ldv, float *m, ptrdiff_t ldm);
/* local_attention.inc */
void SIMD_NAME(pack_kt)(ptrdiff_t n, ptrdiff_t dk, const float *k,
                        ptrdiff_t ldk, float *kt);
void SIMD_NAME(attention_rows)(const infini_head_shape *s, const float *q,
                               ptrdiff_t ldq, const float *kt, const float *v,
                               ptrdiff_t ldv, float scale, float *out,
                               ptrdiff_t ldo, float *pt, float *st);
/* segment_step.inc: the step of one key/value head and its n_q query heads
 * (q, out advance by qstep, ostep columns per head). */
void SIMD_NAME(step_group)(const infini_head_shape *s, infini_update_rule rule,
                           float eps, float scale, ptrdiff_t n_q,
                           const float *beta, const float *q, ptrdiff_t ldq,
                           ptrdiff_t qstep, const float *k, ptrdiff_t ldk,
                           const float *v, ptrdiff_t ldv, float *m,
                           ptrdiff_t ldm, float *z, float *out, ptrdiff_t ldo,
                           ptrdiff_t ostep, void *work);

/* The operators of the backend table. */
size_t SIMD_NAME(workspace_bytes)(const infini_head_shape *shape);
infini_status SIMD_NAME(feature_map)(ptrdiff_t rows, ptrdiff_t cols,
                                     const float *x, ptrdiff_t ldx, float *y,
                                     ptrdiff_t ldy);
infini_status SIMD_NAME(retrieve)(const infini_head_shape *shape,
                                  const float *q, ptrdiff_t ldq,
                                  const float *m, ptrdiff_t ldm,
                                  const float *z, float eps, float *a,
                                  ptrdiff_t lda);
infini_status SIMD_NAME(update_linear)(const infini_head_shape *shape,
                                       const float *k, ptrdiff_t ldk,
                                       const float *v, ptrdiff_t ldv, float *m,
                                       ptrdiff_t ldm, float *z);
infini_status SIMD_NAME(update_delta)(const infini_head_shape *shape,
                                      const float *k, ptrdiff_t ldk,
                                      const float *v, ptrdiff_t ldv, float *m,
                                      ptrdiff_t ldm, float *z, float eps,
                                      void *work);
infini_status SIMD_NAME(mix)(ptrdiff_t rows, ptrdiff_t cols, float beta,
                             const float *a_mem, ptrdiff_t ldm,
                             const float *a_dot, ptrdiff_t ldd, float *out,
                             ptrdiff_t ldo);
infini_status SIMD_NAME(local_attention)(const infini_head_shape *shape,
                                         const float *q, ptrdiff_t ldq,
                                         const float *k, ptrdiff_t ldk,
                                         const float *v, ptrdiff_t ldv,
                                         float scale, float *out,
                                         ptrdiff_t ldo, void *work);
infini_status SIMD_NAME(segment_step)(const infini_head_shape *shape,
                                      const infini_step_params *params,
                                      const float *q, ptrdiff_t ldq,
                                      const float *k, ptrdiff_t ldk,
                                      const float *v, ptrdiff_t ldv, float *m,
                                      ptrdiff_t ldm, float *z, float *out,
                                      ptrdiff_t ldo, void *work);
infini_status SIMD_NAME(layer_step)(const infini_layer_config *config,
                                    ptrdiff_t n, const float *q, ptrdiff_t ldq,
                                    const float *k, ptrdiff_t ldk,
                                    const float *v, ptrdiff_t ldv,
                                    const float *beta, float *m, float *z,
                                    float *out, ptrdiff_t ldo, void *work);
/* linear.inc: the dense layers on weights packed once (the backend
 * table's linear_packed_bytes, linear_pack, linear). */
size_t SIMD_NAME(linear_packed_bytes)(ptrdiff_t d_in, ptrdiff_t d_out);
void SIMD_NAME(linear_pack)(ptrdiff_t d_in, ptrdiff_t d_out, const float *w,
                            float *packed);
infini_status SIMD_NAME(linear)(ptrdiff_t n, ptrdiff_t d_in, ptrdiff_t d_out,
                                const float *x, ptrdiff_t ldx,
                                const float *packed, float *y, ptrdiff_t ldy);
/* rmsnorm.inc, swiglu.inc: the model's element-wise steps (M2), (M10). */
infini_status SIMD_NAME(rmsnorm)(ptrdiff_t n, ptrdiff_t d, const float *x,
                                 ptrdiff_t ldx, const float *w, float eps,
                                 float *y, ptrdiff_t ldy);
infini_status SIMD_NAME(swiglu)(ptrdiff_t count, float *g, const float *up);
/* rope.inc: the model's RoPE (M5). */
infini_status SIMD_NAME(rope)(ptrdiff_t n, ptrdiff_t n_heads, ptrdiff_t d_head,
                              ptrdiff_t p0, const float *cos_t,
                              const float *sin_t, const float *x, ptrdiff_t ldx,
                              float *y, ptrdiff_t ldy);

#endif

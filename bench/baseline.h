/*
 * bench/baseline.h - the baseline infini-bench compares against: each
 * operator composed the way a user would write it from OpenBLAS
 * (cblas_sgemm / cblas_sgemv for the matrix parts), Sleef (vector expf)
 * and plain loops. Compiled with the AVX-512 flags where available.
 */
#ifndef INFINI_BENCH_BASELINE_H
#define INFINI_BENCH_BASELINE_H

#include <stddef.h>
#include "infini.h"

/** 1 when the baseline was built (OpenBLAS found) and this CPU runs it. */
int bl_available(void);
/** Name of the exp the baseline uses. */
const char *bl_exp_name(void);
/** Set OpenBLAS's thread count. */
void bl_set_threads(int n);

/** Scratch for one head: allocated once, outside the timed region. */
typedef struct bl_scratch {
  float *sq, *sk, *s, *t, *den;
} bl_scratch;
int bl_scratch_init(bl_scratch *w, ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv);
void bl_scratch_free(bl_scratch *w);

void bl_feature_map(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                    ptrdiff_t ldx, float *y, ptrdiff_t ldy);
void bl_retrieve(const infini_head_shape *s, const float *q, ptrdiff_t ldq,
                 const float *m, const float *z, float eps, float *a,
                 ptrdiff_t lda, bl_scratch *w);
void bl_update(const infini_head_shape *s, int delta, const float *k,
               ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
               float *z, float eps, bl_scratch *w);
void bl_mix(ptrdiff_t rows, ptrdiff_t cols, float beta, const float *a_mem,
            const float *a_dot, float *out);
void bl_attention(const infini_head_shape *s, const float *q, ptrdiff_t ldq,
                  const float *k, ptrdiff_t ldk, const float *v,
                  ptrdiff_t ldv, float scale, float *out, ptrdiff_t ldo,
                  bl_scratch *w);
/** y = x W^T (packed, row-major; W [d_out x d_in]): one cblas_sgemm. */
void bl_linear(ptrdiff_t n, ptrdiff_t d_in, ptrdiff_t d_out, const float *x,
               const float *w, float *y);
void bl_segment_step(const infini_head_shape *s, const infini_step_params *p,
                     const float *q, ptrdiff_t ldq, const float *k,
                     ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
                     float *z, float *out, ptrdiff_t ldo, bl_scratch *w);

/** FMA-chain peak of one thread, GFLOP/s, for "avx512" or "avx2" (0 when
 *  not built or not runnable here). */
double peak_avx512(double seconds);
/** Sum of n floats (64-byte aligned, n a multiple of 128) read with
 *  AVX-512 loads (call only where the CPU has AVX-512F): the read
 *  bandwidth probe of infini-bench --dense. */
float read_sweep_avx512(const float *buf, size_t n);
double peak_avx2(double seconds);
/** The micro-kernel's own rate, GFLOP/s, on operands in L1 (bench/
 *  tile_peak.inc): the operators' tile, or with dense the dense layers'
 *  tile (0 when not built or not runnable here). */
double tile_avx512(double seconds, int dense);
double tile_avx2(double seconds, int dense);

#endif

/*
 * simd/template/microkernel.h - the register-blocked micro-kernel every
 * matrix-shaped operator runs on (include after simd/isa/<isa>.h):
 *
 *   acc[r][c] += sum_{k < kc} A(r, k) * B(k, c)   r < MR, c < NC = NRV*VW
 *
 * A(r, k) = a[r][k * a_ks] is broadcast (any layout: a_ks = 1 reads a row,
 * a_ks = ld reads a column, so sigma(K)^T needs no transposition); B rows
 * are vector loads at b + k*ldb. The MR x NRV accumulators stay in
 * registers for the whole k loop; each step costs NRV loads, MR broadcasts
 * and MR*NRV FMAs. Callers pick the k extent, load/store C and apply the
 * epilogues.
 */
#ifndef INFINI_SIMD_TEMPLATE_MICROKERNEL_H
#define INFINI_SIMD_TEMPLATE_MICROKERNEL_H

#define MK_NAME mk_tile
#define MK_MR MR
#define MK_NRV NRV
#include "simd/template/mk_tile.inc"

/* The same, for a large caller (retrieval with its epilogues): inlined
 * there, GCC 12 kept 7 of the 24 AVX-512 accumulators on the stack inside
 * the k loop (two thirds of the speed); called, with nothing else live,
 * all stay in registers. Only the 24-accumulator tile needs it: for the
 * 12-accumulator tiles the call would cost 4-8 % at kc = 128. */
#if MR * NRV > 16
#define MK_TILE_CALL_ATTR __attribute__((noinline, unused))
#else
#define MK_TILE_CALL_ATTR __attribute__((always_inline, unused)) inline
#endif
static MK_TILE_CALL_ATTR void mk_tile_call(
    ptrdiff_t kc, const float *const a[MR], ptrdiff_t a_ks, const float *b,
    ptrdiff_t ldb, ptrdiff_t ncols, vf acc[MR][NRV]) {
  mk_tile(kc, a, a_ks, b, ldb, ncols, acc);
}

/* The causal edge: for k in [k_lo, k_hi), row r accumulates only when
 * k <= lim[r] (a_ks = 1), so masked products are never formed (a masked
 * V row holding inf or NaN cannot leak in through 0 * inf). */
SIMD_INLINE void mk_tile_tri(ptrdiff_t k_lo, ptrdiff_t k_hi,
                             const float *const a[MR], const float *b,
                             ptrdiff_t ldb, ptrdiff_t ncols,
                             const ptrdiff_t lim[MR], vf acc[MR][NRV]) {
  for (ptrdiff_t k = k_lo; k < k_hi; k++) {
    const float *bk = b + k * ldb;
    vf bv[NRV];
    SIMD_UNROLL for (int c = 0; c < NRV; c++)
      bv[c] = vload_n(bk + c * VW, ncols - c * VW);
    SIMD_UNROLL for (int r = 0; r < MR; r++) {
      if (k <= lim[r]) {
        vf ar = vset1(a[r][k]);
        SIMD_UNROLL for (int c = 0; c < NRV; c++)
          acc[r][c] = vfma(ar, bv[c], acc[r][c]);
      }
    }
  }
}

SIMD_INLINE void mk_zero(vf acc[MR][NRV]) {
  SIMD_UNROLL for (int r = 0; r < MR; r++)
    SIMD_UNROLL for (int c = 0; c < NRV; c++) acc[r][c] = vzero();
}

#endif

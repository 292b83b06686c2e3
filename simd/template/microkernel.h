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

/* ncols < NC: the last vectors are loaded partially (zeros beyond). */
SIMD_INLINE void mk_tile(ptrdiff_t kc, const float *const a[MR], ptrdiff_t a_ks,
                         const float *b, ptrdiff_t ldb, ptrdiff_t ncols,
                         vf acc[MR][NRV]) {
  const float *a0 = a[0];
  ptrdiff_t off[MR];
  SIMD_UNROLL for (int r = 0; r < MR; r++) off[r] = a[r] - a0;
  if (ncols >= NC) {
    for (ptrdiff_t k = 0; k < kc; k++) {
      const float *bk = b + k * ldb;
      const float *ak = a0 + k * a_ks;
      vf bv[NRV];
      SIMD_UNROLL for (int c = 0; c < NRV; c++) bv[c] = vload(bk + c * VW);
      SIMD_UNROLL for (int r = 0; r < MR; r++) {
        vf ar = vset1(ak[off[r]]);
        SIMD_UNROLL for (int c = 0; c < NRV; c++)
          acc[r][c] = vfma(ar, bv[c], acc[r][c]);
      }
    }
  } else {
    for (ptrdiff_t k = 0; k < kc; k++) {
      const float *bk = b + k * ldb;
      const float *ak = a0 + k * a_ks;
      vf bv[NRV];
      SIMD_UNROLL for (int c = 0; c < NRV; c++)
        bv[c] = vload_n(bk + c * VW, ncols - c * VW);
      SIMD_UNROLL for (int r = 0; r < MR; r++) {
        vf ar = vset1(ak[off[r]]);
        SIMD_UNROLL for (int c = 0; c < NRV; c++)
          acc[r][c] = vfma(ar, bv[c], acc[r][c]);
      }
    }
  }
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

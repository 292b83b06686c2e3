/*
 * simd/isa/avx512.h - the vector layer for the `avx512` backend
 * (AVX-512F, 16 floats), written with SIMDe: native with -mavx512f,
 * emulated elsewhere. See simd/isa/common.h for the names it defines.
 */
#ifndef INFINI_SIMD_ISA_H
#define INFINI_SIMD_ISA_H

#include "config.h"
#include <simde/x86/avx512.h>

#define SIMD_ISA_NAME "avx512"
#define SIMD_SFX avx512
#define SIMD_ISA_DESCRIPTION "AVX-512F, 16 floats, 6x64 register tiles"
/* CPU features (src/cpu.h) the native build needs at run time. */
#define SIMD_CPU_NEEDS (CPU_AVX512F | CPU_AVX2 | CPU_FMA)
#if defined(SIMDE_X86_AVX512F_NATIVE)
#define SIMD_NATIVE 1
#if defined(HAVE_SLEEF)
#include <sleef.h>
#define SIMD_SLEEF_EXP(x) Sleef_expf16_u10avx512f(x)
#endif
#else
#define SIMD_NATIVE 0
#endif

/* Register blocking: 32 zmm registers = 6 x 4 accumulators (6 rows x 64
 * columns) + 4 B vectors + broadcasts (embedded in the FMA natively). */
#define VW 16
#define MR 6
#define NRV 4
/* The dense layers' tile (simd/template/linear.inc): 8 x 32, 16
 * accumulators; the model's 32-row segments divide into it, and a
 * d_in x 32 panel of weights stays in L1. */
#define LIN_MR 8
#define LIN_NRV 2

typedef simde__m512 vf;
typedef simde__mmask16 vmask;

static inline vf vzero(void) { return simde_mm512_setzero_ps(); }
static inline vf vset1(float x) { return simde_mm512_set1_ps(x); }
static inline vf vload(const float *p) { return simde_mm512_loadu_ps(p); }
static inline void vstore(float *p, vf v) { simde_mm512_storeu_ps(p, v); }
static inline vf vadd(vf a, vf b) { return simde_mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return simde_mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return simde_mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return simde_mm512_div_ps(a, b); }
static inline vf vfma(vf a, vf b, vf c) { return simde_mm512_fmadd_ps(a, b, c); }
static inline vf vmax(vf a, vf b) { return simde_mm512_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return simde_mm512_min_ps(a, b); }
static inline vmask vgt(vf a, vf b) { return simde_mm512_cmp_ps_mask(a, b, SIMDE_CMP_GT_OQ); }
static inline vmask visnan(vf a) { return simde_mm512_cmp_ps_mask(a, a, SIMDE_CMP_UNORD_Q); }
static inline vmask vmask_or(vmask a, vmask b) { return (vmask)(a | b); }
static inline vf vblend(vmask m, vf t, vf f) { return simde_mm512_mask_blend_ps(m, f, t); }
static inline vf vround(vf a) { return simde_mm512_roundscale_ps(a, SIMDE_MM_FROUND_TO_NEAREST_INT); }
/* Adding 1.5 * 2^23 puts the integer n in the low mantissa bits; the shift
 * by 23 then drops the constant's exponent bits (its low 9 bits are 0). */
static inline vf vpow2i(vf n) {
  simde__m512i i = simde_mm512_castps_si512(simde_mm512_add_ps(n, simde_mm512_set1_ps(12582912.0f)));
  i = simde_mm512_slli_epi32(simde_mm512_add_epi32(i, simde_mm512_set1_epi32(127)), 23);
  return simde_mm512_castsi512_ps(i);
}
/* a 2^n for integral n, rounded once (vscalefps); max(x, lo) that returns
 * x when x is NaN: vmaxps returns its second operand when either is NaN. */
#define SIMD_HAS_SCALEF 1
static inline vf vscalef(vf a, vf n) { return simde_mm512_scalef_ps(a, n); }
static inline vf vclamp_lo(vf x, vf lo) { return simde_mm512_max_ps(lo, x); }
static inline float vhsum(vf a) {
  simde__m256 h = simde_mm256_add_ps(
      simde_mm512_castps512_ps256(a),
      simde_mm256_castpd_ps(simde_mm512_extractf64x4_pd(simde_mm512_castps_pd(a), 1)));
  simde__m128 s = simde_mm_add_ps(simde_mm256_castps256_ps128(h),
                                  simde_mm256_extractf128_ps(h, 1));
  s = simde_mm_add_ps(s, simde_mm_movehl_ps(s, s));
  s = simde_mm_add_ss(s, simde_mm_shuffle_ps(s, s, 1));
  return simde_mm_cvtss_f32(s);
}

static inline float vhmax(vf a) {
  simde__m256 h = simde_mm256_max_ps(
      simde_mm512_castps512_ps256(a),
      simde_mm256_castpd_ps(simde_mm512_extractf64x4_pd(simde_mm512_castps_pd(a), 1)));
  simde__m128 s = simde_mm_max_ps(simde_mm256_castps256_ps128(h),
                                  simde_mm256_extractf128_ps(h, 1));
  s = simde_mm_max_ps(s, simde_mm_movehl_ps(s, s));
  s = simde_mm_max_ss(s, simde_mm_shuffle_ps(s, s, 1));
  return simde_mm_cvtss_f32(s);
}
static inline int vany(vmask m) { return m != 0; }

/* r[0..15] = its transpose (r[m][j] becomes r[j][m]): 16 x 16 floats in
 * four rounds of two-source shuffles (64 in all, no memory): pairs of
 * rows interleaved within 128-bit lanes (ps, then pd), then whole lanes
 * gathered twice (shuffle_f32x4). K^T packing (local_attention.inc). */
static inline vf v512_unpack_pd(vf a, vf b, int hi) {
  const simde__m512d x = simde_mm512_castps_pd(a), y = simde_mm512_castps_pd(b);
  return simde_mm512_castpd_ps(hi ? simde_mm512_unpackhi_pd(x, y)
                                  : simde_mm512_unpacklo_pd(x, y));
}
static inline void vtranspose(vf r[VW]) {
  vf t[16], s[16];
  for (int i = 0; i < 16; i += 2) { /* lane L: r_i, r_i+1 at columns 4L.. */
    t[i] = simde_mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = simde_mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int g = 0; g < 4; g++) /* s[4g + m], lane L: column 4L + m, rows 4g.. */
    for (int m = 0; m < 4; m++)
      s[4 * g + m] = v512_unpack_pd(t[4 * g + (m >> 1)], t[4 * g + 2 + (m >> 1)], m & 1);
  for (int h = 0; h < 2; h++) /* t: columns m, 8+m (4+m, 12+m) of 8 rows */
    for (int m = 0; m < 4; m++) {
      t[8 * h + m] = simde_mm512_shuffle_f32x4(s[8 * h + m], s[8 * h + 4 + m], 0x88);
      t[8 * h + 4 + m] = simde_mm512_shuffle_f32x4(s[8 * h + m], s[8 * h + 4 + m], 0xdd);
    }
  for (int m = 0; m < 4; m++) { /* whole columns: m, 8+m, 4+m, 12+m */
    r[m] = simde_mm512_shuffle_f32x4(t[m], t[8 + m], 0x88);
    r[8 + m] = simde_mm512_shuffle_f32x4(t[m], t[8 + m], 0xdd);
    r[4 + m] = simde_mm512_shuffle_f32x4(t[4 + m], t[12 + m], 0x88);
    r[12 + m] = simde_mm512_shuffle_f32x4(t[4 + m], t[12 + m], 0xdd);
  }
}

#include "simd/isa/common.h"

#endif

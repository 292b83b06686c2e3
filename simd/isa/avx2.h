/*
 * simd/isa/avx2.h - the vector layer for the `avx2` backend (AVX2 + FMA,
 * 8 floats), written with SIMDe: native with -mavx2 -mfma, emulated
 * elsewhere (e.g. on AArch64). The templates in simd/template/ see only
 * the names defined here (see simd/isa/common.h for the list).
 */
#ifndef INFINI_SIMD_ISA_H
#define INFINI_SIMD_ISA_H

#include "config.h"
#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

#define SIMD_ISA_NAME "avx2"
#define SIMD_SFX avx2
#define SIMD_ISA_DESCRIPTION "AVX2 + FMA, 8 floats, 6x16 register tiles"
/* CPU features (src/cpu.h) the native build needs at run time. */
#define SIMD_CPU_NEEDS (CPU_AVX2 | CPU_FMA)
/* Native when the compiler targets AVX2 and FMA (SIMDe then maps every call
 * to the instruction); otherwise SIMDe emulates them. */
#if defined(SIMDE_X86_AVX2_NATIVE) && defined(SIMDE_X86_FMA_NATIVE)
#define SIMD_NATIVE 1
#if defined(HAVE_SLEEF)
#include <sleef.h>
#define SIMD_SLEEF_EXP(x) Sleef_expf8_u10avx2(x)
#endif
#else
#define SIMD_NATIVE 0
#endif

/* Register blocking of the micro-kernel (simd/template/microkernel.h):
 * 16 ymm registers = 6 x 2 accumulators + 2 B vectors + 1 broadcast. */
#define VW 8
#define MR 6
#define NRV 2
/* The dense layers' tile (simd/template/linear.inc): the same 6 x 16
 * (16 registers leave no room for 8 rows). */
#define LIN_MR 6
#define LIN_NRV 2

typedef simde__m256 vf;
typedef simde__m256 vmask;

static inline vf vzero(void) { return simde_mm256_setzero_ps(); }
static inline vf vset1(float x) { return simde_mm256_set1_ps(x); }
static inline vf vload(const float *p) { return simde_mm256_loadu_ps(p); }
static inline void vstore(float *p, vf v) { simde_mm256_storeu_ps(p, v); }
static inline vf vadd(vf a, vf b) { return simde_mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return simde_mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return simde_mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return simde_mm256_div_ps(a, b); }
/* a * b + c */
static inline vf vfma(vf a, vf b, vf c) { return simde_mm256_fmadd_ps(a, b, c); }
/* max/min of non-NaN values (NaN handling is the caller's, common.h). */
static inline vf vmax(vf a, vf b) { return simde_mm256_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return simde_mm256_min_ps(a, b); }
static inline vmask vgt(vf a, vf b) { return simde_mm256_cmp_ps(a, b, SIMDE_CMP_GT_OQ); }
static inline vmask visnan(vf a) { return simde_mm256_cmp_ps(a, a, SIMDE_CMP_UNORD_Q); }
static inline vmask vmask_or(vmask a, vmask b) { return simde_mm256_or_ps(a, b); }
/* m ? t : f */
static inline vf vblend(vmask m, vf t, vf f) { return simde_mm256_blendv_ps(f, t, m); }
/* round to nearest integer (ties to even) */
static inline vf vround(vf a) {
  return simde_mm256_round_ps(a, SIMDE_MM_FROUND_TO_NEAREST_INT | SIMDE_MM_FROUND_NO_EXC);
}
/* 2^n for integer-valued n in [-126, 127] */
static inline vf vpow2i(vf n) {
  simde__m256i i = simde_mm256_cvtps_epi32(n);
  i = simde_mm256_slli_epi32(simde_mm256_add_epi32(i, simde_mm256_set1_epi32(127)), 23);
  return simde_mm256_castsi256_ps(i);
}
static inline float vhsum(vf a) {
  simde__m128 s = simde_mm_add_ps(simde_mm256_castps256_ps128(a),
                                  simde_mm256_extractf128_ps(a, 1));
  s = simde_mm_add_ps(s, simde_mm_movehl_ps(s, s));
  s = simde_mm_add_ss(s, simde_mm_shuffle_ps(s, s, 1));
  return simde_mm_cvtss_f32(s);
}

/* largest lane (no NaN among the lanes: callers check visnan first) */
static inline float vhmax(vf a) {
  simde__m128 s = simde_mm_max_ps(simde_mm256_castps256_ps128(a),
                                  simde_mm256_extractf128_ps(a, 1));
  s = simde_mm_max_ps(s, simde_mm_movehl_ps(s, s));
  s = simde_mm_max_ss(s, simde_mm_shuffle_ps(s, s, 1));
  return simde_mm_cvtss_f32(s);
}
/* any lane of the mask set */
static inline int vany(vmask m) { return simde_mm256_movemask_ps(m) != 0; }

/* r[0..7] = its transpose (r[m][j] becomes r[j][m]): 8 x 8 floats, rows
 * interleaved in pairs within 128-bit lanes (unpack, then shuffle), then
 * the lanes exchanged (permute2f128). K^T packing (local_attention.inc). */
static inline void vtranspose(vf r[VW]) {
  vf t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = simde_mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = simde_mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int g = 0; g < 2; g++) { /* s[4g + m], lane L: column 4L + m, rows 4g.. */
    s[4 * g + 0] = simde_mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
    s[4 * g + 1] = simde_mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xee);
    s[4 * g + 2] = simde_mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    s[4 * g + 3] = simde_mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xee);
  }
  for (int m = 0; m < 4; m++) {
    r[m] = simde_mm256_permute2f128_ps(s[m], s[4 + m], 0x20);
    r[4 + m] = simde_mm256_permute2f128_ps(s[m], s[4 + m], 0x31);
  }
}

#include "simd/isa/common.h"

#endif

/*
 * simd/isa/neon.h - the vector layer for the `neon` backend (AArch64
 * Advanced SIMD, 4 floats), written with SIMDe: native on AArch64,
 * emulated elsewhere (on x86 this backend runs through SIMDe and reports
 * INFINI_EMULATED). See simd/isa/common.h for the names it defines.
 */
#ifndef INFINI_SIMD_ISA_H
#define INFINI_SIMD_ISA_H

#include "config.h"
#include <simde/arm/neon.h>

#define SIMD_ISA_NAME "neon"
#define SIMD_SFX neon
#define SIMD_ISA_DESCRIPTION "AArch64 Advanced SIMD, 4 floats, 6x16 register tiles"
/* CPU features (src/cpu.h) the native build needs at run time. */
#define SIMD_CPU_NEEDS (CPU_ASIMD)
#if defined(SIMDE_ARM_NEON_A64V8_NATIVE)
#define SIMD_NATIVE 1
#if defined(HAVE_SLEEF)
#include <sleef.h>
#define SIMD_SLEEF_EXP(x) Sleef_expf4_u10advsimd(x)
#endif
#else
#define SIMD_NATIVE 0
#endif

/* Register blocking: 32 q registers = 6 x 4 accumulators (6 rows x 16
 * columns) + 4 B vectors + broadcasts. */
#define VW 4
#define MR 6
#define NRV 4
/* The dense layers' tile (simd/template/linear.inc): the same 6 x 16. */
#define LIN_MR 6
#define LIN_NRV 4

typedef simde_float32x4_t vf;
typedef simde_uint32x4_t vmask;

static inline vf vzero(void) { return simde_vdupq_n_f32(0.0f); }
static inline vf vset1(float x) { return simde_vdupq_n_f32(x); }
static inline vf vload(const float *p) { return simde_vld1q_f32(p); }
static inline void vstore(float *p, vf v) { simde_vst1q_f32(p, v); }
static inline vf vadd(vf a, vf b) { return simde_vaddq_f32(a, b); }
static inline vf vsub(vf a, vf b) { return simde_vsubq_f32(a, b); }
static inline vf vmul(vf a, vf b) { return simde_vmulq_f32(a, b); }
/* SIMDe 0.7 has no vdivq_f32: native AArch64 uses the instruction, the
 * emulation divides lane by lane (IEEE division either way). */
static inline vf vdiv(vf a, vf b) {
#if defined(SIMDE_ARM_NEON_A64V8_NATIVE)
  return vdivq_f32(a, b);
#else
  float x[4], y[4];
  simde_vst1q_f32(x, a);
  simde_vst1q_f32(y, b);
  for (int i = 0; i < 4; i++)
    x[i] /= y[i];
  return simde_vld1q_f32(x);
#endif
}
static inline vf vfma(vf a, vf b, vf c) { return simde_vfmaq_f32(c, a, b); }
static inline vf vmax(vf a, vf b) { return simde_vmaxq_f32(a, b); }
static inline vf vmin(vf a, vf b) { return simde_vminq_f32(a, b); }
static inline vmask vgt(vf a, vf b) { return simde_vcgtq_f32(a, b); }
static inline vmask visnan(vf a) { return simde_vmvnq_u32(simde_vceqq_f32(a, a)); }
static inline vmask vmask_or(vmask a, vmask b) { return simde_vorrq_u32(a, b); }
static inline vf vblend(vmask m, vf t, vf f) { return simde_vbslq_f32(m, t, f); }
static inline vf vround(vf a) { return simde_vrndnq_f32(a); }
static inline vf vpow2i(vf n) {
  simde_int32x4_t i = simde_vcvtq_s32_f32(n);
  i = simde_vshlq_n_s32(simde_vaddq_s32(i, simde_vdupq_n_s32(127)), 23);
  return simde_vreinterpretq_f32_s32(i);
}
static inline float vhsum(vf a) { return simde_vaddvq_f32(a); }

static inline float vhmax(vf a) { return simde_vmaxvq_f32(a); }
static inline int vany(vmask m) { return simde_vmaxvq_u32(m) != 0; }

/* r[0..3] = its transpose (r[m][j] becomes r[j][m]): two trn1/trn2 pairs,
 * then the 64-bit halves recombined. K^T packing (local_attention.inc). */
static inline void vtranspose(vf r[VW]) {
  const simde_float32x4x2_t a = simde_vtrnq_f32(r[0], r[1]), b = simde_vtrnq_f32(r[2], r[3]);
  r[0] = simde_vcombine_f32(simde_vget_low_f32(a.val[0]), simde_vget_low_f32(b.val[0]));
  r[1] = simde_vcombine_f32(simde_vget_low_f32(a.val[1]), simde_vget_low_f32(b.val[1]));
  r[2] = simde_vcombine_f32(simde_vget_high_f32(a.val[0]), simde_vget_high_f32(b.val[0]));
  r[3] = simde_vcombine_f32(simde_vget_high_f32(a.val[1]), simde_vget_high_f32(b.val[1]));
}

#include "simd/isa/common.h"

#endif

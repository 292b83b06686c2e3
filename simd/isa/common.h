/*
 * simd/isa/common.h - the part of the vector layer that is the same for
 * every ISA, built on the primitives each simd/isa/<isa>.h defines:
 *
 *   vf, vmask, VW (floats per vector), MR x NRV (micro-kernel tile: MR rows
 *   by NRV vectors), SIMD_SFX (name suffix), SIMD_NATIVE (1 when compiled
 *   for the ISA itself), SIMD_SLEEF_EXP (when Sleef serves the ISA);
 *   vzero vset1 vload vstore (unaligned) vadd vsub vmul vdiv vfma(a,b,c) =
 *   a*b+c, vmax vmin (non-NaN), vgt visnan vmask_or vblend(m,t,f) = m?t:f,
 *   vround (to nearest), vpow2i (2^n, integer n), vhsum, vhmax (largest
 *   lane, NaN-free input), vany (some mask lane set), vtranspose (VW
 *   vectors as a VW x VW block, transposed in registers).
 *
 * Optional: vscalef(a, n) = a 2^n and vclamp_lo(x, lo) = max(x, lo) that
 * returns x when x is NaN, both where SIMD_HAS_SCALEF is defined.
 *
 * Added here: partial (tail) loads and stores, a NaN-propagating max, exp,
 * exp of non-positive arguments, and sigma = ELU + 1.
 */
#ifndef INFINI_SIMD_ISA_COMMON_H
#define INFINI_SIMD_ISA_COMMON_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#define SIMD_CAT2(a, b) a##_##b
#define SIMD_CAT(a, b) SIMD_CAT2(a, b)
/* Internal names carry the ISA: SIMD_NAME(retrieve) -> isimd_retrieve_avx2.
 * (Not infini_*: libinfini exports only ^infini_.) */
#define SIMD_NAME(f) SIMD_CAT(isimd_##f, SIMD_SFX)

#if defined(__GNUC__)
#define SIMD_INLINE static inline __attribute__((always_inline))
#define SIMD_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define SIMD_UNROLL SIMD_PRAGMA(unroll)
#else
#define SIMD_UNROLL SIMD_PRAGMA(GCC unroll 16)
#endif
#else
#define SIMD_INLINE static inline
#define SIMD_UNROLL
#endif

/* Columns of one micro-kernel tile. */
#define NC (NRV * VW)

/* The first n (<= VW; n <= 0 gives zeros) floats at p, the rest 0. Only the
 * n floats are read: tails never touch memory beyond the operand. */
SIMD_INLINE vf vload_n(const float *p, ptrdiff_t n) {
  if (n >= VW)
    return vload(p);
  float buf[VW] = {0};
  if (n > 0)
    memcpy(buf, p, (size_t)n * sizeof(float));
  return vload(buf);
}

/* Store the first n (<= VW) lanes of v at p; nothing else is written. */
SIMD_INLINE void vstore_n(float *p, vf v, ptrdiff_t n) {
  if (n >= VW) {
    vstore(p, v);
    return;
  }
  float buf[VW];
  vstore(buf, v);
  /* 0 <= n < VW here. A loop bounded by VW too, not memcpy(n floats):
   * through the linear kernel's inlined callers, GCC 12's -Warray-bounds
   * (aarch64 cross build, emulated ISAs) lost that bound on n. */
  for (int i = 0; i < VW && i < n; i++)
    p[i] = buf[i];
}

/* max(a, b) that returns NaN when either is NaN (the x86 max instruction
 * returns its second operand then, which would drop a NaN). */
SIMD_INLINE vf vmaxnan(vf a, vf b) {
  return vblend(visnan(a), a, vblend(visnan(b), b, vmax(a, b)));
}

/* Scalar counterpart. */
static inline float smaxnan(float a, float b) {
  if (a != a || b != b)
    return a + b; /* NaN */
  return a > b ? a : b;
}

/*
 * exp(r) for |r| <= ln2/2 by the degree-7 minimax polynomial of Cephes
 * expf, 1 + r + r^2 P(r), summed as 1 + (r + r^2 P(r)) so that the only
 * rounding of the order of ulp(1) is the last addition's: summed as
 * (1 + r) + r^2 P(r), the worst case over all floats was 1.26 ulp (700k
 * arguments above 1 ulp), this way 1.01 ulp (22 arguments), measured
 * exhaustively against double exp.
 */
SIMD_INLINE vf vexp_reduced(vf r) {
  vf p = vset1(1.9875691500E-4f);
  p = vfma(p, r, vset1(1.3981999507E-3f));
  p = vfma(p, r, vset1(8.3334519073E-3f));
  p = vfma(p, r, vset1(4.1665795894E-2f));
  p = vfma(p, r, vset1(1.6666665459E-1f));
  p = vfma(p, r, vset1(5.0000001201E-1f));
  return vadd(vfma(p, vmul(r, r), r), vset1(1.0f));
}

/* n = round(x log2(e)), the power of two of exp(x) = 2^n exp(r). */
SIMD_INLINE vf vexp_n(vf x) {
  return vround(vmul(x, vset1(1.44269504088896341f)));
}

/* Cody-Waite reduction r = x - n ln2 (|r| <= ln2/2 for n = vexp_n(x)),
 * with ln2 split in a high part exact in 9 bits (n ln2_hi is exact for
 * |n| < 2^15) and a low part. */
SIMD_INLINE vf vexp_reduce(vf x, vf n) {
  vf r = vfma(n, vset1(-0.693359375f), x);
  return vfma(n, vset1(2.12194440e-4f), r);
}

/*
 * exp for the emulated path (and for native builds without Sleef): x is
 * clamped to [-104, 88.8] first (exp(-104) rounds to +0), reduced, and the
 * polynomial's value scaled by 2^n as 2^(n/2) * 2^(n - n/2), so that
 * subnormal results (x down to -103.97) are rounded once and x > 88.72
 * overflows to +inf; a NaN argument is returned as is. Within 1.01 ulp of
 * exp for every float argument (above); simd/tests/test_simd.c checks the
 * feature map's exp branch, whichever exp serves it, against double exp.
 */
SIMD_INLINE vf vexp_poly(vf x) {
  const vf hi = vset1(88.8f), lo = vset1(-104.0f);
  const vf xc = vmin(vmax(x, lo), hi), n = vexp_n(xc);
  vf p = vexp_reduced(vexp_reduce(xc, n));
  vf n1 = vround(vmul(n, vset1(0.5f)));
  vf n2 = vsub(n, n1);
  vf y = vmul(vmul(p, vpow2i(n1)), vpow2i(n2));
  return vblend(visnan(x), x, y);
}

SIMD_INLINE vf vexp(vf x) {
#if defined(SIMD_SLEEF_EXP)
  return SIMD_SLEEF_EXP(x);
#else
  return vexp_poly(x);
#endif
}

/*
 * exp(x) for x <= 0, -inf and NaN: the softmax's s - max and its rescale
 * m_old - m_new, and the feature map's exp branch, where the result is at
 * most 1 and never overflows. Where the ISA scales by 2^n in one
 * instruction (AVX-512's vscalefps: one rounding, subnormal results
 * included) it is the polynomial above, inline: no call, no overflow
 * handling, a quarter cheaper than Sleef's u10 there. x is clamped at -104
 * by a max that returns x when x is NaN (vclamp_lo), so NaN goes through
 * as NaN and -inf gives +0. n is kept at -149 or above, so that 2^n is a
 * float and SIMDe's emulated vscalefps (a times exp2(n)) rounds once too:
 * 2^-150 is 0 there. Below x = -103.6, where that matters, r reaches
 * -0.72 and the results, under 2^-149, round to 0 or 2^-149 as they
 * should. Elsewhere it is vexp. For x > 0 the result is unspecified
 * (vsigma discards it).
 */
#if defined(SIMD_HAS_SCALEF)
SIMD_INLINE vf vexp_nonpos(vf x) {
  const vf xc = vclamp_lo(x, vset1(-104.0f));
  const vf n = vmax(vexp_n(xc), vset1(-149.0f)); /* NaN: r carries it */
  return vscalef(vexp_reduced(vexp_reduce(xc, n)), n);
}
#else
#define vexp_nonpos vexp
#endif

/* sigma(x) = x + 1 for x > 0, exp(x) otherwise (spec (F)); NaN fails x > 0
 * and exp(NaN) is NaN; exp(-inf) = +0. */
SIMD_INLINE vf vsigma(vf x) {
  return vblend(vgt(x, vzero()), vadd(x, vset1(1.0f)), vexp_nonpos(x));
}

#endif

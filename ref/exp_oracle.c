/*
 * ref/exp_oracle.c - the double exp() of the oracle: deterministic, so that
 * the golden vectors rebuild bit for bit on every platform (libm exp()
 * differs in the last bit between C libraries and versions).
 *
 * Algorithm (the classic one of Sun's fdlibm e_exp.c, whose coefficients
 * it uses; error analysis there: always < 1 ulp):
 *   1. k = nearest integer to x / ln2 (ties away from zero), and
 *      r = hi - lo with hi = x - k*ln2_hi, lo = k*ln2_lo, where ln2_hi has
 *      its 32 low bits zero, so k*ln2_hi and x - k*ln2_hi are exact for
 *      |k| <= 1075 (the two-part ln2 of Cody and Waite); |r| <= ln2/2.
 *   2. exp(r) = 1 + r + r*c/(2 - c), c = r - t*(P1 + t*(P2 + ... + t*P5)),
 *      t = r*r, a Remez rational approximation of degree 5 in t, evaluated
 *      as 1 - ((lo - (r*c)/(2 - c)) - hi).
 *   3. exp(x) = 2^k exp(r), by multiplying with exact powers of two built
 *      from their bits (two steps when the result is subnormal, so that the
 *      only rounding is the last multiplication's).
 * Only +, -, *, / of IEEE double are used, with no contraction into fused
 * multiply-adds (the oracle is compiled with -ffp-contract=off), so the
 * result is the same on every IEEE-754 machine evaluating double in double
 * (FLT_EVAL_METHOD 0: x86-64 SSE2, Arm, POWER, s390x, RISC-V).
 * Special values: exp(NaN) = NaN, exp(+inf) = +inf, exp(-inf) = +0,
 * overflow to +inf above 709.78..., underflow to +0 below -745.13...
 */
#include <float.h>
#include <stdint.h>
#include <string.h>
#include "ref/real.h"

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != -1
#error "the oracle's exp needs double evaluated in double (FLT_EVAL_METHOD 0)"
#endif

static const double ln2_hi = 6.93147180369123816490e-01; /* 0x3fe62e42fee00000 */
static const double ln2_lo = 1.90821492927058770002e-10; /* 0x3dea39ef35793c76 */
static const double inv_ln2 = 1.44269504088896338700e+00;
static const double P1 = 1.66666666666666019037e-01;
static const double P2 = -2.77777777770155933842e-03;
static const double P3 = 6.61375632143793436117e-05;
static const double P4 = -1.65339022054652515390e-06;
static const double P5 = 4.13813679705723846039e-08;
static const double o_threshold = 7.09782712893383973096e+02;
static const double u_threshold = -7.45133219101941108420e+02;

/* 2^e for -1022 <= e <= 1023, exactly, from its bits. */
static double pow2(int e) {
  uint64_t bits = (uint64_t)(e + 1023) << 52;
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

double infini_exp_oracle(double x) {
  if (x != x)
    return x + x; /* NaN */
  if (x > o_threshold)
    return x == INFINITY ? x : pow2(1023) * pow2(1023); /* +inf */
  if (x < u_threshold)
    return 0.0; /* also exp(-inf) */
  double ax = x < 0 ? -x : x;
  if (ax < 0x1p-28)
    return 1.0 + x;

  /* 1. argument reduction */
  double hi, lo;
  int k;
  if (ax < 0.5 * 0.6931471805599453) {
    k = 0;
    hi = x;
    lo = 0;
  } else {
    double kd = inv_ln2 * x + (x < 0 ? -0.5 : 0.5);
    k = (int)kd; /* truncation toward zero */
    hi = x - k * ln2_hi;
    lo = k * ln2_lo;
  }
  double r = hi - lo;

  /* 2. exp(r) */
  double t = r * r;
  double c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0)
    return 1.0 - ((r * c) / (c - 2.0) - r);
  double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);

  /* 3. scale by 2^k */
  if (k >= -1021) {
    if (k == 1024)
      return y * 2.0 * pow2(1023);
    return y * pow2(k);
  }
  return y * pow2(k + 1000) * pow2(-1000);
}

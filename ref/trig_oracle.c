/*
 * ref/trig_oracle.c - the double sin, cos and log of the oracle's RoPE
 * angles (docs/model.md, (M5)): deterministic, like ref/exp_oracle.c, so
 * that the model's golden vectors rebuild bit for bit on every platform
 * (libm's sin, cos and log differ in the last bit between C libraries and
 * ISAs).
 *
 * Algorithms: those of Sun's fdlibm (k_sin.c, k_cos.c as revised in
 * FreeBSD msun, e_rem_pio2.c's medium case, e_log.c), whose coefficients
 * and error analyses they use (each < 1 ulp):
 *   sin, cos: x = n pi/2 + (y0 + y1), with pi/2 split in three 33-bit
 *     parts and a tail (Cody and Waite), n = nearest integer to x 2/pi;
 *     n pio2_k is exact for n < 2^20, so the reduction is accurate to
 *     about 2^-100 there; then a degree-13 (sin) or 14 (cos) polynomial
 *     on [-pi/4, pi/4] with the tail y1 folded in, and the quadrant n & 3
 *     picks +-sin or +-cos.
 *   log: x = 2^k (1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2) (frexp is
 *     exact), s = f / (2 + f), log(1 + f) = f - s (f - R(s^2)) with a
 *     degree-14 Remez polynomial R, plus k ln2 in two parts.
 * Only +, -, *, / and frexp, compiled with -ffp-contract=off.
 * Domain: sin and cos for |x| < 2^19 pi/2 = 823,549.6 (RoPE angles are at
 * most N - 1, so segments of up to 2^19 tokens); NaN outside it. log for
 * finite x > 0 (RoPE's theta > 1); NaN otherwise.
 */
#include <float.h>
#include <math.h>
#include "ref/model_ops.h"

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != -1
#error "the oracle's trig needs double evaluated in double (FLT_EVAL_METHOD 0)"
#endif

static const double half = 0.5;
static const double S1 = -1.66666666666666324348e-01; /* 0xBFC55555 55555549 */
static const double S2 = 8.33333333332248946124e-03;  /* 0x3F811111 1110F8A6 */
static const double S3 = -1.98412698298579493134e-04; /* 0xBF2A01A0 19C161D5 */
static const double S4 = 2.75573137070700676789e-06;  /* 0x3EC71DE3 57B1FE7D */
static const double S5 = -2.50507602534068634195e-08; /* 0xBE5AE5E6 8A2B9CEB */
static const double S6 = 1.58969099521155010221e-10;  /* 0x3DE5D93A 5ACFD57C */
static const double C1 = 4.16666666666666019037e-02;  /* 0x3FA55555 5555554C */
static const double C2 = -1.38888888888741095749e-03; /* 0xBF56C16C 16C15177 */
static const double C3 = 2.48015872894767294178e-05;  /* 0x3EFA01A0 19CB1590 */
static const double C4 = -2.75573143513906633035e-07; /* 0xBE927E4F 809C52AD */
static const double C5 = 2.08757232129817482790e-09;  /* 0x3E21EE9E BDB4B1C4 */
static const double C6 = -1.13596475577881948265e-11; /* 0xBDA8FAE9 BE8838D4 */
static const double invpio2 = 6.36619772367581382433e-01; /* 0x3FE45F30 6DC9C883 */
static const double pio2_1 = 1.57079632673412561417e+00;  /* 0x3FF921FB 54400000 */
static const double pio2_1t = 6.07710050650619224932e-11; /* 0x3DD0B461 1A626331 */
static const double pio2_2 = 6.07710050630396597660e-11;  /* 0x3DD0B461 1A600000 */
static const double pio2_2t = 2.02226624879595063154e-21; /* 0x3BA3198A 2E037073 */
static const double pio2_3 = 2.02226624871116645580e-21;  /* 0x3BA3198A 2E000000 */
static const double pio2_3t = 8.47842766036889956997e-32; /* 0x397B839A 252049C1 */
static const double reduce_max = 823549.6; /* 2^19 pi/2, keeps n < 2^20 */

/* sin(x + y) for |x + y| <= pi/4, y the tail of x (fdlibm k_sin.c). */
static double kernel_sin(double x, double y) {
  double z = x * x, v = z * x;
  double r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x - ((z * (half * y - v * r) - y) - v * S1);
}

/* cos(x + y) for |x + y| <= pi/4 (FreeBSD msun k_cos.c: 1 - x^2/2 split
 * so that its rounding error is recovered). */
static double kernel_cos(double x, double y) {
  double z = x * x;
  double r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  double hz = half * z, w = 1.0 - hz;
  return w + (((1.0 - w) - hz) + (z * r - x * y));
}

/* One Cody-Waite step: subtract n*(part) from r, carrying the rounding
 * error of the subtraction and the next part (tail) into *w. */
static double reduce_step(double r, double fn, double part, double tail,
                          double *w) {
  double t = r;
  double p = fn * part; /* exact: part has 33 bits, fn < 2^20 */
  r = t - p;
  *w = fn * tail - ((t - r) - p);
  return r;
}

/* x = n pi/2 + y0 + y1 with |y0 + y1| <= pi/4 (about), for 0 <= x < max. */
static int reduce(double x, double *y0, double *y1) {
  int n = (int)(x * invpio2 + half);
  double fn = (double)n, w;
  double r = x - fn * pio2_1; /* exact */
  w = fn * pio2_1t;
  r = reduce_step(r, fn, pio2_2, pio2_2t, &w);
  r = reduce_step(r, fn, pio2_3, pio2_3t, &w);
  *y0 = r - w;
  *y1 = (r - *y0) - w;
  return n;
}

/* sin (want_cos 0) or cos (1) of 0 <= x < reduce_max. */
static double sincos_positive(double x, int want_cos) {
  double y0, y1;
  int q = (reduce(x, &y0, &y1) + want_cos) & 3; /* cos x = sin(x + pi/2) */
  switch (q) {
  case 0: return kernel_sin(y0, y1);
  case 1: return kernel_cos(y0, y1);
  case 2: return -kernel_sin(y0, y1);
  default: return -kernel_cos(y0, y1);
  }
}

double infini_sin_oracle(double x) {
  double ax = x < 0 ? -x : x;
  if (!(ax < reduce_max))
    return NAN; /* also NaN and +-inf */
  double s = sincos_positive(ax, 0);
  return x < 0 ? -s : s;
}

double infini_cos_oracle(double x) {
  double ax = x < 0 ? -x : x;
  if (!(ax < reduce_max))
    return NAN;
  return sincos_positive(ax, 1);
}

static const double ln2_hi = 6.93147180369123816490e-01; /* 0x3FE62E42 FEE00000 */
static const double ln2_lo = 1.90821492927058770002e-10; /* 0x3DEA39EF 35793C76 */
static const double Lg1 = 6.666666666666735130e-01; /* 0x3FE55555 55555593 */
static const double Lg2 = 3.999999999940941908e-01; /* 0x3FD99999 9997FA04 */
static const double Lg3 = 2.857142874366239149e-01; /* 0x3FD24924 94229359 */
static const double Lg4 = 2.222219843214978396e-01; /* 0x3FCC71C5 1D8E78AF */
static const double Lg5 = 1.818357216161805012e-01; /* 0x3FC74664 96CB03DE */
static const double Lg6 = 1.531383769920937332e-01; /* 0x3FC39A09 D078C69F */
static const double Lg7 = 1.479819860511658591e-01; /* 0x3FC2F112 DF3E5244 */
static const double sqrt2_half = 0.70710678118654752440;

double infini_log_oracle(double x) {
  if (!(x > 0) || x == INFINITY)
    return NAN;
  int k;
  double m = frexp(x, &k); /* x = m 2^k, 0.5 <= m < 1, exact */
  if (m < sqrt2_half) {
    m *= 2; /* exact */
    k -= 1;
  }
  double f = m - 1.0; /* exact (Sterbenz) */
  double s = f / (2.0 + f), z = s * s, w = z * z;
  double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  double R = t2 + t1, hfsq = half * f * f, dk = (double)k;
  return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
}

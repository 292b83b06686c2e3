/*
 * ref/real.h - the one switch between the two builds of the reference.
 *
 * Every file in ref/ is compiled twice from the same source (ref/local.mk):
 *   -DINFINI_REAL_F32: real = float,  functions named infini_ref_*_f32;
 *                      this is the `ref` backend inside libinfini.
 *   -DINFINI_REAL_F64: real = double, functions named infini_ref_*_f64;
 *                      this is the oracle the golden vectors come from.
 * So the specification has exactly one executable form.
 */
#ifndef INFINI_REF_REAL_H
#define INFINI_REF_REAL_H

#include <math.h>

/* The oracle's exp is ref/exp_oracle.c, not libm's: deterministic to the
 * bit on every platform, so the golden vectors rebuild exactly (libm exp()
 * differs in the last bit between C libraries). The float build keeps expf:
 * it is the `ref` backend, a float32 implementation judged by tolerance. */
double infini_exp_oracle(double x);

#if defined(INFINI_REAL_F64)
typedef double real;
#define REF(name) infini_ref_##name##_f64
#define REAL_EXP(x) infini_exp_oracle(x)
#elif defined(INFINI_REAL_F32)
typedef float real;
#define REF(name) infini_ref_##name##_f32
#define REAL_EXP(x) expf(x)
#else
#error "compile ref/ with -DINFINI_REAL_F32 or -DINFINI_REAL_F64"
#endif

#endif /* INFINI_REF_REAL_H */

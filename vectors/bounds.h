/*
 * vectors/bounds.h - the magnitudes of the tolerance model, per operator
 * (docs/tolerances.md gives each equation and its derivation; the comments
 * in bounds.c cite them). Everything is computed in double from the exact
 * inputs and the oracle's values, with only +, -, *, /, fabs and the
 * oracle's exp, so the aux arrays are reproducible to the bit.
 *
 * Conventions: arrays are packed row-major double. "mag" is the first-order
 * arithmetic error bound divided by u * c_arith; "cond" the first-order
 * change under relative perturbations of size u of every input, divided by
 * u. For the steps, the state carries four arrays: Mhat, zhat (propagated
 * arithmetic magnitudes of M, z) and Mc, zc (propagated condition
 * magnitudes), updated in place segment by segment.
 */
#ifndef INFINI_VECTORS_BOUNDS_H
#define INFINI_VECTORS_BOUNDS_H

#include <stddef.h>
#include "infini.h"

/* Tolerance coefficients c_arith of each output (docs/tolerances.md). */
double bd_c_feature_map(void);                         /* 1.5 (with ulps = 1) */
double bd_c_retrieve(ptrdiff_t d_key);                 /* d_key + 5 */
double bd_c_update_m(infini_update_rule rule, ptrdiff_t n, ptrdiff_t d_key);
double bd_c_update_z(ptrdiff_t n);                     /* n + 2 */
double bd_c_mix(void);                                 /* 7 */
double bd_c_attention(ptrdiff_t n, ptrdiff_t d_key);   /* max(4n + 2, d_key + 1) */
double bd_c_step_out(ptrdiff_t n, ptrdiff_t d_key);    /* max(d_key + 5, 4n + 2) */

/** Feature map (F): y.mag = 1 where x <= 0 (finite), else 0; y.cond = |x| sigma'(x). */
void bd_feature_map(size_t count, const double *x, double *mag, double *cond);

/** Retrieval (7): a = oracle result. mhat/zhat: propagated arithmetic
 *  magnitudes of m, z (NULL: exact); mc/zc: their condition magnitudes
 *  (the operator alone: |m|, |z|). */
void bd_retrieve(ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv, const double *q,
                 const double *m, const double *z, double eps, const double *a,
                 const double *mhat, const double *zhat, const double *mc,
                 const double *zc, double *mag, double *cond);

/** Update (8)/(9) of the state magnitudes; m, z are the state BEFORE the
 *  update (exact, from the oracle). mhat, zhat, mc, zc in/out. */
void bd_update(infini_update_rule rule, ptrdiff_t n, ptrdiff_t dk,
               ptrdiff_t dv, const double *k, const double *v, const double *m,
               const double *z, double eps, double *mhat, double *zhat,
               double *mc, double *zc);

/** Mixing (10): out.mag and out.cond from the magnitudes of the two
 *  inputs (the operator alone: mem_mag = dot_mag = 0, mem_cond = |a_mem|,
 *  dot_cond = |a_dot|). */
void bd_mix(size_t count, float beta, const double *a_mem, const double *a_dot,
            const double *mem_mag, const double *dot_mag,
            const double *mem_cond, const double *dot_cond, double *mag,
            double *cond);

/** Local attention (6): a = oracle result. */
void bd_attention(ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv, const double *q,
                  const double *k, const double *v, double scale,
                  const double *a, double *mag, double *cond);

#endif

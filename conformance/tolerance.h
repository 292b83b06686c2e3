/*
 * conformance/tolerance.h - the tolerance model of docs/tolerances.md,
 * applied to one output tensor. Shared by infini-conform (C backends and
 * the file workflow) and the tests.
 */
#ifndef INFINI_CONFORMANCE_TOLERANCE_H
#define INFINI_CONFORMANCE_TOLERANCE_H

#include <stdbool.h>
#include <stddef.h>
#include "vectors/vecset.h"

/** Profiles (docs/tolerances.md "Profiles"): the format an implementation
 *  stores inputs, outputs and state in, the precision of its arithmetic,
 *  and the format matrix products read their factors in (TF32). */
typedef enum tol_profile {
  TOL_FP32 = 0, /* float32 storage and arithmetic */
  TOL_BF16,     /* bf16 storage, arithmetic charged at bf16 */
  TOL_FP16,     /* fp16 storage, arithmetic charged at fp16 */
  TOL_BF16_FP32, /* bf16 storage, float32 arithmetic (torch.autocast style) */
  TOL_FP16_FP32, /* fp16 storage, float32 arithmetic */
  TOL_TF32,     /* float32 storage and accumulation, products of TF32 factors */
  TOL_PROFILE_COUNT
} tol_profile;

const char *tol_profile_name(tol_profile p);
bool tol_profile_from_name(const char *name, tol_profile *p);
/** Unit roundoff of the storage format: 2^-24, 2^-8, 2^-11 (and 2^-8,
 *  2^-11, 2^-24 for bf16-fp32, fp16-fp32, tf32). */
double tol_unit_roundoff(tol_profile p);

/** The verdict on one output tensor. ratio = error / allowed error, so a
 *  tensor passes when worst_ratio <= 1 (and no NaN/Inf/zero rule failed,
 *  which gives ratio = +inf). */
typedef struct tol_result {
  double worst_ratio;
  size_t worst_index;       /* flat index of the worst element */
  double got, expected;     /* at worst_index */
  double allowed;           /* allowed |got - expected| at worst_index */
  size_t n_failed;          /* elements with ratio > 1 */
  bool pass;
} tol_result;

/** Judge got[count] (float, packed) against an expected output. The
 *  output's tensors (expected and aux) must be loaded. */
void tol_judge(const vs_output *out, tol_profile profile, const float *got,
               size_t count, tol_result *res);

/* ---- additions (beyond the first contract) ---------------------------- */

/** Spacing of the profile's format at e (subnormal spacing below the
 *  smallest normal); tol_tiny: the format's smallest normal number. */
double tol_ulp(tol_profile p, double e);
double tol_tiny(tol_profile p);

/** The allowed |got - expected| for one finite expected element. */
double tol_allowed(const vs_tolerance *tol, tol_profile p, double expected,
                   double mag, double cond);

/** Judge all outputs of a (loaded) test; got[i] is the packed result for
 *  t->outputs.items[i], res has t->outputs.count entries. A valid test
 *  passes when every output passes; an acceptable test also passes when
 *  every output passes against one of its alternatives. *which (may be
 *  NULL) is 0 for "outputs", a + 1 for alternative a; res describes the
 *  set that passed, or "outputs" when none did. */
bool tol_judge_test(const vs_test *t, tol_profile p, const float *const *got,
                    tol_result *res, int *which);

#endif

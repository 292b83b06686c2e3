/*
 * conformance/tolerance.c - the tolerance model of docs/tolerances.md,
 * applied to one output tensor (and, for convenience, to a test).
 *
 * For an expected value e (the double oracle) and a result x (float):
 *   - e NaN:      pass iff x is NaN;
 *   - e +-inf:    pass iff x == e;
 *   - e finite:   x must not be NaN; x = +-inf only with e's sign and when
 *                 |e| + allowed reaches the format's overflow threshold;
 *                 otherwise
 *       |x - e| <= ulps * ulp_p(e)                      (model "ulp" only)
 *                + u_p * (c_arith * mag + c_in * cond)
 *                + tiny_p
 *     where u_p is the profile's unit roundoff, ulp_p(e) the spacing of the
 *     profile's format at e, tiny_p its smallest normal number (flush to
 *     zero of the result, S18), and c_in = c_input under the reduced
 *     profiles (bf16, fp16; inputs stored in that format) and 0 under fp32.
 * Signed zeros are not distinguished (spec S17).
 * ratio = |x - e| / allowed; a tensor passes when every ratio <= 1.
 */
#include "config.h"
#include <math.h>
#include <string.h>
#include "conformance/tolerance.h"

static const struct {
  const char *name;
  int bits;   /* storage: significand bits, hidden bit included */
  int emin;   /* storage: exponent of the smallest normal number */
  int emax;   /* storage: exponent of the largest finite number */
  int a_bits; /* arithmetic: significand bits */
  int t_bits; /* factors of matrix products (0: as stored) */
} profiles[TOL_PROFILE_COUNT] = {
    {"fp32", 24, -126, 127, 24, 0},     {"bf16", 8, -126, 127, 8, 0},
    {"fp16", 11, -14, 15, 11, 0},       {"bf16-fp32", 8, -126, 127, 24, 0},
    {"fp16-fp32", 11, -14, 15, 24, 0},  {"tf32", 24, -126, 127, 24, 11},
};

/* Round-to-nearest overflow threshold of the profile's format: values of
 * at least this magnitude round to infinity. */
static double overflow_threshold(tol_profile p) {
  return ldexp(1.0, profiles[p].emax + 1) -
         ldexp(1.0, profiles[p].emax - profiles[p].bits);
}

const char *tol_profile_name(tol_profile p) {
  return (unsigned)p < TOL_PROFILE_COUNT ? profiles[p].name : "unknown";
}

bool tol_profile_from_name(const char *name, tol_profile *p) {
  for (int i = 0; i < TOL_PROFILE_COUNT; i++)
    if (name && strcmp(name, profiles[i].name) == 0) {
      *p = (tol_profile)i;
      return true;
    }
  return false;
}

double tol_unit_roundoff(tol_profile p) {
  return ldexp(1.0, -profiles[p].bits);
}

double tol_ulp(tol_profile p, double e) {
  int ex = 0;
  if (e != 0 && isfinite(e))
    frexp(fabs(e), &ex); /* |e| = f * 2^ex, f in [0.5, 1) */
  int lead = ex - 1;
  if (e == 0 || lead < profiles[p].emin)
    lead = profiles[p].emin;
  return ldexp(1.0, lead - (profiles[p].bits - 1));
}

double tol_tiny(tol_profile p) { return ldexp(1.0, profiles[p].emin); }

/* allowed = u_a c_arith mag            arithmetic at the arithmetic's u
 *         + u_s c_input cond           inputs rounded to storage (not fp32)
 *         + u_s max(mag, |e|)          outputs and carried state rounded to
 *                                      storage, when it is coarser than the
 *                                      arithmetic (bf16-fp32, fp16-fp32)
 *         + 2 u_t mag                  both factors of every product
 *                                      rounded to TF32 (tf32)
 *         + ulps ulp_a(e)              (model "ulp")
 *         + tiny_s                     flush to zero of the stored result
 * (docs/tolerances.md, "Profiles"). With u_a = u_s (fp32, bf16, fp16) this
 * is the original model. */
double tol_allowed(const vs_tolerance *tol, tol_profile p, double expected,
                   double mag, double cond) {
  const double u_s = tol_unit_roundoff(p), u_a = ldexp(1.0, -profiles[p].a_bits);
  double allowed = u_a * tol->c_arith * mag + tol_tiny(p);
  if (profiles[p].bits < 24)
    allowed += u_s * tol->c_input * cond;
  if (profiles[p].a_bits > profiles[p].bits) /* at least the output's own rounding */
    allowed += u_s * fmax(mag, fabs(expected));
  if (profiles[p].t_bits)
    allowed += 2 * ldexp(1.0, -profiles[p].t_bits) * mag;
  if (strcmp(tol->model, "ulp") == 0)
    allowed += tol->ulps * ldexp(tol_ulp(p, expected), profiles[p].bits - profiles[p].a_bits);
  return allowed;
}

void tol_judge(const vs_output *out, tol_profile profile, const float *got,
               size_t count, tol_result *res) {
  const double *e = out->expected.data;
  const double *mag = out->mag ? out->mag->data : NULL;
  const double *cond = out->cond ? out->cond->data : NULL;
  memset(res, 0, sizeof *res);
  if (count != vs_tensor_count(&out->expected) || !e) {
    res->worst_ratio = INFINITY;
    res->n_failed = count;
    res->pass = false;
    return;
  }
  for (size_t i = 0; i < count; i++) {
    double x = got[i], ex = e[i], allowed = 0, ratio;
    if (isnan(ex)) {
      ratio = isnan(x) ? 0 : INFINITY;
    } else if (isinf(ex)) {
      ratio = x == ex ? 0 : INFINITY;
    } else if (isnan(x)) {
      ratio = INFINITY;
    } else if (isinf(x)) {
      /* Overflow is allowed where the allowed interval reaches the
       * format's overflow threshold, with the expected sign. */
      double m = mag ? mag[i] : 0, c = cond ? cond[i] : 0;
      allowed = tol_allowed(&out->tol, profile, ex, m, c);
      ratio = (x > 0) == (ex > 0) && fabs(ex) + allowed >= overflow_threshold(profile)
                  ? 0 : INFINITY;
    } else {
      double m = mag ? mag[i] : 0, c = cond ? cond[i] : 0;
      allowed = tol_allowed(&out->tol, profile, ex, m, c);
      double err = fabs(x - ex);
      /* A NaN allowance is a defect of the vector: never a pass. */
      ratio = isnan(allowed) ? INFINITY : err / allowed;
    }
    if (ratio > 1)
      res->n_failed++;
    if (i == 0 || ratio > res->worst_ratio) {
      res->worst_ratio = ratio;
      res->worst_index = i;
      res->got = x;
      res->expected = ex;
      res->allowed = allowed;
    }
  }
  res->pass = res->n_failed == 0;
}

bool tol_judge_test(const vs_test *t, tol_profile profile,
                    const float *const *got, tol_result *res, int *which) {
  tol_result tmp[VS_MAX_OUTPUTS];
  bool pass = true;
  for (int i = 0; i < t->outputs.count; i++) {
    const vs_output *o = &t->outputs.items[i];
    tol_judge(o, profile, got[i], vs_tensor_count(&o->expected), &res[i]);
    pass = pass && res[i].pass;
  }
  if (which)
    *which = 0;
  for (int a = 0; !pass && a < t->n_alternatives; a++) {
    bool alt_pass = true;
    for (int i = 0; i < t->alternatives[a].count; i++) {
      const vs_output *o = &t->alternatives[a].items[i];
      tol_judge(o, profile, got[i], vs_tensor_count(&o->expected), &tmp[i]);
      alt_pass = alt_pass && tmp[i].pass;
    }
    if (alt_pass) {
      memcpy(res, tmp, sizeof(tol_result) * (size_t)t->alternatives[a].count);
      if (which)
        *which = a + 1;
      pass = true;
    }
  }
  return pass;
}

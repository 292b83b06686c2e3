/*
 * tests/test_capacity.c - the exact answers of the capacity experiments
 * (tools/capacity.c, docs/capacity.md "What the tests prove"), on every
 * backend this build has (TAP).
 *
 * - Keys whose features have disjoint supports (one-hot, the other inputs
 *   at -200 where sigma is exactly 0 in float) are recalled exactly, under
 *   both rules, in one segment, in several and token by token.
 * - The delta rule written in one segment equals the linear rule to the
 *   bit (its prediction reads the empty memory: spec (S8)); written in
 *   several segments it differs (so the comparison can fail).
 * - m keys sharing one feature coordinate give top-1 = 1/m exactly: the
 *   linear rule returns their mean, closest to exactly one of them; the
 *   delta rule over m segments returns the newest (times 1/m).
 * - The least-squares ceiling recalls n <= d_key Gaussian keys.
 * - The same seed gives the same numbers on every backend, within the
 *   forward tolerance (below).
 * Cost: well under a second natively.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "infini.h"
#include "tests/tap.h"
#include "tools/capacity.h"

static const cap_keyspec onehot = {CAP_KEYS_ONEHOT, 0, 200, 1};
static const cap_keyspec gauss = {CAP_KEYS_GAUSS, 0, 0, 1};
static const char *const rule_names[] = {"linear", "delta"};

static bool run(infini_context *ctx, infini_update_rule rule, ptrdiff_t dk,
                ptrdiff_t dv, const cap_keyspec *k, ptrdiff_t n,
                ptrdiff_t segments, cap_capacity_result *r) {
  const cap_memory mem = {ctx, dk, dv, rule, 0.0f};
  memset(r, 0, sizeof *r);
  const infini_status st = cap_capacity_trial(&mem, k, n,
                                              segments, 7, r);
  if (st)
    tap_diag("cap_capacity_trial: %s", infini_strerror(st));
  return st == INFINI_OK;
}

static void disjoint_exact(infini_context *ctx, const char *name) {
  static const ptrdiff_t segments[] = {1, 4, 16};
  for (int rule = 0; rule < 2; rule++)
    for (int s = 0; s < 3; s++) {
      cap_capacity_result r;
      const bool ok = run(ctx, (infini_update_rule)rule, 16, 16, &onehot, 16,
                          segments[s], &r);
      tap_ok(ok && r.memory.err == 0 && r.memory.top1 == 1,
             "%s %s: 16 disjoint keys in %td segments recalled exactly "
             "(err %g, top-1 %g)",
             name, rule_names[rule], segments[s], r.memory.err,
             r.memory.top1);
    }
}

static void delta_one_segment(infini_context *ctx, const char *name) {
  static const ptrdiff_t ns[] = {4, 64};
  for (int i = 0; i < 2; i++) {
    cap_capacity_result lin, del;
    bool ok = run(ctx, INFINI_UPDATE_LINEAR, 32, 32, &gauss, ns[i], 1, &lin);
    ok = run(ctx, INFINI_UPDATE_DELTA, 32, 32, &gauss, ns[i], 1, &del) && ok;
    tap_ok(ok && memcmp(&lin.memory, &del.memory, sizeof lin.memory) == 0,
           "%s: delta in one segment = linear, n = %td (cos %.9g, %.9g)",
           name, ns[i], lin.memory.cos, del.memory.cos);
  }
  cap_capacity_result lin, del;
  bool ok = run(ctx, INFINI_UPDATE_LINEAR, 32, 32, &gauss, 64, 4, &lin);
  ok = run(ctx, INFINI_UPDATE_DELTA, 32, 32, &gauss, 64, 4, &del) && ok;
  tap_ok(ok && lin.memory.cos != del.memory.cos,
         "%s: delta in 4 segments differs from linear (cos %.9g, %.9g)",
         name, lin.memory.cos, del.memory.cos);
}

/* d_value = 256 so that no value outside a group comes near its mean
 * (cosine about 1/sqrt(m) inside, about 1/16 outside). */
static void onehot_groups(infini_context *ctx, const char *name) {
  for (ptrdiff_t m = 2; m <= 4; m++)
    for (int rule = 0; rule < 2; rule++) {
      const ptrdiff_t segments = rule ? m : 1;
      cap_capacity_result r;
      const bool ok = run(ctx, (infini_update_rule)rule, 8, 256, &onehot,
                          8 * m, segments, &r);
      tap_ok(ok && r.memory.top1 == 1.0 / (double)m,
             "%s %s: groups of %td equal keys, %td segment(s): top-1 %g = "
             "1/%td",
             name, rule_names[rule], m, segments, r.memory.top1, m);
    }
}

static void lsq_ceiling(infini_context *ctx, const char *name) {
  cap_capacity_result r;
  const bool ok = run(ctx, INFINI_UPDATE_LINEAR, 32, 32, &gauss, 32, 1, &r);
  /* the fitted values are V rounded once to float (relative 2^-24 per
   * element) after a double projection (error ~ cond * 1e-16) */
  tap_ok(ok && r.lsq.err < 1e-6 && r.lsq.top1 == 1 && r.memory.top1 < 1,
         "%s: least squares recalls 32 Gaussian keys in d_key 32 (err %g, "
         "the memory's top-1 %g)",
         name, r.lsq.err, r.memory.top1);
}

/*
 * The same seed on every backend. The keys and values are generated in
 * double and rounded once, identically for every backend; the backends'
 * retrievals then differ by the forward tolerance of the operators
 * (docs/tolerances.md): for these sizes (d_key 32, n <= 48 summands of
 * terms of order 1 to 10) a relative error below about
 * (n + d_key) * 2^-24 * 16 ~ 1e-4 of the output scale per element, and
 * the metrics, averages of smooth functions of the outputs with
 * derivatives of order 1, move by no more. Top-1 is a comparison: a
 * candidate within that error of the best may win on one backend and not
 * on another, so one identification of the 48 may differ (on x86 none
 * does; the keys themselves come from the platform's libm, so another CPU
 * sees other near ties).
 */
static bool same_numbers(const cap_metrics *a, const cap_metrics *b) {
  return fabs(a->err - b->err) <= 1e-4 && fabs(a->cos - b->cos) <= 1e-4 &&
         fabs(a->top1 - b->top1) <= 1.0 / 48 + 1e-12;
}

static void same_seed(infini_context *ctx, infini_context *ref,
                      const char *name) {
  for (int rule = 0; rule < 2; rule++) {
    cap_capacity_result r, want;
    bool ok = run(ctx, (infini_update_rule)rule, 32, 32, &gauss, 48, 4, &r);
    ok = run(ref, (infini_update_rule)rule, 32, 32, &gauss, 48, 4, &want) &&
         ok;
    tap_ok(ok && same_numbers(&r.memory, &want.memory) &&
               same_numbers(&r.lsq, &want.lsq),
           "%s %s: the seed's numbers match ref (cos %.9g vs %.9g, "
           "top-1 %g vs %g)",
           name, rule_names[rule], r.memory.cos, want.memory.cos,
           r.memory.top1, want.memory.top1);
  }
}

static void half_life(void) {
  const double curve[] = {1.0, 0.8, 0.4, 0.1};
  const double flat[] = {1.0, 0.9, 0.8};
  tap_ok(cap_half_life(curve, 4) == 1.75 && cap_half_life(flat, 3) == -1,
         "half-life interpolates (1.75) and is -1 when never reached");
}

int main(void) {
  infini_context *ref = NULL;
  const infini_backend *rb = NULL;
  if (infini_backend_find("ref", &rb) || infini_context_create(rb, &ref)) {
    printf("Bail out! no ref backend\n");
    return 99;
  }
  half_life();
  for (size_t i = 0; i < infini_backend_count(); i++) {
    const infini_backend *b = infini_backend_at(i);
    infini_context *ctx = NULL;
    if (b->availability() == INFINI_UNAVAILABLE) {
      tap_skip("%s: cannot run on this CPU", b->name);
      continue;
    }
    if (infini_context_create(b, &ctx)) {
      tap_ok(false, "%s: context", b->name);
      continue;
    }
    disjoint_exact(ctx, b->name);
    delta_one_segment(ctx, b->name);
    onehot_groups(ctx, b->name);
    lsq_ceiling(ctx, b->name);
    same_seed(ctx, ref, b->name);
    infini_context_free(ctx);
  }
  infini_context_free(ref);
  return tap_done();
}

/*
 * conformance/test_runner.c - the runner's guards (TAP). Backends that are
 * the ref backend with one deliberate fault each are registered in process
 * and run on small cases built here, with row strides larger than the row
 * widths:
 *
 *  - a write into a stride gap, after the end or before the start of an
 *    output is reported as "wrote outside its output" with the position;
 *  - a write into an input is reported as "modified its input";
 *  - a kernel's error status is reported with its name;
 *  - an output element left unwritten stays the guard NaN and fails the
 *    tolerance check at that element;
 *  - the unmodified ref backend passes all of them.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/conform.h"
#include "ref/ref.h"
#include "tests/tap.h"

/* ---- small cases -------------------------------------------------------------- */

typedef struct synth {
  vs_set set;
  vs_group group;
  vs_test test;
  cf_case c;
} synth;

static void tensor(vs_tensor *t, const char *name, vs_dtype dtype, size_t rows,
                   size_t cols, void *data) {
  memset(t, 0, sizeof *t);
  t->name = (char *)name;
  t->file = (char *)name;
  t->dtype = dtype;
  t->ndim = rows ? 2 : 1;
  t->dims[0] = rows ? rows : cols;
  t->dims[1] = cols;
  t->data = data;
}

static void output(vs_output *o, const char *name, size_t rows, size_t cols,
                   double *data) {
  memset(o, 0, sizeof *o);
  tensor(&o->expected, name, VS_F64, rows, cols, data);
  snprintf(o->tol.model, sizeof o->tol.model, "ulp");
  o->tol.ulps = 8;
}

static void synth_init(synth *s, vs_op op, const char *file) {
  memset(s, 0, sizeof *s);
  s->set.file = (char *)file;
  s->set.dir = (char *)".";
  s->set.generator_version = (char *)"test";
  s->group.op = op;
  s->group.n_heads = s->group.n_kv_heads = 1;
  s->group.n_tests = 1;
  s->group.tests = &s->test;
  s->test.id = 1;
  s->test.comment = (char *)"synthetic";
  s->c.set = &s->set;
  s->c.group = &s->group;
  s->c.test = &s->test;
}

/* feature_map 2 x 3, x row stride 4, y row stride 5 */
static float fm_x[6] = {-1.5f, 0.0f, 2.0f, 0.25f, -0.125f, 3.0f};
static double fm_y[6];
static synth fm;

/* retrieve n = 2, d_key = 2, d_value = 3; a packed */
static float rt_q[4] = {0.5f, -1.0f, 2.0f, 0.0f};
static float rt_m[6] = {1, 2, 3, 4, 5, 6};
static float rt_z[2] = {2.0f, 3.0f};
static double rt_a[6];
static synth rt;

/* mix 2 x 3, beta 0.5, strides 4, 6 and 7 */
static float mx_am[6] = {1, 2, 3, 4, 5, 6};
static float mx_ad[6] = {-1, 0.5f, 0, 2, -3, 1};
static double mx_out[6];
static synth mx;

static void make_cases(void) {
  synth_init(&fm, VS_FEATURE_MAP, "feature_map.json");
  fm.group.rows = 2, fm.group.cols = 3;
  fm.group.ld_in[0] = 4, fm.group.ld_out = 5;
  fm.test.n_inputs = 1;
  tensor(&fm.test.inputs[0], "x", VS_F32, 2, 3, fm_x);
  for (int i = 0; i < 6; i++)
    fm_y[i] = infini_ref_sigma_f64(fm_x[i]);
  fm.test.outputs.count = 1;
  output(&fm.test.outputs.items[0], "y", 2, 3, fm_y);

  synth_init(&rt, VS_RETRIEVE, "retrieve.json");
  rt.group.n = 2, rt.group.d_key = 2, rt.group.d_value = 3;
  rt.group.ld_in[0] = 3; /* q */
  rt.test.n_inputs = 3;
  tensor(&rt.test.inputs[0], "q", VS_F32, 2, 2, rt_q);
  tensor(&rt.test.inputs[1], "m", VS_F32, 2, 3, rt_m);
  tensor(&rt.test.inputs[2], "z", VS_F32, 0, 2, rt_z);
  double q64[4], m64[6], z64[2];
  for (int i = 0; i < 4; i++)
    q64[i] = rt_q[i];
  for (int i = 0; i < 6; i++)
    m64[i] = rt_m[i];
  for (int i = 0; i < 2; i++)
    z64[i] = rt_z[i];
  const infini_head_shape sh = {2, 2, 3};
  infini_ref_retrieve_f64(&sh, q64, 2, m64, 3, z64, 0.0f, rt_a, 3);
  rt.test.outputs.count = 1;
  output(&rt.test.outputs.items[0], "a", 2, 3, rt_a);

  synth_init(&mx, VS_MIX, "mix.json");
  mx.group.rows = 2, mx.group.cols = 3, mx.group.beta = 0.5f;
  mx.group.ld_in[0] = 4, mx.group.ld_in[1] = 6, mx.group.ld_out = 7;
  mx.test.n_inputs = 2;
  tensor(&mx.test.inputs[0], "a_mem", VS_F32, 2, 3, mx_am);
  tensor(&mx.test.inputs[1], "a_dot", VS_F32, 2, 3, mx_ad);
  double am64[6], ad64[6];
  for (int i = 0; i < 6; i++)
    am64[i] = mx_am[i], ad64[i] = mx_ad[i];
  infini_ref_mix_f64(2, 3, 0.5f, am64, 3, ad64, 3, mx_out, 3);
  mx.test.outputs.count = 1;
  output(&mx.test.outputs.items[0], "out", 2, 3, mx_out);
}

/* ---- faulty backends: ref with one slip ---------------------------------------- */

static infini_status gap_feature_map(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                     ptrdiff_t ldx, float *y, ptrdiff_t ldy) {
  infini_status st = infini_backend_ref.feature_map(rows, cols, x, ldx, y, ldy);
  y[cols] = 0; /* row 0, first column of the stride gap */
  return st;
}

static infini_status lazy_feature_map(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                      ptrdiff_t ldx, float *y, ptrdiff_t ldy) {
  /* every element but the last */
  infini_status st = infini_backend_ref.feature_map(rows - 1, cols, x, ldx, y, ldy);
  infini_backend_ref.feature_map(1, cols - 1, x + (rows - 1) * ldx, ldx,
                                 y + (rows - 1) * ldy, ldy);
  return st;
}

static infini_status end_retrieve(const infini_head_shape *shape, const float *q,
                                  ptrdiff_t ldq, const float *m, ptrdiff_t ldm,
                                  const float *z, float eps, float *a, ptrdiff_t lda) {
  infini_status st = infini_backend_ref.retrieve(shape, q, ldq, m, ldm, z, eps, a, lda);
  a[(shape->n - 1) * lda + shape->d_value] = 1; /* one past the last element */
  return st;
}

static infini_status failing_retrieve(const infini_head_shape *shape, const float *q,
                                      ptrdiff_t ldq, const float *m, ptrdiff_t ldm,
                                      const float *z, float eps, float *a,
                                      ptrdiff_t lda) {
  (void)shape, (void)q, (void)ldq, (void)m, (void)ldm, (void)z, (void)eps, (void)a,
      (void)lda;
  return INFINI_ERR_BACKEND;
}

static infini_status before_mix(ptrdiff_t rows, ptrdiff_t cols, float beta,
                                const float *a_mem, ptrdiff_t ldm, const float *a_dot,
                                ptrdiff_t ldd, float *out, ptrdiff_t ldo) {
  infini_status st =
      infini_backend_ref.mix(rows, cols, beta, a_mem, ldm, a_dot, ldd, out, ldo);
  out[-1] = 0;
  return st;
}

static infini_status input_mix(ptrdiff_t rows, ptrdiff_t cols, float beta,
                               const float *a_mem, ptrdiff_t ldm, const float *a_dot,
                               ptrdiff_t ldd, float *out, ptrdiff_t ldo) {
  infini_status st =
      infini_backend_ref.mix(rows, cols, beta, a_mem, ldm, a_dot, ldd, out, ldo);
  ((float *)a_dot)[ldd + 1] = 0; /* a_dot[1][1] */
  return st;
}

static infini_backend faulty(const char *name) {
  infini_backend b = infini_backend_ref;
  b.name = name;
  b.description = "ref with a deliberate fault (conformance/test_runner.c)";
  b.segment_step = NULL;
  b.layer_step = NULL;
  return b;
}

static infini_backend be_gap, be_lazy, be_end, be_fail, be_before, be_input;

/* Run case c on backend be: ran (the runner's verdict), why, judged. */
static bool run(const infini_backend *be, const cf_case *c, char **why, cf_result *r) {
  infini_context *ctx;
  memset(r, 0, sizeof *r);
  *why = NULL;
  if (infini_context_create(be, &ctx) != INFINI_OK)
    return false;
  cf_outputs got = {0};
  bool ran = cf_run_case(ctx, c, &got, why);
  if (ran)
    cf_judge(c, TOL_FP32, &got, r);
  cf_outputs_free(&got);
  infini_context_free(ctx);
  return ran;
}

static bool has(const char *s, const char *part) { return s && strstr(s, part); }

int main(void) {
  make_cases();
  be_gap = faulty("stray-gap"), be_gap.feature_map = gap_feature_map;
  be_lazy = faulty("lazy"), be_lazy.feature_map = lazy_feature_map;
  be_end = faulty("stray-end"), be_end.retrieve = end_retrieve;
  be_fail = faulty("failing"), be_fail.retrieve = failing_retrieve;
  be_before = faulty("stray-before"), be_before.mix = before_mix;
  be_input = faulty("input-writer"), be_input.mix = input_mix;
  const infini_backend *all[] = {&be_gap, &be_lazy, &be_end, &be_fail, &be_before, &be_input};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (infini_backend_register(all[i]) != INFINI_OK) {
      printf("Bail out! cannot register %s\n", all[i]->name);
      return 99;
    }

  char *why;
  cf_result r;
  const cf_case *cases[] = {&fm.c, &rt.c, &mx.c};
  for (size_t i = 0; i < 3; i++) {
    bool ran = run(&infini_backend_ref, cases[i], &why, &r);
    tap_ok(ran && !r.failed, "ref passes the strided %s case%s%s",
           vs_op_name(cases[i]->group->op), why ? ": " : "", why ? why : "");
    free(why);
    free(r.message);
  }

  bool ran = run(&be_gap, &fm.c, &why, &r);
  tap_ok(!ran && has(why, "infini_feature_map wrote outside its output y") &&
             has(why, "stride gap of row 0 (column 3, row width 3, ld 5)"),
         "a write into a stride gap: %s", why ? why : "not detected");
  free(why), free(r.message);

  ran = run(&be_end, &rt.c, &why, &r);
  tap_ok(!ran && has(why, "infini_retrieve wrote outside its output a") &&
             has(why, "1 float(s) after the end"),
         "a write after the end: %s", why ? why : "not detected");
  free(why), free(r.message);

  ran = run(&be_before, &mx.c, &why, &r);
  tap_ok(!ran && has(why, "infini_mix wrote outside its output out") &&
             has(why, "1 float(s) before the start"),
         "a write before the start: %s", why ? why : "not detected");
  free(why), free(r.message);

  ran = run(&be_input, &mx.c, &why, &r);
  tap_ok(!ran && has(why, "infini_mix modified its input a_dot") &&
             has(why, "element [1][1]"),
         "a write into an input: %s", why ? why : "not detected");
  free(why), free(r.message);

  ran = run(&be_fail, &rt.c, &why, &r);
  tap_ok(!ran && has(why, "infini_retrieve returned INFINI_ERR_BACKEND"),
         "a kernel error: %s", why ? why : "not detected");
  free(why), free(r.message);

  ran = run(&be_lazy, &fm.c, &why, &r);
  tap_ok(ran && r.failed && has(r.message, "output y element [1][2]: got nan"),
         "an unwritten element fails at that element: %s",
         r.message ? r.message : "(passed)");
  free(why), free(r.message);

  tap_diag("registered %zu faulty backends", sizeof all / sizeof all[0]);
  return tap_done();
}

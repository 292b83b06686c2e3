/*
 * vectors/vecset.c - the manifest of a golden-vector set: load (with
 * validation), save, and its tensors (see vecset.h; docs/vectors.md is the
 * normative description). JSON through jansson, tensors through npy.c,
 * hashes through sha256.c.
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "vectors/npy.h"
#include "vectors/fail.h"
#include "vectors/sha256.h"
#include "vectors/vecset.h"
#include "src/fileio.h"

/* ---- operators ---------------------------------------------------------- */

static const char *const op_names[VS_OP_COUNT] = {
    "feature_map", "retrieve",        "update_linear", "update_delta",
    "mix",         "local_attention", "segment_step",  "layer_step"};

static const char *const in_fm[] = {"x"};
static const char *const in_retrieve[] = {"q", "m", "z"};
static const char *const in_update[] = {"k", "v", "m", "z"};
static const char *const in_mix[] = {"a_mem", "a_dot"};
static const char *const in_att[] = {"q", "k", "v"};
static const char *const in_layer[] = {"q", "k", "v", "beta"};
static const char *const out_fm[] = {"y"};
static const char *const out_retrieve[] = {"a"};
static const char *const out_update[] = {"m", "z"};
static const char *const out_one[] = {"out"};
static const char *const out_step[] = {"out", "m", "z"};

static const struct {
  const char *const *in;
  int n_in;
  const char *const *out;
  int n_out;
} op_tensors[VS_OP_COUNT] = {
    {in_fm, 1, out_fm, 1},         {in_retrieve, 3, out_retrieve, 1},
    {in_update, 4, out_update, 2}, {in_update, 4, out_update, 2},
    {in_mix, 2, out_one, 1},       {in_att, 3, out_one, 1},
    {in_att, 3, out_step, 3},      {in_layer, 4, out_step, 3}};

const char *vs_op_name(vs_op op) {
  return (unsigned)op < VS_OP_COUNT ? op_names[op] : "unknown";
}

bool vs_op_from_name(const char *name, vs_op *op) {
  for (int i = 0; i < VS_OP_COUNT; i++)
    if (name && strcmp(name, op_names[i]) == 0) {
      *op = (vs_op)i;
      return true;
    }
  return false;
}

int vs_op_inputs(vs_op op, const char *const **names) {
  *names = op_tensors[op].in;
  return op_tensors[op].n_in;
}

int vs_op_outputs(vs_op op, const char *const **names) {
  *names = op_tensors[op].out;
  return op_tensors[op].n_out;
}

size_t vs_tensor_count(const vs_tensor *t) {
  size_t n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= t->dims[i];
  return n;
}

vs_tensor *vs_test_input(vs_test *t, const char *name) {
  for (int i = 0; i < t->n_inputs; i++)
    if (strcmp(t->inputs[i].name, name) == 0)
      return &t->inputs[i];
  return NULL;
}

/* ---- flags ---------------------------------------------------------------- */

static const struct {
  const char *flag, *note;
} flag_notes[] = {
    {"typical", "Normal-ish inputs of moderate size: the ordinary case."},
    {"tile_edge", "Sizes (N, d_key, d_value or rows, cols) around SIMD tile edges: 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 128, 129, 256; catches remainder loops and tails."},
    {"first_segment", "Empty memory (M = 0, z = 0): the zero-row rule (S5) and the first segment (S7)."},
    {"underflow", "sigma or its products underflow the float32 range for some rows (S6): the exact value and the zero row are both accepted (result acceptable, alternative = the float32 outcome)."},
    {"subnormal", "Subnormal float32 inputs (and, for the feature map, subnormal results): flush-to-zero is allowed (S18); where reading subnormal inputs as zero can change the outcome beyond the tolerance, that outcome is listed as an alternative (result acceptable)."},
    {"large_logits", "Scores of order 1e2..1e3 after scaling: a softmax without the row maximum overflows (S10); in memory operators, sigma(x) of large positive and very negative x."},
    {"zeros", "All-zero inputs (exact outcomes, signs of zero not tested)."},
    {"strided", "Row strides larger than the row width (S1): the runner lays inputs and outputs out with the group's strides."},
    {"gqa", "Grouped-query layer: H_kv < H, query head h reads kv head floor(h / (H / H_kv)) (S14)."},
    {"multi_head", "Several query heads (H > 1): head layout and concatenation (11), (S14)."},
    {"multi_segment", "At least three segments: the delta and linear rules differ from segment 3 on (S7)."},
    {"long_run", "At least 64 segments: accumulation of the memory over a long context."},
    {"nan", "NaN inputs: literal IEEE propagation (S16); expected NaN exactly where (S16)/(S17) say."},
    {"neg_inf", "-inf inputs of the memory operators: sigma(-inf) = +0 exactly (S2), (S17)."},
    {"pos_inf", "+inf input of the feature map: sigma(+inf) = +inf (S2)."},
    {"eps", "eps other than the default 0 (S4)."},
    {"scale", "A softmax scale other than the default 1/sqrt(d_key), including 0 and negative (S11)."},
    {"gate_extreme", "beta = +-inf or +-30: a gate fully or almost fully open or closed (S12)."},
    {"gate", "A gate value beta other than 0 (S12): which side sigmoid(beta) weighs."},
    {"cancellation", "Inputs of opposite signs whose weighted sum nearly cancels: the error is judged against the magnitudes, not the result."},
    {"delta_rule", "Delta update rule (9)."},
    {"worked_example", "The worked example of docs/spec.md section 19."},
    {"small_den", "Retrieval denominators of order 1e-2..1e-3 (z and M scaled by 2^-13, A of order 1): a hard-coded epsilon of 1e-6 changes the result far beyond the tolerance (S4)."},
    {"tiny_den", "Denominators of order 1e-6 (z and M scaled by 2^-26) with eps = 1e-9, the eps of public implementations: ignoring or clamping that eps changes the result far beyond the tolerance (S4, S8). Schema version 2."},
    {"subnormal_den", "Rows of q (retrieval) or k (delta prediction) whose every sigma is subnormal, so den_i is subnormal and 1/den_i overflows, or near the smallest normal number: every result stays finite (S18: divide where the reciprocal is not a normal float). Such rows are undetermined to within their own scale (sigma's absolute latitude, S2), so only the finite outcome and the other rows are judged. Schema version 2."},
    {"masked_nonfinite", "A non-finite key or value at a masked (later) position of a segment (S24): the clean row of (6) and the outcome of dense masked attention, where 0 * NaN and NaN + -inf leak it into earlier rows, both conform (result acceptable, alternative = the leaked outcome). Schema version 2."},
    {"restricted", "A twin of another test in the form restricted implementations take (infini-conform --declare): d_key = d_value, one beta for all heads of a layer, and one kv head per query head unless the original was grouped; sizes capped at 65 tokens and 33 columns. Schema version 2."},
    {"realistic", "Model-sized shapes (N >= 256 tokens per segment, d_key, d_value >= 64, grouped-query heads, several segments, eps > 0): the errors of a loose profile (bf16, fp16) stay far below the deviations of the known bugs. Schema version 2."},
    {"exact", "Inputs chosen so that the exact result is representable: any correct evaluation is exact or very close."},
};

const char *vs_flag_note(const char *flag) {
  for (size_t i = 0; i < sizeof flag_notes / sizeof flag_notes[0]; i++)
    if (strcmp(flag, flag_notes[i].flag) == 0)
      return flag_notes[i].note;
  return NULL;
}

/* ---- hex floats ------------------------------------------------------------ */

/* Canonical form, independent of the C library: "0x1.<hex>p<+-e>" with the
 * fraction's trailing zeros dropped, "0x0p+0" for zero, "inf", "-inf".
 * Every double (and so every float) round-trips exactly. */
void vs_format_hexfloat(double x, char buf[40]) {
  uint64_t u;
  memcpy(&u, &x, 8);
  const char *sign = (u >> 63) ? "-" : "";
  int e = (int)((u >> 52) & 0x7ff);
  uint64_t frac = u & ((UINT64_C(1) << 52) - 1);
  if (e == 0x7ff) {
    snprintf(buf, 40, frac ? "nan" : "%sinf", sign);
    return;
  }
  if (e == 0 && frac == 0) {
    snprintf(buf, 40, "%s0x0p+0", sign);
    return;
  }
  if (e == 0) { /* subnormal double: normalise */
    e = 1;
    while (!(frac & (UINT64_C(1) << 52))) {
      frac <<= 1;
      e--;
    }
    frac &= (UINT64_C(1) << 52) - 1;
  }
  char digits[14];
  int nd = 13;
  for (int i = 0; i < 13; i++)
    digits[i] = "0123456789abcdef"[(frac >> (48 - 4 * i)) & 15];
  while (nd > 0 && digits[nd - 1] == '0')
    nd--;
  digits[nd] = 0;
  snprintf(buf, 40, "%s0x1%s%sp%+d", sign, nd ? "." : "", digits, e - 1023);
}

bool vs_parse_hexfloat(const char *s, double *x) {
  char *end;
  if (!s || !*s)
    return false;
  if (strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0) {
    *x = s[0] == '-' ? -INFINITY : INFINITY;
    return true;
  }
  const char *p = s + (s[0] == '-');
  if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
    return false;
  errno = 0;
  *x = strtod(s, &end);
  return *end == 0 && errno == 0;
}

/* ---- strings ------------------------------------------------------------ */

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* ---- freeing -------------------------------------------------------------- */

static void tensor_free(vs_tensor *t) {
  free(t->name);
  free(t->file);
  free(t->data);
  memset(t, 0, sizeof *t);
}

static void outputs_free(vs_outputs *o) {
  for (int i = 0; i < o->count; i++) {
    vs_output *x = &o->items[i];
    tensor_free(&x->expected);
    if (x->mag)
      tensor_free(x->mag);
    if (x->cond)
      tensor_free(x->cond);
    free(x->mag);
    free(x->cond);
  }
  o->count = 0;
}

static void test_free(vs_test *t) {
  free(t->comment);
  for (int i = 0; i < t->n_flags; i++)
    free(t->flags[i]);
  for (int i = 0; i < t->n_inputs; i++)
    tensor_free(&t->inputs[i]);
  outputs_free(&t->outputs);
  for (int i = 0; i < t->n_alternatives; i++)
    outputs_free(&t->alternatives[i]);
}

void vs_set_free(vs_set *set) {
  if (!set)
    return;
  for (int g = 0; g < set->n_groups; g++) {
    vs_group *gr = &set->groups[g];
    for (int t = 0; t < gr->n_tests; t++)
      test_free(&gr->tests[t]);
    free(gr->tests);
    free(gr->regime);
  }
  free(set->groups);
  free(set->dir);
  free(set->file);
  free(set->spec_version);
  free(set->generator_version);
  memset(set, 0, sizeof *set);
}

/* ---- loading --------------------------------------------------------------- */

/* Context of a loader error message: "file: testGroups[g].tests[t]". */
typedef struct where {
  const char *file;
  int group, test;
  char *err;
  size_t errlen;
} where;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool lfail(const where *w, const char *fmt, ...) {
  char msg[512], pos[64] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* Strings quoted from the manifest may hold any character JSON can
   * escape; the message must stay one line. */
  for (char *c = msg; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      *c = '?';
  if (w->group >= 0 && w->test >= 0)
    snprintf(pos, sizeof pos, ": testGroups[%d].tests[%d]", w->group, w->test);
  else if (w->group >= 0)
    snprintf(pos, sizeof pos, ": testGroups[%d]", w->group);
  return fail(w->err, w->errlen, "%s%s: %s", w->file, pos, msg);
}

static json_t *get(const where *w, json_t *obj, const char *key, json_type type,
                   const char *what) {
  json_t *v = json_object_get(obj, key);
  if (!v) {
    lfail(w, "missing \"%s\"", key);
    return NULL;
  }
  if (json_typeof(v) != type &&
      !(type == JSON_REAL && json_typeof(v) == JSON_INTEGER)) {
    lfail(w, "\"%s\" is not %s", key, what);
    return NULL;
  }
  return v;
}

#define GET_STR(w, o, k) get(w, o, k, JSON_STRING, "a string")
#define GET_INT(w, o, k) get(w, o, k, JSON_INTEGER, "an integer")
#define GET_NUM(w, o, k) get(w, o, k, JSON_REAL, "a number")
#define GET_OBJ(w, o, k) get(w, o, k, JSON_OBJECT, "an object")
#define GET_ARR(w, o, k) get(w, o, k, JSON_ARRAY, "an array")

static bool get_size(const where *w, json_t *obj, const char *key,
                     ptrdiff_t *out) {
  json_t *v = GET_INT(w, obj, key);
  if (!v)
    return false;
  json_int_t x = json_integer_value(v);
  if (x < 1 || x > (json_int_t)(PTRDIFF_MAX / 16))
    return lfail(w, "\"%s\" = %" JSON_INTEGER_FORMAT " is not a size >= 1", key,
                 x);
  *out = (ptrdiff_t)x;
  return true;
}

static bool get_hexfloat(const where *w, json_t *obj, const char *key,
                         float *out) {
  json_t *v = GET_STR(w, obj, key);
  double x;
  if (!v)
    return false;
  if (!vs_parse_hexfloat(json_string_value(v), &x) || (double)(float)x != x)
    return lfail(w, "\"%s\" = \"%s\" is not a float32 hex-float string", key,
                 json_string_value(v));
  *out = (float)x;
  return true;
}

/* The dims a tensor of the group must have; false for an unknown name. */
bool vs_group_strided(const vs_group *g) {
  for (int i = 0; i < VS_MAX_INPUTS; i++)
    if (g->ld_in[i])
      return true;
  return g->ld_out || g->ld_m;
}

bool vs_test_one_beta(const vs_test *t) {
  for (int i = 0; i < t->n_inputs; i++)
    if (!strcmp(t->inputs[i].name, "beta") && t->inputs[i].data) {
      const float *b = t->inputs[i].data;
      for (size_t j = 1; j < vs_tensor_count(&t->inputs[i]); j++)
        if (!(b[j] == b[0]))
          return false;
    }
  return true;
}

bool vs_tensor_dims(const vs_group *g, const char *name, int *ndim,
                    size_t d[VS_MAX_DIMS]) {
  const size_t n = (size_t)g->n, dk = (size_t)g->d_key, dv = (size_t)g->d_value;
  const size_t S = (size_t)g->segments, H = (size_t)g->n_heads,
               G = (size_t)g->n_kv_heads;
#define DIMS2(a, b) (*ndim = 2, d[0] = (a), d[1] = (b), true)
#define DIMS1(a) (*ndim = 1, d[0] = (a), true)
#define DIMS3(a, b, c) (*ndim = 3, d[0] = (a), d[1] = (b), d[2] = (c), true)
#define IS(s) (strcmp(name, s) == 0)
  switch (g->op) {
  case VS_FEATURE_MAP:
  case VS_MIX:
    if (IS("x") || IS("y") || IS("a_mem") || IS("a_dot") || IS("out"))
      return DIMS2((size_t)g->rows, (size_t)g->cols);
    return false;
  case VS_RETRIEVE:
    if (IS("q")) return DIMS2(n, dk);
    if (IS("m")) return DIMS2(dk, dv);
    if (IS("z")) return DIMS1(dk);
    if (IS("a")) return DIMS2(n, dv);
    return false;
  case VS_UPDATE_LINEAR:
  case VS_UPDATE_DELTA:
    if (IS("k")) return DIMS2(n, dk);
    if (IS("v")) return DIMS2(n, dv);
    if (IS("m")) return DIMS2(dk, dv);
    if (IS("z")) return DIMS1(dk);
    return false;
  case VS_LOCAL_ATTENTION:
    if (IS("q") || IS("k")) return DIMS2(n, dk);
    if (IS("v") || IS("out")) return DIMS2(n, dv);
    return false;
  case VS_SEGMENT_STEP:
    if (IS("q") || IS("k")) return DIMS3(S, n, dk);
    if (IS("v") || IS("out")) return DIMS3(S, n, dv);
    if (IS("m")) return DIMS2(dk, dv);
    if (IS("z")) return DIMS1(dk);
    return false;
  case VS_LAYER_STEP:
    if (IS("q")) return DIMS3(S, n, H * dk);
    if (IS("k")) return DIMS3(S, n, G * dk);
    if (IS("v")) return DIMS3(S, n, G * dv);
    if (IS("out")) return DIMS3(S, n, H * dv);
    if (IS("beta")) return DIMS1(H);
    if (IS("m")) return DIMS3(G, dk, dv);
    if (IS("z")) return DIMS2(G, dk);
    return false;
  default:
    return false;
  }
#undef DIMS1
#undef DIMS2
#undef DIMS3
#undef IS
}

static bool parse_tensor(const where *w, const vs_group *g, const char *role,
                         const char *dims_of, json_t *obj, vs_dtype want,
                         vs_tensor *t) {
  json_t *file, *sha, *dtype, *shape;
  memset(t, 0, sizeof *t);
  if (!json_is_object(obj))
    return lfail(w, "tensor \"%s\" is not an object", role);
  if (!(file = GET_STR(w, obj, "file")) || !(sha = GET_STR(w, obj, "sha256")) ||
      !(dtype = GET_STR(w, obj, "dtype")) || !(shape = GET_ARR(w, obj, "shape")))
    return false;
  const char *f = json_string_value(file), *h = json_string_value(sha),
             *dt = json_string_value(dtype);
  if (!*f || f[0] == '/' || strstr(f, ".."))
    return lfail(w, "tensor \"%s\": file \"%s\" is not a relative path inside the set",
                 role, f);
  if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
    return lfail(w, "tensor \"%s\": sha256 is not 64 lowercase hex digits", role);
  if (strcmp(dt, want == VS_F32 ? "<f4" : "<f8") != 0)
    return lfail(w, "tensor \"%s\": dtype \"%s\", expected \"%s\"", role, dt,
                 want == VS_F32 ? "<f4" : "<f8");
  size_t nd = json_array_size(shape);
  if (nd > VS_MAX_DIMS)
    return lfail(w, "tensor \"%s\": %zu dimensions", role, nd);
  int e_nd;
  size_t e_d[VS_MAX_DIMS];
  if (!vs_tensor_dims(g, dims_of, &e_nd, e_d))
    return lfail(w, "tensor \"%s\" is not a tensor of operator %s", role,
                 vs_op_name(g->op));
  if ((int)nd != e_nd)
    return lfail(w, "tensor \"%s\": %zu dimensions, the group's shape needs %d",
                 role, nd, e_nd);
  for (size_t i = 0; i < nd; i++) {
    json_t *di = json_array_get(shape, i);
    if (!json_is_integer(di) || json_integer_value(di) < 0)
      return lfail(w, "tensor \"%s\": shape is not a list of integers >= 0", role);
    if ((size_t)json_integer_value(di) != e_d[i])
      return lfail(w, "tensor \"%s\": shape[%zu] = %" JSON_INTEGER_FORMAT
                      ", the group's shape needs %zu",
                   role, i, json_integer_value(di), e_d[i]);
    t->dims[i] = e_d[i];
  }
  t->ndim = (int)nd;
  t->dtype = want;
  memcpy(t->sha256, h, 65);
  t->name = xstrdup(role);
  t->file = xstrdup(f);
  if (!t->name || !t->file)
    return lfail(w, "out of memory");
  return true;
}

/* outputs object: every output of the operator with its .mag and .cond. */
static bool parse_outputs(const where *w, const vs_group *g, json_t *obj,
                          const vs_tolerance *tol, vs_outputs *o) {
  const char *const *names;
  int n = vs_op_outputs(g->op, &names);
  const char *key;
  json_t *val;
  o->count = 0;
  if (!json_is_object(obj))
    return lfail(w, "outputs is not an object");
  json_object_foreach(obj, key, val) {
    bool known = false;
    for (int i = 0; i < n && !known; i++) {
      size_t l = strlen(names[i]);
      known = strcmp(key, names[i]) == 0 ||
              (strncmp(key, names[i], l) == 0 &&
               (strcmp(key + l, ".mag") == 0 || strcmp(key + l, ".cond") == 0));
    }
    if (!known)
      return lfail(w, "unknown output \"%s\" for operator %s", key,
                   vs_op_name(g->op));
  }
  for (int i = 0; i < n; i++) {
    char mk[64], ck[64];
    vs_output *x = &o->items[i];
    memset(x, 0, sizeof *x);
    o->count = i + 1;
    snprintf(mk, sizeof mk, "%s.mag", names[i]);
    snprintf(ck, sizeof ck, "%s.cond", names[i]);
    json_t *e = json_object_get(obj, names[i]), *m = json_object_get(obj, mk),
           *c = json_object_get(obj, ck);
    if (!e || !m || !c)
      return lfail(w, "missing output \"%s\"", !e ? names[i] : !m ? mk : ck);
    x->mag = calloc(1, sizeof *x->mag);
    x->cond = calloc(1, sizeof *x->cond);
    if (!x->mag || !x->cond)
      return lfail(w, "out of memory");
    if (!parse_tensor(w, g, names[i], names[i], e, VS_F64, &x->expected) ||
        !parse_tensor(w, g, mk, names[i], m, VS_F64, x->mag) ||
        !parse_tensor(w, g, ck, names[i], c, VS_F64, x->cond))
      return false;
    x->tol = tol[i];
  }
  return true;
}

static bool parse_test(const where *w, const vs_group *g, json_t *jt,
                       const vs_tolerance *tol, json_t *notes, vs_test *t) {
  json_t *id, *comment, *flags, *result, *seed, *inputs, *outputs;
  if (!json_is_object(jt))
    return lfail(w, "test is not an object");
  if (!(id = GET_INT(w, jt, "tcId")) || !(comment = GET_STR(w, jt, "comment")) ||
      !(flags = GET_ARR(w, jt, "flags")) || !(result = GET_STR(w, jt, "result")) ||
      !(seed = GET_STR(w, jt, "seed")) || !(inputs = GET_OBJ(w, jt, "inputs")) ||
      !(outputs = GET_OBJ(w, jt, "outputs")))
    return false;
  if (json_integer_value(id) < 1 || json_integer_value(id) > INT32_MAX)
    return lfail(w, "tcId is not a positive integer");
  t->id = (int)json_integer_value(id);
  t->comment = xstrdup(json_string_value(comment));
  if (!*t->comment)
    return lfail(w, "tcId %d: empty comment", t->id);
  if (json_array_size(flags) > VS_MAX_FLAGS)
    return lfail(w, "tcId %d: more than %d flags", t->id, VS_MAX_FLAGS);
  for (size_t i = 0; i < json_array_size(flags); i++) {
    json_t *f = json_array_get(flags, i);
    if (!json_is_string(f))
      return lfail(w, "tcId %d: flags[%zu] is not a string", t->id, i);
    if (!json_object_get(notes, json_string_value(f)))
      return lfail(w, "tcId %d: flag \"%s\" is not explained in \"notes\"",
                   t->id, json_string_value(f));
    t->flags[t->n_flags++] = xstrdup(json_string_value(f));
  }
  const char *r = json_string_value(result);
  if (strcmp(r, "valid") == 0)
    t->result = VS_VALID;
  else if (strcmp(r, "acceptable") == 0)
    t->result = VS_ACCEPTABLE;
  else
    return lfail(w, "tcId %d: result \"%s\" is not valid or acceptable", t->id, r);
  const char *s = json_string_value(seed);
  char *end;
  if (strncmp(s, "0x", 2) != 0 || strlen(s) != 18)
    return lfail(w, "tcId %d: seed is not \"0x\" and 16 hex digits", t->id);
  errno = 0;
  t->seed = (uint64_t)strtoull(s + 2, &end, 16);
  if (*end || errno)
    return lfail(w, "tcId %d: seed is not \"0x\" and 16 hex digits", t->id);

  const char *const *in;
  int n_in = vs_op_inputs(g->op, &in);
  if ((int)json_object_size(inputs) != n_in)
    return lfail(w, "tcId %d: %zu inputs, operator %s has %d", t->id,
                 json_object_size(inputs), vs_op_name(g->op), n_in);
  for (int i = 0; i < n_in; i++) {
    json_t *ti = json_object_get(inputs, in[i]);
    if (!ti)
      return lfail(w, "tcId %d: missing input \"%s\"", t->id, in[i]);
    if (!parse_tensor(w, g, in[i], in[i], ti, VS_F32, &t->inputs[i]))
      return false;
    t->n_inputs = i + 1;
  }
  if (!parse_outputs(w, g, outputs, tol, &t->outputs))
    return false;
  json_t *alts = json_object_get(jt, "alternatives");
  if (t->result == VS_ACCEPTABLE) {
    if (!alts || !json_is_array(alts) || json_array_size(alts) < 1)
      return lfail(w, "tcId %d: acceptable test without \"alternatives\"", t->id);
    if (json_array_size(alts) > VS_MAX_ALTERNATIVES)
      return lfail(w, "tcId %d: more than %d alternatives", t->id,
                   VS_MAX_ALTERNATIVES);
    for (size_t a = 0; a < json_array_size(alts); a++) {
      t->n_alternatives = (int)a + 1;
      if (!parse_outputs(w, g, json_array_get(alts, a), tol,
                         &t->alternatives[a]))
        return false;
    }
  } else if (alts) {
    return lfail(w, "tcId %d: valid test with \"alternatives\"", t->id);
  }
  return true;
}

static bool parse_tolerance(const where *w, json_t *obj, const char *name,
                            vs_tolerance *tol) {
  json_t *jt = json_object_get(obj, name), *model, *ca, *ci;
  if (!jt || !json_is_object(jt))
    return lfail(w, "tolerance of output \"%s\" missing or not an object", name);
  if (!(model = GET_STR(w, jt, "model")) || !(ca = GET_NUM(w, jt, "c_arith")) ||
      !(ci = GET_NUM(w, jt, "c_input")))
    return false;
  memset(tol, 0, sizeof *tol);
  const char *m = json_string_value(model);
  if (strcmp(m, "ulp") == 0) {
    json_t *u = GET_NUM(w, jt, "ulps");
    if (!u)
      return false;
    tol->ulps = json_number_value(u);
  } else if (strcmp(m, "gauge") != 0) {
    return lfail(w, "tolerance model \"%s\" is not \"ulp\" or \"gauge\"", m);
  }
  snprintf(tol->model, sizeof tol->model, "%s", m);
  tol->c_arith = json_number_value(ca);
  tol->c_input = json_number_value(ci);
  if (!(tol->c_arith >= 0) || !(tol->c_input >= 0) || !(tol->ulps >= 0) ||
      !isfinite(tol->c_arith) || !isfinite(tol->c_input) || !isfinite(tol->ulps))
    return lfail(w, "tolerance of \"%s\": coefficients must be finite and >= 0",
                 name);
  return true;
}

static bool parse_group(const where *w, json_t *jg, vs_op op, json_t *notes,
                        vs_group *g) {
  json_t *jop, *regime, *shape, *params, *strides, *tolj, *tests;
  if (!json_is_object(jg))
    return lfail(w, "group is not an object");
  if (!(jop = GET_STR(w, jg, "operator")) || !(regime = GET_STR(w, jg, "regime")) ||
      !(shape = GET_OBJ(w, jg, "shape")) || !(params = GET_OBJ(w, jg, "params")) ||
      !(strides = GET_OBJ(w, jg, "strides")) ||
      !(tolj = GET_OBJ(w, jg, "tolerance")) || !(tests = GET_ARR(w, jg, "tests")))
    return false;
  if (!vs_op_from_name(json_string_value(jop), &g->op))
    return lfail(w, "unknown operator \"%s\"", json_string_value(jop));
  if (g->op != op)
    return lfail(w, "operator \"%s\" in a manifest of operator \"%s\"",
                 json_string_value(jop), vs_op_name(op));
  g->regime = xstrdup(json_string_value(regime));
  g->n_heads = g->n_kv_heads = 1;
  g->rule = op == VS_UPDATE_DELTA ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR;

  /* shape */
  bool ok = true;
  switch (op) {
  case VS_FEATURE_MAP:
  case VS_MIX:
    ok = get_size(w, shape, "rows", &g->rows) && get_size(w, shape, "cols", &g->cols);
    break;
  case VS_LAYER_STEP:
    ok = get_size(w, shape, "n_heads", &g->n_heads) &&
         get_size(w, shape, "n_kv_heads", &g->n_kv_heads);
    if (ok && g->n_heads % g->n_kv_heads)
      return lfail(w, "n_kv_heads does not divide n_heads");
    /* fall through */
  case VS_SEGMENT_STEP:
    ok = ok && get_size(w, shape, "segments", &g->segments);
    /* fall through */
  default:
    ok = ok && get_size(w, shape, "n", &g->n) &&
         get_size(w, shape, "d_key", &g->d_key) &&
         get_size(w, shape, "d_value", &g->d_value);
  }
  if (!ok)
    return false;

  /* parameters */
  if (op == VS_RETRIEVE || op == VS_UPDATE_DELTA || op == VS_SEGMENT_STEP ||
      op == VS_LAYER_STEP) {
    if (!get_hexfloat(w, params, "eps", &g->eps))
      return false;
    if (!(g->eps >= 0) || isinf(g->eps))
      return lfail(w, "eps is not finite and >= 0");
  }
  if (op == VS_LOCAL_ATTENTION || op == VS_SEGMENT_STEP || op == VS_LAYER_STEP) {
    if (!get_hexfloat(w, params, "scale", &g->scale))
      return false;
    if (!isfinite(g->scale))
      return lfail(w, "scale is not finite");
  }
  if (op == VS_MIX || op == VS_SEGMENT_STEP) {
    if (!get_hexfloat(w, params, "beta", &g->beta))
      return false;
  }
  if (op == VS_SEGMENT_STEP || op == VS_LAYER_STEP) {
    json_t *rule = GET_STR(w, params, "rule");
    if (!rule)
      return false;
    if (strcmp(json_string_value(rule), "linear") == 0)
      g->rule = INFINI_UPDATE_LINEAR;
    else if (strcmp(json_string_value(rule), "delta") == 0)
      g->rule = INFINI_UPDATE_DELTA;
    else
      return lfail(w, "rule \"%s\" is not \"linear\" or \"delta\"",
                   json_string_value(rule));
  }

  /* strides: one per matrix tensor; absent means packed */
  const char *const *in, *const *outn;
  int n_in = vs_op_inputs(op, &in), n_out = vs_op_outputs(op, &outn);
  const char *key;
  json_t *val;
  json_object_foreach(strides, key, val) {
    int nd;
    size_t d[VS_MAX_DIMS];
    if (!vs_tensor_dims(g, key, &nd, d))
      return lfail(w, "stride of unknown tensor \"%s\"", key);
    if (!json_is_integer(val) || json_integer_value(val) < (json_int_t)d[nd - 1])
      return lfail(w, "stride of \"%s\" is not an integer >= its row width %zu",
                   key, d[nd - 1]);
    /* The runner allocates rows x stride floats (and fills them with guard
     * values): a stride bounded by the row width bounds that buffer by the
     * data file it describes (rows x width), so a hostile stride can
     * neither wrap the product nor ask for gigabytes of padding. */
    if ((uint64_t)json_integer_value(val) > 2 * (uint64_t)d[nd - 1] + VS_STRIDE_SLACK)
      return lfail(w, "stride of \"%s\" is %" PRId64 ", more than twice its "
                   "row width %zu plus %d", key,
                   (int64_t)json_integer_value(val), d[nd - 1], VS_STRIDE_SLACK);
  }
  for (int i = 0; i < n_in; i++) {
    json_t *s = json_object_get(strides, in[i]);
    g->ld_in[i] = s ? (ptrdiff_t)json_integer_value(s) : 0;
  }
  json_t *so = json_object_get(strides, outn[0]);
  g->ld_out = so ? (ptrdiff_t)json_integer_value(so) : 0;
  json_t *sm = json_object_get(strides, "m");
  g->ld_m = (sm && op == VS_SEGMENT_STEP) ? (ptrdiff_t)json_integer_value(sm) : 0;

  /* tolerance per output */
  vs_tolerance tol[VS_MAX_OUTPUTS];
  if ((int)json_object_size(tolj) != n_out)
    return lfail(w, "tolerance has %zu entries, operator %s has %d outputs",
                 json_object_size(tolj), vs_op_name(op), n_out);
  for (int i = 0; i < n_out; i++)
    if (!parse_tolerance(w, tolj, outn[i], &tol[i]))
      return false;

  /* tests */
  size_t nt = json_array_size(tests);
  if (nt == 0)
    return lfail(w, "group without tests");
  g->tests = calloc(nt, sizeof *g->tests);
  if (!g->tests)
    return lfail(w, "out of memory");
  for (size_t t = 0; t < nt; t++) {
    where wt = *w;
    wt.test = (int)t;
    g->n_tests = (int)t + 1;
    if (!parse_test(&wt, g, json_array_get(tests, t), tol, notes, &g->tests[t]))
      return false;
  }
  return true;
}

/* A manifest through the project's one reader (a FIFO, a device or a file
 * over VS_MANIFEST_MAX is refused before a byte is read); jansson's error
 * text quotes input bytes, so it is made one line. */
static json_t *load_json(const char *path, char sha256[65], char *err,
                         size_t errlen) {
  unsigned char *bytes;
  size_t len;
  if (fileio_read_all(path, VS_MANIFEST_MAX, &bytes, &len, err, errlen) !=
      INFINI_OK)
    return NULL;
  vs_sha256_hex(bytes, len, sha256);
  json_error_t je;
  json_t *root = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, &je);
  free(bytes);
  if (!root)
    fail(err, errlen, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column,
         fileio_one_line(je.text));
  return root;
}

bool vs_set_load(const char *path, vs_set *set, char *err, size_t errlen) {
  where w = {path, -1, -1, err, errlen};
  memset(set, 0, sizeof *set);
  json_t *root = load_json(path, set->sha256, err, errlen);
  if (!root)
    return false;
  bool ok = false;
  json_t *schema, *ver, *spec, *gen, *jop, *count, *notes, *groups;
  vs_op op;
  /* directory and file name */
  const char *slash = strrchr(path, '/');
  set->dir = slash ? strndup(path, (size_t)(slash - path)) : xstrdup(".");
  set->file = xstrdup(slash ? slash + 1 : path);
  if (!json_is_object(root)) {
    lfail(&w, "top level is not an object");
    goto out;
  }
  if (!(schema = GET_STR(&w, root, "schema")) ||
      !(ver = GET_INT(&w, root, "schemaVersion")) ||
      !(spec = GET_STR(&w, root, "specVersion")) ||
      !(gen = GET_STR(&w, root, "generatorVersion")) ||
      !(jop = GET_STR(&w, root, "operator")) ||
      !(count = GET_INT(&w, root, "numberOfTests")) ||
      !(notes = GET_OBJ(&w, root, "notes")) ||
      !(groups = GET_ARR(&w, root, "testGroups")))
    goto out;
  if (strcmp(json_string_value(schema), VS_SCHEMA_NAME) != 0) {
    lfail(&w, "schema \"%s\" is not \"%s\"", json_string_value(schema),
          VS_SCHEMA_NAME);
    goto out;
  }
  if (json_integer_value(ver) < VS_SCHEMA_VERSION_MIN ||
      json_integer_value(ver) > VS_SCHEMA_VERSION) {
    lfail(&w, "schemaVersion %" JSON_INTEGER_FORMAT " is not supported (this reader: %d to %d)",
          json_integer_value(ver), VS_SCHEMA_VERSION_MIN, VS_SCHEMA_VERSION);
    goto out;
  }
  if (!vs_op_from_name(json_string_value(jop), &op)) {
    lfail(&w, "unknown operator \"%s\"", json_string_value(jop));
    goto out;
  }
  {
    const char *key;
    json_t *val;
    json_object_foreach(notes, key, val) {
      if (!json_is_string(val)) {
        lfail(&w, "notes[\"%s\"] is not a string", key);
        goto out;
      }
    }
  }
  set->schema_version = (int)json_integer_value(ver);
  set->spec_version = xstrdup(json_string_value(spec));
  set->generator_version = xstrdup(json_string_value(gen));
  size_t ng = json_array_size(groups);
  set->groups = calloc(ng ? ng : 1, sizeof *set->groups);
  if (!set->groups) {
    lfail(&w, "out of memory");
    goto out;
  }
  int total = 0;
  for (size_t g = 0; g < ng; g++) {
    where wg = w;
    wg.group = (int)g;
    set->n_groups = (int)g + 1;
    if (!parse_group(&wg, json_array_get(groups, g), op, notes, &set->groups[g]))
      goto out;
    total += set->groups[g].n_tests;
  }
  if (json_integer_value(count) != total) {
    lfail(&w, "numberOfTests is %" JSON_INTEGER_FORMAT " but the groups hold %d tests",
          json_integer_value(count), total);
    goto out;
  }
  /* tcIds unique */
  for (int g = 0; g < set->n_groups; g++)
    for (int t = 0; t < set->groups[g].n_tests; t++)
      for (int g2 = g; g2 < set->n_groups; g2++)
        for (int t2 = (g2 == g ? t + 1 : 0); t2 < set->groups[g2].n_tests; t2++)
          if (set->groups[g].tests[t].id == set->groups[g2].tests[t2].id) {
            lfail(&w, "tcId %d appears twice", set->groups[g].tests[t].id);
            goto out;
          }
  set->number_of_tests = total;
  ok = true;
out:
  json_decref(root);
  if (!ok)
    vs_set_free(set);
  return ok;
}

/* ---- tensors ------------------------------------------------------------- */

static char *join(const char *dir, const char *file) {
  size_t n = strlen(dir) + strlen(file) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s", dir, file);
  return p;
}

bool vs_tensor_load(const vs_set *set, vs_tensor *t, char *err, size_t errlen) {
  unsigned char *bytes;
  size_t len;
  char hex[65], e[256];
  npy_array a;
  if (t->data)
    return true;
  char *path = join(set->dir, t->file);
  if (!path)
    return fail(err, errlen, "out of memory");
  /* capped by the shape the manifest declares (float64 at most) plus a
   * header, so a huge file is refused before it is read */
  const size_t count = vs_tensor_count(t);
  const size_t cap = count > (NPY_READ_MAX - NPY_HEADER_MAX) / 8
                         ? NPY_READ_MAX
                         : NPY_HEADER_MAX + 8 * count;
  if (!npy_read_file_capped(path, 0, cap, &bytes, &len, err, errlen)) {
    free(path);
    return false;
  }
  vs_sha256_hex(bytes, len, hex);
  if (strcmp(hex, t->sha256) != 0) {
    fail(err, errlen, "%s: sha256 %s does not match the manifest's %s", path,
         hex, t->sha256);
    free(bytes);
    free(path);
    return false;
  }
  bool ok = npy_parse(bytes, len, &a, e, sizeof e);
  free(bytes);
  if (!ok) {
    fail(err, errlen, "%s: %s", path, e);
    free(path);
    return false;
  }
  if ((a.dtype == NPY_F8) != (t->dtype == VS_F64) || a.ndim != t->ndim ||
      memcmp(a.dims, t->dims, sizeof(size_t) * (size_t)a.ndim) != 0) {
    fail(err, errlen, "%s: dtype or shape differ from the manifest", path);
    npy_free(&a);
    free(path);
    return false;
  }
  free(path);
  t->data = a.data;
  return true;
}

static bool outputs_load(const vs_set *set, vs_outputs *o, char *err,
                         size_t errlen) {
  for (int i = 0; i < o->count; i++)
    if (!vs_tensor_load(set, &o->items[i].expected, err, errlen) ||
        (o->items[i].mag && !vs_tensor_load(set, o->items[i].mag, err, errlen)) ||
        (o->items[i].cond && !vs_tensor_load(set, o->items[i].cond, err, errlen)))
      return false;
  return true;
}

bool vs_test_load(const vs_set *set, vs_test *t, char *err, size_t errlen) {
  for (int i = 0; i < t->n_inputs; i++)
    if (!vs_tensor_load(set, &t->inputs[i], err, errlen))
      return false;
  if (!outputs_load(set, &t->outputs, err, errlen))
    return false;
  for (int a = 0; a < t->n_alternatives; a++)
    if (!outputs_load(set, &t->alternatives[a], err, errlen))
      return false;
  return true;
}

static void outputs_unload(vs_outputs *o) {
  for (int i = 0; i < o->count; i++) {
    free(o->items[i].expected.data);
    o->items[i].expected.data = NULL;
    if (o->items[i].mag) {
      free(o->items[i].mag->data);
      o->items[i].mag->data = NULL;
    }
    if (o->items[i].cond) {
      free(o->items[i].cond->data);
      o->items[i].cond->data = NULL;
    }
  }
}

void vs_test_unload(vs_test *t) {
  for (int i = 0; i < t->n_inputs; i++) {
    free(t->inputs[i].data);
    t->inputs[i].data = NULL;
  }
  outputs_unload(&t->outputs);
  for (int a = 0; a < t->n_alternatives; a++)
    outputs_unload(&t->alternatives[a]);
}

bool vs_tensor_save(const char *set_dir, vs_tensor *t, const void *data,
                    char *err, size_t errlen) {
  unsigned char *bytes;
  size_t len;
  char *path = join(set_dir, t->file);
  if (!path)
    return fail(err, errlen, "out of memory");
  bool ok = npy_encode(t->dtype == VS_F64 ? NPY_F8 : NPY_F4, t->ndim, t->dims,
                       data, &bytes, &len, err, errlen);
  if (ok) {
    vs_sha256_hex(bytes, len, t->sha256);
    ok = npy_write_file(path, bytes, len, err, errlen);
    free(bytes);
  }
  free(path);
  return ok;
}

/* ---- saving ---------------------------------------------------------------- */

static json_t *tensor_json(const vs_tensor *t) {
  json_t *o = json_object(), *shape = json_array();
  for (int i = 0; i < t->ndim; i++)
    json_array_append_new(shape, json_integer((json_int_t)t->dims[i]));
  json_object_set_new(o, "file", json_string(t->file));
  json_object_set_new(o, "sha256", json_string(t->sha256));
  json_object_set_new(o, "dtype", json_string(t->dtype == VS_F64 ? "<f8" : "<f4"));
  json_object_set_new(o, "shape", shape);
  return o;
}

static json_t *outputs_json(const vs_outputs *o) {
  json_t *j = json_object();
  for (int i = 0; i < o->count; i++) {
    const vs_output *x = &o->items[i];
    char k[64];
    json_object_set_new(j, x->expected.name, tensor_json(&x->expected));
    snprintf(k, sizeof k, "%s.mag", x->expected.name);
    json_object_set_new(j, k, tensor_json(x->mag));
    snprintf(k, sizeof k, "%s.cond", x->expected.name);
    json_object_set_new(j, k, tensor_json(x->cond));
  }
  return j;
}

static json_t *hexfloat_json(float x) {
  char buf[40];
  vs_format_hexfloat((double)x, buf);
  return json_string(buf);
}

bool vs_set_save(const vs_set *set, const char *path, char *err, size_t errlen) {
  if (set->n_groups < 1)
    return fail(err, errlen, "%s: a set needs at least one group", path);
  vs_op op = set->groups[0].op;
  json_t *root = json_object(), *notes = json_object(), *groups = json_array();
  int total = 0;
  char seed[24];
  for (int g = 0; g < set->n_groups; g++) {
    const vs_group *gr = &set->groups[g];
    if (gr->op != op) {
      json_decref(root);
      json_decref(notes);
      json_decref(groups);
      return fail(err, errlen, "%s: groups of different operators", path);
    }
    json_t *jg = json_object(), *shape = json_object(), *params = json_object(),
           *strides = json_object(), *tol = json_object(), *tests = json_array();
    json_object_set_new(jg, "operator", json_string(vs_op_name(op)));
    json_object_set_new(jg, "regime", json_string(gr->regime));
    if (op == VS_FEATURE_MAP || op == VS_MIX) {
      json_object_set_new(shape, "rows", json_integer(gr->rows));
      json_object_set_new(shape, "cols", json_integer(gr->cols));
    } else {
      if (op == VS_SEGMENT_STEP || op == VS_LAYER_STEP)
        json_object_set_new(shape, "segments", json_integer(gr->segments));
      json_object_set_new(shape, "n", json_integer(gr->n));
      if (op == VS_LAYER_STEP) {
        json_object_set_new(shape, "n_heads", json_integer(gr->n_heads));
        json_object_set_new(shape, "n_kv_heads", json_integer(gr->n_kv_heads));
      }
      json_object_set_new(shape, "d_key", json_integer(gr->d_key));
      json_object_set_new(shape, "d_value", json_integer(gr->d_value));
    }
    if (op == VS_SEGMENT_STEP || op == VS_LAYER_STEP)
      json_object_set_new(params, "rule", json_string(gr->rule == INFINI_UPDATE_DELTA
                                                          ? "delta" : "linear"));
    if (op == VS_RETRIEVE || op == VS_UPDATE_DELTA || op == VS_SEGMENT_STEP ||
        op == VS_LAYER_STEP)
      json_object_set_new(params, "eps", hexfloat_json(gr->eps));
    if (op == VS_LOCAL_ATTENTION || op == VS_SEGMENT_STEP || op == VS_LAYER_STEP)
      json_object_set_new(params, "scale", hexfloat_json(gr->scale));
    if (op == VS_MIX || op == VS_SEGMENT_STEP)
      json_object_set_new(params, "beta", hexfloat_json(gr->beta));
    const char *const *in, *const *outn;
    int n_in = vs_op_inputs(op, &in), n_out = vs_op_outputs(op, &outn);
    for (int i = 0; i < n_in; i++)
      if (gr->ld_in[i])
        json_object_set_new(strides, in[i], json_integer(gr->ld_in[i]));
    if (gr->ld_out && !json_object_get(strides, outn[0]))
      json_object_set_new(strides, outn[0], json_integer(gr->ld_out));
    if (gr->ld_m && op == VS_SEGMENT_STEP)
      json_object_set_new(strides, "m", json_integer(gr->ld_m));
    const vs_test *t0 = &gr->tests[0];
    for (int i = 0; i < n_out; i++) {
      const vs_tolerance *tl = &t0->outputs.items[i].tol;
      json_t *jt = json_object();
      json_object_set_new(jt, "model", json_string(tl->model));
      if (strcmp(tl->model, "ulp") == 0)
        json_object_set_new(jt, "ulps", json_real(tl->ulps));
      json_object_set_new(jt, "c_arith", json_real(tl->c_arith));
      json_object_set_new(jt, "c_input", json_real(tl->c_input));
      json_object_set_new(tol, outn[i], jt);
    }
    for (int t = 0; t < gr->n_tests; t++) {
      const vs_test *ts = &gr->tests[t];
      json_t *jt = json_object(), *flags = json_array(), *inputs = json_object();
      json_object_set_new(jt, "tcId", json_integer(ts->id));
      json_object_set_new(jt, "comment", json_string(ts->comment));
      for (int f = 0; f < ts->n_flags; f++) {
        const char *note = vs_flag_note(ts->flags[f]);
        if (!note) {
          json_decref(root);
          json_decref(notes);
          json_decref(groups);
          json_decref(jt);
          json_decref(flags);
          json_decref(inputs);
          json_decref(jg);
          json_decref(shape);
          json_decref(params);
          json_decref(strides);
          json_decref(tol);
          json_decref(tests);
          return fail(err, errlen, "%s: tcId %d: flag \"%s\" has no note", path,
                      ts->id, ts->flags[f]);
        }
        json_array_append_new(flags, json_string(ts->flags[f]));
        json_object_set_new(notes, ts->flags[f], json_string(note));
      }
      json_object_set_new(jt, "flags", flags);
      json_object_set_new(jt, "result", json_string(ts->result == VS_ACCEPTABLE
                                                        ? "acceptable" : "valid"));
      snprintf(seed, sizeof seed, "0x%016" PRIx64, ts->seed);
      json_object_set_new(jt, "seed", json_string(seed));
      for (int i = 0; i < ts->n_inputs; i++)
        json_object_set_new(inputs, ts->inputs[i].name, tensor_json(&ts->inputs[i]));
      json_object_set_new(jt, "inputs", inputs);
      json_object_set_new(jt, "outputs", outputs_json(&ts->outputs));
      if (ts->n_alternatives) {
        json_t *alts = json_array();
        for (int a = 0; a < ts->n_alternatives; a++)
          json_array_append_new(alts, outputs_json(&ts->alternatives[a]));
        json_object_set_new(jt, "alternatives", alts);
      }
      json_array_append_new(tests, jt);
      total++;
    }
    json_object_set_new(jg, "shape", shape);
    json_object_set_new(jg, "params", params);
    json_object_set_new(jg, "strides", strides);
    json_object_set_new(jg, "tolerance", tol);
    json_object_set_new(jg, "tests", tests);
    json_array_append_new(groups, jg);
  }
  /* notes sorted by flag name, so the order does not depend on the tests */
  json_t *sorted = json_object();
  {
    const char *keys[64];
    size_t nk = 0;
    const char *key;
    json_t *val;
    json_object_foreach(notes, key, val) if (nk < 64) keys[nk++] = key;
    for (size_t i = 1; i < nk; i++)
      for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
        const char *tmp = keys[j];
        keys[j] = keys[j - 1];
        keys[j - 1] = tmp;
      }
    for (size_t i = 0; i < nk; i++)
      json_object_set(sorted, keys[i], json_object_get(notes, keys[i]));
  }
  json_decref(notes);
  json_object_set_new(root, "schema", json_string(VS_SCHEMA_NAME));
  json_object_set_new(root, "schemaVersion",
                      json_integer(set->schema_version ? set->schema_version
                                                       : VS_SCHEMA_VERSION));
  json_object_set_new(root, "specVersion", json_string(set->spec_version));
  json_object_set_new(root, "generatorVersion", json_string(set->generator_version));
  json_object_set_new(root, "operator", json_string(vs_op_name(op)));
  json_object_set_new(root, "numberOfTests", json_integer(total));
  json_object_set_new(root, "notes", sorted);
  json_object_set_new(root, "testGroups", groups);

  char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
                                    JSON_REAL_PRECISION(17) | JSON_ENSURE_ASCII);
  json_decref(root);
  if (!text)
    return fail(err, errlen, "%s: cannot encode JSON", path);
  size_t len = strlen(text);
  text[len] = 0;
  unsigned char *buf = malloc(len + 1);
  bool ok = buf != NULL;
  if (ok) {
    memcpy(buf, text, len);
    buf[len] = '\n';
    ok = npy_write_file(path, buf, len + 1, err, errlen);
  } else {
    fail(err, errlen, "%s: out of memory", path);
  }
  free(buf);
  free(text);
  return ok;
}

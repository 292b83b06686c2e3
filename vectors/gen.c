/*
 * vectors/gen.c - infini-vectors, the golden-vector generator.
 *
 *   infini-vectors --shipped --out DIR       the shipped catalogue (vectors/v1)
 *   infini-vectors --out DIR [options]       a new set in the same format
 *
 * For every catalogue entry (gen_catalogue.c): draw the inputs from the
 * portable PRNG (prng.h) in the entry's regime, compute the expected
 * outputs with the double oracle (ref/, exp from ref/exp_oracle.c), the
 * tolerance model's aux arrays (bounds.c), and for acceptable tests the
 * alternative outcomes; write the tensors (.npy) and one manifest per
 * operator. Everything is deterministic: the same command writes the same
 * bytes on every platform (docs/vectors.md, "Reproducibility").
 */
#include "config.h"
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include "ref/ref.h"
#include "vectors/bounds.h"
#include "vectors/gen.h"
#include "vectors/prng.h"
#include "src/fileio.h"
#include "tools/cli.h"

#define GENERATOR_VERSION "infini-vectors " PACKAGE_VERSION

static const char *const regime_names[GR_COUNT] = {
    "typical", "large_logits", "underflow", "zeros", "subnormal", "nan",
    "neg_inf", "special",      "exact",     "first_segment", "worked_example",
    "small_den", "tiny_den", "subnormal_den"};

const char *gen_regime_name(gen_regime r) { return regime_names[r]; }

bool gen_regime_from_name(const char *name, gen_regime *r) {
  for (int i = 0; i < GR_COUNT; i++)
    if (strcmp(name, regime_names[i]) == 0) {
      *r = (gen_regime)i;
      return true;
    }
  return false;
}

/* ---- small helpers -------------------------------------------------------- */

/* A failure to write the set: exit 1 (a bad option exits 2, see bad). */
static void die(const char *msg) { cli_die(EXIT_FAILURE, "%s", msg); }

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p)
    die("out of memory");
  return p;
}

static char *xstrdup(const char *s) {
  char *d = xcalloc(strlen(s) + 1, 1);
  memcpy(d, s, strlen(s));
  return d;
}

static double *to_double(const float *x, size_t n) {
  double *d = xcalloc(n, sizeof *d);
  for (size_t i = 0; i < n; i++)
    d[i] = (double)x[i];
  return d;
}

static double *dup_d(const double *x, size_t n) {
  double *d = xcalloc(n, sizeof *d);
  memcpy(d, x, n * sizeof *d);
  return d;
}

static double *abs_d(const double *x, size_t n) {
  double *d = xcalloc(n, sizeof *d);
  for (size_t i = 0; i < n; i++)
    d[i] = fabs(x[i]);
  return d;
}

static bool has_flag(const gen_spec *s, const char *flag) {
  size_t l = strlen(flag);
  for (const char *p = s->flags; (p = strstr(p, flag)) != NULL; p += l)
    if ((p == s->flags || p[-1] == ' ') && (p[l] == 0 || p[l] == ' '))
      return true;
  return false;
}

/* ln(2^-150): below it exp(x) rounds to 0 in float32 (spec S2). */
#define LN_2M150 (-103.97207708399179)

/* ---- the worked example of docs/spec.md section 19 -------------------------- */

static const float we_q[3][6] = {{1, 0, 0, 2, 1, 1}, {0, 1, 1, 2, 1, 1}, {1, 0, 0, 1, 1, 2}};
static const float we_k[3][6] = {{0, 1, 1, 0, 2, 1}, {1, 0, 0, 0, 2, 3}, {2, 0, 0, 1, 1, 1}};
static const float we_v[3][6] = {{1, 0, 0, 1, 1, 2}, {2, 1, 1, 0, 0, 3}, {0, 1, 2, 2, 1, 0}};
static const float we_m1[4] = {4, 8, 4, 5}, we_z1[2] = {6, 5};

/* ---- inputs -------------------------------------------------------------------- */

typedef enum role { ROLE_QK, ROLE_V, ROLE_M, ROLE_Z, ROLE_BETA } role;

static role role_of(vs_op op, const char *name) {
  if (!strcmp(name, "q") || !strcmp(name, "k") || !strcmp(name, "x"))
    return ROLE_QK;
  if (!strcmp(name, "z"))
    return ROLE_Z;
  if (!strcmp(name, "beta"))
    return ROLE_BETA;
  if (!strcmp(name, "m"))
    return ROLE_M;
  (void)op;
  return ROLE_V;
}

static float typical(vs_rng *r, role ro) {
  switch (ro) {
  case ROLE_M:
    return 4.0f * vs_normalish(r);
  case ROLE_Z:
    return 8.0f + 4.0f * vs_uniform(r);
  default:
    return vs_normalish(r);
  }
}

/* Fill one input tensor (count elements, rows of `width`) for the spec's
 * regime; docs/vectors.md "Regimes" describes each rule. */
static void fill(const gen_spec *sp, vs_rng *r, const char *name, float *x,
                 size_t count, size_t width, int tc) {
  role ro = role_of(sp->op, name);
  (void)tc;
  switch (sp->regime) {
  case GR_ZEROS:
    for (size_t i = 0; i < count; i++)
      x[i] = 0;
    return;
  case GR_FIRST:
    for (size_t i = 0; i < count; i++)
      x[i] = (ro == ROLE_M || ro == ROLE_Z) ? 0.0f : typical(r, ro);
    return;
  case GR_LARGE:
    for (size_t i = 0; i < count; i++)
      x[i] = (ro == ROLE_QK || (sp->op == VS_MIX && ro == ROLE_V))
                 ? 32.0f * vs_uniform(r)
                 : typical(r, ro);
    return;
  case GR_UNDERFLOW:
    for (size_t i = 0; i < count; i++)
      x[i] = typical(r, ro);
    if (ro == ROLE_QK)
      for (size_t i = 0; i < count; i++)
        if (sp->op == VS_FEATURE_MAP || (i / width) % 2 == 0)
          x[i] = -120.0f + 8.0f * vs_uniform(r);
    return;
  case GR_SUBNORMAL:
    for (size_t i = 0; i < count; i++)
      x[i] = typical(r, ro);
    for (size_t i = 0; i < count; i++) {
      if (ro == ROLE_V || ro == ROLE_M || (ro == ROLE_QK && i % 2 == 0))
        x[i] = vs_uniform(r) * 0x1p-126f;
      else if (sp->op == VS_FEATURE_MAP && i % 4 == 1)
        x[i] = -95.0f + 8.0f * vs_uniform(r);
    }
    return;
  case GR_SPECIAL: {
    static const float special[16] = {
        NAN, INFINITY, -INFINITY, 0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN,
        -FLT_MIN, 0x1p-149f, -0x1p-149f, -103.972077f, -103.278931f,
        -87.3365479f, 88.7228394f, -1.0f};
    for (size_t i = 0; i < count; i++)
      x[i] = special[i % 16];
    return;
  }
  case GR_EXACT:
    if (sp->op == VS_FEATURE_MAP) {
      for (size_t i = 0; i < count; i++)
        x[i] = (float)((int32_t)(vs_next(r) >> 59) - 16);
      return;
    }
    /* otherwise the worked example */
    /* fall through */
  case GR_WORKED: {
    /* Segment 1 for update_linear and local_attention, segment 2 (from
     * M_1, z_1) for retrieve and update_delta, all three for the steps. */
    int seg0 = (sp->op == VS_RETRIEVE || sp->op == VS_UPDATE_DELTA) ? 1 : 0;
    const float(*src)[6] = NULL;
    if (!strcmp(name, "q"))
      src = we_q;
    else if (!strcmp(name, "k"))
      src = we_k;
    else if (!strcmp(name, "v"))
      src = we_v;
    for (size_t i = 0; i < count; i++) {
      if (src)
        x[i] = src[seg0 + i / 6][i % 6];
      else if (ro == ROLE_M)
        x[i] = sp->op == VS_UPDATE_LINEAR ? 0.0f : we_m1[i];
      else
        x[i] = sp->op == VS_UPDATE_LINEAR ? 0.0f : we_z1[i];
    }
    return;
  }
  case GR_SMALL_DEN: /* memory scaled by 2^-13 (exact): den ~ 1e-3 */
  case GR_TINY_DEN: { /* by 2^-26: den ~ 1e-6 */
    const float memory_scale = sp->regime == GR_TINY_DEN ? 0x1p-26f : 0x1p-13f;
    for (size_t i = 0; i < count; i++) {
      x[i] = typical(r, ro);
      if (ro == ROLE_M || ro == ROLE_Z)
        x[i] *= memory_scale;
    }
    return;
  }
  case GR_SUBNORMAL_DEN:
    /* Whole rows of q and k (every head of a token) on a ladder: sigma
     * below e^-96 makes den_i subnormal, so 1/den_i overflows (S18);
     * sigma near e^-89 makes den_i a few times FLT_MIN; sigma near e^-21
     * makes it tiny but normal; every fourth row is typical, so the
     * memory the steps write is of order 1. */
    for (size_t i = 0; i < count; i++) {
      x[i] = typical(r, ro);
      if (ro != ROLE_QK)
        continue;
      switch ((i / width) % 4) {
      case 0:
        x[i] = -98.0f + 2.0f * vs_uniform(r); /* [-100, -96) */
        break;
      case 1:
        x[i] = -89.0f + vs_uniform(r); /* [-90, -88) */
        break;
      case 2:
        x[i] = -21.0f + vs_uniform(r); /* [-22, -20) */
        break;
      default:
        break;
      }
    }
    return;
  case GR_NAN:
  case GR_NEG_INF:
  case GR_TYPICAL:
  default:
    for (size_t i = 0; i < count; i++)
      x[i] = typical(r, ro);
    return;
  }
}

/* NaN and -inf placements (the comments of the catalogue say which). A
 * NaN goes where nan_where says in the "nan" regime and, from schema 2 on,
 * in any regime (v1's retrieve:27, "NaN in q with an empty memory" in the
 * first_segment regime, was written without its NaN). */
static void inject(const gen_spec *sp, int schema, const char *name, float *x,
                   size_t width) {
  const bool nan_here = sp->regime == GR_NAN || (schema >= 2 && sp->regime != GR_NEG_INF);
  if (nan_here && sp->nan_where && !strcmp(name, sp->nan_where)) {
    switch (sp->op) {
    case VS_RETRIEVE:
      x[(sp->comment && strstr(sp->comment, "row 1") ? 1 : 2) * width + 1] = NAN;
      break;
    case VS_UPDATE_LINEAR:
    case VS_UPDATE_DELTA:
      if (!strcmp(name, "k"))
        x[2 * width + 1] = NAN;
      else
        x[3 * width + 2] = NAN;
      break;
    case VS_MIX:
      x[1 * width + 2] = NAN;
      break;
    case VS_LOCAL_ATTENTION:
      x[3 * width + (!strcmp(name, "v") ? 2 : 1)] = NAN;
      break;
    case VS_SEGMENT_STEP:
      /* q: segment 2 (index 1) row 2; k: segment 1 row 2; v: segment 1
       * row 3 column 2 */
      if (!strcmp(name, "q"))
        x[((size_t)sp->n + 2) * width + 1] = NAN;
      else if (!strcmp(name, "k"))
        x[2 * width + 1] = NAN;
      else
        x[3 * width + 2] = NAN;
      break;
    case VS_LAYER_STEP:
      /* kv head 1's keys, segment 1, row 2 */
      x[2 * width + (size_t)sp->d_key + 1] = NAN;
      break;
    default:
      break;
    }
  }
  if (sp->regime == GR_NEG_INF && !strcmp(name, sp->op == VS_RETRIEVE ? "q" : "k")) {
    for (size_t c = 0; c < width; c++)
      x[c] = -INFINITY;
    x[3 * width + 2] = -INFINITY;
  }
}

/* ---- evaluation: expected outputs and aux arrays ------------------------------ */

/* One output: expected values, mag, cond, dims. */
typedef struct result {
  const char *name;
  int ndim;
  size_t dims[VS_MAX_DIMS];
  double *e, *mag, *cond;
  vs_tolerance tol;
} result;

typedef struct evaluation {
  int n;
  result r[VS_MAX_OUTPUTS];
} evaluation;

static void eval_free(evaluation *ev) {
  for (int i = 0; i < ev->n; i++) {
    free(ev->r[i].e);
    free(ev->r[i].mag);
    free(ev->r[i].cond);
  }
  ev->n = 0;
}

static result *add_result(evaluation *ev, const char *name, int ndim, size_t d0,
                          size_t d1, size_t d2, const char *model, double ulps,
                          double c_arith) {
  result *r = &ev->r[ev->n++];
  size_t count = 1;
  memset(r, 0, sizeof *r);
  r->name = name;
  r->ndim = ndim;
  r->dims[0] = d0;
  r->dims[1] = d1;
  r->dims[2] = d2;
  for (int i = 0; i < ndim; i++)
    count *= r->dims[i];
  r->e = xcalloc(count, sizeof(double));
  r->mag = xcalloc(count, sizeof(double));
  r->cond = xcalloc(count, sizeof(double));
  snprintf(r->tol.model, sizeof r->tol.model, "%s", model);
  r->tol.ulps = ulps;
  r->tol.c_arith = c_arith;
  r->tol.c_input = 1;
  return r;
}

/* Inputs of a test in double, packed, by canonical name. */
typedef struct inputs {
  double *x[VS_MAX_INPUTS];
  const char *const *names;
  int n;
} inputs;

static double *in_get(const inputs *in, const char *name) {
  for (int i = 0; i < in->n; i++)
    if (!strcmp(in->names[i], name))
      return in->x[i];
  die("internal: unknown input");
  return NULL;
}

/* Memory-path copy of q or k for the underflow alternative: every element
 * whose exp rounds to 0 in float32 becomes -inf, whose sigma is exactly +0
 * (the float32 outcome, spec S6). */
static double *flush_sigma(const double *x, size_t n) {
  double *d = dup_d(x, n);
  for (size_t i = 0; i < n; i++)
    if (d[i] < LN_2M150)
      d[i] = -INFINITY;
  return d;
}

/* (S24) The outcome of dense masked attention, the alternative to (6)'s
 * clean row: a masked position j > i whose score S_ij is NaN or +inf
 * turns row i into NaN (masking by adding -inf: NaN + -inf, inf + -inf
 * are NaN), and a non-finite v_j[c] turns column c of row i into NaN
 * (masking by the weight 0: 0 * NaN, 0 * inf are NaN). A score of -inf
 * stays masked (-inf + -inf = -inf). */
static void leak_masked(ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv, const double *q,
                        const double *k, const double *v, float scale, double *out) {
  for (ptrdiff_t i = 0; i < n; i++)
    for (ptrdiff_t j = i + 1; j < n; j++) {
      double s = 0;
      for (ptrdiff_t c = 0; c < dk; c++)
        s += q[i * dk + c] * k[j * dk + c];
      s *= (double)scale;
      if (isnan(s) || s == INFINITY) {
        for (ptrdiff_t c = 0; c < dv; c++)
          out[i * dv + c] = NAN;
        break;
      }
      for (ptrdiff_t c = 0; c < dv; c++)
        if (!isfinite(v[j * dv + c]))
          out[i * dv + c] = NAN;
    }
}

/* One head, S segments (segment step; the layer step calls it per head
 * with its own state): q_mem/k_mem feed retrieval and update, q_att/k_att
 * local attention; they differ only for the underflow alternative. */
typedef struct head_state {
  double *m, *z, *mhat, *zhat, *mc, *zc;
} head_state;

static void head_state_init(head_state *st, ptrdiff_t dk, ptrdiff_t dv) {
  size_t nm = (size_t)dk * (size_t)dv;
  st->m = xcalloc(nm, sizeof(double));
  st->mhat = xcalloc(nm, sizeof(double));
  st->mc = xcalloc(nm, sizeof(double));
  st->z = xcalloc((size_t)dk, sizeof(double));
  st->zhat = xcalloc((size_t)dk, sizeof(double));
  st->zc = xcalloc((size_t)dk, sizeof(double));
}

static void head_state_free(head_state *st) {
  free(st->m);
  free(st->z);
  free(st->mhat);
  free(st->zhat);
  free(st->mc);
  free(st->zc);
}

/* Steps (a)-(c) of (S13) for one query head and one segment, with their
 * magnitudes; packed [n x dk] q, k and [n x dv] v; results [n x dv]. */
/* The propagation of docs/tolerances.md section 8: (P1) retrieval from the
 * propagated state, (P2) mixing of the two magnitudes; head_update below
 * is (P3); the coefficients (P4) are bounds.c's bd_c_*. */
static void head_outputs(const gen_spec *sp, const head_state *st,
                         const double *q_mem, const double *q_att,
                         const double *k_att, const double *v, float beta,
                         bool leak, double *out, double *mag, double *cond) {
  const ptrdiff_t n = sp->n, dk = sp->d_key, dv = sp->d_value;
  const size_t nv = (size_t)n * (size_t)dv;
  const infini_head_shape sh = {n, dk, dv};
  double *am = xcalloc(nv, 8), *am_mag = xcalloc(nv, 8), *am_cond = xcalloc(nv, 8);
  double *ad = xcalloc(nv, 8), *ad_mag = xcalloc(nv, 8), *ad_cond = xcalloc(nv, 8);
  float scale = isnan(sp->scale) ? (float)(1.0 / sqrt((double)dk)) : sp->scale;
  infini_ref_retrieve_f64(&sh, q_mem, dk, st->m, dv, st->z, sp->eps, am, dv);
  bd_retrieve(n, dk, dv, q_mem, st->m, st->z, sp->eps, am, st->mhat, st->zhat,
              st->mc, st->zc, am_mag, am_cond);
  infini_ref_local_attention_f64(&sh, q_att, dk, k_att, dk, v, dv, scale, ad,
                                 dv, NULL);
  bd_attention(n, dk, dv, q_att, k_att, v, (double)scale, ad, ad_mag, ad_cond);
  if (leak)
    leak_masked(n, dk, dv, q_att, k_att, v, scale, ad);
  infini_ref_mix_f64(n, dv, beta, am, dv, ad, dv, out, dv);
  bd_mix(nv, beta, am, ad, am_mag, ad_mag, am_cond, ad_cond, mag, cond);
  free(am);
  free(am_mag);
  free(am_cond);
  free(ad);
  free(ad_mag);
  free(ad_cond);
}

/* Step (d) with magnitudes: update the state of one kv head. */
static void head_update(const gen_spec *sp, head_state *st, const double *k_mem,
                        const double *v) {
  const ptrdiff_t n = sp->n, dk = sp->d_key, dv = sp->d_value;
  const infini_head_shape sh = {n, dk, dv};
  bd_update(sp->rule, n, dk, dv, k_mem, v, st->m, st->z, sp->eps, st->mhat,
            st->zhat, st->mc, st->zc);
  if (sp->rule == INFINI_UPDATE_DELTA) {
    double *w = xcalloc((size_t)n * (size_t)dv, 8);
    infini_ref_update_delta_f64(&sh, k_mem, dk, v, dv, st->m, dv, st->z, sp->eps, w);
    free(w);
  } else {
    infini_ref_update_linear_f64(&sh, k_mem, dk, v, dv, st->m, dv, st->z);
  }
}

/* Copy head columns [col, col + w) of an [n x width] block into packed [n x w]. */
static void take_cols(const double *src, size_t n, size_t width, size_t col,
                      size_t w, double *dst) {
  for (size_t i = 0; i < n; i++)
    memcpy(dst + i * w, src + i * width + col, w * sizeof *dst);
}

static void put_cols(const double *src, size_t n, size_t width, size_t col,
                     size_t w, double *dst) {
  for (size_t i = 0; i < n; i++)
    memcpy(dst + i * width + col, src + i * w, w * sizeof *dst);
}

/* Evaluate a test: flush = 0 main outcome, 1 underflow alternative (sigma
 * inputs of the memory path flushed), inputs already DAZ-ed by the caller
 * for the subnormal alternative; leak: masked non-finite positions leak
 * into local attention (the S24 alternative). */
static void evaluate(const gen_spec *sp, const inputs *in, bool flush, bool leak,
                     evaluation *ev) {
  const ptrdiff_t n = sp->n, dk = sp->d_key, dv = sp->d_value;
  const size_t N = (size_t)n, DK = (size_t)dk, DV = (size_t)dv;
  const infini_head_shape sh = {n, dk, dv};
  memset(ev, 0, sizeof *ev);
  switch (sp->op) {
  case VS_FEATURE_MAP: {
    result *y = add_result(ev, "y", 2, N, DK, 0, "ulp", 1, bd_c_feature_map());
    const double *x = in_get(in, "x");
    infini_ref_feature_map_f64(n, dk, x, dk, y->e, dk);
    bd_feature_map(N * DK, x, y->mag, y->cond);
    break;
  }
  case VS_RETRIEVE: {
    result *a = add_result(ev, "a", 2, N, DV, 0, "gauge", 0, bd_c_retrieve(dk));
    double *q = flush ? flush_sigma(in_get(in, "q"), N * DK) : dup_d(in_get(in, "q"), N * DK);
    const double *m = in_get(in, "m"), *z = in_get(in, "z");
    double *mc = abs_d(m, DK * DV), *zc = abs_d(z, DK);
    infini_ref_retrieve_f64(&sh, q, dk, m, dv, z, sp->eps, a->e, dv);
    bd_retrieve(n, dk, dv, q, m, z, sp->eps, a->e, NULL, NULL, mc, zc, a->mag, a->cond);
    free(q);
    free(mc);
    free(zc);
    break;
  }
  case VS_UPDATE_LINEAR:
  case VS_UPDATE_DELTA: {
    result *m = add_result(ev, "m", 2, DK, DV, 0, "gauge", 0, bd_c_update_m(sp->rule, n, dk));
    result *z = add_result(ev, "z", 1, DK, 0, 0, "gauge", 0, bd_c_update_z(n));
    double *k = flush ? flush_sigma(in_get(in, "k"), N * DK) : dup_d(in_get(in, "k"), N * DK);
    const double *v = in_get(in, "v"), *m0 = in_get(in, "m"), *z0 = in_get(in, "z");
    memcpy(m->e, m0, DK * DV * 8);
    memcpy(z->e, z0, DK * 8);
    /* magnitudes: inputs exact (mhat = zhat = 0), conditions |M|, |z| */
    for (size_t i = 0; i < DK * DV; i++)
      m->cond[i] = fabs(m0[i]);
    for (size_t i = 0; i < DK; i++)
      z->cond[i] = fabs(z0[i]);
    bd_update(sp->rule, n, dk, dv, k, v, m0, z0, sp->eps, m->mag, z->mag, m->cond,
              z->cond);
    if (sp->rule == INFINI_UPDATE_DELTA) {
      double *w = xcalloc(N * DV, 8);
      infini_ref_update_delta_f64(&sh, k, dk, v, dv, m->e, dv, z->e, sp->eps, w);
      free(w);
    } else {
      infini_ref_update_linear_f64(&sh, k, dk, v, dv, m->e, dv, z->e);
    }
    free(k);
    break;
  }
  case VS_MIX: {
    result *o = add_result(ev, "out", 2, N, DV, 0, "gauge", 0, bd_c_mix());
    const double *am = in_get(in, "a_mem"), *ad = in_get(in, "a_dot");
    double *amc = abs_d(am, N * DV), *adc = abs_d(ad, N * DV);
    infini_ref_mix_f64(n, dv, sp->beta, am, dv, ad, dv, o->e, dv);
    bd_mix(N * DV, sp->beta, am, ad, NULL, NULL, amc, adc, o->mag, o->cond);
    free(amc);
    free(adc);
    break;
  }
  case VS_LOCAL_ATTENTION: {
    result *o = add_result(ev, "out", 2, N, DV, 0, "gauge", 0, bd_c_attention(n, dk));
    const double *q = in_get(in, "q"), *k = in_get(in, "k"), *v = in_get(in, "v");
    float scale = isnan(sp->scale) ? (float)(1.0 / sqrt((double)dk)) : sp->scale;
    infini_ref_local_attention_f64(&sh, q, dk, k, dk, v, dv, scale, o->e, dv, NULL);
    bd_attention(n, dk, dv, q, k, v, (double)scale, o->e, o->mag, o->cond);
    if (leak)
      leak_masked(n, dk, dv, q, k, v, scale, o->e);
    break;
  }
  case VS_SEGMENT_STEP:
  case VS_LAYER_STEP: {
    const size_t S = (size_t)sp->segments, H = (size_t)sp->heads,
                 G = (size_t)sp->kv_heads, grp = H / G;
    result *o = add_result(ev, "out", 3, S, N, H * DV, "gauge", 0, bd_c_step_out(n, dk));
    result *m, *z;
    if (sp->op == VS_SEGMENT_STEP) {
      m = add_result(ev, "m", 2, DK, DV, 0, "gauge", 0, bd_c_update_m(sp->rule, n, dk));
      z = add_result(ev, "z", 1, DK, 0, 0, "gauge", 0, bd_c_update_z(n));
    } else {
      m = add_result(ev, "m", 3, G, DK, DV, "gauge", 0, bd_c_update_m(sp->rule, n, dk));
      z = add_result(ev, "z", 2, G, DK, 0, "gauge", 0, bd_c_update_z(n));
    }
    const double *q = in_get(in, "q"), *k = in_get(in, "k"), *v = in_get(in, "v");
    const double *beta = sp->op == VS_LAYER_STEP ? in_get(in, "beta") : NULL;
    const size_t wq = H * DK, wk = G * DK, wv = G * DV, wo = H * DV;
    double *qh = xcalloc(N * DK, 8), *qm = xcalloc(N * DK, 8), *kh = xcalloc(N * DK, 8),
           *km = xcalloc(N * DK, 8), *vh = xcalloc(N * DV, 8);
    double *oh = xcalloc(N * DV, 8), *omag = xcalloc(N * DV, 8), *ocond = xcalloc(N * DV, 8);
    head_state *st = xcalloc(G, sizeof *st);
    for (size_t g = 0; g < G; g++)
      head_state_init(&st[g], dk, dv);
    for (size_t s = 0; s < S; s++) {
      const double *qs = q + s * N * wq, *ks = k + s * N * wk, *vs = v + s * N * wv;
      for (size_t g = 0; g < G; g++) {
        take_cols(ks, N, wk, g * DK, DK, kh);
        take_cols(vs, N, wv, g * DV, DV, vh);
        memcpy(km, kh, N * DK * 8);
        if (flush)
          for (size_t i = 0; i < N * DK; i++)
            if (km[i] < LN_2M150)
              km[i] = -INFINITY;
        for (size_t h = g * grp; h < (g + 1) * grp; h++) {
          take_cols(qs, N, wq, h * DK, DK, qh);
          memcpy(qm, qh, N * DK * 8);
          if (flush)
            for (size_t i = 0; i < N * DK; i++)
              if (qm[i] < LN_2M150)
                qm[i] = -INFINITY;
          float b = beta ? (float)beta[h] : sp->beta;
          head_outputs(sp, &st[g], qm, qh, kh, vh, b, leak, oh, omag, ocond);
          put_cols(oh, N, wo, h * DV, DV, o->e + s * N * wo);
          put_cols(omag, N, wo, h * DV, DV, o->mag + s * N * wo);
          put_cols(ocond, N, wo, h * DV, DV, o->cond + s * N * wo);
        }
        head_update(sp, &st[g], km, vh);
      }
    }
    for (size_t g = 0; g < G; g++) {
      memcpy(m->e + g * DK * DV, st[g].m, DK * DV * 8);
      memcpy(m->mag + g * DK * DV, st[g].mhat, DK * DV * 8);
      memcpy(m->cond + g * DK * DV, st[g].mc, DK * DV * 8);
      memcpy(z->e + g * DK, st[g].z, DK * 8);
      memcpy(z->mag + g * DK, st[g].zhat, DK * 8);
      memcpy(z->cond + g * DK, st[g].zc, DK * 8);
      head_state_free(&st[g]);
    }
    free(st);
    free(qh);
    free(qm);
    free(kh);
    free(km);
    free(vh);
    free(oh);
    free(omag);
    free(ocond);
    break;
  }
  default:
    die("internal: unknown operator");
  }
}

/* Self-check of the composition above against the oracle's own segment and
 * layer steps (ref/segment_step.c, ref/layer_step.c): same bits. */
static void check_steps(const gen_spec *sp, const inputs *in, const evaluation *ev) {
  if (sp->op != VS_SEGMENT_STEP && sp->op != VS_LAYER_STEP)
    return;
  const size_t N = (size_t)sp->n, DK = (size_t)sp->d_key, DV = (size_t)sp->d_value;
  const size_t S = (size_t)sp->segments, H = (size_t)sp->heads, G = (size_t)sp->kv_heads;
  const double *q = in_get(in, "q"), *k = in_get(in, "k"), *v = in_get(in, "v");
  double *m = xcalloc(G * DK * DV, 8), *z = xcalloc(G * DK, 8);
  double *out = xcalloc(S * N * H * DV, 8), *work = xcalloc(N * DV, 8);
  float scale = isnan(sp->scale) ? (float)(1.0 / sqrt((double)DK)) : sp->scale;
  for (size_t s = 0; s < S; s++) {
    if (sp->op == VS_SEGMENT_STEP) {
      infini_head_shape sh = {sp->n, sp->d_key, sp->d_value};
      infini_step_params p = {sp->rule, sp->beta, sp->eps, scale};
      infini_ref_segment_step_f64(&sh, &p, q + s * N * DK, sp->d_key, k + s * N * DK,
                                  sp->d_key, v + s * N * DV, sp->d_value, m,
                                  sp->d_value, z, out + s * N * DV, sp->d_value, work);
    } else {
      infini_layer_config c = {sp->heads, sp->kv_heads, sp->d_key, sp->d_value,
                               sp->rule, sp->eps, scale};
      float beta[64];
      const double *b = in_get(in, "beta");
      for (size_t h = 0; h < H && h < 64; h++)
        beta[h] = (float)b[h];
      infini_ref_layer_step_f64(&c, sp->n, q + s * N * H * DK, (ptrdiff_t)(H * DK),
                                k + s * N * G * DK, (ptrdiff_t)(G * DK),
                                v + s * N * G * DV, (ptrdiff_t)(G * DV), beta, m, z,
                                out + s * N * H * DV, (ptrdiff_t)(H * DV), work);
    }
  }
  /* NaN-aware equality (NaN payloads may differ) */
  const double *mine[3] = {ev->r[0].e, ev->r[1].e, ev->r[2].e}, *theirs[3] = {out, m, z};
  size_t counts[3] = {S * N * H * DV, G * DK * DV, G * DK};
  for (int t = 0; t < 3; t++)
    for (size_t i = 0; i < counts[t]; i++)
      if (!(mine[t][i] == theirs[t][i] || (isnan(mine[t][i]) && isnan(theirs[t][i]))))
        die("internal: composed step differs from the oracle's step");
  free(m);
  free(z);
  free(out);
  free(work);
}

/* Every finite expected value needs a finite mag and cond. */
static void check_aux(const evaluation *ev) {
  for (int i = 0; i < ev->n; i++) {
    size_t c = 1;
    for (int d = 0; d < ev->r[i].ndim; d++)
      c *= ev->r[i].dims[d];
    for (size_t j = 0; j < c; j++)
      if (isfinite(ev->r[i].e[j]) &&
          (!isfinite(ev->r[i].mag[j]) || !isfinite(ev->r[i].cond[j]) ||
           ev->r[i].mag[j] < 0 || ev->r[i].cond[j] < 0))
        die("internal: non-finite magnitude for a finite expected value");
  }
}

/* ---- writing a test ------------------------------------------------------------ */

typedef struct writer {
  const char *dir;
  char err[512];
} writer;

static void tensor_init(vs_tensor *t, vs_op op, int tc, const char *prefix,
                        const char *name, vs_dtype dt, int ndim, const size_t *dims) {
  char file[256];
  memset(t, 0, sizeof *t);
  snprintf(file, sizeof file, "data/%s/%04d.%s%s.npy", vs_op_name(op), tc, prefix, name);
  t->name = xstrdup(name);
  t->file = xstrdup(file);
  t->dtype = dt;
  t->ndim = ndim;
  memcpy(t->dims, dims, sizeof(size_t) * (size_t)ndim);
}

static void save(writer *w, vs_tensor *t, const void *data) {
  if (!vs_tensor_save(w->dir, t, data, w->err, sizeof w->err))
    die(w->err);
}

static void put_outputs(writer *w, vs_op op, int tc, const char *prefix,
                        const evaluation *ev, vs_outputs *o) {
  o->count = ev->n;
  for (int i = 0; i < ev->n; i++) {
    const result *r = &ev->r[i];
    vs_output *x = &o->items[i];
    char an[64];
    tensor_init(&x->expected, op, tc, prefix, r->name, VS_F64, r->ndim, r->dims);
    save(w, &x->expected, r->e);
    x->mag = xcalloc(1, sizeof *x->mag);
    x->cond = xcalloc(1, sizeof *x->cond);
    snprintf(an, sizeof an, "%s.mag", r->name);
    tensor_init(x->mag, op, tc, prefix, an, VS_F64, r->ndim, r->dims);
    save(w, x->mag, r->mag);
    snprintf(an, sizeof an, "%s.cond", r->name);
    tensor_init(x->cond, op, tc, prefix, an, VS_F64, r->ndim, r->dims);
    save(w, x->cond, r->cond);
    x->tol = r->tol;
  }
}

static uint64_t test_seed(vs_op op, int tc) {
  vs_rng r = {((uint64_t)op + 1) << 32 | (uint64_t)tc};
  return vs_next(&r);
}

/* Same values, NaN where NaN (payloads aside), in every output? */
static bool same_outcome(const evaluation *a, const evaluation *b) {
  for (int i = 0; i < a->n; i++) {
    size_t c = 1;
    for (int d = 0; d < a->r[i].ndim; d++)
      c *= a->r[i].dims[d];
    for (size_t j = 0; j < c; j++) {
      double x = a->r[i].e[j], y = b->r[i].e[j];
      if (!(x == y || (isnan(x) && isnan(y))))
        return false;
    }
  }
  return true;
}

static bool any_nonfinite(const inputs *in, const size_t *counts) {
  for (int i = 0; i < in->n; i++)
    for (size_t j = 0; j < counts[i]; j++)
      if (!isfinite(in->x[i][j]))
        return true;
  return false;
}

/* Write an evaluation as the test's next alternative. */
static void put_alternative(writer *w, const gen_spec *sp, int tc, vs_test *t,
                            const evaluation *alt) {
  char prefix[16];
  if (t->n_alternatives >= 2)
    die("internal: more than two alternatives");
  snprintf(prefix, sizeof prefix, "alt%d.", t->n_alternatives + 1);
  t->result = VS_ACCEPTABLE;
  put_outputs(w, sp->op, tc, prefix, alt, &t->alternatives[t->n_alternatives++]);
}

/* Build one group with one test from a spec and write its tensors; schema
 * 2 adds the (S24) alternative where a masked position is non-finite. */
static void build(writer *w, const gen_spec *sp, int tc, uint64_t seed, int schema,
                  vs_group *g) {
  const char *const *names;
  int n_in = vs_op_inputs(sp->op, &names);
  vs_rng rng = {seed};
  inputs in = {{0}, names, n_in};
  float *raw[VS_MAX_INPUTS];
  size_t cnt[VS_MAX_INPUTS];
  vs_test *t = xcalloc(1, sizeof *t);
  char comment[1024];

  memset(g, 0, sizeof *g);
  g->op = sp->op;
  g->rows = sp->op == VS_FEATURE_MAP || sp->op == VS_MIX ? sp->n : 0;
  g->cols = sp->op == VS_FEATURE_MAP ? sp->d_key : sp->op == VS_MIX ? sp->d_value : 0;
  g->n = sp->n;
  g->d_key = sp->d_key;
  g->d_value = sp->d_value;
  g->n_heads = sp->heads;
  g->n_kv_heads = sp->kv_heads;
  g->segments = sp->segments;
  g->rule = sp->rule;
  g->eps = sp->eps;
  g->scale = isnan(sp->scale) ? (float)(1.0 / sqrt((double)sp->d_key)) : sp->scale;
  g->beta = sp->beta;
  g->regime = xstrdup(gen_regime_name(sp->regime));
  g->n_tests = 1;
  g->tests = t;

  t->id = tc;
  t->seed = seed;
  snprintf(comment, sizeof comment, "%s", sp->comment);
  if (has_flag(sp, "tile_edge")) {
    size_t l = strlen(comment);
    if (sp->op == VS_FEATURE_MAP || sp->op == VS_MIX)
      snprintf(comment + l, sizeof comment - l, ": %td x %td", g->rows, g->cols);
    else
      snprintf(comment + l, sizeof comment - l, ": N = %td, d_key = %td, d_value = %td",
               sp->n, sp->d_key, sp->d_value);
  }
  t->comment = xstrdup(comment);
  {
    char fl[256];
    snprintf(fl, sizeof fl, "%s", sp->flags);
    for (char *tok = strtok(fl, " "); tok; tok = strtok(NULL, " "))
      if (t->n_flags < VS_MAX_FLAGS)
        t->flags[t->n_flags++] = xstrdup(tok);
  }
  if (sp->pad > 0 && !has_flag(sp, "strided") && t->n_flags < VS_MAX_FLAGS)
    t->flags[t->n_flags++] = xstrdup("strided");

  /* inputs, in canonical order, one stream */
  for (int i = 0; i < n_in; i++) {
    size_t d[VS_MAX_DIMS];
    int nd;
    if (!vs_tensor_dims(g, names[i], &nd, d))
      die("internal: no dims for an input");
    size_t count = 1;
    for (int j = 0; j < nd; j++)
      count *= d[j];
    raw[i] = xcalloc(count, sizeof(float));
    cnt[i] = count;
    if (!strcmp(names[i], "beta") && has_flag(sp, "gate_extreme")) {
      static const float ext[4] = {INFINITY, -INFINITY, 30, -30};
      for (size_t j = 0; j < count; j++)
        raw[i][j] = ext[j % 4];
    } else {
      fill(sp, &rng, names[i], raw[i], count, d[nd - 1], tc);
    }
    /* --beta: one given gate for every head of the layer */
    if (!strcmp(names[i], "beta") && sp->beta_all_heads)
      for (size_t j = 0; j < count; j++)
        raw[i][j] = sp->beta;
    /* a restricted twin's layer has one gate for all heads */
    if (!strcmp(names[i], "beta") && has_flag(sp, "restricted"))
      for (size_t j = 1; j < count; j++)
        raw[i][j] = raw[i][0];
    inject(sp, schema, names[i], raw[i], d[nd - 1]);
    tensor_init(&t->inputs[i], sp->op, tc, "in.", names[i], VS_F32, nd, d);
    save(w, &t->inputs[i], raw[i]);
    t->n_inputs = i + 1;
    in.x[i] = to_double(raw[i], count);
    if (sp->pad > 0 && nd >= 2)
      g->ld_in[i] = (ptrdiff_t)d[nd - 1] + sp->pad;
  }
  if (sp->pad > 0) {
    const char *const *outn;
    vs_op_outputs(sp->op, &outn);
    size_t d[VS_MAX_DIMS];
    if (sp->op == VS_UPDATE_LINEAR || sp->op == VS_UPDATE_DELTA)
      g->ld_out = sp->d_value + sp->pad;
    else if (sp->op == VS_FEATURE_MAP)
      g->ld_out = sp->d_key + sp->pad;
    else if (sp->op == VS_RETRIEVE || sp->op == VS_MIX || sp->op == VS_LOCAL_ATTENTION ||
             sp->op == VS_SEGMENT_STEP)
      g->ld_out = sp->d_value + sp->pad;
    else
      g->ld_out = sp->heads * sp->d_value + sp->pad;
    if (sp->op == VS_SEGMENT_STEP)
      g->ld_m = sp->d_value + sp->pad;
    (void)d;
  }

  /* expected outputs */
  evaluation ev;
  evaluate(sp, &in, false, false, &ev);
  check_steps(sp, &in, &ev);
  check_aux(&ev);
  put_outputs(w, sp->op, tc, "exp.", &ev, &t->outputs);

  /* alternatives (S6): underflow -> the float32 outcome of sigma; subnormal
   * -> inputs read as zero (flush to zero, S18) */
  if (sp->regime == GR_UNDERFLOW || sp->regime == GR_SUBNORMAL) {
    evaluation alt;
    if (sp->regime == GR_UNDERFLOW) {
      evaluate(sp, &in, true, false, &alt);
    } else {
      inputs daz = in;
      for (int i = 0; i < n_in; i++) {
        daz.x[i] = dup_d(in.x[i], cnt[i]);
        for (size_t j = 0; j < cnt[i]; j++)
          if (daz.x[i][j] != 0 && fabs(daz.x[i][j]) < 0x1p-126)
            daz.x[i][j] = 0;
      }
      evaluate(sp, &daz, false, false, &alt);
      for (int i = 0; i < n_in; i++)
        free(daz.x[i]);
    }
    check_aux(&alt);
    /* an underflow-free feature map or linear update needs no alternative:
     * its outcome does not depend on the precision */
    if (sp->op != VS_FEATURE_MAP && !(sp->op == VS_UPDATE_LINEAR && sp->regime == GR_UNDERFLOW))
      put_alternative(w, sp, tc, t, &alt);
    eval_free(&alt);
  }
  /* (S24): a masked non-finite key or value may leak into earlier rows */
  if (schema >= 2 &&
      (sp->op == VS_LOCAL_ATTENTION || sp->op == VS_SEGMENT_STEP || sp->op == VS_LAYER_STEP) &&
      any_nonfinite(&in, cnt)) {
    evaluation leaked;
    evaluate(sp, &in, false, true, &leaked);
    if (!same_outcome(&ev, &leaked)) {
      if (t->n_flags < VS_MAX_FLAGS)
        t->flags[t->n_flags++] = xstrdup("masked_nonfinite");
      put_alternative(w, sp, tc, t, &leaked);
    }
    eval_free(&leaked);
  }
  eval_free(&ev);
  for (int i = 0; i < n_in; i++) {
    free(raw[i]);
    free(in.x[i]);
  }
}

/* ---- a whole set ------------------------------------------------------------------ */

static void mkdir_p(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        goto fail;
      *p = '/';
    }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST)
    goto fail;
  return;
fail:
  cli_die(EXIT_FAILURE, "cannot create %s: %s", buf, strerror(errno));
}

/* DIR/data and DIR/data/OP through the project's folder maker: a link
 * planted there is refused, so nothing is written outside --out. */
static void make_data_dir(const char *out, vs_op op, char *path, size_t len) {
  char err[4200];
  snprintf(path, len, "%s/data", out);
  if (fileio_make_dir(path, err, sizeof err) == INFINI_OK) {
    snprintf(path, len, "%s/data/%s", out, vs_op_name(op));
    if (fileio_make_dir(path, err, sizeof err) == INFINI_OK)
      return;
  }
  die(err);
}

/* The specification version a schema version encodes: v1 sets were made
 * under spec 1.0 and stay byte for byte what they were. */
static const char *spec_version_of(int schema) {
  return schema == 1 ? "1.0" : INFINI_SPEC_VERSION;
}

static void write_set(const char *dir, vs_op op, const gen_spec *specs, int n_specs,
                      int schema) {
  writer w = {dir, ""};
  vs_set set;
  char path[4096];
  memset(&set, 0, sizeof set);
  make_data_dir(dir, op, path, sizeof path);
  set.schema_version = schema;
  set.spec_version = xstrdup(spec_version_of(schema));
  set.generator_version = xstrdup(GENERATOR_VERSION);
  set.groups = xcalloc((size_t)n_specs, sizeof *set.groups);
  for (int i = 0; i < n_specs; i++) {
    build(&w, &specs[i], i + 1, test_seed(op, i + 1), schema, &set.groups[i]);
    set.n_groups = i + 1;
  }
  snprintf(path, sizeof path, "%s/%s.json", dir, vs_op_name(op));
  if (!vs_set_save(&set, path, w.err, sizeof w.err))
    die(w.err);
  vs_set_free(&set);
}

/* ---- command line ------------------------------------------------------------------ */

static void usage(FILE *f) {
  fputs(
      "usage: infini-vectors --out DIR [--force] --shipped [--schema-version 1|2]\n"
      "       infini-vectors --out DIR [--force] [--op NAME] [--n N] [--d-key D]\n"
      "              [--d-value D] [--heads H] [--kv-heads G] [--segments S]\n"
      "              [--rule linear|delta] [--eps E] [--scale S] [--beta B]\n"
      "              [--regime NAME] [--seed X] [--strided]\n"
      "\n"
      "Writes a golden-vector set (docs/vectors.md): one manifest per operator,\n"
      "DIR/<operator>.json, and its tensors under DIR/data/. --shipped writes the\n"
      "shipped catalogue bit for bit: vectors/v2 (the default), or the frozen\n"
      "vectors/v1 with --schema-version 1. Otherwise one test per\n"
      "operator (or only --op) with the given shape and parameters; the runner\n"
      "runs it with infini-conform --vectors DIR.\n"
      "\n"
      "  --op NAME        feature_map, retrieve, update_linear, update_delta, mix,\n"
      "                   local_attention, segment_step, layer_step (default: all)\n"
      "  --n N            tokens per segment (feature_map, mix: rows)      [16]\n"
      "  --d-key D        key width (feature_map: cols)                    [8]\n"
      "  --d-value D      value width (mix: cols)                          [8]\n"
      "  --heads H        query heads (layer_step)                         [4]\n"
      "  --kv-heads G     key/value heads, divides H (layer_step)          [2]\n"
      "  --segments S     segments (segment_step, layer_step)              [3]\n"
      "  --rule R         linear or delta (steps)                          [delta]\n"
      "  --eps E          retrieval eps, finite >= 0                       [0]\n"
      "  --scale S        softmax scale, finite             [1/sqrt(d_key)]\n"
      "  --beta B         gate (mix, segment_step; layer_step: every head's),\n"
      "                   not NaN                [0.5; layer_step: drawn per head]\n"
      "  --regime NAME    typical, large_logits, underflow, zeros, subnormal,\n"
      "                   first_segment, small_den, tiny_den, subnormal_den [typical]\n"
      "  --seed X         64-bit PRNG seed, decimal or 0x-hex              [1]\n"
      "  --strided        row strides = width + 3\n"
      "  --force          write into an existing non-empty DIR\n"
      "  --help           this text\n",
      f);
}

/* A bad option or value: "infini-vectors: MSG[: ARG] (try --help)", exit 2. */
static void bad(const char *msg, const char *arg) {
  if (arg)
    cli_usage_die("%s: %s", msg, arg);
  cli_usage_die("%s", msg);
}

static ptrdiff_t parse_size(const char *s, const char *opt) {
  uint64_t v;
  if (!cli_parse_u64(s, 1, 65536, &v))
    bad(opt, s);
  return (ptrdiff_t)v;
}

/* A float in [lo, hi] (whole string, no NaN; see cli_parse_float), or exit
 * with `what` (the option and the values it takes). */
static float parse_float(const char *s, float lo, float hi, const char *what) {
  float v = 0;
  if (!cli_parse_float(s, lo, hi, &v))
    bad(what, s);
  return v;
}

static bool dir_nonempty(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  bool any = false;
  if (!d)
    return false;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      any = true;
      break;
    }
  closedir(d);
  return any;
}

int main(int argc, char **argv) {
  enum { O_N = 256, O_DK, O_DV, O_H, O_G, O_S, O_RULE, O_EPS, O_SCALE, O_BETA,
         O_REGIME, O_SEED, O_STRIDED, O_FORCE, O_SHIPPED, O_OP, O_OUT, O_HELP,
         O_SCHEMA };
  static const struct option opts[] = {
      {"out", required_argument, 0, O_OUT},     {"op", required_argument, 0, O_OP},
      {"n", required_argument, 0, O_N},         {"d-key", required_argument, 0, O_DK},
      {"d-value", required_argument, 0, O_DV},  {"heads", required_argument, 0, O_H},
      {"kv-heads", required_argument, 0, O_G},  {"segments", required_argument, 0, O_S},
      {"rule", required_argument, 0, O_RULE},   {"eps", required_argument, 0, O_EPS},
      {"scale", required_argument, 0, O_SCALE}, {"beta", required_argument, 0, O_BETA},
      {"regime", required_argument, 0, O_REGIME}, {"seed", required_argument, 0, O_SEED},
      {"strided", no_argument, 0, O_STRIDED},   {"force", no_argument, 0, O_FORCE},
      {"shipped", no_argument, 0, O_SHIPPED},   {"help", no_argument, 0, O_HELP},
      {"schema-version", required_argument, 0, O_SCHEMA},
      {0, 0, 0, 0}};
  const char *out = NULL;
  bool force = false, shipped = false, custom = false, all_ops = true;
  vs_op only = VS_FEATURE_MAP;
  gen_spec sp = {VS_FEATURE_MAP, GR_TYPICAL, 16, 8, 8, 4, 2, 3, INFINI_UPDATE_DELTA,
                 0, NAN, 0.5f, 0, NULL, "", "user-generated", false};
  uint64_t seed = 1;
  int c, schema = VS_SCHEMA_VERSION;
  bool schema_given = false;
  cli_set_program("infini-vectors", "try --help");
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c != O_OUT && c != O_FORCE && c != O_SHIPPED && c != O_HELP && c != O_SCHEMA &&
        c != '?')
      custom = true;
    switch (c) {
    case O_OUT: out = optarg; break;
    case O_FORCE: force = true; break;
    case O_SHIPPED: shipped = true; break;
    case O_SCHEMA:
      if (strcmp(optarg, "1") && strcmp(optarg, "2"))
        bad("--schema-version must be 1 or 2", optarg);
      schema = optarg[0] - '0';
      schema_given = true;
      break;
    case O_HELP: usage(stdout); return 0;
    case O_OP:
      if (!vs_op_from_name(optarg, &only))
        bad("unknown operator", optarg);
      all_ops = false;
      break;
    case O_N: sp.n = parse_size(optarg, "bad --n"); break;
    case O_DK: sp.d_key = parse_size(optarg, "bad --d-key"); break;
    case O_DV: sp.d_value = parse_size(optarg, "bad --d-value"); break;
    case O_H: sp.heads = parse_size(optarg, "bad --heads"); break;
    case O_G: sp.kv_heads = parse_size(optarg, "bad --kv-heads"); break;
    case O_S: sp.segments = parse_size(optarg, "bad --segments"); break;
    case O_RULE:
      if (!strcmp(optarg, "linear"))
        sp.rule = INFINI_UPDATE_LINEAR;
      else if (!strcmp(optarg, "delta"))
        sp.rule = INFINI_UPDATE_DELTA;
      else
        bad("--rule must be linear or delta", optarg);
      break;
    case O_EPS: sp.eps = parse_float(optarg, 0, FLT_MAX, "--eps must be finite and >= 0"); break;
    case O_SCALE: sp.scale = parse_float(optarg, -FLT_MAX, FLT_MAX, "--scale must be finite"); break;
    case O_BETA:
      /* infinities are the gate's extremes (sigmoid 0 or 1), not mistakes */
      sp.beta = parse_float(optarg, -INFINITY, INFINITY, "--beta must be a float or +-inf, not NaN");
      sp.beta_all_heads = true;
      break;
    case O_REGIME:
      if (!gen_regime_from_name(optarg, &sp.regime) ||
          !(sp.regime == GR_TYPICAL || sp.regime == GR_LARGE || sp.regime == GR_UNDERFLOW ||
            sp.regime == GR_ZEROS || sp.regime == GR_SUBNORMAL || sp.regime == GR_FIRST ||
            sp.regime == GR_SMALL_DEN || sp.regime == GR_TINY_DEN ||
            sp.regime == GR_SUBNORMAL_DEN))
        bad("unknown --regime (typical, large_logits, underflow, zeros, subnormal, "
            "first_segment, small_den, tiny_den, subnormal_den)", optarg);
      break;
    case O_SEED:
      if (!cli_parse_u64_or_hex(optarg, 0, UINT64_MAX, &seed))
        bad("bad --seed", optarg);
      break;
    case O_STRIDED: sp.pad = 3; break;
    default:
      bad("unknown option or missing argument", argv[optind - 1]);
    }
  }
  if (optind < argc)
    bad("unexpected argument", argv[optind]);
  if (!out)
    bad("--out DIR is required", NULL);
  if (shipped && custom)
    bad("--shipped takes no other option than --out, --force and --schema-version", NULL);
  if (schema_given && !shipped)
    bad("--schema-version applies to --shipped only", NULL);
  if (sp.heads % sp.kv_heads)
    bad("--kv-heads must divide --heads", NULL);
  if (dir_nonempty(out) && !force)
    bad("output directory exists and is not empty (use --force)", out);
  mkdir_p(out);

  if (shipped) {
    for (int op = 0; op < VS_OP_COUNT; op++) {
      const gen_spec *specs;
      int n = gen_catalogue((vs_op)op, schema, &specs);
      write_set(out, (vs_op)op, specs, n, schema);
    }
    return 0;
  }

  /* A user set: one group with one test per operator. */
  char comment[512];
  for (int op = 0; op < VS_OP_COUNT; op++) {
    if (!all_ops && op != (int)only)
      continue;
    gen_spec s = sp;
    s.op = (vs_op)op;
    if (op != VS_SEGMENT_STEP && op != VS_LAYER_STEP)
      s.segments = 1;
    if (op != VS_LAYER_STEP)
      s.heads = s.kv_heads = 1;
    if (op == VS_UPDATE_LINEAR)
      s.rule = INFINI_UPDATE_LINEAR;
    if (op == VS_UPDATE_DELTA)
      s.rule = INFINI_UPDATE_DELTA;
    s.flags = s.pad ? "strided" : "";
    snprintf(comment, sizeof comment,
             "user-generated: regime %s, N = %td, d_key = %td, d_value = %td, seed 0x%016" PRIx64,
             gen_regime_name(s.regime), s.n, s.d_key, s.d_value, seed);
    s.comment = comment;
    writer w = {out, ""};
    vs_set set;
    char path[4096];
    memset(&set, 0, sizeof set);
    make_data_dir(out, s.op, path, sizeof path);
    set.schema_version = VS_SCHEMA_VERSION;
    set.spec_version = xstrdup(INFINI_SPEC_VERSION);
    set.generator_version = xstrdup(GENERATOR_VERSION);
    set.groups = xcalloc(1, sizeof *set.groups);
    build(&w, &s, 1, seed, VS_SCHEMA_VERSION, &set.groups[0]);
    set.n_groups = 1;
    snprintf(path, sizeof path, "%s/%s.json", out, vs_op_name(s.op));
    if (!vs_set_save(&set, path, w.err, sizeof w.err))
      die(w.err);
    vs_set_free(&set);
  }
  return 0;
}

/*
 * vectors/gen.h - the generator's catalogue: one entry per test group
 * (docs/vectors.md, "Coverage"). gen_catalogue.c lists the shipped set;
 * gen.c turns each entry into a group with one test: inputs from the
 * portable PRNG (prng.h) shaped by the regime, expected outputs from the
 * double oracle, and the tolerance model's aux arrays (bounds.c).
 */
#ifndef INFINI_VECTORS_GEN_H
#define INFINI_VECTORS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include "vectors/vecset.h"

/** Input regimes (how inputs are drawn; docs/vectors.md, "Regimes"). */
typedef enum gen_regime {
  GR_TYPICAL = 0, /* normal-ish inputs */
  GR_LARGE,       /* "large_logits": q, k (and x) uniform in [-32, 32) */
  GR_UNDERFLOW,   /* even rows of q and k in [-128, -112): sigma underflows */
  GR_ZEROS,       /* every input 0 */
  GR_SUBNORMAL,   /* subnormal values in the inputs */
  GR_NAN,         /* NaN at the positions the spec's S16 discusses */
  GR_NEG_INF,     /* -inf in inputs of the memory operators (S17) */
  GR_SPECIAL,     /* feature map: a fixed list of special values */
  GR_EXACT,       /* small integers: exact results where the formula allows */
  GR_FIRST,       /* memory operators: empty memory M = 0, z = 0 */
  GR_WORKED,      /* the worked example of docs/spec.md section 19 */
  GR_SMALL_DEN,   /* typical, with z and M scaled by 2^-13: den ~ 1e-3 */
  GR_TINY_DEN,    /* typical, with z and M scaled by 2^-26: den ~ 1e-6 */
  GR_SUBNORMAL_DEN, /* rows of q and k so negative that den is subnormal */
  GR_COUNT
} gen_regime;

const char *gen_regime_name(gen_regime r);
bool gen_regime_from_name(const char *name, gen_regime *r);

/** One group of the catalogue. Sizes: feature_map uses rows = n, cols =
 *  d_key; mix rows = n, cols = d_value. scale: NAN means the default
 *  1/sqrt(d_key). nan_where: for GR_NAN, which tensor gets the NaN
 *  ("q", "k", "v", "a_mem", "a_dot"). */
typedef struct gen_spec {
  vs_op op;
  gen_regime regime;
  ptrdiff_t n, d_key, d_value, heads, kv_heads, segments;
  infini_update_rule rule;
  float eps, scale, beta;
  int pad;               /* > 0: strided layout, row stride = width + pad */
  const char *nan_where;
  const char *flags;     /* space-separated, besides those implied */
  const char *comment;   /* what the test checks */
  bool beta_all_heads;   /* layer_step: every head's beta is `beta` (--beta) */
} gen_spec;

/** The shipped catalogue of one operator for schema version `schema`
 *  (1: vectors/v1, 2: vectors/v2, which appends the realistic-shape rows;
 *  a static table, built once per version). */
int gen_catalogue(vs_op op, int schema, const gen_spec **specs);

/** The tile-edge sizes every operator covers in N, d_key and d_value. */
extern const ptrdiff_t gen_tile_sizes[17];

#endif

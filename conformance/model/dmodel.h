/*
 * conformance/model/dmodel.h - a second, deliberately simple implementation
 * of the Infini-Transformer (docs/model.md) in double, written from the
 * document and independently of src/model.c and the oracle. It serves
 * three purposes (docs/tolerances.md "Model-level tolerance",
 * docs/mutants.md "Model-level mutants"):
 *
 * - with a mutation switched on it is a plausible wrong model, which the
 *   golden check must reject; with a variant it is a legitimately
 *   different correct model, which it must accept;
 * - with noise switched on it is the tolerance model: every rounding site
 *   of a float implementation gets a perturbation of the size of its
 *   first-order error bound, with a random sign, and the deviation of the
 *   result is the error a float implementation may have there.
 */
#ifndef INFINI_CONFORMANCE_MODEL_DMODEL_H
#define INFINI_CONFORMANCE_MODEL_DMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conformance/catalogue.h"
#include "infini_model.h"

/* The mutations and variants are the catalogue's entries marked CAT_MODEL
 * (conformance/catalogue.h): a mutant is a bug entry, DM_NONE none. */
typedef cat_id dm_mutant;
typedef cat_id dm_variant;
#define DM_NONE CAT_COUNT

/** The entry's name and message ("none" for DM_NONE). */
const char *dm_mutant_name(dm_mutant m);
const char *dm_mutant_desc(dm_mutant m);
const char *dm_variant_name(dm_variant v);
const char *dm_variant_desc(dm_variant v);

/* X(name, description): the rounding sites of the tolerance model; the
 * amplitude of each is its first-order error bound (docs/tolerances.md,
 * "Model-level tolerance", table of sites). */
#define DM_SITES(X)                                                           \
  X(norm, "RMSNorm outputs: (D + 4) u |y|")                                   \
  X(dense, "dense layers: n u sum |W||x| (n = reduction length)")             \
  X(rope, "RoPE: (5 + 3 |angle|) u (|x_i| + |x_pair|)")                      \
  X(scores, "attention scores: u ((d+1) Smag + 3 |S - max| + 2) (A-model)")   \
  X(attn_sum, "attention weighted sum: (4 n + 2) u Vmag (A3)")                \
  X(retrieve, "memory retrieval: (d + 5) u mag (R1, R2)")                     \
  X(mix, "gated mixing: 7 u (|g A_mem| + |A_dot|) (X1)")                      \
  X(memory, "memory update: (N + 3) u mag (U1, U3), z: (N + 2) u mag (U2)")   \
  X(act, "SwiGLU product: 5 u |silu(g) up|")                                  \
  X(residual, "residual additions: u |h|")

#define DS_ENUM(name, desc) DS_##name,
typedef enum dm_site { DM_SITES(DS_ENUM) DM_SITE_COUNT } dm_site;
#undef DS_ENUM
const char *dm_site_name(dm_site s);
const char *dm_site_desc(dm_site s);

typedef struct dmodel dmodel;
typedef struct dm_stream dm_stream;

/** A double model from a loaded float model's weights (converted exactly),
 *  with a mutation and a variant. */
infini_status dm_create(const infini_model *model, dm_mutant mutant,
                        dm_variant variant, dmodel **out);
void dm_free(dmodel *m);
const infini_model_config *dm_config(const dmodel *m);

/** Noise: perturb the sites in the bit set @p sites (bit dm_site) with
 *  signs from splitmix64(@p seed); 0 turns it off. Set before streams run. */
void dm_set_noise(dmodel *m, unsigned sites, uint64_t seed);

/** The profile the noise models (docs/tolerances.md 11.5): u_t, the unit
 *  roundoff of the factors every product reads (0: float32; 2^-11 TF32,
 *  2^-8 bf16 autocast), u_o, that of every stored result (0: float32;
 *  2^-8 bf16). The arithmetic stays float32 (u = 2^-24). Default 0, 0. */
void dm_set_profile(dmodel *m, double u_t, double u_o);

infini_status dm_stream_create(const dmodel *m, dm_stream **out);
void dm_stream_free(dm_stream *s);

/** Feed n tokens (any split: the variant token_by_token is the caller's
 *  choice). logits [n x V] and hidden [L x n x D] as infini_model_forward,
 *  in double; either may be NULL. */
infini_status dm_forward(dmodel *m, dm_stream *s, const int32_t *tokens,
                         ptrdiff_t n, double *logits, double *hidden);

#endif

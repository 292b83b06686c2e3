/*
 * conformance/mutants/impl.h - one configurable float implementation of
 * every operator of the backend table (include/infini.h), used to prove
 * that the conformance suite discriminates (docs/mutants.md).
 *
 * It is parameterised by
 *  - a VARIANT: a legitimately different, correct way to compute (another
 *    summation order, fma, online softmax, ...). Every variant conforms:
 *    infini-conform must ACCEPT it (bf16 only under the bf16 profile);
 *  - a MUTATION: a deliberately wrong, plausible slip, each modelling a bug
 *    seen in reimplementations. infini-conform must REJECT every mutant.
 *
 * The configuration is process-wide (one plugin, one configuration): set
 * it with mut_configure() before calling the kernels. The kernels have the
 * exact signatures of the backend table and may be put in one.
 * Not thread-safe while being reconfigured; the kernels themselves are.
 */
#ifndef INFINI_MUTANTS_IMPL_H
#define INFINI_MUTANTS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include "infini.h"

/* Correct variants. The X-macro gives (identifier, name, profile that must
 * accept it, what it does). */
#define MUT_VARIANTS(X)                                                        \
  X(PLAIN, "plain", "fp32", "float, sequential sums, separate multiply and add (the ref's way)") \
  X(DOUBLE, "double", "fp32", "every sum accumulated in double, rounded once") \
  X(PAIRWISE, "pairwise", "fp32", "pairwise (recursive halving) summation")   \
  X(KAHAN, "kahan", "fp32", "Kahan compensated summation")                    \
  X(REVERSED, "reversed", "fp32", "every sum taken in reversed order")        \
  X(BLOCKED8, "blocked8", "fp32", "8 interleaved partial sums (SIMD lanes), added at the end") \
  X(FMA, "fma", "fp32", "explicit fmaf for every multiply-accumulate")        \
  X(ONLINE_SOFTMAX, "online_softmax", "fp32", "one-pass softmax with a running max and rescaling (flash-attention style)") \
  X(ONE_MINUS_G, "one_minus_g", "fp32", "weight of A_dot computed as 1 - sigmoid(beta) instead of sigmoid(-beta)") \
  X(EXPM1, "expm1", "fp32", "sigma(x) = expm1(x) + 1 for x <= 0 (spec 2, note)") \
  X(RECIPROCAL, "reciprocal", "fp32", "retrieval multiplies by 1/den instead of dividing") \
  X(BF16, "bf16", "bf16", "every input and output rounded to bfloat16 (nearest-even), float arithmetic")

#define MUT_VARIANT_ENUM(id, name, profile, what) MV_##id,
typedef enum mut_variant { MUT_VARIANTS(MUT_VARIANT_ENUM) MV_COUNT } mut_variant;
#undef MUT_VARIANT_ENUM

/* Mutations: (identifier, name, the real-world bug it models). */
#define MUT_MUTATIONS(X)                                                       \
  X(NONE, "none", "no mutation (the correct path)")                           \
  X(KV_SWAP_ATTN, "kv_swap_attn", "K and V swapped in local attention: scores q.v, output sum of p k") \
  X(KV_SWAP_MEM, "kv_swap_mem", "K and V swapped in the memory update: M += sigma(V)^T K, z += sum sigma(v)") \
  X(SOFTMAX_COLS, "softmax_cols", "softmax over the wrong axis (normalised per key column, over queries)") \
  X(MASK_STRICT, "mask_strict", "causal mask off by one: j < i (diagonal masked; row 0 is 0/0)") \
  X(MASK_PLUS1, "mask_plus1", "causal mask off by one: j <= i+1 (sees the next token)") \
  X(NO_MASK, "no_mask", "no causal mask (bidirectional attention inside the segment)") \
  X(SCALE_DMODEL, "scale_dmodel", "scale 1/sqrt(d_model) with d_model = 8*d_key (paper's formula, guessed H = 8)") \
  X(SCALE_IGNORED, "scale_ignored", "scale parameter ignored: 1/sqrt(d_key) always") \
  X(ELU_NO_PLUS1, "elu_no_plus1", "feature map ELU(x) without the +1") \
  X(ELU_ALPHA_HALF, "elu_alpha_half", "ELU with alpha = 0.5 (sigma = 0.5 (exp(x) - 1) + 1 for x <= 0)") \
  X(SIGMA_EXP, "sigma_exp", "feature map exp(x) for every x (the x <= 0 branch everywhere)") \
  X(GATE_SWAP, "gate_swap", "gate sides swapped: sigmoid(beta) weighs A_dot") \
  X(ONE_BETA, "one_beta", "one beta for all heads: the layer step uses beta[0]") \
  X(UPDATE_FIRST, "update_first", "memory updated before retrieval (tokens see their own segment)") \
  X(DELTA_SIGMA_Q, "delta_sigma_q", "delta prediction computed from sigma(Q) instead of sigma(K)") \
  X(DELTA_SEQUENTIAL, "delta_sequential", "delta prediction from the memory updated token by token") \
  X(DELTA_NO_Z, "delta_no_z", "z not updated in delta mode") \
  X(Z_PER_COLUMN, "z_per_column", "z broadcast per column: A_mem[i][j] = (sigma(q_i) M)[j] / z[j]") \
  X(DEN_COLSUM, "den_colsum", "retrieval normalised by the column sum of sigma(Q) M instead of per-row sigma(q_i).z") \
  X(EPS_1E3, "eps_1e3", "hard-coded epsilon 1e-3 added to the retrieval denominator") \
  X(EPS_1E6, "eps_1e6", "hard-coded epsilon 1e-6 added to the retrieval denominator") \
  X(MEM_RESET, "mem_reset", "memory reset at every segment (state not carried over)") \
  X(DROP_LAST, "drop_last", "last token of the segment dropped from the memory update") \
  X(FIRST_UNMIXED, "first_unmixed", "first segment left unmixed: A = A_dot while the memory is empty") \
  X(GQA_MOD, "gqa_mod", "wrong GQA grouping: query head h reads kv head h % H_kv instead of h / G") \
  X(STRIDE_IGNORED, "stride_ignored", "row stride of Q ignored: rows assumed packed") \
  X(NO_NORMALISER, "no_normaliser", "retrieval without the normaliser (no division by sigma(q).z)") \
  X(SOFTMAX_NOMAX, "softmax_nomax", "softmax without max subtraction (exp overflows on large logits)") \
  X(NAN_TO_ZERO, "nan_to_zero", "NaN outputs silently replaced by 0 (nan_to_num)") \
  X(ZERO_ROW_MISSING, "zero_row_missing", "zero-row rule missing: 0/0 = NaN while the memory is empty") \
  X(DEN_PLUS1, "den_plus1", "A_mem divided by (den + 1)")

#define MUT_MUTATION_ENUM(id, name, what) MM_##id,
typedef enum mut_mutation { MUT_MUTATIONS(MUT_MUTATION_ENUM) MM_COUNT } mut_mutation;
#undef MUT_MUTATION_ENUM

typedef struct mut_config {
  mut_variant variant;
  mut_mutation mutation;
} mut_config;

/** Names and descriptions; NULL when out of range. */
const char *mut_variant_name(mut_variant v);
const char *mut_variant_profile(mut_variant v);
const char *mut_variant_what(mut_variant v);
const char *mut_mutation_name(mut_mutation m);
const char *mut_mutation_what(mut_mutation m);
/** Parse a name; false when unknown. */
bool mut_variant_from_name(const char *name, mut_variant *v);
bool mut_mutation_from_name(const char *name, mut_mutation *m);

/** Set the process-wide configuration used by the kernels below. */
void mut_configure(mut_config config);
mut_config mut_current(void);

/* The kernels, with the backend-table signatures. */
size_t mut_workspace_bytes(const infini_head_shape *shape);
infini_status mut_feature_map(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                              ptrdiff_t ldx, float *y, ptrdiff_t ldy);
infini_status mut_retrieve(const infini_head_shape *shape, const float *q,
                           ptrdiff_t ldq, const float *m, ptrdiff_t ldm,
                           const float *z, float eps, float *a, ptrdiff_t lda);
infini_status mut_update_linear(const infini_head_shape *shape, const float *k,
                                ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                                float *m, ptrdiff_t ldm, float *z);
infini_status mut_update_delta(const infini_head_shape *shape, const float *k,
                               ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                               float *m, ptrdiff_t ldm, float *z, float eps,
                               void *work);
infini_status mut_mix(ptrdiff_t rows, ptrdiff_t cols, float beta,
                      const float *a_mem, ptrdiff_t ldm, const float *a_dot,
                      ptrdiff_t ldd, float *out, ptrdiff_t ldo);
infini_status mut_local_attention(const infini_head_shape *shape,
                                  const float *q, ptrdiff_t ldq, const float *k,
                                  ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                                  float scale, float *out, ptrdiff_t ldo,
                                  void *work);
infini_status mut_segment_step(const infini_head_shape *shape,
                               const infini_step_params *params,
                               const float *q, ptrdiff_t ldq, const float *k,
                               ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                               float *m, ptrdiff_t ldm, float *z, float *out,
                               ptrdiff_t ldo, void *work);
infini_status mut_layer_step(const infini_layer_config *config, ptrdiff_t n,
                             const float *q, ptrdiff_t ldq, const float *k,
                             ptrdiff_t ldk, const float *v, ptrdiff_t ldv,
                             const float *beta, float *m, float *z, float *out,
                             ptrdiff_t ldo, void *work);

#endif /* INFINI_MUTANTS_IMPL_H */

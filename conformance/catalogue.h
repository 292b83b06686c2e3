/*
 * conformance/catalogue.h - the catalogue of known deviations: every bug
 * seen (or plausible) in Infini-attention code, and every legitimately
 * different correct way to compute, written once.
 *
 * Read by
 *  - conformance/mutants/impl.c, the one configurable implementation of
 *    the operators: each entry is one small marked branch there (compiled
 *    in float for the mutant plugin, in double for the diagnoser);
 *  - conformance/diagnose.c, which explains a failure by the entries that
 *    apply to the failing operator, and names them;
 *  - conformance/model/dmodel.c, the model in double, for the entries
 *    marked MODEL;
 *  - the tests (check-mutants.sh through `mutant-report --list`,
 *    test-mutants-impl, test-diagnose, test-model-mutants) and
 *    docs/mutants.md, whose tables `mutant-report --markdown` writes and
 *    test-catalogue-doc.sh compares.
 *
 * One line per entry, two kinds:
 *
 *   BUG(name, ops, when, rule, visible, tries, instances, alias, why_not, message)
 *   VARIANT(name, ops, profile, message)
 *
 *   name       the one name (a C identifier): mutant-NAME, "looks like NAME"
 *   ops        the operators it changes (CAT_OP_* bits; CAT_MODEL: the
 *              full model of conformance/model/dmodel.c)
 *   when       what a case needs for the deviation to show (CAT_W_* bits);
 *              the diagnoser tries an entry only where it can show
 *   rule       the rule of docs/spec.md (or docs/model.md) it breaks
 *   visible    the profiles (CAT_P_* bits) under which the shipped vectors
 *              must reject its mutant; check-mutants.sh proves each one (0
 *              for an operator bug would record a gap of the vectors:
 *              test-diagnose then skips it, saying so)
 *   tries      parameterised entries: the values the diagnoser tries ("" =
 *              no parameter; "fit" = fitted to the outputs)
 *   instances  parameterised entries: the values its mutants are run with
 *   alias      entries whose outputs can coincide with this one's on some
 *              cases (the diagnoser may name either; the test accepts both)
 *   why_not    "" when the diagnoser can name it, else why it cannot
 *   message    the one line a user reads; "{p}" stands for the parameter
 *   profile    (variants) the profile that must accept it (fp32 must
 *              reject it when it is another)
 */
#ifndef INFINI_CONFORMANCE_CATALOGUE_H
#define INFINI_CONFORMANCE_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

/* Operators, in the order of vs_op (vectors/vecset.h). */
#define CAT_OP_FM (1u << 0)   /* feature_map */
#define CAT_OP_RET (1u << 1)  /* retrieve */
#define CAT_OP_UL (1u << 2)   /* update_linear */
#define CAT_OP_UD (1u << 3)   /* update_delta */
#define CAT_OP_MIX (1u << 4)  /* mix */
#define CAT_OP_LA (1u << 5)   /* local_attention */
#define CAT_OP_SEG (1u << 6)  /* segment_step */
#define CAT_OP_LAY (1u << 7)  /* layer_step */
#define CAT_MODEL (1u << 8)   /* the full model */
#define CAT_STEPS (CAT_OP_SEG | CAT_OP_LAY)
#define CAT_SIGMA (CAT_OP_FM | CAT_OP_RET | CAT_OP_UL | CAT_OP_UD | CAT_STEPS)
#define CAT_RETRIEVAL (CAT_OP_RET | CAT_OP_UD | CAT_STEPS) /* delta's prediction too */
#define CAT_UPDATES (CAT_OP_UL | CAT_OP_UD | CAT_STEPS)
#define CAT_DELTA (CAT_OP_UD | CAT_STEPS)
#define CAT_LINEAR (CAT_OP_UL | CAT_STEPS)
#define CAT_ATTENTION (CAT_OP_LA | CAT_STEPS)
#define CAT_OPS 0xffu

/* What a case needs for an entry to show. */
#define CAT_W_DELTA (1u << 0)     /* the delta rule (update_delta, or a delta step) */
#define CAT_W_LINEAR (1u << 1)    /* the linear rule */
#define CAT_W_GQA (1u << 2)       /* layer step with 1 < H_kv < H */
#define CAT_W_HEADS (1u << 3)     /* layer step with H > 1 */
#define CAT_W_EPS (1u << 4)       /* eps != 0 */
#define CAT_W_NAN (1u << 5)       /* an expected output holds NaN */
#define CAT_W_NONFINITE (1u << 6) /* the outputs are non-finite where the spec's are finite */

/* Profiles (conformance/tolerance.h, in the order of tol_profile). A bug
 * rejected under bf16 is rejected under bf16-fp32 (whose allowance is
 * smaller), under fp16 also under fp16-fp32 and tf32. */
#define CAT_P_FP32 (1u << 0)
#define CAT_P_BF16 (1u << 1)
#define CAT_P_FP16 (1u << 2)
#define CAT_P_BF16_FP32 (1u << 3)
#define CAT_P_FP16_FP32 (1u << 4)
#define CAT_P_TF32 (1u << 5)
#define CAT_P_ALL 0x3fu

/* Not diagnosable: one reason for every model-level entry. */
#define CAT_MODEL_ONLY "model-level: test-model-mutants names the first segment and tensor that catch it"

/* clang-format off */
#define CATALOGUE(BUG, VARIANT)                                                                        \
  /* ---- feature map (F) ---------------------------------------------------------------------- */ \
  BUG(elu_no_plus1, CAT_SIGMA, 0, "(F)", CAT_P_ALL, "", "", "", "",                                   \
      "feature map ELU(x) without the + 1")                                                           \
  BUG(elu_alpha_half, CAT_SIGMA, 0, "(F)", CAT_P_ALL, "", "", "", "",                                 \
      "feature map ELU with alpha = 0.5: sigma(x) = 0.5 (exp(x) - 1) + 1 for x <= 0")                  \
  BUG(sigma_exp, CAT_SIGMA, 0, "(F)", CAT_P_ALL, "", "", "", "",                                      \
      "feature map exp(x) for every x (x + 1 is the branch for x > 0)")                               \
  /* ---- retrieval (7), (S4), (S5) ------------------------------------------------------------- */ \
  BUG(eps_added, CAT_RETRIEVAL, 0, "S4", CAT_P_FP32, "1e-6 1e-8 1e-9 1e-5 1e-7 1e-3 1e-4 1e-10 1e-12", \
      "1e-3 1e-6", "den_clamp", "",                                                                   \
      "an epsilon {p} added to the retrieval denominator on top of the eps asked")                    \
  BUG(eps_ignored, CAT_RETRIEVAL, CAT_W_EPS, "S4", CAT_P_FP32 | CAT_P_FP16_FP32 | CAT_P_TF32,         \
      "", "", "", "",                                                                                 \
      "the eps parameter ignored (taken as 0)")                                                       \
  BUG(den_clamp, CAT_RETRIEVAL, 0, "S4", CAT_P_FP32 | CAT_P_FP16_FP32 | CAT_P_TF32,                   \
      "1e-6 1e-8 1e-9 1e-5 1e-3 1e-4", "1e-3",                                                        \
      "eps_added", "",                                                                                \
      "retrieval denominator clamped, max(sigma(q).z, {p}), instead of + eps")                        \
  BUG(den_plus1, CAT_RETRIEVAL, 0, "(7)", CAT_P_ALL, "", "", "", "",                                  \
      "retrieval divided by sigma(q).z + eps + 1")                                                    \
  BUG(no_normaliser, CAT_RETRIEVAL, 0, "(7)", CAT_P_ALL, "", "", "", "",                              \
      "retrieval not normalised: sigma(q) M without the division by sigma(q).z")                      \
  BUG(z_per_column, CAT_RETRIEVAL, 0, "S4", CAT_P_ALL, "", "", "", "",                                \
      "z broadcast per value column: A_mem[i][j] = (sigma(q_i) M)[j] / (z[j] + eps)")                 \
  BUG(den_colsum, CAT_RETRIEVAL, 0, "S4", CAT_P_ALL, "", "", "", "",                                  \
      "retrieval normalised by the column sums of sigma(Q) M over the queries, not per row")          \
  BUG(zero_row_missing, CAT_RETRIEVAL, 0, "S5", CAT_P_ALL, "", "", "", "",                            \
      "0/0 not handled: rows with a zero denominator (an empty memory) are NaN instead of 0")         \
  BUG(z_sum_broadcast, CAT_RETRIEVAL, 0, "S4", CAT_P_ALL, "", "", "", "",                             \
      "z broadcast against the row sum of sigma(q_i): A_mem[i][j] = (sigma(q_i) M)[j] / ((sum_r sigma(q_i)[r]) z[j] + eps)") \
  BUG(eps_precedence, CAT_RETRIEVAL, CAT_W_EPS, "S4", CAT_P_ALL, "", "", "", "",                     \
      "eps added after the division (operator precedence): sigma(q) M / (sigma(q).z) + eps")          \
  BUG(reciprocal_unguarded, CAT_RETRIEVAL, CAT_W_NONFINITE, "S18", CAT_P_ALL, "", "", "", "",         \
      "retrieval multiplied by the float32 reciprocal 1/den even where den is subnormal: 1/den "       \
      "overflows to inf although the quotient is finite")                                             \
  /* ---- updates (8), (9), (S8) --------------------------------------------------------------- */ \
  BUG(kv_swap_mem, CAT_UPDATES, 0, "(8)", CAT_P_ALL, "", "", "", "",                                  \
      "K and V swapped in the memory update: M += sigma(V)^T K, z += sum sigma(v)")                   \
  BUG(drop_last, CAT_UPDATES, 0, "(8)", CAT_P_ALL, "", "", "", "",                                    \
      "the segment's last token missing from the memory update")                                      \
  BUG(z0_init, CAT_UPDATES, 0, "S3", CAT_P_ALL, "", "", "", "",                                       \
      "initial z = 1/d_key instead of 0 (a zero memory gets z = 1/d_key first)")                      \
  BUG(rule_linear, CAT_DELTA, CAT_W_DELTA, "S8", CAT_P_ALL, "", "", "", "",                         \
      "linear update (8) where the delta rule (9) was asked")                                         \
  BUG(rule_delta, CAT_LINEAR, CAT_W_LINEAR, "(8)", CAT_P_ALL, "", "", "", "",                        \
      "delta update (9) where the linear rule (8) was asked")                                         \
  BUG(delta_no_z, CAT_DELTA, CAT_W_DELTA, "S8", CAT_P_ALL, "", "", "", "",                          \
      "z not updated in delta mode")                                                                  \
  BUG(delta_sequential, CAT_DELTA, CAT_W_DELTA, "S8", CAT_P_ALL, "", "", "", "",                   \
      "delta prediction from a memory updated token by token, not from M_{s-1}")                      \
  BUG(delta_from_updated, CAT_DELTA, CAT_W_DELTA, "S8", CAT_P_ALL, "", "", "", "",                  \
      "delta prediction from the updated memory (M_{s-1} + sigma(K)^T V, z_s) instead of M_{s-1}, z_{s-1}") \
  BUG(delta_sigma_q, CAT_STEPS, CAT_W_DELTA, "S8", CAT_P_ALL, "", "", "", "",                         \
      "delta prediction retrieved with sigma(Q) instead of sigma(K)")                                 \
  BUG(delta_no_eps, CAT_DELTA, CAT_W_DELTA | CAT_W_EPS, "S8", CAT_P_FP32, "", "", "eps_ignored", "",  \
      "delta prediction without eps: sigma(k) M / (sigma(k).z) while the retrieval adds eps")        \
  BUG(delta_zero_row_missing, CAT_DELTA, CAT_W_DELTA, "S5", CAT_P_ALL, "", "", "", "",                \
      "0/0 not handled in the delta prediction: an empty memory predicts NaN and poisons M")          \
  /* ---- mixing (10), (S12) ------------------------------------------------------------------- */ \
  BUG(gate_swap, CAT_OP_MIX | CAT_STEPS, 0, "S12", CAT_P_ALL, "", "", "", "",                         \
      "gate sides swapped: sigmoid(beta) weighs A_dot, 1 - sigmoid(beta) weighs A_mem")               \
  /* ---- local attention (6), (S10), (S11) ----------------------------------------------------- */ \
  BUG(kv_swap_attn, CAT_ATTENTION, 0, "(6)", CAT_P_ALL, "", "", "", "",                               \
      "K and V swapped in local attention: scores q.v, output the weighted sum of K")                 \
  BUG(softmax_cols, CAT_ATTENTION, 0, "S10", CAT_P_ALL, "", "", "", "",                               \
      "softmax over the wrong axis (normalised per key over the queries)")                            \
  BUG(mask_strict, CAT_ATTENTION, 0, "S10", CAT_P_ALL, "", "", "", "",                                \
      "causal mask off by one: j < i (a token does not see itself)")                                  \
  BUG(mask_plus1, CAT_ATTENTION, 0, "S10", CAT_P_ALL, "", "", "", "",                                 \
      "causal mask off by one: j <= i + 1 (a token sees the next one)")                               \
  BUG(no_mask, CAT_ATTENTION, 0, "S10", CAT_P_ALL, "", "", "", "",                                    \
      "no causal mask: tokens attend to later tokens of the segment")                                 \
  BUG(softmax_nomax, CAT_ATTENTION, CAT_W_NONFINITE, "S10", CAT_P_ALL, "", "", "", "",                \
      "softmax without subtracting the row maximum (exp overflows in float32 above 88.7)")            \
  BUG(scale_dmodel, CAT_ATTENTION, 0, "S11", CAT_P_ALL, "H 2 4 8 16 32 64 3 6 12 128", "8",           \
      "scale_inv_d scale_ignored scale_none scale_other", "",                                        \
      "softmax scale 1/sqrt(d_model) = 1/sqrt(H d_key) with H = {p} (the paper's formula)")          \
  BUG(scale_ignored, CAT_ATTENTION, 0, "S11", CAT_P_ALL, "", "", "scale_dmodel scale_inv_d scale_none scale_other", "", \
      "scale parameter ignored: 1/sqrt(d_key) always")                                                \
  BUG(scale_inv_d, CAT_ATTENTION, 0, "S11", CAT_P_ALL, "", "", "scale_dmodel scale_ignored scale_none scale_other", "", \
      "softmax scale 1/d_key instead of the scale asked")                                             \
  BUG(scale_none, CAT_ATTENTION, 0, "S11", CAT_P_ALL, "", "", "scale_dmodel scale_ignored scale_inv_d scale_other", "", \
      "no softmax scaling (scale 1)")                                                                 \
  BUG(scale_other, CAT_ATTENTION, 0, "S11", CAT_P_ALL, "fit", "0.3",                                  \
      "scale_dmodel scale_ignored scale_inv_d scale_none", "",                                        \
      "softmax scale {p} instead of the scale asked")                                                 \
  /* ---- segment and layer steps (S9), (S13), (S14), and the model ------------------------------ */ \
  BUG(update_first, CAT_STEPS | CAT_MODEL, 0, "S9", CAT_P_ALL, "", "", "", "",                        \
      "memory updated before retrieval: tokens read their own segment from the memory")              \
  BUG(first_unmixed, CAT_STEPS, 0, "S7", CAT_P_ALL, "", "", "", "",                                   \
      "first segment left unmixed: A = A_dot while the memory is empty")                              \
  BUG(mem_reset, CAT_STEPS | CAT_MODEL, 0, "S13", CAT_P_ALL, "", "", "", "",                          \
      "memory reset at every segment (state not carried over)")                                       \
  BUG(gqa_mod, CAT_OP_LAY | CAT_MODEL, CAT_W_GQA, "S14", CAT_P_ALL, "", "", "", "",                   \
      "GQA grouping wrong: query head h reads kv head h mod H_kv instead of floor(h / G)")            \
  BUG(one_beta, CAT_OP_LAY, CAT_W_HEADS, "S14", CAT_P_ALL, "", "", "", "",                            \
      "one gate for every head: the layer step uses beta[0]")                                         \
  BUG(head_split_in, CAT_OP_LAY, CAT_W_HEADS, "S14", CAT_P_ALL, "", "", "head_split_both", "",                       \
      "Q, K, V split into heads by a plain reshape of [N, H*d] into [H, N, d] (.view without the transpose)") \
  BUG(head_split_out, CAT_OP_LAY, CAT_W_HEADS, "S14", CAT_P_ALL, "", "", "head_split_both", "",                      \
      "heads merged by a plain reshape of [H, N, d_value] into [N, H*d_value] (.view without the transpose)") \
  BUG(head_split_both, CAT_OP_LAY, CAT_W_HEADS, "S14", CAT_P_ALL, "", "", "head_split_in head_split_out", "",                     \
      "heads split and merged by plain reshapes, both without the transpose")                        \
  /* ---- whole tensors -------------------------------------------------------------------------- */ \
  BUG(nan_to_zero, CAT_OPS, CAT_W_NAN, "S16", CAT_P_ALL, "", "", "", "",                              \
      "NaN outputs replaced by 0 (nan_to_num); NaN must propagate")                                   \
  BUG(stride_ignored, CAT_OP_RET | CAT_ATTENTION, 0, "S1", CAT_P_ALL, "", "", "",                     \
      "its outputs come from the runner's guard padding between rows, not from the case's values",   \
      "row stride of Q ignored: rows assumed packed")                                                 \
  /* ---- model only (docs/model.md) ------------------------------------------------------------- */ \
  BUG(rope_before_memory, CAT_MODEL, 0, "M5", 0, "", "", "", CAT_MODEL_ONLY,                          \
      "RoPE applied before the memory: rotated Q/K feed retrieval and update")                        \
  BUG(shared_memory, CAT_MODEL, 0, "M8", 0, "", "", "", CAT_MODEL_ONLY,                               \
      "one memory shared by every layer")                                                             \
  BUG(boundary_off_by_one, CAT_MODEL, 0, "M12", 0, "", "", "", CAT_MODEL_ONLY,                        \
      "segment boundary off by one (first segment N-1 tokens)")                                       \
  BUG(rms_no_eps, CAT_MODEL, 0, "M2", 0, "", "", "", CAT_MODEL_ONLY,                                  \
      "RMSNorm without eps")                                                                          \
  BUG(rms_mean, CAT_MODEL, 0, "M2", 0, "", "", "", CAT_MODEL_ONLY,                                    \
      "RMSNorm with the mean: (x - mean) / std, LayerNorm-style")                                     \
  BUG(gelu, CAT_MODEL, 0, "M10", 0, "", "", "", CAT_MODEL_ONLY,                                       \
      "SiLU replaced by GELU in the SwiGLU")                                                          \
  BUG(no_final_norm, CAT_MODEL, 0, "M11", 0, "", "", "", CAT_MODEL_ONLY,                              \
      "final RMSNorm skipped")                                                                        \
  /* ---- correct variants ----------------------------------------------------------------------- */ \
  VARIANT(plain, CAT_OPS | CAT_MODEL, "fp32",                                                         \
          "float, sequential sums, separate multiply and add (the ref's way); the model as written")  \
  VARIANT(double, CAT_OPS, "fp32", "every sum accumulated in double, rounded once")               \
  VARIANT(pairwise, CAT_OPS, "fp32", "pairwise (recursive halving) summation")                        \
  VARIANT(kahan, CAT_OPS, "fp32", "Kahan compensated summation")                                      \
  VARIANT(reversed, CAT_OPS, "fp32", "every sum taken in reversed order")                             \
  VARIANT(blocked8, CAT_OPS, "fp32", "8 interleaved partial sums (SIMD lanes), added at the end")     \
  VARIANT(fma, CAT_OPS, "fp32", "explicit fma for every multiply-accumulate")                         \
  VARIANT(online_softmax, CAT_ATTENTION, "fp32",                                                      \
          "one-pass softmax with a running max and rescaling (flash-attention style)")                \
  VARIANT(dense_mask, CAT_ATTENTION, "fp32",                                                          \
          "dense attention: every score, masked ones set to -inf (masked_fill), softmax @ V over all keys; " \
          "a masked non-finite value leaks (S24)")                                                    \
  VARIANT(additive_mask, CAT_ATTENTION, "fp32",                                                       \
          "dense attention with an additive -inf mask (SDPA attn_mask): a masked NaN or +inf score " \
          "leaks into its row (S24)")                                                                 \
  VARIANT(one_minus_g, CAT_OP_MIX | CAT_STEPS, "fp32",                                                \
          "weight of A_dot computed as 1 - sigmoid(beta) instead of sigmoid(-beta)")                  \
  VARIANT(expm1, CAT_SIGMA, "fp32", "sigma(x) = expm1(x) + 1 for x <= 0 (spec (F), note)")            \
  VARIANT(reciprocal, CAT_RETRIEVAL, "fp32",                                                          \
          "retrieval multiplies by 1/den where that reciprocal is a normal float, and divides elsewhere (S18)") \
  VARIANT(bf16, CAT_OPS, "bf16-fp32",                                                                 \
          "every input, output and carried state rounded to bfloat16 (nearest-even), float arithmetic") \
  VARIANT(fp16, CAT_OPS, "fp16-fp32",                                                                 \
          "every input, output and carried state rounded to IEEE binary16, float arithmetic")         \
  VARIANT(tf32, CAT_OPS, "tf32",                                                                      \
          "TF32 matrix products: both factors of every product rounded to 10 mantissa bits, float sums") \
  VARIANT(abs_positions, CAT_MODEL, "fp32",                                                           \
          "RoPE at absolute stream positions (equal in exact arithmetic)")                            \
  VARIANT(token_by_token, CAT_MODEL, "fp32", "the stream fed one token per call")                     \
  VARIANT(rope_interleaved, CAT_MODEL, "fp32",                                                        \
          "RoPE on interleaved pairs, Q/K weight rows permuted to match")
/* clang-format on */

/* Bugs seen together in one implementation (public PyTorch code): each
 * combination runs as one mutant in check-mutants and test-diagnose, and
 * must be diagnosed as all of its parts together. X(spec, where seen). */
#define CAT_COMBINATIONS(X)                                                                     \
  X("z0_init+head_split_both",                                                                 \
    "initial z = 1/d_key, heads split by .view without the transpose (its missing zero-row "    \
    "rule never shows: with z_0 = 1/d_key no denominator is 0)")                                \
  X("eps_added=1e-6+z_sum_broadcast+head_split_both",                                          \
    "eps 1e-6, z broadcast against the row sum of sigma(q), heads split as above")              \
  X("update_first+gate_swap", "the step's order and the gate's sides both wrong")

/* The restricted implementations check-mutants proves the vectors for
 * (infini-conform --declare, docs/conformance.md): within each subset of
 * the cases a declaration leaves, every bug of the catalogue must still be
 * rejected under fp32, but those the restriction makes correct ("moot": a
 * fixed default scale is what scale_ignored computes) and those the subset
 * cannot reach ("unreachable", a known gap, each with its reason: the
 * check fails when one becomes reachable, so the list stays true), and the
 * plain variant accepted. X(declaration, moot entries, unreachable entries
 * (space-separated), where seen). */
#define CAT_RESTRICTIONS(X)                                                                      \
  X("default-scale,square,no-gqa,eps=1e-9", "scale_ignored gqa_mod", "",                         \
    "a public implementation: fixed 1/sqrt(d_key), d_key = d_value, no GQA, eps 1e-9 (its eps "    \
    "handling is judged on the tiny_den cases, whose eps is 1e-9)")                              \
  X("one-beta", "one_beta", "", "a public implementation: one scalar gate for all heads")        \
  X("square", "", "", "d_key = d_value only")                                                     \
  X("no-gqa", "gqa_mod", "", "one kv head per query head")                                       \
  X("rule=linear",                                                                                \
    "rule_linear delta_no_z delta_sequential delta_from_updated delta_sigma_q delta_no_eps "      \
    "delta_zero_row_missing",                                                                     \
    "", "the linear rule only: no delta update, so none of its bugs")                            \
  X("rule=delta", "rule_delta", "", "the delta rule only")                                       \
  X("packed", "stride_ignored", "", "no row strides (most framework code)")

#define CAT_ENUM_BUG(name, ...) CAT_##name,
#define CAT_ENUM_VARIANT(name, ...) CAT_##name,
typedef enum cat_id { CATALOGUE(CAT_ENUM_BUG, CAT_ENUM_VARIANT) CAT_COUNT } cat_id;
#undef CAT_ENUM_BUG
#undef CAT_ENUM_VARIANT

typedef enum cat_kind { CAT_BUG, CAT_VARIANT } cat_kind;

/** One entry, as the X-macro gives it. */
typedef struct cat_entry {
  const char *name;
  cat_kind kind;
  unsigned ops, when;
  const char *rule;
  unsigned visible;        /* bugs: profiles that must reject its mutants */
  const char *tries;       /* bugs: diagnosis parameters ("", "fit", values) */
  const char *instances;   /* bugs: mutant parameters ("" = none) */
  const char *alias;       /* bugs: entries that may coincide with it */
  const char *why_not;     /* bugs: "" or why it is not diagnosable */
  const char *profile;     /* variants: the profile that must accept it */
  const char *message;
} cat_entry;

/** The entry of an id; NULL when out of range. */
const cat_entry *cat_get(cat_id id);
/** The id of a name; false when unknown. */
bool cat_find(const char *name, cat_id *id);
/** Does the entry take a parameter? */
bool cat_has_param(cat_id id);
/** Is `other` one of id's declared aliases (or id itself)? */
bool cat_same(cat_id id, cat_id other);
/** The message with "{p}" replaced by the parameter (%g, or the text
 *  given), into out. */
void cat_message(cat_id id, double param, char *out, size_t len);

/** Call fn(spec, arg) for each mutant instance of bug entry id: "NAME", or
 *  "NAME=VALUE" for each value of a parameterised entry's instances. */
void cat_for_instances(cat_id id, void (*fn)(const char *spec, void *arg), void *arg);

/** Deviations switched on: one variant, any bugs with their parameters. */
typedef struct cat_config {
  cat_id variant;
  bool on[CAT_COUNT];
  double param[CAT_COUNT];
} cat_config;

/** Variant plain, no bug: the spec. */
void cat_config_init(cat_config *c);
/** Parse "NAME[=VALUE][+NAME[=VALUE]...]" (variants and bugs; a
 *  parameterised bug without a value takes its first mutant instance).
 *  false with one line in err for an unknown name, a bad value, a value
 *  given to an entry without parameter, or two variants. */
bool cat_config_parse(const char *spec, cat_config *c, char *err, size_t errlen);
/** The configuration as NAME[=VALUE]+... (the variant first unless
 *  plain). */
void cat_config_name(const cat_config *c, char *out, size_t len);

#endif /* INFINI_CONFORMANCE_CATALOGUE_H */

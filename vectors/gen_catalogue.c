/*
 * vectors/gen_catalogue.c - THE list of what the shipped vector set covers
 * (docs/vectors.md, "Coverage"). One table per operator; each row is one
 * test group with one test, whose tcId is its position (1-based) after the
 * 17 tile-edge groups that open every file. tcIds are forever: append new
 * rows at the end of a table, never insert, reorder or delete.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vectors/gen.h"

const ptrdiff_t gen_tile_sizes[17] = {1,  2,  3,  7,  8,   15,  16,  17, 31,
                                      33, 63, 64, 65, 127, 128, 129, 256};

#define LIN INFINI_UPDATE_LINEAR
#define DEL INFINI_UPDATE_DELTA
#define DEF NAN /* default scale 1/sqrt(d_key) */

/* op, regime, n, d_key, d_value, H, H_kv, segments, rule, eps, scale, beta,
 * pad, nan_where, flags, comment */
#define T(op, rg, n, dk, dv, h, hkv, s, rule, eps, scale, beta, pad, nw, fl, cm) \
  {op, rg, n, dk, dv, h, hkv, s, rule, eps, scale, beta, pad, nw, fl, cm, false}

#define FM(rg, rows, cols, pad, fl, cm) \
  T(VS_FEATURE_MAP, rg, rows, cols, 1, 1, 1, 1, LIN, 0, DEF, 0, pad, NULL, fl, cm)
static const gen_spec feature_map[] = {
    FM(GR_TYPICAL, 64, 64, 0, "", "sigma on a 64x64 block of normal-ish values in [-4, 4): both branches"),
    FM(GR_LARGE, 33, 17, 0, "large_logits", "sigma of values in [-32, 32): x + 1 far above 0, exp of large negative x"),
    FM(GR_UNDERFLOW, 15, 16, 0, "underflow", "sigma of x in [-128, -112): exp underflows to 0 in float32; the absolute error allowance at the scale of 1 (spec 2) accepts 0 and the exact tiny value"),
    FM(GR_SUBNORMAL, 16, 17, 0, "subnormal", "subnormal x (sigma = 1), and x in [-103, -87) where exp(x) is subnormal: gradual underflow or flush to zero"),
    FM(GR_ZEROS, 3, 5, 0, "zeros", "sigma(0) = 1 exactly (the exp branch at 0)"),
    FM(GR_SPECIAL, 1, 16, 0, "nan pos_inf neg_inf", "special values (S2): NaN -> NaN, +inf -> +inf, -inf -> +0, +-0 -> 1, +-FLT_MAX, +-FLT_MIN, +-FLT_TRUE_MIN, ln 2^-150 and ln 2^-126 neighbours"),
    FM(GR_TYPICAL, 31, 33, 7, "strided", "row strides x: 40, y: 40 (width 33 + 7): elements between rows are neither read nor written"),
    FM(GR_EXACT, 7, 9, 0, "exact", "integers in [-16, 16): x + 1 exact for x > 0, exp of integers <= 0"),
};

#define RT(rg, n, dk, dv, eps, pad, nw, fl, cm) \
  T(VS_RETRIEVE, rg, n, dk, dv, 1, 1, 1, LIN, eps, DEF, 0, pad, nw, fl, cm)
static const gen_spec retrieve[] = {
    RT(GR_FIRST, 9, 5, 7, 0, 0, NULL, "first_segment", "empty memory, eps = 0: every den_i = 0, so every row is the zero row (S5)"),
    RT(GR_FIRST, 9, 5, 7, 1e-6f, 0, NULL, "first_segment eps", "empty memory, eps = 1e-6: den_i = eps, rows 0/eps = 0"),
    RT(GR_TYPICAL, 17, 16, 15, 1e-3f, 0, NULL, "eps", "eps = 1e-3 added to each row's denominator (S4)"),
    RT(GR_TYPICAL, 8, 7, 33, 0.5f, 0, NULL, "eps", "eps = 0.5, of the order of the denominators: an eps of another size fails"),
    RT(GR_LARGE, 33, 8, 17, 0, 0, NULL, "large_logits", "q in [-32, 32): sigma(q) up to 33 and down to e^-32"),
    RT(GR_UNDERFLOW, 16, 8, 9, 0, 0, NULL, "underflow", "even rows of q in [-128, -112): den_i underflows to 0 in float32 (zero row) but not in exact arithmetic; both accepted (S6)"),
    RT(GR_ZEROS, 4, 3, 5, 0, 0, NULL, "zeros", "q = 0, M = 0, z = 0: den = 0, zero rows"),
    RT(GR_SUBNORMAL, 15, 7, 16, 0, 0, NULL, "subnormal", "M subnormal, half of q subnormal: gradual underflow or flush to zero"),
    RT(GR_NAN, 6, 4, 5, 0, 0, "q", "nan", "NaN in q row 2: A_mem row 2 is NaN, the other rows are not (S16)"),
    RT(GR_FIRST, 6, 4, 5, 0, 0, "q", "nan first_segment", "NaN in q row 1 with an empty memory: den = NaN * 0 = NaN is not 0, so the row is NaN, not the zero row (S16)"),
    RT(GR_NEG_INF, 6, 4, 5, 0, 0, NULL, "neg_inf", "-inf in q: row 0 all -inf retrieves the zero row, row 3 has one -inf entry that contributes nothing (S17)"),
    RT(GR_NEG_INF, 6, 4, 5, 0.25f, 0, NULL, "neg_inf eps", "as the previous test with eps = 0.25: the all -inf row is 0/eps = 0"),
    RT(GR_TYPICAL, 19, 13, 11, 0, 5, NULL, "strided", "row strides q: 18, m: 16, a: 16: strided operands"),
    RT(GR_EXACT, 3, 2, 2, 0, 0, NULL, "exact worked_example", "the retrieval of segment 2 of the spec's worked example (section 19): A_mem = [[3/4, 9/8], [20/27, 31/27], [8/11, 13/11]]"),
    RT(GR_SMALL_DEN, 12, 4, 9, 0, 0, NULL, "small_den", "z and M scaled by 2^-13: den_i of order 1e-2..1e-3, so a hard-coded epsilon of 1e-6 changes A far beyond the tolerance (S4)"),
    RT(GR_SMALL_DEN, 12, 4, 9, 1e-6f, 0, NULL, "small_den eps", "as the previous test with eps = 1e-6: eps is added once, to the denominator only"),
};

#define UP(op, rg, n, dk, dv, eps, pad, nw, fl, cm) \
  T(op, rg, n, dk, dv, 1, 1, 1, op == VS_UPDATE_DELTA ? DEL : LIN, eps, DEF, 0, pad, nw, fl, cm)
static const gen_spec update_linear[] = {
    UP(VS_UPDATE_LINEAR, GR_FIRST, 9, 5, 7, 0, 0, NULL, "first_segment", "update of an empty memory: M = sigma(K)^T V, z = sum_t sigma(k_t)"),
    UP(VS_UPDATE_LINEAR, GR_LARGE, 33, 8, 17, 0, 0, NULL, "large_logits", "k in [-32, 32): sigma(k) up to 33"),
    UP(VS_UPDATE_LINEAR, GR_UNDERFLOW, 16, 8, 9, 0, 0, NULL, "underflow", "even rows of k in [-128, -112): their sigma underflows and they add (almost) nothing; the outcome does not depend on the precision"),
    UP(VS_UPDATE_LINEAR, GR_ZEROS, 4, 3, 5, 0, 0, NULL, "zeros", "k = 0, v = 0, M = 0, z = 0: M stays 0, z = N"),
    UP(VS_UPDATE_LINEAR, GR_SUBNORMAL, 64, 7, 16, 0, 0, NULL, "subnormal", "v subnormal, half of k subnormal: 64 subnormal products per element may sum to a normal number"),
    UP(VS_UPDATE_LINEAR, GR_NAN, 6, 4, 5, 0, 0, "k", "nan", "NaN in k row 2, column 1: row 1 of M and z[1] become NaN, the rest does not (S16)"),
    UP(VS_UPDATE_LINEAR, GR_NAN, 6, 4, 5, 0, 0, "v", "nan", "NaN in v row 3, column 2: column 2 of M becomes NaN, z is unaffected (S16)"),
    UP(VS_UPDATE_LINEAR, GR_NEG_INF, 6, 4, 5, 0, 0, NULL, "neg_inf", "-inf in k: row 0 all -inf adds nothing, row 3's -inf entry (column 2) adds nothing to row 2 of M or z[2] (S17)"),
    UP(VS_UPDATE_LINEAR, GR_TYPICAL, 19, 13, 11, 0, 5, NULL, "strided", "row strides k: 18, v: 16, m: 16"),
    UP(VS_UPDATE_LINEAR, GR_EXACT, 3, 2, 2, 0, 0, NULL, "exact worked_example", "segment 1 of the spec's worked example: M_1 = [[4, 8], [4, 5]], z_1 = [6, 5] from M_0 = 0"),
};
static const gen_spec update_delta[] = {
    UP(VS_UPDATE_DELTA, GR_FIRST, 9, 5, 7, 0, 0, NULL, "first_segment", "delta update of an empty memory: every prediction is a zero row, so it equals the linear update (S7)"),
    UP(VS_UPDATE_DELTA, GR_TYPICAL, 17, 16, 15, 1e-3f, 0, NULL, "eps", "delta update with eps = 1e-3 in the prediction's denominator"),
    UP(VS_UPDATE_DELTA, GR_LARGE, 33, 8, 17, 0, 0, NULL, "large_logits", "k in [-32, 32): large sigma(k) in the prediction and the update"),
    UP(VS_UPDATE_DELTA, GR_UNDERFLOW, 16, 8, 9, 0, 0, NULL, "underflow", "even rows of k in [-128, -112): their prediction's denominator underflows in float32 (zero row) but not exactly; both accepted (S6)"),
    UP(VS_UPDATE_DELTA, GR_ZEROS, 4, 3, 5, 0, 0, NULL, "zeros", "all inputs 0: the prediction is the zero row"),
    UP(VS_UPDATE_DELTA, GR_SUBNORMAL, 64, 7, 16, 0, 0, NULL, "subnormal", "v and M subnormal, half of k subnormal"),
    UP(VS_UPDATE_DELTA, GR_NAN, 6, 4, 5, 0, 0, "k", "nan", "NaN in k row 2: its prediction is NaN, so every element of M becomes NaN; z[1] NaN (S16)"),
    UP(VS_UPDATE_DELTA, GR_NAN, 6, 4, 5, 0, 0, "v", "nan", "NaN in v row 3, column 2: column 2 of M becomes NaN (S16)"),
    UP(VS_UPDATE_DELTA, GR_NEG_INF, 6, 4, 5, 0, 0, NULL, "neg_inf", "-inf in k: the all -inf row 0 predicts the zero row and adds nothing (S17)"),
    UP(VS_UPDATE_DELTA, GR_TYPICAL, 19, 13, 11, 0, 5, NULL, "strided", "row strides k: 18, v: 16, m: 16"),
    UP(VS_UPDATE_DELTA, GR_EXACT, 3, 2, 2, 0, 0, NULL, "exact worked_example", "segment 2 of the spec's worked example under the delta rule: M_2 = [[16523/3553, 42188/3553], [9307/3553, 38910/3553]]"),
    UP(VS_UPDATE_DELTA, GR_SMALL_DEN, 12, 4, 9, 0, 0, NULL, "small_den", "z and M scaled by 2^-13: the prediction's denominators are of order 1e-3, sensitive to any hard-coded epsilon"),
    UP(VS_UPDATE_DELTA, GR_SMALL_DEN, 12, 4, 9, 1e-6f, 0, NULL, "small_den eps", "as the previous test with eps = 1e-6: the prediction adds eps to its denominator (S8), so a prediction without eps fails"),
};

#define MX(rg, rows, cols, beta, pad, nw, fl, cm) \
  T(VS_MIX, rg, rows, 1, cols, 1, 1, 1, LIN, 0, DEF, beta, pad, nw, fl, cm)
static const gen_spec mix[] = {
    MX(GR_TYPICAL, 17, 33, INFINITY, 0, NULL, "gate_extreme", "beta = +inf: g = 1 and 1 - g = 0 exactly, out = a_mem"),
    MX(GR_TYPICAL, 17, 33, -INFINITY, 0, NULL, "gate_extreme", "beta = -inf: g = 0, out = a_dot"),
    MX(GR_TYPICAL, 16, 15, 30, 0, NULL, "gate_extreme", "beta = 30: 1 - g = 9.4e-14, computed as sigmoid(-beta) or as 1 - g (which rounds to 0)"),
    MX(GR_TYPICAL, 16, 15, -30, 0, NULL, "gate_extreme", "beta = -30: g = 9.4e-14"),
    MX(GR_TYPICAL, 8, 9, 0, 0, NULL, "", "beta = 0: out = (a_mem + a_dot) / 2"),
    MX(GR_TYPICAL, 8, 9, 2.5f, 0, NULL, "gate", "beta = 2.5: g = 0.924 weighs a_mem; swapped sides fail"),
    MX(GR_NAN, 4, 5, -INFINITY, 0, "a_mem", "nan gate_extreme", "NaN in a_mem with beta = -inf: 0 * NaN = NaN in that element (S12, S16)"),
    MX(GR_NAN, 4, 5, INFINITY, 0, "a_dot", "nan gate_extreme", "NaN in a_dot with beta = +inf: 0 * NaN = NaN in that element"),
    MX(GR_SUBNORMAL, 7, 8, 0.5f, 0, NULL, "subnormal", "subnormal a_mem and half of a_dot subnormal"),
    MX(GR_ZEROS, 3, 5, 1, 0, NULL, "zeros", "a_mem = a_dot = 0: out = 0"),
    MX(GR_TYPICAL, 31, 33, -1.5f, 3, NULL, "strided gate", "row strides a_mem, a_dot, out: 36"),
    MX(GR_LARGE, 33, 17, 1, 0, NULL, "large_logits", "inputs in [-32, 32)"),
};

#define LA(rg, n, dk, dv, scale, pad, nw, fl, cm) \
  T(VS_LOCAL_ATTENTION, rg, n, dk, dv, 1, 1, 1, LIN, 0, scale, 0, pad, nw, fl, cm)
static const gen_spec local_attention[] = {
    LA(GR_LARGE, 17, 8, 9, DEF, 0, NULL, "large_logits", "q, k in [-32, 32): scores of order 1e2..1e3 overflow exp without the row maximum (S10)"),
    LA(GR_LARGE, 64, 64, 33, DEF, 0, NULL, "large_logits", "large logits, 64 tokens, d_key = 64"),
    LA(GR_LARGE, 129, 3, 16, DEF, 0, NULL, "large_logits", "large logits, 129 tokens, d_key = 3"),
    LA(GR_TYPICAL, 33, 16, 17, 0, 0, NULL, "scale", "scale = 0: every row is the mean of v_1..v_i (S11)"),
    LA(GR_TYPICAL, 33, 16, 17, -0.5f, 0, NULL, "scale", "negative scale -0.5: the formula as written (S11)"),
    LA(GR_TYPICAL, 33, 16, 17, 1, 0, NULL, "scale", "scale = 1 (no scaling): an implementation ignoring the scale parameter fails"),
    LA(GR_TYPICAL, 33, 16, 17, 0.08838834764831845f, 0, NULL, "scale", "scale = 1/sqrt(128) = 1/sqrt(d_model) with d_model = 8 d_key, the paper's formula"),
    LA(GR_ZEROS, 5, 3, 4, DEF, 0, NULL, "zeros", "all inputs 0: uniform weights, out = 0"),
    LA(GR_SUBNORMAL, 16, 7, 9, DEF, 0, NULL, "subnormal", "v subnormal, half of q and k subnormal"),
    LA(GR_NAN, 7, 4, 5, DEF, 0, "q", "nan", "NaN in q row 3: output row 3 is NaN, the other rows are not (S16)"),
    LA(GR_NAN, 7, 4, 5, DEF, 0, "k", "nan", "NaN in k row 3: output rows 3..6 are NaN, rows 0..2 are not (S16)"),
    LA(GR_NAN, 7, 4, 5, DEF, 0, "v", "nan", "NaN in v row 3, column 2: column 2 of rows 3..6 is NaN (P * NaN = NaN), the rest is not (S16)"),
    LA(GR_TYPICAL, 31, 13, 11, DEF, 5, NULL, "strided", "row strides q, k: 18, v, out: 16"),
    LA(GR_EXACT, 3, 2, 2, 0.70710677f, 0, NULL, "worked_example", "segment 1 of the spec's worked example: A_dot = [[1, 0], [0.804429683, 0.195570317], [0.836420899, 1.5092627]]"),
};

#define SS(rg, s, n, dk, dv, rule, eps, scale, beta, pad, nw, fl, cm) \
  T(VS_SEGMENT_STEP, rg, n, dk, dv, 1, 1, s, rule, eps, scale, beta, pad, nw, fl, cm)
static const gen_spec segment_step[] = {
    SS(GR_WORKED, 3, 3, 2, 2, LIN, 0, 0.70710677f, 0, 0, NULL, "worked_example multi_segment", "the spec's worked example (section 19), linear rule, 3 segments: M_3 = [[13, 24], [13, 23]], z_3 = [18, 16]"),
    SS(GR_WORKED, 3, 3, 2, 2, DEL, 0, 0.70710677f, 0, 0, NULL, "worked_example multi_segment delta_rule", "the spec's worked example (section 19), delta rule: outputs equal the linear rule's for 2 segments and differ in segment 3"),
    SS(GR_FIRST, 1, 9, 5, 7, DEL, 0, DEF, 0.5f, 0, NULL, "first_segment delta_rule", "one segment from the initial state: A = (1 - g) A_dot, no special case (S7)"),
    SS(GR_TYPICAL, 3, 16, 8, 12, DEL, 0, DEF, 0.5f, 0, NULL, "multi_segment delta_rule", "delta rule, 3 segments: the outputs of segment 3 differ from the linear rule's (S7)"),
    SS(GR_TYPICAL, 3, 16, 8, 12, LIN, 0, DEF, 0.5f, 0, NULL, "multi_segment", "linear rule, same inputs as the previous test"),
    SS(GR_TYPICAL, 5, 7, 12, 5, DEL, 1e-3f, 0.25f, -0.75f, 0, NULL, "multi_segment delta_rule eps scale gate", "delta rule, 5 segments, eps = 1e-3, scale = 0.25, beta = -0.75"),
    SS(GR_TYPICAL, 64, 8, 16, 8, LIN, 0, DEF, 0, 0, NULL, "long_run", "64 segments, linear rule: the memory accumulates 512 tokens"),
    SS(GR_TYPICAL, 64, 8, 16, 8, DEL, 0, DEF, 0, 0, NULL, "long_run delta_rule", "64 segments, delta rule"),
    SS(GR_TYPICAL, 3, 8, 7, 9, LIN, 0, DEF, INFINITY, 0, NULL, "multi_segment gate_extreme", "beta = +inf: out = A_mem exactly, 0 in segment 1"),
    SS(GR_TYPICAL, 3, 8, 7, 9, DEL, 0, DEF, -INFINITY, 0, NULL, "multi_segment gate_extreme delta_rule", "beta = -inf: out = A_dot; the memory still updates"),
    SS(GR_TYPICAL, 3, 8, 7, 9, LIN, 0, DEF, 30, 0, NULL, "multi_segment gate_extreme", "beta = 30"),
    SS(GR_TYPICAL, 3, 8, 7, 9, DEL, 0, DEF, -30, 0, NULL, "multi_segment gate_extreme delta_rule", "beta = -30"),
    SS(GR_LARGE, 3, 17, 8, 9, DEL, 0, DEF, 0, 0, NULL, "large_logits multi_segment delta_rule", "q, k in [-32, 32): large scores and large sigma"),
    SS(GR_UNDERFLOW, 3, 8, 8, 9, DEL, 0, DEF, 0.5f, 0, NULL, "underflow multi_segment delta_rule", "even rows of q and k in [-128, -112): retrieval and prediction rows whose denominators underflow in float32; zero rows or exact values accepted, and what follows from them (S6)"),
    SS(GR_ZEROS, 3, 4, 3, 5, DEL, 0, DEF, 0, 0, NULL, "zeros multi_segment delta_rule", "all inputs 0: z = N per segment, M = 0, out = 0"),
    SS(GR_SUBNORMAL, 3, 16, 7, 9, DEL, 0, DEF, 0, 0, NULL, "subnormal multi_segment delta_rule", "v subnormal, half of q and k subnormal"),
    SS(GR_NAN, 3, 5, 4, 6, LIN, 0, DEF, 0, 0, "q", "nan multi_segment", "NaN in q row 2 of segment 2: that output row is NaN, nothing else (S16)"),
    SS(GR_NAN, 3, 5, 4, 6, DEL, 0, DEF, 0, 0, "k", "nan multi_segment delta_rule", "NaN in k row 2 of segment 1: the memory is poisoned, every output row of segments 2 and 3 is NaN (S16)"),
    SS(GR_NAN, 3, 5, 4, 6, LIN, 0, DEF, -INFINITY, 0, "k", "nan multi_segment gate_extreme", "NaN key with beta = -inf: 0 * NaN keeps later outputs NaN (S16)"),
    SS(GR_NAN, 3, 5, 4, 6, LIN, 0, DEF, 0, 0, "v", "nan multi_segment", "NaN in v row 3, column 2 of segment 1: column 2 of later retrievals is NaN (S16)"),
    SS(GR_TYPICAL, 3, 19, 13, 11, DEL, 0, DEF, 0.25f, 5, NULL, "strided multi_segment delta_rule", "row strides q, k: 18, v, out, m: 16"),
    SS(GR_SMALL_DEN, 2, 12, 4, 9, DEL, 1e-6f, DEF, 0.5f, 0, NULL, "small_den eps multi_segment delta_rule", "initial z and M scaled by 2^-13, eps = 1e-6: in segment 1 the retrieval and the delta prediction divide by denominators of order 1e-3, so a hard-coded epsilon or a prediction without eps fails (S4, S8)"),
};

#define LS(rg, s, n, h, hkv, dk, dv, rule, eps, scale, pad, nw, fl, cm) \
  T(VS_LAYER_STEP, rg, n, dk, dv, h, hkv, s, rule, eps, scale, 0, pad, nw, fl, cm)
static const gen_spec layer_step[] = {
    LS(GR_TYPICAL, 3, 8, 4, 2, 8, 12, DEL, 0, DEF, 0, NULL, "gqa multi_segment delta_rule", "H = 4, H_kv = 2: query heads 0, 1 read kv head 0 and 2, 3 read kv head 1 (S14)"),
    LS(GR_TYPICAL, 3, 8, 8, 1, 4, 6, LIN, 0, DEF, 0, NULL, "gqa multi_segment", "H = 8, H_kv = 1 (multi-query): every head reads the one kv head"),
    LS(GR_TYPICAL, 3, 8, 3, 3, 5, 7, DEL, 0, DEF, 0, NULL, "multi_head multi_segment delta_rule", "H = H_kv = 3: one kv head per query head"),
    LS(GR_TYPICAL, 64, 4, 4, 2, 8, 4, DEL, 0, DEF, 0, NULL, "gqa long_run delta_rule", "64 segments, H = 4, H_kv = 2, delta rule"),
    LS(GR_TYPICAL, 2, 7, 4, 2, 5, 6, LIN, 1e-3f, 0.5f, 0, NULL, "gqa eps scale gate_extreme", "beta per head = +inf, -inf, 30, -30; eps = 1e-3, scale = 0.5"),
    LS(GR_LARGE, 2, 9, 4, 2, 8, 5, DEL, 0, DEF, 0, NULL, "gqa large_logits delta_rule", "q, k in [-32, 32)"),
    LS(GR_UNDERFLOW, 3, 8, 4, 2, 8, 5, DEL, 0, DEF, 0, NULL, "gqa underflow multi_segment delta_rule", "even rows of q and k in [-128, -112) (S6)"),
    LS(GR_ZEROS, 2, 3, 4, 2, 3, 2, LIN, 0, DEF, 0, NULL, "gqa zeros", "all inputs 0"),
    LS(GR_SUBNORMAL, 2, 9, 4, 2, 7, 5, DEL, 0, DEF, 0, NULL, "gqa subnormal delta_rule", "v subnormal, half of q and k subnormal"),
    LS(GR_NAN, 3, 5, 4, 2, 4, 3, DEL, 0, DEF, 0, "k", "gqa nan multi_segment delta_rule", "NaN in kv head 1's keys in segment 1: heads 2, 3 are NaN from segment 2 on, heads 0, 1 are not (S14, S16)"),
    LS(GR_TYPICAL, 2, 11, 4, 2, 6, 5, DEL, 0, DEF, 3, NULL, "gqa strided delta_rule", "row strides q: 27, k: 15, v: 13, out: 23"),
    LS(GR_SMALL_DEN, 2, 12, 4, 2, 4, 9, DEL, 1e-6f, DEF, 0, NULL, "gqa small_den eps multi_segment delta_rule", "initial z and M scaled by 2^-13, eps = 1e-6, 4 query heads on 2 kv heads: small denominators in segment 1's retrieval and delta prediction (S4, S8)"),
};

/* ---- schema version 2: realistic shapes, appended after the v1 rows ---- */

/* Model-sized heads (flag "realistic"): at N = 256 tokens, d = 64 the
 * deviations of the known bugs are hundreds of times the allowance even
 * under the bf16 and fp16 profiles, whose allowances grow with the sums;
 * the tiny shapes above cannot show that (docs/mutants.md, "Profiles"). */
static const gen_spec retrieve_v2[] = {
    RT(GR_TYPICAL, 256, 64, 64, 1e-6f, 0, NULL, "realistic eps", "a model-sized head: N = 256, d_key = d_value = 64, eps = 1e-6"),
    RT(GR_SMALL_DEN, 256, 64, 64, 1e-6f, 0, NULL, "realistic small_den eps", "model-sized head with z and M scaled by 2^-13 and eps = 1e-6: denominators of order 1e-2"),
    /* the eps of public implementations (1e-9) where it shows, and the
     * denominators below and near the smallest normal number (S18) */
    RT(GR_TINY_DEN, 12, 8, 8, 1e-9f, 0, NULL, "tiny_den eps", "z and M scaled by 2^-26, eps = 1e-9: den_i of order 1e-6, so an eps of 1e-9 moves A by 1e-3, hundreds of times the tolerance: eps ignored or clamped fails"),
    RT(GR_SUBNORMAL_DEN, 12, 8, 8, 0, 0, NULL, "subnormal_den", "rows of q in [-100, -96): den_i subnormal, 1/den_i overflows (S18: divide there); rows in [-90, -88): den_i near the smallest normal number; rows in [-22, -20): den_i tiny; every result finite"),
};
static const gen_spec update_linear_v2[] = {
    UP(VS_UPDATE_LINEAR, GR_TYPICAL, 256, 64, 64, 0, 0, NULL, "realistic", "a model-sized head: 256 tokens into a 64 x 64 memory"),
};
static const gen_spec update_delta_v2[] = {
    UP(VS_UPDATE_DELTA, GR_TYPICAL, 256, 64, 64, 1e-6f, 0, NULL, "realistic eps", "a model-sized head: 256 tokens, d_key = d_value = 64, eps = 1e-6 in the prediction"),
    UP(VS_UPDATE_DELTA, GR_SMALL_DEN, 256, 64, 64, 1e-6f, 0, NULL, "realistic small_den eps", "model-sized head with z and M scaled by 2^-13, eps = 1e-6: the prediction's denominators are small (S8)"),
    UP(VS_UPDATE_DELTA, GR_TINY_DEN, 12, 8, 8, 1e-9f, 0, NULL, "tiny_den eps", "z and M scaled by 2^-26, eps = 1e-9: the prediction's denominators are of order 1e-6, so a prediction without eps fails"),
    UP(VS_UPDATE_DELTA, GR_SUBNORMAL_DEN, 12, 8, 8, 0, 0, NULL, "subnormal_den", "rows of k in [-100, -96): the prediction's den_i subnormal, 1/den_i overflows and would make M non-finite (S18); rows near -89 and -21: den_i near the smallest normal number, and tiny"),
};
static const gen_spec mix_v2[] = {
    MX(GR_TYPICAL, 256, 64, 0.75f, 0, NULL, "realistic gate", "a model-sized block: 256 x 64, beta = 0.75"),
};
static const gen_spec local_attention_v2[] = {
    LA(GR_TYPICAL, 256, 64, 64, DEF, 0, NULL, "realistic", "a model-sized head: 256 tokens, d_key = d_value = 64, scale 1/8"),
};
static const gen_spec segment_step_v2[] = {
    SS(GR_TYPICAL, 3, 256, 64, 64, DEL, 1e-6f, DEF, 0.5f, 0, NULL, "realistic multi_segment delta_rule eps gate", "a model-sized head over 3 segments of 256 tokens, delta rule, eps = 1e-6, beta = 0.5"),
    SS(GR_TYPICAL, 3, 256, 64, 64, LIN, 0, DEF, -0.5f, 0, NULL, "realistic multi_segment gate", "a model-sized head over 3 segments of 256 tokens, linear rule, beta = -0.5"),
    SS(GR_SUBNORMAL_DEN, 2, 12, 8, 8, DEL, 0, DEF, 0.5f, 0, NULL, "subnormal_den delta_rule gate", "rows of q and k in [-100, -96), [-90, -88) and [-22, -20): in segment 2 the retrieval and the delta prediction divide by subnormal, near-FLT_MIN and tiny denominators; every result finite (S18)"),
};
static const gen_spec layer_step_v2[] = {
    LS(GR_TYPICAL, 3, 300, 3, 1, 96, 80, DEL, 1e-6f, DEF, 0, NULL, "realistic gqa multi_segment delta_rule eps", "a small model's layer: 3 segments of 300 tokens, 3 query heads on 1 kv head, d_key = 96, d_value = 80, delta rule, eps = 1e-6"),
    LS(GR_TYPICAL, 2, 256, 4, 2, 64, 64, DEL, 1e-6f, DEF, 0, NULL, "realistic gqa eps delta_rule", "4 query heads on 2 kv heads of d = 64, 2 segments of 256 tokens, delta rule, eps = 1e-6"),
    /* square, ungrouped layers with a gate per head: what an implementation
     * restricted to d_key = d_value and no GQA runs, where one_beta and the
     * head-split bugs must still show */
    LS(GR_TYPICAL, 3, 16, 4, 4, 8, 8, DEL, 0, DEF, 0, NULL, "multi_head multi_segment delta_rule", "H = H_kv = 4, d_key = d_value = 8, a beta per head"),
    LS(GR_TYPICAL, 2, 17, 2, 2, 16, 16, LIN, 0, DEF, 0, NULL, "multi_head", "H = H_kv = 2, d_key = d_value = 16, a beta per head, linear rule"),
    LS(GR_TYPICAL, 3, 9, 3, 3, 5, 5, LIN, 0, DEF, 0, NULL, "multi_head multi_segment", "H = H_kv = 3, d_key = d_value = 5, a beta per head"),
    LS(GR_SUBNORMAL_DEN, 2, 12, 2, 2, 8, 8, DEL, 0, DEF, 0, NULL, "subnormal_den multi_head delta_rule", "H = H_kv = 2, rows of q and k near -98, -89 and -21: in segment 2 subnormal, near-FLT_MIN and tiny denominators in both heads (S18)"),
    LS(GR_SUBNORMAL_DEN, 2, 12, 2, 2, 8, 8, LIN, 0, DEF, 0, NULL, "subnormal_den multi_head", "the same construction under the linear rule"),
};


/* Rows of v1 that v2 replaces (same tcId, same inputs, true flags and regime): v1's
 * step small_den tests claimed small denominators and 3 segments and had
 * neither. A step starts from the empty memory (S3), so its denominators
 * can only be small through small sigma(k), whose absolute latitude (S2:
 * one rounding unit at the scale of 1) is as large as the effect of an
 * eps; small denominators are tested by retrieve and update_delta, which
 * take M and z as inputs. */
static const struct {
  vs_op op;
  int tc;
  gen_spec row;
} fixes_v2[] = {
    {VS_SEGMENT_STEP, 39, SS(GR_TYPICAL, 2, 12, 4, 9, DEL, 1e-6f, DEF, 0.5f, 0, NULL, "eps delta_rule", "eps = 1e-6 in a 2-segment delta run: segment 1 retrieves and predicts from the empty memory, dividing by eps alone, so the rows are 0 / eps = 0 (S4, S5, S8)")},
    {VS_LAYER_STEP, 29, LS(GR_TYPICAL, 2, 12, 4, 2, 4, 9, DEL, 1e-6f, DEF, 0, NULL, "gqa eps delta_rule", "eps = 1e-6 in a 2-segment delta run of 4 query heads on 2 kv heads: segment 1 divides by eps alone (S4, S5, S8)")},
};

#undef T

/* The 17 tile-edge groups that open every file: N = L[i], d_key =
 * L[16 - i], d_value = L[(i + 8) mod 17], so each size appears once in
 * each role and the big ones meet small ones (N != d_key except i = 8,
 * d_key != d_value except i = 4). */
static gen_spec tile_spec(vs_op op, int i, int schema) {
  const ptrdiff_t *L = gen_tile_sizes;
  static const ptrdiff_t heads[4][2] = {{4, 2}, {8, 1}, {3, 3}, {2, 1}};
  gen_spec s = {op, GR_TYPICAL, L[i], L[16 - i], L[(i + 8) % 17], 1, 1, 1,
                INFINI_UPDATE_LINEAR, 0, NAN, 0, 0, NULL, "tile_edge",
                "tile-edge sizes, typical inputs", false};
  switch (op) {
  case VS_FEATURE_MAP:
    s.comment = "tile-edge shape rows x cols, typical inputs";
    break;
  case VS_RETRIEVE:
    s.comment = "tile-edge sizes N, d_key, d_value; memory M, z with z > 0";
    break;
  case VS_UPDATE_DELTA:
    s.rule = INFINI_UPDATE_DELTA;
    s.comment = "tile-edge sizes N, d_key, d_value; nonzero memory, so the prediction matters";
    break;
  case VS_MIX:
    s.beta = 0.5f * (float)(i % 5) - 1.0f;
    /* v1 flagged beta = 0 "gate" too */
    s.flags = schema >= 2 && s.beta == 0 ? "tile_edge" : "tile_edge gate";
    s.comment = "tile-edge shape rows x cols, beta in {-1, -0.5, 0, 0.5, 1}";
    break;
  case VS_SEGMENT_STEP:
  case VS_LAYER_STEP:
    s.segments = 2;
    s.rule = (i % 2) ? INFINI_UPDATE_LINEAR : INFINI_UPDATE_DELTA;
    s.beta = 0.5f * (float)(i % 5) - 1.0f;
    s.comment = op == VS_SEGMENT_STEP
                    ? "tile-edge sizes, 2 segments (the second reads the memory the first wrote)"
                    : "tile-edge sizes, 2 segments, grouped or multi-head layout";
    if (op == VS_LAYER_STEP) {
      s.heads = heads[i % 4][0];
      s.kv_heads = heads[i % 4][1];
      s.flags = s.kv_heads < s.heads ? "tile_edge gqa" : "tile_edge multi_head";
    }
    break;
  default:
    break;
  }
  return s;
}

typedef struct table {
  const gen_spec *rows;
  int n;
} table;

#define N(a) (int)(sizeof a / sizeof a[0])
static const table tables_v1[VS_OP_COUNT] = {
    {feature_map, N(feature_map)},   {retrieve, N(retrieve)},
    {update_linear, N(update_linear)}, {update_delta, N(update_delta)},
    {mix, N(mix)},                   {local_attention, N(local_attention)},
    {segment_step, N(segment_step)}, {layer_step, N(layer_step)},
};
static const table tables_v2[VS_OP_COUNT] = {
    {NULL, 0},                             {retrieve_v2, N(retrieve_v2)},
    {update_linear_v2, N(update_linear_v2)}, {update_delta_v2, N(update_delta_v2)},
    {mix_v2, N(mix_v2)},                   {local_attention_v2, N(local_attention_v2)},
    {segment_step_v2, N(segment_step_v2)}, {layer_step_v2, N(layer_step_v2)},
};
#undef N

/* ---- schema version 2: restricted twins ------------------------------------

 * Restricted implementations (infini-conform --declare: d_key = d_value,
 * no GQA, one beta per layer, default scale) can run only part of the
 * cases above: the tile edges are deliberately not square. Their twins
 * (flag "restricted") are the same tests in the shape such code takes, so
 * that every common restriction keeps most of each operator's cases and
 * every bug of the catalogue stays visible within it (check-mutants,
 * "restricted implementations"). Sizes are capped at 65 tokens and 33
 * columns: the twins exist for coverage, the originals for the big sizes. */

static bool has_dk_dv(vs_op op) { return op != VS_FEATURE_MAP && op != VS_MIX; }

static ptrdiff_t cap(ptrdiff_t x, ptrdiff_t most) { return x < most ? x : most; }

/* Three square tile-edge blocks, one per pair of the original's sizes
 * (N, d_key, d_value) = (L[i], L[16 - i], L[(i + 8) mod 17]): N = L[i]
 * with d = L[16 - i], then N = L[(i + 8) mod 17] with d = L[i], then
 * N = L[16 - i] with d = L[(i + 8) mod 17]; layer steps cycle H = H_kv
 * over 1..4. The third block (appended after the row twins, so that the
 * tcIds before it stay) brings the public implementations' combination
 * default-scale,square,no-gqa,eps=1e-9 to 60% of each operator. */
static gen_spec square_tile_twin(vs_op op, int block, int i) {
  const ptrdiff_t *L = gen_tile_sizes;
  const ptrdiff_t n[3] = {L[i], L[(i + 8) % 17], L[16 - i]};
  const ptrdiff_t d[3] = {L[16 - i], L[i], L[(i + 8) % 17]};
  gen_spec s = tile_spec(op, i, 2);
  s.n = cap(n[block], 65);
  s.d_key = s.d_value = cap(d[block], 33);
  if (op == VS_LAYER_STEP)
    s.heads = s.kv_heads = 1 + (i + block) % 4;
  s.flags = op == VS_LAYER_STEP && s.heads > 1 ? "tile_edge restricted multi_head"
                                               : "tile_edge restricted";
  s.comment = "square twin of the tile edges (d_key = d_value, one kv head per query head, "
              "one beta)";
  return s;
}

/* The flags of a twin with one kv head per query head: the original's,
 * with gqa replaced by multi_head where there are several heads. */
static void twin_flags(const char *orig, bool multi_head, char *out, size_t len) {
  char buf[128];
  size_t used = 0;
  bool has_multi = false;
  snprintf(buf, sizeof buf, "%s", orig);
  out[0] = 0;
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok;
       tok = strtok_r(NULL, " ", &save)) {
    if (!strcmp(tok, "gqa"))
      continue;
    has_multi |= !strcmp(tok, "multi_head");
    used += (size_t)snprintf(out + used, len - used, "%s%s", used ? " " : "", tok);
  }
  snprintf(out + used, len - used, "%s%s restricted", used ? " " : "",
           multi_head && !has_multi ? "multi_head" : "");
}

/* The twin of a row the common restrictions cannot run: square, and for
 * the layer step one kv head per query head and one beta; GQA rows get a
 * second twin that keeps their grouping (for implementations with one
 * beta but GQA). 0, 1 or 2 twins into out. */
static int row_twins(const gen_spec *r, gen_spec out[2], char flags[2][128]) {
  const bool square = !has_dk_dv(r->op) || r->d_key == r->d_value;
  const bool layer = r->op == VS_LAYER_STEP;
  if (!has_dk_dv(r->op) || (square && !layer))
    return 0;
  gen_spec t = *r;
  t.d_key = t.d_value = cap(r->d_key, 33);
  t.n = cap(r->n, 65);
  int n = 0;
  if (layer && r->kv_heads < r->heads) {
    snprintf(flags[n], sizeof flags[n], "%s restricted", r->flags);
    t.flags = flags[n];
    out[n++] = t; /* keeps GQA, one beta */
    t.kv_heads = t.heads;
  }
  twin_flags(r->flags, t.heads > 1, flags[n], sizeof flags[n]);
  t.flags = flags[n];
  out[n++] = t;
  return n;
}

/* Version 2 is version 1 with its rows appended: a tcId of v1 names the
 * same inputs in v2 (its verdict may differ: S24 alternatives). */
int gen_catalogue(vs_op op, int schema, const gen_spec **specs) {
  static gen_spec *built[3][VS_OP_COUNT];
  static int counts[3][VS_OP_COUNT];
  static char flags[VS_OP_COUNT][64][2][128];
  const int v = schema >= 2 ? 2 : 1;
  if (!built[v][op]) {
    const table *t1 = &tables_v1[op], *t2 = v >= 2 ? &tables_v2[op] : NULL;
    int n = 17 + t1->n + (t2 ? t2->n : 0);
    const int base = n;
    gen_spec *s = calloc((size_t)(n + 3 * 17 + 2 * t1->n), sizeof *s);
    if (!s)
      abort();
    for (int i = 0; i < 17; i++)
      s[i] = tile_spec(op, i, v);
    memcpy(s + 17, t1->rows, sizeof *s * (size_t)t1->n);
    if (t2 && t2->n)
      memcpy(s + 17 + t1->n, t2->rows, sizeof *s * (size_t)t2->n);
    for (size_t f = 0; v >= 2 && f < sizeof fixes_v2 / sizeof fixes_v2[0]; f++)
      if (fixes_v2[f].op == op)
        s[fixes_v2[f].tc - 1] = fixes_v2[f].row;
    /* restricted twins: two square tile-edge blocks, one per row, a third block */
    for (int block = 0; v >= 2 && has_dk_dv(op) && block < 2; block++)
      for (int i = 0; i < 17; i++)
        s[n++] = square_tile_twin(op, block, i);
    for (int r = 17; v >= 2 && r < base - (t2 ? t2->n : 0) && r - 17 < 64; r++)
      n += row_twins(&s[r], &s[n], flags[op][r - 17]);
    for (int i = 0; v >= 2 && has_dk_dv(op) && i < 17; i++)
      s[n++] = square_tile_twin(op, 2, i);
    built[v][op] = s;
    counts[v][op] = n;
  }
  *specs = built[v][op];
  return counts[v][op];
}

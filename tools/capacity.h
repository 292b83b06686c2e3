/*
 * tools/capacity.h - the experiments of infini-capacity (docs/capacity.md):
 * associations written into one compressive memory through the public API
 * (infini.h) and retrieved with their keys. The command-line tool and
 * tests/test_capacity.c share this code, so what the tests prove exact is
 * what the sweeps measure.
 */
#ifndef INFINI_TOOLS_CAPACITY_H
#define INFINI_TOOLS_CAPACITY_H

#include <stddef.h>
#include <stdint.h>
#include "infini.h"

/** How keys (inputs of sigma) are drawn; docs/capacity.md, "Keys". */
typedef enum cap_keys {
  CAP_KEYS_GAUSS,  /**< x = scale * g - shift, g iid N(0, 1) */
  CAP_KEYS_CORR,   /**< g = sqrt(rho) u + sqrt(1 - rho) e, u shared */
  CAP_KEYS_SPARSE, /**< as gauss, with a shift that puts most x below 0 */
  CAP_KEYS_ONEHOT  /**< x = 0 at coordinate (i mod d_key), -shift elsewhere */
} cap_keys;

/** The key distribution of an experiment. */
typedef struct cap_keyspec {
  cap_keys kind;
  double rho;   /**< correlation of two keys' inputs (corr), in [0, 1] */
  double shift; /**< subtracted from every input (onehot: the off level) */
  double scale; /**< standard deviation of g before the shift */
} cap_keyspec;

/** The memory under test. */
typedef struct cap_memory {
  infini_context *ctx;
  ptrdiff_t d_key, d_value;
  infini_update_rule rule;
  float eps;
} cap_memory;

/** Means over the probed items of one trial. */
typedef struct cap_metrics {
  double err;  /**< ||a - v|| / ||v|| */
  double cos;  /**< cos(a, v) */
  double top1; /**< fraction whose a is closest (cosine) to its own v */
} cap_metrics;

/** One trial of the capacity experiment. */
typedef struct cap_capacity_result {
  cap_metrics memory; /**< the memory (M, z) written by the rule */
  cap_metrics lsq;    /**< the least-squares linear map over sigma(K) */
  double overlap;     /**< r: mean w_ij / mean w_ii, w_ij = sigma(k_i).sigma(k_j) */
  double overlap_rms; /**< r_rms: sqrt(mean w_ij^2 / mean w_ii^2), i != j */
} cap_capacity_result;

/** The seed of one trial: a splitmix64 mix of the user's seed and the
 *  point's coordinates, so a point's numbers do not depend on the others
 *  swept beside it or on the backend. */
uint64_t cap_trial_seed(uint64_t seed, uint64_t trial, uint64_t tag);

/**
 * n associations (keys from spec, values iid N(0, 1)) written in
 * `segments` segments of near-equal length (segments = n: token by token),
 * each retrieved with its own key; top-1 among the n stored values.
 */
infini_status cap_capacity_trial(const cap_memory *mem,
                                 const cap_keyspec *spec, ptrdiff_t n,
                                 ptrdiff_t segments, uint64_t seed,
                                 cap_capacity_result *out);

/**
 * Forgetting: segment 0 writes `items` associations, then `later`
 * segments of `seg_len` distractors; curve[s] (s = 0..later) holds the
 * metrics of segment 0's items retrieved after s further segments (top-1
 * among every value written so far). curve has later + 1 entries.
 */
infini_status cap_forgetting_trial(const cap_memory *mem,
                                   const cap_keyspec *spec, ptrdiff_t items,
                                   ptrdiff_t seg_len, ptrdiff_t later,
                                   uint64_t seed, cap_metrics *curve);

/**
 * Needles: a stream of `length` segments of `seg_len` associations; the
 * first `needles` slots of segment round(depth * (length - 1)) are the
 * needles. After the whole stream each needle is retrieved with its key;
 * recall@1 among every value of the stream.
 */
infini_status cap_needles_trial(const cap_memory *mem,
                                const cap_keyspec *spec, ptrdiff_t needles,
                                double depth, ptrdiff_t length,
                                ptrdiff_t seg_len, uint64_t seed,
                                cap_metrics *out);

/** The linear rule's cosine predicted from the overlap (docs/capacity.md,
 *  "Theory"): 1 / sqrt(1 + (n - 1) r_rms^2). */
double cap_theory_cos(ptrdiff_t n, double overlap_rms);

/** The linear rule's top-1 predicted from the overlaps with independent
 *  Gaussian noise per candidate (docs/capacity.md, "Theory"). */
double cap_theory_top1(ptrdiff_t n, ptrdiff_t d_value, double overlap,
                       double overlap_rms);

/** The first s (linearly interpolated between grid points) at which
 *  curve[s] falls to half of curve[0]; -1 when it never does. */
double cap_half_life(const double *curve, ptrdiff_t count);

#endif

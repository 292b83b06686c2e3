/*
 * vectors/prng.h - the portable random inputs of the golden vectors
 * (docs/vectors.md, "Inputs"): splitmix64 and exact float constructions,
 * specified so that any language with 64-bit integers reproduces them bit
 * for bit.
 */
#ifndef INFINI_VECTORS_PRNG_H
#define INFINI_VECTORS_PRNG_H

#include <stdint.h>

typedef struct vs_rng {
  uint64_t state;
} vs_rng;

/** splitmix64 (Steele, Lea, Flood 2014). */
static inline uint64_t vs_next(vs_rng *r) {
  uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/** Uniform in [-1, 1): m * 2^-23 with m = (x >> 40) - 2^23, an integer in
 *  [-2^23, 2^23), so the float is exact. */
static inline float vs_uniform(vs_rng *r) {
  int32_t m = (int32_t)(vs_next(r) >> 40) - 8388608;
  return (float)m * 0x1p-23f;
}

/** Normal-ish (Irwin-Hall of 4): n * 2^-21 with n the sum of four
 *  integers (x_i >> 42) - 2^21, each in [-2^21, 2^21); n is in
 *  [-2^23, 2^23), so the float is exact. Range [-4, 4), mean 0, standard
 *  deviation 2/sqrt(3) = 1.1547. */
static inline float vs_normalish(vs_rng *r) {
  int32_t n = 0;
  for (int i = 0; i < 4; i++)
    n += (int32_t)(vs_next(r) >> 42) - 2097152;
  return (float)n * 0x1p-21f;
}

#endif

/* simd/avx512/rope_avx512.c - RoPE (M5) for the `avx512` backend: the ISA's
 * vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/rope.inc"

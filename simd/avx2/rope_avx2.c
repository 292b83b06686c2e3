/* simd/avx2/rope_avx2.c - RoPE (M5) for the `avx2` backend: the ISA's
 * vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/rope.inc"

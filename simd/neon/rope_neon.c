/* simd/neon/rope_neon.c - RoPE (M5) for the `neon` backend: the ISA's
 * vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/rope.inc"

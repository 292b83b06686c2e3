/* simd/neon/mix_neon.c - gated mixing (10) for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/mix.inc"

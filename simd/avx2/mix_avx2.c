/* simd/avx2/mix_avx2.c - gated mixing (10) for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/mix.inc"

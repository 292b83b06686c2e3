/* simd/avx512/mix_avx512.c - gated mixing (10) for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/mix.inc"

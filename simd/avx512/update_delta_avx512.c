/* simd/avx512/update_delta_avx512.c - the delta memory update (9) for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/update_delta.inc"

/* simd/avx2/update_delta_avx2.c - the delta memory update (9) for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/update_delta.inc"

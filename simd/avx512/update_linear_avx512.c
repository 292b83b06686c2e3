/* simd/avx512/update_linear_avx512.c - the linear memory update (8) for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/update_linear.inc"

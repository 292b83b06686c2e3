/* simd/avx2/update_linear_avx2.c - the linear memory update (8) for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/update_linear.inc"

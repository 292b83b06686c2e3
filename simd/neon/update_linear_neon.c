/* simd/neon/update_linear_neon.c - the linear memory update (8) for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/update_linear.inc"

/* simd/neon/linear_neon.c - the dense layers y = x W^T (M3), packed weights, for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/linear.inc"

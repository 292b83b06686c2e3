/* simd/avx2/linear_avx2.c - the dense layers y = x W^T (M3), packed weights, for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/linear.inc"

/* simd/avx512/linear_avx512.c - the dense layers y = x W^T (M3), packed weights, for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/linear.inc"

/* simd/avx512/feature_map_avx512.c - the feature map sigma = ELU + 1 (F) for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/feature_map.inc"

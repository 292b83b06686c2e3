/* simd/avx2/feature_map_avx2.c - the feature map sigma = ELU + 1 (F) for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/feature_map.inc"

/* simd/neon/feature_map_neon.c - the feature map sigma = ELU + 1 (F) for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/feature_map.inc"

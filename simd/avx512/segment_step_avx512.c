/* simd/avx512/segment_step_avx512.c - the fused segment step for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/segment_step.inc"

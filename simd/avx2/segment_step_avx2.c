/* simd/avx2/segment_step_avx2.c - the fused segment step for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/segment_step.inc"

/* simd/neon/segment_step_neon.c - the fused segment step for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/segment_step.inc"

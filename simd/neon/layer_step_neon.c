/* simd/neon/layer_step_neon.c - the layer step for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/layer_step.inc"

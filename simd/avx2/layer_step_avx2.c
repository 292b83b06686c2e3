/* simd/avx2/layer_step_avx2.c - the layer step for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/layer_step.inc"

/* simd/avx512/layer_step_avx512.c - the layer step for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/layer_step.inc"

/* simd/neon/update_delta_neon.c - the delta memory update (9) for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/update_delta.inc"

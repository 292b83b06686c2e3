/* simd/neon/retrieve_neon.c - memory retrieval (7) for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/retrieve.inc"

/* simd/neon/backend_neon.c - the backend table infini_backend_neon for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/backend.inc"

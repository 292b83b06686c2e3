/* simd/neon/rmsnorm_neon.c - the model's RMSNorm (M2) for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/rmsnorm.inc"

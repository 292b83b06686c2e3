/* simd/avx2/rmsnorm_avx2.c - the model's RMSNorm (M2) for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/rmsnorm.inc"

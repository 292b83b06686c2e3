/* simd/avx512/rmsnorm_avx512.c - the model's RMSNorm (M2) for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/rmsnorm.inc"

/* simd/avx512/backend_avx512.c - the backend table infini_backend_avx512 for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/backend.inc"

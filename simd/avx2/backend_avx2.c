/* simd/avx2/backend_avx2.c - the backend table infini_backend_avx2 for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/backend.inc"

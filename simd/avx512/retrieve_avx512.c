/* simd/avx512/retrieve_avx512.c - memory retrieval (7) for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/retrieve.inc"

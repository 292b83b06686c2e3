/* simd/avx2/retrieve_avx2.c - memory retrieval (7) for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/retrieve.inc"

/* simd/avx2/local_attention_avx2.c - causal local attention (6), flash-style tiles for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/local_attention.inc"

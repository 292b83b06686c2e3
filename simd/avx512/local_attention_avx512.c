/* simd/avx512/local_attention_avx512.c - causal local attention (6), flash-style tiles for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/local_attention.inc"

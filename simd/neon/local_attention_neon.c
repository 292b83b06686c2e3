/* simd/neon/local_attention_neon.c - causal local attention (6), flash-style tiles for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/local_attention.inc"

/* simd/avx512/swiglu_avx512.c - the SwiGLU gate silu(g) up (M10) for the `avx512` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx512.h"
#include "simd/template/swiglu.inc"

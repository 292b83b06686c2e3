/* simd/avx2/swiglu_avx2.c - the SwiGLU gate silu(g) up (M10) for the `avx2` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/avx2.h"
#include "simd/template/swiglu.inc"

/* simd/neon/swiglu_neon.c - the SwiGLU gate silu(g) up (M10) for the `neon` backend:
 * the ISA's vector layer over the one template. */
#include "simd/isa/neon.h"
#include "simd/template/swiglu.inc"

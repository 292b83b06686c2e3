/* bench/tile_avx2.c - the avx2 micro-kernel's ceiling (bench/tile_peak.inc),
 * compiled with the avx2 flags; nothing where they are missing. */
#include "config.h"
#include "bench/baseline.h"
#if defined(__AVX2__) && defined(__FMA__)
#include "simd/isa/avx2.h"
#include "simd/template/microkernel.h"
#define TILE_FN tile_avx2
#include "bench/tile_peak.inc"
#else
double tile_avx2(double seconds, int dense) {
  (void)seconds, (void)dense;
  return 0;
}
#endif

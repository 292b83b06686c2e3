/* bench/tile_avx512.c - the avx512 micro-kernel's ceiling (bench/tile_peak.inc),
 * compiled with the avx512 flags; nothing where they are missing. */
#include "config.h"
#include "bench/baseline.h"
#if defined(__AVX512F__)
#include "simd/isa/avx512.h"
#include "simd/template/microkernel.h"
#define TILE_FN tile_avx512
#include "bench/tile_peak.inc"
#else
double tile_avx512(double seconds, int dense) {
  (void)seconds, (void)dense;
  return 0;
}
#endif

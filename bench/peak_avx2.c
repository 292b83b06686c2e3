/* bench/peak_avx2.c - the AVX2 FMA-chain peak (compiled with -mavx2 -mfma),
 * from the one kernel in bench/peak.inc. */
#include "config.h"
#include "bench/baseline.h"
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include "src/cpu.h"
#define PEAK_FN peak_avx2
#define PEAK_CPU (CPU_AVX2 | CPU_FMA)
#define PEAK_LANES 8
#define PEAK_VEC __m256
#define PEAK_SET1 _mm256_set1_ps
#define PEAK_FMA _mm256_fmadd_ps
#define PEAK_LANE0(x) _mm256_cvtss_f32(x)
#include "bench/peak.inc"
#else
double peak_avx2(double seconds) { (void)seconds; return 0; }
#endif

/* bench/peak_avx2.c - the AVX2 FMA-chain peak (compiled with -mavx2 -mfma):
 * 12 independent accumulator chains of 8-float FMAs. */
#include "config.h"
#include <time.h>
#include "bench/baseline.h"
#include "src/cpu.h"
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* own CPU time: see infini_bench.c */
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
double peak_avx2(double seconds) {
  if (!cpu_has(CPU_AVX2 | CPU_FMA))
    return 0;
  __m256 acc[12];
  for (int i = 0; i < 12; i++)
    acc[i] = _mm256_set1_ps((float)i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  long iters = 0;
  double t0 = now(), t;
  do {
    for (int r = 0; r < 100000; r++)
#pragma GCC unroll 12
      for (int i = 0; i < 12; i++)
        acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    iters += 100000;
    t = now() - t0;
  } while (t < seconds);
  float buf[8], sink = 0;
  for (int i = 0; i < 12; i++) {
    _mm256_storeu_ps(buf, acc[i]);
    sink += buf[0];
  }
  volatile float vs = sink;
  (void)vs;
  return (double)iters * 12 * 8 * 2 / t * 1e-9;
}
#else
double peak_avx2(double seconds) { (void)seconds; return 0; }
#endif

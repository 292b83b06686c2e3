/*
 * src/cpu.c - CPU feature detection (see cpu.h).
 *
 * x86: CPUID leaf 1 (FMA, OSXSAVE, AVX) and leaf 7 (AVX2, AVX-512F), and
 * XGETBV(0) for the state the OS saves on context switches: XMM|YMM
 * (bits 1, 2) for AVX2/FMA, plus opmask|ZMM_Hi256|Hi16_ZMM (bits 5-7) for
 * AVX-512. Only what CPUID/XGETBV report is trusted, so under valgrind
 * (which reports no AVX-512) dispatch falls back to avx2.
 * AArch64: getauxval(AT_HWCAP) & HWCAP_ASIMD.
 */
#include "config.h"
#include <pthread.h>
#include "src/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
  unsigned eax, edx;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" /* xgetbv */
                   : "=a"(eax), "=d"(edx)
                   : "c"(0));
  return ((unsigned long long)edx << 32) | eax;
}

static unsigned detect(void) {
  unsigned a, b, c, d, f = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx)
    return 0;
  const unsigned long long xcr0 = xgetbv0();
  const int ymm_ok = (xcr0 & 0x6) == 0x6;
  const int zmm_ok = (xcr0 & 0xe6) == 0xe6;
  if (!ymm_ok)
    return 0;
  if (fma)
    f |= CPU_FMA;
  if (__get_cpuid_max(0, NULL) >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    if ((b >> 5) & 1)
      f |= CPU_AVX2;
    if (((b >> 16) & 1) && zmm_ok)
      f |= CPU_AVX512F;
  }
  return f;
}
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
static unsigned detect(void) {
  return (getauxval(AT_HWCAP) & HWCAP_ASIMD) ? CPU_ASIMD : 0;
}
#elif defined(__aarch64__)
static unsigned detect(void) { return CPU_ASIMD; } /* mandatory in AArch64 */
#else
static unsigned detect(void) { return 0; }
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned features;

static void init(void) { features = detect(); }

unsigned cpu_features(void) {
  pthread_once(&once, init);
  return features;
}

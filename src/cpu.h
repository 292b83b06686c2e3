/*
 * src/cpu.h - run-time CPU feature detection for the SIMD backends'
 * availability(). Detected once (pthread_once), thread-safe.
 */
#ifndef INFINI_SRC_CPU_H
#define INFINI_SRC_CPU_H

enum {
  CPU_AVX2 = 1u << 0,    /* x86: AVX2, with the OS saving YMM state */
  CPU_FMA = 1u << 1,     /* x86: FMA3, with the OS saving YMM state */
  CPU_AVX512F = 1u << 2, /* x86: AVX-512F, with the OS saving ZMM state */
  CPU_ASIMD = 1u << 3    /* AArch64: Advanced SIMD (AT_HWCAP) */
};

/** The CPU_* features this CPU and OS support. */
unsigned cpu_features(void);

/** Nonzero when every feature in `mask` is supported. */
static inline int cpu_has(unsigned mask) {
  return (cpu_features() & mask) == mask;
}

#endif

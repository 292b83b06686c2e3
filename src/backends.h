/*
 * src/backends.h - THE list of built-in backends. The registry (and so
 * dispatch, infini-conform, the tests and the benchmark, which all read the
 * registry) is generated from this one list.
 *
 * Order is preference, lowest first: dispatch picks the last backend that
 * runs natively on this CPU. Each SIMD backend is compiled in only when
 * configure enabled it (HAVE_BACKEND_<NAME> in config.h).
 */
#ifndef INFINI_SRC_BACKENDS_H
#define INFINI_SRC_BACKENDS_H

#include "config.h"
#include "infini.h"

/* X(name): the backend table is infini_backend_<name>. */
#if HAVE_BACKEND_NEON
#define INFINI_BACKEND_NEON_(X) X(neon)
#else
#define INFINI_BACKEND_NEON_(X)
#endif
#if HAVE_BACKEND_AVX2
#define INFINI_BACKEND_AVX2_(X) X(avx2)
#else
#define INFINI_BACKEND_AVX2_(X)
#endif
#if HAVE_BACKEND_AVX512
#define INFINI_BACKEND_AVX512_(X) X(avx512)
#else
#define INFINI_BACKEND_AVX512_(X)
#endif

#define INFINI_BUILTIN_BACKENDS(X) \
  X(ref)                           \
  INFINI_BACKEND_NEON_(X)          \
  INFINI_BACKEND_AVX2_(X)          \
  INFINI_BACKEND_AVX512_(X)

/* An entry added after the first version-1 layout (see
 * INFINI_BACKEND_SIZE_V1), or NULL when the table (an older plugin's) ends
 * before it: its memory is then not ours to read. */
#define INFINI_BACKEND_ENTRY(be, field)                                       \
  ((be)->struct_size >= offsetof(infini_backend, field) + sizeof((be)->field) \
       ? (be)->field                                                          \
       : NULL)

#define INFINI_DECLARE_BACKEND(name) extern const infini_backend infini_backend_##name;
INFINI_BUILTIN_BACKENDS(INFINI_DECLARE_BACKEND)
#undef INFINI_DECLARE_BACKEND

#endif

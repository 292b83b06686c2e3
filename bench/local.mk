## infini-bench: the benchmark (a program, never a timed test). See
## docs/performance.md. The baseline (OpenBLAS + Sleef + loops) and the
## AVX-512 peak and micro-kernel ceiling are compiled with the AVX-512
## flags, the AVX2 ones with the AVX2 flags (empty off x86: they then report nothing).
## A conformance-only build has no benchmark (no test runs it).
if !CONFORMANCE_ONLY
noinst_PROGRAMS += bench/infini-bench
noinst_LTLIBRARIES += bench/libbench_avx512.la bench/libbench_avx2.la
endif
bench_libbench_avx512_la_SOURCES = bench/baseline.c bench/baseline.h bench/peak.inc \
	bench/tile_avx512.c bench/tile_peak.inc
bench_libbench_avx512_la_CFLAGS = $(AM_CFLAGS) $(CFLAGS_AVX512)
bench_libbench_avx2_la_SOURCES = bench/peak_avx2.c bench/peak.inc bench/tile_avx2.c
bench_libbench_avx2_la_CFLAGS = $(AM_CFLAGS) $(CFLAGS_AVX2)
bench_infini_bench_SOURCES = bench/infini_bench.c src/cpu.c src/cpu.h \
	src/fileio.c src/fileio.h
bench_infini_bench_LDADD = tools/libinfini_cli.la bench/libbench_avx512.la bench/libbench_avx2.la \
	libinfini.la $(OPENBLAS_LIBS) $(SLEEF_LIBS) -lm
bench_infini_bench_CFLAGS = $(AM_CFLAGS)

## The streaming benchmark (issue 5): a script over tools/infini-run and
## tools/infini-weights; docs/performance.md, "Streaming".
EXTRA_DIST += bench/stream-bench.sh

## The model benchmark (issue 12): infini-bench --dense, then infini-run per
## backend, prefill and decode, beside the PyTorch model of
## conformance/examples in the same run; docs/performance.md, "The model".
EXTRA_DIST += bench/model-bench.sh bench/model_torch_bench.py

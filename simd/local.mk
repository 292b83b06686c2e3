## SIMD backends: one libtool convenience library per ISA, each compiled
## with its own flags (configure: CFLAGS_AVX2, CFLAGS_AVX512, CFLAGS_NEON;
## empty when the backend is built through SIMDe emulation), merged into
## libinfini. Every operator is a template in simd/template/ over the
## vector layer of simd/isa/<isa>.h; simd/<isa>/<op>_<isa>.c instantiates it.
simd_templates = \
	simd/isa/common.h simd/template/simd.h simd/template/microkernel.h \
	simd/template/mk_tile.inc \
	simd/template/feature_map.inc simd/template/retrieve.inc \
	simd/template/update_linear.inc simd/template/update_delta.inc \
	simd/template/mix.inc simd/template/local_attention.inc \
	simd/template/segment_step.inc simd/template/layer_step.inc \
	simd/template/linear.inc simd/template/rmsnorm.inc \
	simd/template/swiglu.inc simd/template/rope.inc \
	simd/template/backend.inc
simd_ops = feature_map retrieve update_linear update_delta mix \
	local_attention segment_step layer_step linear rmsnorm swiglu rope \
	backend
EXTRA_DIST += $(simd_templates)

if BACKEND_AVX2
noinst_LTLIBRARIES += simd/libinfini_avx2.la
simd_libinfini_avx2_la_SOURCES = simd/isa/avx2.h \
	simd/avx2/feature_map_avx2.c simd/avx2/retrieve_avx2.c \
	simd/avx2/update_linear_avx2.c simd/avx2/update_delta_avx2.c \
	simd/avx2/mix_avx2.c simd/avx2/local_attention_avx2.c \
	simd/avx2/segment_step_avx2.c simd/avx2/layer_step_avx2.c \
	simd/avx2/linear_avx2.c simd/avx2/rmsnorm_avx2.c \
	simd/avx2/swiglu_avx2.c simd/avx2/rope_avx2.c \
	simd/avx2/backend_avx2.c
simd_libinfini_avx2_la_CFLAGS = $(AM_CFLAGS) $(CFLAGS_AVX2)
src_libinfini_core_la_LIBADD += simd/libinfini_avx2.la
endif

if BACKEND_AVX512
noinst_LTLIBRARIES += simd/libinfini_avx512.la
simd_libinfini_avx512_la_SOURCES = simd/isa/avx512.h \
	simd/avx512/feature_map_avx512.c simd/avx512/retrieve_avx512.c \
	simd/avx512/update_linear_avx512.c simd/avx512/update_delta_avx512.c \
	simd/avx512/mix_avx512.c simd/avx512/local_attention_avx512.c \
	simd/avx512/segment_step_avx512.c simd/avx512/layer_step_avx512.c \
	simd/avx512/linear_avx512.c simd/avx512/rmsnorm_avx512.c \
	simd/avx512/swiglu_avx512.c simd/avx512/rope_avx512.c \
	simd/avx512/backend_avx512.c
simd_libinfini_avx512_la_CFLAGS = $(AM_CFLAGS) $(CFLAGS_AVX512)
src_libinfini_core_la_LIBADD += simd/libinfini_avx512.la
endif

if BACKEND_NEON
noinst_LTLIBRARIES += simd/libinfini_neon.la
simd_libinfini_neon_la_SOURCES = simd/isa/neon.h \
	simd/neon/feature_map_neon.c simd/neon/retrieve_neon.c \
	simd/neon/update_linear_neon.c simd/neon/update_delta_neon.c \
	simd/neon/mix_neon.c simd/neon/local_attention_neon.c \
	simd/neon/segment_step_neon.c simd/neon/layer_step_neon.c \
	simd/neon/linear_neon.c simd/neon/rmsnorm_neon.c \
	simd/neon/swiglu_neon.c simd/neon/rope_neon.c \
	simd/neon/backend_neon.c
simd_libinfini_neon_la_CFLAGS = $(AM_CFLAGS) $(CFLAGS_NEON)
src_libinfini_core_la_LIBADD += simd/libinfini_neon.la
endif

src_libinfini_core_la_LIBADD += $(SLEEF_LIBS)

## Every registered backend against ref, around every tile edge (TAP).
check_PROGRAMS += simd/tests/test_simd
simd_tests_test_simd_SOURCES = simd/tests/test_simd.c
simd_tests_test_simd_LDADD = libinfini.la -lm
TESTS += simd/tests/test_simd

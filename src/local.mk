## The library core: status codes, validation, registry, context, state,
## the public entry points that validate then dispatch to a backend, and
## the model. It is built as a convenience library, src/libinfini_core.la,
## holding every object of libinfini: libinfini.la wraps it with the export
## list, and tests that reach internal functions (the model's readers,
## model_alloc) link it directly, whether or not a static libinfini is
## built (--disable-static).
noinst_LTLIBRARIES += src/libinfini_core.la
src_libinfini_core_la_SOURCES = \
	src/status.c \
	src/validate.c src/validate.h \
	src/registry.c src/backends.h \
	src/context.c src/context.h \
	src/state.c src/state.h \
	src/operators.c \
	src/compose.c src/compose.h \
	src/layer.c \
	src/cpu.c src/cpu.h \
	src/fileio.c src/fileio.h \
	src/model.c src/model.h \
	src/pool.c src/pool.h \
	src/model_weights.c \
	src/safetensors.c src/safetensors.h \
	src/checkpoint.c src/checkpoint.h
## jansson parses safetensors headers; nettle's SHA-256 is the model
## digest and the checkpoint checksum.
src_libinfini_core_la_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS)
src_libinfini_core_la_LIBADD = ref/libinfini_ref_f32.la $(JANSSON_LIBS) \
	$(NETTLE_LIBS)
libinfini_la_SOURCES =
libinfini_la_LIBADD = src/libinfini_core.la
## Export the public API (include/infini.h) and the built-in backend tables
## (infini_backend_<name>, so each ISA's table can be reached directly, as
## SLEEF does), but not the reference's internal infini_ref_*_f32 kernels.
libinfini_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(INFINI_LT_VERSION) \
	-export-symbols-regex '^infini_([^r]|r[^e]|re[^f]|ref[^_])'

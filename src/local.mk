## The library core: status codes, validation, registry, context, state,
## and the public entry points that validate then dispatch to a backend.
libinfini_la_SOURCES = \
	src/status.c \
	src/validate.c src/validate.h \
	src/registry.c \
	src/context.c src/context.h \
	src/state.c src/state.h \
	src/operators.c \
	src/compose.c src/compose.h \
	src/layer.c \
	src/cpu.c src/cpu.h
libinfini_la_LIBADD = ref/libinfini_ref_f32.la
libinfini_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(INFINI_LT_VERSION) \
	-export-symbols-regex '^infini_'

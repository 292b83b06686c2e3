## Fuzz harnesses (fuzz/README.md). scripts/fuzz.sh builds each with
## libFuzzer and searches for new inputs; here, in make check, each
## harness replays its seed corpus fuzz/corpus/<target>/ through
## fuzz/replay.c (no libFuzzer needed), so every input found stays a
## regression test on every compiler and platform (TAP, one line a file).

fuzz_replay_sources = fuzz/replay.c fuzz/fuzz.h tests/tap.h

check_PROGRAMS += fuzz/replay-npy fuzz/replay-manifest
fuzz_replay_npy_SOURCES = fuzz/fuzz_npy.c $(fuzz_replay_sources)
fuzz_replay_npy_CPPFLAGS = $(vectors_cppflags) \
	-DFUZZ_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/npy"'
fuzz_replay_npy_LDADD = vectors/libinfini_vectors.la -lm
fuzz_replay_manifest_SOURCES = fuzz/fuzz_manifest.c $(fuzz_replay_sources)
fuzz_replay_manifest_CPPFLAGS = $(vectors_cppflags) \
	-DFUZZ_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/manifest"'
fuzz_replay_manifest_LDADD = vectors/libinfini_vectors.la -lm

## The model readers are internal symbols of libinfini (the shared library
## exports only infini_*): these two link its objects, src/libinfini_core.la,
## as tests/model.mk's tests do. nettle: the checkpoint harness reseals its inputs' SHA-256.
check_PROGRAMS += fuzz/replay-safetensors fuzz/replay-checkpoint
fuzz_replay_safetensors_SOURCES = fuzz/fuzz_safetensors.c $(fuzz_replay_sources)
fuzz_replay_safetensors_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/safetensors"'
fuzz_replay_safetensors_LDADD = src/libinfini_core.la -lm
fuzz_replay_checkpoint_SOURCES = fuzz/fuzz_checkpoint.c $(fuzz_replay_sources)
fuzz_replay_checkpoint_CPPFLAGS = $(AM_CPPFLAGS) $(NETTLE_CFLAGS) \
	-DFUZZ_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/checkpoint"'
fuzz_replay_checkpoint_LDADD = src/libinfini_core.la $(NETTLE_LIBS) -lm

TESTS += fuzz/replay-npy fuzz/replay-manifest fuzz/replay-safetensors \
	fuzz/replay-checkpoint

EXTRA_DIST += fuzz/README.md fuzz/corpus scripts/fuzz.sh

## The whole weights loader (infini_model_load on a file: the one reader,
## header first, the config against the tensors present); issue 19.
check_PROGRAMS += fuzz/replay-model
fuzz_replay_model_SOURCES = fuzz/fuzz_model.c $(fuzz_replay_sources)
fuzz_replay_model_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/model"'
fuzz_replay_model_LDADD = src/libinfini_core.la -lm
TESTS += fuzz/replay-model

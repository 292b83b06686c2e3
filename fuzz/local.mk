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
TESTS += fuzz/replay-npy fuzz/replay-manifest

EXTRA_DIST += fuzz/README.md fuzz/corpus scripts/fuzz.sh

## Test programs: each prints TAP, one line per case.
## Shared helpers (random fill, comparisons, guard-padded buffers) live in
## tests/testutil.{h,c}; every test links libinfini (the `ref` backend and
## the public API) and the double oracle ref/libinfini_oracle.la.
test_common_sources = tests/tap.h tests/testutil.h tests/testutil.c
## The tests build backends from the float reference's kernels, which
## libinfini does not export: link its convenience library directly.
test_common_ldadd = libinfini.la ref/libinfini_ref_f32.la ref/libinfini_oracle.la -lm

check_PROGRAMS += tests/test_hand
tests_test_hand_SOURCES = tests/test_hand.c $(test_common_sources)
tests_test_hand_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_SRCDIR='"$(abs_top_srcdir)"'
tests_test_hand_LDADD = $(test_common_ldadd)
TESTS += tests/test_hand

check_PROGRAMS += tests/test_identities
tests_test_identities_SOURCES = tests/test_identities.c $(test_common_sources)
tests_test_identities_LDADD = $(test_common_ldadd)
TESTS += tests/test_identities

## test_badinput loads tests/plugin_test.c as a plugin: a libtool module
## (-rpath makes it a shared object, in tests/.libs/) built only because
## test_badinput depends on it. It is an EXTRA_ library, not a
## check_LTLIBRARIES one, because conformance/mutants/local.mk (included
## after this fragment) sets check_LTLIBRARIES with '='.
EXTRA_LTLIBRARIES = tests/plugin_test.la
CLEANFILES += tests/plugin_test.la
tests_plugin_test_la_SOURCES = tests/plugin_test.c
tests_plugin_test_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-rpath $(abs_builddir)/tests
tests_plugin_test_la_LIBADD = -lm

check_PROGRAMS += tests/test_badinput
tests_test_badinput_SOURCES = tests/test_badinput.c $(test_common_sources)
tests_test_badinput_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTEST_PLUGIN_DIR='"$(abs_top_builddir)/tests"'
tests_test_badinput_LDADD = $(test_common_ldadd)
EXTRA_tests_test_badinput_DEPENDENCIES = tests/plugin_test.la
TESTS += tests/test_badinput

## The one writer and the one reader (src/fileio.c, carried by the vector
## library) against planted links, FIFOs, devices and sparse files.
check_PROGRAMS += tests/test_fileio
tests_test_fileio_SOURCES = tests/test_fileio.c tests/tap.h
tests_test_fileio_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
tests_test_fileio_LDADD = vectors/libinfini_vectors.la -lm
TESTS += tests/test_fileio

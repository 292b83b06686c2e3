## Golden vectors: format library, generator, shipped set.
##
## - libinfini_vectors.la: the C model of a vector set (vecset.c: manifest
##   load/save with jansson; npy.c: .npy read/write; sha256.c: nettle) and
##   the tolerance model (conformance/tolerance.c). Shared by the generator
##   infini-vectors, the runner infini-conform and the tests.
## - infini-vectors: rebuilds the shipped set (vectors/v1) bit for bit and
##   writes new sets. Its bounds code and the oracle are compiled with
##   -ffp-contract=off so no platform fuses a*b+c differently.
## - tests: .npy reader, manifest loader, the oracle's exp, the ref backend
##   on every shipped vector, regeneration byte for byte, and the JSON
##   Schema check of every shipped manifest.

vectors_cppflags = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS)
vectors_cflags = $(AM_CFLAGS) $(FP_CONTRACT_OFF_CFLAGS)

noinst_LTLIBRARIES += vectors/libinfini_vectors.la
vectors_libinfini_vectors_la_SOURCES = \
	vectors/vecset.c vectors/vecset.h \
	vectors/npy.c vectors/npy.h vectors/fail.h \
	vectors/sha256.c vectors/sha256.h \
	vectors/prng.h \
	conformance/tolerance.c conformance/tolerance.h \
	src/fileio.c src/fileio.h
vectors_libinfini_vectors_la_CPPFLAGS = $(vectors_cppflags)
vectors_libinfini_vectors_la_CFLAGS = $(vectors_cflags)
vectors_libinfini_vectors_la_LIBADD = $(JANSSON_LIBS) $(NETTLE_LIBS)

bin_PROGRAMS += vectors/infini-vectors
vectors_infini_vectors_SOURCES = \
	vectors/gen.c vectors/gen.h \
	vectors/gen_catalogue.c \
	vectors/bounds.c vectors/bounds.h
vectors_infini_vectors_CPPFLAGS = $(vectors_cppflags)
vectors_infini_vectors_CFLAGS = $(vectors_cflags)
vectors_infini_vectors_LDADD = tools/libinfini_cli.la vectors/libinfini_vectors.la \
	ref/libinfini_oracle.la

check_PROGRAMS += vectors/test-npy vectors/test-manifest \
	vectors/test-exp-oracle vectors/test-ref-vectors vectors/test-flags
vectors_test_npy_SOURCES = vectors/test_npy.c tests/tap.h
vectors_test_npy_CPPFLAGS = $(vectors_cppflags)
vectors_test_npy_LDADD = vectors/libinfini_vectors.la
vectors_test_manifest_SOURCES = vectors/test_manifest.c tests/tap.h
vectors_test_manifest_CPPFLAGS = $(vectors_cppflags)
vectors_test_manifest_LDADD = vectors/libinfini_vectors.la
vectors_test_flags_SOURCES = vectors/test_flags.c tests/tap.h
vectors_test_flags_CPPFLAGS = $(vectors_cppflags)
vectors_test_flags_LDADD = vectors/libinfini_vectors.la
vectors_test_exp_oracle_SOURCES = vectors/test_exp_oracle.c tests/tap.h
vectors_test_exp_oracle_LDADD = ref/libinfini_oracle.la
vectors_test_ref_vectors_SOURCES = vectors/test_ref_vectors.c tests/tap.h
vectors_test_ref_vectors_CPPFLAGS = $(vectors_cppflags)
vectors_test_ref_vectors_LDADD = vectors/libinfini_vectors.la libinfini.la

TESTS += vectors/test-npy vectors/test-manifest vectors/test-exp-oracle \
	vectors/test-ref-vectors vectors/test-flags vectors/test-regen.sh \
	vectors/check-manifests.sh

EXTRA_DIST += vectors/v1 vectors/v2 vectors/schema vectors/validate_manifest.py \
	vectors/test-regen.sh vectors/check-manifests.sh

## The shipped set and its schema are installed under
## $(pkgdatadir)/vectors (thousands of files: copied as directories, so
## install/uninstall hooks instead of a file list). The hooks only add
## prerequisites to install-data-local / uninstall-local, so other
## fragments may hook them too.
install-data-local: install-vectors-data
uninstall-local: uninstall-vectors-data
install-vectors-data:
	$(MKDIR_P) '$(DESTDIR)$(pkgdatadir)/vectors'
	cp -R '$(srcdir)/vectors/v1' '$(srcdir)/vectors/v2' '$(srcdir)/vectors/schema' \
	  '$(DESTDIR)$(pkgdatadir)/vectors/'
	chmod -R u+w,go+rX '$(DESTDIR)$(pkgdatadir)/vectors'
uninstall-vectors-data:
	rm -rf '$(DESTDIR)$(pkgdatadir)/vectors/v1' '$(DESTDIR)$(pkgdatadir)/vectors/v2' \
	  '$(DESTDIR)$(pkgdatadir)/vectors/schema'
	-rmdir '$(DESTDIR)$(pkgdatadir)/vectors' '$(DESTDIR)$(pkgdatadir)'
.PHONY: install-vectors-data uninstall-vectors-data

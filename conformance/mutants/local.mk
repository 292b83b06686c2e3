## Deliberately wrong (mutants) and legitimately different (variants)
## implementations, as plugins: the proof that the conformance suite
## discriminates (docs/mutants.md).
##
## - libinfini_deviant_f32/f64: the one configurable implementation
##   (impl.c) in float and double, every entry of the catalogue of known
##   deviations (conformance/catalogue.h) a branch in it.
## - infini_mutant.la: one libtool module (infini_mutant.so in .libs/) for
##   every mutant and variant, chosen at load time by $INFINI_MUTANT or
##   $INFINI_VARIANT. A check library, so -rpath is needed to get a shared
##   object rather than a convenience archive.
## - test-mutants-impl: impl.c's correct path against the double oracle,
##   and every mutation live (TAP).
## - mutant-report: the catalogue for the shell and the docs (--list,
##   --markdown), and the worst ratio and the diagnoses of an
##   infini-conform --json report (jansson).
## - check-mutants.sh: every mutant rejected by infini-conform under the
##   profiles the catalogue claims and diagnosed as itself, every variant
##   accepted under its profile and never given a wrong name.
## - test-catalogue-doc.sh: docs/mutants.md's tables are the catalogue's.
##
## impl.c is compiled with -ffp-contract=off (configure's
## FP_CONTRACT_OFF_CFLAGS) in every target, so that `s += a * b` is not
## silently fused and the fma variant really differs.

mutants_cflags = $(AM_CFLAGS) $(FP_CONTRACT_OFF_CFLAGS)

## The one configurable implementation, compiled twice from impl.c (as
## ref/ is): float for the plugin and test-mutants-impl, double for the
## diagnoser (conformance/local.mk links it into infini-conform).
noinst_LTLIBRARIES += conformance/mutants/libinfini_deviant_f32.la \
	conformance/mutants/libinfini_deviant_f64.la
conformance_mutants_libinfini_deviant_f32_la_SOURCES = \
	conformance/mutants/impl.c conformance/mutants/impl.h
conformance_mutants_libinfini_deviant_f32_la_CPPFLAGS = $(AM_CPPFLAGS) -DDEV_REAL_F32
conformance_mutants_libinfini_deviant_f32_la_CFLAGS = $(mutants_cflags)
conformance_mutants_libinfini_deviant_f64_la_SOURCES = \
	conformance/mutants/impl.c conformance/mutants/impl.h
conformance_mutants_libinfini_deviant_f64_la_CPPFLAGS = $(AM_CPPFLAGS) -DDEV_REAL_F64
conformance_mutants_libinfini_deviant_f64_la_CFLAGS = $(mutants_cflags)
deviant_f32_ldadd = conformance/mutants/libinfini_deviant_f32.la \
	conformance/libinfini_catalogue.la -lm

## A libtool module built for the tests only (-rpath makes it shared).
check_LTLIBRARIES += conformance/mutants/infini_mutant.la
conformance_mutants_infini_mutant_la_SOURCES = conformance/mutants/plugin.c
conformance_mutants_infini_mutant_la_CFLAGS = $(mutants_cflags)
conformance_mutants_infini_mutant_la_LDFLAGS = $(AM_LDFLAGS) -module \
	-avoid-version -shared -rpath /nowhere \
	-export-symbols-regex '^infini_plugin_backend$$'
conformance_mutants_infini_mutant_la_LIBADD = $(deviant_f32_ldadd)

check_PROGRAMS += conformance/mutants/test-mutants-impl
conformance_mutants_test_mutants_impl_SOURCES = \
	conformance/mutants/test_impl.c tests/tap.h
conformance_mutants_test_mutants_impl_CFLAGS = $(mutants_cflags)
conformance_mutants_test_mutants_impl_LDADD = $(deviant_f32_ldadd) \
	ref/libinfini_oracle.la -lm
TESTS += conformance/mutants/test-mutants-impl

check_PROGRAMS += conformance/mutants/mutant-report
conformance_mutants_mutant_report_SOURCES = \
	conformance/mutants/mutant_report.c
conformance_mutants_mutant_report_CFLAGS = $(mutants_cflags) $(JANSSON_CFLAGS)
conformance_mutants_mutant_report_LDADD = conformance/libinfini_catalogue.la \
	$(JANSSON_LIBS) -lm

EXTRA_DIST += conformance/mutants/check-mutants.sh \
	conformance/mutants/test-catalogue-doc.sh
TESTS += conformance/mutants/check-mutants.sh \
	conformance/mutants/test-catalogue-doc.sh
CLEANFILES += conformance/mutants/reports/*

dist_doc_DATA += docs/mutants.md

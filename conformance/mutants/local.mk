## Deliberately wrong (mutants) and legitimately different (variants)
## implementations, as plugins: the proof that the conformance suite
## discriminates (docs/mutants.md).
##
## - infini_mutant.la: one libtool module (infini_mutant.so in .libs/) for
##   every mutant and variant, chosen at load time by $INFINI_MUTANT or
##   $INFINI_VARIANT. A check library, so -rpath is needed to get a shared
##   object rather than a convenience archive.
## - test-mutants-impl: impl.c's correct path against the double oracle,
##   and every mutation live (TAP).
## - mutant-report: lists the mutants and variants, and reads the worst
##   ratio per backend out of an infini-conform --json report (jansson).
## - check-mutants.sh: every mutant rejected by infini-conform at fp32,
##   every variant accepted (bf16: accepted at bf16, rejected at fp32).
##
## impl.c is compiled with -ffp-contract=off (configure's
## FP_CONTRACT_OFF_CFLAGS) in every target, so that `s += a * b` is not
## silently fused and the fma variant really differs.

mutants_cflags = $(AM_CFLAGS) $(FP_CONTRACT_OFF_CFLAGS)

## A libtool module built for the tests only (-rpath makes it shared).
check_LTLIBRARIES += conformance/mutants/infini_mutant.la
conformance_mutants_infini_mutant_la_SOURCES = \
	conformance/mutants/impl.c conformance/mutants/impl.h \
	conformance/mutants/plugin.c
conformance_mutants_infini_mutant_la_CFLAGS = $(mutants_cflags)
conformance_mutants_infini_mutant_la_LDFLAGS = $(AM_LDFLAGS) -module \
	-avoid-version -shared -rpath /nowhere \
	-export-symbols-regex '^infini_plugin_backend$$'
conformance_mutants_infini_mutant_la_LIBADD = -lm

check_PROGRAMS += conformance/mutants/test-mutants-impl
conformance_mutants_test_mutants_impl_SOURCES = \
	conformance/mutants/impl.c conformance/mutants/impl.h \
	conformance/mutants/test_impl.c tests/tap.h
conformance_mutants_test_mutants_impl_CFLAGS = $(mutants_cflags)
conformance_mutants_test_mutants_impl_LDADD = ref/libinfini_oracle.la -lm
TESTS += conformance/mutants/test-mutants-impl

check_PROGRAMS += conformance/mutants/mutant-report
conformance_mutants_mutant_report_SOURCES = \
	conformance/mutants/impl.c conformance/mutants/impl.h \
	conformance/mutants/mutant_report.c
conformance_mutants_mutant_report_CFLAGS = $(mutants_cflags) $(JANSSON_CFLAGS)
conformance_mutants_mutant_report_LDADD = $(JANSSON_LIBS) -lm

EXTRA_DIST += conformance/mutants/check-mutants.sh
TESTS += conformance/mutants/check-mutants.sh
CLEANFILES += conformance/mutants/reports/*

dist_doc_DATA += docs/mutants.md

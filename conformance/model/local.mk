## Full-model golden vectors, model tolerance, drift and model-level
## mutants (issue 5; docs/tolerances.md "Model-level tolerance",
## docs/mutants.md "Model-level mutants", docs/drift.md).
##
## - libinfini_model_golden.la: the second, independent double model with
##   its mutations, variants and rounding-site noise (dmodel.c), and the
##   golden set: presets, manifest and files, tolerance, judge (golden.c).
##   Compiled with -ffp-contract=off: the tolerance arrays it computes are
##   part of the shipped set and must rebuild to the bit everywhere.
## - infini-model-vectors: writes the set; vectors/model/v1 is its output.
## - infini-drift: a backend's float model against the oracle over a long
##   stream, CSV (and PNG with gnuplot); not in make check (docs/drift.md).
## - tests: every backend's model against the goldens; every model-level
##   mutant rejected and every variant accepted, with the margin; the set
##   rebuilt byte for byte.

model_golden_cppflags = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS) \
	-DINFINI_SRCDIR='"$(abs_top_srcdir)"'
model_golden_cflags = $(AM_CFLAGS) $(FP_CONTRACT_OFF_CFLAGS)
model_golden_ldadd = conformance/model/libinfini_model_golden.la \
	conformance/libinfini_catalogue.la \
	vectors/libinfini_vectors.la ref/libinfini_oracle.la libinfini.la -lm

noinst_LTLIBRARIES += conformance/model/libinfini_model_golden.la
conformance_model_libinfini_model_golden_la_SOURCES = \
	conformance/model/dmodel.c conformance/model/dmodel.h \
	conformance/model/golden.c conformance/model/golden.h
conformance_model_libinfini_model_golden_la_CPPFLAGS = $(model_golden_cppflags)
conformance_model_libinfini_model_golden_la_CFLAGS = $(model_golden_cflags)

model_golden_tools = conformance/model/infini-model-vectors conformance/model/infini-drift
if CONFORMANCE_ONLY
EXTRA_PROGRAMS += $(model_golden_tools)
model_regen_log = conformance/model/test-model-regen.sh.log
$(model_regen_log): conformance/model/infini-model-vectors$(EXEEXT)
else
noinst_PROGRAMS += $(model_golden_tools)
endif
conformance_model_infini_model_vectors_SOURCES = \
	conformance/model/infini-model-vectors.c
conformance_model_infini_model_vectors_CPPFLAGS = $(model_golden_cppflags)
conformance_model_infini_model_vectors_CFLAGS = $(model_golden_cflags)
conformance_model_infini_model_vectors_LDADD = $(model_golden_ldadd)
conformance_model_infini_drift_SOURCES = conformance/model/infini-drift.c
conformance_model_infini_drift_CPPFLAGS = $(model_golden_cppflags)
conformance_model_infini_drift_CFLAGS = $(model_golden_cflags)
conformance_model_infini_drift_LDADD = $(model_golden_ldadd)

check_PROGRAMS += conformance/model/test-model-golden \
	conformance/model/test-model-mutants
conformance_model_test_model_golden_SOURCES = \
	conformance/model/test_model_golden.c tests/tap.h
conformance_model_test_model_golden_CPPFLAGS = $(model_golden_cppflags)
conformance_model_test_model_golden_CFLAGS = $(model_golden_cflags)
conformance_model_test_model_golden_LDADD = $(model_golden_ldadd)
conformance_model_test_model_mutants_SOURCES = \
	conformance/model/test_model_mutants.c tests/tap.h
conformance_model_test_model_mutants_CPPFLAGS = $(model_golden_cppflags)
conformance_model_test_model_mutants_CFLAGS = $(model_golden_cflags)
conformance_model_test_model_mutants_LDADD = $(model_golden_ldadd)

## Full-model conformance through the file workflow (model_files.c, also
## in infini-conform): export, the profiles, every model bug located and
## named, integrity.
check_PROGRAMS += conformance/model/test-model-files
conformance_model_test_model_files_SOURCES = conformance/model/test_model_files.c \
	conformance/model/model_files.c conformance/model/model_files.h tests/tap.h
conformance_model_test_model_files_CPPFLAGS = $(model_golden_cppflags) \
	-DINFINI_BUILDDIR='"$(abs_top_builddir)"'
conformance_model_test_model_files_CFLAGS = $(model_golden_cflags)
conformance_model_test_model_files_LDADD = conformance/model/libinfini_model_golden.la \
	$(conform_ldadd)

TESTS += conformance/model/test-model-golden conformance/model/test-model-mutants \
	conformance/model/test-model-files \
	conformance/model/test-model-regen.sh
EXTRA_DIST += vectors/model/v1 conformance/model/test-model-regen.sh
dist_doc_DATA += docs/drift.md

## The golden set is installed under $(pkgdatadir)/model (beside the
## operator vectors' $(pkgdatadir)/vectors), as a directory copy like them.
install-data-local: install-model-vectors
uninstall-local: uninstall-model-vectors
install-model-vectors:
	$(MKDIR_P) '$(DESTDIR)$(pkgdatadir)/model'
	cp -R '$(srcdir)/vectors/model/v1' '$(DESTDIR)$(pkgdatadir)/model/'
	chmod -R u+w,go+rX '$(DESTDIR)$(pkgdatadir)/model'
uninstall-model-vectors:
	rm -rf '$(DESTDIR)$(pkgdatadir)/model/v1'
	-rmdir '$(DESTDIR)$(pkgdatadir)/model'
.PHONY: install-model-vectors uninstall-model-vectors

## The conformance runner infini-conform and its tests (docs/conformance.md).
##
## - infini-conform (installed): runs registered backends and plugins on the
##   golden vectors through the public API, exports cases for other
##   languages and checks their outputs, writes table/TAP/JUnit/JSON reports.
##   Default vectors: $INFINI_VECTORS, else this build or source tree's
##   vectors/v2, else the installed $(pkgdatadir)/vectors/v2 (compiled in).
## - conformance/examples/infini_numpy.py (installed in $(docdir)/examples):
##   the spec in NumPy, for the file workflow; infini_torch.py beside it:
##   the same in PyTorch as PyTorch code is written (CPU or CUDA, the
##   precisions of the profiles, planted bugs).
## - Tests: judging and diagnosis on the shipped vectors, the runner's
##   guards against faulty in-process backends (TAP programs),
##   reports of a ref run (TAP), exit status 2 for bad input (TAP),
##   export -> NumPy example -> check end to end (exit-code test: 77 = skip
##   when numpy is not importable, run by automake's plain test-driver via
##   the .test extension), and the same with the PyTorch example under each
##   precision and with each planted bug (77 = skip without torch).

## The catalogue of known deviations (conformance/catalogue.h): one table
## read by the mutants, the diagnoser, the model's mutants and the docs.
noinst_LTLIBRARIES += conformance/libinfini_catalogue.la
conformance_libinfini_catalogue_la_SOURCES = \
	conformance/catalogue.h conformance/catalogue.c

## Everything but main() is a convenience library, shared with the test.
noinst_LTLIBRARIES += conformance/libinfini_conform.la
conformance_libinfini_conform_la_SOURCES = \
	conformance/conform.h \
	conformance/util.c \
	conformance/cases.c \
	conformance/select.c \
	conformance/declare.c \
	conformance/runner.c \
	conformance/judge.c \
	conformance/diagnose.c \
	conformance/report.c \
	conformance/files.c \
	conformance/npyio.c
conformance_libinfini_conform_la_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) \
	-DINFINI_SRCDIR='"$(abs_top_srcdir)"' \
	-DINFINI_BUILDDIR='"$(abs_top_builddir)"' \
	-DINFINI_PKGDATADIR='"$(pkgdatadir)"'
## tolerance.c is in libinfini_vectors.la (vectors/local.mk).
conform_ldadd = conformance/libinfini_conform.la \
	conformance/mutants/libinfini_deviant_f64.la \
	conformance/libinfini_catalogue.la libinfini.la \
	vectors/libinfini_vectors.la ref/libinfini_oracle.la \
	$(JANSSON_LIBS) $(NETTLE_LIBS) -lm

## libinfini-conform (installed, include/infini_conform.h): the same modules
## behind the in-memory judging API, for C callers and the Python package
## (python/infini, through ctypes). Only infini_conform_* is exported; the
## vector reader, the tolerance model and the double implementation the
## diagnoser runs are linked in.
lib_LTLIBRARIES += libinfini-conform.la
libinfini_conform_la_SOURCES = conformance/api.c
libinfini_conform_la_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
libinfini_conform_la_LIBADD = $(conform_ldadd)
libinfini_conform_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(INFINI_LT_VERSION) \
	-export-symbols-regex '^infini_conform_'

bin_PROGRAMS += infini-conform
infini_conform_SOURCES = conformance/infini-conform.c \
	conformance/model/model_files.c conformance/model/model_files.h
infini_conform_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS)
infini_conform_LDADD = conformance/model/libinfini_model_golden.la \
	tools/libinfini_cli.la $(conform_ldadd)

## Judging and diagnosis on the shipped vectors (TAP).
check_PROGRAMS += conformance/test-diagnose
conformance_test_diagnose_SOURCES = conformance/test_diagnose.c tests/tap.h
conformance_test_diagnose_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
conformance_test_diagnose_LDADD = $(conform_ldadd)
TESTS += conformance/test-diagnose

## The judging API on bad calls and its verdicts (TAP), through the
## installed library's interface only.
check_PROGRAMS += conformance/test-api
conformance_test_api_SOURCES = conformance/test_api.c tests/tap.h
conformance_test_api_LDADD = libinfini-conform.la -lm
TESTS += conformance/test-api

## The runner's guards: stray writes, modified inputs, kernel errors (TAP).
check_PROGRAMS += conformance/test-runner
conformance_test_runner_SOURCES = conformance/test_runner.c tests/tap.h
conformance_test_runner_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
conformance_test_runner_LDADD = $(conform_ldadd)
TESTS += conformance/test-runner

examplesdir = $(docdir)/examples
dist_examples_DATA = conformance/examples/infini_numpy.py \
	conformance/examples/infini_torch.py conformance/examples/infini_model_torch.py
dist_doc_DATA += docs/conformance.md

## Test scripts are generated from .in files so that they know configure's
## PYTHON3 and the two trees.
conform_tests = \
	conformance/test-conform-reports.sh \
	conformance/test-conform-errors.sh \
	conformance/test-conform-files.test \
	conformance/test-conform-torch.test \
	conformance/test-conform-model-torch.test \
	conformance/test-conform-declare.sh
TESTS += $(conform_tests)
EXTRA_DIST += $(conform_tests:=.in)
CLEANFILES += $(conform_tests)
TEST_LOG_DRIVER = $(SHELL) $(top_srcdir)/build-aux/test-driver
## (configure.ac requires build-aux/test-driver, so it is distributed.)

conform_edit = sed \
	-e 's|@PYTHON3[@]|$(PYTHON3)|g' \
	-e 's|@abs_top_srcdir[@]|$(abs_top_srcdir)|g' \
	-e 's|@abs_top_builddir[@]|$(abs_top_builddir)|g'

$(conform_tests): Makefile
	$(AM_V_GEN)$(MKDIR_P) conformance && rm -f $@ $@.tmp && \
	$(conform_edit) '$(srcdir)/$@.in' >$@.tmp && chmod +x $@.tmp && mv $@.tmp $@
conformance/test-conform-reports.sh: $(srcdir)/conformance/test-conform-reports.sh.in
conformance/test-conform-errors.sh: $(srcdir)/conformance/test-conform-errors.sh.in
conformance/test-conform-files.test: $(srcdir)/conformance/test-conform-files.test.in
conformance/test-conform-torch.test: $(srcdir)/conformance/test-conform-torch.test.in
conformance/test-conform-model-torch.test: $(srcdir)/conformance/test-conform-model-torch.test.in
conformance/test-conform-declare.sh: $(srcdir)/conformance/test-conform-declare.sh.in

## The tests need the runner.
conformance/test-conform-reports.sh.log conformance/test-conform-errors.sh.log \
conformance/test-conform-declare.sh.log \
conformance/test-conform-files.log: infini-conform$(EXEEXT)
## ... and the PyTorch one the catalogue's reader (a check program).
conformance/test-conform-torch.log: infini-conform$(EXEEXT) \
	conformance/mutants/mutant-report$(EXEEXT)
## ... and the model one where the double model's bugs first fail.
conformance/test-conform-model-torch.log: infini-conform$(EXEEXT) \
	conformance/mutants/mutant-report$(EXEEXT) conformance/model/test-model-files$(EXEEXT)

## The shell tests keep their work folder when they fail (to read it);
## make clean removes it either way (distcheck's distcleancheck needs that).
clean-local: clean-conform-test-output
clean-conform-test-output:
	-rm -rf conformance/test-output
.PHONY: clean-conform-test-output

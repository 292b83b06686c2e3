## Every command-line tool on hostile files and options: missing,
## unreadable, empty, truncated or corrupt inputs, a directory for a file,
## bad options; one line on stderr, non-zero exit, no core dump, and no
## existing output file lost (TAP script, run from the build tree; the
## tools it runs are built by make all, which make check runs first).
TESTS += tests/test-cli-errors.sh
EXTRA_DIST += tests/test-cli-errors.sh

## The model shared by threads (include/infini_model.h's promise): two
## streams on one model plus context churn, bit-identical to one thread;
## .ci/run also runs it under ThreadSanitizer (TAP).
check_PROGRAMS += tests/test_threads
tests_test_threads_SOURCES = tests/test_threads.c tests/tap.h
tests_test_threads_LDADD = libinfini.la -lm
TESTS += tests/test_threads

## Building against the build tree before install (infini-uninstalled.pc):
## the install test's consumer, compiled with this build's compiler and
## flags through PKG_CONFIG_PATH=<build>, run from there (TAP). The link
## also names jansson and nettle as configure found them, so that a cross
## linker finds the library's dependencies where they are not in its
## default path (riscv64: built into a sysroot).
TESTS += tests/test-uninstalled-pc.sh
EXTRA_DIST += tests/test-uninstalled-pc.sh
AM_TESTS_ENVIRONMENT = CC='$(CC)' INFINI_TEST_CFLAGS='$(CFLAGS) $(SAN_CFLAGS)' \
	INFINI_TEST_LDFLAGS='$(LDFLAGS) $(SAN_CFLAGS) $(JANSSON_LIBS) $(NETTLE_LIBS)'; \
	export CC INFINI_TEST_CFLAGS INFINI_TEST_LDFLAGS;
tests/test-uninstalled-pc.log: libinfini.la

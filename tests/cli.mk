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

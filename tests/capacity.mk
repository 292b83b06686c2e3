## infini-capacity (issue 22, docs/capacity.md): the exact answers of its
## experiments on every backend (TAP, well under a second natively, so it
## also runs under qemu), and the tool's command line on bad arguments and
## an existing output (TAP script, run from the top build directory).
check_PROGRAMS += tests/test_capacity
tests_test_capacity_SOURCES = tests/test_capacity.c tests/tap.h \
	tools/capacity.c tools/capacity.h
tests_test_capacity_LDADD = libinfini.la -lm
TESTS += tests/test_capacity

TESTS += tests/test-capacity-cli.sh
EXTRA_DIST += tests/test-capacity-cli.sh
## (tools/local.mk makes its log depend on tools/infini-capacity.)

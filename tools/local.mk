## The command-line helpers every program shares (tools/cli.h: error lines,
## strict number parsing), a convenience library so infini-conform,
## infini-vectors and infini-bench link it too; tools/test-cli checks it.
noinst_LTLIBRARIES += tools/libinfini_cli.la
tools_libinfini_cli_la_SOURCES = tools/cli.c tools/cli.h
check_PROGRAMS += tools/test-cli
tools_test_cli_SOURCES = tools/test_cli.c tests/tap.h
tools_test_cli_LDADD = tools/libinfini_cli.la -lm
TESTS += tools/test-cli

## Model command-line tools (issue 5) and infini-capacity (issue 22). A
## conformance-only build leaves them out of make and make install; make
## check builds them for tests/test-cli-errors.sh and
## tests/test-capacity-cli.sh.
model_tools = tools/infini-run tools/infini-weights tools/infini-capacity
if CONFORMANCE_ONLY
EXTRA_PROGRAMS += $(model_tools)
## (The log is named through a variable: a rule automake can read would
## replace the test's own rule.)
cli_errors_log = tests/test-cli-errors.sh.log
$(cli_errors_log): tools/infini-run$(EXEEXT) tools/infini-weights$(EXEEXT)
capacity_cli_log = tests/test-capacity-cli.sh.log
$(capacity_cli_log): tools/infini-capacity$(EXEEXT)
else
bin_PROGRAMS += $(model_tools)
endif
## infini-run: stream tokens through a model with constant memory.
## It reuses the project's reader and writer (src/fileio.c, not exported
## by libinfini; the vector library carries it) and the vector library's .npy encoder and splitmix64; nettle hashes the
## logits and the argmax trace.
tools_infini_run_SOURCES = tools/infini-run.c
tools_infini_run_CPPFLAGS = $(AM_CPPFLAGS) $(NETTLE_CFLAGS)
tools_infini_run_LDADD = tools/libinfini_cli.la libinfini.la \
	vectors/libinfini_vectors.la $(NETTLE_LIBS) -lm

## infini-weights: write deterministic random weights (safetensors).
tools_infini_weights_SOURCES = tools/infini-weights.c
tools_infini_weights_LDADD = tools/libinfini_cli.la libinfini.la \
	vectors/libinfini_vectors.la -lm

## infini-capacity: capacity and forgetting of the compressive memory
## through the public API (docs/capacity.md). The experiments live in
## tools/capacity.c, which tests/test_capacity.c links too. It writes its
## CSV through the project's writer (src/fileio.c, carried by the vector
## library) and draws with the vectors' splitmix64 (vectors/prng.h).
tools_infini_capacity_SOURCES = tools/infini-capacity.c tools/capacity.c \
	tools/capacity.h
tools_infini_capacity_LDADD = tools/libinfini_cli.la libinfini.la \
	vectors/libinfini_vectors.la -lm

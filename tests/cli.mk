## Every command-line tool on hostile files and options: missing,
## unreadable, empty, truncated or corrupt inputs, a directory for a file,
## bad options; one line on stderr, non-zero exit, no core dump, and no
## existing output file lost (TAP script, run from the build tree; the
## tools it runs are built by make all, which make check runs first).
TESTS += tests/test-cli-errors.sh
EXTRA_DIST += tests/test-cli-errors.sh

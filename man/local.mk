## Manual pages: one for each installed program (bin_PROGRAMS), written by
## hand from the program's --help and behaviour. scripts/install-test.sh
## fails when an installed infini-* program has no page here, or when
## groff warns about one.
dist_man1_MANS = \
	man/infini-conform.1 \
	man/infini-vectors.1 \
	man/infini-run.1 \
	man/infini-weights.1 \
	man/infini-capacity.1

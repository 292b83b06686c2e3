## Manual pages: one for each installed program (bin_PROGRAMS), written by
## hand from the program's --help and behaviour. scripts/install-test.sh
## fails when an installed infini-* program has no page here, or when
## groff warns about one.
dist_man1_MANS = \
	man/infini-conform.1 \
	man/infini-vectors.1
## The model and capacity tools' pages go with the tools (not in a conformance-only build).
model_tool_mans = man/infini-run.1 man/infini-weights.1 man/infini-capacity.1
EXTRA_DIST += $(model_tool_mans)
if !CONFORMANCE_ONLY
dist_man1_MANS += $(model_tool_mans)
endif

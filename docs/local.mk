## Documentation shipped with the package (installed in $(docdir)), and
## the API documentation built from it by Doxygen.
dist_doc_DATA += docs/spec.md
dist_doc_DATA += docs/vectors.md docs/tolerances.md docs/performance.md
dist_doc_DATA += docs/porting.md
EXTRA_DIST += docs/worked_example.py

## `make doxygen-doc`: HTML in docs/api/html from the public headers and
## every shipped Markdown document (dist_doc_DATA, to which each fragment
## adds its own), with README.md as the main page. The DX macros
## (configure.ac) provide the rules; docs/Doxyfile.in says why each setting.
## Doxygen resolves relative INPUT paths against the directory it runs in
## (the build tree), so the list is handed over as absolute source paths.
@DX_RULES@
MOSTLYCLEANFILES = $(DX_CLEANFILES)
doxygen_input = $(include_HEADERS) $(dist_doc_DATA)
DX_ENV = @DX_ENV@ INFINI_DOXYGEN_INPUT="`for f in $(doxygen_input); do \
	printf '%s ' '$(abs_top_srcdir)/'$$f; done`"
## Rebuild when a header, a document or the filter changes (the DX rule
## itself only depends on docs/Doxyfile).
$(DX_DOCDIR)/$(PACKAGE).tag: $(doxygen_input) README.md docs/doxygen-math.awk
EXTRA_DIST += docs/Doxyfile.in docs/doxygen-math.awk

## docs/capacity.md (issue 22): the capacity and forgetting of the memory,
## with its figures (docs/capacity/*.svg, committed so the document shows
## them) drawn from the committed CSVs of docs/capacity/sweeps.sh.
##   make capacity-data    re-runs the sweeps (minutes) into
##                         $(CAPACITY_SWEEP_DIR) in the build tree
##   make capacity-plots   draws the SVGs (gnuplot, Debian gnuplot-nox)
##                         from $(CAPACITY_CSV_DIR) into $(CAPACITY_PLOT_DIR)
## Neither is part of make check or CI.
dist_doc_DATA += docs/capacity.md
capacity_csv_files = gauss segments corr sparse1 sparse3 onehot forgetting \
	forgetting-sparse needles needles-sparse
capacity_svg_files = capacity-gauss capacity-cos capacity-segments \
	capacity-sparse capacity-corr capacity-onehot forgetting needles
EXTRA_DIST += docs/capacity/sweeps.sh docs/capacity/plots.gp \
	$(capacity_csv_files:%=docs/capacity/%.csv) \
	$(capacity_svg_files:%=docs/capacity/%.svg)
CAPACITY_SWEEP_DIR = docs/capacity-data
CAPACITY_CSV_DIR = $(srcdir)/docs/capacity
CAPACITY_PLOT_DIR = docs/capacity-plots
capacity-data: tools/infini-capacity$(EXEEXT)
	$(SHELL) $(srcdir)/docs/capacity/sweeps.sh tools/infini-capacity \
	  $(CAPACITY_SWEEP_DIR)
capacity-plots:
	$(MKDIR_P) $(CAPACITY_PLOT_DIR)
	gnuplot -e "data='$(CAPACITY_CSV_DIR)'; out='$(CAPACITY_PLOT_DIR)'" \
	  $(srcdir)/docs/capacity/plots.gp
	@echo "SVGs in $(CAPACITY_PLOT_DIR); copy them to docs/capacity/ to publish"
.PHONY: capacity-data capacity-plots
clean-local: clean-capacity
clean-capacity:
	-rm -rf $(CAPACITY_SWEEP_DIR) $(CAPACITY_PLOT_DIR)
.PHONY: clean-capacity

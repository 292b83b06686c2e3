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

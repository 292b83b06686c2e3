## The Python package (python/infini: ctypes over libinfini-conform, the
## pytest plugin) and its tests. Installed with pip from the tree
## (python/README.md), not by make install; make check runs python/tests
## with pytest through python/test-python.test (77 = skip without pytest,
## in a sanitizer build, and under emulation: scripts/cross-check.sh).
python_files = python/pyproject.toml python/README.md \
	python/infini/__init__.py python/infini/_errors.py python/infini/_lib.py \
	python/infini/_version.py python/infini/pytest_plugin.py \
	python/tests/test_infini.py
EXTRA_DIST += $(python_files) python/test-python.test.in
dist_examples_DATA += conformance/examples/test_infini_torch.py

TESTS += python/test-python.test
CLEANFILES += python/test-python.test
python/test-python.test: $(srcdir)/python/test-python.test.in Makefile
	$(AM_V_GEN)$(MKDIR_P) python && rm -f $@ $@.tmp && \
	$(conform_edit) -e 's|@SAN_CFLAGS[@]|$(SAN_CFLAGS)|g' \
	  '$(srcdir)/python/test-python.test.in' >$@.tmp && chmod +x $@.tmp && mv $@.tmp $@
## It needs the library, the generator and the built pkg-config files.
python/test-python.log: libinfini-conform.la vectors/infini-vectors$(EXEEXT) \
	infini-conform-uninstalled.pc

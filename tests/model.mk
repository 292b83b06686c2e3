## Tests of the model (issue 5): the forward pass and incremental decoding
## (test_model), the safetensors weights reader (test_safetensors) and
## checkpoints (test_checkpoint). They link the library's internals
## statically where they need them, like tests/local.mk's tests.

check_PROGRAMS += tests/test_model
tests_test_model_SOURCES = tests/test_model.c $(test_common_sources)
tests_test_model_LDADD = $(test_common_ldadd)
## It fills a model_alloc()ed model (an internal symbol the shared library
## does not export): link libinfini statically.
tests_test_model_LDFLAGS = $(AM_LDFLAGS) -static
TESTS += tests/test_model

check_PROGRAMS += tests/test_safetensors
tests_test_safetensors_SOURCES = tests/test_safetensors.c $(test_common_sources)
## -static links libinfini.a, where the reader's internals (st_parse,
## model_tensor_at) are visible; the shared library exports only infini_*.
tests_test_safetensors_CPPFLAGS = $(AM_CPPFLAGS) $(NETTLE_CFLAGS)
tests_test_safetensors_LDFLAGS = $(AM_LDFLAGS) -static
tests_test_safetensors_LDADD = $(test_common_ldadd) $(NETTLE_LIBS)
TESTS += tests/test_safetensors

check_PROGRAMS += tests/test_checkpoint
## checkpoint_parse and the fileio helpers are not exported: link
## libinfini statically, as above. nettle: the test reseals edited
## checkpoints with their SHA-256 trailer.
tests_test_checkpoint_SOURCES = tests/test_checkpoint.c $(test_common_sources)
tests_test_checkpoint_CPPFLAGS = $(AM_CPPFLAGS) $(NETTLE_CFLAGS)
tests_test_checkpoint_LDADD = $(test_common_ldadd) $(NETTLE_LIBS)
tests_test_checkpoint_LDFLAGS = $(AM_LDFLAGS) -static
TESTS += tests/test_checkpoint

## Tests of the model (issue 5): the forward pass and incremental decoding
## (test_model), the safetensors weights reader (test_safetensors) and
## checkpoints (test_checkpoint). They reach internal functions the shared
## library does not export (model_alloc, st_parse, checkpoint_parse), so
## they link the library's objects, src/libinfini_core.la, directly.
test_internal_ldadd = src/libinfini_core.la ref/libinfini_oracle.la -lm

check_PROGRAMS += tests/test_model
tests_test_model_SOURCES = tests/test_model.c $(test_common_sources)
tests_test_model_LDADD = $(test_internal_ldadd)
TESTS += tests/test_model

check_PROGRAMS += tests/test_safetensors
tests_test_safetensors_SOURCES = tests/test_safetensors.c $(test_common_sources)
tests_test_safetensors_CPPFLAGS = $(AM_CPPFLAGS) $(NETTLE_CFLAGS)
tests_test_safetensors_LDADD = $(test_internal_ldadd) $(NETTLE_LIBS)
TESTS += tests/test_safetensors

check_PROGRAMS += tests/test_checkpoint
## nettle: the test reseals edited checkpoints with their SHA-256 trailer.
tests_test_checkpoint_SOURCES = tests/test_checkpoint.c $(test_common_sources)
tests_test_checkpoint_CPPFLAGS = $(AM_CPPFLAGS) $(NETTLE_CFLAGS)
tests_test_checkpoint_LDADD = $(test_internal_ldadd) $(NETTLE_LIBS)
TESTS += tests/test_checkpoint

## The install test (scripts/install-test.sh): builds tests/install/consumer.c
## against the installed library through pkg-config, shared and static, runs
## the installed infini-conform from /, renders the man pages.
## - make installcheck (and so make distcheck) runs it on $(prefix).
## - .ci/run also runs it on a release tarball installed into a temporary
##   prefix, with the source and build trees deleted, which proves that an
##   installed infini-conform finds the installed vectors.
EXTRA_DIST += scripts/install-test.sh tests/install/consumer.c \
	tests/install/conform_consumer.c
## A conformance-only build installs no model tools.
if CONFORMANCE_ONLY
install_test_env = INFINI_CONFORMANCE_ONLY=yes
endif
installcheck-local:
	$(install_test_env) CC='$(CC)' MAKE='$(MAKE)' $(SHELL) '$(srcdir)/scripts/install-test.sh' \
	  --prefix '$(DESTDIR)$(prefix)'

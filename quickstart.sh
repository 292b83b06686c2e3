#!/bin/sh
# One command from a fresh Debian 12 checkout to the main job: install what
# is missing, bootstrap, configure and build in ./build, then run the
# conformance suite over every backend this CPU supports.
set -eu
top=$(cd "$(dirname "$0")" && pwd)
sh "$top/scripts/setup-debian.sh"
cd "$top"
[ -x configure ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure ${INFINI_CONFIGURE_FLAGS:-}
make -j"$(nproc)"
exec ./infini-conform "$@"

#!/bin/bash
# Cross-compile infini for another Debian architecture and run its test
# suite under qemu-user. Usage: scripts/cross-check.sh DEBIAN_ARCH BUILD_DIR
#   e.g. scripts/cross-check.sh arm64 _ci/aarch64
# Needs root (apt-get, binfmt_misc). The foreign binaries run through a
# binfmt_misc entry for qemu (so libtool wrappers and test scripts work
# unchanged); when the kernel refuses the entry, only the conformance
# runner itself is run, through qemu directly, and the script says so.
set -euo pipefail
arch=$1 build=$2
src=$(cd "$(dirname "$0")/.." && pwd)
case $arch in
  arm64) triplet=aarch64-linux-gnu qemu=aarch64
         magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
         mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' ;;
  *) echo "cross-check.sh: unsupported architecture '$arch'" >&2; exit 2 ;;
esac

export DEBIAN_FRONTEND=noninteractive
dpkg --add-architecture "$arch"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "gcc-$triplet" \
  "libc6-dev-$arch-cross" qemu-user "libsleef-dev:$arch" \
  "libjansson-dev:$arch" "nettle-dev:$arch" >/dev/null

binfmt=/proc/sys/fs/binfmt_misc
[ -e $binfmt/register ] || mount -t binfmt_misc binfmt_misc $binfmt 2>/dev/null || true
if [ ! -e "$binfmt/qemu-$qemu" ] && [ -w $binfmt/register ]; then
  printf '%s' ":qemu-$qemu:M::$magic:$mask:/usr/bin/qemu-$qemu:" \
    > $binfmt/register 2>/dev/null || true
fi
export QEMU_LD_PREFIX=/usr/$triplet

mkdir -p "$build"
cd "$build"
PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig \
  "$src/configure" --host="$triplet" --enable-werror -q
make -j"$(nproc)" >/dev/null

if [ -e "$binfmt/qemu-$qemu" ]; then
  rc=0
  make check -j"$(nproc)" || rc=$?
  [ $rc -eq 0 ] || cat test-suite.log
  echo "$arch check: $(sed -n 's/^# PASS: *//p' test-suite.log) passed," \
       "$(sed -n 's/^# FAIL: *//p' test-suite.log) failed"
  exit $rc
fi
echo "cross-check.sh: no binfmt_misc entry for qemu-$qemu; running only" \
     "infini-conform under qemu-$qemu"
export LD_LIBRARY_PATH=$PWD/.libs
"qemu-$qemu" ./.libs/infini-conform --list-backends
"qemu-$qemu" ./.libs/infini-conform

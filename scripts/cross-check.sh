#!/bin/bash
# Cross-compile infini for another CPU and run its test suite under
# qemu-user. Usage: scripts/cross-check.sh DEBIAN_ARCH BUILD_DIR
#   DEBIAN_ARCH: arm64 (NEON native), s390x (big-endian), riscv64
#   e.g. scripts/cross-check.sh s390x _ci/s390x
# Needs root (apt-get, binfmt_misc) and Debian 12 with its mirrors. The
# foreign binaries run through a binfmt_misc entry for qemu (so libtool
# wrappers and test scripts work unchanged); when the kernel refuses the
# entry, only the conformance runner itself is run, through qemu directly,
# and the script says so. See docs/porting.md.
set -euo pipefail
arch=${1:?usage: cross-check.sh DEBIAN_ARCH BUILD_DIR}
build=${2:?usage: cross-check.sh DEBIAN_ARCH BUILD_DIR}
src=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
export DEBIAN_FRONTEND=noninteractive

# Per CPU: GNU triplet, qemu-user name, the binfmt_misc magic and mask that
# pick its ELF executables (class, byte order, e_type, e_machine; as in
# qemu's qemu-binfmt-conf.sh) and where its jansson and nettle come from:
# Debian's multiarch packages, or, for riscv64, which is not a Debian 12
# release architecture (no :riscv64 packages), Debian's source packages
# built here. Sleef has no riscv64 build either: the backends' exp falls
# back to the polynomial (docs/porting.md).
case $arch in
  arm64) triplet=aarch64-linux-gnu qemu=aarch64 deps=multiarch
         magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
         mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' ;;
  s390x) triplet=s390x-linux-gnu qemu=s390x deps=multiarch
         magic='\x7fELF\x02\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x16'
         mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff' ;;
  riscv64) triplet=riscv64-linux-gnu qemu=riscv64 deps=source
         magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xf3\x00'
         mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' ;;
  *) echo "cross-check.sh: unsupported architecture '$arch'" \
          "(want arm64, s390x or riscv64)" >&2; exit 2 ;;
esac
# Tests left out under emulation ($CROSS_CHECK_SKIP replaces the list;
# empty: run them all). check-mutants.sh runs infini-conform over every
# vector for each of about 55 catalogue entries and 3 profiles, with every
# failure diagnosed (an hour and more under qemu); it proves the suite
# rejects bugs, a property of float arithmetic, not of byte order, that the
# x86 and aarch64 runs show. On arm64 it runs under fp32 only and without
# diagnoses (INFINI_MUTANT_PROFILES, INFINI_MUTANT_DIAGNOSE): the float
# verdicts are what a new ISA (FMA contraction, its libm) can change; the
# diagnoses are double arithmetic. test-diagnose (every diagnosable entry
# recomputed in double over every vector, 45 s natively) is double
# arithmetic as well and is left out everywhere under emulation. The
# model's mutants and its golden-set regeneration (the double oracle over
# the shipped presets) take over ten minutes each under qemu;
# test-model-golden still reads the model files on the emulated CPU, and
# vectors/test-regen.sh proves the writers byte-identical there.
# test-model-golden (every backend's model over the golden set) runs on
# arm64 with every backend, on big-endian s390x, where reading the model
# files is in question, with the ref backend only (below), and not on
# riscv64. arm64 runs the model's golden-set regeneration, so its
# byte-for-byte rebuild is proved on a second ISA, the one where compilers
# contract multiply-adds by default: over the tiny presets, a few seconds
# each there; the two small ones (about 40 s natively, most of the
# regeneration's time, through the same code) over ten minutes.
if [ "$arch" = arm64 ]; then
  default_skip="conformance/model/test-model-mutants conformance/test-diagnose"
  export INFINI_MUTANT_PROFILES=${INFINI_MUTANT_PROFILES-fp32}
  export INFINI_MUTANT_DIAGNOSE=${INFINI_MUTANT_DIAGNOSE-no}
  export INFINI_MUTANT_RESTRICTED=${INFINI_MUTANT_RESTRICTED-no}
  # the model-sized cases prove discrimination under the loose profiles,
  # which emulation does not run; under qemu they are most of the time
  export INFINI_MUTANT_EXCLUDE_FLAGS=${INFINI_MUTANT_EXCLUDE_FLAGS-realistic}
  INFINI_MODEL_REGEN_PRESETS=${INFINI_MODEL_REGEN_PRESETS-$(
    cd "$src/vectors/model/v1" && ls ./*.json |
      sed 's|^\./||; s/\.json$//' | grep -v '^small_' | tr '\n' ' ')}
  export INFINI_MODEL_REGEN_PRESETS
else
  default_skip="conformance/mutants/check-mutants.sh conformance/test-diagnose
    conformance/model/test-model-mutants conformance/model/test-model-regen.sh"
fi
if [ "$arch" = riscv64 ]; then
  default_skip="$default_skip conformance/model/test-model-golden"
fi
# The PyTorch example runs on the host's Python; under emulation only its
# checks would be emulated, 50 of them with diagnoses (over ten minutes),
# the same runner test-conform-files drives.
default_skip="$default_skip conformance/test-conform-torch.test
  conformance/test-conform-model-torch.test"
# test-model-files judges every model bug of the catalogue under three
# profiles with the double model (35 s natively, most of it the double
# model's runs, over ten minutes emulated); its readers and writers are
# the operator workflow's, which test-conform-files runs here.
default_skip="$default_skip conformance/model/test-model-files"
# The Python package loads the library into the host's python3, which
# cannot load a foreign architecture's.
default_skip="$default_skip python/test-python.test"
skip=$(echo ${CROSS_CHECK_SKIP-$default_skip}) # one line, single spaces
# On s390x test-model-golden runs the float model of the ref backend only:
# the question there is whether the model's files read right on a
# big-endian CPU, and each SIMDe-emulated backend, emulated again by qemu,
# adds minutes. (Set INFINI_TEST_BACKENDS to change it.)
if [ "$arch" = s390x ]; then
  export INFINI_TEST_BACKENDS=${INFINI_TEST_BACKENDS-ref}
fi

mkdir -p "$build"
build=$(cd "$build" && pwd)
sysroot=$build/sysroot # riscv64 only: jansson and nettle built here

# The cross compiler, qemu and the target's libraries.
install_packages() {
  local pkgs=("gcc-$triplet" "libc6-dev-$arch-cross" qemu-user)
  if [ "$deps" = multiarch ]; then
    dpkg --add-architecture "$arch"
    pkgs+=("libsleef-dev:$arch" "libjansson-dev:$arch" "nettle-dev:$arch")
  else
    pkgs+=(dpkg-dev) # apt-get source unpacks with dpkg-source
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

# apt-get source with a private deb-src list made from the Debian entries
# this machine already uses, so the machine's own apt set-up is untouched.
fetch_sources() {
  local dir=$1 opts
  shift
  mkdir -p "$dir/lists/partial" "$dir/parts"
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
      'Identifier: Packages' 'Origin: Debian' | sort -u |
    sed 's/^/deb-src /' >"$dir/sources.list"
  [ -s "$dir/sources.list" ] || {
    echo "cross-check.sh: no Debian entry in the apt sources to take" \
         "source packages from" >&2; return 1; }
  opts=(-o "Dir::Etc::SourceList=$dir/sources.list"
        -o "Dir::Etc::SourceParts=$dir/parts"
        -o "Dir::State::Lists=$dir/lists" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  (cd "$dir" && apt-get "${opts[@]}" source -qq "$@" >/dev/null)
}

# Build Debian's jansson and nettle for the target into $sysroot (once per
# build directory; nettle without hogweed, which infini does not use).
build_source_deps() {
  [ -e "$sysroot/.complete" ] && return 0
  local dir=$build/deps-src
  rm -rf "$dir" "$sysroot"
  fetch_sources "$dir" jansson nettle
  # -w: their warnings are not ours to fix, and would bury infini's.
  local cross=(--host="$triplet" --prefix="$sysroot" --libdir="$sysroot/lib"
               --disable-static -q CFLAGS="-O2 -w")
  # Debian's jansson tarball is a git export, without configure.
  (cd "$dir"/jansson-*/ && autoreconf -fi >/dev/null &&
    ./configure "${cross[@]}" &&
    make -j"$jobs" install >/dev/null)
  (cd "$dir"/nettle-*/ && ./configure "${cross[@]}" --disable-public-key \
      --disable-documentation --disable-openssl &&
    make -j"$jobs" install >/dev/null)
  touch "$sysroot/.complete"
}

# A binfmt_misc entry so the kernel runs the target's ELF files with qemu.
register_binfmt() {
  binfmt=/proc/sys/fs/binfmt_misc
  [ -e $binfmt/register ] ||
    mount -t binfmt_misc binfmt_misc $binfmt 2>/dev/null || true
  if [ ! -e "$binfmt/qemu-$qemu" ] && [ -w $binfmt/register ]; then
    printf '%s' ":qemu-$qemu:M::$magic:$mask:/usr/bin/qemu-$qemu:" \
      >$binfmt/register 2>/dev/null || true
  fi
}

configure_and_build() {
  local pc=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig
  if [ "$deps" = source ]; then pc=$sysroot/lib/pkgconfig; fi
  cd "$build"
  PKG_CONFIG_LIBDIR=$pc "$src/configure" --host="$triplet" --enable-werror -q
  make -j"$jobs" >/dev/null
}

# The foreign programs must run on one glibc. With multiarch packages that
# is the target's libc6 (installed with libjansson-dev:ARCH, its loader in
# /lib, where qemu looks by default); the cross toolchain's older copy in
# /usr/TRIPLET must not be mixed in (its loader with the newer libc.so.6
# from ld.so.cache aborts every program: "stack smashing detected"). With
# libraries built from source there is only the cross toolchain's glibc.
# make check's TESTS less $skip (the Makefile's own list, so new tests run
# here without a change to this script).
tests_to_run() {
  local t out=
  for t in $(printf 'print-tests:\n\t@echo $(TESTS)\n' |
             make -s -f Makefile -f - print-tests); do
    case " $skip " in *" $t "*) echo "cross-check.sh: skipping $t" >&2 ;;
                      *) out="$out $t" ;; esac
  done
  echo "$out"
}

run_checks() {
  if [ "$deps" = source ]; then
    export QEMU_LD_PREFIX=/usr/$triplet LD_LIBRARY_PATH=$sysroot/lib
  fi
  if [ -e "$binfmt/qemu-$qemu" ]; then
    local rc=0
    make check -j"$jobs" TESTS="$(tests_to_run)" || rc=$?
    [ $rc -eq 0 ] || cat test-suite.log
    echo "check-$arch: $(sed -n 's/^# PASS: *//p' test-suite.log) passed," \
         "$(sed -n 's/^# FAIL: *//p' test-suite.log) failed"
    return $rc
  fi
  echo "cross-check.sh: no binfmt_misc entry for qemu-$qemu; running only" \
       "infini-conform under qemu-$qemu"
  export LD_LIBRARY_PATH=$build/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  "qemu-$qemu" ./.libs/infini-conform --list-backends
  "qemu-$qemu" ./.libs/infini-conform
}

install_packages
if [ "$deps" = source ]; then build_source_deps; fi
register_binfmt
configure_and_build
run_checks

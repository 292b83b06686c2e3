#!/bin/sh
# tests/test-uninstalled-pc.sh - before `make install`, a program builds
# against the build tree through pkg-config: PKG_CONFIG_PATH=<build>
# selects infini-uninstalled.pc, whose flags compile tests/install/consumer.c
# (the install test's consumer: the library version, then two segment
# steps with exact results) and whose run path lets it run. TAP; skips
# without pkg-config. Run by make check from the top build directory, with
# CC, INFINI_TEST_CFLAGS and INFINI_TEST_LDFLAGS from the Makefile (the
# sanitizer flags of a sanitizer build included).
srcdir=${srcdir:-.}
build=$(pwd)
work=$build/tests/test-output/uninstalled-pc
command -v pkg-config >/dev/null 2>&1 || { echo "1..0 # SKIP no pkg-config"; exit 0; }
rm -rf "$work" && mkdir -p "$work" || { echo "Bail out! cannot create $work"; exit 99; }
n=0 failed=0
ok() { # STATUS DESCRIPTION
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi
}
PKG_CONFIG_PATH=$build${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH

libdir=$(pkg-config --variable=libdir infini 2>"$work/pc.err")
[ "$libdir" = "$build/.libs" ]
ok $? "PKG_CONFIG_PATH=build selects infini-uninstalled.pc (libdir $libdir)"

# A build without the shared library links the static one with its
# private dependencies.
static=
[ -f "$build/.libs/libinfini.so" ] || static=--static
# shellcheck disable=SC2046 # pkg-config prints lists of words
${CC:-cc} $INFINI_TEST_CFLAGS $(pkg-config --cflags infini) \
  "$srcdir/tests/install/consumer.c" -o "$work/consumer" \
  $(pkg-config $static --libs infini) $INFINI_TEST_LDFLAGS -lm >"$work/cc.out" 2>&1
ok $? "consumer.c compiles and links through pkg-config${static:+ (static)}: $(head -n 1 "$work/cc.out")"

"$work/consumer" >"$work/run.out" 2>&1
rc=$?
version=$(pkg-config --modversion infini)
[ $rc = 0 ] && grep -q "^libinfini $version " "$work/run.out"
ok $? "consumer runs from the build tree (exit $rc): $(head -n 1 "$work/run.out"); pkg-config says $version"

# The judging library: a C program judges an implementation in memory
# (tests/install/conform_consumer.c), through infini-conform-uninstalled.pc.
if [ -f "$build/.libs/libinfini-conform.so" ] || [ -n "$static" ]; then
  # shellcheck disable=SC2046
  ${CC:-cc} $INFINI_TEST_CFLAGS $(pkg-config --cflags infini-conform) \
    "$srcdir/tests/install/conform_consumer.c" -o "$work/conform_consumer" \
    $(pkg-config $static --libs infini-conform) $INFINI_TEST_LDFLAGS -lm >"$work/cc2.out" 2>&1
  ok $? "conform_consumer.c compiles and links through pkg-config infini-conform: $(head -n 1 "$work/cc2.out")"
  "$work/conform_consumer" >"$work/run2.out" 2>&1
  ok $? "the judge in memory: $(head -n 1 "$work/run2.out")"
fi

echo "1..$n"
[ $failed = 0 ] && rm -rf "$work"
[ $failed = 0 ]

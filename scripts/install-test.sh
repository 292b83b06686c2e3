#!/bin/sh
# The install test: what a user gets from `make install`.
#
#   scripts/install-test.sh TARBALL [CONFIGURE-OPTION]...
#       unpack the release tarball in a temporary directory, configure it
#       with --prefix in that directory (and the options given), make
#       install, delete the unpacked source and build trees, then check the
#       prefix as below. With the trees gone, the installed infini-conform
#       can only find the installed vectors: the test proves the lookup.
#   scripts/install-test.sh --prefix DIR
#       check an installed prefix only (make installcheck does this).
#
# The checks: every file is installed (shared and static libinfini, both
# headers, infini.pc, the tools, their vectors); tests/install/consumer.c
# builds against the prefix through `pkg-config --cflags --libs infini`,
# once shared and once static (--static), runs one pair of segment steps
# with exact results, and reports the version pkg-config reports; the
# installed infini-conform, run from /, passes on the installed vectors;
# every installed tool has a man page that groff renders without warnings.
#
# Environment: CC (default cc), MAKE (default make), JOBS (default nproc),
# INFINI_CONFORMANCE_ONLY=yes (a --enable-conformance-only build: no model tools).
# Exit status 0 when every check passes; each failure prints one line.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
consumer_src=$here/../tests/install/consumer.c
CC=${CC:-cc}
MAKE=${MAKE:-make}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
failures=0

say() { printf 'install-test: %s\n' "$*"; }
fail() { printf 'install-test: FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }
die() { printf 'install-test: %s\n' "$*" >&2; exit 2; }

usage() {
  die "usage: install-test.sh TARBALL [CONFIGURE-OPTION]... | --prefix DIR"
}

[ $# -ge 1 ] || usage
tmp=$(mktemp -d "${TMPDIR:-/tmp}/infini-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- install from the tarball, or take an installed prefix ---------------
trees_removed=no
if [ "$1" = --prefix ]; then
  [ $# -eq 2 ] || usage
  [ -d "$2" ] || die "no such prefix: $2"
  prefix=$(cd "$2" && pwd)
else
  tarball=$1; shift
  [ -f "$tarball" ] || die "no such tarball: $tarball"
  prefix=$tmp/prefix
  mkdir "$tmp/src"
  tar -xzf "$tarball" -C "$tmp/src" || die "cannot unpack $tarball"
  srcdir=$(echo "$tmp"/src/*)
  [ -f "$srcdir/configure" ] || die "$tarball has no configure script"
  mkdir "$tmp/build"
  say "configure --prefix=$prefix $*"
  (cd "$tmp/build" && "$srcdir/configure" -q --prefix="$prefix" "$@") ||
    die "configure failed"
  say "make install"
  "$MAKE" -C "$tmp/build" -j"$JOBS" install >"$tmp/install.log" 2>&1 || {
    tail -n 40 "$tmp/install.log" >&2
    die "make install failed"
  }
  # Nothing of the source or build tree may be needed any more.
  rm -rf "$srcdir" "$tmp/build"
  trees_removed=yes
fi

# ---- what is installed ----------------------------------------------------
pc=$(find "$prefix" -name infini.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || die "no infini.pc under $prefix"
export PKG_CONFIG_PATH="${pc%/*}${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# --define-prefix: take the prefix from where infini.pc is, so a prefix
# installed with DESTDIR works too.
pkgconf="pkg-config --define-prefix"
libdir=$($pkgconf --variable=libdir infini)
includedir=$($pkgconf --variable=includedir infini)
bindir=$prefix/bin
datadir=$prefix/share
version=$($pkgconf --modversion infini)
say "prefix $prefix, infini $version"

# The static library is built unless configure was given --disable-static,
# which libtool records in libinfini.la (old_library='').
static=yes
grep -q "^old_library=''" "$libdir/libinfini.la" 2>/dev/null && static=no
[ "$static" = no ] || [ -e "$libdir/libinfini.a" ] || fail "not installed: $libdir/libinfini.a"
for f in "$libdir/libinfini.so" "$libdir/libinfini-conform.so" \
         "$includedir/infini.h" "$includedir/infini_model.h" "$includedir/infini_conform.h" \
         "$datadir/infini/vectors/v1" "$datadir/infini/vectors/v2" "$datadir/infini/vectors/schema"; do
  [ -e "$f" ] || fail "not installed: $f"
done
tools=$(ls "$bindir" 2>/dev/null | grep '^infini-' || true)
[ -n "$tools" ] || fail "no infini-* program in $bindir"
# A conformance-only build (INFINI_CONFORMANCE_ONLY=yes, from its
# installcheck) installs no model or capacity tools.
model_tools="infini-run infini-weights infini-capacity"
[ "${INFINI_CONFORMANCE_ONLY:-no}" = yes ] && model_tools=
for t in infini-conform infini-vectors $model_tools; do
  [ -x "$bindir/$t" ] || fail "not installed: $bindir/$t"
done

# ---- a program built against the prefix through pkg-config ----------------
warn="-std=c11 -Wall -Wextra -Werror"
# shellcheck disable=SC2046 # pkg-config's output is a list of words
if $CC $warn "$consumer_src" -o "$tmp/consumer" \
     $($pkgconf --cflags --libs infini) 2>"$tmp/cc.log"; then
  # The prefix is not in the loader's path (no ldconfig for a test prefix).
  if LD_LIBRARY_PATH="$libdir" "$tmp/consumer" >"$tmp/consumer.out"; then
    grep -q "^libinfini $version " "$tmp/consumer.out" ||
      fail "consumer reports $(head -n 1 "$tmp/consumer.out"), pkg-config says $version"
    say "shared: $(tr '\n' ';' <"$tmp/consumer.out")"
  else
    fail "the consumer (shared) failed: $(cat "$tmp/consumer.out")"
  fi
else
  fail "the consumer does not build against the shared library: $(head -n 3 "$tmp/cc.log")"
fi

# The judging library (include/infini_conform.h): a C program judges an
# implementation in memory against the installed vectors, which it finds
# by itself (tests/install/conform_consumer.c).
conform_src=${consumer_src%/*}/conform_consumer.c
# shellcheck disable=SC2046
if $CC $warn "$conform_src" -o "$tmp/conform_consumer" \
     $($pkgconf --cflags --libs infini-conform) -lm 2>"$tmp/cc.log"; then
  (cd / && LD_LIBRARY_PATH="$libdir" "$tmp/conform_consumer") >"$tmp/conform.out" 2>&1 ||
    fail "the judge in memory: $(cat "$tmp/conform.out")"
  say "judge in memory: $(head -n 1 "$tmp/conform.out")"
else
  fail "conform_consumer.c does not build through pkg-config infini-conform: $(head -n 3 "$tmp/cc.log")"
fi

# Static: libinfini.a and, through Libs.private and Requires.private,
# what it needs (jansson, nettle, Sleef, libm, pthread). Only libinfini is
# forced static; the C library and the others stay shared as usual.
static_libs=$($pkgconf --static --libs infini | sed 's/ -linfini / /; s/^-linfini //')
# shellcheck disable=SC2086
if [ "$static" = no ]; then
  say "static: skipped (configured with --disable-static)"
elif $CC $warn "$consumer_src" -o "$tmp/consumer-static" \
     $($pkgconf --cflags infini) "$libdir/libinfini.a" $static_libs \
     2>"$tmp/cc.log"; then
  if "$tmp/consumer-static" >"$tmp/consumer.out"; then
    say "static: $(tr '\n' ';' <"$tmp/consumer.out")"
  else
    fail "the consumer (static) failed: $(cat "$tmp/consumer.out")"
  fi
  if command -v ldd >/dev/null && ldd "$tmp/consumer-static" | grep -q libinfini; then
    fail "the static consumer still loads libinfini.so"
  fi
else
  fail "the consumer does not link statically: $(head -n 3 "$tmp/cc.log")"
fi

# ---- the installed infini-conform, from / ----------------------------------
if [ -x "$bindir/infini-conform" ]; then
  if [ "$trees_removed" = yes ]; then
    # Only the installed vectors exist: they must be the default.
    LD_LIBRARY_PATH="$libdir" "$bindir/infini-conform" --help |
      grep -q "$datadir/infini/vectors/v2" ||
      fail "infini-conform --help does not name $datadir/infini/vectors/v2 as the default"
  fi
  if (cd / && env -u INFINI_VECTORS LD_LIBRARY_PATH="$libdir" \
        "$bindir/infini-conform" --quiet) >"$tmp/conform.out" 2>&1; then
    say "$(tail -n 1 "$tmp/conform.out")"
  else
    fail "installed infini-conform, run from /: $(tail -n 3 "$tmp/conform.out")"
  fi
  if [ "$trees_removed" = no ]; then
    # A build tree's binary prefers that tree's vectors: check the
    # installed set explicitly, and that it is the whole set.
    LD_LIBRARY_PATH="$libdir" "$bindir/infini-conform" --quiet \
      --vectors "$datadir/infini/vectors/v2" >"$tmp/installed.out" 2>&1 ||
      fail "infini-conform on the installed vectors: $(tail -n 3 "$tmp/installed.out")"
    [ "$(tail -n 1 "$tmp/installed.out")" = "$(tail -n 1 "$tmp/conform.out")" ] ||
      fail "the installed vectors differ from the default set: $(tail -n 1 "$tmp/installed.out")"
  fi
fi

# ---- a man page for every installed tool ----------------------------------
for t in $tools; do
  page=$datadir/man/man1/$t.1
  if [ ! -f "$page" ]; then
    fail "no man page for $t ($page)"
    continue
  fi
  # -ww: every groff warning; -z: format, write nothing.
  if ! LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>"$tmp/groff.log" ||
     [ -s "$tmp/groff.log" ]; then
    fail "$page: $(head -n 3 "$tmp/groff.log")"
  fi
  grep -qi "^\.TH $t 1 " "$page" || fail "$page: its .TH does not name $t"
done
[ -z "$tools" ] || say "man pages checked for $(echo $tools | wc -w) tools"

if [ "$failures" -ne 0 ]; then
  say "$failures checks failed"
  exit 1
fi
say "every check passed"

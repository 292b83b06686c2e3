#!/bin/sh
# scripts/fuzz.sh - build the fuzz harnesses (fuzz/) with clang's libFuzzer,
# run each for a bounded time, then replay every corpus as a regression
# test. See fuzz/README.md.
#
#   sh scripts/fuzz.sh [-t SECONDS] [-b BUILDDIR] [TARGET]...
#
#   -t SECONDS   fuzzing time per target (default $FUZZ_SECONDS, else 60;
#                0 only builds and replays)
#   -b BUILDDIR  where to build and keep the runs' findings
#                (default _fuzz, relative to the source tree)
#   TARGET       npy, manifest, safetensors, checkpoint, model (default: all)
#
# The library is configured once in BUILDDIR/lib with clang,
# -fsanitize=fuzzer-no-link,address,undefined, statically (the readers'
# symbols are internal to the shared libinfini) and without the SIMD
# backends (no harness needs them). The committed seeds fuzz/corpus/<target>
# are copied to BUILDDIR/corpus/<target>, where libFuzzer adds what it finds,
# so the source tree is never written; a crashing input is saved as
# BUILDDIR/crashes/<target>/crash-* and makes the script fail. Fix the bug,
# then commit the input under fuzz/corpus/<target>/ (make check replays it).
# Exit status: 0 no crash, 1 a crash or a failed replay, 2 a build error.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
build=$src/_fuzz
all_targets="npy manifest safetensors checkpoint model"

while getopts t:b: opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    b) build=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-b BUILDDIR] [TARGET]..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=${*:-$all_targets}
case $seconds in
  ''|*[!0-9]*) echo "fuzz.sh: -t needs a number of seconds, not '$seconds'" >&2; exit 2 ;;
esac
mkdir -p "$build"
build=$(cd "$build" && pwd)

CC=${CC_FUZZ:-clang}
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-g -O1 -fno-omit-frame-pointer $san"
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf 'fuzz.sh: %s\n' "$*"; }

# The static library and the vector library, instrumented for coverage.
build_library() {
  if [ ! -f "$build/lib/Makefile" ]; then
    say "configuring a static $CC build in $build/lib"
    mkdir -p "$build/lib"
    (cd "$build/lib" && "$src/configure" -q CC="$CC" --disable-dependency-tracking \
       CFLAGS="$cflags -fsanitize=fuzzer-no-link" \
       --disable-shared --disable-simd --without-openblas) ||
      { say "configure failed"; exit 2; }
  fi
  say "building the library"
  make -C "$build/lib" -j"$jobs" libinfini.la vectors/libinfini_vectors.la \
    >"$build/lib/make.log" 2>&1 ||
    { tail -n 30 "$build/lib/make.log"; say "build failed"; exit 2; }
}

# A variable of the configured Makefile (the libraries' link flags).
make_var() { sed -n "s/^$1 = //p" "$build/lib/Makefile"; }

# The targets whose harness and reader exist in this tree: the model
# readers (safetensors, checkpoint) may not be written yet.
available() {
  case $1 in
    safetensors) grep -q 'st_parse' "$src/src/safetensors.c" ;;
    checkpoint) grep -q 'checkpoint_parse' "$src/src/checkpoint.c" ;;
    model) grep -q 'st_parse_header' "$src/src/safetensors.c" ;;
    *) true ;;
  esac
}

link_target() {
  t=$1
  libs="$build/lib/vectors/.libs/libinfini_vectors.a $build/lib/.libs/libinfini.a"
  $CC $cflags -fsanitize=fuzzer -I"$build/lib" -I"$src" -I"$src/include" \
    $(make_var JANSSON_CFLAGS) "$src/fuzz/fuzz_$t.c" $libs \
    $(make_var JANSSON_LIBS) $(make_var NETTLE_LIBS) $(make_var SLEEF_LIBS) \
    $(make_var LIBS) -lm -o "$build/fuzz-$t" ||
    { say "cannot link fuzz-$t"; exit 2; }
}

# Fuzz one target for $seconds, then replay the seeds and the findings.
run_target() {
  t=$1
  corpus=$build/corpus/$t crashes=$build/crashes/$t
  mkdir -p "$corpus" "$crashes"
  cp "$src/fuzz/corpus/$t/"* "$corpus/"
  rc=0
  if [ "$seconds" -gt 0 ]; then
    say "fuzzing $t for ${seconds}s"
    "$build/fuzz-$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$crashes/" "$corpus" >"$build/fuzz-$t.log" 2>&1 ||
      rc=$?
    grep -E '^stat::number_of_executed_units|^stat::peak_rss' \
      "$build/fuzz-$t.log" | sed "s/^/  $t: /" || true
  fi
  if [ $rc -ne 0 ]; then
    tail -n 40 "$build/fuzz-$t.log"
    say "$t: CRASH, input saved in $crashes/"
    return 1
  fi
  say "replaying $(ls "$corpus" | wc -l) inputs of $t"
  "$build/fuzz-$t" -runs=0 "$corpus" >"$build/replay-$t.log" 2>&1 ||
    { tail -n 40 "$build/replay-$t.log"; say "$t: replay failed"; return 1; }
}

build_library
failed=0
for t in $targets; do
  case " $all_targets " in
    *" $t "*) ;;
    *) say "unknown target '$t' ($all_targets)"; exit 2 ;;
  esac
  if ! available "$t"; then
    say "$t: SKIP, its reader is not written yet"
    continue
  fi
  link_target "$t"
  run_target "$t" || failed=1
done
[ $failed = 0 ] && say "no crash" || say "FAILED"
exit $failed

#!/bin/sh
# bench/stream-bench.sh - the streaming benchmark (issue 5; a benchmark,
# never a timed test): peak resident memory and tokens/s of infini-run on
# synthetic streams of growing length, per model and backend.
#
#   bench/stream-bench.sh [BUILDDIR]      (default: the current directory)
#
# It writes the tiny and small preset models (tools/infini-weights) to a
# temporary directory and runs tools/infini-run --synthetic N on each
# backend that runs here. For each run it prints the peak resident memory
# (VmHWM: it should not grow with N, the claim under test) and tokens/s
# over the process's CPU time (the machine may be shared; CPU time does not
# count time-slices given to other processes), with the ratio against the
# ref backend measured in the same run at the same length. All runs of one
# model and length read the same token stream (same --seed), so their
# argmax digests are printed too: equal digests mean the backends chose the
# same token at every position.
#
# Environment (defaults in brackets):
#   BACKENDS       backends to try [ref neon avx2 avx512]; one that cannot
#                  run here is skipped
#   TINY_LENGTHS   stream lengths for the tiny model [10000 100000 1000000]
#   SMALL_LENGTHS  stream lengths for the small model [10000 100000 1000000]
#                  (the small model streams ~1000 tokens/s on one core, so a
#                  shared machine may want "10000 100000" or less)
set -eu

build=${1:-.}
run=$build/tools/infini-run
weights=$build/tools/infini-weights
for tool in "$run" "$weights"; do
  if [ ! -x "$tool" ]; then
    echo "stream-bench: $tool not found; build first (make) or give BUILDDIR" >&2
    exit 1
  fi
done

backends=${BACKENDS:-"ref neon avx2 avx512"}
tiny_lengths=${TINY_LENGTHS:-"10000 100000 1000000"}
small_lengths=${SMALL_LENGTHS:-"10000 100000 1000000"}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stream-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# value KEY FILE: the first field after KEY in an infini-run report.
value() {
  awk -v k="$1" '$1 == k { print $2; exit }' "$2"
}

# bench_one MODEL_NAME FILE LENGTH BACKEND: one run, one table row.
# $ref_rate is the ref backend's tokens/s at this length (set by the ref row).
bench_one() {
  out=$tmp/out
  if ! "$run" "$2" --synthetic "$3" --seed 7 --backend "$4" --quiet \
      > "$out" 2> "$tmp/err"; then
    if grep -q -e "cannot run" -e "no backend" "$tmp/err"; then
      return 0
    fi
    cat "$tmp/err" >&2
    exit 1
  fi
  rate=$(value tokens_per_s "$out")
  if [ "$4" = ref ]; then
    ref_rate=$rate
  fi
  ratio=$(awk -v r="$rate" -v b="${ref_rate:-0}" \
    'BEGIN { if (b > 0) printf "%.2f", r / b; else print "-" }')
  printf '%-6s %8s %-7s %10s %6s %9s %9s %12s %s\n' "$1" "$3" "$4" \
    "$rate" "$ratio" "$(value vm_hwm_kb "$out")" "$(value state_bytes "$out")" \
    "$(awk '$1 == "kv_cache_floats" { printf "%.0f", 4 * $2; exit }' "$out")" \
    "$(value argmax_sha256 "$out" | cut -c1-12)"
}

echo "stream-bench: $(uname -m), $(nproc 2>/dev/null || echo '?') cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
printf '%-6s %8s %-7s %10s %6s %9s %9s %12s %s\n' model tokens backend \
  tokens/s "x ref" "VmHWM kB" "state B" "KV cache B" "argmax digest"
for model in tiny small; do
  "$weights" --preset "$model" -o "$tmp/$model.safetensors"
  if [ "$model" = tiny ]; then lengths=$tiny_lengths; else lengths=$small_lengths; fi
  for n in $lengths; do
    ref_rate=
    for be in $backends; do
      bench_one "$model" "$tmp/$model.safetensors" "$n" "$be"
    done
  done
done

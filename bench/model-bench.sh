#!/bin/sh
# bench/model-bench.sh - the model benchmark (issue 12; a benchmark, never
# a timed test): tokens/s of whole models per backend, prefill (whole
# segments per call) and decode (one token per call) separately, against
# the same model in PyTorch in the same run, default and tuned.
#
#   bench/model-bench.sh [BUILDDIR]      (default: the current directory)
#
# First infini-bench --dense (the FMA peak, the read bandwidth and the
# dense layers alone, measured in this run). Then, for each preset model
# (tools/infini-weights, seed 0) and each backend that runs here,
# tools/infini-run on the synthetic stream (--seed 7): --chunk = one
# segment (prefill) and --chunk 1 (decode). Then, where PYTHON imports
# torch and numpy, bench/model_torch_bench.py on the same file and tokens,
# once as the environment is ("torch") and once tuned ("torch-tuned":
# OpenBLAS's SkylakeX kernels, ATen's AVX-512 kernels, glibc malloc kept
# from returning large blocks to the kernel, without which PyTorch spends
# much of its time in page faults). tokens/s is over CPU time, one thread;
# "x ref" and "x tuned" are ratios against the ref backend and the tuned
# PyTorch of the same model, mode and run. Equal argmax digests mean the
# same token was chosen at every position.
#
# Environment (defaults in brackets):
#   BACKENDS        [ref avx2 avx512] (one that cannot run here is skipped)
#   MODELS          [tiny small]
#   PREFILL_TOKENS  [200000 for tiny, 20000 otherwise: a tenth of a second
#                   of tiny is too short for its thread rows]
#   DECODE_TOKENS   [4000]
#   PYTHON          [python3] (empty: no PyTorch rows)
#   THREADS         [1 2] thread counts for the last backend's prefill,
#                   rows "BACKEND/tT" in tokens/s over wall time (CPU time
#                   adds the threads up), so they are only meaningful on an
#                   otherwise idle machine: mode "wall" feeds one segment
#                   per call (each layer's work split between the
#                   threads), mode "wall-long" LONG_CHUNK tokens per call
#                   (a pipeline of layers: src/model.c); then
#                   "BACKEND/2x1": two streams of one thread each at once,
#                   their tokens/s added up (the same stream twice: the
#                   same digest), the most two cores give
#   LONG_CHUNK      [4096]
set -eu

build=${1:-.}
here=$(cd "$(dirname "$0")" && pwd)
run=$build/tools/infini-run
weights=$build/tools/infini-weights
bench=$build/bench/infini-bench
for tool in "$run" "$weights" "$bench"; do
  if [ ! -x "$tool" ]; then
    echo "model-bench: $tool not found; build first (make) or give BUILDDIR" >&2
    exit 1
  fi
done
backends=${BACKENDS:-"ref avx2 avx512"}
models=${MODELS:-"tiny small"}
decode_tokens=${DECODE_TOKENS:-4000}
python=${PYTHON-python3}
threads=${THREADS:-"1 2"}
long_chunk=${LONG_CHUNK:-4096}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/model-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

value() { # KEY FILE: the first field after KEY
  awk -v k="$1" '$1 == k { print $2; exit }' "$2"
}

echo "model-bench: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 |
  sed 's/^ *//'), $(nproc 2>/dev/null || echo '?') cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
"$bench" --dense
echo

have_torch=no
if [ -n "$python" ] && "$python" -c 'import torch, numpy' 2>/dev/null; then
  have_torch=yes
fi

# row MODEL IMPL MODE TOKENS OUT: one table row from a report in OUT.
row() {
  rate=$(value tokens_per_s "$5")
  printf '%-6s %-12s %-9s %7s %10s %7s %8s %s\n' "$1" "$2" "$3" "$4" "$rate" \
    "$(awk -v r="$rate" -v b="${ref_rate:-0}" 'BEGIN {
       if (b > 0) printf "%.2f", r / b; else print "-" }')" \
    "$(awk -v r="$rate" -v b="${tuned_rate:-0}" 'BEGIN {
       if (b > 0) printf "%.2f", r / b; else print "-" }')" \
    "$(value argmax_sha256 "$5" | cut -c1-12)"
}

printf '%-6s %-12s %-9s %7s %10s %7s %8s %s\n' model impl mode tokens \
  tokens/s "x ref" "x tuned" "argmax digest"
for model in $models; do
  file=$tmp/$model.safetensors
  "$weights" --preset "$model" -o "$file" > /dev/null
  tuned_rate=
  prefill_tokens=${PREFILL_TOKENS:-20000}
  [ -z "${PREFILL_TOKENS:-}" ] && [ "$model" = tiny ] && prefill_tokens=200000
  if [ "$have_torch" = yes ]; then
    # tuned first: every infini row of this model is compared with it
    OPENBLAS_CORETYPE=SkylakeX ATEN_CPU_CAPABILITY=avx512 \
      MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 \
      MALLOC_TOP_PAD_=268435456 \
      "$python" "$here/model_torch_bench.py" "$file" --synthetic \
      "$prefill_tokens" --seed 7 > "$tmp/tuned"
    tuned_rate=$(value tokens_per_s "$tmp/tuned")
    "$python" "$here/model_torch_bench.py" "$file" --synthetic \
      "$prefill_tokens" --seed 7 > "$tmp/torch"
  fi
  for mode in prefill decode; do
    ref_rate=
    if [ "$mode" = prefill ]; then n=$prefill_tokens; chunk=; else
      n=$decode_tokens; chunk="--chunk 1"; tuned_rate=; fi
    for be in $backends; do
      # shellcheck disable=SC2086 # $chunk is two words or none
      if ! "$run" "$file" --synthetic "$n" --seed 7 --backend "$be" $chunk \
          --quiet > "$tmp/out" 2> "$tmp/err"; then
        if grep -q -e "cannot run" -e "no backend" "$tmp/err"; then continue; fi
        cat "$tmp/err" >&2
        exit 1
      fi
      [ "$be" = ref ] && ref_rate=$(value tokens_per_s "$tmp/out")
      row "$model" "$be" "$mode" "$n" "$tmp/out"
      last=$be
    done
    if [ "$mode" = prefill ]; then
      for call in seg long; do
        chunk=
        [ "$call" = long ] && chunk="--chunk $long_chunk"
        for t in $threads; do
          # shellcheck disable=SC2086 # $chunk is two words or none
          "$run" "$file" --synthetic "$n" --seed 7 --backend "$last" $chunk \
            --threads "$t" --quiet > "$tmp/out"
          sed 's/^tokens_per_s /cpu_rate /; s/^tokens_per_s_wall /tokens_per_s /' \
            "$tmp/out" > "$tmp/wall"
          how=wall
          [ "$call" = long ] && how=wall-long
          row "$model" "$last/t$t" "$how" "$n" "$tmp/wall"
        done
      done
      # The ceiling the thread rows are judged against: two streams, one
      # thread each, at the same time (tokens/s added up). They share no
      # data, so this is what two cores give when nothing moves between
      # them; a stream on 2 threads hands every layer's activations from
      # core to core.
      "$run" "$file" --synthetic "$n" --seed 7 --backend "$last" --quiet \
        > "$tmp/pair1" &
      first=$!
      "$run" "$file" --synthetic "$n" --seed 7 --backend "$last" --quiet \
        > "$tmp/pair2"
      wait "$first"
      awk '$1 == "tokens_per_s_wall" { s += $2 } $1 == "argmax_sha256" { d = $2 }
           END { printf "tokens_per_s %.1f\nargmax_sha256 %s\n", s, d }' \
        "$tmp/pair1" "$tmp/pair2" > "$tmp/wall"
      row "$model" "$last/2x1" wall "$n" "$tmp/wall"
    fi
    if [ "$mode" = prefill ] && [ "$have_torch" = yes ]; then
      row "$model" torch prefill "$prefill_tokens" "$tmp/torch"
      row "$model" torch-tuned prefill "$prefill_tokens" "$tmp/tuned"
    fi
  done
done
if [ "$have_torch" = no ]; then
  echo "model-bench: no PyTorch rows (PYTHON=${python:-empty} cannot import torch and numpy)"
else
  echo "model-bench: $("$python" -c 'import torch; print("torch", torch.__version__)'); its model has no token-by-token decoding, so no torch decode rows"
fi

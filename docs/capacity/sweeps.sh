#!/bin/sh
# docs/capacity/sweeps.sh - the sweeps behind docs/capacity.md: one CSV per
# question, written by infini-capacity (default backend, seed 0, 5 trials
# a point) into OUTDIR. `make capacity-data` runs it from the build tree;
# docs/capacity.md records its run time.
#   usage: docs/capacity/sweeps.sh TOOL OUTDIR
set -e
[ $# = 2 ] || { echo "usage: $0 TOOL OUTDIR" >&2; exit 2; }
cap=$1 out=$2
mkdir -p "$out"
run() {
  name=$1
  shift
  echo "$name: infini-capacity $*" >&2
  "$cap" "$@" --force -o "$out/$name.csv"
}
# Capacity of iid Gaussian keys against d_key, both rules, one segment.
run gauss capacity --d-key 32,64,128,256
# The same associations written in 1, 4, 16 segments and token by token.
run segments capacity --d-key 64 --segments 1,4,16,tokens
# Keys around a shared direction.
run corr capacity --d-key 64 --rule linear --keys corr --rho 0.1,0.3,0.6,0.9
# Sparser features: a negative shift b, at key scales 1 and 3.
run sparse1 capacity --d-key 64 --keys sparse --shift 0,1,2,4,8 --key-scale 1
run sparse3 capacity --d-key 64 --keys sparse --shift 0,1,2,4,8 --key-scale 3
# One-hot keys (round robin over the coordinates), the others at -b.
run onehot capacity --d-key 64 --keys onehot --shift 2,4,8,200
# Forgetting: segment 0 after up to 32 segments of 16 distractors.
run forgetting forgetting --d-key 64 --items 1,4,16 --later 32
run forgetting-sparse forgetting --d-key 64 --items 1,4,16 --later 32 \
  --keys sparse --shift 4 --key-scale 3
# Needles in streams of 4, 16, 64 segments of 16 tokens (20 trials: one
# needle is one probe a trial).
run needles needles --d-key 64 --trials 20
run needles-sparse needles --d-key 64 --keys sparse --shift 4 --key-scale 3 \
  --trials 20

#!/bin/sh
# vectors/test-regen.sh - infini-vectors --shipped rebuilds the shipped set
# (vectors/v1) byte for byte: every manifest and every .npy file, and no
# file more or less. TAP, one line per operator.
srcdir=${srcdir:-.}
shipped=$srcdir/vectors/v1
tmp=${TMPDIR:-/tmp}/infini-regen.$$
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ ! -f "$shipped/retrieve.json" ]; then
  echo "1..0 # SKIP no shipped vectors in $shipped"
  exit 0
fi
if ! ./vectors/infini-vectors --shipped --out "$tmp"; then
  echo "not ok 1 - infini-vectors --shipped failed"
  echo "1..1"
  exit 0
fi
n=0
for op in feature_map retrieve update_linear update_delta mix local_attention \
          segment_step layer_step; do
  n=$((n + 1))
  bad=""
  cmp -s "$shipped/$op.json" "$tmp/$op.json" || bad="$bad $op.json"
  (cd "$shipped/data/$op" && ls) > "$tmp/list.shipped"
  (cd "$tmp/data/$op" && ls) > "$tmp/list.new"
  cmp -s "$tmp/list.shipped" "$tmp/list.new" || bad="$bad (file lists differ)"
  count=0
  for f in $(cat "$tmp/list.shipped"); do
    count=$((count + 1))
    cmp -s "$shipped/data/$op/$f" "$tmp/data/$op/$f" || bad="$bad $f"
  done
  if [ -z "$bad" ]; then
    echo "ok $n - $op.json and its $count tensor files rebuilt byte for byte"
  else
    echo "not ok $n - $op: differs:$bad" | cut -c1-400
  fi
done
echo "1..$n"

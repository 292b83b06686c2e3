#!/bin/sh
# vectors/test-regen.sh - infini-vectors --shipped rebuilds the shipped sets
# byte for byte: vectors/v2 (the current one) and the frozen vectors/v1
# (--schema-version 1), every manifest and every .npy file, and no file
# more or less. TAP, one line per set and operator.
srcdir=${srcdir:-.}
tmp=${TMPDIR:-/tmp}/infini-regen.$$
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
for version in 1 2; do
  shipped=$srcdir/vectors/v$version
  out=$tmp/v$version
  if [ ! -f "$shipped/retrieve.json" ]; then
    echo "# SKIP no shipped vectors in $shipped"
    continue
  fi
  if ! ./vectors/infini-vectors --shipped --schema-version $version --out "$out"; then
    n=$((n + 1))
    echo "not ok $n - infini-vectors --shipped --schema-version $version failed"
    continue
  fi
  for op in feature_map retrieve update_linear update_delta mix local_attention \
            segment_step layer_step; do
    n=$((n + 1))
    bad=""
    cmp -s "$shipped/$op.json" "$out/$op.json" || bad="$bad $op.json"
    (cd "$shipped/data/$op" && ls) > "$tmp/list.shipped"
    (cd "$out/data/$op" && ls) > "$tmp/list.new"
    cmp -s "$tmp/list.shipped" "$tmp/list.new" || bad="$bad (file lists differ)"
    count=0
    for f in $(cat "$tmp/list.shipped"); do
      count=$((count + 1))
      cmp -s "$shipped/data/$op/$f" "$out/data/$op/$f" || bad="$bad $f"
    done
    if [ -z "$bad" ]; then
      echo "ok $n - v$version/$op.json and its $count tensor files rebuilt byte for byte"
    else
      echo "not ok $n - v$version/$op: differs:$bad" | cut -c1-400
    fi
  done
  rm -rf "$out"
done
echo "1..$n"

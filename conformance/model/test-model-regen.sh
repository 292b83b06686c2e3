#!/bin/sh
# conformance/model/test-model-regen.sh - infini-model-vectors rebuilds the
# shipped full-model golden set (vectors/model/v1) byte for byte: every
# manifest and tensor file, and no file more or less. The weights are not
# shipped: each manifest's sha256 of them is checked by the rebuild, which
# regenerates them. TAP, one line per preset.
srcdir=${srcdir:-.}
shipped=$srcdir/vectors/model/v1
tmp=${TMPDIR:-/tmp}/infini-model-regen.$$
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ ! -d "$shipped" ]; then
  echo "1..0 # SKIP no shipped model vectors in $shipped"
  exit 0
fi
mkdir -p "$tmp/out"
if ! ./conformance/model/infini-model-vectors --out "$tmp/out" --tmp "$tmp" >"$tmp/log" 2>&1; then
  sed 's/^/# /' "$tmp/log"
  echo "not ok 1 - infini-model-vectors failed"
  echo "1..1"
  exit 0
fi
(cd "$shipped" && find . -type f | sort) > "$tmp/list.shipped"
(cd "$tmp/out" && find . -type f | sort) > "$tmp/list.new"
n=1
if cmp -s "$tmp/list.shipped" "$tmp/list.new"; then
  echo "ok 1 - the same $(wc -l < "$tmp/list.new") files"
else
  echo "not ok 1 - file lists differ: $(diff "$tmp/list.shipped" "$tmp/list.new" | tr '\n' ' ' | cut -c1-300)"
fi
for manifest in "$shipped"/*.json; do
  name=$(basename "$manifest" .json)
  n=$((n + 1))
  bad=""
  for f in "$name.json" $(cd "$shipped" && ls "$name"); do
    [ -f "$shipped/$f" ] || f="$name/$f"
    cmp -s "$shipped/$f" "$tmp/out/$f" || bad="$bad $f"
  done
  if [ -z "$bad" ]; then
    echo "ok $n - $name rebuilt byte for byte"
  else
    echo "not ok $n - $name differs:$bad"
  fi
done
echo "1..$n"

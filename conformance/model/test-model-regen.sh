#!/bin/sh
# conformance/model/test-model-regen.sh - infini-model-vectors rebuilds the
# shipped full-model golden set (vectors/model/v1) byte for byte: every
# manifest and tensor file, and no file more or less. The weights are not
# shipped: each manifest's sha256 of them is checked by the rebuild, which
# regenerates them. TAP, one line per preset.
#
# INFINI_MODEL_REGEN_PRESETS (a space-separated list of preset names;
# default: every shipped one) narrows it to those presets, their files and
# no other (scripts/cross-check.sh: under qemu the two small presets take
# over ten minutes, the tiny ones seconds, through the same code).
srcdir=${srcdir:-.}
shipped=$srcdir/vectors/model/v1
tmp=${TMPDIR:-/tmp}/infini-model-regen.$$
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ ! -d "$shipped" ]; then
  echo "1..0 # SKIP no shipped model vectors in $shipped"
  exit 0
fi
# Unnarrowed, the generator makes every preset it knows (one it knows and
# the shipped set lacks shows as a file-list difference).
only=${INFINI_MODEL_REGEN_PRESETS:-}
presets=${only:-$(cd "$shipped" && ls ./*.json | sed 's|^\./||; s/\.json$//')}
for name in $presets; do
  if [ ! -f "$shipped/$name.json" ]; then
    echo "Bail out! INFINI_MODEL_REGEN_PRESETS: no shipped preset '$name'"
    exit 1
  fi
done
mkdir -p "$tmp/out"
# shellcheck disable=SC2086 # one argument per preset
if ! ./conformance/model/infini-model-vectors --out "$tmp/out" --tmp "$tmp" $only >"$tmp/log" 2>&1; then
  sed 's/^/# /' "$tmp/log"
  echo "not ok 1 - infini-model-vectors failed"
  echo "1..1"
  exit 0
fi
# the shipped files of the presets asked for: NAME.json and NAME/*
(cd "$shipped" && for name in $presets; do
   find "./$name.json" "./$name" -type f; done | sort) > "$tmp/list.shipped"
(cd "$tmp/out" && find . -type f | sort) > "$tmp/list.new"
n=1
if cmp -s "$tmp/list.shipped" "$tmp/list.new"; then
  echo "ok 1 - the same $(wc -l < "$tmp/list.new") files"
else
  echo "not ok 1 - file lists differ: $(diff "$tmp/list.shipped" "$tmp/list.new" | tr '\n' ' ' | cut -c1-300)"
fi
for name in $presets; do
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

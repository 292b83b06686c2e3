#!/bin/sh
# tests/test-cli-errors.sh - every command-line tool on hostile input (TAP).
#
# Each tool is given a missing file, an unreadable file, an empty, a
# truncated and a garbage file, a directory where a file is expected, and
# bad options. Each time it must exit non-zero (not killed by a signal:
# no crash, no core dump) with exactly one line on stderr that starts with
# the tool's name and names the problem (the path or the option). Output
# files that exist before a failed run must be left as they were.
#
# make check runs this from the top build directory; the tools are found
# there (TOP_BUILDDIR overrides), the vectors in the source tree.

LC_ALL=C
export LC_ALL
top_builddir=${TOP_BUILDDIR:-$(pwd)}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
work=$top_builddir/tests/test-output/cli-errors
vectors=$top_srcdir/vectors/v2
conform=$top_builddir/infini-conform
gen=$top_builddir/vectors/infini-vectors
run=$top_builddir/tools/infini-run
weights=$top_builddir/tools/infini-weights

rm -rf "$work"
mkdir -p "$work" || { echo "Bail out! cannot create $work"; exit 99; }
ulimit -c 0 2>/dev/null # a crash must show as a signal, not leave a core
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# expect_error TOOL PATTERN DESCRIPTION ARGS...: TOOL ARGS exits with a
# status in 1..125, and stderr is one line "<tool>: ..." matching the
# extended regular expression PATTERN (what it must name).
expect_error() {
  tool=$1 pattern=$2 desc=$3
  shift 3
  name=$(basename "$tool") err=$work/$((n + 1)).err
  ${limit:+timeout $limit} "$tool" "$@" >"$work/$((n + 1)).out" 2>"$err" </dev/null
  rc=$?
  lines=$(wc -l <"$err")
  line=$(head -n 1 "$err")
  if [ -n "$limit" ] && [ $rc = 124 ]; then
    not_ok "$name, $desc: still running after $limit s (a hang)"
  elif [ $rc -gt 125 ]; then
    not_ok "$name, $desc: killed by signal $((rc - 128))"
  elif [ $rc = 0 ]; then
    not_ok "$name, $desc: exit status 0"
  elif [ "$lines" != 1 ]; then
    not_ok "$name, $desc: $lines lines on stderr (want 1)"
  elif ! printf '%s\n' "$line" | grep -q "^$name: "; then
    not_ok "$name, $desc: stderr does not start with '$name: '"
  elif ! printf '%s\n' "$line" | grep -Eq -- "$pattern"; then
    not_ok "$name, $desc: stderr does not name '$pattern'"
  else
    ok "$name, $desc (exit $rc): $line"
    return 0
  fi
  sed -n '1,5p' "$err" | sed 's/^/#   /'
  return 1
}

# same FILE COPY DESCRIPTION: FILE still has the bytes of COPY.
same() {
  if cmp -s "$1" "$2"; then ok "$3"; else not_ok "$3"; fi
}

# Hostile files shared by every tool.
missing=$work/no-such-file
printf '' >"$work/empty"
# the same bytes every run (not /dev/urandom): a failure must reproduce
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "%c", (i * 7919) % 256 }' >"$work/garbage"
mkdir -p "$work/a-directory"
printf 'secret\n' >"$work/unreadable"
chmod 000 "$work/unreadable"
# root reads any file whatever its mode: the case is meaningless then.
if [ "$(id -u)" = 0 ] || cat "$work/unreadable" >/dev/null 2>&1; then
  unreadable_skip="running as root, who can read a file of mode 000"
else
  unreadable_skip=
fi

# unreadable TOOL DESCRIPTION ARGS...: expect_error on the unreadable file
# (its name must be in the message), or a SKIP when running as root.
unreadable() {
  tool=$1 desc=$2
  shift 2
  if [ -n "$unreadable_skip" ]; then
    skip "$(basename "$tool"), $desc" "$unreadable_skip"
  else
    expect_error "$tool" 'unreadable' "$desc" "$@"
  fi
}

# A placeholder tool (not written yet) is skipped, not failed.
written() {
  [ -x "$1" ] && ! "$1" --help 2>&1 | grep -q 'not written yet'
}

# ---- infini-conform ------------------------------------------------------

conform_tests() {
  c=$conform
  manifest=$vectors/mix.json
  one="--vectors $manifest --id mix.json:1 --backend ref"
  expect_error "$c" 'frobnicate' "unknown option" --frobnicate
  expect_error "$c" 'vectors' "option without its value" --vectors
  expect_error "$c" 'max-failures' "bad number" --max-failures -3
  expect_error "$c" 'max-failures' "a sign (tools/cli.h: digits only)" --max-failures +5
  expect_error "$c" 'no-such-file' "missing vector directory" --vectors "$missing"
  expect_error "$c" 'empty' "empty manifest" --vectors "$work/empty"
  expect_error "$c" 'garbage' "garbage manifest" --vectors "$work/garbage"
  mkdir -p "$work/cut"
  head -c 2000 "$manifest" >"$work/cut/mix.json"
  expect_error "$c" 'cut/mix.json' "truncated manifest" --vectors "$work/cut/mix.json"
  cp "$manifest" "$work/unreadable.json" && chmod 000 "$work/unreadable.json"
  unreadable "$c" "unreadable manifest" --vectors "$work/unreadable.json"
  for opt in --include-list --exclude-list --xfail-list; do
    expect_error "$c" 'no-such-file' "missing $opt" $one "$opt" "$missing"
    expect_error "$c" 'a-directory' "a directory as $opt" $one "$opt" "$work/a-directory"
    unreadable "$c" "unreadable $opt" $one "$opt" "$work/unreadable"
    expect_error "$c" 'garbage' "garbage $opt" $one "$opt" "$work/garbage"
  done
  expect_error "$c" 'a-directory' "a directory as --plugin" --plugin "$work/a-directory"
  expect_error "$c" 'empty' "an empty --plugin" --plugin "$work/empty"
  expect_error "$c" 'garbage' "a garbage --plugin" --plugin "$work/garbage"
  expect_error "$c" 'no-such-file' "check of a missing directory" check "$missing"
  expect_error "$c" 'empty' "check of a file" check "$work/empty"
  mkdir -p "$work/check"
  printf '{"format": ' >"$work/check/index.json"
  expect_error "$c" 'index.json' "check with a truncated index.json" check "$work/check"

  # Reports: a failed run leaves an existing report as it was; a report
  # that cannot be written is an error, not a silent success.
  for fmt in tap junit json; do
    printf 'precious %s report\n' "$fmt" >"$work/report.$fmt"
    cp "$work/report.$fmt" "$work/report.$fmt.orig"
    expect_error "$c" 'no-such-file' "--$fmt with missing vectors" \
      --vectors "$missing" --force "--$fmt" "$work/report.$fmt"
    same "$work/report.$fmt" "$work/report.$fmt.orig" \
      "infini-conform: an existing --$fmt report survives a failed run"
    expect_error "$c" 'no-such-dir' "--$fmt into a missing directory" \
      $one "--$fmt" "$work/no-such-dir/report"
    expect_error "$c" 'a-directory' "--$fmt naming a directory" \
      $one "--$fmt" "$work/a-directory"
  done
  leftovers=$(ls -A "$work/a-directory")
  if [ -z "$leftovers" ]; then
    ok "infini-conform: failed report writes leave no temporary file"
  else
    not_ok "infini-conform: failed report writes left $leftovers"
  fi
}

# ---- infini-vectors --------------------------------------------------------

vectors_tests() {
  g=$gen
  expect_error "$g" 'frobnicate' "unknown option" --frobnicate
  expect_error "$g" 'out' "no --out" --op mix
  expect_error "$g" 'n' "--n 0" --out "$work/set" --n 0
  expect_error "$g" 'n' "--n not a number" --out "$work/set" --n many
  expect_error "$g" 'n' "--n overflowing" --out "$work/set" --n 99999999999999999999999
  expect_error "$g" 'eps' "--eps nan" --out "$work/set" --eps nan
  expect_error "$g" 'scale' "--scale inf" --out "$work/set" --scale inf
  expect_error "$g" 'beta' "--beta nan" --out "$work/set" --beta nan
  expect_error "$g" 'beta' "--beta overflowing a float" --out "$work/set" --beta 1e39
  expect_error "$g" 'seed' "--seed -1 (not wrapped to 2^64 - 1)" --out "$work/set" --seed -1
  expect_error "$g" 'kv-heads' "--kv-heads not dividing --heads" --out "$work/set" --heads 3 --kv-heads 2
  cp "$work/garbage" "$work/out-file"
  expect_error "$g" 'out-file' "--out naming a regular file" --out "$work/out-file" --op mix
  same "$work/out-file" "$work/garbage" "infini-vectors: a file named by --out survives"
  mkdir -p "$work/full"
  printf 'keep me\n' >"$work/full/mix.json"
  expect_error "$g" 'full' "--out naming a non-empty directory" --out "$work/full" --op mix
  if [ "$(cat "$work/full/mix.json")" = "keep me" ]; then
    ok "infini-vectors: files of an existing --out directory survive"
  else
    not_ok "infini-vectors: files of an existing --out directory survive"
  fi
  expect_error "$g" 'out-file' "--out below a regular file" --out "$work/out-file/set" --op mix
}

# ---- hostile destinations (issue 19: one writer) ---------------------------

# not_link PATH DESCRIPTION: PATH is still a symbolic link (not replaced).
still_link() {
  if [ -L "$1" ]; then ok "$2"; else not_ok "$2"; fi
}
# empty_dir DIR DESCRIPTION: nothing was written into DIR.
empty_dir() {
  if [ -z "$(ls -A "$1")" ]; then ok "$2"; else not_ok "$2: $(ls -A "$1" | head -3 | tr '\n' ' ')"; fi
}

conform_writer_tests() {
  c=$conform
  one="--vectors $vectors/mix.json --id mix.json:1 --backend ref --quiet"
  mkdir -p "$work/dest" "$work/outside"
  for fmt in tap junit json; do
    cp "$work/garbage" "$work/dest/r.$fmt"
    expect_error "$c" "exists" "--$fmt onto an existing file without --force" \
      $one "--$fmt" "$work/dest/r.$fmt"
    same "$work/dest/r.$fmt" "$work/garbage" "infini-conform: an existing --$fmt file survives without --force"
    if "$c" $one --force "--$fmt" "$work/dest/r.$fmt" >/dev/null 2>&1 &&
       ! cmp -s "$work/dest/r.$fmt" "$work/garbage"; then
      ok "infini-conform: --force replaces an existing --$fmt file"
    else
      not_ok "infini-conform: --force replaces an existing --$fmt file"
    fi
    ln -s "$work/outside/r.$fmt" "$work/dest/dangling.$fmt"
    expect_error "$c" "symbolic link" "--$fmt onto a dangling symbolic link, --force" \
      $one --force "--$fmt" "$work/dest/dangling.$fmt"
    still_link "$work/dest/dangling.$fmt" "infini-conform: a dangling --$fmt link is not replaced"
  done
  ln -s "$work/outside" "$work/linkdir"
  expect_error "$c" "symbolic link" "--json into a folder that is a symbolic link" \
    $one --json "$work/linkdir/r.json"
  empty_dir "$work/outside" "infini-conform: nothing written through a report link"
  # export --force into a folder whose in/ was replaced by a link
  "$c" --vectors "$vectors/mix.json" --id mix.json:1 export "$work/exp" >/dev/null 2>&1 ||
    { not_ok "infini-conform: cannot export"; return; }
  rm -rf "$work/exp/in" && ln -s "$work/outside" "$work/exp/in"
  expect_error "$c" "symbolic link" "export --force with DIR/in a symbolic link" \
    --vectors "$vectors/mix.json" --id mix.json:1 export --force "$work/exp"
  empty_dir "$work/outside" "infini-conform: export wrote nothing through DIR/in"
  rm -f "$work/exp/in" && mkdir "$work/exp/in"
  mv "$work/exp/index.json" "$work/exp/index.orig"
  ln -s "$work/outside/index.json" "$work/exp/index.json"
  expect_error "$c" "symbolic link" "export --force with DIR/index.json a dangling link" \
    --vectors "$vectors/mix.json" --id mix.json:1 export --force "$work/exp"
  empty_dir "$work/outside" "infini-conform: export wrote nothing through DIR/index.json"
}

vectors_writer_tests() {
  g=$gen
  mkdir -p "$work/gset" "$work/outside2"
  ln -s "$work/outside2" "$work/gset/data"
  expect_error "$g" "symbolic link" "--out DIR --force with DIR/data a symbolic link" \
    --out "$work/gset" --force --op mix
  empty_dir "$work/outside2" "infini-vectors: nothing written through DIR/data"
}

if [ -x "$conform" ]; then conform_tests; else skip "infini-conform" "not built"; fi
if [ -x "$conform" ]; then conform_writer_tests; else skip "infini-conform" "not built"; fi
if [ -x "$gen" ]; then vectors_writer_tests; else skip "infini-vectors" "not built"; fi
if [ -x "$gen" ]; then vectors_tests; else skip "infini-vectors" "not built"; fi

# ---- infini-weights, infini-run (model tools) ---------------------------------

# hostile_inputs TOOL WHAT "ARGS BEFORE" "ARGS AFTER": the tool given each
# hostile file (missing, empty, garbage, $work/cut.WHAT, a directory,
# unreadable) between the two argument lists (word-split on purpose).
hostile_inputs() {
  tool=$1 what=$2 before=$3 after=$4
  expect_error "$tool" 'no-such-file' "missing $what" $before "$missing" $after
  expect_error "$tool" 'empty' "empty $what" $before "$work/empty" $after
  expect_error "$tool" 'garbage' "garbage $what" $before "$work/garbage" $after
  expect_error "$tool" 'cut' "truncated $what" $before "$work/cut.$what" $after
  expect_error "$tool" 'a-directory' "a directory as $what" $before "$work/a-directory" $after
  unreadable "$tool" "unreadable $what" $before "$work/unreadable" $after
}

weights_tests() {
  w=$weights
  tiny="--vocab 7 --d-model 4 --layers 1 --heads 2 --kv-heads 1 --d-head 2 --d-ff 4 --segment 3"
  expect_error "$w" 'frobnicate' "unknown option" --frobnicate
  expect_error "$w" 'layers' "--layers 0" $tiny --layers 0 -o "$work/w.safetensors"
  expect_error "$w" 'vocab' "--vocab not a number" --vocab many -o "$work/w.safetensors"
  expect_error "$w" 'no-such-file' "-o into a missing directory" $tiny -o "$missing/w.safetensors"
  "$w" $tiny -o "$work/model.safetensors" 2>"$work/weights.err" ||
    { not_ok "infini-weights: cannot write the tiny model"; return; }
  size=$(wc -c <"$work/model.safetensors")
  head -c $((size / 2)) "$work/model.safetensors" >"$work/cut.safetensors"
  hostile_inputs "$w" safetensors --info ""
  cp "$work/garbage" "$work/existing.safetensors"
  expect_error "$w" 'existing' "-o an existing file without --force" $tiny -o "$work/existing.safetensors"
  same "$work/existing.safetensors" "$work/garbage" "infini-weights: an existing -o file survives"
  ln -s "$work/no-such-weights" "$work/dangling.safetensors"
  expect_error "$w" 'symbolic link' "-o onto a dangling symbolic link, --force" $tiny --force -o "$work/dangling.safetensors"
  still_link "$work/dangling.safetensors" "infini-weights: a dangling -o link is not replaced"
}

run_tests() {
  r=$run
  model=$work/model.safetensors
  [ -f "$model" ] || { skip "infini-run" "no model (infini-weights failed)"; return; }
  expect_error "$r" 'frobnicate' "unknown option" "$model" --frobnicate
  hostile_inputs "$r" safetensors "" "--synthetic 4"
  "$r" "$model" --synthetic 4 --quiet --save-checkpoint "$work/good.ckpt" >/dev/null 2>&1 ||
    { not_ok "infini-run: cannot save a checkpoint"; return; }
  size=$(wc -c <"$work/good.ckpt")
  head -c $((size - 1)) "$work/good.ckpt" >"$work/cut.ckpt"
  hostile_inputs "$r" ckpt "$model --synthetic 4 --load-checkpoint" ""
  expect_error "$r" 'no-such-file' "missing --tokens" "$model" --tokens "$missing"
  expect_error "$r" 'a-directory' "a directory as --tokens" "$model" --tokens "$work/a-directory"
  expect_error "$r" 'no-such-file' "--save-checkpoint into a missing directory" \
    "$model" --synthetic 4 --save-checkpoint "$missing/x.ckpt"
  # A failed run leaves existing output files as they were.
  cp "$work/garbage" "$work/keep.ckpt"
  cp "$work/garbage" "$work/keep.npy"
  expect_error "$r" 'no-such-file' "a failed run with outputs named" "$model" \
    --load-checkpoint "$missing" --save-checkpoint "$work/keep.ckpt" \
    --logits-out "$work/keep.npy" --synthetic 4 --force
  same "$work/keep.ckpt" "$work/garbage" "infini-run: an existing --save-checkpoint file survives a failed run"
  same "$work/keep.npy" "$work/garbage" "infini-run: an existing --logits-out file survives a failed run"
  # Existing outputs are kept without --force (the weights above all).
  cp "$model" "$work/model.orig"
  expect_error "$r" 'exists' "--save-checkpoint onto the model, no --force" "$model" \
    --synthetic 4 --quiet --save-checkpoint "$model"
  same "$model" "$work/model.orig" "infini-run: the model survives --save-checkpoint onto it"
  expect_error "$r" 'exists' "--logits-out onto an existing file, no --force" "$model" \
    --synthetic 4 --quiet --logits-out "$work/keep.npy"
  same "$work/keep.npy" "$work/garbage" "infini-run: an existing --logits-out file survives without --force"
  if "$r" "$model" --synthetic 4 --quiet --force --logits-out "$work/keep.npy" >/dev/null 2>&1 &&
     ! cmp -s "$work/keep.npy" "$work/garbage"; then
    ok "infini-run: --force replaces an existing --logits-out file"
  else
    not_ok "infini-run: --force replaces an existing --logits-out file"
  fi
  ln -s "$work/no-such-logits" "$work/dangling.npy"
  expect_error "$r" 'symbolic link' "--logits-out onto a dangling symbolic link, --force" \
    "$model" --synthetic 4 --quiet --force --logits-out "$work/dangling.npy"
  still_link "$work/dangling.npy" "infini-run: a dangling --logits-out link is not replaced"
  ln -s "$work/no-such-ckpt" "$work/dangling.ckpt"
  expect_error "$r" 'symbolic link' "--save-checkpoint onto a dangling symbolic link, --force" \
    "$model" --synthetic 4 --quiet --force --save-checkpoint "$work/dangling.ckpt"
  still_link "$work/dangling.ckpt" "infini-run: a dangling --save-checkpoint link is not replaced"
  # A synthetic stream resumed from a checkpoint continues (finding 8):
  # 6 + 3 tokens (segment 3) give the logits of one run of 9.
  one=$("$r" "$model" --synthetic 9 --quiet | sed -n 's/^logits_sha256 *//p')
  "$r" "$model" --synthetic 6 --quiet --save-checkpoint "$work/six.ckpt" >/dev/null 2>&1
  two=$("$r" "$model" --synthetic 3 --quiet --load-checkpoint "$work/six.ckpt" | sed -n 's/^logits_sha256 *//p')
  if [ -n "$one" ] && [ "$one" = "$two" ]; then
    ok "infini-run: --synthetic 6, checkpoint, --synthetic 3 = --synthetic 9"
  else
    not_ok "infini-run: --synthetic 6, checkpoint, --synthetic 3 = --synthetic 9 ($one vs $two)"
  fi
}

if written "$weights"; then weights_tests; else skip "infini-weights" "not written yet"; fi
if written "$run"; then run_tests; else skip "infini-run" "not written yet"; fi

# ---- hostile files given to the readers (issue 19: one reader) -------------
# Each must give one line at once: `timeout 10` turns a hang into a failure.

# st_file FILE JSON: a safetensors file of header JSON and no data.
st_file() {
  len=${#2}
  lenbytes=$(printf '\\%03o' $((len & 255)) $(((len >> 8) & 255)) \
    $(((len >> 16) & 255)) $(((len >> 24) & 255)))
  { printf "$lenbytes"; printf '\000\000\000\000'; printf '%s' "$2"; } >"$1"
}
# meta VOCAB D_MODEL LAYERS: the __metadata__ of a config, no tensors.
meta() {
  printf '{"__metadata__":{"format":"infini-model","format_version":"1","vocab_size":"%s","d_model":"%s","n_layers":"%s","n_heads":"2","n_kv_heads":"1","d_head":"2","d_ff":"4","segment_len":"3","rule":"linear","position":"rope","rope_theta":"0x1.388p+13","norm_eps":"0x1.4f8b58p-17","attn_eps":"0x0p+0","attn_scale":"0x1.6a09e6p-1"}}' "$1" "$2" "$3"
}

model_reader_tests() {
  w=$weights r=$run
  model=$work/model.safetensors
  mkfifo "$work/fifo" "$work/fifo.json" 2>/dev/null
  ln -s /dev/zero "$work/zero"
  truncate -s 3G "$work/sparse" 2>/dev/null || head -c 1 /dev/zero >"$work/sparse"
  expect_error "$w" 'fifo' "a FIFO as --info" --info "$work/fifo"
  expect_error "$w" 'zero' "a link to /dev/zero as --info" --info "$work/zero"
  expect_error "$w" 'sparse' "a 3 GB sparse file as --info" --info "$work/sparse"
  expect_error "$r" 'fifo' "a FIFO as the model" "$work/fifo" --synthetic 4
  [ -f "$model" ] && expect_error "$r" 'fifo' "a FIFO as --load-checkpoint" \
    "$model" --synthetic 4 --load-checkpoint "$work/fifo"
  st_file "$work/layers.safetensors" "$(meta 7 4 1000000000000000)"
  expect_error "$w" "missing" "--info, n_layers 10^15 and no tensors" --info "$work/layers.safetensors"
  st_file "$work/vocab.safetensors" "$(meta 6000000 64 1)"
  expect_error "$w" "missing" "--info, vocab 6000000 and no tensors" --info "$work/vocab.safetensors"
  st_file "$work/vocab12.safetensors" "$(meta 1000000000000 64 1)"
  expect_error "$w" "missing" "--info, vocab 10^12 and no tensors (refused before allocating)" \
    --info "$work/vocab12.safetensors"
  expect_error "$w" 'layers' "--layers 10^15" --vocab 7 --d-model 4 \
    --layers 1000000000000000 --heads 2 --kv-heads 1 --d-head 2 --d-ff 4 \
    --segment 3 -o "$work/huge.safetensors"
}

conform_reader_tests() {
  c=$conform
  one="--vectors $vectors/mix.json --id mix.json:1"
  expect_error "$c" 'fifo' "a FIFO as --include-list" $one --include-list "$work/fifo"
  expect_error "$c" 'zero' "/dev/zero as --exclude-list" $one --exclude-list "$work/zero"
  mkdir -p "$work/vset" && cp "$vectors/mix.json" "$work/vset/" &&
    mkfifo "$work/vset/other.json"
  expect_error "$c" 'other.json' "a FIFO as a manifest of a --vectors folder" --vectors "$work/vset"
  rm -f "$work/vset/other.json"
  cp -R "$vectors/data" "$work/vset/" 2>/dev/null
  t=$(ls "$work/vset/data/mix" | head -n 1)
  rm -f "$work/vset/data/mix/$t" && mkfifo "$work/vset/data/mix/$t"
  expect_error "$c" "$t" "a FIFO as a vector tensor" --vectors "$work/vset/mix.json" --backend ref
  rm -f "$work/vset/data/mix/$t" && truncate -s 20M "$work/vset/data/mix/$t" 2>/dev/null &&
    expect_error "$c" "more than" "a 20 MB sparse vector tensor (refused by its declared shape)" \
      --vectors "$work/vset/mix.json" --backend ref
  "$c" $one export "$work/fexp" >/dev/null 2>&1 || { not_ok "infini-conform: cannot export"; return; }
  outs=$(sed -n 's/.*"file": *"\(out\/[^"]*\)".*/\1/p' "$work/fexp/index.json")
  set -- $outs
  mkfifo "$work/fexp/$1"
  [ -n "$2" ] && ln -s /dev/zero "$work/fexp/$2"
  ${limit:+timeout $limit} "$c" check "$work/fexp" --vectors "$vectors/mix.json" \
    --id mix.json:1 >"$work/fexp.out" 2>&1
  rc=$?
  if [ $rc = 1 ] && grep -q 'not a regular file\|symbolic link' "$work/fexp.out"; then
    ok "infini-conform: a FIFO and a /dev/zero link as outputs fail their case at once (exit 1)"
  else
    not_ok "infini-conform: a FIFO and a /dev/zero link as outputs: exit $rc"
    sed -n '1,5p' "$work/fexp.out" | sed 's/^/#   /'
  fi
  mv "$work/fexp/index.json" "$work/fexp/index.real"
  mkfifo "$work/fexp/index.json"
  expect_error "$c" 'index.json' "check with a FIFO as DIR/index.json" check "$work/fexp" \
    --vectors "$vectors/mix.json"
}

# Manifest strides are bounded by the rows they pad (findings 2, 17): a
# stride of 2^56 wrapped rows x stride and crashed the runner; 4194304
# made it fill gigabytes with guard values.
stride_tests() {
  c=$conform
  mkdir -p "$work/stride"
  ln -s "$vectors/data" "$work/stride/data"
  for s in 72057594037927936 4194304; do
    sed 's/^    "x": 40,$/    "x": '$s',/' "$vectors/feature_map.json" >"$work/stride/feature_map.json"
    if grep -q "\"x\": $s," "$work/stride/feature_map.json"; then
      expect_error "$c" 'stride' "a manifest stride of $s" \
        --vectors "$work/stride/feature_map.json" --backend ref
    else
      not_ok "infini-conform: no stride to edit in feature_map.json"
    fi
  done
}

# The judge comes from the exporter, not from the folder under check
# (finding 16): an index pointing at a copy of the vectors whose
# tolerances are 1e30 must not make wrong outputs pass.
forged_vectors_tests() {
  c=$conform
  mkdir -p "$work/forged"
  ln -s "$vectors/data" "$work/forged/data"
  sed 's/"c_arith": [0-9.]*/"c_arith": 1e30/; s/"c_input": [0-9.]*/"c_input": 1e30/' \
    "$vectors/mix.json" >"$work/forged/mix.json"
  "$c" --vectors "$vectors" --id mix.json:1 export "$work/judged" >/dev/null 2>&1 ||
    { not_ok "infini-conform: cannot export for the forged-vectors test"; return; }
  cp "$work/judged/in/mix-1.a_mem.npy" "$work/judged/out/mix-1.out.npy" # wrong
  sed "s|\"vectors\": \"[^\"]*\"|\"vectors\": \"$work/forged\"|" \
    "$work/judged/index.json" >"$work/judged/index.new" &&
    mv "$work/judged/index.new" "$work/judged/index.json"
  if "$c" --vectors "$work/forged/mix.json" --id mix.json:1 --backend ref --quiet \
       >/dev/null 2>&1; then
    ok "infini-conform: the forged copy itself loads (the test is meaningful)"
  else
    not_ok "infini-conform: the forged copy itself loads"
  fi
  INFINI_VECTORS= "$c" check "$work/judged" --id mix.json:1 --quiet >"$work/judged.out" 2>&1
  rc=$?
  if [ $rc = 1 ]; then
    ok "infini-conform: check ignores the vectors an index names (wrong outputs fail, exit 1)"
  else
    not_ok "infini-conform: check with an index naming forged vectors: exit $rc (want 1)"
  fi
  expect_error "$c" 'sha256' "check --vectors with vectors other than the exported ones" \
    check "$work/judged" --vectors "$work/forged" --id mix.json:1
}

# jansson quotes the input around an error, newlines included (finding 9):
# the tools' messages must stay one line.
quoted_newline_tests() {
  bad='{"a": "x\u12
"}'
  printf '%s' "$bad" >"$work/nl.json"
  expect_error "$conform" 'nl.json' "a manifest whose JSON error quotes a newline" \
    --vectors "$work/nl.json"
  mkdir -p "$work/nlidx/in" "$work/nlidx/out"
  printf '%s' "$bad" >"$work/nlidx/index.json"
  expect_error "$conform" 'index.json' "an index.json whose JSON error quotes a newline" \
    check "$work/nlidx"
  if written "$weights"; then
    st_file "$work/nl.safetensors" "$bad"
    expect_error "$weights" 'nl.safetensors' "a safetensors header whose JSON error quotes a newline" \
      --info "$work/nl.safetensors"
  fi
}

# A model export (docs/conformance.md, "Checking a whole model"): hostile
# outputs fail their model at once (exit 1), a hostile or forged index and
# bad --model lists are one line and exit 2.
# model_fails PATTERN DESCRIPTION: check of the export $mx exits 1 and
# says PATTERN.
model_fails() {
  ${limit:+timeout $limit} "$c" check "$mx" --no-diagnose >"$work/mexp.out" 2>&1
  rc=$?
  if [ $rc = 1 ] && grep -q "$1" "$work/mexp.out"; then
    ok "infini-conform: $2 (exit 1)"
  else
    not_ok "infini-conform: $2: exit $rc"
    sed -n '1,5p' "$work/mexp.out" | sed 's/^/#   /'
  fi
}

model_export_tests() {
  c=$conform
  mx=$work/mexp
  "$c" export "$mx" --model tiny_probe >/dev/null 2>&1 || { not_ok "infini-conform: cannot export a model"; return; }
  o=$mx/model/tiny_probe/out
  mkfifo "$o/logits.npy" && ln -s /dev/zero "$o/hidden.npy"
  model_fails 'not a regular file' "a FIFO as a model's logits fails the model at once"
  rm -f "$o/logits.npy" && head -c 1000 "$top_srcdir/vectors/model/v1/tiny_probe/logits.npy" >"$o/logits.npy"
  model_fails 'truncated' "truncated logits fail the model"
  cp "$mx/index.json" "$work/mindex.json"
  sed 's/"model": "tiny_probe"/"model": "..\/..\/etc"/' "$work/mindex.json" >"$mx/index.json"
  expect_error "$c" 'model entry' "a model index naming no preset" check "$mx"
  sed 's/"manifest_sha256": "./"manifest_sha256": "x/' "$work/mindex.json" >"$mx/index.json"
  expect_error "$c" 'model-vectors' "a model index exported from another golden set" check "$mx"
  cp "$work/mindex.json" "$mx/index.json"
  expect_error "$c" 'profile|fp16' "a model checked under fp16" check "$mx" --profile fp16
  expect_error "$c" 'junit' "a model check with --junit" check "$mx" --junit "$work/m.xml"
  expect_error "$c" '--id' "a model check with an operator selection" check "$mx" --id 3
  expect_error "$c" 'nope' "export --model naming no preset" export "$work/m2" --model nope
  expect_error "$c" '--op' "export --model with --op" export "$work/m2" --model tiny_probe --op mix
  expect_error "$c" 'not empty' "export --model into a folder that is not empty" \
    export "$mx" --model tiny_probe
}

limit=10
if [ -x "$conform" ]; then model_export_tests; else skip "model exports" "not built"; fi
if [ -x "$conform" ]; then quoted_newline_tests; else skip "quoted newlines" "not built"; fi
if [ -x "$conform" ]; then forged_vectors_tests; else skip "forged vectors" "not built"; fi
if [ -x "$conform" ]; then stride_tests; else skip "strides" "not built"; fi
if written "$weights" && written "$run"; then model_reader_tests; else skip "model readers" "tools not written"; fi
if [ -x "$conform" ]; then conform_reader_tests; else skip "infini-conform readers" "not built"; fi
limit=

chmod -R u+rwx "$work" 2>/dev/null
echo "1..$n"
[ $failed = 0 ] && rm -rf "$work"
exit 0

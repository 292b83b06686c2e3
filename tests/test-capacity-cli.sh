#!/bin/sh
# tests/test-capacity-cli.sh - infini-capacity's command line (TAP): every
# bad argument is one line on stderr naming it, exit status 2; an existing
# output file is kept without --force (exit 1) and replaced with it; the
# same seed gives the same bytes, on stdout and through -o. Tiny sweeps
# only (well under a second natively).
LC_ALL=C
export LC_ALL
top_builddir=${TOP_BUILDDIR:-$(pwd)}
cap=$top_builddir/tools/infini-capacity
work=$top_builddir/tests/test-output/capacity-cli
rm -rf "$work"
mkdir -p "$work" || { echo "Bail out! cannot create $work"; exit 99; }
ulimit -c 0 2>/dev/null
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

# usage PATTERN ARGS...: exit 2, one line "infini-capacity: ..." naming
# PATTERN (an extended regular expression).
usage() {
  pattern=$1
  shift
  "$cap" "$@" >"$work/out" 2>"$work/err" </dev/null
  rc=$?
  lines=$(wc -l <"$work/err")
  if [ $rc = 2 ] && [ "$lines" = 1 ] &&
     grep -Eq -- "^infini-capacity: .*$pattern" "$work/err"; then
    ok "$* -> exit 2: $(cat "$work/err")"
  else
    not_ok "$* -> exit $rc, $lines lines: $(head -n 2 "$work/err")"
  fi
}

small="--d-key 4 --n 1,2 --trials 2"
usage 'no command'
usage "unknown command 'sweep'" sweep
usage "unknown option '--bogus'" capacity --bogus
usage "--d-key.*'0'" capacity --d-key 0
usage "--d-key.*'-3'" capacity --d-key -3
usage "--d-key.*'nan'" capacity --d-key nan
usage "--d-key.*'99999999999999999999'" capacity --d-key 99999999999999999999
usage "--d-key.*'1.5'" capacity --d-key 1.5
usage "--n.*'0'" capacity --n 0
usage "--n needs a comma-separated list" capacity --n 1,,2
usage "--n.*'70000'" capacity --n 70000
usage "too many" capacity --d-key 4096
usage "--d-value.*'0'" capacity --d-value 0
usage "--trials.*'1'" capacity --trials 1
usage "--eps.*'nan'" capacity --eps nan
usage "--eps.*'-1'" capacity --eps -1
usage "--eps.*'inf'" capacity --eps inf
usage "--rho.*'1.5'" capacity --keys corr --rho 1.5
usage "--shift.*'nan'" capacity --shift nan
usage "--key-scale.*'0'" capacity --key-scale 0
usage "--keys.*'cube'" capacity --keys cube
usage "--rule.*'hebb'" capacity --rule hebb
usage "--segments.*'0'" capacity --segments 0
usage "--seed.*'-1'" capacity --seed -1
usage "unknown backend 'nosuch'" capacity -b nosuch $small
usage "--depths.*'2'" needles --depths 2
usage "--needles 20 exceeds --segment-len 16" needles --needles 20
usage "--later.*'0'" forgetting --later 0
usage "--output needs a value|-o needs a value" capacity -o

# Same seed, same bytes; another seed, other numbers.
"$cap" capacity $small --seed 3 >"$work/a.csv" 2>"$work/a.err" &&
  "$cap" capacity $small --seed 3 -o "$work/b.csv" 2>>"$work/a.err" &&
  "$cap" capacity $small --seed 4 >"$work/c.csv" 2>>"$work/a.err"
if [ $? = 0 ] && cmp -s "$work/a.csv" "$work/b.csv" &&
   ! cmp -s "$work/a.csv" "$work/c.csv" && [ ! -s "$work/a.err" ]; then
  ok "the same seed gives the same CSV on stdout and through -o"
else
  not_ok "seeds: $(head -n 1 "$work/a.err")"
fi

# An existing output is kept without --force, replaced with it.
printf 'mine\n' >"$work/keep.csv"
"$cap" capacity $small -o "$work/keep.csv" 2>"$work/err"
rc=$?
if [ $rc = 1 ] && [ "$(cat "$work/keep.csv")" = mine ] &&
   [ "$(wc -l <"$work/err")" = 1 ] && grep -q keep.csv "$work/err"; then
  ok "an existing -o file is kept without --force: $(cat "$work/err")"
else
  not_ok "existing -o file: exit $rc, $(cat "$work/keep.csv" | head -n 1)"
fi
if "$cap" capacity $small --seed 3 -o "$work/keep.csv" --force 2>/dev/null &&
   cmp -s "$work/keep.csv" "$work/a.csv"; then
  ok "--force replaces it"
else
  not_ok "--force did not replace the file"
fi

# Each command writes its header and one row per point.
for cmd in "capacity $small" "forgetting --d-key 4 --items 1 --later 2" \
           "needles --d-key 4 --length 2 --needles 1 --depths 0,1 --segment-len 2"; do
  rows=$("$cap" $cmd --trials 2 --rule linear 2>/dev/null | wc -l)
  case $cmd in capacity*) want=3 ;; forgetting*) want=4 ;; *) want=3 ;; esac
  if [ "$rows" = $want ]; then ok "$cmd: $rows lines"; else not_ok "$cmd: $rows lines, want $want"; fi
done

echo "1..$n"
# The work folder stays for reading only when something failed (make
# distcheck's distcleancheck wants nothing left behind).
[ $failed = 0 ] && rm -rf "$work"
[ $failed = 0 ]

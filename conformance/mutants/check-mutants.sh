#!/bin/sh
# conformance/mutants/check-mutants.sh - the proof that the conformance
# suite discriminates (docs/mutants.md). TAP, one case per configuration
# of the plugin infini_mutant.so:
#
#   - every mutant (a deliberate, realistic bug) is REJECTED by
#     `infini-conform --plugin infini_mutant.so --backend mutant-NAME`
#     under the fp32 profile: exit status 1 (failures), not 2 (usage);
#   - every correct variant is ACCEPTED (exit 0) under the profile it
#     claims: fp32 for all but bf16, which must be accepted under bf16 and
#     rejected under fp32;
#   - the margin: the smallest worst ratio (error / allowed error) among the
#     mutants against the largest among the correct variants at fp32, from
#     the runner's --json reports.
#
# Run by `make check` from the top build directory. Skips (TAP "1..0 #
# SKIP", which the TAP driver reports as SKIP) only while infini-conform
# does not exist in the build tree. Reports and logs are left in
# conformance/mutants/reports/ for inspection.

LC_ALL=C
export LC_ALL

here=conformance/mutants
reports=$here/reports

# ---- the tools ------------------------------------------------------------

runner=
for r in conformance/infini-conform infini-conform; do
  if [ -f "$r" ] && [ -x "$r" ]; then
    runner=$(pwd)/$r
    break
  fi
done
if [ -z "$runner" ]; then
  echo "1..0 # SKIP infini-conform is not built (neither ./infini-conform nor conformance/infini-conform)"
  exit 0
fi

lister=$here/mutant-report
if [ ! -x "$lister" ]; then
  echo "Bail out! $lister is not built"
  exit 99
fi

# The plugin: a libtool module lives in .libs/; its .la names the file.
so=$here/.libs/infini_mutant.so
if [ ! -f "$so" ] && [ -f "$here/infini_mutant.la" ]; then
  dlname=$(sed -n "s/^dlname='\(.*\)'$/\1/p" "$here/infini_mutant.la")
  [ -n "$dlname" ] && so=$here/.libs/$dlname
fi
if [ ! -f "$so" ]; then
  echo "Bail out! the plugin $so is not built (make check builds it)"
  exit 99
fi
so=$(cd "$(dirname "$so")" && pwd)/$(basename "$so")

mkdir -p "$reports" || {
  echo "Bail out! cannot create $reports"
  exit 99
}

configs=$("$lister" --list) || {
  echo "Bail out! $lister --list failed"
  exit 99
}

# ---- the runs, a few at a time --------------------------------------------

# Every run: "<kind> <name> <profile> <expected exit status>".
{
  echo "$configs" | awk '$1 == "mutant" { print "mutant", $2, "fp32", 1 }'
  echo "$configs" | awk '$1 == "variant" {
    print "variant", $2, $3, 0
    if ($3 != "fp32") print "variant", $2, "fp32", 1 }'
} >"$reports/runs.list"

# run_one KIND NAME PROFILE: infini-conform on the plugin configured as
# KIND-NAME under PROFILE; exit status in $base.rc, output in $base.log.
run_one() {
  if [ "$1" = mutant ]; then m=$2 v=; else m= v=$2; fi
  b=$reports/$1-$2.$3
  rm -f "$b.json" "$b.rc"
  INFINI_MUTANT=$m INFINI_VARIANT=$v \
    "$runner" --plugin "$so" --backend "$1-$2" --profile "$3" \
    --json "$b.json" </dev/null >"$b.log" 2>&1
  echo $? >"$b.rc"
}

jobs=${INFINI_MUTANT_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
i=0
while read -r kind name profile expected; do
  run_one "$kind" "$name" "$profile" &
  i=$((i + 1))
  [ $((i % jobs)) = 0 ] && wait
done <"$reports/runs.list"
wait

# ---- the verdicts, in order ---------------------------------------------------

n=0
n_failed=0
: >"$reports/mutants.ratios"   # "<worst ratio> <name>", one per line
: >"$reports/variants.ratios"

# verdict KIND NAME PROFILE EXPECTED: one TAP line; on failure, the
# runner's last lines as comments. Adds the worst ratio to the lists.
verdict() {
  backend=$1-$2
  base=$reports/$backend.$3
  rc=$(cat "$base.rc" 2>/dev/null || echo "?")
  worst=nan summary="no JSON report"
  if [ -f "$base.json" ]; then
    # <backend> <worst> <cases> <failed> <unjudged> <where> <caught>
    line=$("$lister" --worst "$base.json" "$backend" 2>>"$base.log")
    set -- $line
    if [ $# -ge 7 ]; then
      worst=$2
      summary="worst ratio $2 at $6; $4 of $3 cases failed"
      [ "$5" != 0 ] && summary="$summary, $5 not judged"
      [ "$7" != - ] && summary="$summary; caught by $7"
    fi
  fi
}

for_run() { # KIND NAME PROFILE EXPECTED
  verdict "$1" "$2" "$3"
  if [ "$4" = 1 ]; then what="rejected"; else what="accepted"; fi
  n=$((n + 1))
  if [ "$rc" = "$4" ]; then
    echo "ok $n - $1 $2 $what at $3 (exit $rc; $summary)"
  else
    n_failed=$((n_failed + 1))
    echo "not ok $n - $1 $2 $what at $3 (exit $rc, expected $4; $summary)"
    tail -n 15 "$base.log" 2>/dev/null | sed 's/^/#   /'
  fi
  if [ "$3" = fp32 ] && [ "$1" = mutant ]; then
    echo "$worst $2" >>"$reports/mutants.ratios"
  elif [ "$3" = fp32 ] && [ "$4" = 0 ]; then
    echo "$worst $2" >>"$reports/variants.ratios"
  fi
}

while read -r kind name profile expected; do
  for_run "$kind" "$name" "$profile" "$expected"
done <"$reports/runs.list"

# ---- the margin --------------------------------------------------------------

# Smallest worst ratio among mutants (a mutant with no judged case counts
# as 0: not shown to be caught), largest among the fp32 variants.
margin=$(awk '
  FNR == 1 { file++ }
  { r = ($1 == "nan") ? 0 : ($1 == "inf" ? 1e308 : $1 + 0) }
  file == 1 && (!seen_m || r < min_m) { min_m = r; name_m = $2; seen_m = 1 }
  file == 2 && (!seen_v || r > max_v) { max_v = r; name_v = $2; seen_v = 1 }
  END {
    if (!seen_m || !seen_v) { print "none"; exit }
    ok = (min_m > 1 && max_v <= 1) ? "yes" : "no"
    if (max_v > 0) f = sprintf("%.3g", min_m / max_v); else f = "inf"
    printf "%s %.4g %s %.4g %s %s\n", ok, min_m, name_m, max_v, name_v, f
  }' "$reports/mutants.ratios" "$reports/variants.ratios")
n=$((n + 1))
if [ "$margin" = none ]; then
  n_failed=$((n_failed + 1))
  echo "not ok $n - margin: no ratios were collected"
else
  set -- $margin
  echo "# margin at fp32: smallest mutant worst ratio $2 ($3) against largest" \
       "correct-variant worst ratio $4 ($5): factor $6"
  [ "$1" = yes ] || { printf 'not '; n_failed=$((n_failed + 1)); }
  echo "ok $n - margin: every mutant's worst ratio ($2, $3) above 1, every fp32 variant's ($4, $5) at most 1"
fi

echo "1..$n"
[ "$n_failed" = 0 ]

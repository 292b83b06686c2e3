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
  echo "1..0 # SKIP infini-conform is not built (no conformance/infini-conform)"
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

# ---- one run ----------------------------------------------------------------

n=0
n_failed=0
# worst ratios, one per line: "<ratio> <name>"
: >"$reports/mutants.ratios"
: >"$reports/variants.ratios"

# conform KIND NAME PROFILE: run infini-conform on the plugin configured as
# KIND (mutant/variant) NAME under PROFILE; sets rc, worst, summary.
conform() {
  kind=$1 name=$2 profile=$3
  if [ "$kind" = mutant ]; then
    mutant=$name variant=
  else
    mutant= variant=$name
  fi
  backend=$kind-$name
  base=$reports/$backend.$profile
  INFINI_MUTANT=$mutant INFINI_VARIANT=$variant \
    "$runner" --plugin "$so" --backend "$backend" --profile "$profile" \
    --json "$base.json" >"$base.log" 2>&1
  rc=$?
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

# report OK DESCRIPTION: one TAP line; on failure, the runner's last lines.
report() {
  n=$((n + 1))
  if [ "$1" = yes ]; then
    echo "ok $n - $2"
  else
    n_failed=$((n_failed + 1))
    echo "not ok $n - $2"
    [ -f "$base.log" ] && tail -n 15 "$base.log" | sed 's/^/#   /'
  fi
}

expect() { # expected exit status, actual
  [ "$1" = "$2" ] && echo yes || echo no
}

# ---- mutants: rejected at fp32 ----------------------------------------------

for name in $(echo "$configs" | awk '$1 == "mutant" { print $2 }'); do
  conform mutant "$name" fp32
  report "$(expect 1 $rc)" "mutant $name rejected at fp32 (exit $rc; $summary)"
  echo "$worst $name" >>"$reports/mutants.ratios"
done

# ---- variants: accepted at their profile; bf16 also rejected at fp32 -------

echo "$configs" | awk '$1 == "variant" { print $2, $3 }' >"$reports/variants.list"
while read -r name profile; do
  conform variant "$name" "$profile"
  report "$(expect 0 $rc)" "variant $name accepted at $profile (exit $rc; $summary)"
  if [ "$profile" = fp32 ]; then
    echo "$worst $name" >>"$reports/variants.ratios"
  else
    echo "$worst $name" >"$reports/reduced.$name.ratio"
    conform variant "$name" fp32
    report "$(expect 1 $rc)" "variant $name rejected at fp32 (exit $rc; $summary)"
  fi
done <"$reports/variants.list"

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
base=
if [ "$margin" = none ]; then
  report no "margin: no ratios were collected"
else
  set -- $margin
  echo "# margin at fp32: smallest mutant worst ratio $2 ($3) against largest" \
       "correct-variant worst ratio $4 ($5): factor $6"
  report "$1" "margin: every mutant's worst ratio ($2, $3) above 1, every fp32 variant's ($4, $5) at most 1"
fi

echo "1..$n"
[ "$n_failed" = 0 ]

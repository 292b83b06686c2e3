#!/bin/sh
# conformance/mutants/check-mutants.sh - the proof that the conformance
# suite discriminates and that its diagnoses name the right cause
# (docs/mutants.md). Every operator-level entry of the catalogue
# (conformance/catalogue.h, listed by `mutant-report --list`) runs through
# `infini-conform --plugin infini_mutant.so` under every profile (fp32,
# bf16, fp16, bf16-fp32, fp16-fp32, tf32). TAP, one line per run:
#
#   - a mutant (one instance of a bug entry) is REJECTED (exit 1, not 2)
#     under each profile the catalogue says it is visible in; under the
#     others its verdict is reported (a looser profile may let it pass);
#     wherever it fails, no failure is diagnosed as another entry only, and
#     a diagnosable entry is named (as itself or a declared alias) at least
#     once;
#   - a correct variant is ACCEPTED under the profile it claims (fp32
#     variants under every profile) and REJECTED under fp32 when it claims
#     another, without any entry of the catalogue being named ("no wrong
#     names"); other pairs are reported;
#   - the margin per profile: the smallest worst ratio (error / allowed
#     error) among the mutants visible there against the largest among the
#     variants accepted there;
#   - restricted implementations: for each declaration of the catalogue's
#     CAT_RESTRICTIONS (infini-conform --declare), within the cases it
#     leaves, every mutant rejected under fp32 but those it makes correct,
#     and the plain variant accepted.
#
# The model-sized cases (flag "realistic") and the restricted twins (flag
# "restricted") are judged but not diagnosed: a model-sized search costs
# about a second, which over 64 mutants and six profiles would multiply the
# run time by seven, and the twins double the cases; the search is the same
# code the other cases prove.
#
# INFINI_MUTANT_PROFILES (default: all six profiles),
# INFINI_MUTANT_DIAGNOSE=no, INFINI_MUTANT_RESTRICTED=no and
# INFINI_MUTANT_EXCLUDE_FLAGS (a comma-separated list of flags whose cases
# are left out, e.g. realistic) narrow it (scripts/cross-check.sh, under
# qemu; the sanitizer run of .ci/run).
#
# Run by `make check` from the top build directory. Skips (TAP "1..0 #
# SKIP") only while infini-conform does not exist in the build tree.
# Reports and logs are left in conformance/mutants/reports/.

LC_ALL=C
export LC_ALL

here=conformance/mutants
reports=$here/reports
# Under emulation (scripts/cross-check.sh) the profiles can be cut to fp32
# and the diagnoses left out: both are double or integer work the native
# run already proves; the float verdicts are what a new CPU can change.
profiles=${INFINI_MUTANT_PROFILES:-fp32 bf16 fp16 bf16-fp32 fp16-fp32 tf32}
diagnose=${INFINI_MUTANT_DIAGNOSE:-yes}
restricted=${INFINI_MUTANT_RESTRICTED:-yes}
# judged but never diagnosed (see below)
undiagnosed=realistic,restricted
[ "$diagnose" = yes ] || no_diagnose=--no-diagnose
exclude_flags=${INFINI_MUTANT_EXCLUDE_FLAGS:-}

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

# the cases INFINI_MUTANT_EXCLUDE_FLAGS leaves out, as an exclude list
exclude=
if [ -n "$exclude_flags" ]; then
  echo "$exclude_flags" | tr ',' '\n' | sed '/^$/d; s/^/flag:/' >"$reports/exclude.list"
  exclude="--exclude-list $reports/exclude.list"
fi

configs=$("$lister" --list) || {
  echo "Bail out! $lister --list failed"
  exit 99
}

# ---- the runs, a few at a time --------------------------------------------

# Every run: "<kind> <spec> <backend> <profile> <expected exit> <entry> <diagnosable>".
echo "$configs" | awk -v profiles="$profiles" '
  BEGIN { np = split(profiles, P, " ") }
  $1 == "mutant" {
    for (i = 1; i <= np; i++)
      print "mutant", $2, $3, P[i], (index("," $4 ",", "," P[i] ",") ? 1 : "-"), $5, $6
  }
  $1 == "variant" {
    # accepted under its profile, rejected under fp32 when that is not its
    # profile; fp32 variants are accepted everywhere (every allowance
    # contains fp32'"'"'s); other pairs are reported
    for (i = 1; i <= np; i++)
      print "variant", $2, $3, P[i], \
        ($4 == "fp32" || P[i] == $4) ? 0 : (P[i] == "fp32" ? 1 : "-"), $2, "no"
  }' >"$reports/runs.list"

# run_one SPEC KIND BACKEND PROFILE: infini-conform on the plugin so
# configured; exit status in $base.rc, output in $base.log.
run_one() {
  if [ "$2" = mutant ]; then m=$1 v=; else m= v=$1; fi
  b=$reports/$3.$4
  rm -f "$b.json" "$b.rc"
  INFINI_MUTANT=$m INFINI_VARIANT=$v \
    "$runner" --plugin "$so" --backend "$3" --profile "$4" $no_diagnose $exclude \
    --no-diagnose-flag "$undiagnosed" \
    --json "$b.json" </dev/null >"$b.log" 2>&1
  echo $? >"$b.rc"
}

jobs=${INFINI_MUTANT_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
i=0
while read -r kind spec backend profile expected entry diag; do
  run_one "$spec" "$kind" "$backend" "$profile" &
  i=$((i + 1))
  [ $((i % jobs)) = 0 ] && wait
done <"$reports/runs.list"
wait

# ---- the verdicts, in order ---------------------------------------------------

n=0
n_failed=0
: >"$reports/ratios"   # "<profile> <mutant|variant> <worst ratio> <spec>"

# summary BACKEND PROFILE: sets $rc, $worst and $summary from the report.
summary() {
  base=$reports/$1.$2
  rc=$(cat "$base.rc" 2>/dev/null || echo "?")
  worst=nan summary="no JSON report"
  [ -f "$base.json" ] || return
  # <backend> <worst> <cases> <failed> <unjudged> <where> <caught>
  set -- $("$lister" --worst "$base.json" "$1" 2>>"$base.log")
  [ $# -ge 7 ] || return
  worst=$2
  summary="worst ratio $2 at $6; $4 of $3 cases failed"
  [ "$5" != 0 ] && summary="$summary, $5 not judged"
  [ "$7" != - ] && summary="$summary; caught by $7"
}

# names BACKEND PROFILE ENTRY: sets $failed $self $other $none $others.
names() {
  set -- $("$lister" --diagnosed "$reports/$1.$2.json" "$1" "$3" "$undiagnosed" 2>/dev/null)
  failed=${1:-0} self=${2:-0} other=${3:-0} none=${4:-0} others=${5:--}
}

tap() { # OK? DESCRIPTION
  n=$((n + 1))
  if [ "$1" = yes ]; then
    echo "ok $n - $2"
  else
    n_failed=$((n_failed + 1))
    echo "not ok $n - $2"
  fi
}

while read -r kind spec backend profile expected entry diag; do
  summary "$backend" "$profile"
  names "$backend" "$profile" "$entry"
  ok=yes
  case $expected in
  1) what=rejected ;;
  0) what=accepted ;;
  *) # a profile the catalogue does not claim: either verdict, reported
    case $rc in 0) what="accepted (not claimed)" ;; 1) what="rejected (not claimed)" ;;
    *) what="run (not claimed)"; ok=no ;; esac
    expected=$rc ;;
  esac
  [ "$rc" = "$expected" ] || ok=no
  said="diagnosed: $self as itself, $other as another ($others), $none not"
  if [ "$diagnose" != yes ]; then
    said="not diagnosed (INFINI_MUTANT_DIAGNOSE=$diagnose)"
  elif [ "$kind" = mutant ]; then
    # never another entry alone; a diagnosable one named somewhere
    [ "$other" = 0 ] || ok=no
    [ "$diag" = no ] || [ "$failed" = 0 ] || [ "$self" -gt 0 ] || ok=no
  else
    [ "$other" = 0 ] || ok=no # no wrong names
  fi
  tap $ok "$kind $spec $what at $profile (exit $rc, expected $expected; $summary; $said)"
  [ $ok = yes ] || tail -n 15 "$reports/$backend.$profile.log" 2>/dev/null | sed 's/^/#   /'
  if [ "$rc" = "$expected" ]; then
    echo "$profile $kind $worst $spec $expected" >>"$reports/ratios"
  fi
done <"$reports/runs.list"

# ---- the margins --------------------------------------------------------------

# Per profile: the smallest worst ratio among the mutants rejected there
# (nan, a mutant with no judged case, counts as 0) against the largest
# among the variants accepted there.
for profile in $profiles; do
  margin=$(awk -v p="$profile" '
    $1 != p { next }
    { r = ($3 == "nan") ? 0 : ($3 == "inf" ? 1e308 : $3 + 0) }
    $2 == "mutant" && $5 == 1 && (!sm || r < min_m) { min_m = r; name_m = $4; sm = 1 }
    $2 == "variant" && $5 == 0 && (!sv || r > max_v) { max_v = r; name_v = $4; sv = 1 }
    END {
      if (!sm || !sv) { print "none"; exit }
      ok = (min_m > 1 && max_v <= 1) ? "yes" : "no"
      f = (max_v > 0) ? sprintf("%.3g", min_m / max_v) : "inf"
      printf "%s %.4g %s %.4g %s %s\n", ok, min_m, name_m, max_v, name_v, f
    }' "$reports/ratios")
  if [ "$margin" = none ]; then
    tap no "margin at $profile: no ratios were collected"
    continue
  fi
  set -- $margin
  echo "# margin at $profile: smallest mutant worst ratio $2 ($3) against largest" \
       "correct-variant worst ratio $4 ($5): factor $6"
  tap "$1" "margin at $profile: every rejected mutant's worst ratio ($2, $3) above 1, every accepted variant's ($4, $5) at most 1"
done

# ---- restricted implementations -------------------------------------------------

# For each declaration of CAT_RESTRICTIONS (mutant-report --restricted):
# within the cases it leaves (infini-conform --declare), under fp32 and
# without diagnosis, every mutant is rejected but those the restriction
# makes correct (moot), and the plain variant is accepted. One TAP line per
# declaration, with its weakest rejection.
restrictions=$("$lister" --restricted) || {
  tap no "mutant-report --restricted failed"
  restrictions=
}
[ "$restricted" = yes ] || restrictions=
grep '^mutant .* fp32 ' "$reports/runs.list" | awk '{ print $2, $3 }' >"$reports/restricted.mutants"
echo "plain variant-plain" >>"$reports/restricted.mutants"

# run_restricted K DECLARATION SPEC BACKEND
run_restricted() {
  if [ "$3" = plain ]; then m= v=plain; else m=$3 v=; fi
  rm -f "$reports/r$1.$4.json" "$reports/r$1.$4.rc"
  INFINI_MUTANT=$m INFINI_VARIANT=$v "$runner" --plugin "$so" --backend "$4" \
    --profile fp32 --no-diagnose --declare "$2" $exclude --json "$reports/r$1.$4.json" \
    </dev/null >"$reports/r$1.$4.log" 2>&1
  echo $? >"$reports/r$1.$4.rc"
}

k=0
while read -r decl moot unreachable; do
  [ -n "$decl" ] || continue
  k=$((k + 1))
  i=0
  while read -r spec backend; do
    run_restricted $k "$decl" "$spec" "$backend" &
    i=$((i + 1))
    [ $((i % jobs)) = 0 ] && wait
  done <"$reports/restricted.mutants"
  wait
  rejected=0 total=0 missed= weakest=1e308 weakest_name=- moot_ok=yes reached=
  while read -r spec backend; do
    rc=$(cat "$reports/r$k.$backend.rc" 2>/dev/null || echo "?")
    [ "$spec" = plain ] && continue
    case ",$moot," in
    *",$spec,"*) [ "$rc" = 0 ] || [ "$rc" = 1 ] || moot_ok=no; continue ;;
    esac
    case ",$unreachable," in
    *",$spec,"*) [ "$rc" = 0 ] || reached="$reached $spec"; continue ;;
    esac
    total=$((total + 1))
    if [ "$rc" = 1 ]; then
      rejected=$((rejected + 1))
      set -- $("$lister" --worst "$reports/r$k.$backend.json" "$backend" 2>/dev/null)
      w=${2:-0}
      [ "$w" = nan ] && w=0
      if awk -v a="$w" -v b="$weakest" 'BEGIN { exit !(a + 0 < b + 0) }'; then
        weakest=$w weakest_name=$spec
      fi
    else
      missed="$missed $spec"
    fi
  done <"$reports/restricted.mutants"
  plain_rc=$(cat "$reports/r$k.variant-plain.rc" 2>/dev/null || echo "?")
  set -- $("$lister" --worst "$reports/r$k.variant-plain.json" variant-plain 2>/dev/null)
  plain_worst=${2:-nan}
  coverage=$(sed -n 's/^declared [^:]*: \([^;]*\);.*/\1/p' "$reports/r$k.variant-plain.log")
  ok=yes
  { [ "$rejected" = "$total" ] && [ "$plain_rc" = 0 ] && [ "$moot_ok" = yes ] &&
    [ -z "$reached" ]; } || ok=no
  tap $ok "restricted to --declare $decl ($coverage): $rejected of $total mutants rejected${missed:+ (not:$missed)}; moot: $moot; unreachable (known gaps): $unreachable${reached:+ (now rejected, remove from the list:$reached)}; plain accepted (exit $plain_rc, worst $plain_worst); weakest rejection $weakest_name $weakest"
  grep -h "^declared" "$reports/r$k.variant-plain.log" | sed 's/^/# /'
done <<RESTRICTIONS
$restrictions
RESTRICTIONS

echo "1..$n"
[ "$n_failed" = 0 ]

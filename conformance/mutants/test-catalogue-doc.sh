#!/bin/sh
# conformance/mutants/test-catalogue-doc.sh - docs/mutants.md and the
# catalogue (conformance/catalogue.h) cannot disagree: the tables between
# the markers "<!-- catalogue:begin -->" and "<!-- catalogue:end -->" of
# docs/mutants.md must be exactly what `mutant-report --markdown` writes.
# To update the document after changing the catalogue:
#   conformance/mutants/mutant-report --markdown   (from the build tree)
# and paste its output between the markers. TAP, one case.
LC_ALL=C
export LC_ALL
doc=${srcdir:-.}/docs/mutants.md
lister=conformance/mutants/mutant-report
echo "1..1"
if [ ! -f "$doc" ] || [ ! -x "$lister" ]; then
  echo "not ok 1 - $doc and $lister are needed"
  exit 1
fi
tmp=${TMPDIR:-/tmp}/catalogue-doc.$$
trap 'rm -f "$tmp.want" "$tmp.got"' EXIT
"$lister" --markdown >"$tmp.want"
sed -n '/^<!-- catalogue:begin -->$/,/^<!-- catalogue:end -->$/p' "$doc" |
  sed '1d;$d' >"$tmp.got"
if cmp -s "$tmp.want" "$tmp.got"; then
  echo "ok 1 - docs/mutants.md holds the catalogue's tables ($(grep -c '^| `' "$tmp.want") rows)"
else
  echo "not ok 1 - docs/mutants.md disagrees with the catalogue; regenerate with mutant-report --markdown"
  diff "$tmp.got" "$tmp.want" | sed 's/^/# /' | head -40
  exit 1
fi

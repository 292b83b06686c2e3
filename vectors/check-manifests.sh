#!/bin/sh
# vectors/check-manifests.sh - every shipped manifest validates against the
# JSON Schema vectors/schema/infini-vectors-1.schema.json (TAP, through
# vectors/validate_manifest.py; skipped without python3-jsonschema).
srcdir=${srcdir:-.}
py=${PYTHON3:-/usr/bin/python3}
[ -x "$py" ] || py=$(command -v python3 || true)
if [ -z "$py" ]; then
  echo "1..0 # SKIP python3 not found"
  exit 0
fi
exec "$py" "$srcdir/vectors/validate_manifest.py" --tap \
  --schema "$srcdir/vectors/schema/infini-vectors-1.schema.json" \
  "$srcdir"/vectors/v1/*.json

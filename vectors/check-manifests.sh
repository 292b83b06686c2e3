#!/bin/sh
# vectors/check-manifests.sh - every shipped manifest validates against the
# JSON Schema of its version, vectors/schema/infini-vectors-N.schema.json
# (vectors/v1: 1, vectors/v2: 2; TAP, through vectors/validate_manifest.py;
# skipped without python3-jsonschema).
srcdir=${srcdir:-.}
py=${PYTHON3:-/usr/bin/python3}
[ -x "$py" ] || py=$(command -v python3 || true)
if [ -z "$py" ]; then
  echo "1..0 # SKIP python3 not found"
  exit 0
fi
exec "$py" "$srcdir/vectors/validate_manifest.py" --tap \
  "$srcdir"/vectors/v1/*.json "$srcdir"/vectors/v2/*.json

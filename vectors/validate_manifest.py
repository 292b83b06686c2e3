#!/usr/bin/env python3
"""Validate infini golden-vector manifests (docs/vectors.md).

    validate_manifest.py [--tap] [--schema FILE] [--no-hash] MANIFEST.json...

Checks each manifest against the JSON Schema (draft 2020-12, default
vectors/schema/infini-vectors-<its schemaVersion>.schema.json next to this
script), then what
a schema cannot say: numberOfTests equals the number of tests, tcIds are
unique, every flag is explained in "notes", and (unless --no-hash) every
tensor file exists with the listed SHA-256.

Exit status: 0 all valid, 1 some invalid, 77 python3-jsonschema missing
(with --tap: a TAP plan "1..0 # SKIP" and status 0 instead).
"""
import hashlib
import json
import os
import sys


def semantic_errors(doc, base, check_hash):
    errors = []
    tests = [t for g in doc.get("testGroups", []) for t in g.get("tests", [])]
    if doc.get("numberOfTests") != len(tests):
        errors.append("numberOfTests is %r but the groups hold %d tests"
                      % (doc.get("numberOfTests"), len(tests)))
    ids = [t.get("tcId") for t in tests]
    if len(ids) != len(set(ids)):
        errors.append("duplicate tcId")
    notes = doc.get("notes", {})
    for t in tests:
        for f in t.get("flags", []):
            if f not in notes:
                errors.append("tcId %s: flag %r not explained in notes" % (t.get("tcId"), f))
    for g in doc.get("testGroups", []):
        if g.get("operator") != doc.get("operator"):
            errors.append("group operator %r in a %r manifest"
                          % (g.get("operator"), doc.get("operator")))
    if check_hash:
        for t in tests:
            sets = [t.get("inputs", {}), t.get("outputs", {})] + t.get("alternatives", [])
            for s in sets:
                for name, ten in s.items():
                    path = os.path.join(base, ten["file"])
                    try:
                        with open(path, "rb") as fh:
                            digest = hashlib.sha256(fh.read()).hexdigest()
                    except OSError as e:
                        errors.append("tcId %s: %s: %s" % (t.get("tcId"), ten["file"], e.strerror))
                        continue
                    if digest != ten["sha256"]:
                        errors.append("tcId %s: %s: sha256 mismatch" % (t.get("tcId"), ten["file"]))
    return errors


def main(argv):
    tap = "--tap" in argv
    check_hash = "--no-hash" not in argv
    here = os.path.dirname(os.path.abspath(__file__))
    schema_path = None  # by default, the schema of each manifest's schemaVersion
    files = []
    i = 1
    while i < len(argv):
        if argv[i] == "--schema":
            schema_path = argv[i + 1]
            i += 2
            continue
        if not argv[i].startswith("--"):
            files.append(argv[i])
        i += 1
    try:
        import jsonschema
    except ImportError:
        if tap:
            print("1..0 # SKIP python3-jsonschema is not installed")
            return 0
        print("validate_manifest.py: python3-jsonschema is not installed", file=sys.stderr)
        return 77
    cls = getattr(jsonschema, "Draft202012Validator", None) or jsonschema.Draft7Validator
    validators = {}

    def validator_for(doc):
        """The --schema given, else vectors/schema/infini-vectors-<schemaVersion>.schema.json."""
        path = schema_path
        if path is None:
            version = doc.get("schemaVersion") if isinstance(doc, dict) else None
            if version not in (1, 2):
                version = 2  # the newest schema explains what is wrong
            path = os.path.join(here, "schema", "infini-vectors-%d.schema.json" % version)
        if path not in validators:
            with open(path) as fh:
                schema = json.load(fh)
            cls.check_schema(schema)
            validators[path] = cls(schema)
        return validators[path]

    bad = 0
    for n, path in enumerate(files, 1):
        try:
            with open(path) as fh:
                doc = json.load(fh)
        except (OSError, ValueError) as e:
            errs = ["cannot read: %s" % e]
        else:
            errs = ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)", e.message)
                    for e in validator_for(doc).iter_errors(doc)]
            if not errs:
                errs = semantic_errors(doc, os.path.dirname(path), check_hash)
        if errs:
            bad += 1
        if tap:
            print("%s %d - %s%s" % ("not ok" if errs else "ok", n, os.path.basename(path),
                                    ": " + errs[0][:300] if errs else
                                    " (%d tests) valid against the schema" % doc["numberOfTests"]))
            for e in errs[1:5]:
                print("# " + e[:300])
        else:
            for e in errs:
                print("%s: %s" % (path, e), file=sys.stderr)
    if tap:
        print("1..%d" % len(files))
        return 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""The result tables of docs/mutants.md ("Results"), from the reports a
check-mutants.sh run leaves in conformance/mutants/reports/ of the build
tree. Run from the top of the build tree after `make check`:

    python3 ../conformance/mutants/results.py conformance/mutants/reports

and paste its Markdown into docs/mutants.md. It reads runs.list (what ran,
what the catalogue claims) and each run's JSON report; the diagnosis
counts come from `mutant-report --diagnosed`, the same reading the TAP
verdicts of check-mutants.sh use. Python 3 standard library only.
"""
import json
import os
import subprocess
import sys

PROFILES = ["fp32", "bf16", "fp16", "bf16-fp32", "fp16-fp32", "tf32"]
UNDIAGNOSED = "realistic,restricted"  # check-mutants.sh's --no-diagnose-flag


def fmt(x):
    """A ratio as check-mutants prints it: 3 significant digits."""
    if x is None:
        return "-"
    if x == float("inf"):
        return "inf"
    return "%.3g" % x


def load_runs(reports):
    """[(kind, spec, backend, profile, expected, entry)] in the order run."""
    runs = []
    with open(os.path.join(reports, "runs.list")) as fh:
        for line in fh:
            kind, spec, backend, profile, expected, entry, _diag = line.split()
            runs.append((kind, spec, backend, profile, expected, entry))
    return runs


def load_report(reports, backend, profile):
    path = os.path.join(reports, "%s.%s.json" % (backend, profile))
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def worst(cases, keep=lambda c: True):
    """(worst ratio, where) over the judged cases that keep() selects."""
    best, where = None, "-"
    for c in cases:
        r = c.get("ratio")
        if not keep(c):
            continue
        if r is None:  # NaN where a number was due, or not judged
            if c.get("result") != "fail":
                continue
            r = "inf"
        r = float("inf") if r == "inf" else float(r)
        if best is None or r > best:
            best, where = r, "%s:%s" % (c["file"], c["tcId"])
    return best, where


def realistic(c):
    return "realistic" in c.get("flags", [])


def realistic_worst(it):
    """Per profile, the worst ratio over the model-sized cases of one run."""
    return [worst(it["runs"][p]["cases"], realistic)[0] if it["runs"].get(p) else None
            for p in PROFILES]


def diagnosed(lister, reports, backend, profile, entry):
    """(failed, itself, another, none) as check-mutants.sh counts them."""
    path = os.path.join(reports, "%s.%s.json" % (backend, profile))
    out = subprocess.run([lister, "--diagnosed", path, backend, entry, UNDIAGNOSED],
                         capture_output=True, text=True).stdout.split()
    return tuple(int(x) for x in out[:4]) if len(out) >= 4 else (0, 0, 0, 0)


def main(argv):
    reports = argv[1] if len(argv) > 1 else "conformance/mutants/reports"
    lister = os.path.join(os.path.dirname(reports.rstrip("/")), "mutant-report")
    runs = load_runs(reports)
    order, info = [], {}
    for kind, spec, backend, profile, expected, entry in runs:
        if (kind, spec) not in info:
            order.append((kind, spec))
            info[(kind, spec)] = {"backend": backend, "entry": entry, "runs": {}}
        info[(kind, spec)]["runs"][profile] = load_report(reports, backend, profile)

    n_cases = None
    print("| mutant | rejected under | fp32: cases failing (of N), worst ratio (case) "
          "| bf16-fp32: worst ratio | tf32: worst ratio "
          "| fp32 failures named as itself / as another / not named |")
    print("|---|---|---|---|---|---|")
    realistic_rows = []
    for kind, spec in order:
        if kind != "mutant":
            continue
        it = info[(kind, spec)]
        rejected = [p for p in PROFILES
                    if it["runs"].get(p) and it["runs"][p]["summary"]["exit_status"] == 1]
        fp = it["runs"].get("fp32")
        cells = []
        if fp:
            n_cases = fp["summary"]["cases"]
            w, where = worst(fp["cases"])
            cells.append("%d, %s (%s)" % (fp["summary"]["fail"], fmt(w), where))
        else:
            cells.append("-")
        for p in ("bf16-fp32", "tf32"):
            rep = it["runs"].get(p)
            cells.append(fmt(worst(rep["cases"])[0]) if rep else "-")
        f, own, other, none = diagnosed(lister, reports, it["backend"], "fp32", it["entry"])
        print("| `%s` | %s | %s | %d / %d / %d |" % (spec, ", ".join(rejected) or "none",
                                                  " | ".join(cells), own, other, none))
        realistic_rows.append(("`%s`" % spec, realistic_worst(it)))
    for kind, spec in order:
        if kind == "variant":
            realistic_rows.append(("variant `%s`" % spec, realistic_worst(info[(kind, spec)])))
    print("\n(N = %s cases.)\n" % n_cases)

    print("**On the model-sized cases alone** (flag `realistic`), the worst ratio "
          "of each mutant and correct variant per profile (above 1: rejected there):\n")
    print("| configuration | " + " | ".join(PROFILES) + " |")
    print("|---|" + "---|" * len(PROFILES))
    for spec, ratios in realistic_rows:
        print("| %s | %s |" % (spec, " | ".join(fmt(r) for r in ratios)))

    print("\n| variant | " + " | ".join(PROFILES) + " |")
    print("|---|" + "---|" * len(PROFILES))
    for kind, spec in order:
        if kind != "variant":
            continue
        it = info[(kind, spec)]
        cells = []
        for p in PROFILES:
            rep = it["runs"].get(p)
            if not rep:
                cells.append("-")
            elif rep["summary"]["exit_status"] == 0:
                cells.append("accepted, %s" % fmt(worst(rep["cases"])[0]))
            else:
                f, own, other, none = diagnosed(lister, reports, it["backend"], p, it["entry"])
                named = "none named" if own + other == 0 else "%d named" % (own + other)
                cells.append("rejected (%d), %s" % (rep["summary"]["fail"], named))
        print("| `%s` | %s |" % (spec, " | ".join(cells)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

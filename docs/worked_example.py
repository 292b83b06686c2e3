#!/usr/bin/python3
"""Worked example of docs/spec.md, section 19 (Infini-attention spec 1.0).

Computes every number printed in the spec's worked example:
  d_key = d_value = 2, N = 3, beta = 0 (g = 1/2), eps = 0,
  scale = 1/sqrt(2), linear rule for segments 1 and 2, plus the delta
  rule for the same segments and a third segment where the rules differ.

Exact parts (sigma of integer inputs >= 0, memory, normaliser, retrieval,
delta prediction) use fractions.Fraction; the softmax uses float64 math.exp.
Only the standard library is needed.

Usage:  /usr/bin/python3 docs/worked_example.py          (Markdown tables)
        /usr/bin/python3 docs/worked_example.py --json   (machine-readable)
        /usr/bin/python3 docs/worked_example.py --check [docs/spec.md]
            (exit 0 iff the spec's worked-example block equals the output)
"""
import json
import math
import sys
from fractions import Fraction as Fr

D_KEY = 2
D_VALUE = 2
N = 3
BETA = 0.0
SCALE = 1.0 / math.sqrt(2.0)

# Inputs: row lists, row i is token i of the segment.
SEGMENTS = [
    {"Q": [[1, 0], [0, 2], [1, 1]],
     "K": [[0, 1], [1, 0], [2, 1]],
     "V": [[1, 0], [0, 1], [1, 2]]},
    {"Q": [[0, 1], [1, 2], [1, 1]],
     "K": [[1, 0], [0, 0], [2, 3]],
     "V": [[2, 1], [1, 0], [0, 3]]},
    {"Q": [[1, 0], [0, 1], [1, 2]],
     "K": [[2, 0], [0, 1], [1, 1]],
     "V": [[0, 1], [2, 2], [1, 0]]},
]


def sigma_exact(x):
    """(F) on an integer x: x + 1 for x > 0, exp(x) for x <= 0 (only 0 here)."""
    if x > 0:
        return Fr(x) + 1
    if x == 0:
        return Fr(1)               # exp(0) = 1 exactly
    raise ValueError("worked example keeps inputs >= 0 so sigma is rational")


def smap(mat):
    return [[sigma_exact(x) for x in row] for row in mat]


def zeros(r, c):
    return [[Fr(0)] * c for _ in range(r)]


def retrieve(sq, m, z, eps=Fr(0)):
    """(7) with (S-eps) and the zero-row rule: one scalar den per row."""
    out = []
    for row in sq:
        den = sum(row[k] * z[k] for k in range(D_KEY)) + eps
        if den == 0:
            out.append([Fr(0)] * D_VALUE)
            continue
        num = [sum(row[k] * m[k][c] for k in range(D_KEY)) for c in range(D_VALUE)]
        out.append([x / den for x in num])
    return out


def update(sk, v, m, z, rule):
    """(8) linear or (9) delta; prediction reads the OLD m, z."""
    if rule == "delta":
        pred = retrieve(sk, m, z)
        w = [[Fr(v[t][c]) - pred[t][c] for c in range(D_VALUE)] for t in range(N)]
    else:
        w = [[Fr(x) for x in row] for row in v]
    m2 = [[m[k][c] + sum(sk[t][k] * w[t][c] for t in range(N))
           for c in range(D_VALUE)] for k in range(D_KEY)]
    z2 = [z[k] + sum(sk[t][k] for t in range(N)) for k in range(D_KEY)]
    return m2, z2


def local_attention(q, k, v):
    """(6) causal, stable softmax over j <= i, float64."""
    dots = [[sum(q[i][c] * k[j][c] for c in range(D_KEY)) for j in range(N)]
            for i in range(N)]
    scores = [[SCALE * dots[i][j] for j in range(N)] for i in range(N)]
    out, probs = [], []
    for i in range(N):
        mx = max(scores[i][j] for j in range(i + 1))
        p = [math.exp(scores[i][j] - mx) for j in range(i + 1)]
        s = sum(p)
        probs.append([x / s for x in p])
        out.append([sum(p[j] * v[j][c] for j in range(i + 1)) / s
                    for c in range(D_VALUE)])
    return dots, scores, probs, out


def gate(beta):
    g = 1.0 / (1.0 + math.exp(-beta))
    one_minus_g = 1.0 / (1.0 + math.exp(beta))   # sigmoid(-beta)
    return g, one_minus_g


def run(rule, nseg):
    m, z = zeros(D_KEY, D_VALUE), [Fr(0)] * D_KEY
    g, h = gate(BETA)
    res = []
    for s in range(nseg):
        seg = SEGMENTS[s]
        sq, sk = smap(seg["Q"]), smap(seg["K"])
        a_mem = retrieve(sq, m, z)                       # (a) old memory
        dots, scores, probs, a_dot = local_attention(seg["Q"], seg["K"], seg["V"])
        a = [[g * float(a_mem[i][c]) + h * a_dot[i][c] for c in range(D_VALUE)]
             for i in range(N)]
        pred = retrieve(sk, m, z) if rule == "delta" else None
        m, z = update(sk, seg["V"], m, z, rule)          # (d) after
        res.append(dict(sq=sq, sk=sk, a_mem=a_mem, dots=dots, scores=scores,
                        probs=probs, a_dot=a_dot, a=a, pred=pred, m=m, z=z))
    return res


def fr(x):
    return str(x) if x.denominator != 1 else str(x.numerator)


def frd(x):
    s = fr(x)
    return s if x.denominator == 1 else "%s = %.9g" % (s, float(x))


def rows(mat, f):
    return "[" + ", ".join("[" + ", ".join(f(x) for x in r) + "]" for r in mat) + "]"


def g9(x):
    return "%.9g" % x


def vec(v, f):
    return "[" + ", ".join(f(x) for x in v) + "]"


def ragged(mat, f):
    return "[" + ", ".join(vec(r, f) for r in mat) + "]"


def dec(x):
    return g9(float(x))


def markdown():
    """The block between the worked-example markers of docs/spec.md."""
    lin = run("linear", 3)
    dlt = run("delta", 3)
    out = []
    P = out.append
    g, h = gate(BETA)
    P("Parameters: d_key = d_value = %d, N = %d, beta = 0 (g = sigmoid(0) = %s, "
      "1 - g = %s), eps = 0," % (D_KEY, N, g, h))
    P("scale = 1/sqrt(2) = %.17g (float32: %.9g).  Inputs (row i = token i):"
      % (SCALE, struct_f32(SCALE)))
    P("")
    P("| segment | Q | K | V |")
    P("|---|---|---|---|")
    for s, seg in enumerate(SEGMENTS):
        P("| %d%s | %s | %s | %s |" % (s + 1, "" if s < 2 else " (delta comparison)",
                                     seg["Q"], seg["K"], seg["V"]))
    for s in range(2):
        r = lin[s]
        P("")
        P("Segment %d, linear rule (8):" % (s + 1))
        P("")
        P("| quantity | value (row lists) |")
        P("|---|---|")
        P("| sigma(Q) | %s |" % rows(r["sq"], fr))
        P("| sigma(K) | %s |" % rows(r["sk"], fr))
        P("| den_i = sigma(q_i) . z_%d | %s |" % (s, vec(
            [sum(r["sq"][i][k] * (lin[s - 1]["z"][k] if s else 0)
                 for k in range(D_KEY)) for i in range(N)], fr)))
        P("| A_mem (exact) | %s |" % rows(r["a_mem"], fr))
        if s:
            P("| A_mem (decimal) | %s |" % rows(r["a_mem"], dec))
        P("| q_i . k_j, j <= i (S_ij = scale times this) | %s |"
          % ragged([row[:i + 1] for i, row in enumerate(r["dots"])], str))
        P("| softmax weights P_ij / sum_j P_ij | %s |" % ragged(r["probs"], g9))
        P("| A_dot | %s |" % rows(r["a_dot"], g9))
        P("| A = g A_mem + (1 - g) A_dot | %s |" % rows(r["a"], g9))
        P("| M_%d | %s |" % (s + 1, rows(r["m"], fr)))
        P("| z_%d | %s |" % (s + 1, vec(r["z"], fr)))
    P("")
    P("Delta rule (9) on the same inputs, and a third segment:")
    P("")
    P("| quantity | linear (8) | delta (9) |")
    P("|---|---|---|")
    for s in range(3):
        if s < 2:
            same = all(lin[s]["a"][i][c] == dlt[s]["a"][i][c]
                       for i in range(N) for c in range(D_VALUE))
            P("| A, segment %d | as above | %s |" % (s + 1, "identical" if same else "DIFFERENT"))
        else:
            P("| A_mem, segment 3 (exact) | %s | %s |"
              % (rows(lin[s]["a_mem"], fr), rows(dlt[s]["a_mem"], fr)))
            P("| A_mem, segment 3 (decimal) | %s | %s |"
              % (rows(lin[s]["a_mem"], dec), rows(dlt[s]["a_mem"], dec)))
            P("| A, segment 3 | %s | %s |" % (rows(lin[s]["a"], g9), rows(dlt[s]["a"], g9)))
        P("| Pred, segment %d | - | %s |" % (s + 1, rows(dlt[s]["pred"], fr)))
        P("| M_%d (exact) | %s | %s |" % (s + 1, rows(lin[s]["m"], fr), rows(dlt[s]["m"], fr)))
        if s:
            P("| M_%d (decimal) | %s | %s |" % (s + 1, rows(lin[s]["m"], dec), rows(dlt[s]["m"], dec)))
        P("| z_%d | %s | %s |" % (s + 1, vec(lin[s]["z"], fr), vec(dlt[s]["z"], fr)))
    return "\n".join(out) + "\n"


def struct_f32(x):
    import struct
    return struct.unpack("f", struct.pack("f", x))[0]


BEGIN = "<!-- worked-example:begin -->\n"
END = "<!-- worked-example:end -->"


def check(path):
    text = open(path, encoding="utf-8").read()
    try:
        body = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    except ValueError:
        print("%s: worked-example markers not found" % path)
        return 1
    if body != markdown():
        print("%s: worked example differs from docs/worked_example.py output" % path)
        return 1
    print("%s: worked example matches" % path)
    return 0


def as_json():
    out = {"d_key": D_KEY, "d_value": D_VALUE, "n": N, "beta": BETA,
           "eps": 0.0, "scale": SCALE, "segments": SEGMENTS, "rules": {}}
    for rule in ("linear", "delta"):
        res = run(rule, 3)
        out["rules"][rule] = [
            {"a_mem": [[float(x) for x in r] for r in seg["a_mem"]],
             "a_dot": seg["a_dot"], "a": seg["a"],
             "m": [[float(x) for x in r] for r in seg["m"]],
             "m_exact": [[fr(x) for x in r] for r in seg["m"]],
             "z": [float(x) for x in seg["z"]]}
            for seg in res]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--json"]:
        as_json()
    elif sys.argv[1:2] == ["--check"]:
        sys.exit(check(sys.argv[2] if len(sys.argv) > 2 else "docs/spec.md"))
    else:
        sys.stdout.write(markdown())

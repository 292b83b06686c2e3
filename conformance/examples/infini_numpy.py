#!/usr/bin/env python3
"""Infini-attention in NumPy, straight from docs/spec.md, for the file
workflow of infini-conform (docs/conformance.md):

    infini-conform export DIR            # inputs + DIR/index.json
    python3 infini_numpy.py DIR          # this file: writes DIR/out/*.npy
    infini-conform check DIR             # judged against the golden vectors

It reads only what the index names (the inputs and the parameters of each
case); it never sees an expected output. Every operator is written as the
specification states it, with the rule labels of docs/spec.md:

    (F)  sigma(x) = ELU(x) + 1            (7)  retrieval, (S4) eps, (S5) zero rows
    (8)  linear update                    (9)  delta update, (S8)
    (6)  causal local attention, (S10), (S11)  (10) gated mixing, (S12)
    (S13) segment step                    (S14) layer step (grouped-query heads)

Arithmetic is float64 by default; --dtype float32 evaluates in float32.
Either conforms under the fp32 profile. Requires Python 3 and NumPy only.
"""

import argparse
import json
import os
import sys

import numpy as np


# ---- operators (one head) --------------------------------------------------

def sigma(x):
    """(F), (S2): x + 1 for x > 0, exp(x) for x <= 0 (NaN stays NaN,
    sigma(-inf) = +0, sigma(+inf) = +inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))


def matvec_rows(a, b):
    """Row i of the result is sum_c a[i][c] * b[c] (b a vector or a matrix),
    by explicit broadcasting: every product enters the sum, so IEEE rules
    (NaN, 0 * inf) apply exactly as written in the spec (S16)."""
    if b.ndim == 1:
        return (a * b[None, :]).sum(axis=1)
    return (a[:, :, None] * b[None, :, :]).sum(axis=1)


def retrieve(q, m, z, eps):
    """(7), (S4), (S5): A_mem[i] = sigma(q_i) M / (sigma(q_i) . z + eps);
    a row whose denominator == 0 is 0."""
    sq = sigma(q)
    with np.errstate(all="ignore"):
        den = matvec_rows(sq, z) + eps          # one scalar per query row
        num = matvec_rows(sq, m)                # N x d_value
        a = num / den[:, None]
    a[den == 0, :] = 0                          # (S5); NaN == 0 is false
    return a


def update_linear(k, v, m, z):
    """(8): M + sigma(K)^T V, z + sum_t sigma(k_t)."""
    sk = sigma(k)
    with np.errstate(all="ignore"):
        m_new = m + (sk[:, :, None] * v[:, None, :]).sum(axis=0)
        z_new = z + sk.sum(axis=0)
    return m_new, z_new


def update_delta(k, v, m, z, eps):
    """(9), (S8): the prediction is a retrieval with the keys from the memory
    before the update, zero rows included; z is updated as in (8)."""
    pred = retrieve(k, m, z, eps)
    with np.errstate(all="ignore"):
        return update_linear(k, v - pred, m, z)


def mix(a_mem, a_dot, beta):
    """(10), (S12): sigmoid(beta) weighs A_mem; 1 - g as sigmoid(-beta)."""
    with np.errstate(over="ignore"):
        g = 1 / (1 + np.exp(-beta))
        one_minus_g = 1 / (1 + np.exp(beta))
    with np.errstate(invalid="ignore"):
        return g * a_mem + one_minus_g * a_dot


def local_attention(q, k, v, scale):
    """(6), (S10), (S11): row i attends to j <= i with S_ij = scale q_i . k_j,
    a softmax over j stabilised by the row maximum."""
    n = q.shape[0]
    out = np.empty((n, v.shape[1]), dtype=q.dtype)
    with np.errstate(all="ignore"):
        for i in range(n):
            s = scale * (q[i][None, :] * k[: i + 1]).sum(axis=1)  # S_ij, j <= i
            row_max = np.max(s)                                   # NaN if any NaN
            p = np.exp(s - row_max)
            out[i] = (p[:, None] * v[: i + 1]).sum(axis=0) / p.sum()
    return out


# ---- steps -----------------------------------------------------------------

def segment_step(q, k, v, m, z, beta, eps, scale, rule):
    """(S13) over the segments of q, k, v ([S x N x d]): retrieve and attend
    with the memory before the segment, mix, then update."""
    outs = []
    for s in range(q.shape[0]):
        a_mem = retrieve(q[s], m, z, eps)                       # (a)
        a_dot = local_attention(q[s], k[s], v[s], scale)        # (b)
        outs.append(mix(a_mem, a_dot, beta))                    # (c)
        if rule == "delta":                                     # (d)
            m, z = update_delta(k[s], v[s], m, z, eps)
        else:
            m, z = update_linear(k[s], v[s], m, z)
    return np.stack(outs), m, z


def layer_step(q, k, v, beta, m, z, n_heads, n_kv_heads, d_key, d_value, eps,
               scale, rule):
    """(S14): query head h uses kv head h // G, G = H / H_kv; every head of a
    group retrieves before the group's single update; out is the
    concatenation of the heads (11)."""
    group = n_heads // n_kv_heads
    m = m.copy()
    z = z.copy()
    outs = []
    for s in range(q.shape[0]):
        heads = []
        for h in range(n_heads):
            g = h // group
            q_h = q[s][:, h * d_key:(h + 1) * d_key]
            k_g = k[s][:, g * d_key:(g + 1) * d_key]
            v_g = v[s][:, g * d_value:(g + 1) * d_value]
            a_mem = retrieve(q_h, m[g], z[g], eps)
            a_dot = local_attention(q_h, k_g, v_g, scale)
            heads.append(mix(a_mem, a_dot, beta[h]))
        outs.append(np.concatenate(heads, axis=1))
        for g in range(n_kv_heads):
            k_g = k[s][:, g * d_key:(g + 1) * d_key]
            v_g = v[s][:, g * d_value:(g + 1) * d_value]
            if rule == "delta":
                m[g], z[g] = update_delta(k_g, v_g, m[g], z[g], eps)
            else:
                m[g], z[g] = update_linear(k_g, v_g, m[g], z[g])
    return np.stack(outs), m, z


# ---- the export directory ----------------------------------------------------

def number(x):
    """A parameter of the index: a JSON number, or "inf", "-inf", "nan"."""
    return float(x)


def run_case(case, inputs, dtype):
    """The outputs of one case, by name."""
    op = case["operator"]
    p = case["params"]
    f = dtype.type
    if op == "feature_map":
        return {"y": sigma(inputs["x"])}
    if op == "retrieve":
        return {"a": retrieve(inputs["q"], inputs["m"], inputs["z"], f(number(p["eps"])))}
    if op in ("update_linear", "update_delta"):
        if op == "update_delta":
            m, z = update_delta(inputs["k"], inputs["v"], inputs["m"], inputs["z"],
                                f(number(p["eps"])))
        else:
            m, z = update_linear(inputs["k"], inputs["v"], inputs["m"], inputs["z"])
        return {"m": m, "z": z}
    if op == "mix":
        return {"out": mix(inputs["a_mem"], inputs["a_dot"], f(number(p["beta"])))}
    if op == "local_attention":
        return {"out": local_attention(inputs["q"], inputs["k"], inputs["v"],
                                       f(number(p["scale"])))}
    if op == "segment_step":
        dk, dv = p["d_key"], p["d_value"]
        m = inputs.get("m", np.zeros((dk, dv), dtype))             # (S3)
        z = inputs.get("z", np.zeros((dk,), dtype))
        out, m, z = segment_step(inputs["q"], inputs["k"], inputs["v"], m, z,
                                 f(number(p["beta"])), f(number(p["eps"])),
                                 f(number(p["scale"])), p["rule"])
        return {"out": out, "m": m, "z": z}
    if op == "layer_step":
        hkv, dk, dv = p["n_kv_heads"], p["d_key"], p["d_value"]
        m = inputs.get("m", np.zeros((hkv, dk, dv), dtype))        # (S3)
        z = inputs.get("z", np.zeros((hkv, dk), dtype))
        out, m, z = layer_step(inputs["q"], inputs["k"], inputs["v"], inputs["beta"],
                               m.reshape(hkv, dk, dv), z.reshape(hkv, dk),
                               p["n_heads"], hkv, dk, dv, f(number(p["eps"])),
                               f(number(p["scale"])), p["rule"])
        return {"out": out, "m": m, "z": z}
    raise ValueError("unknown operator %r" % op)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Compute the outputs of an infini-conform export directory "
                    "with NumPy, straight from docs/spec.md.")
    ap.add_argument("dir", help="directory written by 'infini-conform export'")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help="arithmetic precision (default float64)")
    ap.add_argument("--op", action="append",
                    help="only this operator (repeatable); others get no output")
    args = ap.parse_args(argv)
    dtype = np.dtype(args.dtype)

    with open(os.path.join(args.dir, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    if index.get("format") != "infini-conform-export":
        sys.exit("%s/index.json is not an infini-conform export index" % args.dir)

    done = 0
    for case in index["cases"]:
        if args.op and case["operator"] not in args.op:
            continue
        inputs = {name: np.load(os.path.join(args.dir, d["file"])).astype(dtype)
                  for name, d in case["inputs"].items()}
        outputs = run_case(case, inputs, dtype)
        for name, d in case["outputs"].items():
            value = np.ascontiguousarray(np.asarray(outputs[name], dtype=dtype))
            np.save(os.path.join(args.dir, d["file"]), value.reshape(d["shape"]))
        done += 1
    print("infini_numpy: wrote the outputs of %d case%s to %s/out (%s arithmetic)"
          % (done, "" if done == 1 else "s", args.dir, args.dtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())

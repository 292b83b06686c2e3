#!/usr/bin/env python3
"""Infini-attention written the way PyTorch code writes it, for the file
workflow of infini-conform (docs/conformance.md, "The PyTorch example"):

    infini-conform export DIR
    python3 infini_torch.py DIR [--device cuda] [--precision P] [--bug NAME]
    infini-conform check DIR --profile P          # the same P

Where infini_numpy.py transcribes docs/spec.md loop by loop, this file is
what a PyTorch user writes from the paper: batched matrix products (@),
causal attention as softmax(scores.masked_fill(mask, -inf)) @ V with no
special care for NaN, or F.scaled_dot_product_attention where the installed
torch has it, heads by view + transpose, grouped-query heads by
repeat_interleave, ELU + 1 by F.elu. The spec's rule labels stand beside
each step:

    (F)  sigma(x) = ELU(x) + 1            (7)  retrieval, (S4) eps, (S5) zero rows
    (8)  linear update                    (9)  delta update, (S8)
    (6)  causal local attention, (S10), (S11)  (10) gated mixing, (S12)
    (S13) segment step                    (S14) layer step (grouped-query heads)

--precision chooses what the tolerance profile of the same name
(docs/tolerances.md, "Profiles") models:

    fp32       float32 everything; on CUDA with TF32 off
    tf32       float32 storage, the factors of every matrix product rounded
               to TF32 (10 explicit mantissa bits), float32 accumulation:
               on CUDA by allow_tf32, on the CPU by rounding the factors
    bf16-fp32  inputs, outputs and the memory carried between segments
    fp16-fp32  stored in bf16 / fp16; arithmetic in float32 (upcast,
               compute, round what is stored)

--bug NAME plants one of the known bugs of conformance/catalogue.h (the
names of BUGS below) where it appears in real code; every such run must
fail `check`. Requires Python 3, NumPy and PyTorch (1.13 or later).
"""

import argparse
import json
import math
import os
import sys

PROG = "infini_torch"


def die(message):
    """Bad input or set-up: one line on stderr, exit status 2."""
    sys.stderr.write("%s: %s\n" % (PROG, message))
    sys.exit(2)


try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as err:  # one line, not a traceback
    die("needs NumPy and PyTorch: %s" % err)


# ---- the bugs it can plant ---------------------------------------------------
# name (an entry of conformance/catalogue.h): how it is written below.
BUGS = {
    "elu_no_plus1": "sigma = F.elu(x): the + 1 forgotten",
    "eps_added": "den + eps + 1e-6, 'for stability'",
    "eps_precedence": "num / den + eps: the eps outside the division",
    "z_per_column": "num / (z + eps): z broadcast over the value columns",
    "zero_row_missing": "num / den with no torch.where for den == 0",
    "delta_no_eps": "the delta prediction divides by sigma(K) z, no eps",
    "delta_no_z": "z not updated by the delta rule",
    "rule_linear": "the rule argument ignored: always the linear update",
    "update_first": "the memory updated before the segment reads it",
    "mem_reset": "M, z = zeros at the start of every segment",
    "z0_init": "the initial z is torch.full((d_key,), 1 / d_key)",
    "gate_swap": "g * a_dot + (1 - g) * a_mem",
    "one_beta": "beta[0] for every head",
    "no_mask": "no masked_fill (is_causal=False)",
    "mask_strict": "mask = triu(diagonal=0): a token does not see itself",
    "softmax_cols": "torch.softmax(scores, dim=-2)",
    "softmax_nomax": "exp(scores) / exp(scores).sum(-1): no max subtracted",
    "scale_inv_d": "scores / d_key instead of the scale asked",
    "scale_none": "q @ k.T with no scale",
    "scale_dmodel": "scores / sqrt(d_model), d_model = n_heads * d_key",
    "gqa_mod": "k.repeat(G, 1, 1) instead of repeat_interleave",
    "head_split_in": "q.view(H, N, d_key): no transpose when splitting",
    "head_split_out": "out.reshape(N, H * d_value): no transpose when merging",
    "head_split_both": "both of the above",
    "nan_to_zero": "torch.nan_to_num(out, nan=0.0) on every output",
}

PLANTED = set()


def planted(name):
    """Is bug `name` planted in this run? (A name not in BUGS is a typo.)"""
    assert name in BUGS, name
    return name in PLANTED


# ---- precision ---------------------------------------------------------------

STORAGE = {"fp32": torch.float32, "tf32": torch.float32,
           "bf16-fp32": torch.bfloat16, "fp16-fp32": torch.float16}


def round_tf32(x):
    """Round float32 to TF32 (10 explicit mantissa bits, nearest-even), as
    tensor cores read the factors of a product under allow_tf32. NaN and inf
    keep their bits; the carry cannot reach the sign (|bits| < 0x7f800000)."""
    bits = x.contiguous().view(torch.int32)
    rounded = (bits + 0xfff + ((bits >> 13) & 1)) & -0x2000
    special = (bits & 0x7f800000) == 0x7f800000
    return torch.where(special, bits, rounded).view(torch.float32)


class Precision:
    """How tensors are stored and how the matrix products read them."""

    def __init__(self, name, device):
        self.name = name
        self.device = device
        self.storage = STORAGE[name]
        # On CUDA the TF32 factors come from the tensor cores themselves.
        self.round_factors = name == "tf32" and device.type == "cpu"

    def store(self, x):
        """What is stored: rounded to the storage type (bf16, fp16)."""
        return x.to(self.storage)

    def load(self, x):
        """What is computed with: float32 (the upcast of autocast-free code)."""
        return x.to(torch.float32)

    def factor(self, x):
        """A factor of a matrix product as the hardware reads it."""
        return round_tf32(x) if self.round_factors else x

    def mm(self, a, b):
        """A (batched) matrix product, float32 accumulation."""
        return self.factor(a) @ self.factor(b)


def set_tf32(enabled):
    """TF32 for float32 matrix products on CUDA (cuBLAS and cuDNN): on only
    for --precision tf32. Set explicitly because torch defaults cuDNN to
    TF32, and set_float32_matmul_precision('high') (common in training
    code) turns it on for cuBLAS."""
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
    torch.set_float32_matmul_precision("high" if enabled else "highest")


# ---- operators, batched over heads: x [heads, N, d] ------------------------

def sigma(x):
    """(F), (S2): ELU(x) + 1. F.elu keeps NaN; F.elu(-inf) + 1 = +0."""
    if planted("elu_no_plus1"):
        return F.elu(x)
    return F.elu(x) + 1


def retrieve_from(sq, m, z, eps, prec):
    """(7), (S4), (S5) from featurised rows sq [H, N, dk], m [H, dk, dv],
    z [H, dk]: sigma(Q) M / (sigma(Q) z + eps), zero where den == 0."""
    num = prec.mm(sq, m)                             # (7) sigma(Q) M
    dot = prec.mm(sq, z.unsqueeze(-1))               # (7) sigma(Q) z, [H, N, 1]
    den = dot + eps                                  # (S4) one scalar per row
    if planted("z_per_column"):
        # Real code: num / (z + eps), valid when d_key == d_value; z read
        # cyclically otherwise, as the catalogue's mutant does.
        columns = torch.arange(m.shape[-1], device=m.device) % z.shape[-1]
        den = (z[..., columns] + eps).unsqueeze(-2)
    if planted("eps_added"):
        den = den + 1e-6
    a = num / dot + eps if planted("eps_precedence") else num / den
    if planted("zero_row_missing"):
        return a
    return torch.where(den == 0, torch.zeros_like(a), a)   # (S5); NaN != 0


def update(k, v, m, z, rule, eps, prec):
    """(8) or (9), (S8) for kv heads k [G, N, dk], v [G, N, dv]: the delta
    rule stores V minus the prediction read from M_{s-1}, z_{s-1}."""
    sk = sigma(k)
    delta = rule == "delta" and not planted("rule_linear")
    if delta:
        pred_eps = 0.0 if planted("delta_no_eps") else eps
        v = v - retrieve_from(sk, m, z, pred_eps, prec)     # (9), (S8)
    m = m + prec.mm(sk.transpose(-2, -1), v)                # (8) sigma(K)^T V
    if not (delta and planted("delta_no_z")):
        z = z + sk.sum(dim=-2)                              # (8) sum_t sigma(k_t)
    return m, z


def causal_mask(n, device, diagonal=1):
    """True at the positions a row may not see: j > i (S10)."""
    if planted("mask_strict"):
        diagonal = 0
    return torch.ones(n, n, dtype=torch.bool, device=device).triu(diagonal)


def attention_dense(q, k, v, scale, prec):
    """(6), (S10): softmax(scale Q K^T, masked with -inf) @ V, the textbook
    way; no care for a NaN at a masked position (0 * NaN = NaN)."""
    scores = prec.mm(q, k.transpose(-2, -1)) * scale
    if not planted("no_mask"):
        scores = scores.masked_fill(causal_mask(q.shape[-2], q.device), float("-inf"))
    if planted("softmax_nomax"):
        e = scores.exp()
        p = e / e.sum(dim=-1, keepdim=True)
    else:
        p = torch.softmax(scores, dim=-2 if planted("softmax_cols") else -1)
    return prec.mm(p, v)


def attention_sdpa(q, k, v, scale, prec):
    """(6), (S10) by the fused kernel (torch >= 2.1 for scale=). On the CPU
    under tf32 Q, K, V are rounded to TF32 first; P stays float32."""
    q, k, v = prec.factor(q), prec.factor(k), prec.factor(v)
    if planted("no_mask"):
        return F.scaled_dot_product_attention(q, k, v, scale=scale)
    if planted("mask_strict"):
        allowed = ~causal_mask(q.shape[-2], q.device)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=scale)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)


def softmax_scale(scale, d_key, n_heads):
    """(S11): the scale asked, unless a scale bug is planted."""
    if planted("scale_inv_d"):
        return 1.0 / d_key
    if planted("scale_none"):
        return 1.0
    if planted("scale_dmodel"):
        return 1.0 / math.sqrt(n_heads * d_key)
    return scale


def attention(q, k, v, scale, prec, how):
    """(6): the fused kernel or the dense formula (the softmax bugs need
    the dense one: they live in its code)."""
    dense_only = planted("softmax_cols") or planted("softmax_nomax")
    if how == "sdpa" and not dense_only:
        return attention_sdpa(q, k, v, scale, prec)
    return attention_dense(q, k, v, scale, prec)


def mix(a_mem, a_dot, beta):
    """(10), (S12): g = sigmoid(beta) weighs the memory; 1 - g (S18)."""
    g = torch.sigmoid(beta)
    if planted("gate_swap"):
        return g * a_dot + (1 - g) * a_mem
    return g * a_mem + (1 - g) * a_dot


def repeat_kv(x, group):
    """(S14): query head h reads kv head h // G, repeat_interleave."""
    if planted("gqa_mod"):
        return x.repeat(group, *([1] * (x.dim() - 1)))
    return x.repeat_interleave(group, dim=0)


# ---- steps ---------------------------------------------------------------------

class Step:
    """The parameters of a segment or layer step."""

    def __init__(self, params, n_heads, prec, how):
        self.rule = params["rule"]
        self.eps = number(params["eps"])
        self.scale = softmax_scale(number(params["scale"]), params["d_key"], n_heads)
        self.prec = prec
        self.how = how


def heads_segment(q, k, v, m, z, beta, st):
    """(S13) for every head of one segment: q [H, N, dk], k [G, N, dk],
    v [G, N, dv], m [G, dk, dv], z [G, dk], beta [H] (float32)."""
    prec, group = st.prec, q.shape[0] // k.shape[0]
    if planted("update_first"):
        m, z = update(k, v, m, z, st.rule, st.eps, prec)
    if planted("one_beta"):
        beta = beta[:1].expand(q.shape[0])
    a_mem = retrieve_from(sigma(q), repeat_kv(m, group), repeat_kv(z, group),
                          st.eps, prec)                                     # (a)
    a_dot = attention(q, repeat_kv(k, group), repeat_kv(v, group), st.scale,
                      prec, st.how)                                         # (b)
    out = mix(a_mem, a_dot, beta.view(-1, 1, 1))                            # (c)
    if not planted("update_first"):
        m, z = update(k, v, m, z, st.rule, st.eps, prec)                    # (d), (S9)
    return out, m, z


def split_heads(x, heads):
    """[N, heads * d] -> [heads, N, d] (S14 layout), view + transpose."""
    n = x.shape[0]
    if planted("head_split_in") or planted("head_split_both"):
        return x.reshape(heads, n, -1)
    return x.view(n, heads, -1).transpose(0, 1)


def merge_heads(x):
    """[heads, N, d] -> [N, heads * d], the concatenation of (11)."""
    n = x.shape[1]
    if planted("head_split_out") or planted("head_split_both"):
        return x.reshape(n, -1)
    return x.transpose(0, 1).reshape(n, -1)


def run_segments(q, k, v, m, z, beta, st, heads):
    """The segments in order, carrying the memory (S13), (S14). q, k, v,
    m, z are stored tensors; each segment computes in float32 and stores
    its output and the memory it carries (rounded under bf16/fp16).
    heads = (H, G) splits the rows of the layer step; None: one head."""
    prec, load = st.prec, st.prec.load
    if heads is None:
        split_q = split_kv = lambda x: x.unsqueeze(0)  # noqa: E731
        merge = lambda x: x.squeeze(0)  # noqa: E731
    else:
        split_q = lambda x: split_heads(x, heads[0])  # noqa: E731
        split_kv = lambda x: split_heads(x, heads[1])  # noqa: E731
        merge = merge_heads
    outs = []
    for s in range(q.shape[0]):
        if planted("mem_reset"):
            m, z = torch.zeros_like(m), torch.zeros_like(z)
        out, m, z = heads_segment(split_q(load(q[s])), split_kv(load(k[s])),
                                  split_kv(load(v[s])), load(m), load(z), beta, st)
        outs.append(prec.store(merge(out)))
        m, z = prec.store(m), prec.store(z)
    return torch.stack(outs), m, z


# ---- the export directory ---------------------------------------------------

def number(x):
    """A parameter of the index: a JSON number, or "inf", "-inf", "nan"."""
    return float(x)


def initial_state(inputs, shape, prec):
    """(S3): M_0 = 0, z_0 = 0 unless the case gives them."""
    dk = shape[-2]
    if "m" in inputs:
        return inputs["m"].view(shape), inputs["z"].view(shape[:-1])
    m = prec.store(torch.zeros(shape, device=prec.device))
    z0 = 1.0 / dk if planted("z0_init") else 0.0
    z = prec.store(torch.full(shape[:-1], z0, device=prec.device))
    return m, z


def run_case(case, inputs, prec, how):
    """The outputs of one case, by name. Inputs arrive stored (rounded to
    the storage type); a head axis of 1 makes the operators batched."""
    op, p = case["operator"], case["params"]
    one = lambda name: prec.load(inputs[name]).unsqueeze(0)  # noqa: E731
    if op == "feature_map":
        out = {"y": sigma(one("x"))}
    elif op == "retrieve":
        out = {"a": retrieve_from(sigma(one("q")), one("m"), one("z"), number(p["eps"]), prec)}
    elif op in ("update_linear", "update_delta"):
        rule = "delta" if op == "update_delta" else "linear"
        m, z = update(one("k"), one("v"), one("m"), one("z"), rule,
                      number(p.get("eps", 0)), prec)
        out = {"m": m, "z": z}
    elif op == "mix":
        beta = torch.tensor(number(p["beta"]), device=prec.device)
        out = {"out": mix(one("a_mem"), one("a_dot"), beta)}
    elif op == "local_attention":
        scale = softmax_scale(number(p["scale"]), p["d_key"], 1)
        out = {"out": attention(one("q"), one("k"), one("v"), scale, prec, how)}
    elif op == "segment_step":
        m, z = initial_state(inputs, (1, p["d_key"], p["d_value"]), prec)
        beta = torch.tensor([number(p["beta"])], device=prec.device)
        out, m, z = run_segments(inputs["q"], inputs["k"], inputs["v"], m, z, beta,
                                 Step(p, 1, prec, how), None)
        out = {"out": out, "m": m.squeeze(0), "z": z.squeeze(0)}
    elif op == "layer_step":
        h, g = p["n_heads"], p["n_kv_heads"]
        m, z = initial_state(inputs, (g, p["d_key"], p["d_value"]), prec)
        beta = inputs["beta"].to(torch.float32)       # parameters stay float32
        out, m, z = run_segments(inputs["q"], inputs["k"], inputs["v"], m, z, beta,
                                 Step(p, h, prec, how), (h, g))
        out = {"out": out, "m": m, "z": z}
    else:
        die("%s: unknown operator %r" % (case.get("case"), op))
    if op not in ("segment_step", "layer_step"):
        out = {name: prec.store(t.squeeze(0)) for name, t in out.items()}
    if planted("nan_to_zero"):
        out = {name: torch.nan_to_num(t, nan=0.0) for name, t in out.items()}
    return out


# ---- command line ----------------------------------------------------------

class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message):
        die(message)


def parse(argv):
    ap = Parser(prog="infini_torch.py",
                description="Compute the outputs of an infini-conform export directory "
                            "with PyTorch, written the way PyTorch code is.")
    ap.add_argument("dir", nargs="?", help="directory written by 'infini-conform export'")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                    help="where to compute (default cpu)")
    ap.add_argument("--precision", default="fp32", choices=tuple(STORAGE),
                    help="storage and arithmetic, as the profile of the same name "
                         "(default fp32)")
    ap.add_argument("--attention", default="auto", choices=("auto", "sdpa", "dense"),
                    help="local attention by F.scaled_dot_product_attention (sdpa), "
                         "by softmax(masked) @ V (dense), or sdpa where this torch "
                         "has it (auto, the default)")
    ap.add_argument("--bug", action="append", default=[], metavar="NAME",
                    help="plant a known bug of conformance/catalogue.h (repeatable; "
                         "--list-bugs names them)")
    ap.add_argument("--list-bugs", action="store_true",
                    help="print the bugs --bug can plant, one per line, and exit")
    ap.add_argument("--op", action="append",
                    help="only this operator (repeatable); others get no output")
    args = ap.parse_args(argv)
    for name in args.bug:
        if name not in BUGS:
            die("unknown bug %r (--list-bugs names the %d known ones)" % (name, len(BUGS)))
    if not args.list_bugs and args.dir is None:
        die("the export directory is missing (usage: infini_torch.py DIR [options])")
    return args


def has_sdpa():
    """F.scaled_dot_product_attention with its scale argument (torch >= 2.1)."""
    if not hasattr(F, "scaled_dot_product_attention"):
        return False
    x = torch.zeros(1, 1, 1)
    try:
        F.scaled_dot_product_attention(x, x, x, scale=1.0)
    except TypeError:
        return False
    return True


def choose_device(name):
    if name == "cuda" and not torch.cuda.is_available():
        die("--device cuda: this torch (%s) sees no CUDA device" % torch.__version__)
    device = torch.device(name)
    if device.type == "cuda":
        # fp32 must mean fp32: TF32 only for --precision tf32.
        set_tf32(False)
    return device


def read_index(folder):
    """The export's index.json, or one line and exit 2."""
    path = os.path.join(folder, "index.json")
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as err:
        die("cannot read %s: %s" % (path, getattr(err, "strerror", None) or err))
    if not isinstance(index, dict) or index.get("format") != "infini-conform-export":
        die("%s is not an infini-conform export index" % path)
    return index


def load_inputs(folder, case, prec):
    """The inputs of a case, stored as the precision stores them."""
    inputs = {}
    for name, d in case["inputs"].items():
        path = os.path.join(folder, d["file"])
        try:
            array = np.load(path)
        except (OSError, ValueError) as err:
            die("cannot read %s: %s" % (path, err))
        inputs[name] = prec.store(torch.from_numpy(np.ascontiguousarray(array,
                                                                        np.float32)
                                                   ).to(prec.device))
    return inputs


def save_outputs(folder, case, outputs):
    for name, d in case["outputs"].items():
        value = outputs[name].detach().to("cpu", torch.float32).contiguous()
        np.save(os.path.join(folder, d["file"]), value.numpy().reshape(d["shape"]))


def main(argv=None):
    args = parse(argv)
    if args.list_bugs:
        for name, how in BUGS.items():
            print("%s\t%s" % (name, how))
        return 0
    PLANTED.update(args.bug)
    device = choose_device(args.device)
    index = read_index(args.dir)
    how = args.attention
    if how == "auto":
        how = "sdpa" if has_sdpa() else "dense"
    elif how == "sdpa" and not has_sdpa():
        die("--attention sdpa: torch %s has no F.scaled_dot_product_attention(scale=)"
            % torch.__version__)
    prec = Precision(args.precision, device)
    if device.type == "cuda":
        set_tf32(args.precision == "tf32")

    done = 0
    with torch.no_grad():
        for case in index.get("cases", []):
            if args.op and case["operator"] not in args.op:
                continue
            outputs = run_case(case, load_inputs(args.dir, case, prec), prec, how)
            save_outputs(args.dir, case, outputs)
            done += 1
    print("%s: wrote the outputs of %d case%s to %s/out (torch %s, %s, %s, "
          "attention %s%s)" % (PROG, done, "" if done == 1 else "s", args.dir,
                               torch.__version__, device, args.precision, how,
                               "".join(", bug " + b for b in args.bug)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

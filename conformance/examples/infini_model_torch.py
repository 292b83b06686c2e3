#!/usr/bin/env python3
"""A whole Infini-Transformer written the way PyTorch code writes it, for
the model part of infini-conform's file workflow:

    infini-conform export DIR --model PRESET
    python3 infini_model_torch.py DIR [--device cuda] [--precision P] [--bug NAME]
    infini-conform check DIR

infini_torch.py checks the operators one at a time; this file is the model
around them (docs/model.md), the way a training codebase has it: a segment
of N tokens at once through every layer (embedding, RMSNorm, nn.Linear
weights applied by F.linear, heads by view + transpose, RoPE by
rotate_half, causal softmax(masked_fill(-inf)) @ V, grouped-query heads by
repeat_interleave, SwiGLU), the compressive memory read before the segment
and folded in after it, carried from segment to segment. The model's rule
labels stand beside each step:

    (M1) embedding         (M2) RMSNorm          (M3) projections
    (M4) memory read       (M5) RoPE             (M6) local attention
    (M7) gated mixing      (M8) memory update    (M9) output projection
    (M10) SwiGLU           (M11) logits          (M12) segments

For each entry of the "models" array of DIR/index.json it reads the
weights (safetensors, parsed here: the format is simple and Debian has no
python3-safetensors) and the token stream, and writes the logits [T x V]
and, unless --no-hidden, the residual stream after each block [L x T x D],
both float32.

--precision:

    fp32   float32 everything; on CUDA with TF32 off
    tf32   float32 storage, TF32 matrix products: on CUDA by allow_tf32;
           on the CPU, which has no TF32 arithmetic, emulated by rounding
           both factors of every matrix product (the linear layers, the
           attention's two products, the memory's) to 10 explicit mantissa
           bits, nearest-even, and accumulating in float32, which is what
           the tensor cores do
    bf16   the forward under torch.autocast(dtype=torch.bfloat16), the way
           mixed-precision training runs it: weights, the residual stream
           and the memory carried between segments stay float32; outputs
           are written as float32

--bug NAME plants one of the model-level bugs of conformance/catalogue.h
(the entries marked CAT_MODEL, with the meaning conformance/model/dmodel.c
gives them) where it appears in real code; every such run must fail
`check`. Requires Python 3, NumPy and PyTorch (1.13 or later).
"""

import argparse
import hashlib
import json
import math
import os
import struct
import sys

PROG = "infini_model_torch"


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
# name (a CAT_MODEL entry of conformance/catalogue.h): how it is written below.
BUGS = {
    "update_first": "each layer folds the segment into its memory before reading it",
    "mem_reset": "the memories created inside the segment loop: zeros at every segment",
    "gqa_mod": "k.repeat(G, 1, 1) instead of repeat_interleave: head h reads h % H_kv",
    "rope_before_memory": "q, k rotated right after the projection: rotated Q/K reach the memory",
    "shared_memory": "[Memory()] * L: one memory object in every layer",
    "boundary_off_by_one": "the first segment ends at N - 1, so every cut is one token early",
    "rms_no_eps": "RMSNorm as F.normalize(x) * sqrt(D): no eps under the root",
    "rms_mean": "F.layer_norm (centred) where the model has RMSNorm",
    "gelu": "F.gelu where SwiGLU has F.silu",
    "no_final_norm": "the LM head applied to the last hidden state without the final norm",
}

PLANTED = set()


def planted(name):
    """Is bug `name` planted in this run? (A name not in BUGS is a typo.)"""
    assert name in BUGS, name
    return name in PLANTED


# ---- precision ---------------------------------------------------------------

PRECISIONS = ("fp32", "tf32", "bf16")


def round_tf32(x):
    """Round float32 to TF32 (10 explicit mantissa bits, nearest-even), as
    tensor cores read the factors of a product under allow_tf32. NaN and inf
    keep their bits; the carry cannot reach the sign (|bits| < 0x7f800000)."""
    bits = x.contiguous().view(torch.int32)
    rounded = (bits + 0xfff + ((bits >> 13) & 1)) & -0x2000
    special = (bits & 0x7f800000) == 0x7f800000
    return torch.where(special, bits, rounded).view(torch.float32)


def set_tf32(enabled):
    """TF32 for float32 matrix products on CUDA (cuBLAS and cuDNN): on only
    for --precision tf32. Set explicitly because torch defaults cuDNN to
    TF32, and set_float32_matmul_precision('high') (common in training
    code) turns it on for cuBLAS."""
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
    torch.set_float32_matmul_precision("high" if enabled else "highest")


class Precision:
    """How the matrix products read their factors, and the autocast region."""

    def __init__(self, name, device):
        self.name = name
        self.device = device
        # On CUDA the TF32 factors come from the tensor cores themselves.
        self.round_factors = name == "tf32" and device.type == "cpu"

    def factor(self, x):
        """A factor of a matrix product as the hardware reads it."""
        return round_tf32(x) if self.round_factors else x

    def linear(self, x, w):
        """nn.Linear without bias: x W^T."""
        return F.linear(self.factor(x), self.factor(w))

    def mm(self, a, b):
        """A (batched) matrix product, float32 accumulation."""
        return self.factor(a) @ self.factor(b)

    def region(self):
        """The forward's context: autocast for bf16, else nothing."""
        enabled = self.name == "bf16"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)


# ---- the config (index.json) -------------------------------------------------

SIZES = ("vocab_size", "d_model", "n_layers", "n_heads", "n_kv_heads", "d_head",
         "d_ff", "segment_len")
FLOATS = ("rope_theta", "norm_eps", "attn_eps", "attn_scale")


class Config:
    """docs/model.md, "Config": sizes as ints, floats from C99 hex strings."""

    def __init__(self, raw, where):
        if not isinstance(raw, dict):
            die("%s: config is not an object" % where)
        for key in SIZES:
            value = raw.get(key)
            if type(value) is not int or value < 1:
                die("%s: config %s must be an integer >= 1, not %r" % (where, key, value))
            setattr(self, key, value)
        for key in FLOATS:
            try:
                value = float.fromhex(raw[key]) if isinstance(raw[key], str) else None
            except (KeyError, ValueError):
                value = None
            if value is None or not math.isfinite(value):
                die("%s: config %s must be a finite hex float string, not %r"
                    % (where, key, raw.get(key)))
            setattr(self, key, value)
        self.rule, self.position = raw.get("rule"), raw.get("position")
        if self.rule not in ("linear", "delta"):
            die("%s: config rule must be linear or delta, not %r" % (where, self.rule))
        if self.position not in ("rope", "none"):
            die("%s: config position must be rope or none, not %r" % (where, self.position))
        if self.n_heads % self.n_kv_heads:
            die("%s: n_kv_heads %d does not divide n_heads %d"
                % (where, self.n_kv_heads, self.n_heads))
        if self.position == "rope" and (self.d_head % 2 or self.rope_theta <= 1):
            die("%s: RoPE needs an even d_head and rope_theta > 1" % where)
        if self.norm_eps <= 0 or self.attn_eps < 0:
            die("%s: norm_eps must be > 0 and attn_eps >= 0" % where)
        self.group = self.n_heads // self.n_kv_heads   # G (S14)

    def shapes(self):
        """Every tensor's name and shape (docs/model.md, "Tensors")."""
        D, F_, V, dh = self.d_model, self.d_ff, self.vocab_size, self.d_head
        hq, hkv = self.n_heads * dh, self.n_kv_heads * dh
        out = {"embed.weight": [V, D], "norm.weight": [D], "lm_head.weight": [V, D]}
        for l in range(self.n_layers):
            p = "layers.%d." % l
            out.update({p + "attn_norm.weight": [D], p + "attn.q_proj.weight": [hq, D],
                        p + "attn.k_proj.weight": [hkv, D], p + "attn.v_proj.weight": [hkv, D],
                        p + "attn.o_proj.weight": [D, hq], p + "attn.beta": [self.n_heads],
                        p + "ffn_norm.weight": [D], p + "ffn.gate_proj.weight": [F_, D],
                        p + "ffn.up_proj.weight": [F_, D], p + "ffn.down_proj.weight": [D, F_]})
        return out


# ---- the weights file (safetensors) ------------------------------------------

DTYPES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8}
HEADER_MAX = 100 << 20       # the reference implementation's limit


def no_duplicates(pairs):
    """json object hook: a repeated name is an error, not a silent overwrite."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("repeated name %r" % key)
        out[key] = value
    return out


def refuse_constant(name):
    raise ValueError("%s is not JSON" % name)


def parse_header(blob, path):
    """The 8-byte length and the JSON header; returns (entries, data bytes)."""
    if len(blob) < 8:
        die("%s: not a safetensors file (%d bytes)" % (path, len(blob)))
    (n,) = struct.unpack("<Q", blob[:8])
    if n > HEADER_MAX or n > len(blob) - 8:
        die("%s: header length %d beyond the file or above 100 MiB" % (path, n))
    text = blob[8:8 + n]
    if not text.startswith(b"{"):
        die("%s: header does not start with '{'" % path)
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=no_duplicates,
                            parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError) as err:
        die("%s: header is not UTF-8 JSON: %s" % (path, err))
    if not isinstance(header, dict):
        die("%s: header is not a JSON object" % path)
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        die("%s: __metadata__ is not an object of strings" % path)
    return header, blob[8 + n:]


def is_count(x):
    return type(x) is int and x >= 0


def check_entry(name, e, data_len, path):
    """One header entry; returns (dtype, shape, begin, end)."""
    if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
        die("%s: tensor %s: entry must hold exactly dtype, shape and data_offsets"
            % (path, name))
    dtype, shape, offsets = e["dtype"], e["shape"], e["data_offsets"]
    if dtype not in DTYPES:
        die("%s: tensor %s: dtype %r is not F32, F16, BF16 or F64" % (path, name, dtype))
    if not isinstance(shape, list) or len(shape) > 8 or not all(map(is_count, shape)):
        die("%s: tensor %s: shape %r is not at most 8 non-negative integers"
            % (path, name, shape))
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(map(is_count, offsets))
            or not offsets[0] <= offsets[1] <= data_len):
        die("%s: tensor %s: data_offsets %r outside the data section (%d bytes)"
            % (path, name, offsets, data_len))
    if offsets[1] - offsets[0] != math.prod(shape) * DTYPES[dtype]:
        die("%s: tensor %s: %d bytes for shape %s of %s"
            % (path, name, offsets[1] - offsets[0], shape, dtype))
    return dtype, shape, offsets[0], offsets[1]


def decode(raw, dtype):
    """Little-endian bytes to a float32 array; BF16 and F16 are exact in
    float32, F64 is rounded to nearest."""
    if dtype == "BF16":   # numpy has no bfloat16: its bits are a float32's top half
        return (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
    kind = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}[dtype]
    return np.frombuffer(raw, kind).astype(np.float32)


def read_safetensors(path):
    """Every tensor of a safetensors file, float32 NumPy arrays by name;
    a malformed file is refused with one line (docs/model.md, "Weights file")."""
    if not os.path.isfile(path):
        die("%s: not a regular file" % path)
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as err:
        die("cannot read %s: %s" % (path, err.strerror))
    header, data = parse_header(blob, path)
    entries = {name: check_entry(name, e, len(data), path) for name, e in header.items()}
    # The data section must be covered exactly: no overlap, no hole, no tail.
    at = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda kv: kv[1][2:]):
        if begin != at:
            die("%s: tensor %s: %s at byte %d of the data section, expected %d"
                % (path, name, "overlaps" if begin < at else "hole before it", begin, at))
        at = end
    if at != len(data):
        die("%s: %d bytes after the last tensor" % (path, len(data) - at))
    return {name: decode(data[b:e], dtype).reshape(shape)
            for name, (dtype, shape, b, e) in entries.items()}


def load_weights(path, cfg, device):
    """The model's tensors, checked against the config, as float32 tensors."""
    arrays = read_safetensors(path)
    want = cfg.shapes()
    missing, extra = sorted(set(want) - set(arrays)), sorted(set(arrays) - set(want))
    if missing or extra:
        die("%s: tensor %s %s" % (path, (missing or extra)[0],
                                  "missing" if missing else "is not one of the config's"))
    weights = {}
    for name, shape in want.items():
        if list(arrays[name].shape) != shape:
            die("%s: tensor %s has shape %s, the config needs %s"
                % (path, name, list(arrays[name].shape), shape))
        if not np.isfinite(arrays[name]).all():
            die("%s: tensor %s holds NaN or infinity" % (path, name))
        weights[name] = torch.from_numpy(arrays[name].copy()).to(device)
    return weights


# ---- the operators, batched over heads: x [heads, n, d_head] ---------------

def rms_norm(x, w, eps):
    """(M2): x / sqrt(mean(x^2) + eps) * w, over the last dimension."""
    if planted("rms_mean"):
        return F.layer_norm(x, x.shape[-1:], w, None, eps)
    if planted("rms_no_eps"):
        return F.normalize(x, dim=-1) * math.sqrt(x.shape[-1]) * w
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def sigma(x):
    """(F): ELU(x) + 1, positive everywhere."""
    return F.elu(x) + 1


def retrieve(sq, m, z, eps, prec):
    """(7), (S4), (S5) from featurised rows sq [H, n, dh], m [H, dh, dh],
    z [H, dh]: sigma(Q) M / (sigma(Q) z + eps), exactly 0 where the
    denominator is 0 (the empty memory of the first segment)."""
    num = prec.mm(sq, m)
    den = prec.mm(sq, z.unsqueeze(-1)) + eps          # [H, n, 1]
    return torch.where(den == 0, torch.zeros_like(num), num / den)


def rope_tables(n, dh, theta, device):
    """cos, sin [n, dh] of (M5) at positions 0..n-1 within the segment, the
    Hugging Face way (float32, the half-table repeated for rotate_half)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dh, 2, device=device).float() / dh))
    angles = torch.outer(torch.arange(n, device=device).float(), inv_freq)
    emb = torch.cat((angles, angles), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, cos, sin):
    """(M5), GPT-NeoX / Llama convention: pairs (i, i + dh/2). The tables
    take x's dtype (bf16 under autocast), as Llama code casts them."""
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return x * cos + rotate_half(x) * sin


def causal_attention(q, k, v, scale, prec):
    """(M6): softmax(scale Q K^T, masked with -inf above the diagonal) @ V,
    within the segment; the softmax in float32 as Llama code does it."""
    n = q.shape[-2]
    scores = prec.mm(q, k.transpose(-2, -1)) * scale
    mask = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)
    p = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1, dtype=torch.float32)
    return prec.mm(p.to(v.dtype), v)


def repeat_kv(x, group):
    """(S14): query head h reads kv head h // G, repeat_interleave."""
    if planted("gqa_mod"):
        return x.repeat(group, *([1] * (x.dim() - 1)))
    return x.repeat_interleave(group, dim=0)


def split_heads(x, heads):
    """[n, heads * dh] -> [heads, n, dh]."""
    return x.view(x.shape[0], heads, -1).transpose(0, 1)


def merge_heads(x):
    """[heads, n, dh] -> [n, heads * dh], heads in order (11)."""
    return x.transpose(0, 1).reshape(x.shape[1], -1)


# ---- the memory --------------------------------------------------------------

class Memory:
    """One layer's compressive memory: M [H_kv, dh, dh] and z [H_kv, dh],
    float32 whatever the precision of the forward (as training code keeps
    its state), zero at the start of the stream (S3)."""

    def __init__(self, cfg, device):
        self.m = torch.zeros(cfg.n_kv_heads, cfg.d_head, cfg.d_head, device=device)
        self.z = torch.zeros(cfg.n_kv_heads, cfg.d_head, device=device)

    def update(self, k, v, cfg, prec):
        """(M8), (8) or (9) from the segment's un-rotated k, v [H_kv, n, dh]:
        the delta rule stores V minus what the memory already predicts."""
        sk = sigma(k)
        if cfg.rule == "delta":
            v = v - retrieve(sk, self.m, self.z, cfg.attn_eps, prec)
        self.m = self.m + prec.mm(sk.transpose(-2, -1), v).float()
        self.z = self.z + sk.sum(dim=-2).float()


def new_memories(cfg, device):
    """One memory per layer."""
    if planted("shared_memory"):
        return [Memory(cfg, device)] * cfg.n_layers   # one object, L references
    return [Memory(cfg, device) for _ in range(cfg.n_layers)]


# ---- the model ---------------------------------------------------------------

def layer_weights(w, l):
    """The tensors of layer l, by their short name."""
    p = "layers.%d." % l
    return {name[len(p):]: t for name, t in w.items() if name.startswith(p)}


def attention_block(x, lw, mem, rope, cfg, prec, fold_now):
    """(M3)-(M9) for the n tokens of one segment, x [n, D]. Returns the
    residual stream after the attention and the un-rotated k, v that the
    memory update (M8) takes after the segment."""
    H, Hkv, G = cfg.n_heads, cfg.n_kv_heads, cfg.group
    u = rms_norm(x, lw["attn_norm.weight"], cfg.norm_eps)                 # (M3)
    q = split_heads(prec.linear(u, lw["attn.q_proj.weight"]), H)
    k = split_heads(prec.linear(u, lw["attn.k_proj.weight"]), Hkv)
    v = split_heads(prec.linear(u, lw["attn.v_proj.weight"]), Hkv)
    q_rot, k_rot = (apply_rope(q, *rope), apply_rope(k, *rope)) if rope else (q, k)
    if planted("rope_before_memory"):
        q, k = q_rot, k_rot
    if fold_now:     # only with update_first: the segment folded before it is read
        mem.update(k, v, cfg, prec)
    a_mem = retrieve(sigma(q), repeat_kv(mem.m, G), repeat_kv(mem.z, G),
                     cfg.attn_eps, prec)                                    # (M4)
    a_dot = causal_attention(q_rot, repeat_kv(k_rot, G), repeat_kv(v, G),
                             cfg.attn_scale, prec)                          # (M6)
    g = torch.sigmoid(lw["attn.beta"]).view(H, 1, 1)
    a = g * a_mem + (1 - g) * a_dot                                         # (M7)
    return x + prec.linear(merge_heads(a), lw["attn.o_proj.weight"]), (k, v)   # (M9)


def ffn_block(h, lw, cfg, prec):
    """(M10): h + W_down (silu(W_gate v) * W_up v), v = RMSNorm(h)."""
    v = rms_norm(h, lw["ffn_norm.weight"], cfg.norm_eps)
    gate = prec.linear(v, lw["ffn.gate_proj.weight"])
    act = F.gelu(gate) if planted("gelu") else F.silu(gate)
    return h + prec.linear(act * prec.linear(v, lw["ffn.up_proj.weight"]),
                           lw["ffn.down_proj.weight"])


def segments(T, N):
    """(M12): [start, end) of each segment of the stream, and whether it is
    complete (a final partial segment does not update the memory)."""
    start, end = 0, N - 1 if planted("boundary_off_by_one") else N
    while start < T:
        yield start, min(end, T), end <= T
        start, end = end, end + N


def forward(tokens, w, cfg, prec, want_hidden):
    """The whole stream, one segment at a time: logits [T, V] and the
    residual stream after each block [L, T, D] (or None)."""
    layers = [layer_weights(w, l) for l in range(cfg.n_layers)]
    memories = new_memories(cfg, prec.device)
    logits, hidden = [], [[] for _ in layers]
    for start, end, complete in segments(tokens.shape[0], cfg.segment_len):
        if planted("mem_reset"):
            memories = new_memories(cfg, prec.device)
        n = end - start
        rope = (rope_tables(n, cfg.d_head, cfg.rope_theta, prec.device)
                if cfg.position == "rope" else None)
        fold_first = complete and planted("update_first")
        x = F.embedding(tokens[start:end], w["embed.weight"])                 # (M1)
        kvs = []
        for l, lw in enumerate(layers):
            x, kv = attention_block(x, lw, memories[l], rope, cfg, prec, fold_first)
            x = ffn_block(x, lw, cfg, prec)
            kvs.append(kv)
            if want_hidden:
                hidden[l].append(x.float())
        if complete and not fold_first:      # (M8), after every token has read it
            for mem, (k, v) in zip(memories, kvs):
                mem.update(k, v, cfg, prec)
        if not planted("no_final_norm"):
            x = rms_norm(x, w["norm.weight"], cfg.norm_eps)                   # (M11)
        logits.append(prec.linear(x, w["lm_head.weight"]).float())
    hidden = torch.stack([torch.cat(h) for h in hidden]) if want_hidden else None
    return torch.cat(logits), hidden


# ---- the export directory ---------------------------------------------------

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
    if not isinstance(index.get("models", []), list):
        die("%s: \"models\" is not an array" % path)
    return index


def file_of(folder, entry, *keys):
    """The path of entry[keys...]["file"], relative to the folder."""
    d = entry
    for key in keys:
        d = d.get(key) if isinstance(d, dict) else None
    if not isinstance(d, dict) or not isinstance(d.get("file"), str):
        die("index.json: model %s: no %s file" % (entry.get("model"), ".".join(keys)))
    return os.path.join(folder, d["file"]), d


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_tokens(path, cfg):
    """The token stream, int32 [T], every token in 0..V-1."""
    try:
        tokens = np.load(path)
    except (OSError, ValueError) as err:
        die("cannot read %s: %s" % (path, err))
    if tokens.ndim != 1 or tokens.dtype.kind not in "iu" or tokens.size == 0:
        die("%s: tokens must be a non-empty 1-D integer array, not %s %s"
            % (path, tokens.dtype, list(tokens.shape)))
    if tokens.min() < 0 or tokens.max() >= cfg.vocab_size:
        die("%s: a token outside 0..%d" % (path, cfg.vocab_size - 1))
    return tokens.astype(np.int64)


def run_model(folder, entry, prec, want_hidden):
    """Compute and write one model's outputs."""
    name = entry.get("model")
    cfg = Config(entry.get("config"), "index.json: model %s" % name)
    wpath, wdesc = file_of(folder, entry, "inputs", "weights")
    if "sha256" in wdesc and os.path.isfile(wpath) and sha256_of(wpath) != wdesc["sha256"]:
        die("%s: SHA-256 differs from index.json's" % wpath)
    weights = load_weights(wpath, cfg, prec.device)
    tokens = load_tokens(file_of(folder, entry, "inputs", "tokens")[0], cfg)
    T, L, D, V = tokens.shape[0], cfg.n_layers, cfg.d_model, cfg.vocab_size
    targets = {"logits": [T, V], "hidden": [L, T, D]}
    if not want_hidden:
        del targets["hidden"]
    paths = {}
    for what, shape in targets.items():
        paths[what], desc = file_of(folder, entry, "outputs", what)
        if desc.get("shape") != shape:
            die("index.json: model %s: %s shape %s, the model gives %s"
                % (name, what, desc.get("shape"), shape))
    with torch.no_grad(), prec.region():
        logits, hidden = forward(torch.from_numpy(tokens).to(prec.device), weights, cfg,
                                 prec, want_hidden)
    outputs = {"logits": logits, "hidden": hidden}
    if not want_hidden:
        # an earlier run's hidden.npy would be judged as this run's
        stale, _ = file_of(folder, entry, "outputs", "hidden")
        if os.path.isfile(stale) and not os.path.islink(stale):
            os.remove(stale)
    for what, path in paths.items():
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        np.save(path, outputs[what].detach().to("cpu", torch.float32).contiguous().numpy())


# ---- command line ----------------------------------------------------------

class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message):
        die(message)


def parse(argv):
    ap = Parser(prog="infini_model_torch.py",
                formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Compute the model outputs of an infini-conform export "
                            "directory with an\nInfini-Transformer written the way "
                            "PyTorch code is.",
                epilog="--precision tf32 on the CPU (no TF32 hardware) rounds both "
                       "factors of every matrix\nproduct to 10 mantissa bits "
                       "(nearest-even) and accumulates in float32.")
    ap.add_argument("dir", nargs="?", help="directory written by 'infini-conform export'")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                    help="where to compute (default cpu)")
    ap.add_argument("--precision", default="fp32", choices=PRECISIONS,
                    help="fp32 (default); tf32: TF32 matrix products (emulated on the "
                         "CPU); bf16: torch.autocast to bfloat16, float32 weights and "
                         "memory")
    ap.add_argument("--bug", action="append", default=[], metavar="NAME",
                    help="plant a model-level bug of conformance/catalogue.h "
                         "(repeatable; --list-bugs names them)")
    ap.add_argument("--list-bugs", action="store_true",
                    help="print the bugs --bug can plant, one per line, and exit")
    ap.add_argument("--model", action="append", metavar="NAME",
                    help="only this model of the index (repeatable)")
    ap.add_argument("--no-hidden", action="store_true",
                    help="write the logits only (an implementation that cannot "
                         "expose its hidden states)")
    args = ap.parse_args(argv)
    for name in args.bug:
        if name not in BUGS:
            die("unknown bug %r (--list-bugs names the %d known ones)" % (name, len(BUGS)))
    if not args.list_bugs and args.dir is None:
        die("the export directory is missing (usage: infini_model_torch.py DIR [options])")
    return args


def choose_device(name):
    if name == "cuda" and not torch.cuda.is_available():
        die("--device cuda: this torch (%s) sees no CUDA device" % torch.__version__)
    return torch.device(name)


def main(argv=None):
    args = parse(argv)
    if args.list_bugs:
        for name, how in BUGS.items():
            print("%s\t%s" % (name, how))
        return 0
    PLANTED.update(args.bug)
    device = choose_device(args.device)
    if device.type == "cuda":
        # fp32 must mean fp32: TF32 only for --precision tf32.
        set_tf32(args.precision == "tf32")
    index = read_index(args.dir)
    prec = Precision(args.precision, device)
    done = []
    for entry in index.get("models", []):
        if not isinstance(entry, dict):
            die("index.json: an entry of \"models\" is not an object")
        if args.model and entry.get("model") not in args.model:
            continue
        run_model(args.dir, entry, prec, not args.no_hidden)
        done.append(str(entry.get("model")))
    if args.model and len(done) < len(set(args.model)):
        die("--model: %s not in %s/index.json"
            % (", ".join(sorted(set(args.model) - set(done))), args.dir))
    print("%s: wrote the outputs of %d model%s to %s (torch %s, %s, %s%s%s)"
          % (PROG, len(done), "" if len(done) == 1 else "s", args.dir, torch.__version__,
             device, args.precision, "" if args.no_hidden else ", hidden states",
             "".join(", bug " + b for b in args.bug)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The PyTorch side of bench/model-bench.sh (a benchmark, never a test):
the same model as infini-run, in PyTorch, on the same tokens.

    model_torch_bench.py MODEL.safetensors --synthetic N [--seed S]

The model is conformance/examples/infini_model_torch.py's (the PyTorch
implementation the conformance workflow checks against the goldens),
imported, not rewritten: its forward runs a whole segment at a time
through every layer, so this is prefill; it has no token-by-token
decoding. The tokens are infini-run's --synthetic stream (splitmix64 from
the seed, token = draw mod V), so the argmax digest printed here (SHA-256
of every token's argmax as little-endian uint32) can be compared with
infini-run's. One thread (torch.set_num_threads(1)); the time is the
process's CPU time over the forward pass, after a warm-up of two
segments. The environment (OPENBLAS_CORETYPE, ATEN_CPU_CAPABILITY,
MALLOC_* of glibc) is the caller's: model-bench.sh runs this twice,
default and tuned.

Prints "key value" lines: torch, tokens, seconds_cpu, tokens_per_s,
argmax_sha256. Bad input: one line on stderr, exit status 2.
"""

import hashlib
import json
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "conformance", "examples"))
import infini_model_torch as imt  # noqa: E402  (needs the path above)

torch, np = imt.torch, imt.np
MASK64 = (1 << 64) - 1


def die(message):
    sys.stderr.write("model_torch_bench: %s\n" % message)
    sys.exit(2)


def config_of(path):
    """The config in the file's __metadata__ (docs/model.md), as the
    example's Config reads it: sizes as ints, floats as hex strings."""
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            meta = json.loads(f.read(n)).get("__metadata__", {})
    except (OSError, ValueError, struct.error) as err:
        die("%s: %s" % (path, err))
    raw = dict(meta)
    for key in imt.SIZES:
        try:
            raw[key] = int(meta.get(key, ""))
        except ValueError:
            die("%s: metadata %s is not an integer" % (path, key))
    return imt.Config(raw, path)


def synthetic_tokens(n, seed, vocab):
    """infini-run --synthetic N --seed S: splitmix64, token = draw mod V."""
    out, state = np.empty(n, dtype=np.int64), seed & MASK64
    for i in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out[i] = (z ^ (z >> 31)) % vocab
    return out


def main(argv):
    if len(argv) < 3 or argv[1] != "--synthetic":
        die("usage: model_torch_bench.py MODEL.safetensors --synthetic N [--seed S]")
    path, n = argv[0], int(argv[2])
    seed = int(argv[4]) if len(argv) >= 5 and argv[3] == "--seed" else 0
    torch.set_num_threads(1)
    cfg = config_of(path)
    device = torch.device("cpu")
    weights = imt.load_weights(path, cfg, device)
    prec = imt.Precision("fp32", device)
    tokens = torch.from_numpy(synthetic_tokens(n, seed, cfg.vocab_size))
    with torch.no_grad():
        imt.forward(tokens[: 2 * cfg.segment_len], weights, cfg, prec, False)
        t0 = time.process_time()
        logits, _ = imt.forward(tokens, weights, cfg, prec, False)
        cpu = time.process_time() - t0
    argmax = logits.argmax(dim=1).to(torch.int32).numpy().astype("<u4")
    print("torch           %s" % torch.__version__)
    print("tokens          %d" % n)
    print("seconds_cpu     %.3f" % cpu)
    print("tokens_per_s    %.1f" % (n / cpu if cpu > 0 else 0.0))
    print("argmax_sha256   %s" % hashlib.sha256(argmax.tobytes()).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""infini: judge an Infini-attention implementation in memory.

The golden vectors, the tolerance model and the diagnoser of infini-conform
(docs/conformance.md), bound through libinfini-conform, so Python gets the
same verdicts as the command line::

    import infini
    for case in infini.cases(ops=["retrieve"]):
        a = my_retrieve(case.inputs["q"], case.inputs["m"], case.inputs["z"],
                        eps=case.params["eps"])
        verdict = infini.judge(case, {"a": a}, profile="fp32")
        assert verdict, verdict.explain()

    report = infini.check(my_implementation, ops=["retrieve", "mix"])
    print(report.summary())

Arrays are numpy arrays or torch tensors (any device and dtype: outputs are
judged as float32, as the file workflow reads them). The pytest plugin
(infini.pytest_plugin) turns an implementation into one test per case.
"""
import ctypes
import json
import math
import os
import subprocess

import numpy as np

from . import _lib
from ._errors import InfiniError
from ._version import __version__

__all__ = ["InfiniError", "Case", "CaseSet", "Verdict", "Report", "PROFILES",
           "cases", "judge", "check", "generate", "__version__"]

#: The tolerance profiles (docs/tolerances.md), strictest first.
PROFILES = ("fp32", "tf32", "bf16-fp32", "fp16-fp32", "bf16", "fp16")


def _text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


def _param(x):
    """A parameter as the index writes it: a number, or "inf"/"-inf"/"nan"."""
    return float(x) if x in ("inf", "-inf", "nan") else x


class Case:
    """One golden case: its operator, parameters and inputs, and the shapes
    of the outputs an implementation must produce.

    Attributes: ``id`` ("retrieve-12"), ``file``, ``tc_id``, ``operator``,
    ``comment``, ``flags``, ``verdict`` ("valid" or "acceptable"),
    ``params`` (numbers; non-finite ones as floats), ``raw`` (the JSON
    description, as infini-conform export's index.json has it),
    ``output_shapes`` {name: shape}, ``skip`` (why the case is not
    applicable to a declared restriction, or None), ``inputs``
    {name: numpy array}, read on first use."""

    def __init__(self, case_set, index, description):
        self._set = case_set
        self._index = index
        d = json.loads(description)
        self.raw = d
        self.id = d["case"]
        self.file = d["file"]
        self.tc_id = d["tcId"]
        self.operator = d["operator"]
        self.comment = d["comment"]
        self.flags = tuple(d["flags"])
        self.verdict = d["verdict"]
        self.params = {k: _param(v) for k, v in d["params"].items()}
        self.input_shapes = {k: tuple(v["shape"]) for k, v in d["inputs"].items()}
        self.output_shapes = {k: tuple(v["shape"]) for k, v in d["outputs"].items()}
        self.skip = d.get("skip")
        self._inputs = None

    @property
    def inputs(self):
        if self._inputs is None:
            self._inputs = {name: self._set._input(self._index, name,
                                                   self.raw["inputs"][name])
                            for name in self.raw["inputs"]}
        return self._inputs

    def __repr__(self):
        return "<infini.Case %s (%s)>" % (self.id, self.operator)


class CaseSet:
    """The cases selected from one golden vector set (a sequence of Case).
    Holds the C set: the cases stay valid while it lives."""

    def __init__(self, vectors=None, ops=(), ids=(), flags=(), declare=None,
                 profile="fp32"):
        L = _lib.lib()
        err = _lib.errbuf()
        self._handle = L.infini_conform_open(
            None if vectors is None else os.fsencode(vectors), err, _lib.ERRLEN)
        if not self._handle:
            raise InfiniError(_text(err.value))
        try:
            for kind, patterns in (("op", ops), ("id", ids), ("flag", flags)):
                for p in _as_list(patterns):
                    if L.infini_conform_select(self._handle, kind.encode(), str(p).encode(),
                                               err, _lib.ERRLEN) != 0:
                        raise InfiniError(_text(err.value))
            for d in _as_list(declare):
                if L.infini_conform_declare(self._handle, str(d).encode(), err,
                                            _lib.ERRLEN) != 0:
                    raise InfiniError(_text(err.value))
            n = L.infini_conform_load(self._handle, _profile(profile).encode(), err,
                                      _lib.ERRLEN)
            if n < 0:
                raise InfiniError(_text(err.value))
            self.vectors = _text(L.infini_conform_vectors(self._handle))
            self._cases = [Case(self, i, L.infini_conform_case_json(self._handle, i))
                           for i in range(n)]
        except BaseException:
            self.close()
            raise

    def _input(self, index, name, description):
        ptr = _lib.lib().infini_conform_case_input(self._handle, index, name.encode())
        if not ptr:
            raise InfiniError("case %d has no input %s" % (index, name))
        dtype = np.float64 if description["dtype"] == "float64" else np.float32
        shape = tuple(description["shape"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        raw = ctypes.string_at(ptr, count * np.dtype(dtype).itemsize)
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()

    def close(self):
        if getattr(self, "_handle", None):
            _lib.lib().infini_conform_close(self._handle)
            self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone
            pass

    def __len__(self):
        return len(self._cases)

    def __iter__(self):
        return iter(self._cases)

    def __getitem__(self, i):
        return self._cases[i]


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (str, bytes)):
        return [x]
    return list(x)


def _profile(profile):
    if profile not in PROFILES:
        raise InfiniError("unknown profile %r (%s)" % (profile, ", ".join(PROFILES)))
    return profile


def cases(ops=(), ids=(), flags=(), vectors=None, declare=None, profile="fp32"):
    """The selected cases of a golden vector set (default: the shipped
    vectors/v2, or $INFINI_VECTORS), as a CaseSet.

    ops, ids, flags: patterns as infini-conform's --op, --id
    ("retrieve.json:12", "retrieve.json:*") and --flag; OR within one, AND
    across. declare: what the implementation cannot take ("square",
    "default-scale,no-gqa", "eps=1e-9", ...: docs/conformance.md,
    "Restricted implementations"); the cases that need it get a ``skip``
    reason. profile: the profile applicability is decided under."""
    return CaseSet(vectors, ops, ids, flags, declare, profile)


class Verdict:
    """The verdict on one case. True when it passed.

    ``ratio`` is the worst error over the allowed error (<= 1 passes; inf
    for a missing output or a NaN where a number was due), at output
    ``tensor`` element ``index`` (got, expected, allowed there);
    ``message`` says why it failed; ``diagnosis`` names the known bug it
    looks like ("looks like NAME: ...") and ``bugs`` lists the catalogue
    names (docs/mutants.md)."""

    def __init__(self, case, profile, v):
        self.case = case
        self.profile = profile
        self.passed = bool(v.passed)
        self.ratio = v.ratio
        self.tensor = _text(v.tensor)
        self.index = _text(v.index)
        self.got, self.expected, self.allowed = v.got, v.expected, v.allowed
        self.message = _text(v.message)
        self.diagnosis = _text(v.diagnosis) or None
        bugs = _text(v.bugs)
        self.bugs = tuple(bugs.replace("+", "|").split("|")) if bugs else ()

    def __bool__(self):
        return self.passed

    def explain(self):
        """Several lines: the case, the verdict, why, and the diagnosis."""
        head = "%s %s under %s: ratio %s" % (
            self.case.id, "passes" if self.passed else "FAILS", self.profile,
            _fmt(self.ratio))
        lines = [head]
        if self.message:
            lines.append(self.message)
        if self.diagnosis:
            lines.append(self.diagnosis)
        return "\n".join(lines)

    def __repr__(self):
        return "<infini.Verdict %s %s ratio=%s>" % (
            self.case.id, "pass" if self.passed else "fail", _fmt(self.ratio))


def _fmt(x):
    return "%.3g" % x if isinstance(x, float) and math.isfinite(x) else str(x)


def _to_numpy(x):
    """A float32 C-order numpy array from a numpy array, a torch tensor (any
    device, any dtype, with or without grad) or a nested sequence."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor
        x = x.detach().to("cpu")
        if x.dtype.is_complex:
            raise InfiniError("a complex tensor is not an output")
        x = x.float().numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


def judge(case, outputs, profile="fp32", diagnose=True):
    """Judge the outputs an implementation computed for `case`.

    outputs: {name: array or tensor} (case.output_shapes names them), or
    one array when the case has one output. A missing output or one of
    another shape fails the case with a message; an unknown name is an
    InfiniError. Returns a Verdict."""
    if not isinstance(case, Case):
        raise InfiniError("judge: expected an infini.Case, got %s" % type(case).__name__)
    if case._set._handle is None:
        raise InfiniError("judge: the case's set is closed")
    if not isinstance(outputs, dict):
        if len(case.output_shapes) != 1:
            raise InfiniError("judge: %s has outputs %s: give a dict" % (
                case.id, ", ".join(case.output_shapes)))
        outputs = {next(iter(case.output_shapes)): outputs}
    names = list(outputs)
    arrays = [_to_numpy(outputs[k]) for k in names]
    n = len(names)
    c_names = (ctypes.c_char_p * max(n, 1))(*[str(k).encode() for k in names])
    c_data = (ctypes.c_void_p * max(n, 1))(*[a.ctypes.data for a in arrays])
    c_ndims = (ctypes.c_int * max(n, 1))(*[a.ndim for a in arrays])
    dims = [(ctypes.c_size_t * max(a.ndim, 1))(*a.shape) for a in arrays]
    c_dims = (ctypes.POINTER(ctypes.c_size_t) * max(n, 1))(
        *[ctypes.cast(d, ctypes.POINTER(ctypes.c_size_t)) for d in dims])
    v = _lib.Verdict_t()
    rc = _lib.lib().infini_conform_judge(
        case._set._handle, case._index, _profile(profile).encode(), n, c_names, c_data,
        c_ndims, c_dims, _lib.DIAGNOSE if diagnose else 0, ctypes.byref(v))
    if rc != 0:
        raise InfiniError(_text(v.message))
    return Verdict(case, profile, v)


class Report(list):
    """The verdicts of check(), one per case run (a list of Verdict);
    ``skipped`` lists (case, reason) for the cases not applicable. True when
    every case passed."""

    def __init__(self, verdicts=(), skipped=()):
        super().__init__(verdicts)
        self.skipped = list(skipped)

    @property
    def failures(self):
        return [v for v in self if not v.passed]

    def __bool__(self):
        return not self.failures

    def summary(self):
        worst = max((v.ratio for v in self), default=0.0)
        return "%d passed, %d failed, %d not applicable; worst ratio %s" % (
            len(self) - len(self.failures), len(self.failures), len(self.skipped),
            _fmt(worst))


def check(fn, ops=(), ids=(), flags=(), profile="fp32", vectors=None, declare=None,
          diagnose=True):
    """Run fn(case) -> outputs over every selected case and judge each.

    fn receives a Case (``case.operator``, ``case.params``, ``case.inputs``)
    and returns what judge() takes. A case fn raises on fails with the
    exception as its message. Returns a Report."""
    verdicts, skipped = [], []
    selected = cases(ops, ids, flags, vectors, declare, profile)
    for case in selected:
        if case.skip:
            skipped.append((case, case.skip))
            continue
        try:
            outputs = fn(case)
        except Exception as err:  # the implementation's failure is a verdict
            verdicts.append(_raised(case, profile, err))
            continue
        verdicts.append(judge(case, outputs, profile, diagnose))
    return Report(verdicts, skipped)


def _raised(case, profile, err):
    v = _lib.Verdict_t()
    v.passed = 0
    v.ratio = float("inf")
    v.message = ("the implementation raised %s: %s" % (type(err).__name__, err)
                 ).encode()[:2000]
    return Verdict(case, profile, v)


def generate(out, op=None, force=False, seed=None, **params):
    """Golden vectors for new shapes or parameters: runs infini-vectors
    --out OUT (one test per operator, or only `op`). Keyword parameters are
    its options: n, d_key, d_value, heads, kv_heads, segments, rule, eps,
    scale, beta, regime, strided=True. Refuses a non-empty OUT unless
    force. Returns OUT; open it with cases(vectors=OUT)."""
    argv = [_lib.vectors_tool(), "--out", os.fspath(out)]
    if op:
        argv += ["--op", op]
    if force:
        argv.append("--force")
    if seed is not None:
        argv += ["--seed", str(seed)]
    for key, value in params.items():
        option = "--" + key.replace("_", "-")
        if value is True:
            argv.append(option)
        elif value is False or value is None:
            continue
        else:
            argv += [option, repr(value) if isinstance(value, float) else str(value)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InfiniError((done.stderr or done.stdout).strip().splitlines()[-1]
                          if (done.stderr or done.stdout).strip() else
                          "infini-vectors failed with status %d" % done.returncode)
    return os.fspath(out)

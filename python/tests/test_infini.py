"""The Python package against the shipped vectors: selection, the NumPy
example passing, planted bugs failing and named, torch tensors, bad input,
generation, and the pytest plugin on the PyTorch example (run by make check
through python/test-python.test)."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import infini

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(SRCDIR, "conformance", "examples")
sys.path.insert(0, EXAMPLES)
import infini_numpy  # noqa: E402  (the spec in NumPy, conformance/examples)


def numpy_impl(case):
    inputs = {k: np.asarray(v, np.float64) for k, v in case.inputs.items()}
    return infini_numpy.run_case(case.raw, inputs, np.dtype(np.float64))


def test_version_is_the_trees():
    with open(os.path.join(SRCDIR, "configure.ac"), encoding="utf-8") as f:
        version = re.search(r"AC_INIT\(\[infini\], \[([^]]+)\]", f.read()).group(1)
    assert infini.__version__ == version


def test_selection():
    retrieve = infini.cases(ops="retrieve")
    assert len(retrieve) > 50 and {c.operator for c in retrieve} == {"retrieve"}
    one = infini.cases(ids="retrieve.json:3")
    assert [c.tc_id for c in one] == [3] and one[0].file == "retrieve.json"
    both = infini.cases(ops=["mix", "feature_map"], flags="underflow")
    assert both and all("underflow" in c.flags for c in both)
    c = retrieve[0]
    assert set(c.inputs) == {"q", "m", "z"} and c.output_shapes == {"a": c.raw["outputs"]["a"]["shape"] and tuple(c.raw["outputs"]["a"]["shape"])}
    assert c.inputs["q"].shape == c.input_shapes["q"] and c.inputs["q"].dtype == np.float32


def test_numpy_example_conforms_on_every_case():
    report = infini.check(numpy_impl)
    assert len(report) > 600 and report, report.summary()
    assert max(v.ratio for v in report) < 1


def test_declared_restriction_skips_with_reason():
    s = infini.cases(ops="retrieve", declare="square")
    skipped = [c for c in s if c.skip]
    assert skipped and all("not applicable" in c.skip for c in skipped)
    assert all(c.params["d_key"] != c.params["d_value"] for c in skipped)
    report = infini.check(numpy_impl, ops="retrieve", declare="square")
    assert report and len(report.skipped) == len(skipped)


def bug(op, change):
    """numpy_impl with one output of one operator changed."""
    def impl(case):
        out = numpy_impl(case)
        return change(case, out) if case.operator == op else out
    return impl


def test_planted_bugs_fail_and_are_named():
    def gate_swap(case, out):
        b = 1 / (1 + np.exp(-np.float64(case.params["beta"])))
        a_mem, a_dot = (np.asarray(case.inputs[k], np.float64) for k in ("a_mem", "a_dot"))
        return {"out": (1 - b) * a_mem + b * a_dot}
    report = infini.check(bug("mix", gate_swap), ops="mix")
    assert report.failures and not report
    named = [v for v in report.failures if v.bugs]
    assert named and all(v.bugs == ("gate_swap",) for v in named)
    assert "looks like gate_swap" in named[0].explain()

    def elu_no_plus1(case, out):
        x = np.asarray(case.inputs["x"], np.float64)
        return {"y": np.where(x > 0, x, np.expm1(np.minimum(x, 0)))}
    report = infini.check(bug("feature_map", elu_no_plus1), ops="feature_map")
    assert any(v.bugs == ("elu_no_plus1",) for v in report.failures)


def test_judge_reports_the_worst_element():
    c = infini.cases(ids="mix.json:1")[0]
    out = numpy_impl(c)["out"].copy()
    out.flat[5] += 1.0
    v = infini.judge(c, out, diagnose=False)
    assert not v and v.tensor == "out" and v.ratio > 1 and v.diagnosis is None
    assert v.index == "[%d][%d]" % np.unravel_index(5, out.shape)
    assert "1 of" in v.message


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    c = infini.cases(ids="retrieve.json:2")[0]
    a = torch.tensor(numpy_impl(c)["a"], requires_grad=True)
    assert infini.judge(c, {"a": a * 1})
    assert infini.judge(c, {"a": a.detach().to(torch.bfloat16)}, profile="bf16-fp32")
    assert not infini.judge(c, {"a": a.detach().to(torch.bfloat16)}, profile="fp32")


def test_missing_wrong_shape_and_nan_outputs_fail():
    c = infini.cases(ids="update_linear.json:1")[0]
    good = numpy_impl(c)
    v = infini.judge(c, {"m": good["m"]})
    assert not v and "output z: not produced" in v.message
    v = infini.judge(c, {"m": good["m"], "z": good["z"][:-1]})
    assert not v and "shape" in v.message
    nan = good["m"].copy()
    nan.flat[0] = np.nan
    assert not infini.judge(c, {"m": nan, "z": good["z"]})


@pytest.mark.parametrize("call, message", [
    (lambda: infini.cases(ops="retrieve", profile="fp64"), "unknown profile"),
    (lambda: infini.cases(ids="retrieve.json:x:y"), ""),
    (lambda: infini.cases(ops="no_such_op"), "unknown operator"),
    (lambda: infini.cases(ids="retrieve.json:9999"), "no case"),
    (lambda: infini.cases(vectors="/nonexistent/vectors"), "/nonexistent"),
    (lambda: infini.cases(declare="round-heads"), "round-heads"),
    (lambda: infini.judge("retrieve-1", {}), "infini.Case"),
])
def test_bad_input_is_one_line(call, message):
    with pytest.raises(infini.InfiniError) as err:
        call()
    text = str(err.value)
    assert message in text and "\n" not in text and text


def test_bad_judge_calls(tmp_path):
    s = infini.cases(ids="retrieve.json:1")
    c = s[0]
    with pytest.raises(infini.InfiniError, match="no output named b"):
        infini.judge(c, {"b": np.zeros(3)})
    with pytest.raises(infini.InfiniError, match="unknown profile"):
        infini.judge(c, {"a": np.zeros(3)}, profile="int8")
    s.close()
    with pytest.raises(infini.InfiniError, match="closed"):
        infini.judge(c, {"a": np.zeros(3)})


def test_fifo_and_corrupt_vectors_are_refused(tmp_path):
    fifo = tmp_path / "v.json"
    os.mkfifo(fifo)
    with pytest.raises(infini.InfiniError):
        infini.cases(vectors=str(fifo))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "retrieve.json").write_text('{"algorithm": ')
    with pytest.raises(infini.InfiniError):
        infini.cases(vectors=str(bad))


def test_generate_new_shapes(tmp_path):
    out = tmp_path / "v"
    infini.generate(out, op="retrieve", n=5, d_key=12, d_value=3, eps=1e-6, seed=7)
    s = infini.cases(vectors=out)
    assert len(s) == 1 and s[0].input_shapes["q"] == (5, 12)
    assert s[0].params["eps"] == pytest.approx(1e-6)
    assert infini.check(numpy_impl, vectors=out)
    with pytest.raises(infini.InfiniError):
        infini.generate(out, op="retrieve", n=6)      # not over it without force
    infini.generate(out, op="retrieve", n=6, force=True)
    assert infini.cases(vectors=out)[0].input_shapes["q"] == (6, 8)
    with pytest.raises(infini.InfiniError):
        infini.generate(tmp_path / "w", op="retrieve", n=0)


def run_plugin(*args, bug=None):
    env = dict(os.environ)
    env.pop("INFINI_TORCH_BUG", None)
    if bug:
        env["INFINI_TORCH_BUG"] = bug
    package = os.path.dirname(os.path.dirname(os.path.abspath(infini.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([package] + [p for p in [env.get("PYTHONPATH")] if p])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "infini.pytest_plugin", "-p", "no:cacheprovider",
         "-q", os.path.join(EXAMPLES, "test_infini_torch.py")] + list(args),
        capture_output=True, text=True, env=env, cwd=str(HERE), check=False)


def test_plugin_passes_the_pytorch_example():
    pytest.importorskip("torch")
    done = run_plugin("--infini-op", "mix", "--infini-op", "segment_step")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b\d+ passed", done.stdout) and "failed" not in done.stdout


def test_plugin_fails_a_planted_bug_by_name():
    pytest.importorskip("torch")
    done = run_plugin("--infini-op", "segment_step", "-x", bug="update_first")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILS under fp32" in done.stdout and "looks like update_first" in done.stdout


def test_plugin_bad_option_is_a_usage_error():
    done = run_plugin("--infini-declare", "round-heads")
    assert done.returncode == 2 and "infini: " in done.stdout and "round-heads" in done.stdout

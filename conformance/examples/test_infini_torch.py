"""The PyTorch example (infini_torch.py) judged by the pytest plugin: one
test per golden case, in memory, no export folder.

    PYTHONPATH=python PKG_CONFIG_PATH=build \\
        pytest -p infini.pytest_plugin conformance/examples/test_infini_torch.py \\
        [--infini-op retrieve] [--infini-profile bf16-fp32] [-x]

The profile picks the precision the example computes in (fp32, tf32 or
bf16-fp32 / fp16-fp32 storage); INFINI_TORCH_BUG=NAME[,NAME] plants bugs of
the catalogue (infini_torch.py --list-bugs) to see a failure named, and
INFINI_TORCH_DEVICE=cuda runs on a GPU.
"""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import infini_torch  # noqa: E402  (the example beside this file)

for _bug in filter(None, os.environ.get("INFINI_TORCH_BUG", "").split(",")):
    if _bug not in infini_torch.BUGS:
        raise pytest.UsageError("INFINI_TORCH_BUG: unknown bug %r" % _bug)
    infini_torch.PLANTED.add(_bug)


def precision_for(profile):
    """The precision the example runs in to be judged under a profile."""
    if profile not in infini_torch.STORAGE:
        pytest.skip("the PyTorch example has no %s precision" % profile)
    return infini_torch.Precision(profile, torch.device(
        os.environ.get("INFINI_TORCH_DEVICE", "cpu")))


def test_conforms(infini_case, infini_profile, infini_judge):
    prec = precision_for(infini_profile)
    inputs = {name: prec.store(torch.from_numpy(np.ascontiguousarray(a, np.float32)
                                                ).to(prec.device))
              for name, a in infini_case.inputs.items()}
    with torch.no_grad():
        outputs = infini_torch.run_case(infini_case.raw, inputs, prec, "dense")
    infini_judge(outputs)

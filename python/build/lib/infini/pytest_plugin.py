"""pytest plugin: one test per golden case, the diagnosis as the failure.

A test that takes the ``infini_case`` fixture runs once per selected case
(its id, "retrieve-12", is the test id); ``infini_judge(outputs)`` judges
what the implementation computed and fails the test with the verdict's
explanation (the worst element and, for a known bug, its name)::

    def test_retrieve(infini_case, infini_judge):
        c = infini_case
        infini_judge({"a": my_retrieve(c.inputs["q"], c.inputs["m"],
                                       c.inputs["z"], c.params["eps"])})

Selection and profile: ``@pytest.mark.infini(ops=..., ids=..., flags=...,
declare=..., profile=...)`` on the test, narrowed from the command line by
``--infini-op``, ``--infini-id``, ``--infini-flag`` (intersected with the
marker's), ``--infini-profile`` and ``--infini-declare`` (these two win),
``--infini-vectors DIR`` and ``--infini-no-diagnose``. A case a declared
restriction cannot take is skipped with the reason.

Installed, the package registers the plugin (entry point pytest11); from
the source tree, load it with ``-p infini.pytest_plugin``.
"""
import pytest

import infini

_SETS = "infini_case_sets"


def pytest_addoption(parser):
    g = parser.getgroup("infini", "Infini-attention conformance (infini)")
    g.addoption("--infini-profile", default=None, choices=infini.PROFILES,
                help="tolerance profile (docs/tolerances.md); default: the marker's, else fp32")
    g.addoption("--infini-op", action="append", default=[], metavar="OP",
                help="only cases of this operator (repeatable)")
    g.addoption("--infini-id", action="append", default=[], metavar="ID",
                help="only this case: FILE:TCID, FILE:* or TCID (repeatable)")
    g.addoption("--infini-flag", action="append", default=[], metavar="FLAG",
                help="only cases with this flag (repeatable)")
    g.addoption("--infini-declare", default=None, metavar="LIST",
                help="what the implementation cannot take (default-scale, square, "
                     "no-gqa, one-beta, eps=E, rule=R): those cases are skipped")
    g.addoption("--infini-vectors", default=None, metavar="DIR",
                help="golden vector set (default: $INFINI_VECTORS or the shipped one)")
    g.addoption("--infini-no-diagnose", action="store_true",
                help="do not name the known bug a failure looks like (faster)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "infini(ops, ids, flags, declare, profile): the golden cases a test "
                   "taking infini_case runs on")
    setattr(config, _SETS, {})


def _narrow(marked, given):
    """The marker's patterns narrowed by the command line's."""
    marked, given = infini._as_list(marked), list(given)
    if marked and given:
        return [p for p in marked if p in given]
    return marked or given


def _selection(metafunc):
    opt = metafunc.config.getoption
    mark = metafunc.definition.get_closest_marker("infini")
    kw = dict(mark.kwargs) if mark else {}
    unknown = set(kw) - {"ops", "ids", "flags", "declare", "profile"}
    if unknown:
        raise pytest.UsageError("@pytest.mark.infini: unknown argument %s"
                                % ", ".join(sorted(unknown)))
    return dict(
        ops=tuple(_narrow(kw.get("ops"), opt("infini_op"))),
        ids=tuple(_narrow(kw.get("ids"), opt("infini_id"))),
        flags=tuple(_narrow(kw.get("flags"), opt("infini_flag"))),
        declare=opt("infini_declare") or kw.get("declare"),
        profile=opt("infini_profile") or kw.get("profile") or "fp32",
        vectors=opt("infini_vectors"))


def pytest_generate_tests(metafunc):
    if "infini_case" not in metafunc.fixturenames:
        return
    sel = _selection(metafunc)
    key = tuple(sorted(sel.items()))
    sets = getattr(metafunc.config, _SETS)
    if key not in sets:
        try:
            sets[key] = infini.cases(**sel)
        except infini.InfiniError as err:
            raise pytest.UsageError("infini: %s" % err) from None
    params = [pytest.param((c, sel["profile"]), id=c.id,
                           marks=[pytest.mark.skip(reason=c.skip)] if c.skip else [])
              for c in sets[key]]
    metafunc.parametrize("_infini_case_profile", params, indirect=True)


@pytest.fixture
def _infini_case_profile(request):
    return request.param


@pytest.fixture
def infini_case(_infini_case_profile):
    """The golden case this test runs on (an infini.Case)."""
    return _infini_case_profile[0]


@pytest.fixture
def infini_profile(_infini_case_profile):
    """The tolerance profile this test is judged under."""
    return _infini_case_profile[1]


@pytest.fixture
def infini_judge(request, _infini_case_profile):
    """judge(outputs): the verdict on this test's case, failing the test
    (with the explanation and diagnosis) when the outputs do not conform."""
    case, profile = _infini_case_profile
    diagnose = not request.config.getoption("infini_no_diagnose")

    def judge(outputs):
        verdict = infini.judge(case, outputs, profile=profile, diagnose=diagnose)
        if not verdict.passed:
            pytest.fail(verdict.explain(), pytrace=False)
        return verdict
    return judge


def pytest_unconfigure(config):
    for s in getattr(config, _SETS, {}).values():
        s.close()

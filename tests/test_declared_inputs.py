"""Every evidence input a check or frame reads is declared (hard in inputs=/frames=, or soft_inputs=).

The engine, the coverage table and the fault matrix all work from the declarations, so an undeclared read
would be an input whose failure nobody accounts for. Frames record what each consumer reads while the whole
catalog runs over the live demo evidence; the declarations must cover it.
"""

from __future__ import annotations

import pytest

from eksaudit.checks import default_params, load, run_check
from eksaudit.collect.steps import depends_on
from eksaudit.evidence import Evidence
from eksaudit.frames import BUILDERS, Frames


@pytest.fixture(scope="module")
def traced(demo_evidence):
    ev = Evidence(demo_evidence)
    frames = Frames(ev)
    params = default_params()
    for c in load().values():
        run_check(ev, frames, c, params)
    return frames


def _expanded(keys) -> set[str]:
    return {dep for k in keys for dep in depends_on(k)}


def test_checks_read_only_declared_inputs(traced):
    undeclared = {}
    for c in load().values():
        read = traced.read_by(f"check:{c.id}")
        assert read, f"{c.id} read nothing: the trace is broken"
        extra = read - set(c.all_inputs()) - set(c.all_soft_inputs())
        if extra:
            undeclared[c.id] = sorted(extra)
    assert not undeclared, f"inputs read but not declared (add them to inputs= or soft_inputs=): {undeclared}"


def test_frames_read_only_declared_inputs(traced):
    undeclared = {}
    for name, spec in BUILDERS.items():
        extra = traced.read_by(f"frame:{name}") - _expanded(spec.inputs + spec.soft_inputs)
        if extra:
            undeclared[name] = sorted(extra)
    assert not undeclared, f"frames read undeclared inputs: {undeclared}"


def test_trace_sees_an_undeclared_read(tmp_path):
    """The tracer itself: a check reading an input it does not declare is caught."""
    from eksaudit.checks import CATALOG, Check
    from eksaudit.testing import EvidenceBuilder

    ev = EvidenceBuilder(tmp_path).cluster("one").build()
    frames = Frames(ev)

    def sneaky(f, p):
        f.evidence.responses("aws:ecr:DescribeRepositories")
        return []

    chk = Check("X-01", "iam", "t", "low", "p", "r", "m", sneaky, frames=("clusters",))
    run_check(ev, frames, chk, {})
    read = frames.read_by("check:X-01")
    assert "aws:ecr:DescribeRepositories" in read - set(chk.all_inputs())
    assert "X-01" not in CATALOG


def test_soft_inputs_are_in_the_catalog_table():
    from eksaudit.checks import catalog_frame

    cat = catalog_frame().set_index("id")
    assert "aws:iam:ListAccessKeys" in cat.loc["IAM-02", "soft_inputs"]
    assert "aws:iam:ListAccessKeys" not in cat.loc["IAM-02", "inputs"]

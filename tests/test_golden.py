"""The frozen demo evidence gives the stored findings: the same evidence, the same findings, across any reshaping
of frames, checks or the engine (tests/golden.py says how to refresh them on purpose)."""

from __future__ import annotations

import json

import pytest

from tests import golden


@pytest.mark.skipif(not golden.DEMO_FINDINGS.is_file(), reason="no stored demo findings yet")
def test_frozen_demo_evidence_gives_the_stored_findings():
    want = json.loads(golden.DEMO_FINDINGS.read_text())
    got = golden.demo_rows()
    gone = [r for r in want if r not in got]
    new = [r for r in got if r not in want]
    assert not gone and not new, f"{len(gone)} stored findings gone, e.g. {gone[:2]}; {len(new)} new, e.g. {new[:2]}"


def test_a_changed_finding_is_caught():
    """The comparison itself: a finding whose status changed is reported."""
    import pandas as pd

    df = pd.DataFrame([{"check_id": "NET-07", "status": "PASS", "reason": "private"}])
    golden_copy = {"t": [golden.rows(df)]}
    assert golden.check_test("t", [df], golden_copy, record=False) is None
    assert "changed" in golden.check_test("t", [df.assign(status="FAIL")], golden_copy, record=False)

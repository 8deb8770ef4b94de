"""One clock for the whole package, and ages measured against the collection, not against the analysis."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from eksaudit import clock
from eksaudit.errors import UserError

UTC = dt.timezone.utc
PACKAGE = Path(__file__).resolve().parents[1] / "eksaudit"
WALL_CLOCK = re.compile(r"datetime\.now\(|datetime\.utcnow\(|time\.time\(|Timestamp\.(utc)?now\(|date\.today\(|"
                        r"Timestamp\.today\(|time\.gmtime\(\)|time\.localtime\(\)")
# The demo's TLS certificates are checked by OpenSSL against the system time, whatever the audit's clock says.
WALL_CLOCK_ALLOWED = {"clock.py", "demo/k8s_server.py"}


def test_package_reads_the_time_only_through_the_clock():
    offenders = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
                 for path in sorted(PACKAGE.rglob("*.py"))
                 if path.relative_to(PACKAGE).as_posix() not in WALL_CLOCK_ALLOWED
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if WALL_CLOCK.search(line)]
    assert not offenders, "use eksaudit.clock.now():\n" + "\n".join(offenders)


def test_frozen_clock_reaches_evidence_and_run_ids(tmp_path):
    from eksaudit.runner import new_run_id
    from eksaudit.testing import EvidenceBuilder

    at = dt.datetime(2031, 5, 6, 23, 59, 59, tzinfo=UTC)
    with clock.frozen(at):
        assert clock.now() == at and clock.iso() == "2031-05-06T23:59:59+00:00"
        assert new_run_id().startswith("20310506T235959Z-")
        ev = EvidenceBuilder(tmp_path).cluster("c").build()
    assert {e["time"] for e in ev.entries} == {"2031-05-06T23:59:59+00:00"}
    assert clock.now() != at  # the block ended


def test_frozen_naive_time_is_utc_and_blocks_nest():
    with clock.frozen(dt.datetime(2030, 1, 1, 12)) as outer:
        assert outer.tzinfo is not None and outer.utcoffset() == dt.timedelta(0)
        with clock.frozen(dt.datetime(2030, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2)))):
            assert clock.now() == dt.datetime(2030, 1, 2, 1, tzinfo=UTC)
        assert clock.now() == outer


def test_environment_variable_sets_the_clock_for_subprocess_tests(monkeypatch):
    monkeypatch.setenv(clock.ENV, "2029-02-03T04:05:06Z")
    assert clock.now() == dt.datetime(2029, 2, 3, 4, 5, 6, tzinfo=UTC)
    with clock.frozen(dt.datetime(2030, 1, 1, tzinfo=UTC)):
        assert clock.now().year == 2030  # a frozen block wins
    monkeypatch.setenv(clock.ENV, "yesterday")
    with pytest.raises(UserError, match="EKSAUDIT_NOW"):
        clock.now()


def test_ages_are_measured_against_the_collection_not_the_analysis(demo_evidence):
    """Re-analysing evidence at any later time gives the same findings: on the day of the collection, a second
    either side of the next midnight, and a year later (the demo has a stale kube-bench result and IAM keys with
    ages, so a clock-dependent age would show)."""
    from eksaudit.checks import run_checks
    from eksaudit.evidence import Evidence

    ev = Evidence(demo_evidence)
    collected = ev.collected_at
    midnight = dt.datetime.combine(collected.date() + dt.timedelta(days=1), dt.time(), UTC)
    results = []
    for at in (collected, midnight - dt.timedelta(seconds=1), midnight + dt.timedelta(seconds=1),
               collected + dt.timedelta(days=366)):
        with clock.frozen(at):
            results.append(run_checks(Evidence(demo_evidence), run_id="r"))
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0], other)
    assert results[0]["reason"].str.contains("days before collection").any()


def test_collection_time_falls_back_to_entries_then_the_clock(tmp_path):
    import json

    from eksaudit.evidence import Evidence

    folder = tmp_path / "evidence"
    folder.mkdir()
    entries = [{"input": "k8s:pods", "status": "error", "time": "2030-01-01T10:00:00Z"},
               {"input": "k8s:pods", "status": "error", "time": "2030-01-02T10:00:00+00:00"}]
    (folder / "manifest.json").write_text(json.dumps({"started": "not a time", "entries": entries}))
    assert Evidence(folder).collected_at == dt.datetime(2030, 1, 2, 10, tzinfo=UTC)
    (folder / "manifest.json").write_text(json.dumps({"entries": []}))
    with clock.frozen(dt.datetime(2032, 3, 4, tzinfo=UTC)):
        assert Evidence(folder).collected_at == dt.datetime(2032, 3, 4, tzinfo=UTC)

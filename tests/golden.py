"""Stored findings: proof that reshaping checks, frames or the engine changes no finding.

Two stored copies, made before a reshaping and compared after it:
- every fixture test's `findings_for` results (tests/data/fixture-findings.json), compared per test by the
  autouse fixture in conftest.py;
- the findings of a frozen demo evidence folder (tests/data/demo-evidence/, tests/data/demo-findings.json),
  compared by test_golden.py.

A deliberate change of findings rewrites them: `EKSAUDIT_GOLDEN=record python -m pytest tests/test_checks_*.py
tests/test_engine.py` and `python -m tests.golden --demo-findings` (or `--write-demo` to collect the demo
evidence afresh first), and the diff is reviewed like code.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
FIXTURES = DATA / "fixture-findings.json"
DEMO_EVIDENCE = DATA / "demo-evidence"
DEMO_FINDINGS = DATA / "demo-findings.json"
COLUMNS = ["check_id", "account_id", "region", "cluster", "status", "severity", "resource_type", "resource_id",
           "reason", "evidence"]
RECORDING = os.environ.get("EKSAUDIT_GOLDEN") == "record"
_recorded: dict[str, list] = {}


# What differs between runs of the same fixture test: temporary paths, and dates and ages of fixtures made
# relative to the day the test runs.
VOLATILE = [(re.compile(r"/tmp/\S+"), "<tmp>"), (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
            (re.compile(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?"), "<date>"),
            (re.compile(r"\b\d+(\.\d+)? (day|days|hours|hour)\b"), "N \\2")]


def _stable(value: str) -> str:
    for pattern, replacement in VOLATILE:
        value = pattern.sub(replacement, value)
    return value


def rows(df: pd.DataFrame) -> list[list[str]]:
    """Findings as sorted rows, without what differs between runs of the same test."""
    return sorted([_stable(v) for v in r] for r in df.reindex(columns=COLUMNS).astype(object).fillna("")
                  .astype(str).itertuples(index=False))


def stored() -> dict[str, list]:
    return json.loads(FIXTURES.read_text()) if FIXTURES.is_file() else {}


def check_test(nodeid: str, results: list[pd.DataFrame], golden: dict[str, list],
               record: bool = RECORDING) -> str | None:
    """None when the test's findings equal the stored copy (or it has none yet); else what differs."""
    got = [rows(df) for df in results]
    if record:
        if got:
            _recorded[nodeid] = got
        return None
    want = golden.get(nodeid)
    if want is None or want == got:
        return None
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            gone = [r for r in w if r not in g][:2]
            new = [r for r in g if r not in w][:2]
            return f"findings_for call {i + 1} changed: stored rows missing {gone}; new rows {new}"
    return f"{len(got)} findings_for calls now, {len(want)} stored"


def write_recorded() -> None:
    if RECORDING and _recorded:
        merged = {**stored(), **_recorded}
        FIXTURES.write_text(json.dumps(dict(sorted(merged.items())), indent=0, sort_keys=True) + "\n")


def demo_rows() -> list[list[str]]:
    from eksaudit.checks import run_checks
    from eksaudit.evidence import Evidence

    return rows(run_checks(Evidence(DEMO_EVIDENCE)))


def write_demo(evidence: Path | None = None) -> None:
    """Freeze a demo evidence folder (a fresh demo collection by default) and its findings."""
    import shutil
    import tempfile

    if evidence is None:
        from eksaudit.collect.run import collect
        from eksaudit.demo.run import demo_environment

        tmp = Path(tempfile.mkdtemp())
        with demo_environment() as (target, source, extra):
            evidence = collect(target, source, tmp, attachments=extra["attachments"])
    shutil.rmtree(DEMO_EVIDENCE, ignore_errors=True)
    shutil.copytree(evidence, DEMO_EVIDENCE)
    DEMO_FINDINGS.write_text(json.dumps(demo_rows(), indent=0) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-demo"]:
        write_demo()
    elif sys.argv[1:] == ["--demo-findings"]:
        DEMO_FINDINGS.write_text(json.dumps(demo_rows(), indent=0) + "\n")
    else:
        sys.exit("usage: python -m tests.golden --write-demo | --demo-findings")

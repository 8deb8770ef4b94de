"""Shared fixtures: the demo environment and one demo pack, built once per test session."""

from __future__ import annotations

import os

import pytest

# Tests never reach a real AWS account or the instance metadata service.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def demo_env():
    from eksaudit.demo.run import demo_environment

    with demo_environment() as env:
        yield env


@pytest.fixture(scope="session")
def demo_evidence(demo_env, tmp_path_factory):
    """Evidence collected live from the demo account and its Kubernetes endpoint."""
    from eksaudit.collect.run import collect

    target, source, extra = demo_env
    out = tmp_path_factory.mktemp("demo-evidence")
    return collect(target, source, out, attachments=extra["attachments"])


@pytest.fixture(scope="session")
def demo_pack(demo_env, tmp_path_factory):
    """A full pack of the demo account: collection, checks, notebooks, HTML."""
    from eksaudit.collect.run import collect
    from eksaudit.runner import run_pack

    target, source, extra = demo_env
    out = tmp_path_factory.mktemp("packs") / "demo"
    pack, findings = run_pack(out, collect=lambda d: collect(target, source, d, attachments=extra["attachments"]))
    return pack, findings


def pytest_terminal_summary(terminalreporter):
    """Show the fault matrix size in every run's output, not only with -s."""
    import sys

    faults = sys.modules.get("tests.test_faults")
    for line in getattr(faults, "SUMMARY", []):
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _stored_findings(request):
    """Every findings_for result of a test must equal the stored copy (tests/golden.py): a reshaping that
    changes a finding fails the test that saw it."""
    from eksaudit import testing
    from tests import golden

    log: list = []
    testing.FINDINGS_LOG = log
    yield
    testing.FINDINGS_LOG = None
    problem = golden.check_test(request.node.nodeid, log, _golden_cache())
    if problem:
        pytest.fail(f"findings differ from tests/data/fixture-findings.json: {problem}", pytrace=False)


_GOLDEN: list = []


def _golden_cache() -> dict:
    from tests import golden

    if not _GOLDEN:
        _GOLDEN.append(golden.stored())
    return _GOLDEN[0]


def pytest_sessionfinish(session, exitstatus):
    from tests import golden

    golden.write_recorded()

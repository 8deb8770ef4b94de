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

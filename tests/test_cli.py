"""Bad input gives one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json

import pytest

from eksaudit.cli import main


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("eksaudit: error: ")
    assert "Traceback" not in err[0]
    return err[0]


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)


def test_missing_credentials(no_aws_credentials, capsys, tmp_path):
    assert main(["collect", "--out", str(tmp_path / "o"), "--endpoint-url", "http://127.0.0.1:9"]) == 2
    assert "no AWS credentials" in _one_line_error(capsys)


def test_unknown_profile(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert main(["collect", "--out", str(tmp_path / "o"), "--profile", "nope"]) == 2
    assert "profile not found" in _one_line_error(capsys)


def test_unknown_region(capsys, tmp_path):
    assert main(["collect", "--out", str(tmp_path / "o"), "--region", "moon-1"]) == 2
    assert "unknown region" in _one_line_error(capsys)


@pytest.mark.parametrize("content", ["{not json", json.dumps({"kind": "Pod"}), json.dumps({"kind": "List"}), ""])
def test_unreadable_snapshot(capsys, tmp_path, demo_env, content):
    target, _, _ = demo_env
    snap = tmp_path / "snap.json"
    snap.write_text(content)
    rc = main(["run", "--endpoint-url", target.endpoint_url, "--k8s-snapshot", f"prod-hardened={snap}",
               "--cluster", "prod-hardened", "--out", str(tmp_path / "pack")])
    assert rc == 2
    assert "snapshot" in _one_line_error(capsys)
    assert not (tmp_path / "pack").exists()
    assert not list(tmp_path.glob(".pack.partial*")), "no half pack may be left"


def test_missing_snapshot_file(capsys, tmp_path):
    assert main(["run", "--k8s-snapshot", str(tmp_path / "nope.json"), "--out", str(tmp_path / "p")]) == 2
    assert "snapshot not found" in _one_line_error(capsys)


def test_unknown_cluster(capsys, tmp_path, demo_env):
    target, _, _ = demo_env
    rc = main(["collect", "--endpoint-url", target.endpoint_url, "--cluster", "no-such-cluster",
               "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "unknown cluster no-such-cluster" in _one_line_error(capsys)


@pytest.mark.parametrize("param,message", [
    ("nonsense=1", "unknown parameter"),
    ("log_retention_days=abc", "expected int"),
    ("noequals", "expected NAME=VALUE"),
])
def test_bad_parameter(capsys, tmp_path, param, message):
    assert main(["run", "--evidence", str(tmp_path), "--param", param, "--out", str(tmp_path / "p")]) == 2
    assert message in _one_line_error(capsys)


def test_bad_fail_on(capsys, tmp_path, demo_evidence):
    assert main(["run", "--evidence", str(demo_evidence), "--fail-on", "urgent", "--out", str(tmp_path / "p")]) == 2
    assert "--fail-on" in _one_line_error(capsys)


def test_missing_kubeconfig(capsys, tmp_path):
    assert main(["collect", "--kubeconfig", str(tmp_path / "kc"), "--out", str(tmp_path / "o")]) == 2
    assert "kubeconfig not found" in _one_line_error(capsys)


def test_checks_formats(capsys):
    assert main(["checks", "--format", "json"]) == 0
    catalog = json.loads(capsys.readouterr().out)
    ids = {c["id"] for c in catalog}
    assert {"IAM-06", "IAM-07", "NET-07", "NET-09", "LOG-01", "LOG-02", "IMG-01", "IMG-06"} <= ids
    assert main(["checks", "--format", "markdown"]) == 0
    assert "| IAM-07 |" in capsys.readouterr().out


def test_run_from_evidence_exit_codes(tmp_path, demo_evidence, capsys):
    rc = main(["run", "--evidence", str(demo_evidence), "--out", str(tmp_path / "p"), "--fail-on", "critical"])
    assert rc == 1  # the weak cluster's public endpoint is critical
    out = capsys.readouterr().out
    assert "index.html" in out

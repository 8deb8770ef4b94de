"""An audit's life on the demo: a first audit with waivers, a second after the demo team's fixes with the first
as baseline, and `eksaudit diff` between them.

Each audit runs in a subprocess (moto keeps its accounts per process, beside the session's demo environment) at
a fixed time (EKSAUDIT_NOW), one day apart, so waiver expiry is exact: the NET-05 waiver expires on the first
audit's day, and holds for it but not for the second. The second demo serves its Kubernetes endpoint on the first
one's ports, so endpoint URLs (NET-01 resource IDs) are the same in both.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from eksaudit.cli import main

FIRST, SECOND = "2031-06-01T12:00:00Z", "2031-06-02T12:00:00Z"
FIXES = ["ecr-immutable-tags", "log-retention", "close-ssh", "private-endpoint", "console-mfa",
         "remove-token-secret"]
WAIVERS = """\
waivers:
  - check: IMG-08              # future: applied in both audits
    resource: arn:aws:ecr:us-east-1:123456789012:repository/legacy/*
    justification: legacy repositories are frozen; images are cleaned up by hand each quarter
    approver: jane.doe@example.com
    expires: 2099-12-31
  - check: NET-05              # expires on the first audit's day
    resource: sg-*
    cluster: legacy-weak
    justification: migration window
    approver: sec-lead@example.com
    expires: 2031-06-01
  - check: LOG-02              # past
    resource: "*"
    justification: an old exception
    approver: jane.doe@example.com
    expires: 2020-01-31
  - check: IAM-09              # names nothing
    resource: arn:aws:iam::123456789012:user/former-admin
    justification: left the company
    approver: jane.doe@example.com
    expires: 2099-01-01
  - check: IAM-04              # names ERROR and PASS rows only: an ERROR is never waived
    resource: "*"
    cluster: prod-hardened
    justification: not applicable to us
    approver: jane.doe@example.com
    expires: 2099-01-01
"""


def build(out: str, fixes: list[str], ports: list[int], waivers: str, baseline: str, notebooks: list[str]) -> None:
    """Run in a subprocess: one demo audit; writes the Kubernetes endpoint's ports beside the pack."""
    from eksaudit.collect.run import collect
    from eksaudit.demo.run import demo_environment
    from eksaudit.runner import run_pack

    with demo_environment(fixes=fixes, ports=tuple(ports)) as (target, source, extra):
        Path(out + ".ports").write_text(json.dumps(list(extra["kube"].ports)))
        run_pack(Path(out), collect=lambda d: collect(target, source, d, attachments=extra["attachments"]),
                 notebooks=notebooks, waivers_file=waivers, baseline=baseline or None)


def _build(out: Path, when: str, **kw) -> None:
    root = Path(__file__).resolve().parent.parent
    args = ", ".join(f"{k}={v!r}" for k, v in {"out": str(out), **kw}.items())
    proc = subprocess.run([sys.executable, "-c", f"from tests.test_e2e_lifecycle import build; build({args})"],
                          cwd=root, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true", "EKSAUDIT_NOW": when})
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    reports = tmp_path_factory.mktemp("lifecycle") / "reports"
    reports.mkdir()
    waivers = reports.parent / "waivers.yaml"
    waivers.write_text(WAIVERS, encoding="utf-8")
    first, second = reports / "first", reports / "second"
    _build(first, FIRST, fixes=[], ports=[0, 0], waivers=str(waivers), baseline="",
           notebooks=["summary", "images"])
    ports = json.loads(Path(str(first) + ".ports").read_text())
    _build(second, SECOND, fixes=FIXES, ports=ports, waivers=str(waivers), baseline=str(first),
           notebooks=["summary"])
    assert json.loads(Path(str(second) + ".ports").read_text()) == ports, "the second demo lost the ports"
    return first, second, waivers


def _findings(pack: Path) -> pd.DataFrame:
    return pd.DataFrame(json.loads((pack / "findings.json").read_text()))


def test_waivers_apply_expire_and_go_unused(audits):
    first, second, waivers = audits
    f = _findings(first)
    waived = f[f["status"] == "WAIVED"]
    assert sorted(waived["check_id"]) == ["IMG-08"] * 3 + ["NET-05"]
    assert set(waived[waived["check_id"] == "IMG-08"]["waiver_approver"]) == {"jane.doe@example.com"}
    assert (waived["waiver_expires"] != "").all() and (waived["waiver_justification"] != "").all()
    hardened = f[(f["check_id"] == "IAM-04") & (f["cluster"] == "prod-hardened")]
    assert "ERROR" in set(hardened["status"]) and "WAIVED" not in set(hardened["status"])
    states = {r["check_id"]: r["state"] for r in json.loads((first / "run.json").read_text())["waivers"]["entries"]}
    assert states == {"IMG-08": "applied", "NET-05": "applied", "LOG-02": "expired", "IAM-09": "unused",
                      "IAM-04": "unused"}
    later = {r["check_id"]: r["state"] for r in json.loads((second / "run.json").read_text())["waivers"]["entries"]}
    assert later["NET-05"] == "expired" and later["IMG-08"] == "applied"
    g = _findings(second)
    assert set(g[(g["check_id"] == "NET-05") & (g["cluster"] == "legacy-weak")]["status"]) == {"FAIL"}


def test_the_waivers_file_is_recorded_and_shown(audits):
    first, _, waivers = audits
    digest = hashlib.sha256(waivers.read_bytes()).hexdigest()
    assert json.loads((first / "run.json").read_text())["waivers"]["sha256"] == digest
    assert json.loads((first / "manifest.json").read_text())["run"]["waivers"]["sha256"] == digest
    index = (first / "index.html").read_text()
    assert digest in index and "names 4 finding(s), none FAIL" in index and "expired 2020-01-31" in index
    images = (first / "images.html").read_text()
    assert "legacy repositories are frozen" in images and "waiver_approver" in images
    events = json.loads((first / "findings.ocsf.json").read_text())
    details = {e.get("status_detail", "") for e in events if e["compliance"]["status_code"] == "WAIVED"}
    assert "waived by sec-lead@example.com until 2031-06-01: migration window" in details
    csv = (first / "findings.csv").read_text()
    assert "waiver_justification" in csv.splitlines()[0] and "migration window" in csv


EXPECTED = {  # (check, change, old status, new status, end of the resource ID)
    ("IAM-04", "new", "", "PASS", "legacy-weak (token Secrets)"),
    ("IAM-04", "resolved", "FAIL", "", "shop/shared-sa-token-x7k2p"),
    ("IAM-09", "changed", "FAIL", "PASS", "user/legacy-console-admin"),
    ("IMG-05", "changed", "FAIL", "PASS", "legacy/web:migrate"),
    ("IMG-07", "changed", "FAIL", "PASS", "repository/legacy/web"),
    ("LOG-01", "changed", "FAIL", "PASS", "/aws/eks/legacy-weak/cluster"),
    ("NET-07", "changed", "FAIL", "PASS", "cluster/legacy-weak"),
    ("NET-05", "changed", "WAIVED", "FAIL", ""),  # its waiver expired
}


def _changes(doc: dict) -> set:
    return {(c["check_id"], c["change"], c["old_status"], c["new_status"], c["resource_id"]) for c in doc["changes"]}


def _matches(got: set) -> None:
    assert len(got) == len(EXPECTED), sorted(got)
    for check, change, old, new, end in EXPECTED:
        assert any(g[:4] == (check, change, old, new) and g[4].endswith(end) for g in got), (check, sorted(got))


def test_the_fixed_demo_gives_the_expected_diff(audits):
    first, second, _ = audits
    doc = json.loads((second / "diff.json").read_text())
    _matches(_changes(doc))
    # close-ssh only reworded NET-05's reason on legacy-weak's security group (HTTPS stays open): no change of
    # its own; the change above is the expired waiver.
    assert doc["totals"]["new_fails"] == 1 and doc["totals"]["fixed_fails"] == 6
    run = json.loads((second / "run.json").read_text())
    assert run["baseline"]["run_id"] == json.loads((first / "run.json").read_text())["run_id"]
    assert run["baseline"]["manifest_sha256"] == hashlib.sha256((first / "manifest.json").read_bytes()).hexdigest()
    index = (second / "index.html").read_text()
    assert "<b>1</b> new FAIL(s), <b>6</b> fixed" in index and 'href="diff.html"' in index
    assert "Fixed (6)" in index and "New FAILs (1)" in index
    assert run["trend"]["audits"] == 2 and "FAIL findings per domain" in index and "<svg" in index
    diff_page = (second / "diff.html").read_text()
    assert 'href="index.html"' in diff_page and "legacy-console-admin" in diff_page


def test_cli_diff_between_the_audits(audits, tmp_path, capsys):
    first, second, _ = audits
    assert main(["diff", str(first), str(second), "--out", str(tmp_path / "d1"), "--fail-on", "critical"]) == 0
    out = capsys.readouterr().out
    assert "total: 1 new, 1 resolved, 6 changed" in out and "1 new FAIL(s), 6 fixed" in out
    _matches(_changes(json.loads((tmp_path / "d1" / "diff.json").read_text())))
    # The waiver that expired reopened a high FAIL; the other way round, the public endpoint is critical.
    assert main(["diff", str(first), str(second), "--out", str(tmp_path / "d2"), "--fail-on", "high"]) == 1
    assert main(["diff", str(second), str(first), "--out", str(tmp_path / "d3"), "--fail-on", "critical"]) == 1


def test_a_pack_against_itself_and_a_tampered_pack(audits, tmp_path, capsys):
    first, _, _ = audits
    assert main(["diff", str(first), str(first), "--out", str(tmp_path / "same"), "--fail-on", "info"]) == 0
    assert "no changes" in capsys.readouterr().out
    assert json.loads((tmp_path / "same" / "diff.json").read_text())["changes"] == []
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    rows = json.loads((copy / "findings.json").read_text())
    rows[0]["status"] = "PASS"
    (copy / "findings.json").write_text(json.dumps(rows))
    assert main(["diff", str(first), str(copy), "--out", str(tmp_path / "t")]) == 2
    assert "new pack" in capsys.readouterr().err and not (tmp_path / "t").exists()

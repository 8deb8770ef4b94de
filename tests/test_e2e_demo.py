"""The real pipeline on the embedded demo account: planted weaknesses FAIL, their hardened twins PASS."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from eksaudit.demo.account import HARDENED, WEAK

# (check, cluster, resource_id substring, expected status, reason substring)
EXPECTED = [
    ("IAM-06", WEAK, "shop/Deployment/web", "FAIL", "default service account"),
    ("IAM-06", WEAK, "shop/Deployment/worker", "FAIL", "shares service account shared-sa"),
    ("IAM-06", HARDENED, "payments/Deployment/api", "PASS", "own service account"),
    ("IAM-07", WEAK, "shop/Deployment/worker/init:migrate", "FAIL", "runAsUser is 0"),
    ("IAM-07", WEAK, "shop/Deployment/web/container:nginx", "FAIL", "not proven non-root"),
    ("IAM-07", HARDENED, "payments/Deployment/ledger/init:schema", "PASS", "uid 10001"),
    ("NET-07", WEAK, "cluster/legacy-weak", "FAIL", "0.0.0.0/0"),
    ("NET-07", HARDENED, "cluster/prod-hardened", "PASS", "public access off"),
    ("NET-09", "", "repository/legacy/web", "FAIL", "AES256"),
    ("NET-09", "", "repository/payments/api", "PASS", "KMS"),
    ("LOG-01", WEAK, "cluster/legacy-weak", "FAIL", "audit, authenticator"),
    ("LOG-01", WEAK, "/aws/eks/legacy-weak/cluster", "FAIL", "no retention"),
    ("LOG-01", HARDENED, "cluster/prod-hardened", "PASS", "enabled"),
    ("LOG-01", HARDENED, "/aws/eks/prod-hardened/cluster", "PASS", "retention 400"),
    ("LOG-02", "", "trail/legacy-trail", "FAIL", "log file validation off"),
    ("LOG-02", "", "trail/stopped-trail", "FAIL", "not logging"),
    ("LOG-02", "", "trail/org-audit-trail", "PASS", "validation on"),
    ("IMG-01", WEAK, "shop/Deployment/web/container:nginx", "FAIL", "docker.io"),
    ("IMG-01", WEAK, "shop/Deployment/reporter/container:reporter", "FAIL", "quay.io"),
    ("IMG-01", HARDENED, "payments/Deployment/api/container:api", "PASS", "allowed"),
    ("IMG-06", WEAK, "shop/Deployment/web/container:nginx", "FAIL", "writable"),
    ("IMG-06", HARDENED, "payments/Deployment/api/container:api", "PASS", "readOnlyRootFilesystem is true"),
]


@pytest.mark.parametrize("check_id,cluster,resource,status,reason", EXPECTED)
def test_planted_and_hardened(demo_pack, check_id, cluster, resource, status, reason):
    _, findings = demo_pack
    rows = findings[(findings["check_id"] == check_id) & (findings["cluster"] == cluster)
                    & findings["resource_id"].str.contains(resource, regex=False)]
    assert not rows.empty, f"{check_id} has no finding for {resource} on {cluster or 'the account'}"
    matching = rows[rows["reason"].str.contains(reason, regex=False)]
    assert not matching.empty, rows["reason"].tolist()
    assert set(matching["status"]) == {status}, matching[["status", "reason"]].to_string()
    if status == "PASS":
        assert set(rows["status"]) == {"PASS"}, rows[["status", "reason"]].to_string()


def test_hardened_cluster_has_no_failures_in_implemented_checks(demo_pack):
    _, findings = demo_pack
    hardened = findings[(findings["cluster"] == HARDENED) & (findings["status"] == "FAIL")]
    # kube-system add-ons are AWS's; everything the hardened team owns passes.
    assert hardened[~hardened["resource_id"].str.startswith("kube-system/")].empty, hardened.to_string()


def test_pack_layout(demo_pack):
    pack, findings = demo_pack
    for name in ["index.html", "iam.html", "network.html", "logging.html", "images.html", "findings.csv",
                 "findings.json", "run.json", "manifest.json", "evidence/manifest.json"]:
        assert (pack / name).is_file(), name
    assert not list(pack.parent.glob(".*partial*")), "temporary folder left behind"
    from_json = pd.DataFrame(json.loads((pack / "findings.json").read_text()))
    assert len(from_json) == len(findings)
    csv = pd.read_csv(pack / "findings.csv", dtype=str, keep_default_na=False)
    assert list(csv.columns) == list(findings.columns)


def test_pages_show_findings_without_code(demo_pack):
    pack, findings = demo_pack
    html = (pack / "iam.html").read_text()
    assert "IAM-07" in html and "runAsUser is 0" in html
    assert "open_domain(" not in html, "code cells must be hidden"
    index = (pack / "index.html").read_text()
    for page in ("iam.html", "network.html", "logging.html", "images.html"):
        assert f'href="{page}"' in index


def test_every_evidence_file_is_hashed(demo_pack):
    import hashlib

    pack, _ = demo_pack
    manifest = json.loads((pack / "evidence" / "manifest.json").read_text())
    ok = [e for e in manifest["entries"] if e["status"] == "ok"]
    assert ok
    for e in ok:
        body = (pack / "evidence" / e["path"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == e["sha256"]
        for key in ("input", "account", "region", "cluster", "time", "params"):
            assert key in e


def test_same_evidence_gives_same_findings(demo_pack):
    from eksaudit.checks import run_checks
    from eksaudit.evidence import Evidence

    pack, findings = demo_pack
    again = run_checks(Evidence(pack / "evidence"), run_id=findings["run_id"].iloc[0])
    pd.testing.assert_frame_equal(again, findings)

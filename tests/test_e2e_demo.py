"""The real pipeline on the embedded demo account: planted weaknesses FAIL, their hardened twins PASS."""

from __future__ import annotations

import json

import pandas as pd

from eksaudit.checks import load
from eksaudit.demo.account import HARDENED
from eksaudit.testing import assert_no_crash


def test_hardened_cluster_has_no_failures_in_implemented_checks(demo_pack):
    _, findings = demo_pack
    hardened = findings[(findings["cluster"] == HARDENED) & (findings["status"] == "FAIL")]
    # kube-system add-ons are AWS's; everything the hardened team owns passes.
    assert hardened[~hardened["resource_id"].str.startswith("kube-system/")].empty, hardened.to_string()


def test_pack_layout(demo_pack):
    pack, findings = demo_pack
    for name in ["index.html", "iam.html", "network.html", "logging.html", "images.html", "findings.csv",
                 "findings.json", "findings.ocsf.json", "run.json", "manifest.json", "evidence/manifest.json",
                 "notebooks/summary.ipynb", "notebooks/iam.ipynb"]:
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


def test_pages_are_self_contained(demo_pack):
    """No page loads anything from outside (the pack is read offline, and a CDN would learn who reads it)."""
    import re

    pack, _ = demo_pack
    for page in ("index.html", "iam.html", "network.html", "logging.html", "images.html"):
        html = (pack / page).read_text()
        assert "Content-Security-Policy" in html and "default-src 'none'" in html
        assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?https?:""", html), page
        assert "cdnjs" not in html and "require.min.js" not in html


def test_index_covers_every_practice(demo_pack):
    import html

    from eksaudit.requirements import PRACTICES

    pack, _ = demo_pack
    index = (pack / "index.html").read_text()
    cov = index[index.index("Coverage of the requirements"):]
    for pid, _, text in PRACTICES:
        assert f"<td class=\"ek-k\">{pid}</td>" in cov and html.escape(text) in cov, pid
    for heading in ("Results by domain", "Clusters", "Top risks"):
        assert heading in index
    assert "<svg" in index and "123456789012" in index


def test_demo_pack_has_no_crash_row(demo_pack):
    """A check that raised on the demo evidence is a defect, whatever the rest of the pack says."""
    _, findings = demo_pack
    assert_no_crash(findings)


def test_demo_errors_name_what_could_not_be_read(demo_pack):
    """Every ERROR of the demo names an input of its check: the input key, or for AWS the API operation."""
    _, findings = demo_pack
    catalog = load()
    errors = findings[findings["status"] == "ERROR"]
    assert not errors.empty  # moto lacks some EKS APIs: the demo audit has gaps to report
    for r in errors.itertuples():
        c = catalog[r.check_id]
        keys = c.all_inputs() + c.all_soft_inputs()
        names = set(keys) | {k.rsplit(":", 1)[1] for k in keys if k.startswith("aws:")}
        assert any(n in r.reason for n in names), (r.check_id, r.resource_id, r.reason)


def test_every_check_shows_a_fail_and_a_pass(demo_pack):
    """The demo teaches each check by example: a planted weakness that FAILs and a counterpart that PASSes."""
    from eksaudit.checks import load

    _, findings = demo_pack
    seen = findings.groupby("check_id")["status"].agg(set).to_dict()
    wanted = {cid: {"FAIL", "PASS"} for cid in load()}
    missing = {cid: sorted(want - seen.get(cid, set())) for cid, want in sorted(wanted.items())}
    missing = {cid: statuses for cid, statuses in missing.items() if statuses}
    assert not missing, f"checks without these verdicts in the demo: {missing}"

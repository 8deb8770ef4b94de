"""An audit that could not read is not a clean audit: caller identity, exit codes, one ERROR per gap, banner."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from eksaudit.cli import main
from eksaudit.runner import EXIT_FAIL, EXIT_INCOMPLETE, EXIT_OK, exit_code


def _f(*rows):
    return pd.DataFrame([{"check_id": c, "status": s, "severity": sev, "reason": r} for c, s, sev, r in rows])


def test_exit_code_says_incomplete_unless_accepted():
    gaps = _f(("IAM-03", "ERROR", "high", "could not verify: aws:eks:ListAddons unsupported"),
              ("NET-07", "PASS", "high", "ok"))
    assert exit_code(gaps, "high") == EXIT_INCOMPLETE
    assert exit_code(gaps, "high", ["*"]) == EXIT_OK
    assert exit_code(gaps, "high", ["IAM-03"]) == EXIT_OK
    assert exit_code(gaps, "high", ["aws:eks:ListAddons"]) == EXIT_OK
    assert exit_code(gaps, "high", ["IAM-01"]) == EXIT_INCOMPLETE
    failed = pd.concat([gaps, _f(("NET-07", "FAIL", "critical", "open"))])
    assert exit_code(failed, "high") == EXIT_FAIL  # a proven failure outranks a gap
    assert exit_code(_f(("NET-07", "PASS", "high", "ok")), "high") == EXIT_OK


def test_unidentified_caller_audits_nothing(tmp_path):
    """Bad keys and no reachable endpoint: one line naming the cause, exit 2, no pack left behind."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("AWS_PROFILE", None)
    out = tmp_path / "pack"
    p = subprocess.run([sys.executable, "-m", "eksaudit.cli", "run", "--region", "eu-west-1", "--endpoint-url",
                        "http://127.0.0.1:9", "--out", str(out)], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eksaudit: error: cannot identify the AWS caller"), p.stderr
    assert "sts:GetCallerIdentity" in lines[0] and "EndpointConnectionError" in lines[0]
    assert "Traceback" not in p.stderr
    assert not out.exists() and not [x for x in tmp_path.iterdir() if "partial" in x.name]


def test_cli_says_how_many_checks_were_not_verified(tmp_path, demo_evidence, capsys):
    rc = main(["run", "--evidence", str(demo_evidence), "--out", str(tmp_path / "p"), "--fail-on", "critical"])
    assert rc == EXIT_FAIL
    err = capsys.readouterr().err
    assert "incomplete audit:" in err and "checks could not be verified" in err
    run = json.loads((tmp_path / "p" / "run.json").read_text())
    assert run["unverified_checks"]
    assert any("aws:eks:ListPodIdentityAssociations" in r["inputs"] for r in run["not_audited"])


@pytest.fixture(scope="module")
def no_k8s_findings(demo_env, tmp_path_factory):
    """The demo account audited with no Kubernetes source at all."""
    from eksaudit.checks import run_checks
    from eksaudit.collect.run import collect
    from eksaudit.evidence import Evidence
    from eksaudit.target import K8sSource

    target, _, _ = demo_env
    ev = Evidence(collect(target, K8sSource(), tmp_path_factory.mktemp("no-k8s")))
    return ev, run_checks(ev)


def test_one_error_row_per_check_and_scope(no_k8s_findings):
    ev, f = no_k8s_findings
    errors = f[f["status"] == "ERROR"]
    per_scope = errors[errors["resource_type"].isin(["account", "region", "cluster"])]
    dup = per_scope.groupby(["check_id", "account_id", "region", "cluster"]).size()
    assert (dup == 1).all(), dup[dup > 1]
    k8s_rows = errors[errors["reason"].str.contains("k8s:", regex=False)]
    assert set(k8s_rows["cluster"]) == set(ev.clusters)
    iam04 = errors[errors["check_id"] == "IAM-04"]
    assert len(iam04) == len(ev.clusters)  # was one per missing kind: 13 per cluster
    for reason in iam04["reason"]:
        assert "k8s:secrets" in reason and "k8s:pods" in reason and "no Kubernetes source given" in reason
    assert len(errors) <= 5 * len(ev.clusters) * 3, len(errors)


def test_not_audited_names_scope_cause_and_fix(no_k8s_findings):
    from eksaudit.not_audited import not_audited

    ev, _ = no_k8s_findings
    gaps = not_audited(ev)
    for cluster in ev.clusters:
        row = gaps[(gaps["cluster"] == cluster) & gaps["inputs"].str.contains("k8s:pods", regex=False)]
        assert len(row) == 1, gaps
        assert row["fix"].iloc[0] == f"give --kubeconfig, --eks-auth or --k8s-snapshot for {cluster}"
        assert "IAM-04" in row["checks"].iloc[0] and "IMG-06" in row["checks"].iloc[0]


def test_summary_page_opens_with_incomplete_banner(demo_pack):
    pack, findings = demo_pack
    assert (findings["status"] == "ERROR").any()  # moto lacks some EKS APIs: the demo audit is incomplete
    html = (pack / "index.html").read_text()
    banner = html.index("Incomplete audit.")
    assert banner < html.index("Account")  # before anything else on the page
    assert 'id="not-audited"' in html and "aws:eks:ListPodIdentityAssociations" in html


def test_complete_audit_has_no_banner(monkeypatch):
    from eksaudit.views import summary

    shown = []
    monkeypatch.setattr(summary, "show_html", shown.append)
    s = summary.Summary({"unverified_checks": [], "not_audited": []}, _f(("NET-07", "PASS", "high", "ok")))
    summary.show_incomplete(s)
    summary.show_not_audited(s)
    assert not any("Incomplete audit" in h for h in shown)
    assert any("nothing was left unaudited" in h for h in shown)


def test_an_html_error_page_is_reduced_to_its_title():
    """A proxy's or an emulator's HTML 404 page is a cause in a few words, not markup in every reason."""
    import botocore.exceptions as bex

    from eksaudit.collect.faults import classify

    page = "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1><p>The URL ...</p>"
    exc = bex.ClientError({"Error": {"Code": "404", "Message": page}, "ResponseMetadata": {"HTTPStatusCode": 404}},
                          "ListAddons")
    assert classify(exc) == {"kind": "unsupported", "code": "404", "message": "HTML page: 404 Not Found"}

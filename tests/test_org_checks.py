"""An organization's own checks (--checks-dir): same decorator, same frames, everywhere the catalog goes."""

from __future__ import annotations

import json
import textwrap

import pytest

from eksaudit.checks import drop_checks_dirs, load, run_checks, use_checks_dir
from eksaudit.cli import main
from eksaudit.evidence import Evidence

ORG_CHECK = textwrap.dedent('''
    """ACME's own rule: every cluster names its owning team in a tag."""
    from eksaudit.checks import check
    from eksaudit.checks.common import finding


    @check("NET-ACME-1", domain="network", title="Clusters name their owner", severity="low",
           requirements=["ACME-TAG-1"], frames=("clusters",),
           practice="Every EKS cluster carries an owner tag naming the team on call for it.",
           rationale="Findings need someone to fix them.", remediation="Tag the cluster with owner=<team>.",
           references={"acme": ["TAG-1"]})
    def clusters_name_their_owner(f, p):
        return [finding(c, "PASS" if "owner" in (c["tags"] or {}) else "FAIL", "cluster", c["arn"],
                        "owner tag present" if "owner" in (c["tags"] or {}) else "no owner tag")
                for c in f.clusters.to_dict(orient="records")]
''')


@pytest.fixture
def org_dir(tmp_path):
    d = tmp_path / "acme-checks"
    d.mkdir()
    (d / "acme_tags.py").write_text(ORG_CHECK)
    yield d
    drop_checks_dirs()


def test_catalog_lists_org_check(org_dir, capsys):
    assert main(["checks", "--format", "json", "--checks-dir", str(org_dir)]) == 0
    ids = [c["id"] for c in json.loads(capsys.readouterr().out)]
    assert "NET-ACME-1" in ids and "NET-07" in ids
    drop_checks_dirs()
    assert "NET-ACME-1" not in load()  # only while its folder is in use


def test_org_check_in_findings_pages_and_coverage(org_dir, demo_evidence, tmp_path, capsys):
    out = tmp_path / "pack"
    main(["run", "--evidence", str(demo_evidence), "--out", str(out), "--checks-dir", str(org_dir)])
    findings = json.loads((out / "findings.json").read_text())
    mine = [f for f in findings if f["check_id"] == "NET-ACME-1"]
    assert mine and {f["status"] for f in mine} <= {"PASS", "FAIL"}
    assert {f["cluster"] for f in mine} == set(Evidence(demo_evidence).clusters)
    assert "NET-ACME-1" in (out / "network.html").read_text()
    index = (out / "index.html").read_text()
    assert "ACME-TAG-1" in index and "Every EKS cluster carries an owner tag" in index
    run = json.loads((out / "run.json").read_text())
    assert set(run["checks_dir"]["files"]) == {"acme_tags.py"}
    ocsf = json.loads((out / "findings.ocsf.json").read_text())
    assert any(o["compliance"]["control"] == "NET-ACME-1" for o in ocsf)


def test_org_check_in_the_fault_matrix(org_dir, demo_evidence):
    """Every input the org check depends on, failed: no PASS in that scope, an ERROR naming it."""
    from tests.test_faults import cause_of, faulted

    use_checks_dir(org_dir)
    chk = load()["NET-ACME-1"]
    assert chk.all_inputs() == ["aws:eks:ListClusters", "aws:eks:DescribeCluster"]
    base = Evidence(demo_evidence)
    for key in chk.all_inputs():
        for fault in ("access-denied", "throttled", "malformed"):
            fev, errors = faulted(base, key, cause_of(key, fault))
            got = run_checks(fev, ids=["NET-ACME-1"])
            assert not (got["status"] == "PASS").any(), (key, fault)
            assert got["reason"].str.contains(key, regex=False).any(), (key, fault)


@pytest.mark.parametrize("body, says", [
    ("def broken(:\n", "SyntaxError"),
    ("from eksaudit.checks import check\n@check('NET-07', domain='network', title='t', severity='low', "
     "requirements=['R-NET-7'], practice='p', rationale='r', remediation='m')\ndef f(f, p): return []\n",
     "duplicate check NET-07"),
    ("from eksaudit.checks import check\n@check('NET-X', domain='network', title='t', severity='low', "
     "requirements=['R-NET-7'], inputs=('aws:eks:DescribeNothing',), practice='p', rationale='r', "
     "remediation='m')\ndef f(f, p): return []\n", "unknown input 'aws:eks:DescribeNothing'"),
    ("x = 1\n", "no check registered"),
])
def test_bad_org_checks_are_one_line_exit_2(tmp_path, capsys, body, says):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "bad.py").write_text(body)
    try:
        assert main(["checks", "--checks-dir", str(d)]) == 2
    finally:
        drop_checks_dirs()
    err = capsys.readouterr().err
    assert err.startswith("eksaudit: error:") and says in err and err.count("\n") == 1, err


def test_builtin_catalog_whatever_was_imported_first():
    """A module of the catalog imported before load() (a view importing checks.iam) still counts as built in."""
    import subprocess
    import sys

    code = ("import eksaudit.views.iam, eksaudit.checks.iam\n"
            "from eksaudit.checks import CATALOG, load\n"
            "print(sorted({c.split('-')[0] for c in load()}), len(load()) == len(CATALOG))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['IAM', 'IMG', 'LOG', 'NET'] True", out

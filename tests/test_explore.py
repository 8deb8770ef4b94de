"""The explorer without a browser: filters, counts and table rows; a selected finding's practice and evidence;
the sha256 check; references that leave the evidence folder; every kind of source; the pack's static table."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import eksaudit
from eksaudit import render, runner
from eksaudit.checks import load, run_checks
from eksaudit.errors import UserError
from eksaudit.notebook import open_domain
from eksaudit.testing import ACCOUNT, EvidenceBuilder, pod
from eksaudit.views import explore as ex

ROOT = Path(__file__).resolve().parent.parent


def _path(ev, input_key: str, cluster: str = "") -> str:
    return next(e["path"] for e in ev.entries if e["input"] == input_key and e["cluster"] == cluster)


@pytest.fixture
def world(tmp_path):
    """Two clusters in two regions, a failed read, and five findings pointing into the evidence."""
    b = EvidenceBuilder(tmp_path)
    b.cluster("alpha", k8s={"pods": [pod("web", "shop"), pod("api", "payments")]})
    b.cluster("beta", region="eu-west-1")
    b.k8s_error("beta", "pods", region="eu-west-1")
    ev = b.build()
    pods, beta = _path(ev, "k8s:pods", "alpha"), _path(ev, "aws:eks:DescribeCluster", "beta")

    def f(check, status, severity, cluster, region, rtype, rid, reason, evidence):
        return {"run_id": "r1", "account_id": ACCOUNT, "region": region, "cluster": cluster,
                "domain": load()[check].domain, "check_id": check, "title": load()[check].title,
                "severity": severity, "status": status, "resource_type": rtype, "resource_id": rid, "reason": reason,
                "remediation": "", "evidence": evidence}

    rows = [
        f("IAM-07", "PASS", "high", "alpha", "us-east-1", "workload", "payments/Pod/api", "runs as non-root",
          f"evidence/{pods}#payments/api"),
        f("IAM-07", "FAIL", "high", "alpha", "us-east-1", "workload", "shop/Pod/web", "runs as root",
          f"evidence/{pods}#shop/web"),
        f("NET-01", "FAIL", "high", "beta", "eu-west-1", "api-endpoint", "beta", "accepts TLS 1.0",
          f"evidence/{beta}"),
        f("IAM-01", "FAIL", "critical", "", "", "iam-role", f"arn:aws:iam::{ACCOUNT}:role/admin",
          "grants eks:*", ""),
        f("IAM-06", "ERROR", "medium", "beta", "eu-west-1", "cluster", "beta", "could not verify: k8s:pods",
          "evidence/manifest.json"),
    ]
    return ev, pd.DataFrame(rows)


def _shown(explorer) -> list[str]:
    """The resource IDs the grid was sent, in its order (what the browser shows)."""
    data = json.loads(explorer.table._dt_args["data_json"])
    return [row[ex.TABLE_COLUMNS.index("resource_id")] for row in data]


def test_filters_drive_the_table_and_the_counts(world):
    ev, findings = world
    x = eksaudit.explore(findings, evidence=ev.root)
    assert len(_shown(x)) == 5 and 'data-shown="5"' in x.counts.value and "of 5 findings" in x.counts.value
    assert _shown(x)[0] == f"arn:aws:iam::{ACCOUNT}:role/admin"  # FAIL critical first

    x.filters["status"].value = ("FAIL",)
    assert sorted(_shown(x)) == sorted(["shop/Pod/web", "beta", f"arn:aws:iam::{ACCOUNT}:role/admin"])
    assert 'data-shown="3"' in x.counts.value and ">FAIL</span> 3" in x.counts.value
    assert "PASS" not in x.counts.value
    assert list(x.table.df["status"]) == ["FAIL"] * 3

    x.filters["cluster"].value = ("alpha",)
    assert _shown(x) == ["shop/Pod/web"] and 'data-shown="1"' in x.counts.value

    x.reset()
    x.filters["namespace"].value = ("shop", "payments")
    assert sorted(_shown(x)) == ["payments/Pod/api", "shop/Pod/web"]
    x.filters["namespace"].value = ("",)  # "(none)": AWS resources and cluster-level rows
    assert len(_shown(x)) == 3

    x.reset()
    x.filters["region"].value = ("eu-west-1",)
    x.filters["severity"].value = ("medium",)
    assert _shown(x) == ["beta"] and list(x.table.df["check_id"]) == ["IAM-06"]

    x.reset()
    x.filters["check_id"].value = ("IAM-07",)
    x.search.value = "ROOT web"  # every word, any case, in the resource or the reason
    assert _shown(x) == ["shop/Pod/web"]
    x.search.value = "non-root"
    assert _shown(x) == ["payments/Pod/api"]
    x.search.value = "nothing matches this"
    assert _shown(x) == [] and 'data-shown="0"' in x.counts.value

    x.reset()
    assert len(_shown(x)) == 5
    assert dict(zip(x.filters, (s.options for s in x.filters.values())))["status"] == (
        ("FAIL", "FAIL"), ("ERROR", "ERROR"), ("PASS", "PASS"))
    assert ("(none)", "") in x.filters["cluster"].options


def test_selecting_a_finding_shows_practice_remediation_and_its_raw_evidence(world):
    ev, findings = world
    x = eksaudit.explore(findings, evidence=ev.root)
    x.filters["check_id"].value = ("IAM-07",)
    x.filters["status"].value = ("FAIL",)
    x.table.selected_rows = [0]
    chk = load()["IAM-07"]
    assert x.selected["resource_id"] == "shop/Pod/web"
    for text in (chk.practice, chk.rationale, chk.remediation, chk.title, "runs as root"):
        assert render.esc(text) in x.finding_panel.value
    d = x.detail
    entry = next(e for e in ev.entries if e.get("path") == d.path)
    items = json.loads((ev.root / d.path).read_text())["items"]
    web = next(i for i, o in enumerate(items) if o["metadata"]["name"] == "web")
    assert d.fragment == "shop/web" and d.located_at == f"items[{web}]"
    assert d.focus["metadata"]["name"] == "web" and d.focus["metadata"]["namespace"] == "shop"
    assert d.matches and d.sha256 == d.recorded_sha256 == entry["sha256"]
    panel = x.evidence_panel.value
    assert 'data-integrity="matches"' in panel and entry["sha256"] in panel and "k8s:pods" in panel
    focus, whole = panel.split('<details class="ek-whole">')
    assert "&quot;name&quot;: &quot;web&quot;" in focus and "&quot;api&quot;" not in focus  # the object first
    assert "&quot;api&quot;" in whole  # and the whole file a click away

    # The file changes after collection: the same selection now says so.
    target = ev.root / d.path
    target.write_text(target.read_text().replace('"web"', '"w3b"'))
    x.table.selected_rows = []
    assert x.detail is None and x.evidence_panel.value == ""
    x.table.selected_rows = [0]
    assert x.detail.integrity == "changed" and not x.detail.matches
    assert 'data-integrity="changed"' in x.evidence_panel.value and "CHANGED" in x.evidence_panel.value
    assert x.detail.recorded_sha256 == entry["sha256"] != x.detail.sha256


def test_clearing_the_filters_sends_the_table_once(world):
    ev, findings = world
    x = eksaudit.explore(findings, evidence=ev.root)
    x.filters["status"].value = ("FAIL",)
    x.filters["cluster"].value = ("alpha",)
    x.search.value = "web"
    sent: list = []
    x.table.observe(sent.append, "_dt_args")
    x.reset()
    assert len(sent) == 1 and len(_shown(x)) == 5 and all(s.value == () for s in x.filters.values())


def test_a_selection_survives_filters_that_keep_it(world):
    ev, findings = world
    x = eksaudit.explore(findings, evidence=ev.root)
    pos = _shown(x).index("beta")
    x.table.selected_rows = [pos]
    assert x.selected["check_id"] == "NET-01"
    x.filters["cluster"].value = ("beta",)
    assert x.selected["check_id"] == "NET-01" and x.table.selected_rows == [_shown(x).index("beta")]
    x.filters["cluster"].value = ("alpha",)
    assert x.selected is None and x.table.selected_rows == [] and "Select a finding" in x.finding_panel.value


def test_an_error_row_shows_the_failed_reads_of_its_scope(world):
    ev, findings = world
    d = ex.evidence_detail(ev, "evidence/manifest.json", {"cluster": "beta", "region": "eu-west-1"})
    assert d.integrity == "manifest" and not d.problem
    assert [(e["input"], e["cluster"]) for e in d.focus] == [("k8s:pods", "beta")]
    assert ex.evidence_detail(ev, "evidence/manifest.json", {"cluster": "alpha", "region": "us-east-1"}).focus == []


def test_references_outside_the_evidence_folder_are_never_read(world, tmp_path):
    ev, _ = world
    secret = tmp_path / "secret.json"
    secret.write_text('{"password": "hunter2"}')
    (ev.root / "k8s" / "link.json").symlink_to(secret)
    for ref in ("evidence/../secret.json", f"evidence/{secret}", str(secret), "../secret.json",
                "evidence/k8s/../../secret.json", "evidence//etc/passwd"):
        d = ex.evidence_detail(ev, ref)
        assert "outside the evidence folder" in d.problem and d.document is None, ref
    d = ex.evidence_detail(ev, "evidence/k8s/link.json")
    assert "not a regular file" in d.problem and d.document is None
    assert "hunter2" not in ex.evidence_html(d)
    d = ex.evidence_detail(ev, "evidence/k8s/nosuch.json")
    assert "missing" in d.problem
    assert ex.evidence_detail(None, "evidence/manifest.json").problem.startswith("no evidence folder")
    assert ex.evidence_detail(ev, "").problem == "this finding names no evidence"


def test_a_file_not_in_the_manifest_is_flagged(world):
    ev, _ = world
    (ev.root / "planted.json").write_text('{"a": 1}')
    d = ex.evidence_detail(ev, "evidence/planted.json")
    assert d.integrity == "not in manifest" and not d.matches and d.focus == {"a": 1}


def test_hostile_names_stay_text(world):
    ev, findings = world
    hostile = '<img src=x onerror=alert(1)>'
    findings = findings.assign(resource_id=hostile, reason=hostile, cluster=hostile, evidence=f"evidence/x#{hostile}")
    x = eksaudit.explore(findings, evidence=ev.root)
    assert "<img" not in x.table._dt_args["data_json"] and "&lt;img" in x.table._dt_args["data_json"]
    x.table.selected_rows = [0]
    for value in (x.finding_panel.value, x.evidence_panel.value):
        assert "<img" not in value and "&lt;img" in value
    assert "<img" not in ex.static_table(findings)


def test_every_kind_of_source(world, tmp_path):
    ev, findings = world
    computed = run_checks(ev)
    # An evidence folder (or the folder holding it) is analysed as `eksaudit run --evidence` would.
    for folder in (ev.root, ev.root.parent):
        src = ex.load_source(folder)
        assert src.evidence.root == ev.root and len(src.findings) == len(computed)
        assert list(src.findings["check_id"]) == list(computed["check_id"])
    # A pack: its findings as written, its evidence beside them.
    pack = tmp_path / "pack"
    shutil.copytree(ev.root, pack / "evidence")
    (pack / "findings.json").write_text(findings.to_json(orient="records"))
    (pack / "run.json").write_text(json.dumps({"run_id": "r1", "account": ACCOUNT}))
    src = ex.load_source(pack)
    assert len(src.findings) == 5 and src.evidence.root == pack / "evidence" and src.run["run_id"] == "r1"
    assert set(src.findings["namespace"]) == {"shop", "payments", ""}
    # A notebook context: its findings (one domain) and its evidence.
    ctx = open_domain("network", evidence_dir=str(ev.root))
    src = ex.load_source(ctx)
    assert set(src.findings["domain"]) == {"network"} and src.evidence is ctx.evidence
    # Anything else: one line.
    with pytest.raises(UserError, match="not a pack"):
        ex.load_source(tmp_path / "nothing")
    with pytest.raises(UserError, match="give a pack folder"):
        ex.load_source(42)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "findings.json").write_text('{"not": "a list"}')
    with pytest.raises(UserError, match="not a findings file"):
        ex.load_source(tmp_path / "bad")


def test_start_opens_the_newest_complete_pack(tmp_path):
    reports = tmp_path / "reports"
    with pytest.raises(UserError, match="no pack in"):
        ex.newest_pack(reports)
    for name, finished in (("old", "2026-01-01T00:00:00+00:00"), ("new", "2026-03-01T00:00:00+00:00"),
                           (".new.partial", "2027-01-01T00:00:00+00:00")):
        (reports / name).mkdir(parents=True)
        for f in ("findings.json", "manifest.json"):
            (reports / name / f).write_text("[]")
        (reports / name / "run.json").write_text(json.dumps({"finished": finished}))
    (reports / "unfinished").mkdir()  # no manifest: not a complete pack
    (reports / "unfinished" / "findings.json").write_text("[]")
    assert ex.newest_pack(reports).name == "new"
    assert ex.start(reports=reports).label == f"pack {reports / 'new'}"
    assert ex.start(run_dir=reports / "old").label == f"pack {reports / 'old'}"


def test_namespace_and_locate():
    assert ex.namespace_of("workload", "shop/Deployment/web", "evidence/k8s/a/deployments.json#shop/web") == "shop"
    assert ex.namespace_of("cluster-role", "admin", "evidence/k8s/a/clusterroles.json#/admin") == ""
    assert ex.namespace_of("container", "shop/Deployment/web/container:x", "") == "shop"
    assert ex.namespace_of("namespace", "alpha/payments", "evidence/k8s/a/networkpolicies.json") == "payments"
    assert ex.namespace_of("iam-role", "arn:aws:iam::1:role/x", "evidence/aws/global/iam/G.json#arn:aws:iam::1:role/x") == ""
    assert ex.namespace_of("node-role", "arn:aws:iam::1:role/n", "evidence/k8s/a/configmaps.json#kube-system/aws-auth") == ""
    assert ex.namespace_of("image", "nginx:1.25", "evidence/k8s/a/deployments.json#shop/web") == "shop"

    gaad = {"UserDetailList": [{"Arn": "arn:aws:iam::1:user/u"}],
            "RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::1:role/r",
                                "AssumeRolePolicyDocument": {"Statement": [{"Principal": {"AWS": "arn:aws:iam::1:user/u"}}]}}]}
    assert ex.locate(gaad, "arn:aws:iam::1:role/r") == ("RoleDetailList[0]", gaad["RoleDetailList"][0])
    assert ex.locate(gaad, "arn:aws:iam::1:user/u")[0] == "UserDetailList[0]"
    k8s = {"items": [{"metadata": {"name": "admin"}}, {"metadata": {"name": "web", "namespace": "shop"}}]}
    assert ex.locate(k8s, "shop/web")[0] == "items[1]" and ex.locate(k8s, "/admin")[0] == "items[0]"
    assert ex.locate(k8s, "admin")[0] == "items[0]" and ex.locate(k8s, "web")[0] == "items[1]"
    listeners = {"Listeners": [{"ListenerArn": "arn:aws:elasticloadbalancing:r:1:listener/app/lb/abc/f00d"}]}
    assert ex.locate(listeners, "f00d")[0] == "Listeners[0]"
    assert ex.locate({"Policy": "{}"}, "bucket") == ("", None) and ex.locate(k8s, "") == ("", None)


def test_filter_findings_and_overview(world):
    _, findings = world
    df = ex.with_namespace(findings)
    with pytest.raises(ValueError, match="unknown filter"):
        ex.filter_findings(df, {"colour": ["red"]})
    assert ex.status_counts(df) == {"FAIL": 3, "ERROR": 1, "PASS": 1}
    assert ex.severity_counts(df) == {"critical": 1, "high": 2}
    over = ex.cluster_overview(df).set_index("cluster")
    assert list(over.index) == ["alpha", "beta", "(account)"]
    assert over.loc["beta", "FAIL"] == 1 and over.loc["beta", "ERROR"] == 1 and over.loc["beta", "worst failure"] == "high"
    assert over.loc["(account)", "failing checks"] == "IAM-01" and over.loc["alpha", "failing checks"] == "IAM-07"


def test_the_pack_gets_a_static_table_and_the_lab_the_widget():
    """The choice is the notebooks' `interactive` parameter, set by the runner for domain notebooks only."""
    assert runner._static("iam") == {"interactive": False} and runner._static("summary") == {}
    for name in runner.DOMAIN_NOTEBOOKS:
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
        assert "interactive = True" in "".join(params["source"])
        assert any("explore.show_explore(ctx, interactive)" in "".join(c["source"]) for c in nb["cells"]), name
    start = json.loads((ROOT / "notebooks" / "explore.ipynb").read_text())
    assert any("explore.explore(source)" in "".join(c["source"]) for c in start["cells"])
    assert "explore" not in runner.DOMAIN_NOTEBOOKS


WIDGET_TRACES = ("application/vnd.jupyter.widget", "Loading widget", "Error displaying widget")


def test_demo_pack_has_no_widget_and_a_static_table(demo_pack):
    pack, findings = demo_pack
    for page in ("iam.html", "network.html", "logging.html", "images.html"):
        html = (pack / page).read_text(encoding="utf-8")
        assert not [t for t in WIDGET_TRACES if t in html], page
        assert html.count('placeholder="filter findings"') == 1, page
        domain = page.removesuffix(".html")
        some = findings[findings["domain"] == domain].iloc[0]
        assert render.esc(some["resource_id"]) in html
    for nb in (pack / "notebooks").glob("*.ipynb"):
        text = nb.read_text(encoding="utf-8")
        assert not [t for t in WIDGET_TRACES if t in text], nb.name
        if nb.stem in runner.DOMAIN_NOTEBOOKS:
            assert "interactive = False" in text, nb.name  # papermill's injected parameters
    assert not (pack / "explore.html").exists() and not (pack / "notebooks" / "explore.ipynb").exists()


def test_the_explorer_needs_no_server_to_be_built_in_a_plain_kernel(world):
    """explore() works on a kernel with no front end (papermill): the widget is a value, nothing is sent."""
    ev, findings = world
    x = eksaudit.explore(findings, evidence=str(ev.root), page_length=25)
    assert x.table._dt_args["pageLength"] == 25 and "ek-explorer" in x._dom_classes
    assert os.fspath(x.source.evidence.root) == os.fspath(ev.root)


def test_static_table_lists_every_finding_attention_first(world):
    _, findings = world
    html = ex.static_table(findings)
    assert html.count("<tr>") == 1 + len(findings) and 'placeholder="filter findings"' in html
    assert html.index("role/admin") < html.index("payments/Pod/api")  # the critical FAIL before the PASS
    def header(name: str, page: str) -> bool:
        return re.search(rf"<th[^>]*>{name}</th>", page) is not None

    assert header("namespace", html) and header("evidence", html)
    aws_only = findings[findings["resource_type"] != "workload"]
    assert not header("namespace", ex.static_table(aws_only))
    assert ex.static_table(findings.iloc[0:0]) == "<p>No findings.</p>"


def test_past_the_limit_a_page_lists_offenders_and_counts_the_rest(world):
    """A page grows with offenders, not with the estate: passed findings past the limit are counted."""
    _, findings = world
    html = ex.static_table(findings, pass_limit=0)
    assert html.count("<tr>") == 1 + 4  # the header and the four FAIL/ERROR rows
    assert "payments/Pod/api" not in html and "role/admin" in html
    assert "1 passed or not-applicable findings are counted above, not listed here" in html
    assert ex.static_table(findings, pass_limit=1).count("<tr>") == 1 + len(findings)  # at the limit: all
    only_passes = findings[findings["status"] == "PASS"]
    assert "<table" not in ex.static_table(only_passes, pass_limit=0)
    assert 'class="ek-print-only"' in html  # on paper the table is left out, and says so


def test_a_checks_section_lists_offenders_and_counts_passes_per_cluster(world, monkeypatch):
    import eksaudit.notebook as nb

    ev, findings = world
    shown: list[str] = []
    monkeypatch.setattr(nb, "show_html", shown.append)
    ctx = nb.Context("iam", findings[findings["domain"] == "iam"], ev, load(), {})
    nb.show_check(ctx, "IAM-07")
    (html,) = shown
    assert "Offenders (1)" in html and "shop/Pod/web" in html
    assert "Passed or not applicable (1)" in html and "payments/Pod/api" not in html  # counted, not listed
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html.split("Passed or not applicable")[1])
    assert cells[:3] == ["alpha", "1", "workload"]  # cluster, PASS count, resource types

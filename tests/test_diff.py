"""Diff between two packs, and the trend over earlier packs: matching, verification, outputs, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from eksaudit import diff, render, trend
from eksaudit.cli import main
from eksaudit.errors import UserError
from eksaudit.findings import COLUMNS
from eksaudit.pack import write_manifest

ACCOUNT = "111122223333"


def _finding(**kw) -> dict:
    base = dict.fromkeys(COLUMNS, "")
    base.update(account_id=ACCOUNT, region="us-east-1", cluster="c1", domain="iam", check_id="IAM-02",
                title="t", severity="high", status="FAIL", resource_type="user",
                resource_id="arn:aws:iam::111122223333:user/ci", reason="access key 97 days old")
    base.update(kw)
    return base


def _pack(folder: Path, rows: list[dict], run_id: str = "r1", started: str = "2026-03-01T10:00:00+00:00",
          account: str = ACCOUNT) -> Path:
    folder.mkdir(parents=True)
    (folder / "findings.json").write_text(json.dumps(rows), encoding="utf-8")
    run = {"run_id": run_id, "account": account, "started": started}
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    write_manifest(folder, run)
    return folder


def _rows(old: list[dict], new: list[dict]) -> pd.DataFrame:
    return diff.compare(pd.DataFrame(old), pd.DataFrame(new))


def test_a_reworded_reason_is_the_same_finding():
    rows = _rows([_finding()], [_finding(reason="access key 127 days old")])
    assert rows["change"].tolist() == ["unchanged"] and not rows["new_fail"].any()
    assert diff.changes(rows).empty


def test_new_resolved_changed_and_unchanged():
    old = [_finding(), _finding(check_id="IAM-09", resource_id="u/admin"), _finding(check_id="NET-07", status="PASS"),
           _finding(check_id="LOG-01", resource_id="gone")]
    new = [_finding(), _finding(check_id="IAM-09", resource_id="u/admin", status="PASS", reason="MFA on"),
           _finding(check_id="NET-07", status="FAIL", severity="critical"),
           _finding(check_id="IMG-07", resource_id="repo/new", severity="medium", domain="images")]
    rows = _rows(old, new)
    got = {(r.check_id, r.change, r.old_status, r.new_status, r.new_fail, r.fixed) for r in rows.itertuples()}
    assert got == {("IAM-02", "unchanged", "FAIL", "FAIL", False, False),
                   ("IAM-09", "changed", "FAIL", "PASS", False, True),
                   ("NET-07", "changed", "PASS", "FAIL", True, False),
                   ("LOG-01", "resolved", "FAIL", "", False, True),
                   ("IMG-07", "new", "", "FAIL", True, False)}
    assert diff.totals(rows) == {"new": 1, "resolved": 1, "changed": 2, "unchanged": 1, "new_fails": 2,
                                 "fixed_fails": 2}
    assert diff.new_fails(rows, "critical")["check_id"].tolist() == ["NET-07"]
    assert sorted(diff.new_fails(rows, "medium")["check_id"]) == ["IMG-07", "NET-07"]
    by_domain = diff.counts(rows, "domain").set_index("domain")
    assert by_domain.loc["images", "new"] == 1 and by_domain.loc["iam", "new_fails"] == 1


def test_rows_of_one_resource_pair_by_status_then_by_words():
    """A log group with two FAILs, of which one got fixed: one unchanged FAIL, one FAIL -> PASS."""
    key = {"check_id": "LOG-01", "resource_id": "/aws/eks/c1/cluster", "domain": "logging"}
    old = [_finding(**key, reason="no retention set"), _finding(**key, reason="not encrypted with a KMS key")]
    new = [_finding(**key, status="PASS", reason="retention 400 days"),
           _finding(**key, reason="not encrypted with a KMS key")]
    rows = _rows(old, new).sort_values("change")
    assert rows["change"].tolist() == ["changed", "unchanged"]
    changed = rows.iloc[0]
    assert (changed.old_reason, changed.new_reason) == ("no retention set", "retention 400 days")
    two_to_one = _rows(old, [_finding(**key, reason="not encrypted with a KMS key")])
    assert sorted(two_to_one["change"]) == ["resolved", "unchanged"]
    assert two_to_one.set_index("change").loc["resolved", "old_reason"] == "no retention set"


def test_waived_and_expired_waivers_show_as_changes():
    waived = _finding(status="WAIVED", waiver_approver="jane", waiver_expires="2026-04-01")
    to_waived = _rows([_finding()], [waived]).iloc[0]
    assert (to_waived.change, to_waived.new_fail, to_waived.fixed, to_waived.waiver_approver) == \
        ("changed", False, False, "jane")
    expired = _rows([waived], [_finding()]).iloc[0]
    assert expired.change == "changed" and expired.new_fail  # the risk is open again: CI should hear of it


def test_a_pack_against_itself_is_empty_and_exits_0(tmp_path, capsys):
    pack = _pack(tmp_path / "a", [_finding(), _finding(check_id="IAM-09", status="PASS")])
    assert main(["diff", str(pack), str(pack), "--out", str(tmp_path / "d"), "--fail-on", "info"]) == 0
    out = capsys.readouterr().out
    assert "no changes: 2 findings unchanged" in out
    doc = json.loads((tmp_path / "d" / "diff.json").read_text())
    assert doc["changes"] == [] and doc["totals"]["unchanged"] == 2 and doc["format"] == "eksaudit-diff/1"
    assert (tmp_path / "d" / "diff.csv").read_text().strip() == ",".join(diff.ROW_COLUMNS)
    assert "No check changed." in (tmp_path / "d" / "diff.html").read_text()


def test_cli_diff_tables_files_and_fail_on(tmp_path, capsys):
    old = _pack(tmp_path / "old", [_finding(status="PASS")], "r1")
    new = _pack(tmp_path / "new", [_finding(), _finding(check_id="IMG-07", resource_id="r", severity="medium",
                                                        domain="images")], "r2", "2026-04-01T10:00:00+00:00")
    assert main(["diff", str(old), str(new), "--out", str(tmp_path / "d1")]) == 0  # no --fail-on: report only
    out = capsys.readouterr().out
    assert "IAM-02" in out and "total: 1 new, 0 resolved, 1 changed, 0 unchanged; 2 new FAIL(s), 0 fixed" in out
    assert main(["diff", str(old), str(new), "--out", str(tmp_path / "d2"), "--fail-on", "high"]) == 1
    assert "1 new FAIL finding(s) at or above high" in capsys.readouterr().err
    assert main(["diff", str(old), str(new), "--out", str(tmp_path / "d3"), "--fail-on", "critical"]) == 0
    assert main(["diff", str(new), str(old), "--out", str(tmp_path / "d4"), "--fail-on", "info"]) == 0
    csv = (tmp_path / "d1" / "diff.csv").read_text().splitlines()
    assert len(csv) == 3 and csv[0].startswith("account_id,region,cluster,check_id,resource_id")
    html = (tmp_path / "d1" / "diff.html").read_text()
    assert 'href="iam.html' not in html and "Since the last audit" in html  # standalone: no links to pack pages
    assert main(["diff", str(old), str(new), "--fail-on", "severe"]) == 2
    assert "--fail-on must be one of" in capsys.readouterr().err


def test_default_out_is_named_after_both_packs(tmp_path, monkeypatch, capsys):
    old = _pack(tmp_path / "old pack", [_finding()])
    monkeypatch.chdir(tmp_path)
    assert main(["diff", str(old), str(old)]) == 0
    assert (tmp_path / "reports" / "diff-old_pack-old_pack" / "diff.json").is_file()
    assert main(["diff", str(old), str(old)]) == 2  # never overwrites
    assert "output folder already exists" in capsys.readouterr().err


def test_a_changed_pack_is_refused(tmp_path, capsys):
    pack = _pack(tmp_path / "a", [_finding()])
    (pack / "findings.json").write_text(json.dumps([_finding(status="PASS")]))
    assert main(["diff", str(pack), str(pack), "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "does not match its manifest (changed: findings.json)" in err and err.count("\n") == 1
    assert not (tmp_path / "d").exists()
    with pytest.raises(UserError, match="not a pack"):
        diff.read_pack(tmp_path)


def test_names_are_escaped_in_the_page_and_the_terminal(tmp_path, capsys):
    evil = "<script>alert(1)</script>"
    old = _pack(tmp_path / "old", [])
    new = _pack(tmp_path / "new", [_finding(resource_id=evil, check_id="IAM-\x1b[31m")])
    assert main(["diff", str(old), str(new), "--out", str(tmp_path / "d")]) == 0
    assert "\x1b" not in capsys.readouterr().out
    html = (tmp_path / "d" / "diff.html").read_text()
    assert evil not in html and "&lt;script&gt;" in html


def test_different_accounts_are_noted(tmp_path, capsys):
    a = _pack(tmp_path / "a", [_finding()])
    b = _pack(tmp_path / "b", [_finding(account_id="999999999999")], account="999999999999")
    assert main(["diff", str(a), str(b), "--out", str(tmp_path / "d")]) == 0
    assert "different accounts (111122223333 and 999999999999)" in capsys.readouterr().err


def test_trend_reads_earlier_packs_of_the_account_only(tmp_path):
    reports = tmp_path / "reports"
    _pack(reports / "p1", [_finding(), _finding(cluster="c1", check_id="IAM-09", status="PASS")], "r1",
          "2026-01-01T10:00:00+00:00")
    _pack(reports / "p2", [_finding(status="PASS")], "r2", "2026-02-01T10:00:00+00:00")
    _pack(reports / "other", [_finding()], "rx", "2026-02-02T10:00:00+00:00", account="999999999999")
    _pack(reports / "later", [_finding()], "r9", "2026-09-01T10:00:00+00:00")
    bad = _pack(reports / "p3", [_finding()], "r3", "2026-02-15T10:00:00+00:00")
    (bad / "findings.json").write_text("[]")
    out = tmp_path / "new"
    out.mkdir()
    run = {"run_id": "r4", "account": ACCOUNT, "started": "2026-03-01T10:00:00+00:00"}
    record = trend.write(out, reports, run, pd.DataFrame([_finding(), _finding(check_id="IMG-07", domain="images")]))
    assert record["audits"] == 3 and record["skipped"] == ["p3: changed: findings.json"]
    doc = json.loads((out / "trend.json").read_text())
    assert [p["run_id"] for p in doc["points"]] == ["r1", "r2", "r4"]
    labels, fails, share = trend.series(doc)
    assert labels[0] == "2026-01-01 10:00" and fails["iam"] == [1, 0, 1] and fails["images"] == [0, 0, 1]
    assert share == {"c1": [50.0, 100.0, 0.0]}


def test_line_chart_is_escaped_svg_with_gaps():
    svg = render.line_chart(["a", "<b>"], {"<i>x</i>": [1, None], "y": [None, 2]}, "t")
    assert svg.startswith("<svg") and "<i>" not in svg and "&lt;b&gt;" in svg and "&lt;i&gt;x" in svg
    assert render.line_chart([], {}, "t") == "<p>No data.</p>"


def test_standalone_page_keeps_the_csp_and_drops_the_navigation():
    doc = render.standalone_page("T <x>", "<p>body</p>", "sub")
    assert "Content-Security-Policy" in doc and 'href="index.html"' not in doc and "T &lt;x&gt;" in doc


def test_run_refuses_a_bad_baseline_waivers_or_history_before_collecting(tmp_path):
    from eksaudit.runner import run_pack

    def collect(_):
        raise AssertionError("collected although an input was wrong")

    pack = _pack(tmp_path / "old", [_finding()])
    (pack / "run.json").write_text("{}")
    with pytest.raises(UserError, match="--baseline pack .* does not match its manifest"):
        run_pack(tmp_path / "new", collect=collect, baseline=pack)
    with pytest.raises(UserError, match="--history .* is not a folder"):
        run_pack(tmp_path / "new", collect=collect, history=tmp_path / "nowhere")
    (tmp_path / "w.yaml").write_text("waivers:\n  - check: IAM-02\n")
    with pytest.raises(UserError, match="line 2: waiver lacks resource"):
        run_pack(tmp_path / "new", collect=collect, waivers_file=tmp_path / "w.yaml")
    assert not (tmp_path / "new").exists()

"""Waivers: the file's validation (one line with the line number), and what applying them does to findings."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pandas as pd
import pytest

from eksaudit import exports, waivers
from eksaudit.errors import UserError
from eksaudit.findings import COLUMNS, WAIVER_COLUMNS

ROLE = "arn:aws:iam::111122223333:role/legacy-node"
DAY = dt.date(2026, 3, 1)  # the day the evidence was collected

GOOD = """\
# accepted risks
waivers:
  - check: IAM-05
    resource: arn:aws:iam::111122223333:role/legacy-*
    cluster: legacy
    justification: shared until the migration
    approver: jane@example.com
    expires: 2026-03-01
  - check: IMG-07
    resource: repo/[ab]*
    justification: promoted by digest
    approver: sec@example.com
    expires: 2026-02-28
"""


def _write(tmp_path, text: str):
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _finding(**kw) -> dict:
    base = dict.fromkeys(COLUMNS, "")
    base.update(account_id="111122223333", region="us-east-1", cluster="legacy", domain="iam", check_id="IAM-05",
                title="t", severity="medium", status="FAIL", resource_type="node-role", resource_id=ROLE,
                reason="shared")
    base.update(kw)
    return base


def _entry(**kw) -> str:
    fields = {"check": "IAM-05", "resource": ROLE, "justification": "why", "approver": "who",
              "expires": "2026-12-31", **kw}
    return "waivers:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items() if v is not None) + "\n"


def test_a_valid_file_is_read_with_lines_and_digest(tmp_path):
    path = _write(tmp_path, GOOD)
    wf = waivers.load(path)
    assert [w.line for w in wf.waivers] == [3, 9]
    first = wf.waivers[0]
    assert (first.check, first.cluster, first.expires) == ("IAM-05", "legacy", dt.date(2026, 3, 1))
    assert wf.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("text, line, words", [
    (_entry(check="IAM-99"), 2, "unknown check ID 'IAM-99'"),
    (_entry(resource="'arn:aws:iam::1:role/[legacy'"), 3, "unclosed '['"),
    (_entry(resource="'shop/Deployment/[hash:0a1b2c]'"), 3, "changes at every collection"),
    (_entry(resource="''"), 2, "lacks resource"),
    (_entry(cluster="'prod-[x'"), 7, "cluster 'prod-[x' has an unclosed '['"),
    (_entry(approver=None), 2, "lacks approver"),
    (_entry(justification="''", approver=None), 2, "lacks justification, approver"),
    (_entry(expires="31/12/2026"), 6, "expires must be a date written YYYY-MM-DD, got '31/12/2026'"),
    (_entry(expires="2026-02-30"), 6, "got '2026-02-30'"),
    (_entry(expires="'2026-12-31T00:00:00Z'"), 6, "YYYY-MM-DD"),
    (_entry(expiry="2026-12-31"), 7, "unknown field 'expiry'"),
    (_entry(resource="[a, b]"), 3, "resource must be a single value"),
    ("waivers:\n  - check: IAM-05\n    check: IAM-06\n", 3, "check is given twice"),
    ("waivers:\n  - just a string\n", 2, "each waiver is a mapping"),
    ("exceptions:\n  - check: IAM-05\n", 1, "unknown top-level key 'exceptions'"),
    ("- check: IAM-05\n", 1, "expected `waivers:`"),
    ("waivers: [\n", 2, "not valid YAML"),
    ("", 1, "the file is empty"),
])
def test_a_mistake_is_one_line_with_its_line_number(tmp_path, text, line, words):
    with pytest.raises(UserError) as err:
        waivers.load(_write(tmp_path, text))
    message = str(err.value)
    assert f"line {line}:" in message and words in message and "\n" not in message


def test_an_empty_list_is_no_waiver(tmp_path):
    assert waivers.load(_write(tmp_path, "waivers:\n")).waivers == ()


def test_a_missing_or_odd_file_is_refused(tmp_path):
    with pytest.raises(UserError, match="not found"):
        waivers.load(tmp_path / "nope.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"waivers:\n  - check: \xff\n")
    with pytest.raises(UserError, match="not UTF-8"):
        waivers.load(tmp_path / "bin.yaml")


def test_checks_of_a_checks_dir_can_be_waived(tmp_path):
    path = _write(tmp_path, _entry(check="NET-ACME-1"))
    with pytest.raises(UserError, match="unknown check ID"):
        waivers.load(path)
    assert waivers.load(path, known_checks={"NET-ACME-1"}).waivers[0].check == "NET-ACME-1"


@pytest.mark.parametrize("pattern, problem", [
    ("arn:aws:iam::1:role/*", ""), ("repo/[!a]x", ""), ("repo/[]]x", ""), ("a[[]b", ""),
    ("repo/[ab", "unclosed"), ("   ", "is empty"), ("a\tb", "control character"),
])
def test_glob_problems(pattern, problem):
    found = waivers.glob_problem(pattern)
    assert (problem in found) if problem else found == ""


def _apply(rows: list[dict], text: str, tmp_path, day: dt.date = DAY):
    wf = waivers.load(_write(tmp_path, text))
    return waivers.apply(pd.DataFrame(rows), wf, day)


def test_future_past_unused_and_error_entries(tmp_path):
    rows = [_finding(),  # waived by the first entry
            _finding(cluster="other"),  # the first entry names cluster legacy only: stays FAIL
            _finding(check_id="IMG-07", resource_id="repo/alpha", domain="images"),  # its waiver expired
            _finding(check_id="IAM-06", resource_id="c/ns/Deployment/x", status="ERROR", reason="not read")]
    text = (GOOD + "  - check: IAM-06\n    resource: c/ns/*\n    justification: j\n    approver: a\n"
            "    expires: 2027-01-01\n  - check: IAM-09\n    resource: arn:aws:iam::1:user/gone\n"
            "    justification: j\n    approver: a\n    expires: 2027-01-01\n")
    out, record = _apply(rows, text, tmp_path)
    assert list(out["status"]) == ["WAIVED", "FAIL", "FAIL", "ERROR"]  # ERROR stays ERROR: nothing was proven
    assert out.loc[0, WAIVER_COLUMNS].tolist() == ["shared until the migration", "jane@example.com", "2026-03-01"]
    assert (out.loc[1:, WAIVER_COLUMNS] == "").all().all()
    states = {e["line"]: (e["state"], e["findings"]) for e in record["entries"]}
    assert states == {3: ("applied", 1), 9: ("expired", 1), 14: ("unused", 0), 19: ("unused", 0)}
    notes = {e["line"]: e["note"] for e in record["entries"]}
    assert "2026-02-28" in notes[9] and "stay FAIL" in notes[9]
    assert "none FAIL (ERROR)" in notes[14] and notes[19] == "names no finding of this audit"
    assert record["counts"] == {"applied": 1, "expired": 1, "unused": 2} and record["waived_findings"] == 1
    assert record["sha256"] == hashlib.sha256((tmp_path / "waivers.yaml").read_bytes()).hexdigest()


def test_a_waiver_holds_through_its_expiry_day_of_the_collection(tmp_path):
    text = _entry(expires="2026-03-01")
    assert _apply([_finding()], text, tmp_path, dt.date(2026, 3, 1))[0]["status"].tolist() == ["WAIVED"]
    out, record = _apply([_finding()], text, tmp_path, dt.date(2026, 3, 2))
    assert out["status"].tolist() == ["FAIL"] and record["entries"][0]["state"] == "expired"


def test_the_first_matching_waiver_takes_a_finding(tmp_path):
    text = _entry(justification="first") + _entry(justification="second").removeprefix("waivers:\n")
    out, record = _apply([_finding()], text, tmp_path)
    assert out.loc[0, "waiver_justification"] == "first"
    assert [e["state"] for e in record["entries"]] == ["applied", "unused"]
    assert "waived by the entry at line 2" in record["entries"][1]["note"]


def test_account_and_region_narrow_a_waiver(tmp_path):
    rows = [_finding(), _finding(account_id="999999999999"), _finding(region="eu-west-1")]
    out, _ = _apply(rows, _entry(account="'111122223333'", region="us-*"), tmp_path)
    assert out["status"].tolist() == ["WAIVED", "FAIL", "FAIL"]


def test_globs_match_the_whole_resource_id_case_sensitively(tmp_path):
    rows = [_finding(resource_id=ROLE), _finding(resource_id=ROLE + "-2"), _finding(resource_id=ROLE.upper())]
    out, _ = _apply(rows, _entry(resource=ROLE), tmp_path)
    assert out["status"].tolist() == ["WAIVED", "FAIL", "FAIL"]


def test_no_waivers_file_changes_nothing():
    df = pd.DataFrame([_finding()])
    out, record = waivers.apply(df, None, DAY)
    assert record == {} and out["status"].tolist() == ["FAIL"]


def test_exports_carry_the_waiver(tmp_path):
    out, _ = _apply([_finding(), _finding(cluster="other")], _entry(cluster="legacy"), tmp_path)
    exports.write_csv(out, tmp_path / "f.csv")
    exports.write_json(out, tmp_path / "f.json")
    assert (tmp_path / "f.csv").read_text().splitlines()[0].endswith("waiver_justification,waiver_approver,"
                                                                     "waiver_expires")
    rec = json.loads((tmp_path / "f.json").read_text())[0]
    assert (rec["status"], rec["waiver_approver"], rec["waiver_expires"]) == ("WAIVED", "who", "2026-12-31")
    events = exports.ocsf_events(out.assign(run_id="r"))
    waived = next(e for e in events if e["compliance"]["status_code"] == "WAIVED")
    assert waived["status_detail"] == "waived by who until 2026-12-31: why"
    assert waived["status"] == "Suppressed" and waived["unmapped"]["waiver"]["justification"] == "why"
    assert waived["compliance"]["status_detail"] == "shared"  # the finding's own reason stays
    assert "status_detail" not in next(e for e in events if e["compliance"]["status_code"] == "FAIL")

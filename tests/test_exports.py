"""Exports: findings.csv/json keep the findings schema; findings.ocsf.json is valid OCSF Compliance Finding."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from eksaudit import exports
from eksaudit.findings import COLUMNS, STATUSES

# From the OCSF schema (1.3): attributes marked "required" for the Compliance Finding class (2003) — base_event
# (activity_id, category_uid, class_uid, metadata, severity_id, time, type_uid), finding (finding_info),
# compliance_finding (compliance) and the cloud profile (cloud) — and in the objects it uses.
REQUIRED_EVENT = ["activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time", "type_uid",
                  "finding_info", "compliance", "cloud"]
REQUIRED_OBJECT = {
    "metadata": ["product", "version"],
    "metadata.product": ["name"],
    "finding_info": ["uid"],
    "compliance": ["standards"],
    "cloud": ["provider"],
}
# Recommended attributes this exporter promises to fill (what SIEM rules and Security Lake queries key on).
PROMISED = {
    "": ["message", "status", "status_id", "resources", "remediation"],
    "metadata.product": ["vendor_name", "version"],
    "finding_info": ["title", "desc"],
    "compliance": ["control", "requirements", "status", "status_id"],
}
ENUMS = {
    "activity_id": {0, 1, 2, 3, 99},
    "severity_id": {0, 1, 2, 3, 4, 5, 6, 99},
    "status_id": {0, 1, 2, 3, 4, 5, 6, 99},
    "compliance.status_id": {0, 1, 2, 3, 99},
}


def _get(event: dict, dotted: str):
    for part in [p for p in dotted.split(".") if p]:
        event = event[part]
    return event


def assert_valid_ocsf(event: dict) -> None:
    for attr in REQUIRED_EVENT:
        assert event.get(attr) not in (None, "", [], {}), f"required {attr} missing"
    for obj, attrs in {**REQUIRED_OBJECT}.items():
        for attr in attrs:
            assert _get(event, obj).get(attr) not in (None, "", []), f"required {obj}.{attr} missing"
    for obj, attrs in PROMISED.items():
        for attr in attrs:
            assert attr in (_get(event, obj) if obj else event), f"{obj}.{attr} missing"
    assert event["class_uid"] == 2003 and event["category_uid"] == 2
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    for dotted, allowed in ENUMS.items():
        assert _get(event, dotted) in allowed, dotted
    assert isinstance(event["time"], int) and event["time"] > 1_500_000_000_000  # epoch milliseconds
    assert isinstance(event["compliance"]["standards"], list)
    assert event["cloud"]["provider"] == "AWS"
    for res in event["resources"]:
        assert res["uid"] and res["type"]


def _finding(**kw) -> dict:
    base = {c: "" for c in COLUMNS}
    base.update(run_id="r1", account_id="111122223333", region="us-east-1", cluster="c1", domain="iam",
                check_id="IAM-07", title="Containers run as a non-root user", severity="high", status="FAIL",
                resource_type="workload", resource_id="shop/Deployment/web", reason="runAsUser is 0",
                remediation="set runAsNonRoot", evidence="evidence/k8s/c1/pods.json#shop/web")
    base.update(kw)
    return base


def test_demo_ocsf_export_is_valid_and_complete(demo_pack):
    pack, findings = demo_pack
    events = json.loads((pack / "findings.ocsf.json").read_text())
    assert len(events) == len(findings)
    for event in events:
        assert_valid_ocsf(event)
    assert len({e["finding_info"]["uid"] for e in events}) == len(events)
    assert {e["compliance"]["status_code"] for e in events} == set(findings["status"])
    assert any(e["cloud"].get("account", {}).get("uid") == findings["account_id"].iloc[0] for e in events)
    fails = [e for e in events if e["compliance"]["status_code"] == "FAIL"]
    assert fails and all(e["compliance"]["status_id"] == 3 for e in fails)


def test_status_and_severity_mapping():
    rows = [_finding(status=s, resource_id=f"r-{s}", severity=sev)
            for s, sev in zip(STATUSES, ["critical", "high", "medium", "low", "info", "high"])]
    events = exports.ocsf_events(pd.DataFrame(rows), {"finished": "2026-01-02T03:04:05+00:00"})
    by = {e["compliance"]["status_code"]: e for e in events}
    assert by["PASS"]["compliance"]["status_id"] == 1 and by["FAIL"]["compliance"]["status_id"] == 3
    assert by["ERROR"]["compliance"]["status_id"] == 2 and by["MANUAL"]["compliance"]["status_id"] == 2
    assert by["NOT_APPLICABLE"]["compliance"]["status_id"] == 99
    assert by["WAIVED"]["status_id"] == 3 and by["FAIL"]["status_id"] == 1
    assert [e["severity_id"] for e in events] == [5, 4, 3, 2, 1, 4]
    assert events[0]["time"] == 1767323045000
    for e in events:
        assert_valid_ocsf(e)
    assert by["FAIL"]["compliance"]["requirements"][0] == "R-IAM-7"
    assert by["FAIL"]["finding_info"]["desc"]  # the practice, from the catalog


def test_uids_stable_across_runs_and_unique_within_one():
    a = exports.ocsf_events(pd.DataFrame([_finding(run_id="r1")]))
    b = exports.ocsf_events(pd.DataFrame([_finding(run_id="r2", reason="other words")]))
    assert a[0]["finding_info"]["uid"] == b[0]["finding_info"]["uid"]
    twice = exports.ocsf_events(pd.DataFrame([_finding(), _finding(reason="second reason")]))
    assert len({e["finding_info"]["uid"] for e in twice}) == 2


def test_account_level_finding_has_no_region_or_cluster():
    e = exports.ocsf_events(pd.DataFrame([_finding(region="", cluster="", check_id="LOG-02")]))[0]
    assert "region" not in e["cloud"] and "region" not in e["resources"][0]
    assert_valid_ocsf(e)


def test_csv_and_json_keep_the_schema(tmp_path):
    rows = [_finding(), _finding(resource_id="=HYPERLINK(\"http://x\")", reason="+1 <b>bold</b>")]
    df = pd.DataFrame(rows)
    exports.write_csv(df, tmp_path / "f.csv")
    exports.write_json(df, tmp_path / "f.json")
    back = list(csv.DictReader(io.StringIO((tmp_path / "f.csv").read_text())))
    assert list(back[0]) == COLUMNS
    # A spreadsheet would run a cell starting with = or + as a formula: such cells are defused in the CSV only.
    assert back[1]["resource_id"] == "'=HYPERLINK(\"http://x\")" and back[1]["reason"] == "'+1 <b>bold</b>"
    assert back[0]["resource_id"] == "shop/Deployment/web"
    exact = json.loads((tmp_path / "f.json").read_text())
    assert [list(r) for r in exact] == [COLUMNS, COLUMNS]
    assert exact[1]["resource_id"] == rows[1]["resource_id"]


def test_a_table_export_writes_every_value_as_text_and_defuses_formulas(tmp_path):
    df = pd.DataFrame({"image": ["=cmd|' /C calc'!A0:1", "app:1"], "critical": ["", 2], "pushed": [None, "x"]})
    exports.write_table_csv(df, tmp_path / "t.csv")
    back = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert back == [["image", "critical", "pushed"], ["'=cmd|' /C calc'!A0:1", "", ""], ["app:1", "2", "x"]]


@pytest.mark.parametrize("bad", [{"class_uid": 2001}, {"time": "yesterday"}, {"compliance": {}}])
def test_validator_catches_broken_events(bad):
    """Control: the validator above really rejects what it should."""
    event = exports.ocsf_events(pd.DataFrame([_finding()]))[0]
    event.update(bad)
    with pytest.raises((AssertionError, KeyError)):
        assert_valid_ocsf(event)

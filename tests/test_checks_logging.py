"""Logging checks: PASS, FAIL and ERROR fixtures per check."""

from __future__ import annotations

from eksaudit.testing import EvidenceBuilder, findings_for


def _groups(*groups):
    return {"logGroups": [dict(g) for g in groups]}


GOOD_GROUP = {"logGroupName": "/aws/eks/c/cluster", "retentionInDays": 400, "kmsKeyId": "arn:aws:kms:k"}


def test_log01_pass(tmp_path):
    ev = EvidenceBuilder(tmp_path).cluster("c").aws("logs", "DescribeLogGroups", _groups(GOOD_GROUP)).build()
    assert set(findings_for("LOG-01", ev)["status"]) == {"PASS"}


def test_log01_fail_types_retention_kms(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    b.aws("logs", "DescribeLogGroups", _groups({"logGroupName": "/aws/eks/c/cluster", "retentionInDays": 30}))
    f = findings_for("LOG-01", b.build())
    fails = f[f["status"] == "FAIL"]["reason"].tolist()
    assert any("audit, authenticator" in r for r in fails)
    assert any("retention 30 days is under 365" in r for r in fails)
    assert any("not encrypted" in r for r in fails)
    assert "low" in set(f[f["reason"].str.contains("controllerManager")]["severity"])


def test_log01_missing_group_fails(tmp_path):
    ev = EvidenceBuilder(tmp_path).cluster("c").aws("logs", "DescribeLogGroups", _groups()).build()
    f = findings_for("LOG-01", ev)
    assert "does not exist" in f[f["resource_type"] == "log-group"]["reason"].iloc[0]


def test_log01_error_when_log_groups_denied(tmp_path):
    ev = EvidenceBuilder(tmp_path).cluster("c").aws_error("logs", "DescribeLogGroups").build()
    f = findings_for("LOG-01", ev)
    assert "PASS" not in set(f["status"]) and "ERROR" in set(f["status"])


def _trail(name, multi=True, validation=True, home="us-east-1"):
    return {"Name": name, "TrailARN": f"arn:aws:cloudtrail:{home}:1:trail/{name}", "HomeRegion": home,
            "IsMultiRegionTrail": multi, "LogFileValidationEnabled": validation, "S3BucketName": "b"}


def _trails(b, trails, logging=True, selectors=None):
    b.aws("cloudtrail", "DescribeTrails", {"trailList": trails})
    for t in trails:
        b.aws("cloudtrail", "GetTrailStatus", {"IsLogging": logging}, params={"Name": t["TrailARN"]})
        b.aws("cloudtrail", "GetEventSelectors", selectors if selectors is not None else
              {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]},
              params={"TrailName": t["TrailARN"]})
    return b


def test_log02_pass(tmp_path):
    ev = _trails(EvidenceBuilder(tmp_path).cluster("c"), [_trail("t")]).build()
    assert set(findings_for("LOG-02", ev)["status"]) == {"PASS"}


def test_log02_advanced_selectors_count(tmp_path):
    adv = {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}
    ev = _trails(EvidenceBuilder(tmp_path).cluster("c"), [_trail("t")], selectors=adv).build()
    assert set(findings_for("LOG-02", ev)["status"]) == {"PASS"}


def test_log02_fail_stopped_writeonly_no_validation(tmp_path):
    sel = {"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}
    ev = _trails(EvidenceBuilder(tmp_path).cluster("c"), [_trail("t", validation=False)], logging=False,
                 selectors=sel).build()
    f = findings_for("LOG-02", ev)
    trail = f[f["resource_type"] == "trail"]["reason"].iloc[0]
    assert "not logging" in trail and "read events not recorded" in trail and "validation off" in trail
    assert f[f["resource_type"] == "region"]["status"].iloc[0] == "FAIL"


def test_log02_single_region_trail_elsewhere_does_not_cover(tmp_path):
    ev = _trails(EvidenceBuilder(tmp_path).cluster("c"), [_trail("t", multi=False, home="eu-west-1")]).build()
    f = findings_for("LOG-02", ev)
    assert f[f["resource_type"] == "region"]["status"].iloc[0] == "FAIL"


def test_log02_error_when_status_denied(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    t = _trail("t")
    b.aws("cloudtrail", "DescribeTrails", {"trailList": [t]})
    b.aws_error("cloudtrail", "GetTrailStatus", params={"Name": t["TrailARN"]})
    b.aws("cloudtrail", "GetEventSelectors", {"EventSelectors": [{"ReadWriteType": "All"}]},
          params={"TrailName": t["TrailARN"]})
    f = findings_for("LOG-02", b.build())
    assert "PASS" not in set(f["status"]) and "ERROR" in set(f["status"])

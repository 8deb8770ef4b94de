"""Logging checks: PASS, FAIL and ERROR fixtures per check."""

from __future__ import annotations

from eksaudit.testing import EvidenceBuilder, assert_error, findings_for


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
    assert "PASS" not in set(f["status"])
    assert_error(f[f["status"] == "ERROR"], "aws:logs:DescribeLogGroups access denied")


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
    assert "PASS" not in set(f["status"])
    assert_error(f[f["status"] == "ERROR"], "aws:cloudtrail:GetTrailStatus access denied")


# ---- LOG-03 ---------------------------------------------------------------------------------------------

import json  # noqa: E402

from eksaudit.testing import ACCOUNT, cluster_doc, stubbed_evidence  # noqa: E402

PAB_ON = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                             "BlockPublicPolicy": True, "RestrictPublicBuckets": True}}
PRIVATE_ACL = {"Owner": {"ID": "abc"}, "Grants": [{"Grantee": {"ID": "abc", "Type": "CanonicalUser"},
                                                   "Permission": "FULL_CONTROL"}]}
LOCKED = {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}


def _role(name, statements, path="/"):
    return {"RoleName": name, "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}", "Path": path,
            "RolePolicyList": [{"PolicyName": f"{name}-policy",
                                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
            "AttachedManagedPolicies": []}


def _gaad(b, *roles):
    return b.aws("iam", "GetAccountAuthorizationDetails", {"RoleDetailList": list(roles), "UserDetailList": [],
                                                             "GroupDetailList": [], "Policies": []}, region="")


def _bucket(b, name="b", policy=None, acl=None, pab=None, lock=None, versioning=None, deny=(), listed=()):
    """Bucket reads for one trail bucket; `deny` names reads that answer AccessDenied."""
    b.aws("s3", "ListBuckets", {"Buckets": [{"Name": n} for n in listed]}, region="")
    reads = {"GetBucketPolicy": policy or {"__absent__": "NoSuchBucketPolicy"},
             "GetBucketPolicyStatus": {"PolicyStatus": {"IsPublic": False}} if policy else
             {"__absent__": "NoSuchBucketPolicy"},
             "GetBucketAcl": acl or PRIVATE_ACL,
             "GetPublicAccessBlock": pab or {"__absent__": "NoSuchPublicAccessBlockConfiguration"},
             "GetObjectLockConfiguration": lock or {"__absent__": "ObjectLockConfigurationNotFoundError"},
             "GetBucketVersioning": versioning or {}}
    for op, data in reads.items():
        if op in deny:
            b.aws_error("s3", op, params={"Bucket": name})
        else:
            b.aws("s3", op, data, params={"Bucket": name})
    return b


def _log03(tmp_path, trail_kms="arn:aws:kms:k", roles=(), **bucket):
    b = EvidenceBuilder(tmp_path).cluster("c")
    t = {**_trail("t"), "KmsKeyId": trail_kms} if trail_kms else _trail("t")
    b.aws("cloudtrail", "DescribeTrails", {"trailList": [t]})
    _bucket(b, **bucket)
    _gaad(b, *roles)
    return b.build()


def test_log03_pass_bucket_elsewhere_locked_private(tmp_path):
    admin = _role("log-admin", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    slr = _role("AWSServiceRoleForX", [{"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"}],
                path="/aws-service-role/x.amazonaws.com/")
    ev = _log03(tmp_path, roles=(admin, slr), pab=PAB_ON, lock=LOCKED, listed=["unrelated"])
    f = findings_for("LOG-03", ev, {"log_admin_principals": ["arn:aws:iam::*:role/log-admin"]})
    assert set(f["status"]) == {"PASS"}, f[["status", "reason"]]
    assert f[f["resource_id"].str.endswith("role/log-admin")]["reason"].str.contains("log administrator").all()
    assert not f["resource_id"].str.contains("AWSServiceRoleForX").any()
    assert f["reason"].str.contains("kept outside this account").any()


def test_log03_fail_public_acl_local_unlocked_unencrypted_and_tamperers(tmp_path):
    public_acl = {"Owner": {"ID": "abc"}, "Grants": [
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}
    dev = _role("dev", [{"Sid": "Ops", "Effect": "Allow", "Action": "cloudtrail:StopLogging", "Resource": "*"}])
    cleaner = _role("cleaner", [{"Sid": "Tidy", "Effect": "Allow", "Action": "s3:DeleteObject",
                                 "Resource": "arn:aws:s3:::b/AWSLogs/*"}])
    admin = _role("log-admin", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    ev = _log03(tmp_path, trail_kms="", roles=(dev, cleaner, admin), acl=public_acl, listed=["b"])
    f = findings_for("LOG-03", ev, {"log_admin_principals": "arn:aws:iam::*:role/log-admin"})
    fails = f[f["status"] == "FAIL"]
    reasons = " | ".join(fails["reason"])
    assert "ACL grants READ to everyone (AllUsers)" in reasons
    assert "kept in the audited account" in reasons
    assert "neither object lock nor MFA delete" in reasons
    assert "not encrypted with a KMS key" in reasons
    dev_row = fails[fails["resource_id"].str.endswith("role/dev")]["reason"].iloc[0]
    assert "cloudtrail:StopLogging on trail t" in dev_row and "statement Ops" in dev_row
    assert "s3:DeleteObject on logs in b" in fails[fails["resource_id"].str.endswith("role/cleaner")]["reason"].iloc[0]
    assert f[f["resource_id"].str.endswith("role/log-admin")]["status"].tolist() == ["PASS"]
    assert f[f["resource_id"] == "arn:aws:s3:::b"]["severity"].isin(["critical", "medium"]).all()


def test_log03_public_policy_fails_unless_restricted(tmp_path):
    doc = {"Statement": [{"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:Get*",
                          "Resource": "arn:aws:s3:::b/*"}]}
    ev = _log03(tmp_path / "open", policy={"Policy": json.dumps(doc)}, lock=LOCKED)
    f = findings_for("LOG-03", ev)
    assert "statement Open allows s3:GetObject" in " ".join(f[f["status"] == "FAIL"]["reason"])
    doc["Statement"][0]["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}
    ev = _log03(tmp_path / "org", policy={"Policy": json.dumps(doc)}, lock=LOCKED)
    f = findings_for("LOG-03", ev)
    assert not f["reason"].str.contains("publicly readable").any()


def test_log03_bucket_elsewhere_unreadable_is_manual_not_pass(tmp_path):
    reads = ("GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketAcl", "GetPublicAccessBlock",
             "GetObjectLockConfiguration", "GetBucketVersioning")
    ev = _log03(tmp_path, deny=reads, listed=[])
    f = findings_for("LOG-03", ev)
    bucket = f[f["resource_id"] == "arn:aws:s3:::b"]
    assert "ERROR" not in set(f["status"])
    assert bucket["status"].tolist().count("MANUAL") == 2
    assert bucket[bucket["status"] == "MANUAL"]["reason"].str.contains("verify it in the owner account").all()
    assert bucket[bucket["status"] == "PASS"]["reason"].str.contains("outside this account").all()


def test_log03_bucket_here_unreadable_is_error(tmp_path):
    ev = _log03(tmp_path, deny=("GetBucketPolicy",), listed=["b"], lock=LOCKED)
    f = findings_for("LOG-03", ev)
    public = f[(f["resource_id"] == "arn:aws:s3:::b") & f["reason"].str.contains("public access")]
    assert len(public) == 1
    assert_error(public, "could not verify public access", "aws:s3:GetBucketPolicy access denied")


def test_log03_error_when_gaad_denied(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.aws("cloudtrail", "DescribeTrails", {"trailList": [{**_trail("t"), "KmsKeyId": "k"}]})
    _bucket(b, pab=PAB_ON, lock=LOCKED)
    b.aws_error("iam", "GetAccountAuthorizationDetails", region="")
    f = findings_for("LOG-03", b.build())
    assert "PASS" not in set(f["status"])
    assert_error(f[f["status"] == "ERROR"], "aws:iam:GetAccountAuthorizationDetails access denied")


def test_log03_error_when_gaad_missing_from_evidence(tmp_path):
    """No IAM snapshot and no failed read of it: the check itself says who can tamper is unproven, about the
    account (the engine has no failed read to report)."""
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.aws("cloudtrail", "DescribeTrails", {"trailList": [{**_trail("t"), "KmsKeyId": "k"}]})
    _bucket(b, pab=PAB_ON, lock=LOCKED)
    f = findings_for("LOG-03", b.build())
    err = f[f["status"] == "ERROR"]
    assert_error(err, "aws:iam:GetAccountAuthorizationDetails) not collected")
    assert err[["resource_type", "resource_id"]].values.tolist() == [["account", ACCOUNT]]
    assert not f["resource_type"].eq("iam-principal").any()


def test_log03_stubbed_real_shapes(tmp_path):
    """Real S3 answers: absent policy, public access block and object lock are errors that mean 'none'."""
    trail = {**_trail("t"), "TrailARN": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t", "KmsKeyId": "k"}
    gaad_role = {"RoleName": "dev", "Arn": f"arn:aws:iam::{ACCOUNT}:role/dev", "Path": "/", "RoleId": "AROA1234567890EXAMPLE",
                 "CreateDate": "2024-01-01T00:00:00Z", "AssumeRolePolicyDocument": "{}",
                 "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": json.dumps(
                     {"Statement": [{"Effect": "Allow", "Action": "cloudtrail:DeleteTrail", "Resource": "*"}]})}]}
    ev = stubbed_evidence(tmp_path, [
        ("eks", "ListClusters", {"clusters": ["c"]}),
        ("eks", "DescribeCluster", cluster_doc("c")),
        ("iam", "GetAccountAuthorizationDetails", {"RoleDetailList": [gaad_role], "IsTruncated": False}),
        ("cloudtrail", "DescribeTrails", {"trailList": [trail]}),
        ("s3", "ListBuckets", {"Buckets": [{"Name": "b"}], "Owner": {"ID": "abc"}}),
        ("s3", "GetBucketPolicy", {"Error": {"Code": "NoSuchBucketPolicy", "HTTPStatusCode": 404}}),
        ("s3", "GetBucketPolicyStatus", {"Error": {"Code": "NoSuchBucketPolicy", "HTTPStatusCode": 404}}),
        ("s3", "GetBucketAcl", PRIVATE_ACL),
        ("s3", "GetPublicAccessBlock", {"Error": {"Code": "NoSuchPublicAccessBlockConfiguration",
                                                  "HTTPStatusCode": 404}}),
        ("s3", "GetObjectLockConfiguration", {"Error": {"Code": "ObjectLockConfigurationNotFoundError",
                                                        "HTTPStatusCode": 404}}),
        ("s3", "GetBucketVersioning", {"Status": "Enabled", "MFADelete": "Enabled"}),
    ], clusters={"c": "us-east-1"})
    f = findings_for("LOG-03", ev)
    bucket = f[f["resource_id"] == "arn:aws:s3:::b"]
    assert "MFA delete on" in " ".join(bucket[bucket["status"] == "PASS"]["reason"])
    assert "not public" in " ".join(bucket[bucket["status"] == "PASS"]["reason"])
    assert "kept in the audited account" in " ".join(bucket[bucket["status"] == "FAIL"]["reason"])
    dev = f[f["resource_id"].str.endswith("role/dev")]
    assert dev["status"].tolist() == ["FAIL"] and "cloudtrail:DeleteTrail" in dev["reason"].iloc[0]


# ---- LOG-04 ---------------------------------------------------------------------------------------------

def _guardduty(b, detector=None, error=None):
    b.aws("guardduty", "ListDetectors", {"DetectorIds": ["d1"] if detector is not None or error else []})
    if error:
        b.aws_error("guardduty", "GetDetector", params={"DetectorId": "d1"})
    elif detector is not None:
        b.aws("guardduty", "GetDetector", detector, params={"DetectorId": "d1"})
    return b.build()


FULL_GD = {"Status": "ENABLED", "ServiceRole": "r", "Features": [
    {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"},
    {"Name": "RUNTIME_MONITORING", "Status": "ENABLED",
     "AdditionalConfiguration": [{"Name": "EKS_ADDON_MANAGEMENT", "Status": "ENABLED"}]}]}


def test_log04_pass(tmp_path):
    f = findings_for("LOG-04", _guardduty(EvidenceBuilder(tmp_path).cluster("c"), FULL_GD))
    assert set(f["status"]) == {"PASS"} and len(f) == 2


def test_log04_fail_no_detector(tmp_path):
    f = findings_for("LOG-04", _guardduty(EvidenceBuilder(tmp_path).cluster("c")))
    assert f["status"].tolist() == ["FAIL"] and "not enabled in this region" in f["reason"].iloc[0]


def test_log04_fail_features_off_and_manual_agent(tmp_path):
    det = {"Status": "ENABLED", "Features": [{"Name": "EKS_AUDIT_LOGS", "Status": "DISABLED"},
                                             {"Name": "EKS_RUNTIME_MONITORING", "Status": "ENABLED"}]}
    f = findings_for("LOG-04", _guardduty(EvidenceBuilder(tmp_path).cluster("c"), det))
    by = dict(zip(f["resource_id"].str.rsplit("/", n=1).str[-1], f["status"]))
    assert by == {"EKS_AUDIT_LOGS": "FAIL", "RUNTIME_MONITORING": "MANUAL"}


def test_log04_fail_detector_suspended(tmp_path):
    f = findings_for("LOG-04", _guardduty(EvidenceBuilder(tmp_path).cluster("c"), {**FULL_GD, "Status": "DISABLED"}))
    assert f["status"].tolist() == ["FAIL"] and "DISABLED" in f["reason"].iloc[0]


def test_log04_error_when_detector_unreadable(tmp_path):
    f = findings_for("LOG-04", _guardduty(EvidenceBuilder(tmp_path).cluster("c"), error=True))
    assert_error(f, "aws:guardduty:GetDetector access denied")


def test_log04_stubbed_legacy_datasources(tmp_path):
    """An older detector reports EKS audit logs only under DataSources.Kubernetes."""
    ev = stubbed_evidence(tmp_path, [
        ("eks", "ListClusters", {"clusters": ["c"]}),
        ("eks", "DescribeCluster", cluster_doc("c")),
        ("guardduty", "ListDetectors", {"DetectorIds": ["d1"]}),
        ("guardduty", "GetDetector", {"Status": "ENABLED", "ServiceRole": "r", "DataSources": {
            "CloudTrail": {"Status": "ENABLED"}, "DNSLogs": {"Status": "ENABLED"}, "FlowLogs": {"Status": "ENABLED"},
            "S3Logs": {"Status": "ENABLED"}, "Kubernetes": {"AuditLogs": {"Status": "ENABLED"}}}},
         {"DetectorId": "d1"}),
    ], clusters={"c": "us-east-1"})
    f = findings_for("LOG-04", ev)
    by = dict(zip(f["resource_id"].str.rsplit("/", n=1).str[-1], f["status"]))
    assert by == {"EKS_AUDIT_LOGS": "PASS", "RUNTIME_MONITORING": "FAIL"}


# ---- LOG-05 ---------------------------------------------------------------------------------------------

FILTER = {"filterName": "forbidden", "logGroupName": "/aws/eks/c/cluster", "filterPattern": "{ $.x = 403 }",
          "metricTransformations": [{"metricName": "Forbidden", "metricNamespace": "EKS", "metricValue": "1"}]}
ALARM = {"AlarmName": "forbidden-alarm", "MetricName": "Forbidden", "Namespace": "EKS", "ActionsEnabled": True,
         "AlarmActions": ["arn:aws:sns:us-east-1:1:t"]}


def _log05(tmp_path, filters=(), alarms=(), groups=(GOOD_GROUP,)):
    b = EvidenceBuilder(tmp_path).cluster("c").aws("logs", "DescribeLogGroups", _groups(*groups))
    b.aws("logs", "DescribeMetricFilters", {"metricFilters": list(filters)})
    b.aws("cloudwatch", "DescribeAlarms", {"MetricAlarms": list(alarms), "CompositeAlarms": []})
    return findings_for("LOG-05", b.build())


def test_log05_pass_filter_with_alarm(tmp_path):
    f = _log05(tmp_path, [FILTER], [ALARM])
    assert f["status"].tolist() == ["PASS"] and "forbidden-alarm" in f["reason"].iloc[0]


def test_log05_fail_without_filter_or_notifying_alarm(tmp_path):
    f = _log05(tmp_path / "none")
    assert f["status"].tolist() == ["FAIL"] and "no metric filter" in f["reason"].iloc[0]
    f = _log05(tmp_path / "noalarm", [FILTER], [{**ALARM, "AlarmActions": []}])
    assert f["status"].tolist() == ["FAIL"] and "no alarm with actions" in f["reason"].iloc[0]


def test_log05_not_applicable_without_log_group(tmp_path):
    assert _log05(tmp_path, groups=())["status"].tolist() == ["NOT_APPLICABLE"]


def test_log05_error_when_alarms_denied(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c").aws("logs", "DescribeLogGroups", _groups(GOOD_GROUP))
    b.aws("logs", "DescribeMetricFilters", {"metricFilters": [FILTER]})
    b.aws_error("cloudwatch", "DescribeAlarms")
    f = findings_for("LOG-05", b.build())
    assert "PASS" not in set(f["status"])
    assert_error(f[f["status"] == "ERROR"], "aws:cloudwatch:DescribeAlarms access denied")


# ---- coverage view --------------------------------------------------------------------------------------

def test_coverage_view_rows(tmp_path):
    from eksaudit.frames import Frames
    from eksaudit.views.logging import coverage, tamperers

    b = EvidenceBuilder(tmp_path).cluster("c").cluster("d", region="eu-west-1")
    _trails(b, [_trail("t", multi=False)])
    _bucket(b, listed=["b"])
    _gaad(b, _role("dev", [{"Effect": "Allow", "Action": "cloudtrail:StopLogging", "Resource": "*"}]))
    ev = b.build()
    findings = findings_for("LOG-03", ev)
    cov = coverage(Frames(ev), findings)
    eu = cov[cov["region"] == "eu-west-1"]
    assert eu["trail"].iloc[0].startswith("(none")
    us = cov[cov["region"] == "us-east-1"].iloc[0]
    assert (us["trail"], us["logging"], us["bucket"]) == ("t", "yes", "b")
    assert "kept in the audited account" in us["bucket findings"]
    assert tamperers(findings)["principal"].str.endswith("role/dev").any()


def test_the_logging_page_reads_the_runs_coverage_and_adds_its_own_findings(tmp_path, monkeypatch):
    import pandas as pd

    from eksaudit import notebook
    from eksaudit.frames import Frames
    from eksaudit.views import logging as view

    b = EvidenceBuilder(tmp_path / "ev").cluster("c")
    _trails(b, [_trail("t", multi=False)])
    _bucket(b, listed=["b"])
    ev = b.build()
    findings = findings_for("LOG-03", ev)
    shared = view.tables(Frames(ev), findings)[view.COVERAGE]
    assert set(shared["bucket findings"]) == {""}  # the page's own findings fill it
    pd.testing.assert_frame_equal(view.with_bucket_findings(shared, findings), view.coverage(Frames(ev), findings))
    shared.to_pickle(tmp_path / "coverage.pkl")
    shown: list[str] = []
    monkeypatch.setattr(view, "show_html", shown.append)
    notebook.use_shared_findings(str(tmp_path), {}, {view.COVERAGE: str(tmp_path / "coverage.pkl")})
    try:  # no evidence in this context: what is shown comes from the run's copy
        view.show_coverage(notebook.Context("logging", findings, None, {}, {}, str(tmp_path)))
        passed = findings.assign(status="PASS")
        view.show_coverage(notebook.Context("logging", passed, None, {}, {}, str(tmp_path)))
    finally:
        notebook._SHARED.clear()
    assert "kept in the audited account" in shown[0] and "all PASS" in shown[2]


def test_log02_advanced_selector_excluding_eks_does_not_count(tmp_path):
    adv = {"AdvancedEventSelectors": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventSource", "NotEquals": ["eks.amazonaws.com"]}]}]}
    ev = _trails(EvidenceBuilder(tmp_path).cluster("c"), [_trail("t")], selectors=adv).build()
    f = findings_for("LOG-02", ev)
    assert "management read events not recorded" in f[f["resource_type"] == "trail"]["reason"].iloc[0]
    assert f[f["resource_type"] == "region"]["status"].iloc[0] == "FAIL"


def test_log04_error_when_list_detectors_denied(tmp_path):
    ev = EvidenceBuilder(tmp_path).cluster("c").aws_error("guardduty", "ListDetectors").build()
    f = findings_for("LOG-04", ev)
    assert len(f) == 1
    assert_error(f, "aws:guardduty:ListDetectors access denied")


def test_log03_lifecycle_rule_counts_as_tampering(tmp_path):
    ops = _role("ops", [{"Sid": "Expire", "Effect": "Allow", "Action": "s3:PutLifecycle*", "Resource": "arn:aws:s3:::b"}])
    f = findings_for("LOG-03", _log03(tmp_path, roles=(ops,), listed=["b"]))
    row = f[f["resource_id"].str.endswith("role/ops")]
    assert row["status"].tolist() == ["FAIL"] and "s3:PutLifecycleConfiguration on bucket b" in row["reason"].iloc[0]


def test_log03_missing_bucket_fails(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.aws("cloudtrail", "DescribeTrails", {"trailList": [{**_trail("t"), "KmsKeyId": "k"}]})
    b.aws("s3", "ListBuckets", {"Buckets": []}, region="")
    for op in ("GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketAcl", "GetPublicAccessBlock",
               "GetObjectLockConfiguration", "GetBucketVersioning"):
        b.aws_error("s3", op, kind="api-error", code="NoSuchBucket", params={"Bucket": "b"})
    _gaad(b)
    f = findings_for("LOG-03", b.build())
    bucket = f[f["resource_id"] == "arn:aws:s3:::b"]
    assert bucket["status"].tolist() == ["FAIL"] and "does not exist" in bucket["reason"].iloc[0]


def test_log03_statement_without_sid_is_described(tmp_path):
    dev = _role("dev", [{"Effect": "Allow", "Action": ["cloudtrail:Update*"], "Resource": "*"}])
    f = findings_for("LOG-03", _log03(tmp_path, roles=(dev,), pab=PAB_ON, lock=LOCKED))
    reason = f[f["resource_id"].str.endswith("role/dev")]["reason"].iloc[0]
    assert "statement Allow cloudtrail:Update* on *" in reason and "cloudtrail:UpdateTrail" in reason


def test_public_policy_statements_shapes():
    from eksaudit.checks.logging import public_policy_statements

    anyone_but = {"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
                                "NotAction": "s3:PutObject", "Resource": "*"}}
    assert "s3:GetObject" in public_policy_statements(anyone_but)[0]
    service_only = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                   "Action": "s3:*", "Resource": "*"}]}
    assert public_policy_statements(json.dumps(service_only)) == []


# ---- proven for the resource, within the audit scope ------------------------------------------------------


def test_log03_bucket_policy_grant_to_a_local_role_is_tampering(tmp_path):
    """A bucket policy can let a role of this account delete the logs although no identity policy does."""
    doc = {"Statement": [{"Sid": "Cleanup", "Effect": "Allow",
                          "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/janitor"},
                          "Action": "s3:Delete*", "Resource": "arn:aws:s3:::b/*"},
                         {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                          "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}
    janitor = _role("janitor", [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}])
    f = findings_for("LOG-03", _log03(tmp_path, roles=(janitor,), policy={"Policy": json.dumps(doc)},
                                      pab=PAB_ON, lock=LOCKED, listed=["b"]))
    row = f[f["resource_id"].str.endswith("role/janitor")]
    assert row["status"].tolist() == ["FAIL"], f[["resource_id", "status", "reason"]].to_string()
    assert "s3:DeleteObject, s3:DeleteObjectVersion on bucket b" in row["reason"].iloc[0]
    assert "statement Cleanup" in row["reason"].iloc[0] and "SCPs" in row["reason"].iloc[0]
    assert not f["resource_id"].str.endswith(":root").any(), "the account root defers to IAM policies"
    assert "PASS" not in set(f[f["resource_type"] == "account"]["status"])


def test_log03_unread_local_bucket_policy_is_not_a_pass(tmp_path):
    f = findings_for("LOG-03", _log03(tmp_path, deny=("GetBucketPolicy",), listed=["b"], lock=LOCKED))
    account = f[f["resource_type"] == "account"]
    assert account["status"].tolist() == ["ERROR"] and "bucket policy of b" in account["reason"].iloc[0]


def test_log03_pass_names_the_regions_it_proves(tmp_path):
    f = findings_for("LOG-03", _log03(tmp_path, pab=PAB_ON, lock=LOCKED, listed=["b"]))
    account = f[f["resource_type"] == "account"]
    assert account["status"].tolist() == ["PASS"]
    assert "the 1 trail(s) recording us-east-1 (the audited clusters' regions)" in account["reason"].iloc[0]


def test_log02_is_about_the_audited_regions_only(tmp_path):
    """--region narrows LOG-02 to the selected regions' clusters; each region row says which clusters it covers."""
    b = EvidenceBuilder(tmp_path).cluster("c").cluster("d", region="eu-west-1")
    _trails(b, [_trail("t", multi=False)])
    f = findings_for("LOG-02", b.select(regions=["us-east-1"]).build())
    regions = f[f["resource_type"] == "region"]
    assert regions["region"].tolist() == ["us-east-1"] and regions["status"].tolist() == ["PASS"]
    assert "t (this region trail)" in regions["reason"].iloc[0] and "clusters here: c" in regions["reason"].iloc[0]
    everything = findings_for("LOG-02", EvidenceBuilder(tmp_path / "all").cluster("c").cluster(
        "d", region="eu-west-1").aws("cloudtrail", "DescribeTrails", {"trailList": [_trail("t", multi=False)]})
        .build())
    eu = everything[everything["region"] == "eu-west-1"]
    assert set(eu["status"]) == {"FAIL"}, "a single-region trail of us-east-1 does not cover eu-west-1"

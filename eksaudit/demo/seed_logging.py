"""Demo account resources for the logging domain: planted offenders beside their hardened twins.

Weak side: the legacy-weak cluster logs only `api` to a group without retention; a single-region trail without
log file validation writes to a bucket of this account with a public-read policy; a second trail is stopped; a
developer role may stop trails. Hardened side: an organization-style multi-region trail, KMS-encrypted, writing to
a bucket held by a separate log account (111122223333, reached the way moto supports: AssumeRole into it), with
the public access block on and object lock; prod-hardened's log group has a metric filter and an alarm.
GuardDuty is account- and region-wide, so it has one state here: EKS audit-log monitoring on, runtime
monitoring off.
"""

from __future__ import annotations

import json

import boto3

from .account import ACCOUNT, HARDENED, REGION, WEAK, DemoAccount

LOG_ACCOUNT = "111122223333"
DEVELOPER_ROLE = "developer-trail-ops"


def _log_account_s3(acct: DemoAccount):
    """An S3 client acting as the separate log account."""
    creds = acct.client("sts").assume_role(RoleArn=f"arn:aws:iam::{LOG_ACCOUNT}:role/log-archive-admin",
                                           RoleSessionName="demo-seed")["Credentials"]
    return boto3.client("s3", region_name=REGION, endpoint_url=acct.endpoint_url,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def seed(acct: DemoAccount) -> None:
    logs, kms, s3, ct = acct.client("logs"), acct.client("kms"), acct.client("s3"), acct.client("cloudtrail")
    logs.create_log_group(logGroupName=f"/aws/eks/{WEAK}/cluster")
    key = kms.create_key(Description="log encryption")["KeyMetadata"]["Arn"]
    hardened_group = f"/aws/eks/{HARDENED}/cluster"
    logs.create_log_group(logGroupName=hardened_group, kmsKeyId=key)
    logs.put_retention_policy(logGroupName=hardened_group, retentionInDays=400)

    # Weak: trail buckets in this account; one readable by anyone.
    for bucket in ("legacy-trail-logs", "stopped-trail-logs"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket="legacy-trail-logs", Policy=_policy(
        {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": "arn:aws:s3:::legacy-trail-logs/AWSLogs/*"},
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::legacy-trail-logs/*"}))

    # Hardened: the bucket lives in the log account, locked and private.
    org_bucket = "audit-org-trail-logs"
    log_s3 = _log_account_s3(acct)
    log_s3.create_bucket(Bucket=org_bucket, ObjectLockEnabledForBucket=True)
    log_s3.put_public_access_block(Bucket=org_bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    log_s3.put_bucket_policy(Bucket=org_bucket, Policy=_policy(
        {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{org_bucket}/AWSLogs/*"}))

    ct.create_trail(Name="legacy-trail", S3BucketName="legacy-trail-logs", IsMultiRegionTrail=False,
                    EnableLogFileValidation=False)
    ct.start_logging(Name="legacy-trail")
    ct.create_trail(Name="stopped-trail", S3BucketName="stopped-trail-logs", IsMultiRegionTrail=True,
                    EnableLogFileValidation=True)
    # moto answers no selectors for a trail created without them; AWS answers this default.
    for name in ("legacy-trail", "stopped-trail"):
        ct.put_event_selectors(TrailName=name, EventSelectors=[
            {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    ct.create_trail(Name="org-audit-trail", S3BucketName=org_bucket, IsMultiRegionTrail=True,
                    IsOrganizationTrail=True, EnableLogFileValidation=True, KmsKeyId=key)
    ct.put_event_selectors(TrailName="org-audit-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    ct.start_logging(Name="org-audit-trail")

    # Weak: a developer role that may switch the trails off.
    iam = acct.client("iam")
    trust = _policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                     "Action": "sts:AssumeRole"})
    iam.create_role(RoleName=DEVELOPER_ROLE, AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName=DEVELOPER_ROLE, PolicyName="trail-operations", PolicyDocument=_policy(
        {"Sid": "QuietenNoisyTrails", "Effect": "Allow", "Resource": "*",
         "Action": ["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:StopLogging"]}))

    # Hardened: an alarm on forbidden requests in prod-hardened's audit log.
    logs.put_metric_filter(logGroupName=hardened_group, filterName="forbidden-requests",
                           filterPattern="{ $.responseStatus.code = 403 }",
                           metricTransformations=[{"metricName": "ForbiddenRequests",
                                                   "metricNamespace": "EKS/prod-hardened", "metricValue": "1"}])
    topic = acct.client("sns").create_topic(Name="security-alerts")["TopicArn"]
    acct.client("cloudwatch").put_metric_alarm(
        AlarmName="prod-hardened-forbidden-requests", MetricName="ForbiddenRequests",
        Namespace="EKS/prod-hardened", Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=10,
        ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])

    # GuardDuty (one state for the whole region): audit-log monitoring on, runtime monitoring off.
    acct.client("guardduty").create_detector(Enable=True, Features=[
        {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"}, {"Name": "RUNTIME_MONITORING", "Status": "DISABLED"}])


# What the demo team can fix before a second audit (`eksaudit demo --fixed NAME`): applied after seeding.
FIXES = {"log-retention": "legacy-weak's control-plane log group keeps its logs 400 days"}


def fix(acct: DemoAccount, name: str) -> None:
    if name == "log-retention":
        acct.client("logs").put_retention_policy(logGroupName=f"/aws/eks/{WEAK}/cluster", retentionInDays=400)


def k8s_objects() -> dict[str, list[dict]]:
    """Extra Kubernetes objects per cluster for this domain."""
    return {WEAK: [], HARDENED: []}

"""Demo account resources for the logging domain: planted offenders beside their hardened twins."""

from __future__ import annotations

import json  # noqa: F401

from .account import ACCOUNT, HARDENED, PLANTED_SECRETS, REGION, WEAK, DemoAccount  # noqa: F401


def seed(acct: DemoAccount) -> None:
    logs, kms, s3, ct = acct.client("logs"), acct.client("kms"), acct.client("s3"), acct.client("cloudtrail")
    logs.create_log_group(logGroupName=f"/aws/eks/{WEAK}/cluster")
    key = kms.create_key(Description="log encryption")["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName=f"/aws/eks/{HARDENED}/cluster", kmsKeyId=key)
    logs.put_retention_policy(logGroupName=f"/aws/eks/{HARDENED}/cluster", retentionInDays=400)
    for bucket in ("legacy-trail-logs", "audit-org-trail-logs", "stopped-trail-logs"):
        s3.create_bucket(Bucket=bucket)
    ct.create_trail(Name="legacy-trail", S3BucketName="legacy-trail-logs", IsMultiRegionTrail=False,
                    EnableLogFileValidation=False)
    ct.start_logging(Name="legacy-trail")
    ct.create_trail(Name="stopped-trail", S3BucketName="stopped-trail-logs", IsMultiRegionTrail=True,
                    EnableLogFileValidation=True)
    ct.create_trail(Name="org-audit-trail", S3BucketName="audit-org-trail-logs", IsMultiRegionTrail=True,
                    EnableLogFileValidation=True, KmsKeyId=key)
    ct.put_event_selectors(TrailName="org-audit-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    ct.start_logging(Name="org-audit-trail")


def k8s_objects() -> dict[str, list[dict]]:
    """Extra Kubernetes objects per cluster for this domain."""
    return {WEAK: [], HARDENED: []}

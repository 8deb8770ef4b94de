"""Frames for the logging domain: CloudWatch log groups and CloudTrail trails."""

from __future__ import annotations

import pandas as pd

from . import Frames, frame
from .core import ref


@frame("log_groups", ["aws:logs:DescribeLogGroups"])
def log_groups(f: Frames) -> pd.DataFrame:
    """One row per log group: account_id, region, name, retention_days (None: never expires), kms_key_id, evidence."""
    rows = []
    for entry, data in f.evidence.responses("aws:logs:DescribeLogGroups"):
        for g in data.get("logGroups", []):
            rows.append({"account_id": entry["account"], "region": entry["region"], "name": g.get("logGroupName", ""),
                         "retention_days": g.get("retentionInDays"), "kms_key_id": g.get("kmsKeyId", ""),
                         "evidence": ref(entry, g.get("logGroupName", ""))})
    return pd.DataFrame(rows, columns=["account_id", "region", "name", "retention_days", "kms_key_id", "evidence"])


def _selectors(data: dict) -> tuple[bool, bool]:
    """(records management reads, records management writes) from basic or advanced event selectors."""
    reads = writes = False
    for s in data.get("EventSelectors") or []:
        if s.get("IncludeManagementEvents", True):
            rw = s.get("ReadWriteType", "All")
            reads |= rw in ("All", "ReadOnly")
            writes |= rw in ("All", "WriteOnly")
    for s in data.get("AdvancedEventSelectors") or []:
        fields = {fs.get("Field"): fs for fs in s.get("FieldSelectors") or []}
        if "Management" not in ((fields.get("eventCategory") or {}).get("Equals") or []):
            continue
        ro = (fields.get("readOnly") or {}).get("Equals")
        reads |= not ro or "true" in ro
        writes |= not ro or "false" in ro
    return reads, writes


@frame("trails", ["aws:cloudtrail:DescribeTrails", "aws:cloudtrail:GetTrailStatus",
                  "aws:cloudtrail:GetEventSelectors"])
def trails(f: Frames) -> pd.DataFrame:
    """One row per trail (deduplicated by ARN): account_id, name, arn, home_region, multi_region, organization,
    log_validation, bucket, kms_key_id, is_logging (None: status not read), mgmt_reads, mgmt_writes
    (None: selectors not read), seen_in (regions whose DescribeTrails listed it), evidence."""
    ev = f.evidence
    status = {e["params"].get("Name"): d for e, d in ev.responses("aws:cloudtrail:GetTrailStatus")}
    selectors = {e["params"].get("TrailName"): d for e, d in ev.responses("aws:cloudtrail:GetEventSelectors")}
    rows: dict[str, dict] = {}
    for entry, data in ev.responses("aws:cloudtrail:DescribeTrails"):
        for t in data.get("trailList", []):
            arn = t.get("TrailARN", "")
            if arn in rows:
                rows[arn]["seen_in"].append(entry["region"])
                continue
            sel = selectors.get(arn)
            reads, writes = _selectors(sel) if sel is not None else (None, None)
            st = status.get(arn)
            rows[arn] = {
                "account_id": entry["account"], "name": t.get("Name", ""), "arn": arn,
                "home_region": t.get("HomeRegion", entry["region"]), "multi_region": bool(t.get("IsMultiRegionTrail")),
                "organization": bool(t.get("IsOrganizationTrail")),
                "log_validation": bool(t.get("LogFileValidationEnabled")), "bucket": t.get("S3BucketName", ""),
                "kms_key_id": t.get("KmsKeyId", ""), "is_logging": None if st is None else bool(st.get("IsLogging")),
                "mgmt_reads": reads, "mgmt_writes": writes, "seen_in": [entry["region"]],
                "evidence": ref(entry, t.get("Name", "")),
            }
    cols = ["account_id", "name", "arn", "home_region", "multi_region", "organization", "log_validation", "bucket",
            "kms_key_id", "is_logging", "mgmt_reads", "mgmt_writes", "seen_in", "evidence"]
    return pd.DataFrame(list(rows.values()), columns=cols)

"""Frames for the logging domain: CloudWatch log groups and CloudTrail trails."""

from __future__ import annotations

import pandas as pd

from ..collect.steps.logging import (
    DESCRIBE_ALARMS,
    DESCRIBE_LOG_GROUPS,
    DESCRIBE_METRIC_FILTERS,
    DESCRIBE_TRAILS,
    GET_BUCKET_ACL,
    GET_BUCKET_POLICY,
    GET_BUCKET_POLICY_STATUS,
    GET_BUCKET_VERSIONING,
    GET_DETECTOR,
    GET_EVENT_SELECTORS,
    GET_OBJECT_LOCK_CONFIGURATION,
    GET_PUBLIC_ACCESS_BLOCK,
    GET_TRAIL_STATUS,
    LIST_BUCKETS,
    LIST_DETECTORS,
)
from . import Frames, frame
from .core import ref


@frame("log_groups", [DESCRIBE_LOG_GROUPS])
def log_groups(f: Frames) -> pd.DataFrame:
    """One row per log group: account_id, region, name, retention_days (None: never expires), kms_key_id, evidence."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_LOG_GROUPS):
        for g in data.get("logGroups", []):
            rows.append({"account_id": entry["account"], "region": entry["region"], "name": g.get("logGroupName", ""),
                         "retention_days": g.get("retentionInDays"), "kms_key_id": g.get("kmsKeyId", ""),
                         "evidence": ref(entry, g.get("logGroupName", ""))})
    return pd.DataFrame(rows, columns=["account_id", "region", "name", "retention_days", "kms_key_id", "evidence"])


EKS_SOURCE = "eks.amazonaws.com"


def _keeps_eks(field: dict | None) -> bool:
    """Whether an advanced selector's eventSource condition lets EKS API events through."""
    if not field:
        return True
    v = EKS_SOURCE
    tests = [
        ("Equals", lambda xs: v in xs), ("NotEquals", lambda xs: v not in xs),
        ("StartsWith", lambda xs: any(v.startswith(x) for x in xs)),
        ("NotStartsWith", lambda xs: not any(v.startswith(x) for x in xs)),
        ("EndsWith", lambda xs: any(v.endswith(x) for x in xs)),
        ("NotEndsWith", lambda xs: not any(v.endswith(x) for x in xs)),
    ]
    return all(ok(field[op]) for op, ok in tests if field.get(op))


def _selectors(data: dict) -> tuple[bool, bool]:
    """(records EKS management reads, records EKS management writes) from basic or advanced event selectors.

    Basic selectors cannot exclude EKS (only KMS and RDS Data API may be excluded); an advanced selector can,
    through its eventSource field, so such a selector does not count.
    """
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
        if not _keeps_eks(fields.get("eventSource")):
            continue
        ro = (fields.get("readOnly") or {}).get("Equals")
        reads |= not ro or "true" in ro
        writes |= not ro or "false" in ro
    return reads, writes


@frame("trails", [DESCRIBE_TRAILS, GET_TRAIL_STATUS,
                  GET_EVENT_SELECTORS])
def trails(f: Frames) -> pd.DataFrame:
    """One row per trail (deduplicated by ARN): the trail_configs columns (account_id, name, arn, home_region,
    multi_region, organization, log_validation, bucket, bucket_prefix, kms_key_id, cw_log_group_arn, seen_in,
    evidence) plus is_logging (None: status not read), mgmt_reads, mgmt_writes (EKS management events recorded;
    None: selectors not read)."""
    ev = f.evidence
    status = {e["params"].get("Name"): d for e, d in ev.responses(GET_TRAIL_STATUS)}
    selectors = {e["params"].get("TrailName"): d for e, d in ev.responses(GET_EVENT_SELECTORS)}
    out = f.trail_configs.copy()
    logging, reads, writes = [], [], []
    for arn in out["arn"]:
        st, sel = status.get(arn), selectors.get(arn)
        logging.append(None if st is None else bool(st.get("IsLogging")))
        r, w = _selectors(sel) if sel is not None else (None, None)
        reads.append(r)
        writes.append(w)
    out["is_logging"] = pd.Series(logging, index=out.index, dtype=object)
    out["mgmt_reads"] = pd.Series(reads, index=out.index, dtype=object)
    out["mgmt_writes"] = pd.Series(writes, index=out.index, dtype=object)
    return out


TRAIL_COLS = ["account_id", "name", "arn", "home_region", "multi_region", "organization", "log_validation",
              "bucket", "bucket_prefix", "kms_key_id", "cw_log_group_arn", "seen_in", "evidence"]


@frame("trail_configs", [DESCRIBE_TRAILS])
def trail_configs(f: Frames) -> pd.DataFrame:
    """The trails as DescribeTrails shows them, without status or selectors, for checks that need only the
    configuration (so a failed GetTrailStatus does not block them): the `trails` columns from DescribeTrails
    plus bucket_prefix and cw_log_group_arn."""
    rows: dict[str, dict] = {}
    for entry, data in f.evidence.responses(DESCRIBE_TRAILS):
        for t in data.get("trailList", []):
            arn = t.get("TrailARN", "")
            if arn in rows:
                rows[arn]["seen_in"].append(entry["region"])
                continue
            rows[arn] = {
                "account_id": entry["account"], "name": t.get("Name", ""), "arn": arn,
                "home_region": t.get("HomeRegion", entry["region"]), "multi_region": bool(t.get("IsMultiRegionTrail")),
                "organization": bool(t.get("IsOrganizationTrail")),
                "log_validation": bool(t.get("LogFileValidationEnabled")), "bucket": t.get("S3BucketName", ""),
                "bucket_prefix": t.get("S3KeyPrefix", ""), "kms_key_id": t.get("KmsKeyId", ""),
                "cw_log_group_arn": t.get("CloudWatchLogsLogGroupArn", ""), "seen_in": [entry["region"]],
                "evidence": ref(entry, t.get("Name", "")),
            }
    return pd.DataFrame(list(rows.values()), columns=TRAIL_COLS)


def audited_by_region(f: Frames) -> dict[str, list[str]]:
    """Region -> the audited clusters there (sorted): the regions whose trails and detectors a verdict is about
    (the clusters frame lists every cluster of the account; the others' regions were not read)."""
    out: dict[str, list[str]] = {}
    for c in f.clusters[f.clusters["audited"]].itertuples(index=False):
        out.setdefault(c.region, []).append(c.cluster)
    return {r: sorted(n) for r, n in out.items()}


def covering(trails: pd.DataFrame, regions: list[str]) -> pd.DataFrame:
    """The trails that record some of the given regions: multi-region ones and those whose home is there."""
    if trails.empty:
        return trails
    return trails[trails["multi_region"] | trails["home_region"].isin(regions)]


BUCKET_READS = {
    "policy": GET_BUCKET_POLICY,
    "policy_status": GET_BUCKET_POLICY_STATUS,
    "acl": GET_BUCKET_ACL,
    "public_access_block": GET_PUBLIC_ACCESS_BLOCK,
    "object_lock": GET_OBJECT_LOCK_CONFIGURATION,
    "versioning": GET_BUCKET_VERSIONING,
}


def _bucket_reads(f: Frames, key: str) -> tuple[dict[str, tuple[dict, dict]], dict[str, dict]]:
    """bucket -> (entry, data) of a successful read; bucket -> error entry for buckets never read successfully."""
    ok: dict[str, tuple[dict, dict]] = {}
    for entry, data in f.evidence.responses(key):
        ok.setdefault(entry["params"].get("Bucket", ""), (entry, data))
    failed = {e["params"].get("Bucket", ""): e for e in f.evidence.errors(key)}
    return ok, {b: e for b, e in failed.items() if b not in ok}


# Bucket reads are soft inputs: a bucket held by another account answers AccessDenied by design, so a failure must
# not turn every verdict in the region into ERROR; the frame records per bucket what was read, what was absent
# and why a read failed, and the checks decide per row.
@frame("trail_buckets", [DESCRIBE_TRAILS], soft_inputs=[*BUCKET_READS.values(), LIST_BUCKETS])
def trail_buckets(f: Frames) -> pd.DataFrame:
    """One row per S3 bucket a trail writes to: account_id, bucket, arn, trails (trail ARNs), in_account (True:
    listed by ListBuckets; False: not listed, so held by another account; None: ListBuckets failed),
    exists (False when S3 answered NoSuchBucket), owner (who holds it, in words), then per read in BUCKET_READS (policy, policy_status, acl,
    public_access_block, object_lock, versioning) the response (None when the read failed; {"__absent__": code}
    when AWS says there is none) and <read>_error (the failure cause, "" when read), and evidence."""
    from ..collect.faults import describe

    ev = f.evidence
    listed = ev.responses(LIST_BUCKETS)
    owned = {b.get("Name") for _, d in listed for b in d.get("Buckets") or []} if listed else None
    reads = {name: _bucket_reads(f, key) for name, key in BUCKET_READS.items()}
    list_error = "; ".join(describe(e.get("error", {})) for e in ev.errors(LIST_BUCKETS))
    rows: dict[str, dict] = {}
    for t in f.trail_configs.itertuples(index=False):
        if not t.bucket:
            continue
        row = rows.get(t.bucket)
        if row is not None:
            row["trails"].append(t.arn)
            continue
        in_account = None if owned is None else t.bucket in owned
        trail_account = t.arn.split(":")[4] if t.arn.count(":") >= 5 else ""
        # Bucket names are global: NoSuchBucket means no account holds it (a bucket held elsewhere answers 403).
        missing = not in_account and any(e.get("error", {}).get("code") == "NoSuchBucket"
                                         for _, failed in reads.values() for b, e in failed.items() if b == t.bucket)
        if missing:
            owner = "nobody: S3 answered NoSuchBucket"
        elif in_account is None:
            owner = f"unknown: {LIST_BUCKETS} {list_error or 'not collected'}"
        elif in_account:
            owner = f"this account ({t.account_id})"
        else:
            hit = reads["acl"][0].get(t.bucket)
            who = (hit[1].get("Owner") or {}) if hit else {}
            owner = "another account" + (f" (trail owned by {trail_account})"
                                          if trail_account and trail_account != t.account_id else "")
            owner += (f", bucket owner {who.get('DisplayName') or who.get('ID')}" if who
                      else ", not among this account's buckets")
        row = {"account_id": t.account_id, "bucket": t.bucket, "arn": f"arn:aws:s3:::{t.bucket}",
               "trails": [t.arn], "in_account": in_account, "exists": not missing, "owner": owner,
               "evidence": t.evidence}
        for name, (ok, failed) in reads.items():
            hit = ok.get(t.bucket)
            row[name] = hit[1] if hit else None
            if hit and name == "policy":
                row["evidence"] = ref(hit[0], t.bucket)
            err = failed.get(t.bucket)
            row[f"{name}_error"] = "" if hit else (describe(err.get("error", {})) if err else "not collected")
        rows[t.bucket] = row
    cols = ["account_id", "bucket", "arn", "trails", "in_account", "exists", "owner"]
    for name in BUCKET_READS:
        cols += [name, f"{name}_error"]
    return pd.DataFrame(list(rows.values()), columns=cols + ["evidence"])


def _feature(features: list[dict], name: str) -> dict | None:
    return next((x for x in features if x.get("Name") == name), None)


@frame("guardduty_detectors", [LIST_DETECTORS, GET_DETECTOR])
def guardduty_detectors(f: Frames) -> pd.DataFrame:
    """One row per region GuardDuty was asked about: account_id, region, detector_id ("" when the region has no
    detector), status (ENABLED/DISABLED, "" without detector), eks_audit_logs, runtime_monitoring (the feature
    status: RUNTIME_MONITORING, else EKS_RUNTIME_MONITORING), eks_addon_management (the agent add-on managed by
    GuardDuty for EKS), evidence. Feature statuses fall back to the legacy DataSources.Kubernetes.AuditLogs and
    are "" when the detector does not report them."""
    ev = f.evidence
    details = {e["params"].get("DetectorId"): (e, d) for e, d in ev.responses(GET_DETECTOR)}
    rows = []
    for entry, data in ev.responses(LIST_DETECTORS):
        ids = data.get("DetectorIds") or []
        if not ids:
            rows.append({"account_id": entry["account"], "region": entry["region"], "detector_id": "", "status": "",
                         "eks_audit_logs": "", "runtime_monitoring": "", "eks_addon_management": "",
                         "evidence": ref(entry)})
        for det in ids:
            e2, d = details.get(det, (entry, None))
            if d is None:
                rows.append({"account_id": entry["account"], "region": entry["region"], "detector_id": det,
                             "status": None, "eks_audit_logs": None, "runtime_monitoring": None,
                             "eks_addon_management": None, "evidence": ref(entry, det)})
                continue
            feats = d.get("Features") or []
            audit = (_feature(feats, "EKS_AUDIT_LOGS") or {}).get("Status") or \
                (((d.get("DataSources") or {}).get("Kubernetes") or {}).get("AuditLogs") or {}).get("Status", "")
            runtime = _feature(feats, "RUNTIME_MONITORING") or _feature(feats, "EKS_RUNTIME_MONITORING") or {}
            addon = next((c.get("Status", "") for c in runtime.get("AdditionalConfiguration") or []
                          if c.get("Name") == "EKS_ADDON_MANAGEMENT"), "")
            rows.append({"account_id": entry["account"], "region": entry["region"], "detector_id": det,
                         "status": d.get("Status", ""), "eks_audit_logs": audit,
                         "runtime_monitoring": runtime.get("Status", ""), "eks_addon_management": addon,
                         "evidence": ref(e2, det)})
    return pd.DataFrame(rows, columns=["account_id", "region", "detector_id", "status", "eks_audit_logs",
                                       "runtime_monitoring", "eks_addon_management", "evidence"])


@frame("metric_filters", [DESCRIBE_METRIC_FILTERS])
def metric_filters(f: Frames) -> pd.DataFrame:
    """One row per metric filter and metric it feeds: account_id, region, log_group, name, pattern, metric
    (namespace/name, "" when it feeds none), evidence."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_METRIC_FILTERS):
        for m in data.get("metricFilters") or []:
            base = {"account_id": entry["account"], "region": entry["region"], "log_group": m.get("logGroupName", ""),
                    "name": m.get("filterName", ""), "pattern": m.get("filterPattern", ""),
                    "evidence": ref(entry, m.get("filterName", ""))}
            metrics = m.get("metricTransformations") or []
            for t in metrics:
                rows.append({**base, "metric": f"{t.get('metricNamespace', '')}/{t.get('metricName', '')}"})
            if not metrics:
                rows.append({**base, "metric": ""})
    return pd.DataFrame(rows, columns=["account_id", "region", "log_group", "name", "pattern", "metric", "evidence"])


@frame("alarms", [DESCRIBE_ALARMS])
def alarms(f: Frames) -> pd.DataFrame:
    """One row per metric alarm and metric it watches: account_id, region, name, metric (namespace/name),
    actions_enabled, has_actions (some alarm action set), evidence. Metric-math alarms give a row per metric."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_ALARMS):
        for a in data.get("MetricAlarms") or []:
            metrics = []
            if a.get("MetricName"):
                metrics.append(f"{a.get('Namespace', '')}/{a['MetricName']}")
            for q in a.get("Metrics") or []:
                m = ((q.get("MetricStat") or {}).get("Metric")) or {}
                if m.get("MetricName"):
                    metrics.append(f"{m.get('Namespace', '')}/{m['MetricName']}")
            for metric in metrics:
                rows.append({"account_id": entry["account"], "region": entry["region"], "name": a.get("AlarmName", ""),
                             "metric": metric, "actions_enabled": bool(a.get("ActionsEnabled", True)),
                             "has_actions": bool(a.get("AlarmActions")), "evidence": ref(entry, a.get("AlarmName", ""))})
    return pd.DataFrame(rows, columns=["account_id", "region", "name", "metric", "actions_enabled", "has_actions",
                                       "evidence"])

"""Auditing and monitoring domain checks."""

from __future__ import annotations

import pandas as pd

from ..frames import Frames
from . import check

KEY_LOG_TYPES = ["api", "audit", "authenticator"]
OTHER_LOG_TYPES = ["controllerManager", "scheduler"]


@check("LOG-01", domain="logging", title="EKS control-plane logs go to CloudWatch", severity="high",
       requirement="R-LOG-1", frames=("clusters", "log_groups"), params={"log_retention_days": 365},
       practice="The api, audit and authenticator control-plane logs (and ideally controllerManager and scheduler) "
                "are sent to a CloudWatch log group that is kept long enough and encrypted with KMS.",
       rationale="Without audit and authenticator logs nobody can tell who did what in the cluster; logs that "
                 "expire early or sit unencrypted fail incident response and compliance.",
       remediation="aws eks update-cluster-config --logging "
                   "'{\"clusterLogging\":[{\"types\":[\"api\",\"audit\",\"authenticator\",\"controllerManager\","
                   "\"scheduler\"],\"enabled\":true}]}'; set the log group's retention and KMS key.",
       references={"cis_eks": "2.1.1", "securityhub": "EKS.8", "prowler": "eks_control_plane_logging_all_types_enabled"})
def log_01(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    groups = {(g.region, g.name): g for g in f.log_groups.itertuples(index=False)}
    for c in f.clusters.itertuples(index=False):
        base = {"account_id": c.account_id, "region": c.region, "cluster": c.cluster}
        missing = [t for t in KEY_LOG_TYPES if t not in c.log_types_enabled]
        rows.append({**base, "resource_type": "cluster", "resource_id": c.arn, "evidence": c.evidence,
                     "status": "FAIL" if missing else "PASS",
                     "reason": ("log types disabled: " + ", ".join(missing)) if missing
                     else "api, audit and authenticator logs enabled"})
        other = [t for t in OTHER_LOG_TYPES if t not in c.log_types_enabled]
        if other:
            rows.append({**base, "resource_type": "cluster", "resource_id": c.arn, "evidence": c.evidence,
                         "status": "FAIL", "severity": "low", "reason": "log types disabled: " + ", ".join(other)})
        name = f"/aws/eks/{c.cluster}/cluster"
        g = groups.get((c.region, name))
        gbase = {**base, "resource_type": "log-group", "resource_id": name}
        if g is None:
            rows.append({**gbase, "status": "FAIL", "evidence": c.evidence,
                         "reason": "the cluster's log group does not exist, so no control-plane log is kept"})
            continue
        problems = []
        if g.retention_days is None or pd.isna(g.retention_days):
            problems.append("no retention set")
        elif int(g.retention_days) < p["log_retention_days"]:
            problems.append(f"retention {int(g.retention_days)} days is under {p['log_retention_days']}")
        rows.append({**gbase, "evidence": g.evidence, "status": "FAIL" if problems else "PASS",
                     "severity": "medium", "reason": "; ".join(problems) or
                     f"retention {int(g.retention_days)} days"})
        rows.append({**gbase, "evidence": g.evidence, "status": "PASS" if g.kms_key_id else "FAIL",
                     "severity": "medium", "reason": f"encrypted with KMS key {g.kms_key_id}" if g.kms_key_id
                     else "not encrypted with a KMS key"})
    return pd.DataFrame(rows)


def _trail_gaps(t) -> list[str]:
    gaps = []
    if t.is_logging is None:
        gaps.append("logging status not read")
    elif not t.is_logging:
        gaps.append("not logging (stopped)")
    if t.mgmt_reads is None:
        gaps.append("event selectors not read")
    else:
        if not t.mgmt_reads:
            gaps.append("management read events not recorded")
        if not t.mgmt_writes:
            gaps.append("management write events not recorded")
    if not t.log_validation:
        gaps.append("log file validation off")
    return gaps


@check("LOG-02", domain="logging", title="CloudTrail records every EKS action", severity="high",
       requirement="R-LOG-2", frames=("clusters", "trails"),
       practice="Every region that runs an EKS cluster is covered by a CloudTrail trail that is logging, records "
                "management read and write events, and validates its log files.",
       rationale="EKS API calls (create, update, delete, access entries, add-ons) are management events; without "
                 "a working trail they leave no record, and without validation the record can be altered unseen.",
       remediation="Create a multi-region (ideally organization) trail recording all management events with log "
                   "file validation on: aws cloudtrail create-trail --is-multi-region-trail "
                   "--enable-log-file-validation ...; aws cloudtrail start-logging.",
       references={"cis_aws": "3.1, 3.2", "securityhub": "CloudTrail.1, CloudTrail.4",
                   "prowler": "cloudtrail_multi_region_enabled"})
def log_02(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    regions = sorted(set(f.clusters["region"]))
    trails = list(f.trails.itertuples(index=False))
    for t in trails:
        covered = [r for r in regions if t.multi_region or t.home_region == r]
        if not covered:
            continue
        gaps = _trail_gaps(t)
        rows.append({"account_id": t.account_id, "region": t.home_region, "cluster": "", "resource_type": "trail",
                     "resource_id": t.arn, "evidence": t.evidence, "severity": "medium",
                     "status": "FAIL" if gaps else "PASS",
                     "reason": (("; ".join(gaps)) if gaps else "logging, all management events, validation on")
                     + f" (covers {', '.join(covered)}" + (", multi-region" if t.multi_region else "") + ")"})
    for r in regions:
        good = [t.name for t in trails if (t.multi_region or t.home_region == r) and not _trail_gaps(t)]
        rows.append({"account_id": f.evidence.account, "region": r, "cluster": "", "resource_type": "region",
                     "resource_id": r, "evidence": "evidence/manifest.json",
                     "status": "PASS" if good else "FAIL",
                     "reason": f"covered by {', '.join(good)}" if good else
                     "no trail covers this region while logging all management events with validation on"})
    return pd.DataFrame(rows)

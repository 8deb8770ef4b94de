"""What an audit could not read, per scope, with its cause, the checks it left unproven and how to fix it.

Built from the evidence manifest's failed reads and the catalog's declared inputs; the runner stores it in
run.json, the summary page opens with it, and the CLI's exit code and stderr line come from it.
"""

from __future__ import annotations

import pandas as pd

from .checks import load
from .collect.faults import describe
from .evidence import Evidence

COLUMNS = ["scope", "account_id", "region", "cluster", "inputs", "cause", "checks", "fix"]


def _fix(kind: str, code: str, source: str, inputs: list[str], cluster: str) -> str:
    where = f" for {cluster}" if cluster else ""
    if code == "NoKubernetesSource":
        return f"give --kubeconfig, --eks-auth or --k8s-snapshot{where}"
    if code == "NoContext":
        return f"add a kubeconfig context{where} (aws eks update-kubeconfig --name {cluster}) or use --eks-auth"
    if code == "NoSnapshot":
        return f"give --k8s-snapshot {cluster}=PATH"
    if code == "NotInSnapshot":
        return "add these kinds to the snapshot (README: the kubectl command to send the cluster owner)"
    if kind == "access-denied":
        if source == "k8s":
            return f"bind the eksaudit reader ClusterRole (policies/eksaudit-reader-rbac.yaml){where}"
        from .least_privilege import action_for

        actions = sorted({action_for(*k.split(":")[1:3]) for k in inputs if k.startswith("aws:")})
        return "allow " + ", ".join(actions) + " to the auditing identity (policies/eksaudit-readonly-iam.json)"
    if kind == "throttled":
        return "re-run later: the calls were throttled past botocore's adaptive retries"
    if kind == "timeout":
        return "check that the endpoint is reachable from here (proxy, VPC endpoint, private API endpoint)"
    if kind == "unsupported":
        return "the endpoint does not offer this API here; confirm the service exists in this region"
    if kind == "malformed":
        return "re-collect; report the response shape if it happens again"
    return "see the cause; re-collect"


def not_audited(ev: Evidence) -> pd.DataFrame:
    """One row per (scope, cause): the inputs that failed there and the checks they leave unproven."""
    readers: dict[str, list[str]] = {}
    for c in load().values():
        for key in [*c.all_inputs(), *c.all_soft_inputs()]:
            readers.setdefault(key, []).append(c.id)
    groups: dict[tuple, dict] = {}
    for e in ev.entries:
        if e["status"] != "error":
            continue
        err = e.get("error") or {}
        scope = (e.get("account") or ev.account, e.get("region", ""), e.get("cluster", ""))
        key = (*scope, e.get("source", ""), describe(err))
        g = groups.setdefault(key, {"inputs": [], "kind": err.get("kind", ""), "code": err.get("code", "")})
        if e["input"] not in g["inputs"]:
            g["inputs"].append(e["input"])
    rows = []
    for (account, region, cluster, source, cause), g in sorted(groups.items()):
        scope = (f"cluster {cluster} ({region})" if cluster else f"region {region}" if region
                 else f"account {account}")
        checks = sorted({cid for k in g["inputs"] for cid in readers.get(k, [])})
        rows.append({"scope": scope, "account_id": account, "region": region, "cluster": cluster,
                     "inputs": ", ".join(sorted(g["inputs"])), "cause": cause, "checks": ", ".join(checks),
                     "fix": _fix(g["kind"], g["code"], source, g["inputs"], cluster)})
    return pd.DataFrame(rows, columns=COLUMNS)


def unverified_checks(findings: pd.DataFrame) -> list[str]:
    """Checks with at least one ERROR finding: verdicts the audit could not prove somewhere."""
    return sorted(set(findings.loc[findings["status"] == "ERROR", "check_id"]))

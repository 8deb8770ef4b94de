"""Small helpers shared by check functions."""

from __future__ import annotations

import pandas as pd

SYSTEM_NAMESPACES = ["kube-system", "kube-node-lease", "kube-public"]


def outside(df: pd.DataFrame, namespaces: list[str]) -> pd.DataFrame:
    """Rows whose namespace is not excluded by the exclude_namespaces parameter."""
    return df[~df["namespace"].isin(namespaces or [])]


def container_id(df: pd.DataFrame) -> pd.Series:
    return df["namespace"] + "/" + df["workload"] + "/" + df["container_type"] + ":" + df["container"]


def result(df: pd.DataFrame, status: pd.Series, reason: pd.Series, resource_type: str, resource_id: pd.Series,
           severity: pd.Series | str | None = None) -> pd.DataFrame:
    """Assemble check rows from aligned columns of an input frame."""
    out = pd.DataFrame({
        "account_id": df["account_id"] if "account_id" in df else "",
        "region": df["region"] if "region" in df else "",
        "cluster": df["cluster"] if "cluster" in df else "",
        "status": status, "resource_type": resource_type, "resource_id": resource_id, "reason": reason,
        "evidence": df["evidence"] if "evidence" in df else "",
    }, index=df.index)
    if severity is not None:
        out["severity"] = severity
    return out


def row(status: str, rtype: str, rid: str, reason: str, evidence: str = "", cluster: str = "", region: str = "",
        account_id: str = "", **extra) -> dict:
    """One check row from scalars (the per-resource counterpart of `result`)."""
    return {"status": status, "resource_type": rtype, "resource_id": rid, "reason": reason, "evidence": evidence,
            "cluster": cluster, "region": region, "account_id": account_id, **extra}


def selects(selector: dict | None, labels: dict) -> bool:
    """Whether a Kubernetes label selector (matchLabels, matchExpressions) selects an object with `labels`.

    An empty selector selects everything; an operator this function does not know selects nothing (a verdict
    must not rest on a guess)."""
    selector = selector or {}
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            ok = key in labels and labels[key] in values
        elif op == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif op == "Exists":
            ok = key in labels
        elif op == "DoesNotExist":
            ok = key not in labels
        else:
            ok = False
        if not ok:
            return False
    return True

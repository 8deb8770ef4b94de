"""What every check builds its rows with, and small helpers shared by check functions."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..findings import STATUSES
from ..frames import values

# The one vocabulary of resource types a finding may name (the findings schema's resource_type column).
RESOURCE_TYPES = frozenset({
    "account", "region", "cluster", "api-endpoint", "nodegroup", "node", "node-role", "cluster-role",
    "kubelet-config", "namespace", "workload", "container", "service-account", "secret", "configmap",
    "iam-user", "iam-group", "iam-role", "iam-principal", "ecr-repository", "image", "vpc-endpoint",
    "security-group", "load-balancer", "listener", "trail", "s3-bucket", "log-group", "alarm",
    "guardduty-detector", "secrets-manager-secret", "kms-key", "cis-benchmark-test", "benchmark-run",
    "kube-bench-result", "docker-bench-result", "evidence", "check",
})

SYSTEM_NAMESPACES = ["kube-system", "kube-node-lease", "kube-public"]


def outside(df: pd.DataFrame, namespaces: list[str]) -> pd.DataFrame:
    """Rows whose namespace is not excluded by the exclude_namespaces parameter."""
    return df[~df["namespace"].isin(namespaces or [])]


def joined(df: pd.DataFrame, template: str, *columns: str) -> pd.Series:
    """`template` ("{}/{}") filled per row with the values of `columns`, missing (NaN) where one of them is, as
    `+` on string columns gives; added as object arrays, which numpy does in C where pandas 3 string columns go
    cell by cell."""
    texts = template.split("{}")  # the literal text before, between and after the columns
    out = np.full(len(df), texts[0], dtype=object)
    missing = np.zeros(len(df), dtype=bool)
    for c, after in zip(columns, texts[1:]):
        col = df[c].to_numpy(dtype=object)
        gone = pd.isna(col)
        if gone.any():
            missing |= gone
            col = np.where(gone, "", col)
        out = out + col + after
    out[missing] = np.nan
    return pd.Series(out, index=df.index, dtype=object)


def container_id(df: pd.DataFrame) -> pd.Series:
    return joined(df, "{}/{}/{}:{}", "namespace", "workload", "container_type", "container")


def per_value(column: pd.Series | Iterable, decide: Callable[[Any], Any]) -> list:
    """decide(value) for every cell of a column, called once per distinct value: 50,000 containers run a few
    dozen images, and 50,000 pods share a few hundred service accounts."""
    answers: dict[Hashable, Any] = {}
    out = []
    for v in values(column) if isinstance(column, pd.Series) else column:
        if v not in answers:
            answers[v] = decide(v)
        out.append(answers[v])
    return out


def _checked(status: str, resource_type: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown finding status {status!r}")
    if resource_type not in RESOURCE_TYPES:
        raise ValueError(f"resource type {resource_type!r} is not in checks.common.RESOURCE_TYPES")


def finding(where: Mapping | None, status: str, resource_type: str, resource_id: str, reason: str, *,
            evidence: str | None = None, severity: str | None = None, **scope: str) -> dict:
    """One finding row. `where` is any record carrying its scope (account_id, region, cluster) and evidence,
    such as a frame row, or None for an account-level finding; `evidence=` and scope keywords
    (account_id=, region=, cluster=) override it. The engine fills an empty account_id with the audited one."""
    _checked(status, resource_type)
    where = where or {}
    out = {col: str(scope.get(col, where.get(col, "")) or "") for col in ("account_id", "region", "cluster")}
    out.update(status=status, resource_type=resource_type, resource_id=str(resource_id), reason=reason,
               evidence=evidence if evidence is not None else str(where.get("evidence", "") or ""))
    if severity:
        out["severity"] = severity
    return out


def findings(df: pd.DataFrame, status, reason, resource_type: str, resource_id,
             severity: pd.Series | str | None = None) -> pd.DataFrame:
    """Rows for a whole frame at once (the vectorised `finding`): aligned status/reason/resource_id columns,
    scope and evidence taken from the frame's own columns."""
    if resource_type not in RESOURCE_TYPES:
        raise ValueError(f"resource type {resource_type!r} is not in checks.common.RESOURCE_TYPES")
    out = pd.DataFrame({
        "account_id": df["account_id"] if "account_id" in df else "",
        "region": df["region"] if "region" in df else "",
        "cluster": df["cluster"] if "cluster" in df else "",
        "status": status, "resource_type": resource_type, "resource_id": resource_id, "reason": reason,
        "evidence": df["evidence"] if "evidence" in df else "",
    }, index=df.index)
    bad = set(out["status"].unique()) - set(STATUSES)
    if bad:
        raise ValueError(f"unknown finding status {sorted(bad)}")
    if severity is not None:
        out["severity"] = severity
    return out


def stacked(*parts: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """The rows of several parts (lists of `finding` dicts, `findings` frames), in order, as one frame: a check
    may decide a whole frame at once between rows it writes one by one."""
    frames = [p if isinstance(p, pd.DataFrame) else pd.DataFrame(p) for p in parts]
    frames = [df for df in frames if not df.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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

"""The one findings schema every check, notebook, export and test relies on."""

from __future__ import annotations

import pandas as pd

from .domains import IDS

# A waived finding (eksaudit/waivers.py) carries who accepted the risk, why and until when; empty otherwise.
WAIVER_COLUMNS = ["waiver_justification", "waiver_approver", "waiver_expires"]
COLUMNS = ["run_id", "account_id", "region", "cluster", "domain", "check_id", "title", "severity", "status",
           "resource_type", "resource_id", "reason", "remediation", "evidence", *WAIVER_COLUMNS]
# The columns a page shows (run.json gives the run and account, the catalog each check's title and remediation):
# what a run's kernels are given.
PAGE_COLUMNS = [c for c in COLUMNS if c not in ("run_id", "account_id", "title", "remediation")]
STATUSES = ["FAIL", "ERROR", "MANUAL", "WAIVED", "NOT_APPLICABLE", "PASS"]
SEVERITIES = ["critical", "high", "medium", "low", "info"]
# The statuses a reader must look at; pages list every such row and count the rest.
ATTENTION = ["FAIL", "ERROR", "MANUAL", "WAIVED"]
SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # info=0 .. critical=4
DOMAINS = IDS  # the domain registry (eksaudit/domains.py) is the one list


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Columns in schema order, strings everywhere, stable row order."""
    df = df.reindex(columns=COLUMNS, fill_value="").fillna("").astype(str)
    # Looked up through an index rather than `set(column)` / `column.map(dict)`, which pandas 3 runs cell by cell.
    order = pd.Index(STATUSES).get_indexer(df["status"])
    if (order < 0).any():
        raise ValueError(f"unknown finding status {sorted(set(df['status'].unique()) - set(STATUSES))}")
    sev = pd.Index(SEVERITIES[::-1]).get_indexer(df["severity"])  # SEVERITY_RANK: info=0 .. critical=4
    if (sev < 0).any():
        raise ValueError(f"unknown severity {sorted(set(df['severity'].unique()) - set(SEVERITIES))}")
    df = df.assign(_o=order, _s=-sev).sort_values(
        ["check_id", "_o", "_s", "account_id", "region", "cluster", "resource_id", "reason"], kind="stable")
    return df.drop(columns=["_o", "_s"]).reset_index(drop=True)


def at_or_above(df: pd.DataFrame, severity: str) -> pd.DataFrame:
    return df[df["severity"].map(SEVERITY_RANK) >= SEVERITY_RANK[severity]]

"""The audit scope: what --cluster and --region selected, and narrowing findings to it.

Scope narrows what is reported, never what a verdict needs. The collector reads the account inventory (enabled
regions, every cluster, their node groups) whatever was selected, checks run over all the evidence, and only then
are the findings narrowed here: rows of clusters or regions outside the selection are dropped, account-level rows
(no region, no cluster) are kept. Evidence without a scope record (collected before it existed, or built by tests)
is not narrowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd

from .evidence import Evidence


@dataclasses.dataclass(frozen=True)
class Scope:
    selected_clusters: tuple[str, ...]  # as given with --cluster; empty: every cluster of the selected regions
    selected_regions: tuple[str, ...]
    enabled_regions: tuple[str, ...]  # from ec2:DescribeRegions; empty when it could not be read
    inventory: dict  # region -> cluster names listed there (every region inventoried)
    audited: dict  # region -> the selected cluster names listed there

    @classmethod
    def of(cls, ev: Evidence) -> Scope | None:
        raw = ev.manifest.get("scope")
        if not isinstance(raw, dict):
            return None

        def names(value) -> tuple[str, ...]:
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        def by_region(value) -> dict:
            return {str(r): names(n) for r, n in value.items()} if isinstance(value, dict) else {}

        return cls(names(raw.get("selected_clusters")), names(raw.get("selected_regions")),
                   names(raw.get("enabled_regions")), by_region(raw.get("inventory")), by_region(raw.get("audited")))

    def keeps(self, region: str, cluster: str) -> bool:
        """Whether a finding in (region, cluster) is reported ("" = account-level or region-level)."""
        if cluster:
            if region:
                return cluster in self.audited.get(region, ())
            return any(cluster in names for names in self.audited.values())
        return not region or region in self.selected_regions

    def words(self) -> str:
        clusters = ", ".join(self.selected_clusters) or "all clusters"
        return f"{clusters} in {', '.join(self.selected_regions)}"


def reported(ev: Evidence) -> Callable[[dict], bool]:
    """Whether a failed read (a manifest entry) is inside the reported scope.

    Outside it only inventory reads are ever made; the engine need not turn in-scope verdicts into ERROR for
    them, because the checks whose verdicts compare against the whole account read the inventory themselves
    (frames.core.cluster_inventory) and name what it lacks.
    """
    scope = Scope.of(ev)
    if scope is None:
        return lambda entry: True
    return lambda entry: scope.keeps(entry.get("region", ""), entry.get("cluster", ""))


def narrow(findings: pd.DataFrame, ev: Evidence) -> pd.DataFrame:
    """Findings of the selected clusters and regions, plus account-level ones.

    A check whose every row fell outside the selection keeps one NOT_APPLICABLE row saying so, so the catalog
    stays complete in every pack.
    """
    scope = Scope.of(ev)
    if scope is None or findings.empty:
        return findings
    keep = pd.Series([scope.keeps(r, c) for r, c in zip(findings["region"], findings["cluster"])],
                     index=findings.index, dtype=bool)
    if keep.all():
        return findings
    kept = findings[keep]
    gone = findings[~keep & ~findings["check_id"].isin(set(kept["check_id"]))]
    placeholders = []
    for _, first in gone.groupby("check_id", sort=False).head(1).iterrows():
        placeholders.append({**first.to_dict(), "region": "", "cluster": "", "status": "NOT_APPLICABLE",
                             "resource_type": "account", "resource_id": ev.account, "remediation": "",
                             "evidence": "evidence/manifest.json", "severity": first["severity"],
                             "reason": f"nothing in the audit scope ({scope.words()}): every resource this check "
                                       "found is in a cluster or region that was not selected"})
    out = pd.concat([kept, pd.DataFrame(placeholders, columns=findings.columns)], ignore_index=True) \
        if placeholders else kept.reset_index(drop=True)
    return out

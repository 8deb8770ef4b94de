"""Frames every domain reads: the EKS clusters and their node groups."""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..collect.steps.core import DESCRIBE_CLUSTER, DESCRIBE_REGIONS, LIST_CLUSTERS, LIST_NODEGROUPS
from ..collect.steps.iam import DESCRIBE_NODEGROUP
from . import Frames, frame


def ref(entry: dict, anchor: str = "") -> str:
    """A pointer into the evidence folder for a finding's evidence column."""
    return f"evidence/{entry['path']}" + (f"#{anchor}" if anchor else "")


@frame("clusters", [DESCRIBE_CLUSTER])
def clusters(f: Frames) -> pd.DataFrame:
    """One row per EKS cluster of the account (the inventory, whatever --cluster/--region selected: findings are
    narrowed to the selection after the checks ran): account_id, region, cluster, arn, version, role_arn, vpc_id,
    subnet_ids, security_group_ids, cluster_security_group_id, endpoint_public, endpoint_private, public_cidrs,
    log_types_enabled, log_types_disabled, secrets_encrypted, encryption_key_arn, oidc_issuer,
    authentication_mode, auto_mode_node_role, platform_version, status, tags, audited (selected for the audit),
    evidence."""
    from ..scope import Scope

    scope = Scope.of(f.evidence)
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_CLUSTER):
        c = data.get("cluster", {})
        vpc = c.get("resourcesVpcConfig") or {}
        enabled, disabled = [], []
        for setting in (c.get("logging") or {}).get("clusterLogging") or []:
            (enabled if setting.get("enabled") else disabled).extend(setting.get("types") or [])
        enc = [e for e in c.get("encryptionConfig") or [] if "secrets" in (e.get("resources") or [])]
        rows.append({
            "account_id": entry["account"], "region": entry["region"], "cluster": c.get("name", ""),
            "arn": c.get("arn", ""), "version": c.get("version", ""), "role_arn": c.get("roleArn", ""),
            "vpc_id": vpc.get("vpcId", ""), "subnet_ids": list(vpc.get("subnetIds") or []),
            "security_group_ids": list(vpc.get("securityGroupIds") or []),
            "cluster_security_group_id": vpc.get("clusterSecurityGroupId", ""),
            "endpoint_public": vpc.get("endpointPublicAccess"), "endpoint_private": vpc.get("endpointPrivateAccess"),
            "public_cidrs": list(vpc.get("publicAccessCidrs") or []),
            "log_types_enabled": sorted(enabled), "log_types_disabled": sorted(disabled),
            "secrets_encrypted": bool(enc),
            "encryption_key_arn": ((enc[0].get("provider") or {}).get("keyArn", "") if enc else ""),
            "oidc_issuer": ((c.get("identity") or {}).get("oidc") or {}).get("issuer", ""),
            "authentication_mode": (c.get("accessConfig") or {}).get("authenticationMode", ""),
            "auto_mode_node_role": (c.get("computeConfig") or {}).get("nodeRoleArn", "") or "",
            "platform_version": c.get("platformVersion", ""), "status": c.get("status", ""),
            "tags": c.get("tags") or {},
            "audited": scope is None or scope.keeps(entry["region"], c.get("name", "")), "evidence": ref(entry),
        })
    cols = ["account_id", "region", "cluster", "arn", "version", "role_arn", "vpc_id", "subnet_ids",
            "security_group_ids", "cluster_security_group_id", "endpoint_public", "endpoint_private",
            "public_cidrs", "log_types_enabled", "log_types_disabled", "secrets_encrypted", "encryption_key_arn",
            "oidc_issuer", "authentication_mode", "auto_mode_node_role", "platform_version", "status", "tags",
            "audited", "evidence"]
    return pd.DataFrame(rows, columns=cols)


@dataclasses.dataclass(frozen=True)
class Inventory:
    """Every cluster of the account, and what could not be read to know them all.

    clusters: (region, name) of every cluster listed in any region; regions: the regions whose clusters were
    listed; enabled: the enabled regions (DescribeRegions); gaps: reads whose failure could hide a cluster (the
    enabled regions, a region's cluster list, a listed cluster's description), in words with their cause;
    node_gaps: (region, name) -> why that cluster's managed node groups are not all known.
    """

    clusters: tuple[tuple[str, str], ...]
    regions: tuple[str, ...]
    enabled: tuple[str, ...]
    gaps: tuple[str, ...]
    node_gaps: dict

    def words(self) -> str:
        """The proven scope for a PASS reason, e.g. "4 clusters in 2 regions; all 17 enabled regions listed"."""
        n, used = len(self.clusters), len({r for r, _ in self.clusters})
        return (f"{n} cluster{'s' if n != 1 else ''} in {used} region{'s' if used != 1 else ''}; "
                f"all {len(self.regions)} enabled region{'s' if len(self.regions) != 1 else ''} listed")

    def unknown(self, nodes: bool = False, besides: tuple[str, str] | None = None) -> list[str]:
        """What keeps an account-wide claim from being proven: inventory gaps, and with `nodes` the clusters
        (other than `besides`) whose managed node groups are not all known."""
        out = list(self.gaps)
        if nodes:
            out += [f"node groups of {name} ({region}): {why}" for (region, name), why in sorted(self.node_gaps.items())
                    if (region, name) != besides]
        return out


def _cause(entries: list[dict]) -> str:
    from ..collect.faults import describe

    return describe(entries[0].get("error") or {}) if entries else "not collected"


@frame("cluster_inventory", [], soft_inputs=[DESCRIBE_REGIONS, LIST_CLUSTERS, DESCRIBE_CLUSTER, LIST_NODEGROUPS,
                                             DESCRIBE_NODEGROUP])
def cluster_inventory(f: Frames) -> Inventory:
    """Not a DataFrame: the account's clusters in every enabled region (eksaudit.frames.core.Inventory). Its
    inputs (DescribeRegions, ListClusters, DescribeCluster, ListNodegroups, DescribeNodegroup in every region)
    are soft: a check comparing against the rest of the account turns a PASS into ERROR naming `gaps`."""
    from ..collect.aws import partition

    ev = f.evidence
    gaps: list[str] = []
    listed_ok: dict[str, list[str]] = {}
    for e, data in ev.responses(LIST_CLUSTERS):
        listed_ok.setdefault(e["region"], []).extend(data.get("clusters") or [])
    scope = ev.manifest.get("scope") if isinstance(ev.manifest.get("scope"), dict) else {}
    selected = set(scope.get("selected_regions") or ev.manifest.get("regions") or [])
    # The enabled regions of the audited partition, as the collector chose them (credentials reach no other).
    home = partition(sorted(selected or listed_ok or {"us-east-1"})[0])
    enabled: set[str] = set()
    region_reads = ev.responses(DESCRIBE_REGIONS)
    for _, data in region_reads:
        enabled |= {r.get("RegionName", "") for r in data.get("Regions") or []
                    if partition(r.get("RegionName", "") or "x") in (home, None)} - {""}
    if not region_reads:
        gaps.append(f"{DESCRIBE_REGIONS} {_cause(ev.errors(DESCRIBE_REGIONS))}, so regions other than "
                    f"{', '.join(sorted(set(listed_ok) | selected)) or 'none'} may hold clusters")
    expected = enabled | selected | set(listed_ok) | {e["region"] for e in ev.by_input.get(LIST_CLUSTERS, [])}
    for region in sorted(expected - set(listed_ok)):
        gaps.append(f"{LIST_CLUSTERS} in {region} "
                    f"{_cause([e for e in ev.errors(LIST_CLUSTERS) if e['region'] == region])}")
    described = {(e["region"], e["cluster"] or str((e.get("params") or {}).get("name", "")))
                 for e, _ in ev.responses(DESCRIBE_CLUSTER)}
    clusters = sorted({(r, n) for r, names in listed_ok.items() for n in names} | described)
    for region, name in clusters:
        if (region, name) not in described:
            failed = [e for e in ev.errors(DESCRIBE_CLUSTER) if e["region"] == region and e["cluster"] == name]
            gaps.append(f"{DESCRIBE_CLUSTER} of {name} ({region}) {_cause(failed)}")
    node_gaps: dict[tuple[str, str], str] = {}
    lists: dict[tuple[str, str], list[dict]] = {}
    for e in ev.by_input.get(LIST_NODEGROUPS, []):
        lists.setdefault((e["region"], e["cluster"] or str((e.get("params") or {}).get("clusterName", ""))),
                         []).append(e)
    described_ng = {}
    for e in ev.by_input.get(DESCRIBE_NODEGROUP, []):
        params = e.get("params") or {}
        described_ng[(e["region"], str(params.get("clusterName", "")), str(params.get("nodegroupName", "")))] = e
    for key in clusters:
        got = [e for e in lists.get(key, []) if e["status"] == "ok"]
        if not got:
            node_gaps[key] = f"{LIST_NODEGROUPS} {_cause(lists.get(key, []))}"
            continue
        for name in ev.load(got[0]).get("nodegroups") or []:
            d = described_ng.get((*key, name))
            if d is None or d["status"] != "ok":
                node_gaps[key] = f"node group {name} not described ({DESCRIBE_NODEGROUP} {_cause([d] if d else [])})"
                break
    return Inventory(tuple(clusters), tuple(sorted(set(listed_ok))), tuple(sorted(enabled)), tuple(gaps), node_gaps)

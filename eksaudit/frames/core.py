"""Frames every domain reads: the EKS clusters and their node groups."""

from __future__ import annotations

import pandas as pd

from . import Frames, frame


def ref(entry: dict, anchor: str = "") -> str:
    """A pointer into the evidence folder for a finding's evidence column."""
    return f"evidence/{entry['path']}" + (f"#{anchor}" if anchor else "")


@frame("clusters", ["aws:eks:DescribeCluster"])
def clusters(f: Frames) -> pd.DataFrame:
    """One row per EKS cluster: account_id, region, cluster, arn, version, role_arn, vpc_id, subnet_ids,
    security_group_ids, cluster_security_group_id, endpoint_public, endpoint_private, public_cidrs,
    log_types_enabled, log_types_disabled, secrets_encrypted, encryption_key_arn, oidc_issuer,
    authentication_mode, platform_version, status, tags, evidence."""
    rows = []
    for entry, data in f.evidence.responses("aws:eks:DescribeCluster"):
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
            "platform_version": c.get("platformVersion", ""), "status": c.get("status", ""),
            "tags": c.get("tags") or {}, "evidence": ref(entry),
        })
    cols = ["account_id", "region", "cluster", "arn", "version", "role_arn", "vpc_id", "subnet_ids",
            "security_group_ids", "cluster_security_group_id", "endpoint_public", "endpoint_private",
            "public_cidrs", "log_types_enabled", "log_types_disabled", "secrets_encrypted", "encryption_key_arn",
            "oidc_issuer", "authentication_mode", "platform_version", "status", "tags", "evidence"]
    return pd.DataFrame(rows, columns=cols)

"""Check parameters: what each one means, in one place (`eksaudit checks --params`, the --param hint).

A check declares its parameters and defaults (`@check(params={...})`); their descriptions live here, so that a
parameter shared by several checks is described once. tests/test_cli.py fails when a parameter of the catalog
has no description.
"""

from __future__ import annotations

import pandas as pd

DESCRIPTIONS: dict[str, str] = {
    "exclude_namespaces": "namespaces whose workloads the workload checks leave out (the cluster's own system "
                          "namespaces)",
    "eks_admin_principals": "ARN globs of the principals allowed EKS administrator rights (IAM users, groups or "
                            "roles); any other holder fails",
    "max_access_key_age_days": "oldest age, in days, of an active access key of an IAM user who can manage EKS",
    "ci_principals": "ARN globs of the CI principals allowed to push to or change ECR repositories",
    "trusted_accounts": "AWS account IDs, besides the audited one, that repository policies may name",
    "min_kubelet_version": "oldest Kubernetes minor version (e.g. 1.30) a node's kubelet may run",
    "sensitive_repo_tags": "ECR repository tags (KEY or KEY=VALUE) that mark a repository as sensitive",
    "sensitive_repo_patterns": "name globs of ECR repositories that are sensitive whatever their tags",
    "log_retention_days": "shortest retention, in days, of a cluster's control-plane log group",
    "log_admin_principals": "ARN globs of the principals allowed to stop trails or change their logs",
    "trusted_registries": "registry or image globs trusted besides the audited account's private ECR",
    "image_exclude_namespaces": "namespaces whose images IMG-01 leaves out",
    "trust_aws_addon_registries": "whether AWS's EKS add-on registries count as trusted (true or false)",
    "kube_bench_max_age_days": "oldest age, in days, of the last kube-bench run of a cluster",
    "docker_bench_max_age_days": "oldest age, in days, of the last Docker Bench run of a host",
    "trusted_base_images": "base images (globs; 'scratch' for none) an image may be built from",
    "scan_severity_threshold": "lowest ECR scan severity (CRITICAL, HIGH, MEDIUM, LOW) that fails an image",
    "max_image_age_days": "oldest age, in days, of a running image since it was pushed (rebuilt)",
}


def _type(value: object) -> str:
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list"}.get(type(value), type(value).__name__)


def params_frame() -> pd.DataFrame:
    """One row per parameter of the loaded catalog: name, default, type, the checks that read it, description."""
    from .checks import load

    rows: dict[str, dict] = {}
    for check in load().values():
        for name, default in check.params.items():
            row = rows.setdefault(name, {"name": name, "default": default, "type": _type(default), "checks": [],
                                         "description": DESCRIPTIONS.get(name, "")})
            row["checks"].append(check.id)
    out = pd.DataFrame(sorted(rows.values(), key=lambda r: r["name"]),
                       columns=["name", "default", "type", "checks", "description"])
    out["checks"] = out["checks"].map(", ".join)
    return out


def shown_default(value: object) -> str:
    """A default as a user would type it after --param NAME= (JSON)."""
    import json

    return json.dumps(value)

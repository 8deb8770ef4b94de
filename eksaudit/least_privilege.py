"""The least-privilege policies eksaudit ships, generated from what the collector actually reads.

The IAM policy holds exactly the actions of `collect.steps.plan()`. The Kubernetes ClusterRole grants the verbs
the collector uses (`collect.kubernetes.VERBS`: `list`) on the kinds of `collect.kubernetes.KINDS`, except
Secrets: listing Secrets returns their values to the caller (RBAC has no "names only"), which would let whoever
holds the audit role read every service account token. Secrets are granted only by a second, opt-in role, for
auditors who accept that; without it the collector's Secrets read is denied and IAM-04 says what it could not
prove. `python -m eksaudit.least_privilege --write` rewrites the shipped files; a test fails when they drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
IAM_FILE = POLICY_DIR / "eksaudit-readonly-iam.json"
RBAC_FILE = POLICY_DIR / "eksaudit-reader-rbac.yaml"
SECRETS_RBAC_FILE = POLICY_DIR / "eksaudit-secrets-rbac.yaml"
ROLE_NAME = "eksaudit-reader"
SECRETS_ROLE_NAME = "eksaudit-secrets-lister"
GROUP = "eksaudit:readers"
# Kinds whose list returns secret values: left out of the default role, granted only by the opt-in one.
OPT_IN = {("", "secrets")}
# IAM action name prefixes that only read.
# Reads that return secret values: never granted, never called.
NEVER = {"GetSecretValue", "BatchGetSecretValue", "GetParameter", "GetParameters", "GetParametersByPath",
         "GetPasswordData", "GetAuthorizationToken"}
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Lookup", "Search", "Scan", "Query", "Select")


# botocore service name -> IAM action prefix, where they differ.
SERVICE_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "accessanalyzer": "access-analyzer",
                  "sso-admin": "sso", "stepfunctions": "states", "resourcegroupstaggingapi": "tag",
                  "opensearch": "es"}
# API operations whose IAM action has another name (AWS Service Authorization Reference).
ACTION_NAMES = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
    ("s3", "GetBucketCors"): "s3:GetBucketCORS",
    ("s3", "GetBucketAccelerateConfiguration"): "s3:GetAccelerateConfiguration",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}


def action_for(service: str, operation: str) -> str:
    """The IAM action that authorises one API call (botocore service name and operation name)."""
    if (service, operation) in ACTION_NAMES:
        return ACTION_NAMES[(service, operation)]
    return f"{SERVICE_PREFIX.get(service, service)}:{operation}"


def is_read_action(action: str) -> bool:
    """True for an IAM action (service:Operation) whose operation name says it only reads."""
    _, _, op = action.partition(":")
    return op.startswith(READ_PREFIXES) and op not in NEVER


def iam_actions() -> list[str]:
    """Every IAM action the collector may call, sorted."""
    from .collect.steps import plan

    return sorted({action_for(*s.key) for s in plan()})


def iam_policy() -> dict:
    """An identity policy with exactly the collector's actions."""
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": "EksauditReadOnly", "Effect": "Allow", "Action": iam_actions(), "Resource": "*"}]}


def rbac_rules(opt_in: bool = False) -> list[dict]:
    """ClusterRole rules, one per API group, with the collector's verbs only: the default role's kinds, or
    (opt_in) only the kinds left out of it."""
    from .collect.kubernetes import KINDS, VERBS

    groups: dict[str, list[str]] = {}
    for kind in KINDS:
        if ((kind.group, kind.plural) in OPT_IN) == opt_in:
            groups.setdefault(kind.group, []).append(kind.plural)
    return [{"apiGroups": [g], "resources": sorted(set(r)), "verbs": list(VERBS)} for g, r in sorted(groups.items())]


def _role_documents(name: str, rules: list[dict]) -> list[dict]:
    """A ClusterRole and its binding to the group an EKS access entry or aws-auth mapping names."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "eksaudit"}}, "rules": rules}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "eksaudit"}},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": GROUP}]}
    return [role, binding]


def rbac_documents() -> list[dict]:
    """The default reader role (no Secrets) and its binding."""
    return _role_documents(ROLE_NAME, rbac_rules())


def secrets_rbac_documents() -> list[dict]:
    """The opt-in role: `list` on Secrets, bound to the same group."""
    return _role_documents(SECRETS_ROLE_NAME, rbac_rules(opt_in=True))


def iam_text() -> str:
    return json.dumps(iam_policy(), indent=2) + "\n"


def rbac_text() -> str:
    header = ("# Generated by `python -m eksaudit.least_privilege --write` from eksaudit.collect.kubernetes (KINDS, VERBS).\n"
              "# Read-only: `list` (the only verb the collector uses) on the kinds eksaudit reads, except Secrets:\n"
              "# listing Secrets returns their values, service account tokens included. Without Secrets, IAM-04\n"
              "# finds token Secrets through service accounts' references and says what it cannot exclude; the\n"
              "# opt-in eksaudit-secrets-rbac.yaml grants them. Map the auditing IAM principal to the group\n"
              "# eksaudit:readers (EKS access entry with kubernetesGroups, or aws-auth).\n")
    return header + yaml.safe_dump_all(rbac_documents(), sort_keys=False, explicit_start=True)


def secrets_rbac_text() -> str:
    header = ("# Generated by `python -m eksaudit.least_privilege --write`. OPT-IN, on top of eksaudit-reader-rbac.yaml.\n"
              "# `list` on Secrets lets eksaudit prove there is no long-lived token Secret (IAM-04). Trade-off:\n"
              "# Kubernetes returns every Secret's data with the list, so whoever holds this role can read every\n"
              "# Secret of the cluster, service account tokens included (a path to cluster-admin). eksaudit drops\n"
              "# the values in memory before writing anything, but the role itself grants them: apply it only\n"
              "# for the audit and only if the auditing principal may be trusted with them; delete it after.\n")
    return header + yaml.safe_dump_all(secrets_rbac_documents(), sort_keys=False, explicit_start=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eksaudit.least_privilege", description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true", help="rewrite the shipped policy files")
    a = p.parse_args(argv)
    if a.write:
        POLICY_DIR.mkdir(exist_ok=True)
        IAM_FILE.write_text(iam_text(), encoding="utf-8")
        RBAC_FILE.write_text(rbac_text(), encoding="utf-8")
        SECRETS_RBAC_FILE.write_text(secrets_rbac_text(), encoding="utf-8")
        print(f"wrote {IAM_FILE}, {RBAC_FILE} and {SECRETS_RBAC_FILE}")
    else:
        sys.stdout.write(iam_text() + rbac_text() + secrets_rbac_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

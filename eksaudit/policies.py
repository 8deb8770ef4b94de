"""The least-privilege policies eksaudit ships, generated from what the collector actually reads.

The IAM policy holds exactly the actions of `collect.steps.plan()`; the Kubernetes ClusterRole grants
get/list/watch on exactly the kinds in `collect.kubernetes.KINDS`, except Secrets: `list` only (the collector
lists them to find service-account-token Secrets and redacts their values at once; it never reads one by name).
`python -m eksaudit.policies --write` rewrites the shipped files; a test fails when they drift from this module.
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
ROLE_NAME = "eksaudit-reader"
READ_VERBS = ["get", "list", "watch"]
# Kinds whose objects may hold secret values: readable as a collection (values redacted at once), never by name.
LIST_ONLY = {("", "secrets"): ["list"]}
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


def rbac_rules() -> list[dict]:
    """ClusterRole rules: one per API group, read verbs only; list-only kinds get their own rule."""
    from .collect.kubernetes import KINDS

    groups: dict[str, list[str]] = {}
    special: list[dict] = []
    for kind in KINDS:
        verbs = LIST_ONLY.get((kind.group, kind.plural))
        if verbs is not None:
            special.append({"apiGroups": [kind.group], "resources": [kind.plural], "verbs": list(verbs)})
        else:
            groups.setdefault(kind.group, []).append(kind.plural)
    rules = [{"apiGroups": [g], "resources": sorted(set(r)), "verbs": list(READ_VERBS)} for g, r in sorted(groups.items())]
    return rules + sorted(special, key=lambda r: (r["apiGroups"], r["resources"]))


def rbac_documents() -> list[dict]:
    """The ClusterRole and a binding to a group that an EKS access entry or aws-auth mapping can name."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": ROLE_NAME, "labels": {"app.kubernetes.io/name": "eksaudit"}},
            "rules": rbac_rules()}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": ROLE_NAME, "labels": {"app.kubernetes.io/name": "eksaudit"}},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE_NAME},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "eksaudit:readers"}]}
    return [role, binding]


def iam_text() -> str:
    return json.dumps(iam_policy(), indent=2) + "\n"


def rbac_text() -> str:
    header = ("# Generated by `python -m eksaudit.policies --write` from eksaudit.collect.kubernetes.KINDS.\n"
              "# Read-only: get/list/watch on what eksaudit reads; Secrets are list-only (values are redacted\n"
              "# on receipt and no Secret is ever read by name). Map the auditing IAM principal to the group\n"
              "# eksaudit:readers (EKS access entry with kubernetesGroups, or aws-auth).\n")
    return header + yaml.safe_dump_all(rbac_documents(), sort_keys=False, explicit_start=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eksaudit.policies", description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true", help="rewrite the shipped policy files")
    a = p.parse_args(argv)
    if a.write:
        POLICY_DIR.mkdir(exist_ok=True)
        IAM_FILE.write_text(iam_text(), encoding="utf-8")
        RBAC_FILE.write_text(rbac_text(), encoding="utf-8")
        print(f"wrote {IAM_FILE} and {RBAC_FILE}")
    else:
        sys.stdout.write(iam_text() + rbac_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

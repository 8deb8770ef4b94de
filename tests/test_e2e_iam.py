"""End-to-end on the demo account, iam domain: planted offenders FAIL, hardened counterparts PASS."""

from __future__ import annotations

import pytest

from eksaudit.demo.account import HARDENED, WEAK  # noqa: F401
from eksaudit.demo.seed_iam import BATCH, WEST

from .e2e import assert_expected

# (check, cluster, resource_id substring, expected status, reason substring)
EXPECTED = [
    # IAM-01: eks:* inline on a CI user; * via a managed policy's default version, inherited from a group
    ("IAM-01", "", "user/legacy-ci-deployer", "FAIL", "statement DeployAnything"),
    ("IAM-01", "", "user/legacy-console-admin", "FAIL", "legacy-admin-access via group legacy-admins statement FullAdmin"),
    ("IAM-01", "", "user/prod-operator", "PASS", "no EKS write"),
    ("IAM-01", "", "group/prod-hardened-operators", "PASS", "no EKS write"),
    # IAM-02: access key + EKS permissions; whole partner account trusted without / with an ExternalId
    ("IAM-02", "", "user/legacy-ci-deployer", "FAIL", "active access key"),
    ("IAM-02", "", "role/legacy-weak-partner-access", "FAIL", "whole account 210987654321 without"),
    ("IAM-02", "", "role/prod-hardened-partner-audit", "PASS", "with condition sts:ExternalId"),
    ("IAM-02", "", "user/prod-operator", "PASS", "no active access key"),
    # IAM-03: node role with S3/Secrets Manager data access; moto gives every cluster one OIDC issuer (ERROR)
    ("IAM-03", WEAK, "role/legacy-weak-node-role", "FAIL", "S3 object, Secrets Manager data access"),
    ("IAM-03", HARDENED, "role/prod-hardened-node-role", "PASS", "grants no S3 object/RDS/Secrets Manager"),
    ("IAM-03", HARDENED, "role/prod-hardened-cluster-role", "PASS", "trusts eks.amazonaws.com"),
    ("IAM-03", WEAK, "legacy-weak (pod credentials)", "ERROR", "DescribeCluster reports the same OIDC issuer"),
    # IAM-04: token Secret, automounted unused tokens, aws-auth with an IAM user; hardened pods opt out
    ("IAM-04", WEAK, "shop/shared-sa-token", "FAIL", "long-lived token Secret"),
    ("IAM-04", WEAK, "shop/Deployment/web", "FAIL", "automounts a token"),
    ("IAM-04", WEAK, "legacy-weak (authentication mode)", "FAIL", "aws-auth ConfigMap"),
    ("IAM-04", WEAK, "aws-auth mapUsers", "FAIL", "user/legacy-ci-deployer"),
    ("IAM-04", HARDENED, "payments/Deployment/api", "PASS", "does not mount"),
    ("IAM-04", HARDENED, "prod-hardened (token Secrets)", "PASS", "no kubernetes.io/service-account-token"),
    ("IAM-04", HARDENED, "prod-hardened (authentication mode)", "ERROR",
     "DescribeCluster reported no accessConfig.authenticationMode"),
    # IAM-05: legacy-batch reuses legacy-weak's cluster role and node role (from aws-auth and DescribeNodegroup)
    ("IAM-05", WEAK, "role/legacy-weak-cluster-role", "FAIL", f"also used by cluster(s) {BATCH}"),
    ("IAM-05", BATCH, "role/legacy-weak-cluster-role", "FAIL", f"also used by cluster(s) {WEAK}"),
    ("IAM-05", HARDENED, "role/prod-hardened-cluster-role", "PASS", "this cluster only"),
    # ... and legacy-west in eu-west-1, outside the audited region, shares them too (the inventory is account-wide)
    ("IAM-05", WEAK, "role/legacy-weak-cluster-role", "FAIL", f"{WEST} (eu-west-1)"),
    ("IAM-05", HARDENED, "role/prod-hardened-cluster-role", "PASS", "4 clusters in 2 regions"),
    ("IAM-05", WEAK, "role/legacy-weak-node-role", "FAIL", f"also used by cluster(s) {BATCH}"),
    ("IAM-05", BATCH, "role/legacy-weak-node-role", "FAIL", f"also used by cluster(s) {WEAK}"),
    ("IAM-05", WEAK, "role/legacy-weak-node-role", "FAIL", "node group legacy-weak-ng"),
    ("IAM-05", HARDENED, "role/prod-hardened-node-role", "PASS", "used by this cluster only"),
    # IAM-08: EBS permissions on the node role, EBS CSI driver without a role; hardened driver on IRSA
    ("IAM-08", WEAK, "role/legacy-weak-node-role", "FAIL", "grants EBS volume"),
    ("IAM-08", WEAK, "kube-system/Deployment/ebs-csi-controller", "FAIL", "falls back to the node role"),
    ("IAM-08", HARDENED, "kube-system/Deployment/ebs-csi-controller", "PASS", "(IRSA)"),
    ("IAM-08", HARDENED, "role/prod-hardened-node-role", "PASS", "grants no EBS/EFS/FSx"),
    # IAM-09: admin console user without MFA; scoped operator with MFA
    ("IAM-09", "", "user/legacy-console-admin", "FAIL", "no MFA device"),
    ("IAM-09", "", "user/prod-operator", "PASS", "1 MFA device"),
    ("IAM-09", "", "user/legacy-ci-deployer", "PASS", "no console password"),
    # IAM-10: Principal * repository policy, ecr:* on a user and the node role; hardened counterparts
    ("IAM-10", "", "legacy/base", "FAIL", "Principal * (everyone)"),
    ("IAM-10", "", "payments/base", "PASS", "only this account"),
    ("IAM-10", "", "user/legacy-ci-deployer", "FAIL", "without being a CI principal"),
    ("IAM-10", "", "role/legacy-weak-node-role", "FAIL", "node role may perform ECR write"),
    ("IAM-10", "", "role/prod-hardened-node-role", "PASS", "read-only ECR"),
    ("IAM-10", "", "role/prod-hardened-ci-push", "PASS", "no ECR write action on all repositories"),
    ("IAM-06", WEAK, "shop/Deployment/web", "FAIL", "default service account"),
    ("IAM-06", WEAK, "shop/Deployment/worker", "FAIL", "shares service account shared-sa"),
    ("IAM-06", HARDENED, "payments/Deployment/api", "PASS", "own service account"),
    ("IAM-07", WEAK, "shop/Deployment/worker/init:migrate", "FAIL", "runAsUser is 0"),
    ("IAM-07", WEAK, "shop/Deployment/web/container:nginx", "FAIL", "not proven non-root"),
    ("IAM-07", HARDENED, "payments/Deployment/ledger/init:schema", "PASS", "uid 10001"),
]


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}-{r[1] or 'account'}-{r[2]}")
def test_demo_iam(demo_pack, row):
    assert_expected(demo_pack[1], *row)


def test_demo_reports_only_the_audited_region(demo_pack):
    """The demo audits us-east-1: legacy-west (eu-west-1) is inventoried, never reported."""
    findings = demo_pack[1]
    assert WEST not in set(findings["cluster"])
    assert set(findings["region"]) <= {"us-east-1", ""}

"""Demo account resources for the images domain: planted offenders beside their hardened twins."""

from __future__ import annotations

import json  # noqa: F401

from .account import ACCOUNT, HARDENED, PLANTED_SECRETS, REGION, WEAK, DemoAccount  # noqa: F401


def seed(acct: DemoAccount) -> None:
    ecr, kms = acct.client("ecr"), acct.client("kms")
    key = kms.create_key(Description="ECR images")["KeyMetadata"]["Arn"]
    ecr.create_repository(repositoryName="legacy/web", imageTagMutability="MUTABLE",
                          imageScanningConfiguration={"scanOnPush": False},
                          encryptionConfiguration={"encryptionType": "AES256"})
    ecr.create_repository(repositoryName="payments/api", imageTagMutability="IMMUTABLE",
                          imageScanningConfiguration={"scanOnPush": True},
                          encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key},
                          tags=[{"Key": "sensitivity", "Value": "high"}])


def k8s_objects() -> dict[str, list[dict]]:
    """Extra Kubernetes objects per cluster for this domain."""
    return {WEAK: [], HARDENED: []}

"""Demo account resources for the network domain: planted offenders beside their hardened twins."""

from __future__ import annotations

import json  # noqa: F401

from .account import ACCOUNT, HARDENED, PLANTED_SECRETS, REGION, WEAK, DemoAccount  # noqa: F401


def seed(acct: DemoAccount) -> None:
    sm = acct.client("secretsmanager")
    sm.create_secret(Name="payments/db-password", SecretString=PLANTED_SECRETS["secretsmanager"])


def k8s_objects() -> dict[str, list[dict]]:
    """Extra Kubernetes objects per cluster for this domain."""
    return {WEAK: [], HARDENED: []}

"""Demo account resources for the IAM domain: planted offenders beside their hardened twins."""

from __future__ import annotations

import json  # noqa: F401

from .account import ACCOUNT, HARDENED, PLANTED_SECRETS, REGION, WEAK, DemoAccount  # noqa: F401


def seed(acct: DemoAccount) -> None:
    """IAM principals and policies of the demo account."""


def k8s_objects() -> dict[str, list[dict]]:
    """Extra Kubernetes objects per cluster for this domain."""
    return {WEAK: [], HARDENED: []}

"""End-to-end on the demo account, iam domain: planted offenders FAIL, hardened counterparts PASS."""

from __future__ import annotations

import pytest

from eksaudit.demo.account import HARDENED, WEAK  # noqa: F401

from .e2e import assert_expected

# (check, cluster, resource_id substring, expected status, reason substring)
EXPECTED = [
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

"""End-to-end on the demo account, network domain: planted offenders FAIL, hardened counterparts PASS."""

from __future__ import annotations

import pytest

from eksaudit.demo.account import HARDENED, WEAK  # noqa: F401

from .e2e import assert_expected

# (check, cluster, resource_id substring, expected status, reason substring)
EXPECTED = [
    ("NET-07", WEAK, "cluster/legacy-weak", "FAIL", "0.0.0.0/0"),
    ("NET-07", HARDENED, "cluster/prod-hardened", "PASS", "public access off"),
    ("NET-09", "", "repository/legacy/web", "FAIL", "AES256"),
    ("NET-09", "", "repository/payments/api", "PASS", "KMS"),
]


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}-{r[1] or 'account'}-{r[2]}")
def test_demo_network(demo_pack, row):
    assert_expected(demo_pack[1], *row)

"""End-to-end on the demo account, images domain: planted offenders FAIL, hardened counterparts PASS."""

from __future__ import annotations

import pytest

from eksaudit.demo.account import HARDENED, WEAK  # noqa: F401

from .e2e import assert_expected

# (check, cluster, resource_id substring, expected status, reason substring)
EXPECTED = [
    ("IMG-01", WEAK, "shop/Deployment/web/container:nginx", "FAIL", "docker.io"),
    ("IMG-01", WEAK, "shop/Deployment/reporter/container:reporter", "FAIL", "quay.io"),
    ("IMG-01", HARDENED, "payments/Deployment/api/container:api", "PASS", "allowed"),
    ("IMG-06", WEAK, "shop/Deployment/web/container:nginx", "FAIL", "writable"),
    ("IMG-06", HARDENED, "payments/Deployment/api/container:api", "PASS", "readOnlyRootFilesystem is true"),
]


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}-{r[1] or 'account'}-{r[2]}")
def test_demo_images(demo_pack, row):
    assert_expected(demo_pack[1], *row)

"""End-to-end on the demo account, logging domain: planted offenders FAIL, hardened counterparts PASS."""

from __future__ import annotations

import pytest

from eksaudit.demo.account import HARDENED, WEAK  # noqa: F401

from .e2e import assert_expected

# (check, cluster, resource_id substring, expected status, reason substring)
EXPECTED = [
    ("LOG-01", WEAK, "cluster/legacy-weak", "FAIL", "audit, authenticator"),
    ("LOG-01", WEAK, "/aws/eks/legacy-weak/cluster", "FAIL", "no retention"),
    ("LOG-01", HARDENED, "cluster/prod-hardened", "PASS", "enabled"),
    ("LOG-01", HARDENED, "/aws/eks/prod-hardened/cluster", "PASS", "retention 400"),
    ("LOG-02", "", "trail/legacy-trail", "FAIL", "log file validation off"),
    ("LOG-02", "", "trail/stopped-trail", "FAIL", "not logging"),
    ("LOG-02", "", "trail/org-audit-trail", "PASS", "validation on"),
]


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}-{r[1] or 'account'}-{r[2]}")
def test_demo_logging(demo_pack, row):
    assert_expected(demo_pack[1], *row)

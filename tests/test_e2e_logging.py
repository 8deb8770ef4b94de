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
    ("LOG-03", "", "arn:aws:s3:::legacy-trail-logs", "FAIL", "statement PublicRead allows s3:GetObject"),
    ("LOG-03", "", "arn:aws:s3:::legacy-trail-logs", "FAIL", "kept in the audited account"),
    ("LOG-03", "", "arn:aws:s3:::stopped-trail-logs", "FAIL", "neither object lock nor MFA delete"),
    ("LOG-03", "", "trail/legacy-trail", "FAIL", "not encrypted with a KMS key"),
    ("LOG-03", "", "role/developer-trail-ops", "FAIL", "cloudtrail:StopLogging on trail legacy-trail"),
    ("LOG-03", "", "arn:aws:s3:::audit-org-trail-logs", "PASS", "kept outside this account"),
    ("LOG-03", "", "arn:aws:s3:::audit-org-trail-logs", "PASS", "object lock on"),
    ("LOG-03", "", "trail/org-audit-trail", "PASS", "encrypted with KMS key"),
    # GuardDuty is one state for the region: audit-log monitoring on, runtime monitoring off.
    ("LOG-04", "", "/EKS_AUDIT_LOGS", "PASS", "EKS audit-log monitoring enabled"),
    ("LOG-04", "", "/RUNTIME_MONITORING", "FAIL", "runtime monitoring DISABLED"),
    ("LOG-05", WEAK, "/aws/eks/legacy-weak/cluster", "FAIL", "no metric filter or alarm"),
    ("LOG-05", HARDENED, "/aws/eks/prod-hardened/cluster", "PASS", "prod-hardened-forbidden-requests"),
]


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}-{r[1] or 'account'}-{r[2]}")
def test_demo_logging(demo_pack, row):
    assert_expected(demo_pack[1], *row)


def test_demo_logging_page_shows_coverage_and_tamperers(demo_pack):
    html = (demo_pack[0] / "logging.html").read_text()
    assert "Trails covering each cluster region" in html
    assert "org-audit-trail" in html and "another account" in html
    assert "Who can tamper with the logs" in html and "developer-trail-ops" in html

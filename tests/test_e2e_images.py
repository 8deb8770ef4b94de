"""End-to-end on the demo account, images domain: planted offenders FAIL, hardened counterparts PASS."""

from __future__ import annotations

import pytest

from eksaudit.demo.account import ACCOUNT, HARDENED, WEAK

from .e2e import assert_expected

# (check, cluster, resource_id substring, expected status, reason substring)
EXPECTED = [
    ("IMG-01", WEAK, "shop/Deployment/web/container:nginx", "FAIL", "docker.io"),
    ("IMG-01", WEAK, "shop/Deployment/reporter/container:reporter", "FAIL", "quay.io"),
    ("IMG-01", HARDENED, "payments/Deployment/api/container:api", "PASS", "allowed"),
    ("IMG-06", WEAK, "shop/Deployment/web/container:nginx", "FAIL", "writable"),
    ("IMG-06", HARDENED, "payments/Deployment/api/container:api", "PASS", "readOnlyRootFilesystem is true"),
    # kube-bench: a stale attached result with FAILs (weak), a CronJob with a recent successful run (hardened)
    ("IMG-02", WEAK, WEAK, "FAIL", "older than 30 days"),
    ("IMG-02", WEAK, "kube-bench-legacy-weak.json:3.2.1", "FAIL", "Anonymous Auth"),
    ("IMG-02", WEAK, "kube-bench-legacy-weak.json:3.2.4", "FAIL", "read-only-port"),
    ("IMG-02", HARDENED, HARDENED, "PASS", "within 30 days"),
    # Docker Bench (build hosts, account level): a clean run at demo time passes; an old log's WARNs are findings
    ("IMG-03", "", ACCOUNT, "PASS", "docker-bench-payments-build.log.json"),
    ("IMG-03", "", "docker-bench-security.log.json:4.1", "FAIL", "ci-cache-warmer"),
    # base images from OCI manifest annotations
    ("IMG-04", WEAK, "legacy/web:latest", "FAIL", "docker.io/library/node:14-alpine"),
    ("IMG-04", WEAK, "nginx:1.25", "FAIL", "third-party public image from docker.io"),
    ("IMG-04", WEAK, "quay.io/prometheus/node-exporter", "FAIL", "quay.io"),
    ("IMG-04", HARDENED, "payments/api:1.4.2", "PASS", "a trusted base"),
    # scanning: repository settings, scan results, references
    ("IMG-05", "", "repository/legacy/web", "FAIL", "scan on push is off"),
    ("IMG-05", "", "repository/payments/api", "PASS", "scan on push is on"),
    ("IMG-05", WEAK, "legacy/web:latest", "FAIL", "never scanned"),
    ("IMG-05", WEAK, "legacy/web:latest", "FAIL", "tag latest"),
    ("IMG-05", WEAK, "legacy/web:migrate", "FAIL", "1 CRITICAL, 3 HIGH"),
    ("IMG-05", WEAK, "legacy/web:migrate", "FAIL", "mutable tags"),
    ("IMG-05", HARDENED, "payments/api:1.4.2-migrate", "PASS", "immutable tags"),
    ("IMG-05", HARDENED, "payments/api:1.4.2", "PASS", "nothing at or above HIGH"),
    # Security Hub ECR.2 / ECR.3
    ("IMG-07", "", "repository/legacy/web", "FAIL", "mutable"),
    ("IMG-07", "", "repository/payments/api", "PASS", "immutable"),
    ("IMG-08", "", "repository/legacy/web", "FAIL", "no lifecycle policy"),
    ("IMG-08", "", "repository/payments/api", "PASS", "has a lifecycle policy"),
]


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}-{r[1] or 'account'}-{r[2]}")
def test_demo_images(demo_pack, row):
    assert_expected(demo_pack[1], *row)


def test_images_page_lists_images_needing_attention_counts_the_rest_and_shows_benchmarks(demo_pack):
    html = (demo_pack[0] / "images.html").read_text()
    from eksaudit.render import TABLE_SCRIPT

    assert "Image inventory" in html and 'class="ek-sortable"' in html and TABLE_SCRIPT in html
    inventory = html[html.index('id="Image-inventory"'):html.index('id="Benchmark-runs"')]
    for text in ("legacy/web:migrate", "docker.io/library/python:3.8-slim", "quay.io", "IMG-05 FAIL",
                 "Running images, counted per cluster and registry", "ECR images nothing runs", "image-inventory.csv"):
        assert text in inventory, text
    assert "payments/api" not in inventory  # the hardened images pass: counted, not named
    for text in ("kube-bench-legacy-weak.json", "CronJob", "containerd"):
        assert text in html, text


def test_the_pack_exports_every_image(demo_pack):
    import csv

    from eksaudit.evidence import Evidence
    from eksaudit.frames import Frames
    from eksaudit.views.images import COLUMNS, inventory

    pack = demo_pack[0]
    with open(pack / "image-inventory.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == COLUMNS
    expected = inventory(Frames(Evidence(pack / "evidence"))).astype(str).values.tolist()
    assert rows[1:] == expected  # what the page counts, row for row
    by_image = {r[0].rsplit("/", 2)[-1] if "/" in r[0] else r[0]: dict(zip(COLUMNS, r)) for r in rows[1:]}
    assert by_image["api:1.4.1"]["where_it_runs"] == "not running"
    assert by_image["web:migrate"]["critical"] == "1" and by_image["web:migrate"]["clusters"] == WEAK
    assert "image-inventory.csv" in (pack / "manifest.json").read_text()

"""Logging domain pictures: which trails cover each cluster region and how well, and who can tamper with logs.

Built from the evidence (frames) for the trail properties and from the LOG-03 findings for the bucket verdicts
and the principals, so the view shows exactly what the checks concluded.
"""

from __future__ import annotations

import pandas as pd

from .. import render
from ..frames import Frames
from ..frames.logging import audited_by_region, covering
from .show import show_html

COVERAGE_COLS = ["region", "clusters", "trail", "scope", "logging", "management events", "log validation",
                 "KMS", "bucket", "bucket holder", "bucket findings"]


def _yes(value, unknown: str = "not read") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return unknown
    return "yes" if value else "no"


def coverage(frames: Frames, findings: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (cluster region, trail covering it), with each property the logging checks judge.

    A region no trail covers gets one row saying so. bucket findings summarise LOG-03 on the trail's bucket.
    """
    regions = audited_by_region(frames)  # the account's other clusters' regions were not read
    trails = frames.trails
    buckets = frames.trail_buckets.set_index("bucket") if not frames.trail_buckets.empty else None
    f = findings if findings is not None else pd.DataFrame(columns=["check_id", "resource_id", "status", "reason"])
    log03 = f[f["check_id"] == "LOG-03"]
    rows = []
    for region in sorted(regions):
        names = ", ".join(regions[region])
        here = covering(trails, [region])
        if here.empty:
            rows.append({"region": region, "clusters": names, "trail": "(none: no trail records this region)"})
            continue
        for t in here.itertuples(index=False):
            scope = ("organization, " if t.organization else "") + ("multi-region" if t.multi_region
                                                                     else f"single-region ({t.home_region})")
            mgmt = "not read" if t.mgmt_reads is None else (
                "read and write" if t.mgmt_reads and t.mgmt_writes else
                "write only" if t.mgmt_writes else "read only" if t.mgmt_reads else "none")
            holder = ""
            if buckets is not None and t.bucket in buckets.index:
                holder = buckets.loc[t.bucket, "owner"]
            on_bucket = log03[log03["resource_id"] == f"arn:aws:s3:::{t.bucket}"]
            verdicts = "; ".join(f"{r.status}: {r.reason}" for r in on_bucket.itertuples(index=False)
                                 if r.status != "PASS") or ("all PASS" if not on_bucket.empty else "")
            rows.append({"region": region, "clusters": names, "trail": t.name, "scope": scope,
                         "logging": _yes(t.is_logging), "management events": mgmt,
                         "log validation": _yes(t.log_validation), "KMS": "yes" if t.kms_key_id else "no",
                         "bucket": t.bucket, "bucket holder": holder, "bucket findings": verdicts})
    return pd.DataFrame(rows, columns=COVERAGE_COLS).fillna("")


def tamperers(findings: pd.DataFrame) -> pd.DataFrame:
    """Principals LOG-03 found able to stop the trails or delete/rewrite their logs, with the granting statements."""
    rows = findings[(findings["check_id"] == "LOG-03") & (findings["resource_type"] == "iam-principal")]
    return rows[["status", "resource_id", "reason"]].rename(columns={"resource_id": "principal",
                                                                      "reason": "what it may do, and why"})


def show_coverage(ctx) -> None:
    """The coverage table and the list of who can tamper with the logs (notebook display)."""

    if ctx.evidence is None:
        show_html("<p>No evidence folder beside these findings: the coverage view needs it.</p>")
        return
    table = coverage(Frames(ctx.evidence), ctx.findings)
    show_html("<h3>Trails covering each cluster region</h3>" + render.table(table))
    who = tamperers(ctx.findings)
    if who.empty:
        show_html("<h3>Who can tamper with the logs</h3><p>No principal found (see LOG-03 for why).</p>")
    else:
        show_html("<h3>Who can tamper with the logs</h3>" + render.table(who))

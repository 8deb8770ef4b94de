"""Logging domain pictures: which trails cover each cluster region and how well, and who can tamper with logs.

Built from the evidence (frames) for the trail properties, by the run (`tables`, through views.pack_tables) or
from the evidence of a notebook opened by hand, and from the page's LOG-03 findings for the bucket verdicts and
the principals, so the view shows exactly what the checks concluded.
"""

from __future__ import annotations

import pandas as pd

from .. import render
from ..frames import Frames, values
from ..frames.logging import audited_by_region, covering
from . import shared
from .show import show_html

COVERAGE_COLS = ["region", "clusters", "trail", "scope", "logging", "management events", "log validation",
                 "KMS", "bucket", "bucket holder", "bucket findings"]


def _yes(value, unknown: str = "not read") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return unknown
    return "yes" if value else "no"


def trail_coverage(frames: Frames) -> pd.DataFrame:
    """One row per (cluster region, trail covering it), with each property the logging checks judge; a region no
    trail covers gets one row saying so. `bucket findings` is left empty (`with_bucket_findings` fills it)."""
    regions = audited_by_region(frames)  # the account's other clusters' regions were not read
    trails = frames.trails
    buckets = frames.trail_buckets.set_index("bucket") if not frames.trail_buckets.empty else None
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
            rows.append({"region": region, "clusters": names, "trail": t.name, "scope": scope,
                         "logging": _yes(t.is_logging), "management events": mgmt,
                         "log validation": _yes(t.log_validation), "KMS": "yes" if t.kms_key_id else "no",
                         "bucket": t.bucket, "bucket holder": holder})
    return pd.DataFrame(rows, columns=COVERAGE_COLS, dtype=object).fillna("")  # strings; absent: empty


def with_bucket_findings(table: pd.DataFrame, findings: pd.DataFrame | None) -> pd.DataFrame:
    """The coverage table with what LOG-03 concluded on each trail's bucket: its verdicts other than PASS, or
    "all PASS"."""
    f = findings if findings is not None else pd.DataFrame(columns=["check_id", "resource_id", "status", "reason"])
    verdicts: dict[str, list[str]] = {}
    for resource, status, reason in zip(*(values(f[f["check_id"] == "LOG-03"][c])
                                          for c in ("resource_id", "status", "reason"))):
        verdicts.setdefault(resource, []).extend([f"{status}: {reason}"] if status != "PASS" else [])
    said = []
    for bucket in values(table["bucket"]):
        found = verdicts.get(f"arn:aws:s3:::{bucket}") if bucket else None
        said.append("" if found is None else "; ".join(found) or "all PASS")
    return table.assign(**{"bucket findings": said})


def coverage(frames: Frames, findings: pd.DataFrame | None = None) -> pd.DataFrame:
    """The coverage table (`trail_coverage`) with LOG-03's verdicts on each trail's bucket."""
    return with_bucket_findings(trail_coverage(frames), findings)


COVERAGE = "logging.coverage"  # the name of the table a run shares (views.pack_tables)


def tables(frames: Frames, findings: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """What the logging page shows beyond the findings: the coverage, without the findings' verdicts."""
    return {COVERAGE: trail_coverage(frames)}


def tamperers(findings: pd.DataFrame) -> pd.DataFrame:
    """Principals LOG-03 found able to stop the trails or delete/rewrite their logs, with the granting statements."""
    rows = findings[(findings["check_id"] == "LOG-03") & (findings["resource_type"] == "iam-principal")]
    return rows[["status", "resource_id", "reason"]].rename(columns={"resource_id": "principal",
                                                                      "reason": "what it may do, and why"})


def show_coverage(ctx) -> None:
    """The coverage table and the list of who can tamper with the logs (notebook display)."""

    table = shared(ctx, COVERAGE, trail_coverage)
    if table is None:
        show_html("<p>No evidence folder beside these findings: the coverage view needs it.</p>")
        return
    table = with_bucket_findings(table, ctx.findings)
    show_html("<h3>Trails covering each cluster region</h3>" + render.table(table))
    who = tamperers(ctx.findings)
    if who.empty:
        show_html("<h3>Who can tamper with the logs</h3><p>No principal found (see LOG-03 for why).</p>")
    else:
        show_html("<h3>Who can tamper with the logs</h3>" + render.table(who))

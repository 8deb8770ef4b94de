"""Images domain displays: the image inventory (sortable, filterable) and the benchmark runs behind IMG-02/03."""

from __future__ import annotations

import pandas as pd

from .. import render
from ..frames import Frames
from ..frames.images import SEVERITIES
from .show import show_html

COLUMNS = ["image", "registry", "repository", "tag", "pushed", "scan_status", "critical", "high", "medium", "low",
           "other", "base_image", "clusters", "where_it_runs"]


def inventory(frames: Frames, clusters: list[str] | None = None) -> pd.DataFrame:
    """Every image: where it comes from, when it was pushed, its last scan, its base, and where it runs.

    One row per image reference running in the audited clusters (all namespaces), then the audited account's
    ECR images that nothing runs (where_it_runs "not running").
    """
    c = frames.container_images
    if clusters:
        c = c[c["cluster"].isin(clusters)]
    bases = {(b.region, b.repository, b.digest): b.base_name for b in frames.ecr_image_bases.itertuples(index=False)}
    rows, seen = [], set()
    for image, g in (c.groupby("image", sort=True) if not c.empty else []):
        x = g.iloc[0]
        matched = x["match"] == "matched"
        if matched:
            seen.add((x["ecr_region"], x["repository"], x["image_digest"]))
        rows.append({
            "image": image, "registry": x["registry"], "repository": x["repository"], "tag": x["tag"] or x["digest"],
            "pushed": _day(x["pushed_at"]) if matched else "",
            "scan_status": x["scan_status"] if matched else f"unknown ({x['match']})",
            **_counts(x if matched else None),
            "base_image": bases.get((x["ecr_region"], x["repository"], x["image_digest"]), "") if matched else "",
            "clusters": ", ".join(sorted(set(g["cluster"]))),
            "where_it_runs": ", ".join(sorted(set(g["cluster"] + ": " + g["namespace"] + "/" + g["workload"] + "/"
                                                  + g["container"]))),
        })
    account = frames.evidence.account
    for x in frames.ecr_images.to_dict("records"):
        if (x["region"], x["repository"], x["digest"]) in seen:
            continue
        registry = f"{x['registry_id'] or account}.dkr.ecr.{x['region']}.amazonaws.com"
        tags = x["tags"] or [""]
        for tag in tags:
            rows.append({
                "image": f"{registry}/{x['repository']}" + (f":{tag}" if tag else f"@{x['digest']}"),
                "registry": registry, "repository": x["repository"], "tag": tag or x["digest"],
                "pushed": _day(x["pushed_at"]),
                "scan_status": x["scan_status"], **_counts(x),
                "base_image": bases.get((x["region"], x["repository"], x["digest"]), ""),
                "clusters": "", "where_it_runs": "not running"})
    return pd.DataFrame(rows, columns=COLUMNS)


def _day(at) -> str:
    return at.strftime("%Y-%m-%d") if pd.notna(at) else ""


def _counts(x) -> dict:
    if x is None:
        return {"critical": "", "high": "", "medium": "", "low": "", "other": ""}
    return {"critical": int(x["critical"]), "high": int(x["high"]), "medium": int(x["medium"]), "low": int(x["low"]),
            "other": int(x["informational"]) + int(x["undefined"])}


def show_inventory(ctx, clusters: list[str] | None = None) -> pd.DataFrame:
    """Display the image inventory; returns it as a DataFrame for sorting and filtering in pandas too."""
    if ctx.evidence is None:
        show_html('<p class="ek-muted">No evidence folder in this run: the inventory needs it.</p>')
        return pd.DataFrame(columns=COLUMNS)
    inv = inventory(Frames(ctx.evidence), clusters)
    running = inv[inv["where_it_runs"] != "not running"]
    summary = (f"<p>{len(running)} image reference(s) running, {len(inv) - len(running)} ECR image tag(s) not "
               f"running. Severity counts come from the last ECR scan ({', '.join(s.lower() for s in SEVERITIES)}: "
               f"'other' adds informational and undefined).</p>")
    show_html(summary + render.sortable(inv, placeholder="filter: registry, repository, cluster, workload, status..."))
    return inv


def benchmark_runs(frames: Frames) -> pd.DataFrame:
    """Every kube-bench and Docker Bench run found: attached files and in-cluster kube-bench Jobs/CronJobs."""
    kb = frames.kube_bench_runs.assign(tool="kube-bench")
    db = frames.docker_bench_runs.assign(tool="Docker Bench")
    runs = pd.concat([kb, db], ignore_index=True)
    runs["run_at"] = runs["run_at"].map(lambda t: t.strftime("%Y-%m-%d %H:%M UTC") if pd.notna(t) else "")
    cols = ["tool", "cluster", "source", "name", "run_at", "time_source", "status", "fails", "warns", "error", "note",
            "evidence"]
    return runs[cols]


def show_benchmarks(ctx) -> pd.DataFrame:
    if ctx.evidence is None:
        show_html('<p class="ek-muted">No evidence folder in this run.</p>')
        return pd.DataFrame()
    runs = benchmark_runs(Frames(ctx.evidence))
    show_html(render.sortable(runs) if not runs.empty else
             '<p class="ek-muted">No kube-bench or Docker Bench evidence: no result attached and no kube-bench '
             "Job or CronJob found.</p>")
    return runs

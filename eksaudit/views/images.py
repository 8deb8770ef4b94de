"""Images domain displays: the image inventory and the benchmark runs behind IMG-02/03.

A run builds both once, from the frames its checks built (`tables`, through views.pack_tables), writes the
inventory into the pack (image-inventory.csv) and hands both to its kernels with the findings: the page reads them
and not the evidence. A notebook opened in JupyterLab builds them from the evidence.
The page lists the images that need attention and counts the rest, as it does findings: it grows with the
offenders, not with the estate; the export and the `inventory` DataFrame hold every image.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from .. import render
from ..findings import ATTENTION
from ..frames import Frames, records, values
from ..frames.images import SEVERITIES
from . import shared
from .show import show_html

COLUMNS = ["image", "registry", "repository", "tag", "pushed", "scan_status", "critical", "high", "medium", "low",
           "other", "base_image", "clusters", "where_it_runs"]
NOT_RUNNING = "not running"
EXPORT = "image-inventory.csv"  # every image, in the pack beside findings.csv
SCANNED = ("COMPLETE", "ACTIVE")
# What the page lists per image that needs attention; the export and the DataFrame have every column.
LISTED = ["image", "clusters", "findings", "scan_status", "critical", "high", "pushed", "base_image", "where_it_runs"]
PLACES_SHOWN = 3  # places named per listed image ("and N more"); the export names them all
INVENTORY, BENCHMARK_RUNS = "images.inventory", "images.benchmark_runs"  # names of the tables a run shares


def inventory(frames: Frames, clusters: list[str] | None = None) -> pd.DataFrame:
    """Every image: where it comes from, when it was pushed, its last scan, its base, and where it runs.

    One row per image reference running in the audited clusters (all namespaces), in image order, then the
    audited account's ECR images that nothing runs (where_it_runs "not running"), one row per tag. Read in one
    pass over the containers and one over the ECR images (not a frame per image).
    """
    c = frames.container_images
    if clusters:
        c = c[c["cluster"].isin(clusters)]
    c = c[c["image"].notna()]  # no image, no group (as groupby did)
    b = frames.ecr_image_bases
    bases = dict(zip(zip(values(b["region"]), values(b["repository"]), values(b["digest"])), values(b["base_name"])))
    running, seen = _running(c, bases)
    return pd.DataFrame(running + _not_running(frames.ecr_images, seen, frames.evidence.account, bases),
                        columns=COLUMNS)


def _running(c: pd.DataFrame, bases: dict) -> tuple[list[tuple], set]:
    """A row per image reference (what its first container resolved to in ECR, every cluster and place it runs),
    and the ECR images (region, repository, digest) they matched."""
    clusters: dict[str, set[str]] = {}
    places: dict[str, set[str]] = {}
    for image, cluster, namespace, workload, container in zip(
            *(values(c[col]) for col in ("image", "cluster", "namespace", "workload", "container"))):
        clusters.setdefault(image, set()).add(cluster)
        places.setdefault(image, set()).add(f"{cluster}: {namespace}/{workload}/{container}")
    cols = ["image", "registry", "repository", "tag", "digest", "match", "ecr_region", "image_digest", "pushed_at",
            "scan_status", "critical", "high", "medium", "low", "informational", "undefined"]
    rows, seen = [], set()
    for x in sorted(records(c.drop_duplicates("image")[cols]), key=lambda x: x["image"]):
        key = (x["ecr_region"], x["repository"], x["image_digest"])
        matched = x["match"] == "matched"
        if matched:
            seen.add(key)
        rows.append((x["image"], x["registry"], x["repository"], x["tag"] or x["digest"],
                     _day(x["pushed_at"]) if matched else "",
                     x["scan_status"] if matched else f"unknown ({x['match']})",
                     *(_counts(x) if matched else ("",) * 5), bases.get(key, "") if matched else "",
                     ", ".join(sorted(clusters[x["image"]])), ", ".join(sorted(places[x["image"]]))))
    return rows, seen


def _not_running(images: pd.DataFrame, seen: set, account: str, bases: dict) -> list[tuple]:
    """A row per tag (or per untagged digest) of the audited ECR images no running reference matched."""
    rows = []
    for x in records(images):
        key = (x["region"], x["repository"], x["digest"])
        if key in seen:
            continue
        registry = f"{x['registry_id'] or account}.dkr.ecr.{x['region']}.amazonaws.com"
        for tag in x["tags"] or [""]:
            rows.append((f"{registry}/{x['repository']}" + (f":{tag}" if tag else f"@{x['digest']}"), registry,
                         x["repository"], tag or x["digest"], _day(x["pushed_at"]), x["scan_status"], *_counts(x),
                         bases.get(key, ""), "", NOT_RUNNING))
    return rows


def _day(at) -> str:
    return at.strftime("%Y-%m-%d") if pd.notna(at) else ""


def _counts(x: dict) -> tuple[int, ...]:
    return (int(x["critical"]), int(x["high"]), int(x["medium"]), int(x["low"]),
            int(x["informational"]) + int(x["undefined"]))


def tables(frames: Frames, findings: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """What the images page shows beyond the findings, built from a run's frames (see the module's docstring)."""
    return {INVENTORY: inventory(frames), BENCHMARK_RUNS: benchmark_runs(frames)}


# ---- the page ---------------------------------------------------------------------------------------------


def image_findings(findings: pd.DataFrame) -> tuple[dict[str, str], set[tuple[str, str]], set[tuple[str, str]]]:
    """From the findings about images themselves (resource type image: IMG-04's base, IMG-05's scan, age and
    pinning): image -> the checks and statuses that need attention ("IMG-04 FAIL, IMG-05 MANUAL"), and the
    (cluster, image) pairs that need attention and that have any such finding."""
    f = findings[findings["resource_type"] == "image"]
    checked = set(zip(values(f["cluster"]), values(f["resource_id"])))
    a = f[f["status"].isin(ATTENTION)]
    attention = set(zip(values(a["cluster"]), values(a["resource_id"])))
    what: dict[str, set[str]] = {}
    for image, check, status in zip(values(a["resource_id"]), values(a["check_id"]), values(a["status"])):
        what.setdefault(image, set()).add(f"{check} {status}")
    return {k: ", ".join(sorted(v)) for k, v in what.items()}, attention, checked


def _places(text: str) -> str:
    places = text.split(", ")
    more = len(places) - PLACES_SHOWN
    return ", ".join(places[:PLACES_SHOWN]) + (f" and {more} more" if more > 0 else "")


def needing_attention(inv: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """The running images with a finding of their own that needs attention, in LISTED's columns, with the first
    places each runs in."""
    what, _, _ = image_findings(findings)
    running = inv[(inv["where_it_runs"] != NOT_RUNNING) & inv["image"].isin(list(what))]
    return running.assign(findings=[what[i] for i in values(running["image"])],
                          where_it_runs=[_places(w) for w in values(running["where_it_runs"])])[LISTED]


RUNNING_COUNTS = ["cluster", "registry", "images", "need attention (listed)", "checked, nothing to look at",
                  "no image finding"]


def running_counts(inv: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Running images per cluster and registry: those listed, those whose own findings need nothing, and those
    with no finding of their own (only in namespaces the checks exclude, or a cluster whose workloads could not
    be read: its ERROR says so)."""
    _, attention, checked = image_findings(findings)
    listed, passed, unchecked = RUNNING_COUNTS[3:]
    running = inv[inv["where_it_runs"] != NOT_RUNNING]
    tally: Counter = Counter()
    for image, registry, clusters in zip(*(values(running[c]) for c in ("image", "registry", "clusters"))):
        for cluster in clusters.split(", "):  # EKS cluster names hold no comma
            pair = (cluster, image)
            state = listed if pair in attention else passed if pair in checked else unchecked
            tally[(cluster, registry, "images")] += 1
            tally[(cluster, registry, state)] += 1
    keys = sorted({k[:2] for k in tally})
    return pd.DataFrame([(*k, *(tally[(*k, c)] for c in RUNNING_COUNTS[2:])) for k in keys], columns=RUNNING_COUNTS)


IDLE_COUNTS = ["registry", "image tags", "scanned", "with CRITICAL or HIGH findings"]


def idle_counts(inv: pd.DataFrame) -> pd.DataFrame:
    """ECR image tags nothing runs, per registry: how many, how many have a completed scan, how many of those
    found something CRITICAL or HIGH (still pullable, and deployable again by mistake)."""
    idle = inv[inv["where_it_runs"] == NOT_RUNNING]
    if idle.empty:
        return pd.DataFrame(columns=IDLE_COUNTS)
    scanned = idle["scan_status"].isin(SCANNED)
    serious = scanned & ((pd.to_numeric(idle["critical"]) > 0) | (pd.to_numeric(idle["high"]) > 0))
    out = pd.DataFrame({"registry": idle["registry"], "image tags": 1, "scanned": scanned.astype(int),
                        "with CRITICAL or HIGH findings": serious.astype(int)})
    return out.groupby("registry", sort=True).sum().reset_index()[IDLE_COUNTS]


def inventory_html(inv: pd.DataFrame, findings: pd.DataFrame) -> str:
    """The inventory section: the images that need attention listed, the rest counted, where every image is."""
    running = inv[inv["where_it_runs"] != NOT_RUNNING]
    listed = needing_attention(inv, findings)
    counts = running_counts(inv, findings)
    idle = idle_counts(inv)
    severities = ", ".join(s.lower() for s in SEVERITIES)
    html = (f"<p>{len(running)} image reference(s) running in {counts['cluster'].nunique()} cluster(s), "
            f"{len(inv) - len(running)} ECR image tag(s) of the audited account that nothing runs. Every image, "
            f"with every place it runs, its last scan and its base: <code>{EXPORT}</code> in the pack (in JupyterLab, "
            "the DataFrame <code>inventory</code>). Severity counts come from the last ECR scan "
            f"({severities}: 'other' adds informational and undefined).</p>")
    html += (f"<p><b>Images that need attention ({len(listed)})</b>: a finding about the image itself (IMG-04's "
             "base, IMG-05's scan, age and pinning) is FAIL, ERROR, MANUAL or WAIVED; the checks below give each "
             f"reason. The first {PLACES_SHOWN} places each image runs in are named. Findings about containers "
             "(IMG-01's registry, IMG-06's root filesystem) are listed under their checks.</p>")
    html += (render.sortable(listed, placeholder="filter: image, cluster, check, scan status, base, workload...")
             if len(listed) else "<p>None.</p>")
    html += ("<p><b>Running images, counted per cluster and registry.</b> An image running in two clusters counts "
             "in each. <i>no image finding</i>: it runs only in namespaces the image checks exclude "
             "(exclude_namespaces), or the cluster's workloads could not be read (IMG-05 has an ERROR for it).</p>"
             + (render.table(counts, interactive=False) if len(counts) else "<p>No running image.</p>"))
    html += ("<p><b>ECR images nothing runs, per registry.</b> Still pullable: a lifecycle policy (IMG-08) expires "
             "them.</p>" + (render.table(idle, interactive=False) if len(idle) else "<p>None.</p>"))
    return html


def show_inventory(ctx, clusters: list[str] | None = None) -> pd.DataFrame:
    """Display the inventory section; returns every image as a DataFrame, to sort and filter in pandas."""
    inv = shared(ctx, INVENTORY, lambda f: inventory(f, clusters), share=not clusters)
    if inv is None:
        show_html('<p class="ek-muted">No evidence folder in this run: the inventory needs it.</p>')
        return pd.DataFrame(columns=COLUMNS)
    show_html(inventory_html(inv, ctx.findings))
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
    runs = shared(ctx, BENCHMARK_RUNS, benchmark_runs)
    if runs is None:
        show_html('<p class="ek-muted">No evidence folder in this run.</p>')
        return pd.DataFrame()
    show_html(render.sortable(runs) if not runs.empty else
              '<p class="ek-muted">No kube-bench or Docker Bench evidence: no result attached and no kube-bench '
              "Job or CronJob found.</p>")
    return runs

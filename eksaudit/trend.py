"""The trend over earlier audits of the same account: FAIL counts per domain and the PASS share per cluster.

Earlier packs are found in the folder the new pack is written to (reports/ by default) or in `--history DIR`:
every sub-folder holding a pack of the same account that started before this run. They are received files:
each one's run.json and findings.json are read only when they match its manifest (a pack that does not is
listed as skipped, never counted), through safe_files. At most MAX_PACKS of the most recent are read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from .domains import IDS
from .pack import read_verified
from .safe_files import Refused, load_json, read_inside, shown

MAX_PACKS = 24
FILE = "trend.json"
RUN_LIMIT = 4 << 20  # run.json is small; a huge one is not worth reading to find out whose it is


def point(run: dict, findings: pd.DataFrame) -> dict:
    """One audit on the trend: when, FAILs per domain, PASS share (PASS among PASS and FAIL) per cluster."""
    f = findings.reindex(columns=["domain", "cluster", "status"]).fillna("").astype(str)
    fails = f[f["status"] == "FAIL"]["domain"].value_counts()
    domains = list(IDS) + sorted(set(f["domain"]) - set(IDS) - {""})
    share = {}
    for cluster, rows in f[f["cluster"] != ""].groupby("cluster"):
        passed, failed = int((rows["status"] == "PASS").sum()), int((rows["status"] == "FAIL").sum())
        share[cluster] = round(100 * passed / (passed + failed), 1) if passed + failed else None
    return {"run_id": str(run.get("run_id", "")), "started": str(run.get("started", "")),
            "fails": {d: int(fails.get(d, 0)) for d in domains}, "pass_share": share}


def _earlier(folder: Path, account: str, before: str, exclude: set[str]) -> tuple[list[dict], list[str]]:
    points, skipped = [], []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return [], []
    candidates = []
    for name in names:
        path = folder / name
        if name.startswith(".") or path.is_symlink() or not path.is_dir() or not (path / "manifest.json").is_file():
            continue
        if str(path.resolve()) in exclude:
            continue
        try:
            run = load_json(read_inside(path, "run.json", "pack file", limit=RUN_LIMIT), "run.json", "pack file")
        except Refused:
            continue
        if not isinstance(run, dict) or str(run.get("account", "")) != account or not run.get("started"):
            continue
        if str(run["started"]) >= before:
            continue
        candidates.append((str(run["started"]), name, path))
    for _, name, path in sorted(candidates)[-MAX_PACKS:]:
        bodies, problems = read_verified(path, ["run.json", "findings.json"])
        if problems:
            skipped.append(f"{shown(name)}: {problems[0]}")
            continue
        try:
            run = load_json(bodies["run.json"], "run.json", "pack file")
            rows = load_json(bodies["findings.json"], "findings.json", "pack file")
        except Refused as exc:
            skipped.append(f"{shown(name)}: {exc.problem}")
            continue
        if not isinstance(run, dict) or not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            skipped.append(f"{shown(name)}: not a findings list")
            continue
        points.append(point(run, pd.DataFrame(rows, dtype=str)))
    return points, skipped


def write(folder: Path, history: Path, run: dict, findings: pd.DataFrame, exclude: list[Path] = ()) -> dict:
    """trend.json in the pack being built: earlier audits of this account from `history`, then this one.
    Returns its record for run.json (where the history was read, how many audits, which packs were skipped)."""
    history = Path(history)
    points, skipped = _earlier(history, str(run.get("account", "")), str(run.get("started", "")),
                               {str(Path(p).resolve()) for p in exclude})
    doc = {"history": str(history.resolve()), "points": points + [point(run, findings)], "skipped": skipped}
    (Path(folder) / FILE).write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return {"history": doc["history"], "audits": len(doc["points"]), "skipped": skipped}


def series(doc: dict) -> tuple[list[str], dict[str, list], dict[str, list]]:
    """(x labels, FAILs per domain, PASS share per cluster) from trend.json, oldest first."""
    points = doc.get("points") or []
    labels = [p.get("started", "")[:16].replace("T", " ") or p.get("run_id", "") for p in points]
    domains = list(dict.fromkeys(d for p in points for d in p.get("fails", {})))
    clusters = sorted({c for p in points for c in p.get("pass_share", {})})
    fails = {d: [p.get("fails", {}).get(d, 0) for p in points] for d in domains}
    share = {c: [p.get("pass_share", {}).get(c) for p in points] for c in clusters}
    return labels, fails, share

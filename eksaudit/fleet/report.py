"""The fleet folder's own files: the roll-up page, the concatenated exports, fleet.json and one manifest.

```
<fleet>/index.html           accounts x clusters x domains, worst findings, checks failing in the most places,
                             targets that could not be audited and why
<fleet>/findings.csv|json    every target's findings, with a `target` column first
<fleet>/findings.ocsf.json   every target's OCSF events (unmapped.target names the target)
<fleet>/fleet.json           the run: options, each target's summary, the exit code
<fleet>/targets/<name>/      each target's complete pack, as `eksaudit run` writes it (its own manifest)
<fleet>/manifest.json        every file above, target packs included: `eksaudit verify <fleet>` checks it all
```
The target packs are files written by workers, possibly on other machines: they are read back with the
received-file rules (`safe_files`) and each is verified against its own manifest before the roll-up counts it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__, clock, render, safe_files
from ..domains import DOMAINS
from ..errors import UserError
from ..exports import _csv_safe  # the same formula guard as a single pack's CSV
from ..findings import COLUMNS, SEVERITY_RANK, STATUSES
from ..pack import verify, write_manifest
from .targets import Fleet

FLEET_COLUMNS = ["target", *COLUMNS]
TITLE = "EKS security audit: fleet"
NAV = [("index.html", "Fleet")]
WORST_ROWS = 100  # FAIL findings listed on the page (all of them are in findings.csv)


def write(folder: Path, fleet: Fleet, summaries: list[dict], options: dict[str, Any], *, run_id: str,
          started: str, where: str, sign_key: bytes | None = None) -> dict:
    """Write the fleet's files into `folder` (which holds targets/<name>/ packs) and return fleet.json."""
    summaries = [_checked(folder, s) for s in summaries]
    findings = _findings(folder, summaries)
    doc = {"format": "eksaudit-fleet/1", "fleet_run_id": run_id, "tool": "eksaudit", "version": __version__,
           "started": started, "finished": clock.iso(), "where": where,
           "targets_file": {"name": fleet.path.name, "sha256": fleet.sha256},
           "options": _public_options(options),
           "targets": [{**_public_spec(t.spec), **s} for t, s in zip(fleet.targets, summaries)],
           "exit": exit_code(summaries)}
    csv = findings if findings.empty else findings.apply(lambda col: col.map(_csv_safe))
    csv.to_csv(folder / "findings.csv", index=False, columns=FLEET_COLUMNS)
    (folder / "findings.json").write_text(json.dumps(findings.to_dict(orient="records"), indent=1),
                                          encoding="utf-8")
    (folder / "findings.ocsf.json").write_text(json.dumps(_ocsf(folder, summaries), indent=1), encoding="utf-8")
    (folder / "fleet.json").write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
    (folder / "index.html").write_text(page(doc, findings), encoding="utf-8")
    write_manifest(folder, doc, sign_key)
    return doc


def exit_code(summaries: list[dict]) -> int:
    """The fleet's exit code, the single run's rules over all targets: 1 when any target has a FAIL at or above
    --fail-on (a proven failure outranks a gap); else 3 when any target is incomplete or could not be audited;
    2 when no target could be audited at all; else 0."""
    codes = [s.get("exit") for s in summaries if s["status"] == "audited"]
    if not codes:
        return 2
    if 1 in codes:
        return 1
    if 3 in codes or len(codes) < len(summaries):
        return 3
    return 0


def _public_spec(spec: dict) -> dict:
    """What fleet.json says about a target: who and where, not the files it read or its external ID."""
    kube = ("snapshot" if spec.get("k8s_snapshot") else "eks-auth" if spec.get("eks_auth")
            else "kubeconfig" if spec.get("kubeconfig") or spec.get("context") else "none")
    out = {k: spec[k] for k in ("role_arn", "profile", "endpoint_url", "timeout") if spec.get(k)}
    out["requested_clusters"] = spec.get("clusters", "all")
    out["kubernetes_source"] = kube
    out["external_id"] = bool(spec.get("external_id"))
    out["requested_regions"] = spec.get("regions", [])
    return out


def _public_options(options: dict) -> dict:
    out = {k: options.get(k) for k in ("fail_on", "params", "checks_dir", "pdf", "timeout", "accept_incomplete",
                                       "notebooks")}
    out["signed"] = bool(options.get("sign_key_file"))
    return out


def _checked(folder: Path, summary: dict) -> dict:
    """An audited target's pack must be here (the workers' storage is this machine's) and intact."""
    if summary["status"] != "audited":
        return summary
    pack = folder / summary["pack"]
    try:
        problems = verify(pack)
    except UserError as exc:
        problems = [str(exc)]
    if not problems:
        return summary
    cause = (f"its pack was not found in {safe_files.shown(folder)}: is --out on storage shared with the Dask "
             "workers, at the same path?") if not pack.is_dir() else \
        f"its pack does not match its manifest ({'; '.join(problems[:3])})"
    return {**summary, "status": "failed", "error": cause, "exit": None}


def _read_json(folder: Path, rel: str) -> Any:
    return safe_files.load_json(safe_files.read_inside(folder, rel, "target pack file"), rel, "target pack file")


def _findings(folder: Path, summaries: list[dict]) -> pd.DataFrame:
    frames = []
    for s in summaries:
        if s["status"] != "audited":
            continue
        rows = _read_json(folder, f"{s['pack']}/findings.json")
        df = pd.DataFrame(rows if isinstance(rows, list) else [], columns=COLUMNS).fillna("").astype(str)
        frames.append(df.assign(target=s["target"]))
    if not frames:
        return pd.DataFrame(columns=FLEET_COLUMNS)
    return pd.concat(frames, ignore_index=True).reindex(columns=FLEET_COLUMNS)


def _ocsf(folder: Path, summaries: list[dict]) -> list[dict]:
    events = []
    for s in summaries:
        if s["status"] != "audited":
            continue
        for event in _read_json(folder, f"{s['pack']}/findings.ocsf.json") or []:
            if isinstance(event, dict):
                event.setdefault("unmapped", {})["target"] = s["target"]
                events.append(event)
    return events


# ---- the page ----------------------------------------------------------------------------------------------


def _pack_link(summary: dict, text: str) -> str:
    """A link to a target's pack; names were checked against targets.NAME_RE, and are escaped anyway."""
    if summary["status"] != "audited":
        return render.esc(text)
    return f'<a href="{render.esc(summary["pack"])}/index.html">{render.esc(text)}</a>'


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    """A table whose cells are markup already built from escaped values (badges, links)."""
    head = "".join(f"<th>{render.esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'{render.CSS}<table class="ek-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _counts_cell(statuses: pd.Series) -> str:
    """The worst status as a badge, then how many of each (FAIL, ERROR, MANUAL) and the PASS count."""
    if statuses.empty:
        return '<span class="ek-muted">-</span>'
    counts = statuses.value_counts()
    # NOT_APPLICABLE says least about a place: a PASS beside it is the headline.
    order = [s for s in STATUSES if s != "NOT_APPLICABLE"] + ["NOT_APPLICABLE"]
    worst = next(s for s in order if counts.get(s, 0))
    parts = [f"{s} {int(counts[s])}" for s in ("FAIL", "ERROR", "MANUAL", "PASS") if counts.get(s, 0)]
    return f"{render.status_badge(worst)} {render.esc(' · '.join(parts))}"


def _result_words(summary: dict) -> str:
    return {None: "not audited", 0: "complete, no FAIL at or above --fail-on", 1: "FAIL at or above --fail-on",
            3: "incomplete (ERROR findings)"}.get(summary.get("exit"), str(summary.get("exit")))


def page(doc: dict, findings: pd.DataFrame) -> str:
    summaries = doc["targets"]
    audited = [s for s in summaries if s["status"] == "audited"]
    failed = [s for s in summaries if s["status"] != "audited"]
    parts = [f"<h1>{render.esc(TITLE)}</h1>"]
    facts = [("Fleet run", doc["fleet_run_id"]), ("Targets file", doc["targets_file"]["name"]),
             ("Started → finished", f"{doc['started']} → {doc['finished']}"), ("Ran on", doc["where"]),
             ("Targets", f"{len(summaries)}: {len(audited)} audited, {len(failed)} could not be audited"),
             ("Accounts", ", ".join(sorted({s.get("account") for s in audited if s.get("account")})) or "none"),
             ("Tool", f"eksaudit {doc['version']}")]
    parts.append(render.table(pd.DataFrame(facts, columns=["", "value"])))
    if failed:
        parts.append(f'<div class="ek-banner" role="alert"><b>{len(failed)} of {len(summaries)} targets could not '
                     'be audited.</b> Nothing is claimed for them; see <a href="#not-audited">Targets not '
                     "audited</a> for why.</div>")
    parts.append("<h2>Targets</h2>")
    rows = []
    for s in summaries:
        counts = s.get("counts") or {}
        shown_counts = (render.esc(counts.get(k, 0)) if s["status"] == "audited" else "-"
                        for k in ("FAIL", "ERROR", "MANUAL", "PASS"))
        rows.append([_pack_link(s, s["target"]), render.esc(s.get("account") or "?"),
                     render.esc(", ".join(s.get("regions") or [])), render.esc(", ".join(s.get("clusters") or [])),
                     *shown_counts, render.esc(_result_words(s))])
    parts.append(_html_table(["target", "account", "regions", "clusters", "FAIL", "ERROR", "MANUAL", "PASS",
                              "result"], rows))
    parts.append("<h2>Accounts × clusters × domains</h2>")
    parts.append(_matrix(findings))
    parts.append("<h2>Worst findings across the fleet</h2>")
    parts.append(_worst(findings))
    parts.append("<h2>Checks failing in the most places</h2>")
    parts.append(_most_failing(findings))
    parts.append('<h2 id="not-audited">Targets not audited</h2>')
    if failed:
        parts.append(_html_table(["target", "account", "regions", "why"],
                                 [[render.esc(s["target"]), render.esc(s.get("account") or "?"),
                                   render.esc(", ".join(s.get("regions") or [])), render.esc(s.get("error"))]
                                  for s in failed]))
    else:
        parts.append("<p>Every target was audited.</p>")
    if not findings.empty:
        parts.append("<h2>Findings by domain</h2>" + render.bar_chart(findings, "domain"))
    subtitle = f"fleet {doc['fleet_run_id']} · {len(summaries)} targets"
    return render.page(TITLE, "\n".join(parts), current="index.html", subtitle=subtitle, nav=NAV)


def _matrix(findings: pd.DataFrame) -> str:
    """One row per target and cluster ("account-wide" for rows not about a cluster), one column per domain."""
    if findings.empty:
        return "<p>No findings.</p>"
    domains = [d.id for d in DOMAINS] + sorted(set(findings["domain"]) - {d.id for d in DOMAINS})
    titles = {d.id: d.title for d in DOMAINS}
    rows = []
    for (account, target, cluster), group in findings.groupby(["account_id", "target", "cluster"], sort=True):
        by_domain = dict(tuple(group.groupby("domain")["status"]))
        rows.append([render.esc(account), render.esc(target), render.esc(cluster or "(account-wide)"),
                     *(_counts_cell(by_domain.get(d, pd.Series(dtype=str))) for d in domains)])
    return _html_table(["account", "target", "cluster", *(titles.get(d, d) for d in domains)], rows)


def _worst(findings: pd.DataFrame) -> str:
    fails = findings[findings["status"] == "FAIL"]
    if fails.empty:
        return "<p>No FAIL findings.</p>"
    ranked = fails.assign(_r=-fails["severity"].map(SEVERITY_RANK).fillna(0)).sort_values(
        ["_r", "check_id", "account_id", "target", "cluster", "resource_id"], kind="stable").drop(columns="_r")
    more = (f'<p class="ek-muted">The {WORST_ROWS} most severe of {len(fails)} FAIL findings; all are in '
            "findings.csv.</p>") if len(fails) > WORST_ROWS else ""
    return render.sortable(ranked.head(WORST_ROWS), ["severity", "check_id", "title", "target", "account_id",
                                                     "region", "cluster", "resource_id", "reason"]) + more


def _most_failing(findings: pd.DataFrame) -> str:
    """Per check: the places (target, account, region, cluster) where it fails, the accounts, the findings."""
    fails = findings[findings["status"] == "FAIL"]
    if fails.empty:
        return "<p>No check fails anywhere.</p>"
    place = fails["target"] + "\0" + fails["account_id"] + "\0" + fails["region"] + "\0" + fails["cluster"]
    grouped = fails.assign(_place=place).groupby("check_id")
    table = pd.DataFrame({
        "places": grouped["_place"].nunique(), "accounts": grouped["account_id"].nunique(),
        "targets": grouped["target"].nunique(), "findings": grouped.size(),
        "title": grouped["title"].first(),
        "severity": grouped["severity"].agg(lambda s: max(s, key=lambda v: SEVERITY_RANK.get(v, -1))),
    }).reset_index().sort_values(["places", "accounts", "findings", "check_id"],
                                 ascending=[False, False, False, True], kind="stable")
    return render.table(table, ["check_id", "title", "severity", "places", "accounts", "targets", "findings"])

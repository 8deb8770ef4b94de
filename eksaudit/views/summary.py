"""The summary page (index.html): who/what/when, totals, scorecard, top risks, requirement coverage, and the
audit's life between packs: waivers, what changed since the baseline, and the trend over earlier packs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from .. import render
from ..checks import load, use_checks_dir
from ..diff import COUNT_COLUMNS
from ..domains import DOMAINS
from ..findings import SEVERITY_RANK, STATUSES
from ..notebook import load_findings
from ..requirements import PRACTICES
from ..waivers import waiver_columns
from .show import show_html


@dataclasses.dataclass
class Summary:
    run: dict
    findings: pd.DataFrame
    run_dir: str = ""


def open_summary(run_dir: str, checks_dir: str = "") -> Summary:
    use_checks_dir(checks_dir)
    run = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
    return Summary(run, load_findings(run_dir), run_dir)


def show_run(s: Summary) -> None:
    r = s.run
    rows = [("Account", r.get("account")), ("Caller", r.get("caller")), ("Regions", ", ".join(r.get("regions") or [])),
            ("Clusters", ", ".join(f"{k} ({v})" for k, v in (r.get("clusters") or {}).items())),
            ("Account inventory", _inventory_words(r.get("scope"))),
            ("Kubernetes source", r.get("kubernetes_source")), ("Run started", r.get("started")),
            ("Collected (start → end)", " → ".join(map(str, r.get("collected") or []))),
            ("Run", r.get("run_id")), ("Tool", f"eksaudit {r.get('version')}"),
            ("Parameters", json.dumps(r.get("params") or {}, sort_keys=True))]
    links = " · ".join(f'<a href="{d.page}">{render.esc(d.title)}</a>' for d in DOMAINS)
    show_html(render.table(pd.DataFrame(rows, columns=["", "value"])) + f"<p>Domain pages: {links}</p>")


def show_incomplete(s: Summary) -> None:
    """A banner first on the page when some checks could not be verified: the audit is not a clean one."""
    unverified = s.run.get("unverified_checks") or []
    if not unverified:
        return
    errors = int((s.findings["status"] == "ERROR").sum())
    total = s.findings["check_id"].nunique()
    show_html(f'<div class="ek-banner" role="alert"><b>Incomplete audit.</b> {len(unverified)} of {total} checks '
             f"could not be verified everywhere ({errors} ERROR findings): where an input could not be read, no "
             f"PASS is claimed. Checks affected: {render.esc(', '.join(unverified))}. See "
             '<a href="#not-audited">Not audited</a> for what was missing and how to fix it.</div>')


def show_not_audited(s: Summary) -> None:
    """Scope x missing inputs x cause x how to fix it, from the evidence manifest's failed reads."""
    rows = pd.DataFrame(s.run.get("not_audited") or [], columns=["scope", "inputs", "cause", "checks", "fix"])
    anchor = '<span id="not-audited"></span>'
    if rows.empty:
        show_html(anchor + "<p>Every input was read: nothing was left unaudited.</p>")
        return
    show_html(anchor + render.table(rows[["scope", "inputs", "cause", "checks", "fix"]]))


def _inventory_words(scope: dict | None) -> str:
    """What account-wide verdicts were decided over: every cluster of every enabled region, whatever was selected."""
    if not isinstance(scope, dict):
        return "not recorded (evidence collected without an account inventory)"
    inventory = scope.get("inventory") or {}
    n = sum(len(v) for v in inventory.values())
    where = ", ".join(f"{r}: {', '.join(v)}" for r, v in sorted(inventory.items()) if v) or "none"
    selected = ", ".join(scope.get("selected_clusters") or []) or "all clusters"
    return (f"{n} cluster(s) across {len(inventory)} region(s) listed ({where}); reported: {selected} in "
            f"{', '.join(scope.get('selected_regions') or [])}")


def show_totals(s: Summary) -> None:
    f = s.findings
    by_domain = render.counts(f, "domain")
    sev = pd.crosstab(f[f["status"] == "FAIL"]["domain"], f[f["status"] == "FAIL"]["severity"]) if len(f) else None
    html = render.bar_chart(f, "domain") + render.table(by_domain, links={"domain": lambda r: f"{r['domain']}.html"})
    if sev is not None and not sev.empty:
        sev = sev.reindex(columns=[c for c in ["critical", "high", "medium", "low", "info"] if c in sev.columns])
        html += "<h4>Failures by severity</h4>" + render.table(sev.reset_index())
    show_html(html)


def show_scorecard(s: Summary) -> None:
    f = s.findings[s.findings["cluster"] != ""]
    c = render.counts(f, "cluster")
    if not c.empty:
        checked = c["PASS"] + c["FAIL"]
        c["score"] = (100 * c["PASS"] / checked.where(checked > 0)).round(0).fillna(0).astype(int).astype(str) + "%"
    show_html(render.table(c) + '<p class="ek-muted">score: share of PASS among PASS and FAIL findings.</p>')


def show_top_risks(s: Summary, n: int = 15) -> None:
    f = s.findings[s.findings["status"] == "FAIL"]
    f = f.assign(_r=-f["severity"].map(SEVERITY_RANK)).sort_values(["_r", "check_id"], kind="stable").drop(columns="_r")
    cols = ["severity", "check_id", "title", "cluster", "resource_id", "reason"]
    catalog = load()
    page = {c.id: f"{c.domain}.html#{c.id}" for c in catalog.values()}
    f = f.head(n)
    if "title" not in f.columns:  # a run's kernel is given the columns pages show: titles come from the catalog
        f = f.assign(title=[catalog[i].title if i in catalog else "" for i in f["check_id"]])
    show_html(render.table(f, cols, links={"check_id": lambda r: page.get(r["check_id"], "")})
             if len(f) else "<p>No failures.</p>")


def coverage(s: Summary) -> pd.DataFrame:
    catalog = load()
    rows = []
    for pid, group, text in PRACTICES:
        ids = [c.id for c in catalog.values() if pid in c.requirements]
        f = s.findings[s.findings["check_id"].isin(ids)]
        tally = f["status"].value_counts()
        result = next((st for st in STATUSES if tally.get(st, 0)), "NOT AUDITED" if not ids else "NO FINDINGS")
        rows.append({"practice": pid, "group": group, "requirement": text, "checks": ", ".join(ids) or "—",
                     "status": result, "counts": ", ".join(f"{st} {int(tally[st])}" for st in STATUSES if tally.get(st))})
    # An organization's own checks (--checks-dir) may serve requirements of its own: one row each.
    known = {p[0] for p in PRACTICES}
    own: dict[str, list] = {}
    for c in catalog.values():
        for r in c.requirements:
            if r not in known:
                own.setdefault(r, []).append(c)
    for rid, checks in sorted(own.items()):
        f = s.findings[s.findings["check_id"].isin([c.id for c in checks])]
        tally = f["status"].value_counts()
        rows.append({"practice": rid, "group": "Organization", "requirement": checks[0].practice,
                     "checks": ", ".join(c.id for c in checks),
                     "status": next((st for st in STATUSES if tally.get(st, 0)), "NO FINDINGS"),
                     "counts": ", ".join(f"{st} {int(tally[st])}" for st in STATUSES if tally.get(st))})
    return pd.DataFrame(rows)


def show_coverage(s: Summary) -> None:
    page = {c.id: f"{c.domain}.html#{c.id}" for c in load().values()}
    cov = coverage(s)
    first = {"checks": lambda r: page.get(r["checks"].split(", ")[0], "")}
    show_html(render.table(cov, links=first) + '<p class="ek-muted">status: the most serious result among the practice\'s '
             'findings (FAIL before ERROR before MANUAL before PASS).</p>')


def _pack_json(s: Summary, name: str) -> dict | None:
    """A JSON file of the pack beside run.json (diff.json, trend.json), read as a received file; None if absent."""
    from ..safe_files import Refused, load_json, read_inside

    if not s.run_dir or not (Path(s.run_dir) / name).is_file():
        return None
    try:
        doc = load_json(read_inside(s.run_dir, name, "pack file"), name, "pack file")
    except Refused:
        return None
    return doc if isinstance(doc, dict) else None


WAIVER_ENTRY_COLUMNS = ["state", "line", "check_id", "resource", "account", "region", "cluster", "justification",
                        "approver", "expires", "findings", "note"]


def show_waivers(s: Summary) -> None:
    """Every waiver of the --waivers file (applied, expired, unused) and the findings it waived."""
    w = s.run.get("waivers") or {}
    if not w:
        show_html("<p>No waivers file was given (<code>--waivers FILE</code>): no finding is waived.</p>")
        return
    counts = w.get("counts") or {}
    head = (f"<p>Waivers file <code>{render.esc(Path(str(w.get('file', ''))).name)}</code> (sha256 "
            f"<code>{render.esc(w.get('sha256'))}</code>), judged on {render.esc(w.get('audit_day'))}, the day the "
            f"evidence was collected: {int(counts.get('applied', 0))} applied, {int(counts.get('expired', 0))} "
            f"expired, {int(counts.get('unused', 0))} unused; {int(w.get('waived_findings', 0))} FAIL finding(s) "
            "waived. Only FAIL can be waived: an ERROR proved nothing, so it stays ERROR.</p>")
    entries = pd.DataFrame(w.get("entries") or [], columns=WAIVER_ENTRY_COLUMNS)
    order = {"expired": 0, "unused": 1, "applied": 2}
    entries = entries.assign(_o=entries["state"].map(order)).sort_values(["_o", "line"], kind="stable")
    cols = [c for c in WAIVER_ENTRY_COLUMNS if c not in ("account", "region") or entries[c].astype(bool).any()]
    html = head + render.table(entries, cols)
    waived = s.findings[s.findings["status"] == "WAIVED"]
    if len(waived):
        page = {c.id: f"{c.domain}.html#{c.id}" for c in load().values()}
        html += ("<h4>Waived findings</h4>" + render.table(
            waived, ["check_id", "severity", "cluster", "resource_id", "reason", *waiver_columns(waived)],
            links={"check_id": lambda r: page.get(r["check_id"], "")}))
    show_html(html)


def show_since_last(s: Summary, n: int = 15) -> None:
    """New and fixed FAILs and the other changes since the baseline pack (--baseline), by domain."""
    doc = _pack_json(s, "diff.json") if s.run.get("baseline") else None
    if not doc:
        show_html("<p>No baseline was given (<code>--baseline OLD_PACK</code>): nothing to compare with.</p>")
        return
    old, t = doc.get("old") or {}, doc.get("totals") or {}
    html = (f"<p>Compared with run {render.esc(old.get('run_id'))} (started {render.esc(old.get('started'))}): "
            f"<b>{int(t.get('new_fails', 0))}</b> new FAIL(s), <b>{int(t.get('fixed_fails', 0))}</b> fixed; "
            f"findings {int(t.get('new', 0))} new, {int(t.get('resolved', 0))} resolved, "
            f"{int(t.get('changed', 0))} changed status, {int(t.get('unchanged', 0))} unchanged. Every change: "
            f"{render.link('diff.html', 'diff.html')} (and diff.csv, diff.json).</p>")
    by_domain = pd.DataFrame(doc.get("by_domain") or [], columns=["domain", *COUNT_COLUMNS])
    html += render.table(by_domain, links={"domain": lambda r: f"{r['domain']}.html"})
    rows = pd.DataFrame(doc.get("changes") or [])
    cols = ["check_id", "severity", "cluster", "resource_id", "old_status", "new_status", "new_reason"]
    for title, flag in (("New FAILs", "new_fail"), ("Fixed", "fixed")):
        part = rows[rows[flag].astype(bool)] if flag in rows.columns else rows.iloc[0:0]
        if len(part):
            html += f"<h4>{title} ({len(part)})</h4>" + render.table(
                part, cols if flag == "new_fail" else [*cols[:-1], "old_reason"], max_rows=n, rest_in="diff.csv")
    show_html(html)


def show_trend(s: Summary) -> None:
    """FAILs per domain and the PASS share per cluster across the earlier packs of this account and this one."""
    from ..trend import series

    doc = _pack_json(s, "trend.json")
    if not doc or len(doc.get("points") or []) < 2:
        where = (doc or {}).get("history") or "reports/"
        show_html(f"<p>No earlier pack of account {render.esc(s.run.get('account'))} in "
                  f"<code>{render.esc(where)}</code>: the trend starts with this audit.</p>")
        return
    labels, fails, share = series(doc)
    html = (f"<p>{len(labels)} audits of account {render.esc(s.run.get('account'))}, from "
            f"<code>{render.esc(doc.get('history'))}</code> and this run.</p>"
            "<h4>FAIL findings per domain</h4>" + render.line_chart(labels, fails, "FAIL findings per domain")
            + "<h4>PASS share per cluster</h4>"
            + render.line_chart(labels, share, "PASS share per cluster", unit="%", y_max=100)
            + '<p class="ek-muted">PASS share: PASS among PASS and FAIL findings of the cluster.</p>')
    if doc.get("skipped"):
        html += ("<p>Left out (they do not match their manifest): "
                 + render.esc("; ".join(map(str, doc["skipped"]))) + "</p>")
    show_html(html)

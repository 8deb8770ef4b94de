"""The summary page (index.html): who/what/when, totals, scorecard, top risks, requirement coverage."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from .. import render
from ..checks import load, use_checks_dir
from ..domains import DOMAINS
from ..findings import SEVERITY_RANK, STATUSES
from ..notebook import load_findings
from ..requirements import PRACTICES
from .show import show_html


@dataclasses.dataclass
class Summary:
    run: dict
    findings: pd.DataFrame


def open_summary(run_dir: str, checks_dir: str = "") -> Summary:
    use_checks_dir(checks_dir)
    run = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
    return Summary(run, load_findings(run_dir))


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
    page = {c.id: f"{c.domain}.html#{c.id}" for c in load().values()}
    show_html(render.table(f.head(n), cols, links={"check_id": lambda r: page.get(r["check_id"], "")})
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

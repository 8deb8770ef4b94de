"""What the notebooks call: load a run's findings and evidence, and display them. Logic stays here, tested."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from . import render
from .checks import Check, load, references_text, run_checks, use_checks_dir
from .evidence import Evidence
from .findings import ATTENTION, SEVERITY_RANK, STATUSES
from .frames import Frames
from .views.show import show_html
from .waivers import waiver_columns


class Context:
    """One domain page's findings, checks (from the catalog) and run record, and its evidence folder: opened (its
    manifest parsed, about a second at 100x) only when something reads `evidence` or `frames`. A run's pages read
    the tables the run shared (`views.shared`) and never do; a notebook opened by hand builds them from it."""

    def __init__(self, domain: str, findings: pd.DataFrame, evidence: Evidence | Callable[[], Evidence] | None,
                 checks: dict[str, Check], run: dict, run_dir: str = ""):
        self.domain, self.findings, self.checks, self.run, self.run_dir = domain, findings, checks, run, run_dir
        self._evidence = evidence
        self._frames: Frames | None = None

    @property
    def evidence(self) -> Evidence | None:
        if callable(self._evidence):  # how to open it (open_domain): opened on first use
            self._evidence = self._evidence()
        return self._evidence

    @property
    def frames(self) -> Frames | None:
        """Frames over the evidence, one set per page (None without evidence): each is built once per page."""
        if self._frames is None and self.evidence is not None:
            self._frames = Frames(self.evidence)
        return self._frames


# Set by `eksaudit run` in its kernels (kernels.NotebookPool.share_findings): pickles in the run's private folder,
# so that a page reads what the run already computed instead of parsing findings.json or the evidence again.
# "findings": domain -> that domain's findings, in the columns pages show (findings.PAGE_COLUMNS);
# "tables": name -> a table a page shows beyond the findings (views.pack_tables; a DataFrame or a dict of them).
_SHARED: dict[str, dict[str, dict[str, str]]] = {}


def use_shared_findings(run_dir: str, files: dict[str, str], tables: dict[str, str] | None = None) -> None:
    _SHARED.clear()
    _SHARED[str(Path(run_dir).resolve())] = {"findings": files, "tables": tables or {}}


def shared_table(run_dir: str | Path, name: str) -> Any:
    """The table `name` the run shared with this kernel, or None (no run, or a notebook opened by hand)."""
    path = (_SHARED.get(str(Path(run_dir).resolve())) or {}).get("tables", {}).get(name) if run_dir else None
    return pd.read_pickle(path) if path else None


def load_findings(run_dir: str | Path, domain: str | None = None) -> pd.DataFrame:
    """A run's findings (every value a string, as in findings.json), or one domain's. In a run's kernel, only the
    columns pages show (findings.PAGE_COLUMNS: title and remediation come from the catalog)."""
    files = (_SHARED.get(str(Path(run_dir).resolve())) or {}).get("findings")
    if files:
        if domain is not None:
            return pd.read_pickle(files[domain]) if domain in files else _empty(files)
        parts = [pd.read_pickle(path) for path in files.values()]
        return pd.concat(parts).sort_index().reset_index(drop=True)  # the run's order
    path = Path(run_dir) / "findings.json"
    findings = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")), dtype=object)  # strings, as written
    if domain is not None and len(findings):
        findings = findings[findings["domain"] == domain]
    return findings


def _empty(files: dict[str, str]) -> pd.DataFrame:
    return pd.read_pickle(next(iter(files.values()))).iloc[0:0]


def open_domain(domain: str, run_dir: str = "", evidence_dir: str = "", clusters: list[str] | None = None,
                severity_floor: str = "info", params: dict | None = None, checks_dir: str = "",
                waivers: str = "") -> Context:
    """Findings of one domain: from a run folder when given, otherwise computed from an evidence folder.
    `checks_dir`: an organization's own checks, added to the catalog (as `eksaudit run --checks-dir`).
    `waivers`: a waivers file applied to findings computed from an evidence folder (a run folder's findings
    already carry the waivers of its run)."""
    use_checks_dir(checks_dir)
    run: dict = {}
    if run_dir:
        findings = load_findings(run_dir, None if domain == "all" else domain)
        run_path = Path(run_dir) / "run.json"
        run = json.loads(run_path.read_text(encoding="utf-8")) if run_path.exists() else {}
        # Opened only if a page reads it. A run's own kernels (the findings it shared) read the evidence it wrote:
        # bounded by its manifest.
        own = str(Path(run_dir).resolve()) in _SHARED
        evidence = (functools.partial(Evidence, Path(run_dir) / "evidence", own=own)
                    if (Path(run_dir) / "evidence").exists() else None)
    elif evidence_dir:
        evidence = Evidence(evidence_dir)
        findings = run_checks(evidence, params or {}, domains=None if domain == "all" else [domain])
        if waivers:
            from . import waivers as waiver_file

            findings, _ = waiver_file.apply(findings, waiver_file.load(waivers), evidence.collected_at.date())
    else:
        raise ValueError("set run_dir or evidence_dir in the parameters cell")
    if domain != "all":
        findings = findings[findings["domain"] == domain]
    if clusters:
        findings = findings[findings["cluster"].isin(list(clusters) + [""])]
    findings = findings[findings["severity"].map(SEVERITY_RANK) >= SEVERITY_RANK[severity_floor]]
    checks = {k: c for k, c in load().items() if domain == "all" or c.domain == domain}
    return Context(domain, findings.reset_index(drop=True), evidence, checks, run, run_dir)


def show_overview(ctx: Context) -> None:
    """Counts per check and status, each row with its bar (one table: it breaks across PDF pages row by row)."""
    titles = {k: v.title for k, v in ctx.checks.items()}
    show_html(render.counts_table(ctx.findings, "check_id", titles,
                                  links={"check_id": lambda r: f"#{r['check_id']}"}))


def show_practices(ctx: Context) -> None:
    """What each check of the domain audits, from the catalog (never copied into the notebook)."""
    items = "".join(f"<li><b>{render.esc(c.id)}, {render.esc(c.title)}</b> ({render.esc(', '.join(c.requirements))}). "
                    f"{render.esc(c.practice)}</li>" for c in ctx.checks.values())
    show_html(f"<ul>{items}</ul>")



def show_check(ctx: Context, check_id: str) -> None:
    """One check: what it audits and why, its result, every offender first, and how to fix."""
    chk = ctx.checks[check_id]
    f = ctx.findings[ctx.findings["check_id"] == check_id]
    order = {s: i for i, s in enumerate(STATUSES)}
    f = f.assign(_o=f["status"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    tally = ", ".join(f"{render.status_badge(s)} {n}" for s, n in f["status"].value_counts().reindex(STATUSES)
                      .dropna().astype(int).items() if n)
    refs = references_text(chk.references) or "no peer tool checks exactly this"
    head = (f'<div class="ek-card"><h3 id="{render.esc(check_id)}">{render.esc(check_id)} — {render.esc(chk.title)} '
            f'{render.severity_badge(chk.severity)}</h3>'
            f"<p><b>Practice</b> ({render.esc(', '.join(chk.requirements))}). {render.esc(chk.practice)}</p>"
            f"<p><b>Why.</b> {render.esc(chk.rationale)}</p>"
            f"<p><b>Result.</b> {tally or 'no findings'}</p>")
    cols = ["status", "severity", "cluster", "region", "resource_type", "resource_id", "reason", "evidence"]
    offenders = f[f["status"].isin(ATTENTION)]
    rest = f[~f["status"].isin(ATTENTION)]
    shown = cols + waiver_columns(offenders)  # who accepted a waived risk, why and until when
    body = (f"<p><b>Offenders ({len(offenders)}).</b></p>" + render.table(offenders, shown) if len(offenders)
            else "<p><b>Offenders.</b> none.</p>")
    if len(rest):  # counted, not listed: a page grows with offenders, not with the estate
        body += (f"<p><b>Passed or not applicable ({len(rest)})</b>, per cluster; every one is listed in the "
                 "Explore section (up to a limit), findings.csv and the explorer.</p>" + _tally(rest))
    tail = (f"<p><b>Remediation.</b> {render.esc(chk.remediation)}</p>"
            f'<p class="ek-muted">References: {render.esc(refs)}</p></div>')
    show_html(head + body + tail)


def _tally(rows: pd.DataFrame) -> str:
    """Rows per cluster ("(account)" for account-wide ones) and status, with the resource types they cover."""
    where = rows["cluster"].fillna("").replace("", "(account)").rename("cluster")
    table = rows.groupby([where, rows["status"]]).size().unstack(fill_value=0)
    table = table[[s for s in STATUSES if s in table.columns]]
    table["resource types"] = rows.groupby(where)["resource_type"].agg(lambda t: ", ".join(sorted(set(t))))
    return render.table(table.reset_index(), interactive=False)


def show_checks(ctx: Context) -> None:
    for check_id in ctx.checks:
        show_check(ctx, check_id)


def evidence_of(ctx: Context, ref: str) -> dict:
    """The raw evidence behind a finding's evidence column (drill-down in JupyterLab)."""
    if ctx.evidence is None:
        raise ValueError("no evidence folder in this context")
    from . import safe_files

    path = ref.split("#", 1)[0].removeprefix("evidence/")
    try:  # references come from findings files: never read outside evidence/, never through a link
        safe_files.parts_of(path)
    except safe_files.Refused:
        raise ValueError(f"evidence reference outside the evidence folder: {ref!r}") from None
    return safe_files.load_json(safe_files.read_inside(ctx.evidence.root, path), path, "evidence file")

"""The explorer: filter a run's findings, pick one, and see the practice and the raw evidence behind it.

The logic is plain functions, tested without a browser: `load_source` (a pack, an evidence folder, a findings
DataFrame or a notebook context), `filter_findings`, `status_counts`, `evidence_detail` (the file a finding's
`evidence` column names, the object its #fragment names, its sha256 against the evidence manifest) and
`cluster_overview`. `Explorer` only wires them to ipywidgets and an itables grid (the `lab` extra).

This module reads findings and evidence; it never runs a check on its own (an evidence folder is analysed by the
same `run_checks` as `eksaudit run`). Evidence references come from findings files, which may come from
elsewhere: they are read only inside the evidence folder, through `safe_files`.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from .. import render, safe_files
from ..checks import Check, load, run_checks, use_checks_dir
from ..collect.store import MANIFEST
from ..errors import UserError
from ..evidence import Evidence
from ..findings import ATTENTION, COLUMNS, SEVERITY_RANK, STATUSES
from ..safe_files import Refused, shown
from .show import show_html

# Filter column -> its label. `namespace` is derived (the findings schema has none): see `namespace_of`.
FILTERS = {"domain": "domain", "check_id": "check", "status": "status", "severity": "severity",
           "account_id": "account", "region": "region", "cluster": "cluster", "namespace": "namespace"}
TABLE_COLUMNS = ["status", "severity", "check_id", "cluster", "namespace", "resource_type", "resource_id", "reason"]
STATIC_COLUMNS = [*TABLE_COLUMNS, "evidence"]
NONE = "(none)"  # how an empty value is offered in a filter (account-level rows have no cluster)
MAX_SHOWN = 200_000  # characters of pretty JSON put in the page; a bigger file is cut with a note
# Keys that name the object they sit in (an ARN, a name, an ID): a fragment is first looked for among these.
_NAMING = ("arn", "name", "id", "digest", "number")


# ---- sources ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Source:
    """What the explorer shows: findings (the schema plus `namespace`), the evidence behind them, the catalog."""

    findings: pd.DataFrame
    evidence: Evidence | None
    checks: dict[str, Check]
    run: dict
    label: str  # where the findings came from, in words


def namespace_of(resource_type: str, resource_id: str, evidence: str) -> str:
    """The Kubernetes namespace a finding is about, or "" (AWS resources, cluster-scoped objects).

    From the evidence reference when it names an object of a Kubernetes list (`evidence/k8s/...#ns/name`),
    else from the resource ID of workload and container rows (`ns/Kind/name...`) and namespace rows
    (`cluster/ns`). An AWS resource (named by an ARN) has none, even when its evidence is a Kubernetes object
    (a node role read from kube-system/aws-auth)."""
    if resource_id.startswith("arn:"):
        return ""
    path, _, fragment = evidence.partition("#")
    if path.startswith("evidence/k8s/") and "/" in fragment:
        return fragment.split("/", 1)[0]
    if resource_type in ("workload", "container") and "/" in resource_id:
        return resource_id.split("/", 1)[0]
    if resource_type == "namespace":
        return resource_id.rsplit("/", 1)[-1]
    return ""


def with_namespace(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings in the schema's columns (strings, missing ones empty) plus the derived `namespace`."""
    df = findings.reindex(columns=COLUMNS).astype(object).fillna("").astype(str).reset_index(drop=True)
    df["namespace"] = [namespace_of(t, r, e) for t, r, e in
                       zip(df["resource_type"], df["resource_id"], df["evidence"])]
    return df


def _read_json(path: Path, what: str) -> Any:
    return safe_files.load_json(safe_files.read_file(path, what), str(path), what)


def _pack_findings(pack: Path) -> tuple[pd.DataFrame, dict]:
    records = _read_json(pack / "findings.json", "findings file")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UserError(f"not a findings file (a list of findings expected): {shown(pack / 'findings.json')}")
    run = _read_json(pack / "run.json", "run file") if (pack / "run.json").is_file() else {}
    return pd.DataFrame(records, columns=COLUMNS), run if isinstance(run, dict) else {}


def load_source(source: Any, *, evidence: Evidence | str | Path | None = None, params: dict | None = None,
                checks_dir: str | Path = "") -> Source:
    """Findings, evidence and catalog from any of:

    - a pack folder (`findings.json`, `run.json`, `evidence/`): the findings as the run wrote them;
    - an evidence folder (its `manifest.json`), or a folder holding one in `evidence/`: analysed here with
      `params`, as `eksaudit run --evidence` would;
    - a findings DataFrame (`evidence=`: the folder its evidence references point into, when there is one);
    - a notebook context from `eksaudit.notebook.open_domain`.
    `checks_dir`: an organization's own checks, so that their practice and remediation show too.
    """
    use_checks_dir(str(checks_dir) if checks_dir else "")
    if isinstance(source, Source):
        return source
    if isinstance(evidence, (str, Path)):
        evidence = Evidence(evidence)
    from ..notebook import Context

    if isinstance(source, Context):
        return Source(with_namespace(source.findings), source.evidence if evidence is None else evidence,
                      source.checks or load(), source.run, f"{source.domain} findings")
    if isinstance(source, pd.DataFrame):
        return Source(with_namespace(source), evidence, load(), {}, "findings")
    if not isinstance(source, (str, Path)):
        raise UserError("explore: give a pack folder, an evidence folder, a findings DataFrame or a notebook "
                        f"context (not {type(source).__name__})")
    root = Path(source).expanduser()
    if (root / "findings.json").is_file():
        findings, run = _pack_findings(root)
        if evidence is None and (root / "evidence" / MANIFEST).is_file():
            evidence = Evidence(root / "evidence")
        return Source(with_namespace(findings), evidence, load(), run, f"pack {root}")
    for folder in (root, root / "evidence"):
        if (folder / MANIFEST).is_file():
            ev = Evidence(folder)
            findings = run_checks(ev, params or {})
            return Source(with_namespace(findings), ev, load(), {"account": ev.account}, f"evidence {folder}")
    raise UserError(f"not a pack (no findings.json) or an evidence folder (no {MANIFEST}): {shown(root)}")


def newest_pack(reports: str | Path) -> Path:
    """The most recently finished complete pack in a reports folder (as `eksaudit run` writes them)."""
    root = Path(reports).expanduser()
    packs = []
    if root.is_dir():
        for d in root.iterdir():
            # A pack is renamed into place only when complete; hidden folders are runs still in progress.
            if d.name.startswith(".") or not (d / "findings.json").is_file() or not (d / "manifest.json").is_file():
                continue
            try:
                run = _read_json(d / "run.json", "run file")
            except Refused:
                run = {}
            finished = str(run.get("finished", "")) if isinstance(run, dict) else ""
            packs.append((finished, d.stat().st_mtime, d.name, d))
    if not packs:
        raise UserError(f"no pack in {shown(root)}: run `make demo` or `eksaudit run`, or set run_dir")
    return max(packs)[3]


def start(run_dir: str | Path = "", reports: str | Path = "reports", evidence_dir: str | Path = "",
          params: dict | None = None, checks_dir: str | Path = "") -> Source:
    """What notebooks/explore.ipynb opens: `run_dir`, else `evidence_dir`, else the newest pack in `reports`."""
    chosen = run_dir or evidence_dir or newest_pack(reports)
    return load_source(chosen, params=params, checks_dir=checks_dir)


def show_run(source: Source) -> None:
    """Which run is open: where from, the account, the run, when it was collected, how many findings."""
    r = source.run or {}
    rows = [("Source", source.label), ("Account", r.get("account", "")), ("Run", r.get("run_id", "")),
            ("Collected (start → end)", " → ".join(map(str, r.get("collected") or []))),
            ("Clusters", ", ".join(f"{k} ({v})" for k, v in (r.get("clusters") or {}).items())),
            ("Findings", f"{len(source.findings)}: " + ", ".join(f"{s} {n}" for s, n in
                                                                 status_counts(source.findings).items()))]
    show_html(render.table(pd.DataFrame([x for x in rows if x[1]], columns=["", "value"])))


# ---- filtering and counting -------------------------------------------------------------------------------


def filter_options(findings: pd.DataFrame) -> dict[str, list[str]]:
    """The values each filter offers: statuses and severities in their order, the rest sorted."""
    out = {}
    for col in FILTERS:
        present = set(findings[col]) if col in findings else set()
        if col == "status":
            out[col] = [s for s in STATUSES if s in present]
        elif col == "severity":
            out[col] = sorted(present, key=lambda s: -SEVERITY_RANK.get(s, -1))
        else:
            out[col] = sorted(present)
    return out


def ordered(findings: pd.DataFrame) -> pd.DataFrame:
    """What needs attention first: by status (FAIL, ERROR, ...), then the most severe; otherwise as given."""
    rank = {s: i for i, s in enumerate(STATUSES)}
    return (findings.assign(_o=findings["status"].map(rank).fillna(len(rank)),
                            _s=-findings["severity"].map(SEVERITY_RANK).fillna(-1))
            .sort_values(["_o", "_s"], kind="stable").drop(columns=["_o", "_s"]))


def filter_findings(findings: pd.DataFrame, selected: Mapping[str, Iterable[str]] | None = None,
                    text: str = "") -> pd.DataFrame:
    """The findings every filter admits, attention first.

    `selected`: filter column -> the values to keep (none chosen: that filter keeps everything).
    `text`: words that must all appear, in any case, in the resource (type and ID) or the reason.
    """
    mask = pd.Series(True, index=findings.index)
    for col, values in (selected or {}).items():
        if col not in FILTERS:
            raise ValueError(f"unknown filter {col!r}: one of {', '.join(FILTERS)}")
        values = list(values)
        if values:
            mask &= findings[col].isin(values)
    words = text.lower().split()
    if words:
        hay = (findings["resource_type"] + " " + findings["resource_id"] + " " + findings["reason"]).str.lower()
        for word in words:
            mask &= hay.str.contains(word, regex=False)
    return ordered(findings[mask])


def status_counts(findings: pd.DataFrame) -> dict[str, int]:
    """Findings per status, in STATUSES order, statuses with none left out."""
    c = findings["status"].value_counts()
    return {s: int(c[s]) for s in STATUSES if s in c}


def severity_counts(findings: pd.DataFrame) -> dict[str, int]:
    """FAIL findings per severity, most severe first."""
    c = findings.loc[findings["status"] == "FAIL", "severity"].value_counts()
    return {s: int(c[s]) for s in sorted(c.index, key=lambda s: -SEVERITY_RANK.get(s, -1))}


def counts_html(view: pd.DataFrame, total: int) -> str:
    by_status = " ".join(f"{render.status_badge(s)} {n}" for s, n in status_counts(view).items())
    by_sev = " ".join(f"{render.severity_badge(s)} {n}" for s, n in severity_counts(view).items())
    return (f'<span data-shown="{len(view)}"><b>{len(view)}</b> of {total} findings</span>'
            + (f" · {by_status}" if by_status else "") + (f" · failures by severity: {by_sev}" if by_sev else ""))


def cluster_overview(findings: pd.DataFrame) -> pd.DataFrame:
    """Per cluster (account-level findings under "(account)"): findings per status, the worst failure's
    severity, and the checks that failed there."""
    cols = ["cluster", *STATUSES, "worst failure", "failing checks"]
    if findings.empty:
        return pd.DataFrame(columns=cols)
    f = findings.assign(cluster=findings["cluster"].replace("", "(account)"))
    out = render.counts(f, "cluster")
    fails = f[f["status"] == "FAIL"]
    worst = fails.groupby("cluster")["severity"].agg(lambda s: max(s, key=lambda v: SEVERITY_RANK.get(v, -1)))
    failing = fails.groupby("cluster")["check_id"].agg(lambda s: ", ".join(sorted(set(s))))
    out["worst failure"] = out["cluster"].map(worst).fillna("")
    out["failing checks"] = out["cluster"].map(failing).fillna("")
    account_last = out["cluster"].eq("(account)")
    return pd.concat([out[~account_last], out[account_last]])[cols].reset_index(drop=True)


# ---- evidence behind a finding ----------------------------------------------------------------------------


@dataclasses.dataclass
class EvidenceDetail:
    """The raw evidence behind one finding, and whether it is still what was collected."""

    ref: str  # the finding's evidence column
    path: str = ""  # inside the evidence folder
    fragment: str = ""  # what the reference's #fragment names
    entries: list[dict] = dataclasses.field(default_factory=list)  # evidence manifest entries of the file
    recorded_sha256: str = ""  # from the evidence manifest
    sha256: str = ""  # of the file as it is now
    integrity: str = ""  # "matches" | "changed" | "not in manifest" | "manifest"
    document: Any = None  # the parsed file (text for an attachment that is not JSON)
    located_at: str = ""  # where in the document the fragment's object is ("" when not found)
    focus: Any = None  # that object, or the document
    problem: str = ""  # why nothing could be shown

    @property
    def matches(self) -> bool:
        return self.integrity == "matches"


def locate(document: Any, fragment: str) -> tuple[str, Any]:
    """(where, object) of the object a reference's fragment names, shallowest first; ("", None) when none.

    A Kubernetes object is named `namespace/name` (`/name` or `name` when cluster-scoped); an AWS object by a
    value of a naming key (`Arn`, `RoleName`, `repositoryName`, `imageDigest`, `id`...), else by any value or
    the end of an ARN. A file that is itself about the object (a bucket's policy) has none: ("", None)."""
    if not fragment:
        return "", None
    for naming_only in (True, False):
        queue: collections.deque = collections.deque([("", document, None)])
        while queue:
            where, node, parent = queue.popleft()
            if isinstance(node, dict):
                if _names(node, fragment, naming_only):
                    if where.rsplit(".", 1)[-1] == "metadata" and parent is not None:  # a name in an object's metadata
                        return parent
                    return where or "(top)", node
                queue.extend((f"{where}.{k}" if where else str(k), v, (where or "(top)", node))
                             for k, v in node.items() if isinstance(v, (dict, list)))
            elif isinstance(node, list):
                queue.extend((f"{where}[{i}]", v, (where, node)) for i, v in enumerate(node)
                             if isinstance(v, (dict, list)))
    return "", None


def _names(node: dict, fragment: str, naming_only: bool) -> bool:
    meta = node.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("name"), str):
        ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
        if fragment in (f"{ns}/{meta['name']}", meta["name"] if not ns else None):
            return True
    if naming_only:
        return any(v == fragment for k, v in node.items() if isinstance(v, str) and str(k).lower().endswith(_NAMING))
    # Else any value, or the last part of an ARN (a listener is named by its ID, the end of its ARN).
    return any(v == fragment or v.endswith((f"/{fragment}", f":{fragment}")) for v in node.values()
               if isinstance(v, str))


def evidence_detail(evidence: Evidence | None, ref: str, finding: Mapping[str, str] | None = None) -> EvidenceDetail:
    """Read the evidence file a finding names, check it against the evidence manifest, find its object.

    `ref` is the findings' `evidence` column: `evidence/<path inside the folder>[#fragment]`. It comes from a
    findings file: anything that leaves the evidence folder is refused, and the file is read with
    `safe_files` (no link, regular file, bounded). For the evidence manifest itself (the reference of an
    ERROR row), the failed reads in the finding's scope are the focus."""
    d = EvidenceDetail(ref)
    if not ref:
        d.problem = "this finding names no evidence"
        return d
    if evidence is None:
        d.problem = "no evidence folder with these findings (explore a pack or an evidence folder to see it)"
        return d
    path, _, d.fragment = ref.partition("#")
    if not path.startswith("evidence/"):
        d.problem = f"evidence reference outside the evidence folder: {shown(ref)}"
        return d
    d.path = path.removeprefix("evidence/")
    try:
        safe_files.parts_of(d.path)
    except Refused:
        d.problem = f"evidence reference outside the evidence folder: {shown(ref)}"
        return d
    try:
        body = safe_files.read_inside(evidence.root, d.path, "evidence file")
    except Refused as exc:
        d.problem = str(exc)
        return d
    d.sha256 = hashlib.sha256(body).hexdigest()
    if d.path == MANIFEST:
        d.integrity = "manifest"
        d.document = evidence.manifest
        d.focus = [e for e in evidence.entries if e["status"] == "error" and _in_scope(e, finding or {})]
        d.located_at = f"failed reads in this finding's scope ({len(d.focus)})"
        return d
    d.entries = [e for e in evidence.entries if e.get("path") == d.path]
    d.recorded_sha256 = next((str(e["sha256"]) for e in d.entries if e.get("sha256")), "")
    d.integrity = ("not in manifest" if not d.recorded_sha256
                   else "matches" if d.recorded_sha256 == d.sha256 else "changed")
    try:
        d.document = safe_files.load_json(body, d.path, "evidence file")
    except Refused as exc:
        if not any(e.get("source") == "file" for e in d.entries):
            d.problem = str(exc)
            return d
        d.document = body[:MAX_SHOWN].decode("utf-8", "replace")  # an attached text file, kept byte for byte
    d.located_at, d.focus = locate(d.document, d.fragment)
    if d.focus is None:
        d.focus = d.document
    return d


def _in_scope(entry: dict, finding: Mapping[str, str]) -> bool:
    cluster, region = finding.get("cluster", ""), finding.get("region", "")
    return (not cluster or entry.get("cluster") in (cluster, "")) and (not region or entry.get("region") in (region, ""))


def pretty(value: Any, limit: int = MAX_SHOWN) -> str:
    """Indented JSON (text as it is), cut at `limit` characters with a note of how much was left out."""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > limit:
        return text[:limit] + f"\n... ({len(text) - limit} more characters in the file)"
    return text


_INTEGRITY = {"matches": ("#1b5e20", "sha256 matches the evidence manifest"),
              "changed": ("#b00020", "CHANGED since collection: its sha256 differs from the evidence manifest"),
              "not in manifest": ("#e65100", "not listed in the evidence manifest: nothing proves what it held"),
              "manifest": ("#546e7a", "the evidence manifest itself (the pack's manifest.json holds its hash)")}


def evidence_html(d: EvidenceDetail) -> str:
    """The evidence part of the detail panel: file, integrity, manifest entries, the object as pretty JSON."""
    if d.problem:
        return f'<div class="ek-evidence-head"><b>Evidence.</b> {render.esc(d.ref or "none")}: ' \
               f"{render.esc(d.problem)}</div>"
    colour, words = _INTEGRITY[d.integrity]
    sha = (f"<br>sha256 (manifest): <code>{render.esc(d.recorded_sha256)}</code>" if d.recorded_sha256 else "") + \
          f"<br>sha256 (now): <code>{render.esc(d.sha256)}</code>"
    where = (f"showing {render.esc(d.located_at)}, the object named <code>#{render.esc(d.fragment)}</code>"
             if d.located_at else f"the whole file: <code>#{render.esc(d.fragment)}</code> names no object inside it"
             if d.fragment else "the whole file")
    entries = ""
    if d.entries:
        cols = [c for c in ("input", "params", "account", "region", "cluster", "time", "status", "bytes")
                if any(c in e for e in d.entries)]
        rows = pd.DataFrame([{c: json.dumps(e.get(c), sort_keys=True) if isinstance(e.get(c), dict)
                              else e.get(c, "") for c in cols} for e in d.entries[:20]])
        rows = rows.rename(columns={"status": "read"})  # a read's ok/error, not a finding's status
        entries = "<p><b>Evidence manifest.</b></p>" + render.table(rows)
    return (f'<div class="ek-evidence-head"><b>Evidence.</b> <code>{render.esc(d.ref)}</code><br>'
            f'<span class="ek-integrity" data-integrity="{render.esc(d.integrity)}" '
            f'style="color:{colour};font-weight:600">{render.esc(words)}</span>{sha}</div>{entries}'
            f"<p><b>Raw response</b> ({where}).</p>"
            f'<pre class="ek-json" style="{_PRE}">{render.esc(pretty(d.focus))}</pre>'
            + (f'<details class="ek-whole"><summary>The whole file</summary><pre style="{_PRE}">'
               f"{render.esc(pretty(d.document))}</pre></details>" if d.focus is not d.document else ""))


_PRE = ("max-height:32em;overflow:auto;background:#f7f7f7;border:1px solid #ddd;padding:6px;white-space:pre-wrap;"
        "overflow-wrap:anywhere")


def finding_html(finding: Mapping[str, str], check: Check | None) -> str:
    """The detail panel's upper part: the finding, and what its check audits, why, and how to fix it."""
    cid = finding.get("check_id", "")
    scope = " · ".join(f"{k} {render.esc(finding[k])}" for k in ("account_id", "region", "cluster", "namespace")
                       if finding.get(k))
    head = (f'<div class="ek-card"><h3>{render.esc(cid)}' + (f" — {render.esc(check.title)}" if check else "")
            + f" {render.status_badge(finding.get('status', ''))} {render.severity_badge(finding.get('severity', ''))}"
            f"</h3><p><b>{render.esc(finding.get('resource_type', ''))}</b> "
            f"<code>{render.esc(finding.get('resource_id', ''))}</code>"
            + (f' <span class="ek-muted">({scope})</span>' if scope else "")
            + f"</p><p><b>Reason.</b> {render.esc(finding.get('reason', ''))}</p>")
    if check is None:
        return head + (f"<p class=\"ek-muted\">{render.esc(cid)} is not in the catalog (an organization's own "
                       "check? pass checks_dir= to see its practice)</p></div>")
    refs = "; ".join(f"{k}: {v}" for k, v in check.references.items())
    return head + (f"<p><b>Practice</b> ({render.esc(', '.join(check.requirements))}). "
                   f"{render.esc(check.practice)}</p><p><b>Why.</b> {render.esc(check.rationale)}</p>"
                   f"<p><b>Remediation.</b> {render.esc(check.remediation)}</p>"
                   + (f'<p class="ek-muted">References: {render.esc(refs)}</p>' if refs else "") + "</div>")


# ---- the widget ---------------------------------------------------------------------------------------------


# Long ARNs and IDs wrap inside the grid instead of pushing the reason column out of the notebook's width.
_GRID_CSS = ("<style>.ek-explorer table.dataTable{width:100%!important}"
             ".ek-explorer table.dataTable td,.ek-explorer table.dataTable th{text-align:left;vertical-align:top}"
             f".ek-explorer table.dataTable td:nth-child({TABLE_COLUMNS.index('resource_id') + 1})"
             "{overflow-wrap:anywhere;min-width:12em;max-width:30em}"
             f".ek-explorer table.dataTable td:nth-child({TABLE_COLUMNS.index('reason') + 1}){{min-width:20em}}"
             ".ek-explorer table.dataTable tbody tr{cursor:pointer}</style>")


def _grid_class():
    try:
        from itables.widget import ITable
    except ImportError:
        raise UserError("the explorer's table needs itables with its widget: pip install 'eksaudit[lab]' "
                        "(or `make lab`)") from None
    return ITable


class Explorer(widgets.VBox):
    """Filters, counts, a paged and sortable table of the findings they admit, and the selected finding's
    practice and raw evidence. Built by `explore(source)`; its parts are attributes, so that code (and tests)
    can drive it as a reader would: `filters[col].value = ("FAIL",)`, `search.value = "..."`,
    `table.selected_rows = [i]`."""

    def __init__(self, source: Source, page_length: int = 10):
        grid = _grid_class()
        self.source = source
        self.findings = source.findings
        self.view = self.findings.iloc[0:0]
        self.selected: dict | None = None
        self.detail: EvidenceDetail | None = None
        self._held = False  # while reset() clears every filter
        options = filter_options(self.findings)
        self.filters: dict[str, widgets.SelectMultiple] = {}
        boxes = []
        for col, label in FILTERS.items():
            sel = widgets.SelectMultiple(options=[(v or NONE, v) for v in options[col]], rows=5,
                                         layout=widgets.Layout(width="auto"))
            sel.add_class(f"ek-filter-{col.removesuffix('_id')}")
            sel.observe(self._refresh, "value")
            self.filters[col] = sel
            boxes.append(widgets.VBox([widgets.HTML(f"<b>{render.esc(label)}</b>"), sel]))
        self.search = widgets.Text(placeholder="resource or reason contains... (Enter)", continuous_update=False,
                                   layout=widgets.Layout(width="40em"))
        self.search.add_class("ek-search")
        self.search.observe(self._refresh, "value")
        self.clear = widgets.Button(description="Clear filters", icon="times")
        self.clear.on_click(lambda _: self.reset())
        self.counts = widgets.HTML()
        self.counts.add_class("ek-counts")
        self.table = grid(pd.DataFrame(columns=TABLE_COLUMNS), select={"style": "single"}, showIndex=False,
                          maxBytes=0, maxRows=0, pageLength=page_length, lengthMenu=[10, 25, 50, 100],
                          classes="display compact", warn_on_selected_rows_not_rendered=False)
        self.table.add_class("ek-findings")
        self.table.observe(self._on_select, "selected_rows")
        self.finding_panel = widgets.HTML("<p class='ek-muted'>Select a finding to see its practice and the raw "
                                          "evidence behind it.</p>")
        self.finding_panel.add_class("ek-detail")
        self.evidence_panel = widgets.HTML()
        self.evidence_panel.add_class("ek-evidence")
        run = source.run or {}
        title = " · ".join(render.esc(x) for x in (source.label, f"account {run.get('account')}" if run.get("account")
                                                   else "", f"run {run.get('run_id')}" if run.get("run_id") else "")
                           if x)
        filters = widgets.GridBox(boxes, layout=widgets.Layout(
            grid_template_columns="repeat(4, minmax(12em, 1fr))", grid_gap="4px 12px"))
        super().__init__([widgets.HTML(f"{render.CSS}{_GRID_CSS}<b>Findings explorer</b> "
                                       f"<span class='ek-muted'>{title}</span>"),
                          filters, widgets.HBox([self.search, self.clear]), self.counts, self.table,
                          self.finding_panel, self.evidence_panel])
        self.add_class("ek-explorer")
        self._refresh()

    def selections(self) -> dict[str, tuple[str, ...]]:
        return {col: tuple(sel.value) for col, sel in self.filters.items()}

    def reset(self) -> None:
        """Every filter back to "all" and the search box emptied, then one refresh (the table is sent once)."""
        self._held = True
        try:
            for sel in self.filters.values():
                sel.value = ()
            self.search.value = ""
        finally:
            self._held = False
        self._refresh()

    def _refresh(self, _change: Any = None) -> None:
        if self._held:
            return
        self.view = filter_findings(self.findings, self.selections(), self.search.value).reset_index(drop=False)
        self.counts.value = counts_html(self.view, len(self.findings))
        # A selected finding the filters still admit stays selected; the others clear the panel.
        keep = []
        if self.selected is not None:
            keep = self.view.index[self.view["index"] == self.selected["_row"]].tolist()
        self.table.update(self.view[TABLE_COLUMNS], selected_rows=keep)
        if not keep:
            self._show(None)

    def _on_select(self, change: dict) -> None:
        rows = change["new"]
        if not rows or rows[0] >= len(self.view):
            self._show(None)
            return
        row = self.view.iloc[rows[0]]
        if self.selected is not None and self.selected["_row"] == row["index"]:
            return
        self._show({**row.drop(labels="index").to_dict(), "_row": row["index"]})

    def _show(self, finding: dict | None) -> None:
        self.selected = finding
        if finding is None:
            self.detail = None
            self.finding_panel.value = ("<p class='ek-muted'>Select a finding to see its practice and the raw "
                                        "evidence behind it.</p>")
            self.evidence_panel.value = ""
            return
        self.finding_panel.value = finding_html(finding, self.source.checks.get(finding["check_id"]))
        self.detail = evidence_detail(self.source.evidence, finding["evidence"], finding)
        self.evidence_panel.value = evidence_html(self.detail)


def explore(source: Any, *, evidence: Evidence | str | Path | None = None, params: dict | None = None,
            checks_dir: str | Path = "", page_length: int = 10) -> Explorer:
    """The interactive explorer (ipywidgets 8) over a pack folder, an evidence folder, a findings DataFrame or a
    notebook context: see `load_source` for what each gives. Display it as a notebook cell's last value."""
    return Explorer(load_source(source, evidence=evidence, params=params, checks_dir=checks_dir), page_length)


# A pack's page lists every finding that needs attention, but passed and not-applicable ones only up to this
# many: past it they are counted, and listed in the exports and the explorer. A page grows with offenders, not
# with the estate.
PAGE_PASS_LIMIT = 1000


def static_table(findings: pd.DataFrame, pass_limit: int = PAGE_PASS_LIMIT) -> str:
    """What a pack shows instead of the explorer: the findings in one table that sorts and filters."""
    if findings.empty:
        return "<p>No findings.</p>"
    rest = ~findings["status"].isin(ATTENTION)
    note = ""
    if int(rest.sum()) > pass_limit:
        note = (f'<p class="ek-muted">{int(rest.sum())} passed or not-applicable findings are counted above, not '
                "listed here: findings.csv, findings.json and the explorer (notebooks/explore.ipynb) list "
                "them all.</p>")
        findings = findings[~rest]
        if findings.empty:
            return f'<div class="ek-screen-only">{note}</div>'
    view = ordered(with_namespace(findings))
    columns = [c for c in STATIC_COLUMNS if c != "namespace" or view[c].any()]  # no Kubernetes row: no column
    # On paper the table would repeat every check's offenders above it, at the length of the rest of the page.
    return ('<p class="ek-print-only">Left out of print: every check above lists its offenders and counts the '
            "rest; the HTML page, findings.csv and findings.json list every finding.</p>"
            f'<div class="ek-screen-only">{note}{render.sortable(view, columns, placeholder="filter findings")}'
            "</div>")


def show_explore(ctx: Any, interactive: bool) -> None:
    """The notebooks' Explore section. `interactive` is a notebook parameter: True in a live kernel (the explorer),
    False when `eksaudit run` builds a pack (a static table: a page has no kernel for a widget to talk to)."""
    if interactive:
        from IPython.display import display

        display(explore(ctx))
    else:
        show_html(static_table(ctx.findings))


def show_cluster_overview(source: Source) -> None:
    show_html(render.table(cluster_overview(source.findings)))

"""What changed between two audits: findings of two packs, matched by what they are about.

A finding is keyed by (account, region, cluster, check_id, resource_id): the resource IDs are stable (ARNs,
cluster/namespace/kind/name), never a hash or a row number, so the same weakness found again is the same
finding. Its reason is not part of the key: "access key is 97 days old" a month later is the same finding.
When a check reports several rows about one resource (e.g. a node role reached two ways), the rows of a key are
paired by status, so two FAILs that became one FAIL give one unchanged and one resolved row.

Each row of the result is one of:
- new: in the new audit only;
- resolved: in the old audit only;
- changed: in both, with another status (e.g. FAIL -> PASS, FAIL -> WAIVED, PASS -> ERROR);
- unchanged: in both, same status (the reason's wording may differ).
A "new FAIL" is a FAIL of the new audit that was not a FAIL before (new, or changed to FAIL): what `--fail-on`
counts. A "fixed FAIL" was a FAIL and is now PASS or NOT_APPLICABLE, or gone.

Packs are received files: each is verified against its manifest before anything in it is read, and read
through safe_files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import render
from .errors import UserError
from .findings import COLUMNS, SEVERITY_RANK, STATUSES
from .safe_files import check_count, load_json, read_inside, shown

KEY = ["account_id", "region", "cluster", "check_id", "resource_id"]
CHANGES = ["new", "resolved", "changed", "unchanged"]
ROW_COLUMNS = [*KEY, "domain", "title", "severity", "resource_type", "change", "old_status", "new_status",
               "new_fail", "fixed", "old_reason", "new_reason", "waiver_justification", "waiver_approver",
               "waiver_expires"]
COUNT_COLUMNS = [*CHANGES, "new_fails", "fixed_fails"]
FIXED_TO = {"PASS", "NOT_APPLICABLE", ""}
FILES = ("diff.csv", "diff.json", "diff.html")


@dataclasses.dataclass
class Pack:
    """A verified pack's run record and findings."""
    path: Path
    run: dict
    findings: pd.DataFrame

    def meta(self) -> dict:
        r = self.run
        return {"path": str(self.path), "run_id": str(r.get("run_id", "")), "account": str(r.get("account", "")),
                "started": str(r.get("started", "")), "collected": r.get("collected") or []}


def _records(data, name: str) -> list[dict]:
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise UserError(f"{name} is not a list of findings")
    check_count(data, name, "findings file")
    return data


def read_pack(path: str | Path, what: str = "pack") -> Pack:
    """A pack proven intact against its manifest, then read: a changed pack is refused (one line, exit 2)."""
    from .pack import verify

    path = Path(path)
    problems = verify(path)
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise UserError(f"{what} {shown(path)} does not match its manifest ({problems[0]}{more}); "
                        f"`eksaudit verify {shown(path)}` lists every problem")
    run = load_json(read_inside(path, "run.json", "pack file"), "run.json", "pack file")
    if not isinstance(run, dict):
        raise UserError(f"{what} {shown(path)}: run.json is not a run record")
    rows = _records(load_json(read_inside(path, "findings.json", "pack file"), "findings.json", "pack file"),
                    f"{what} {shown(path)}: findings.json")
    findings = pd.DataFrame(rows, dtype=str)
    missing = [c for c in [*KEY, "status"] if c not in findings.columns]
    if rows and missing:
        raise UserError(f"{what} {shown(path)}: findings.json lacks {', '.join(missing)}")
    findings = findings.reindex(columns=COLUMNS, fill_value="").fillna("").astype(str)
    return Pack(path, run, findings)


def _rank(status: str) -> int:
    return STATUSES.index(status) if status in STATUSES else len(STATUSES)


def compare(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Every finding of either audit, paired across them (ROW_COLUMNS), in check and key order."""
    def grouped(df: pd.DataFrame) -> dict[tuple, list[dict]]:
        out: dict[tuple, list[dict]] = {}
        for rec in df.reindex(columns=COLUMNS, fill_value="").fillna("").astype(str).to_dict(orient="records"):
            out.setdefault(tuple(rec[k] for k in KEY), []).append(rec)
        return out

    before, after = grouped(old), grouped(new)
    rows = []
    for key in sorted(set(before) | set(after)):
        olds = sorted(before.get(key, []), key=lambda r: (_rank(r["status"]), r["reason"]))
        news = sorted(after.get(key, []), key=lambda r: (_rank(r["status"]), r["reason"]))
        pairs = _pair(olds, news)
        pairs += [(o, None) for o in olds] + [(None, n) for n in news]
        for o, n in pairs:
            rows.append(_row(key, o, n))
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)
    if df.empty:
        return df
    order = df["change"].map({c: i for i, c in enumerate(CHANGES)})
    return (df.assign(_o=order).sort_values(["check_id", "_o", *KEY], kind="stable").drop(columns="_o")
            .reset_index(drop=True))


def _pair(olds: list[dict], news: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """Pair the rows of one key (removing them from the lists): the same status and words first, then the same
    status, then any two rows as a change of status; within a step, the closest reasons first (a key's rows
    usually differ by what they are about: "no retention set" and "not encrypted" on one log group)."""
    from difflib import SequenceMatcher

    pairs: list[tuple[dict | None, dict | None]] = []
    for step in ("exact", "status", "any"):
        if not olds or not news:
            break
        candidates = []
        for i, o in enumerate(olds):
            for j, n in enumerate(news):
                if step == "exact" and (o["status"], o["reason"]) != (n["status"], n["reason"]):
                    continue
                if step == "status" and o["status"] != n["status"]:
                    continue
                # Many rows under one key (rare): order alone, as comparing every pair of reasons would be slow.
                close = (SequenceMatcher(None, o["reason"], n["reason"]).ratio()
                         if step != "exact" and len(olds) * len(news) <= 400 else 0.0)
                candidates.append((-close, i, j))
        used_o, used_n = set(), set()
        for _, i, j in sorted(candidates):
            if i not in used_o and j not in used_n:
                used_o.add(i)
                used_n.add(j)
                pairs.append((olds[i], news[j]))
        olds[:] = [o for i, o in enumerate(olds) if i not in used_o]
        news[:] = [n for j, n in enumerate(news) if j not in used_n]
    return pairs


def _row(key: tuple, o: dict | None, n: dict | None) -> dict:
    cur = n or o or {}
    old_status, new_status = (o or {}).get("status", ""), (n or {}).get("status", "")
    change = ("new" if o is None else "resolved" if n is None else
              "unchanged" if old_status == new_status else "changed")
    row = dict(zip(KEY, key))
    row.update(domain=cur.get("domain", ""), title=cur.get("title", ""), severity=cur.get("severity", ""),
               resource_type=cur.get("resource_type", ""), change=change, old_status=old_status,
               new_status=new_status, new_fail=new_status == "FAIL" and old_status != "FAIL",
               fixed=old_status == "FAIL" and new_status in FIXED_TO,
               old_reason=(o or {}).get("reason", ""), new_reason=(n or {}).get("reason", ""))
    for col in ("waiver_justification", "waiver_approver", "waiver_expires"):
        row[col] = (n or {}).get(col, "")
    return row


def counts(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per `by` value (check_id, domain): how many findings are new, resolved, changed, unchanged, and the new
    and fixed FAILs among them."""
    if rows.empty:
        return pd.DataFrame(columns=[by, *COUNT_COLUMNS])
    table = pd.crosstab(rows[by], rows["change"]).reindex(columns=CHANGES, fill_value=0)
    table["new_fails"] = rows.groupby(by)["new_fail"].sum().astype(int)
    table["fixed_fails"] = rows.groupby(by)["fixed"].sum().astype(int)
    return table.reset_index()


def changes(rows: pd.DataFrame) -> pd.DataFrame:
    """Only what changed: the rows of diff.csv and diff.json (a pack against itself gives none)."""
    return rows[rows["change"] != "unchanged"].reset_index(drop=True)


def new_fails(rows: pd.DataFrame, severity: str) -> pd.DataFrame:
    """New FAILs at or above `severity`: what `eksaudit diff --fail-on` fails a CI job for."""
    hits = rows[rows["new_fail"].astype(bool)]
    return hits[hits["severity"].map(SEVERITY_RANK).fillna(-1) >= SEVERITY_RANK[severity]]


def totals(rows: pd.DataFrame) -> dict:
    out = {c: int((rows["change"] == c).sum()) for c in CHANGES} if len(rows) else dict.fromkeys(CHANGES, 0)
    out["new_fails"] = int(rows["new_fail"].sum()) if len(rows) else 0
    out["fixed_fails"] = int(rows["fixed"].sum()) if len(rows) else 0
    return out


def document(rows: pd.DataFrame, old: dict, new: dict) -> dict:
    """diff.json: both runs, the totals, the counts per check and per domain, and every change."""
    changed = changes(rows)
    return {"format": "eksaudit-diff/1", "old": old, "new": new, "totals": totals(rows),
            "by_domain": counts(rows, "domain").to_dict(orient="records"),
            "by_check": counts(rows, "check_id").to_dict(orient="records"),
            "changes": json.loads(changed.to_json(orient="records"))}


def html_body(rows: pd.DataFrame, old: dict, new: dict, links: bool = True) -> str:
    """The diff page's content. `links`: checks link to the domain pages (inside a pack)."""
    from .checks import load

    t = totals(rows)
    head = (f"<h1>Since the last audit</h1><p>Old: run {render.esc(old.get('run_id'))} "
            f"(account {render.esc(old.get('account'))}, started {render.esc(old.get('started'))}). New: run "
            f"{render.esc(new.get('run_id'))} (account {render.esc(new.get('account'))}, started "
            f"{render.esc(new.get('started'))}).</p>"
            f"<p><b>{t['new_fails']}</b> new FAIL(s), <b>{t['fixed_fails']}</b> fixed; findings: {t['new']} new, "
            f"{t['resolved']} resolved, {t['changed']} changed status, {t['unchanged']} unchanged.</p>"
            '<p class="ek-muted">Findings are matched by account, region, cluster, check and resource; a change in '
            "a reason's wording alone (an age in days, say) is not a change.</p>")
    page = {c.id: f"{c.domain}.html#{c.id}" for c in load().values()} if links else {}
    by_check = counts(rows, "check_id")
    by_check = by_check[by_check[["new", "resolved", "changed"]].sum(axis=1) > 0]
    body = "<h2>By check</h2>" + (render.table(by_check, links={"check_id": lambda r: page.get(r["check_id"], "")})
                                  if len(by_check) else "<p>No check changed.</p>")
    changed = changes(rows)
    if len(changed):
        cols = ["change", "check_id", "severity", "cluster", "region", "resource_id", "old_status", "new_status",
                "old_reason", "new_reason"]
        body += "<h2>Changes</h2>" + render.sortable(changed, cols)
    return head + body


def write(folder: Path, rows: pd.DataFrame, old: dict, new: dict, in_pack: bool = True) -> list[Path]:
    """diff.csv, diff.json and diff.html into `folder` (a pack being built, or `eksaudit diff --out`)."""
    from .exports import _csv_safe

    folder = Path(folder)
    changed = changes(rows).astype(str)
    changed.apply(lambda col: col.map(_csv_safe)).to_csv(folder / "diff.csv", index=False)
    (folder / "diff.json").write_text(json.dumps(document(rows, old, new), indent=1), encoding="utf-8")
    title = "EKS security audit: since the last audit"
    subtitle = f"run {old.get('run_id', '?')} → run {new.get('run_id', '?')}"
    body = html_body(rows, old, new, links=in_pack)
    doc = render.page(title, body, current="diff.html", subtitle=subtitle) if in_pack else \
        render.standalone_page(title, body, subtitle)
    (folder / "diff.html").write_text(doc, encoding="utf-8")
    return [folder / f for f in FILES]


def console(rows: pd.DataFrame, say: Callable[[str], None] = print) -> None:
    """The per-check table on the terminal (names escaped: they come from the packs)."""
    t = totals(rows)
    table = counts(rows, "check_id")
    table = table[table[["new", "resolved", "changed"]].sum(axis=1) > 0]
    if table.empty:
        say(f"no changes: {t['unchanged']} findings unchanged")
        return
    widths = [max(8, *(len(shown(v)) for v in table["check_id"]))] + [len(c) for c in COUNT_COLUMNS]
    say("  ".join(h.ljust(w) for h, w in zip(["check", *COUNT_COLUMNS], widths)))
    for r in table.itertuples(index=False):
        cells = [shown(r.check_id)] + [str(getattr(r, c)) for c in COUNT_COLUMNS]
        say("  ".join(c.ljust(w) for c, w in zip(cells, widths)))
    say(f"total: {t['new']} new, {t['resolved']} resolved, {t['changed']} changed, {t['unchanged']} unchanged; "
        f"{t['new_fails']} new FAIL(s), {t['fixed_fails']} fixed")


def baseline_into(folder: Path, baseline: Pack, findings: pd.DataFrame, run: dict) -> dict:
    """`run --baseline`: the diff against the earlier pack, written into the pack being built; its record for
    run.json (the summary's "Since the last audit" reads diff.json)."""
    new = {"path": "", "run_id": run.get("run_id", ""), "account": run.get("account", ""),
           "started": run.get("started", ""), "collected": run.get("collected") or []}
    rows = compare(baseline.findings, findings)
    write(folder, rows, baseline.meta(), new, in_pack=True)
    manifest = read_inside(baseline.path, "manifest.json", "pack file")
    return {"path": str(baseline.path.resolve()), "run_id": baseline.meta()["run_id"],
            "account": baseline.meta()["account"],
            "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
            "totals": totals(rows)}


def different_accounts(old: Pack, new: Pack) -> str:
    a, b = old.meta()["account"], new.meta()["account"]
    return f"note: the packs audit different accounts ({shown(a)} and {shown(b)})" if a != b else ""

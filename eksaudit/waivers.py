"""Waivers: FAIL findings an approver accepted as a risk, with a justification and an expiry date.

A waivers file is YAML the auditor keeps beside the audit (`eksaudit run --waivers FILE`):

    waivers:
      - check: IMG-07
        resource: arn:aws:ecr:us-east-1:123456789012:repository/legacy/*
        cluster: legacy-weak            # optional, like account and region (exact or glob)
        justification: images are promoted by digest; tags are never reused
        approver: jane.doe@example.com
        expires: 2026-12-31

Waivers work on findings, after the checks: a check never knows about them. A waiver matches a finding by check
ID and a glob on its stable resource ID (an ARN or cluster/namespace/kind/name), and optionally its account,
region and cluster. Only FAIL becomes WAIVED: an ERROR proved nothing, so there is nothing to accept. A waiver
holds through its expiry day, judged against the day the evidence was collected (re-analysing the same evidence
later gives the same findings). Every entry ends up applied, expired or unused, and the summary page lists them.

Mistakes in the file are one line naming the file and the line (exit 2): a waiver that silently matched nothing
because of a typo would leave a FAIL the auditor believes accepted, or the other way round.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import hashlib
import re
from pathlib import Path

import pandas as pd

from .errors import UserError
from .findings import WAIVER_COLUMNS
from .safe_files import Refused, read_file, shown

REQUIRED = ("check", "resource", "justification", "approver", "expires")
OPTIONAL = ("account", "region", "cluster")
# Finding column each match field is compared with.
MATCHED = {"resource": "resource_id", "account": "account_id", "region": "region", "cluster": "cluster"}
MAX_BYTES = 4 << 20
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NULL = "tag:yaml.org,2002:null"


@dataclasses.dataclass(frozen=True)
class Waiver:
    line: int  # 1-based line of the entry in the file
    check: str
    resource: str
    justification: str
    approver: str
    expires: dt.date
    account: str = ""
    region: str = ""
    cluster: str = ""

    def matches(self, findings: pd.DataFrame) -> pd.Series:
        """Rows of `findings` this waiver names (whatever their status)."""
        mask = findings["check_id"] == self.check
        for field, column in MATCHED.items():
            pattern = getattr(self, field)
            if pattern and mask.any():
                rx = re.compile(fnmatch.translate(pattern))
                mask &= findings[column].astype(str).map(lambda v, rx=rx: rx.match(v) is not None)
        return mask


@dataclasses.dataclass(frozen=True)
class WaiverFile:
    path: Path
    sha256: str
    waivers: tuple[Waiver, ...]


def _fail(path: Path, line: int, problem: str) -> UserError:
    return UserError(f"waivers file {shown(path)} line {line}: {problem}")


def glob_problem(pattern: str) -> str:
    """Why `pattern` cannot be a waiver's match (empty when it can). fnmatch takes almost anything, so the
    mistakes that would make a waiver silently match nothing, or something else, are refused here."""
    if not pattern.strip():
        return "is empty"
    if any(ord(c) < 32 or ord(c) == 127 for c in pattern):
        return "holds a control character"
    if "[hash:" in pattern:
        return ("names a redacted value ([hash:...]), which changes at every collection: match the ARN or "
                "cluster/namespace/kind/name instead")
    i = 0
    while i < len(pattern):
        if pattern[i] == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":  # a ']' first in a class is a literal
                j += 1
            close = pattern.find("]", j)
            if close < 0:
                return f"has an unclosed '[' at character {i + 1} (write [[] for a literal '[')"
            i = close
        i += 1
    return ""


def _scalar(path: Path, node, field: str) -> str:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise _fail(path, node.start_mark.line + 1, f"{field} must be a single value, not a list or mapping")
    return "" if node.tag == _NULL else str(node.value).strip()


def _entry(path: Path, node, known: set[str]) -> Waiver:
    import yaml

    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise _fail(path, line, "each waiver is a mapping with check, resource, justification, approver, expires")
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = _scalar(path, key_node, "a key")
        if key not in REQUIRED + OPTIONAL:
            raise _fail(path, key_node.start_mark.line + 1,
                        f"unknown field {key!r} (fields: {', '.join(REQUIRED + OPTIONAL)})")
        if key in values:
            raise _fail(path, key_node.start_mark.line + 1, f"{key} is given twice")
        values[key] = _scalar(path, value_node, key)
        lines[key] = value_node.start_mark.line + 1
    missing = [f for f in REQUIRED if not values.get(f)]
    if missing:
        raise _fail(path, line, f"waiver lacks {', '.join(missing)}")
    if values["check"] not in known:
        raise _fail(path, lines["check"], f"unknown check ID {values['check']!r} (see `eksaudit checks`)")
    for field in MATCHED:
        if values.get(field) and (problem := glob_problem(values[field])):
            raise _fail(path, lines[field], f"{field} {values[field]!r} {problem}")
    text = values["expires"]
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        expires = dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(path, lines["expires"], f"expires must be a date written YYYY-MM-DD, got {text!r}") from None
    return Waiver(line=line, check=values["check"], resource=values["resource"],
                  justification=values["justification"], approver=values["approver"], expires=expires,
                  **{f: values.get(f, "") for f in OPTIONAL})


def load(path: str | Path, known_checks: set[str] | None = None) -> WaiverFile:
    """Read and validate a waivers file: every mistake is one UserError naming the file and the line."""
    import yaml

    path = Path(path)
    if known_checks is None:
        from .checks import load as catalog

        known_checks = set(catalog())
    try:  # the auditor's own file, named on the command line: a link to it is followed, its size bounded
        raw = read_file(path, "waivers file", follow=True, limit=MAX_BYTES)
    except Refused as exc:
        raise UserError(str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"waivers file {shown(path)} is not UTF-8 text (byte {exc.start})") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes keep their line numbers
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 if mark else 1
        raise _fail(path, where, f"not valid YAML ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise UserError(f"waivers file {shown(path)} is not valid YAML ({exc})") from None
    if root is None:
        raise _fail(path, 1, "the file is empty (expected `waivers:` and a list of waivers)")
    entries = None
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            key = _scalar(path, key_node, "a key")
            if key != "waivers":
                raise _fail(path, key_node.start_mark.line + 1, f"unknown top-level key {key!r} (expected waivers)")
            if entries is not None:
                raise _fail(path, key_node.start_mark.line + 1, "waivers is given twice")
            entries = value_node
    if entries is None or not isinstance(entries, (yaml.SequenceNode, yaml.ScalarNode)):
        raise _fail(path, root.start_mark.line + 1, "expected `waivers:` followed by a list of waivers")
    if isinstance(entries, yaml.ScalarNode):
        if entries.tag != _NULL:
            raise _fail(path, entries.start_mark.line + 1, "waivers must be a list")
        items: list = []
    else:
        items = entries.value
    waivers = tuple(_entry(path, node, known_checks) for node in items)
    return WaiverFile(path=path, sha256=hashlib.sha256(raw).hexdigest(), waivers=waivers)


def apply(findings: pd.DataFrame, waivers: WaiverFile | None, audit_day: dt.date) -> tuple[pd.DataFrame, dict]:
    """Findings with the waived FAILs turned WAIVED (and the waiver's columns filled), and the record of every
    waiver: applied, expired or unused. The first waiver in the file that matches a FAIL takes it."""
    findings = findings.copy()
    for col in WAIVER_COLUMNS:
        if col not in findings.columns:
            findings[col] = ""
    if waivers is None:
        return findings, {}
    fail = findings["status"] == "FAIL"
    taken = pd.Series("", index=findings.index)  # the line of the waiver that took each row
    entries = []
    for w in waivers.waivers:
        matched = w.matches(findings)
        rec = {"line": w.line, "check_id": w.check, "resource": w.resource, "account": w.account,
               "region": w.region, "cluster": w.cluster, "justification": w.justification,
               "approver": w.approver, "expires": w.expires.isoformat()}
        fails = matched & fail
        if w.expires < audit_day:
            rec.update(state="expired", findings=int(fails.sum()),
                       note=f"expired {w.expires.isoformat()}, before the evidence was collected "
                            f"({audit_day.isoformat()})" + (f"; {int(fails.sum())} FAIL finding(s) it names stay "
                                                            "FAIL" if fails.any() else ""))
        else:
            mine = fails & (taken == "")
            taken[mine] = str(w.line)
            findings.loc[mine, "status"] = "WAIVED"
            findings.loc[mine, WAIVER_COLUMNS] = [w.justification, w.approver, w.expires.isoformat()]
            if mine.any():
                rec.update(state="applied", findings=int(mine.sum()), note="")
            elif fails.any():
                rec.update(state="unused", findings=0, note="every FAIL it names is waived by the entry at line "
                           + ", ".join(sorted(set(taken[fails]), key=int)))
            elif matched.any():
                statuses = ", ".join(sorted(set(findings.loc[matched, "status"])))
                rec.update(state="unused", findings=0,
                           note=f"names {int(matched.sum())} finding(s), none FAIL ({statuses}): only FAIL can be "
                                "waived")
            else:
                rec.update(state="unused", findings=0, note="names no finding of this audit")
        entries.append(rec)
    counts = {s: sum(e["state"] == s for e in entries) for s in ("applied", "expired", "unused")}
    record = {"file": str(waivers.path.resolve()), "sha256": waivers.sha256, "audit_day": audit_day.isoformat(),
              "counts": counts, "waived_findings": int((taken != "").sum()), "entries": entries}
    return findings, record


def waiver_columns(findings: pd.DataFrame) -> list[str]:
    """The waiver columns worth showing beside these findings: all three when any of them is waived."""
    if "status" in findings.columns and (findings["status"] == "WAIVED").any():
        return [c for c in WAIVER_COLUMNS if c in findings.columns]
    return []

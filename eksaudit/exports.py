"""Machine-readable exports of one run's findings: CSV, JSON (the findings schema) and OCSF for SIEMs/Security Lake."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd

from . import __version__, clock
from .findings import COLUMNS
from .frames import records, rows

OCSF_VERSION = "1.3.0"
# Compliance Finding, in the Findings category; every finding is reported as created by this run.
CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2003, 2, 1
SEVERITY_ID = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
SEVERITY_NAME = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
# Our status -> OCSF compliance.status_id/status. ERROR and MANUAL yielded no verdict ("Warning": the check
# could not conclude for want of information); NOT_APPLICABLE and WAIVED have no OCSF value, so Other (99).
COMPLIANCE_STATUS = {"PASS": (1, "Pass"), "FAIL": (3, "Fail"), "ERROR": (2, "Warning"), "MANUAL": (2, "Warning"),
                     "NOT_APPLICABLE": (99, "Not Applicable"), "WAIVED": (99, "Waived")}
# Finding lifecycle: a waived finding was reviewed and accepted (Suppressed); everything else is New.
FINDING_STATUS = {"WAIVED": (3, "Suppressed")}
STANDARD = "eksaudit EKS security practices"
CIS_EKS = "CIS Amazon EKS Benchmark"
# Characters that make a spreadsheet treat a cell as a formula: names are untrusted, so such cells are
# prefixed with an apostrophe in the CSV (findings.json keeps the exact values).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def normalised(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings as every export and page shows them: the schema's columns in order, every value a string
    ("" for none). Computed once per run; a frame already in that shape is returned as it is."""
    if findings.attrs.get("normalised") and list(findings.columns) == COLUMNS:
        return findings
    # Plain Python strings in object columns: pandas 3's own string dtype reads back one cell at a time, which
    # made writing a large run's exports take minutes.
    table = findings.reindex(columns=COLUMNS, fill_value="").fillna("").astype(str).astype(object)
    table.attrs["normalised"] = True
    return table


def _write_text_csv(text: pd.DataFrame, path: Path) -> Path:
    """A table whose every value is a str as CSV, cells that a spreadsheet would take for formulas guarded."""
    import csv

    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(text.columns)
        writer.writerows([_csv_safe(v) if v.startswith(_FORMULA_START) else v for v in row] for row in rows(text))
    return path


def write_csv(findings: pd.DataFrame, path: Path) -> Path:
    return _write_text_csv(normalised(findings), path)


def write_table_csv(df: pd.DataFrame, path: Path) -> Path:
    """Any table (an image inventory) as CSV: every value as text, "" for none, formulas guarded as in
    findings.csv (image names and tags come from the clusters)."""
    return _write_text_csv(df.astype(object).fillna("").astype(str).astype(object), path)


def write_json(findings: pd.DataFrame, path: Path) -> Path:
    write_json_array(records(normalised(findings)), path)
    return path


def write_json_array(items, path: Path) -> Path:
    """A JSON array with one item per line, written as it goes.

    The standard library encodes with its C encoder only without `indent`; indented output of a large run took
    minutes. One item per line keeps a file readable and greppable, and any JSON reader sees the same array.
    """
    encode = json.JSONEncoder(separators=(", ", ": ")).encode
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        first = True
        for item in items:
            out.write("\n" if first else ",\n")
            out.write(encode(item))
            first = False
        out.write("\n]\n" if not first else "]\n")
    return path


def _epoch_ms(when: str | None) -> int:
    """OCSF timestamps are milliseconds since the epoch."""
    t = dt.datetime.fromisoformat(when) if when else clock.now()
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1000)


def _uid(rec: dict) -> str:
    """Stable across runs for the same check and resource, so a SIEM can follow one finding over time."""
    key = "|".join(rec.get(k, "") for k in ("account_id", "region", "cluster", "check_id", "resource_type",
                                              "resource_id"))
    return f"eksaudit:{rec.get('check_id', '')}:{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def ocsf_events(findings: pd.DataFrame, run: dict | None = None, catalog: dict | None = None) -> list[dict]:
    """One OCSF Compliance Finding (class 2003) per finding row."""
    return list(iter_ocsf_events(findings, run, catalog))


def _check_parts(chk) -> dict:
    """What every event of one check shares: its standards, requirements, description and remediation."""
    refs = dict(getattr(chk, "references", {}) or {})
    cis = refs.get("cis_eks") or []
    requirements = (list(chk.requirements) if chk else []) + [
        f"{CIS_EKS} {c}" for c in ([cis] if isinstance(cis, str) else cis)]
    return {"standards": [STANDARD] + ([CIS_EKS] if refs.get("cis_eks") else []), "requirements": requirements,
            "desc": getattr(chk, "practice", ""), "remediation": getattr(chk, "remediation", "")}


def iter_ocsf_events(findings: pd.DataFrame, run: dict | None = None, catalog: dict | None = None):
    """The events one at a time (a large run's events need not all be in memory at once)."""
    if catalog is None:
        from .checks import load

        catalog = load()
    run = run or {}
    when = _epoch_ms(run.get("finished") or run.get("started"))
    seen: dict[str, int] = {}
    parts: dict[str, dict] = {}
    product = {"name": "eksaudit", "vendor_name": "eksaudit", "version": __version__}
    for rec in records(normalised(findings)):
        check_id = rec["check_id"]
        part = parts.get(check_id)
        if part is None:
            part = parts[check_id] = _check_parts(catalog.get(check_id))
        sev = SEVERITY_ID.get(rec["severity"], 0)
        cstatus_id, cstatus = COMPLIANCE_STATUS.get(rec["status"], (0, "Unknown"))
        fstatus_id, fstatus = FINDING_STATUS.get(rec["status"], (1, "New"))
        uid = _uid(rec)
        seen[uid] = seen.get(uid, 0) + 1
        if seen[uid] > 1:  # two rows about the same resource (e.g. two reasons): keep uids unique in a run
            uid = f"{uid}-{seen[uid]}"
        compliance = {"control": check_id, "standards": part["standards"], "requirements": part["requirements"],
                      "status": cstatus, "status_id": cstatus_id, "status_code": rec["status"],
                      "status_detail": rec["reason"]}
        resource = {"uid": rec["resource_id"], "name": rec["resource_id"], "type": rec["resource_type"],
                    "cloud_partition": "aws"}
        if rec["region"]:
            resource["region"] = rec["region"]
        if rec["cluster"]:
            resource["data"] = {"eks_cluster": rec["cluster"]}
        cloud: dict = {"provider": "AWS"}
        if rec["account_id"]:
            cloud["account"] = {"uid": rec["account_id"], "type": "AWS Account", "type_id": 10}
        if rec["region"]:
            cloud["region"] = rec["region"]
        info = {"uid": uid, "title": rec["title"], "desc": part["desc"] or rec["title"],
                "types": ["Compliance", rec["domain"]], "created_time": when}
        event = {
            "activity_id": ACTIVITY_CREATE, "activity_name": "Create",
            "category_uid": CATEGORY_UID, "category_name": "Findings",
            "class_uid": CLASS_UID, "class_name": "Compliance Finding",
            "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE, "type_name": "Compliance Finding: Create",
            "severity_id": sev, "severity": SEVERITY_NAME.get(sev, "Unknown"),
            "status_id": fstatus_id, "status": fstatus,
            "time": when, "message": rec["reason"],
            "metadata": {"version": OCSF_VERSION, "product": product,
                         "uid": f"{rec['run_id']}:{uid}" if rec["run_id"] else uid,
                         "profiles": ["cloud"]},
            "finding_info": info,
            "compliance": compliance,
            "remediation": {"desc": rec["remediation"] or part["remediation"]},
            "resources": [resource],
            "cloud": cloud,
            "unmapped": {"run_id": rec["run_id"], "evidence": rec["evidence"], "cluster": rec["cluster"]},
        }
        if rec["status"] == "WAIVED":  # who accepted the risk, why and until when: the finding's status detail
            event["status_detail"] = waiver_detail(rec)
            event["unmapped"]["waiver"] = {"justification": rec["waiver_justification"],
                                           "approver": rec["waiver_approver"], "expires": rec["waiver_expires"]}
        yield event


def waiver_detail(rec: dict) -> str:
    """One line on a waived finding's waiver, e.g. for OCSF's status_detail."""
    return (f"waived by {rec.get('waiver_approver', '')} until {rec.get('waiver_expires', '')}: "
            f"{rec.get('waiver_justification', '')}")


def write_ocsf(findings: pd.DataFrame, path: Path, run: dict | None = None) -> Path:
    """A JSON array of OCSF events (what Security Lake custom sources and most SIEM loaders take), one per line."""
    return write_json_array(iter_ocsf_events(findings, run), path)


def write_all(findings: pd.DataFrame, folder: Path, run: dict | None = None) -> list[Path]:
    folder = Path(folder)
    return [write_csv(findings, folder / "findings.csv"), write_json(findings, folder / "findings.json"),
            write_ocsf(findings, folder / "findings.ocsf.json", run)]

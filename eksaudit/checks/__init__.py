"""The check catalog: metadata beside each pure check function, and the engine that runs them.

A check reads frames and returns rows (status, resource_type, resource_id, reason, ...). The engine adds the
catalog fields, and enforces "never a false PASS": where any input the check depends on failed to be
collected, PASS and NOT_APPLICABLE rows in that scope are replaced by an ERROR that names the cause.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable
from typing import Any

import pandas as pd

from .. import findings as fs
from ..collect.faults import describe
from ..collect.steps import depends_on
from ..evidence import Evidence
from ..frames import Frames, inputs_of
from ..scope import narrow, reported


@dataclasses.dataclass(frozen=True)
class Check:
    id: str
    domain: str
    title: str
    severity: str
    practice: str  # the requirement it audits, in our words
    rationale: str
    remediation: str
    func: Callable[[Frames, dict], pd.DataFrame]
    frames: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()  # evidence inputs read directly, beyond those of the frames
    params: dict = dataclasses.field(default_factory=dict)  # parameter name -> default
    references: dict = dataclasses.field(default_factory=dict)  # cis_eks, securityhub, prowler, ...
    requirement: str = ""  # the requirements-document practice this check audits, e.g. "IAM-1"

    def all_inputs(self) -> list[str]:
        keys: list[str] = []
        for name in self.frames:
            keys.extend(inputs_of(name))
        keys.extend(self.inputs)
        out: list[str] = []
        for k in keys:
            for dep in depends_on(k):
                if dep not in out:
                    out.append(dep)
        return out


CATALOG: dict[str, Check] = {}


def check(id: str, *, domain: str, title: str, severity: str, practice: str, rationale: str, remediation: str,
          frames: tuple[str, ...] = (), inputs: tuple[str, ...] = (), params: dict | None = None,
          references: dict | None = None, requirement: str = "") -> Callable:
    """Register a check function in the catalog."""
    if severity not in fs.SEVERITIES:
        raise ValueError(f"{id}: bad severity {severity}")

    def register(func: Callable) -> Callable:
        if id in CATALOG:
            raise ValueError(f"duplicate check {id}")
        CATALOG[id] = Check(id, domain, title, severity, practice, rationale, remediation, func, tuple(frames),
                            tuple(inputs), dict(params or {}), dict(references or {}), requirement)
        return func

    return register


def load() -> dict[str, Check]:
    from . import iam, images, logging, network  # noqa: F401  (registration)

    return dict(sorted(CATALOG.items(), key=lambda kv: (fs.DOMAINS.index(kv[1].domain), kv[0])))


def default_params() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in load().values():
        out.update(c.params)
    return out


def rows(records: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Check results as a frame; accepts a list of dicts."""
    return records if isinstance(records, pd.DataFrame) else pd.DataFrame(records)


# ---- the engine ---------------------------------------------------------------------------------------


def _error_scopes(ev: Evidence, check: Check) -> list[dict]:
    scopes = []
    inside = reported(ev)
    for key in check.all_inputs():
        for e in ev.errors(key):
            if not inside(e):  # an inventory read outside the audit scope (see scope.reported)
                continue
            scopes.append({"account_id": e.get("account", ""), "region": e.get("region", ""),
                           "cluster": e.get("cluster", ""), "input": key, "cause": describe(e.get("error", {}))})
    return scopes


def _overlaps(df: pd.DataFrame, scope: dict) -> pd.Series:
    """Rows whose scope could be affected by a failed input of this scope (empty means 'any')."""
    mask = pd.Series(True, index=df.index)
    for col in ("account_id", "region", "cluster"):
        if scope[col]:
            mask &= df[col].isin([scope[col], ""])
    return mask


def run_check(ev: Evidence, frames: Frames, check: Check, params: dict, run_id: str = "") -> pd.DataFrame:
    p = {k: params.get(k, v) for k, v in check.params.items()}
    try:
        out = rows(check.func(frames, p)).copy()
    except Exception as exc:  # a bug or unexpected evidence must not pass silently
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        out = pd.DataFrame([{"status": "ERROR", "resource_type": "check", "resource_id": check.id,
                             "reason": f"check could not evaluate the evidence: {type(exc).__name__}: {exc} "
                                       f"({tb.filename.rsplit('/', 1)[-1]}:{tb.lineno})"}])
    for col in ("account_id", "region", "cluster", "evidence", "resource_type", "resource_id", "reason", "status"):
        if col not in out.columns:
            out[col] = ""
    out["account_id"] = out["account_id"].replace("", ev.account).fillna(ev.account)
    out = out.fillna({"region": "", "cluster": "", "evidence": ""})
    if "severity" not in out.columns:
        out["severity"] = check.severity
    out["severity"] = out["severity"].fillna(check.severity).replace("", check.severity)

    errors = []
    for scope in _error_scopes(ev, check):
        hit = _overlaps(out, scope) & out["status"].isin(["PASS", "NOT_APPLICABLE"])
        out = out[~hit]
        errors.append({"account_id": scope["account_id"] or ev.account, "region": scope["region"],
                       "cluster": scope["cluster"], "status": "ERROR", "resource_type": "evidence",
                       "resource_id": scope["input"], "severity": check.severity, "evidence": "evidence/manifest.json",
                       "reason": f"could not verify: {scope['input']} {scope['cause']}"})
    if errors:
        err = pd.DataFrame(errors).drop_duplicates(["account_id", "region", "cluster", "resource_id", "reason"])
        out = pd.concat([out, err], ignore_index=True)
    if out.empty:
        out = pd.DataFrame([{"account_id": ev.account, "region": "", "cluster": "", "status": "NOT_APPLICABLE",
                             "resource_type": "account", "resource_id": ev.account, "severity": check.severity,
                             "evidence": "evidence/manifest.json",
                             "reason": "nothing in scope: no resources of the kind this check audits were found"}])
    out["run_id"] = run_id
    out["domain"] = check.domain
    out["check_id"] = check.id
    out["title"] = check.title
    out["remediation"] = out["status"].map(lambda s: check.remediation if s in ("FAIL", "MANUAL") else "")
    return out


def run_checks(ev: Evidence, params: dict | None = None, run_id: str = "", domains: list[str] | None = None,
               ids: list[str] | None = None) -> pd.DataFrame:
    """Every selected check over one evidence folder: the findings DataFrame."""
    catalog = load()
    params = {**default_params(), **(params or {})}
    frames = Frames(ev)
    parts = [run_check(ev, frames, c, params, run_id) for c in catalog.values()
             if (not domains or c.domain in domains) and (not ids or c.id in ids)]
    if not parts:
        return fs.empty()
    return fs.normalise(narrow(pd.concat(parts, ignore_index=True), ev))


def catalog_frame() -> pd.DataFrame:
    return pd.DataFrame([{
        "id": c.id, "domain": c.domain, "title": c.title, "severity": c.severity, "requirement": c.requirement,
        "practice": c.practice, "rationale": c.rationale, "remediation": c.remediation,
        "references": "; ".join(f"{k}: {v}" for k, v in c.references.items()),
        "inputs": ", ".join(c.all_inputs()), "params": ", ".join(f"{k}={v!r}" for k, v in c.params.items()),
    } for c in load().values()])

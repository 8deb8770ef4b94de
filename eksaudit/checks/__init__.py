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
from ..frames import Frames, inputs_of, soft_inputs_of


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
    soft_inputs: tuple[str, ...] = ()  # read for some verdicts only: the check itself says ERROR where they failed

    def all_inputs(self) -> list[str]:
        """Every input a failure of which leaves this check's verdicts in that scope unproven."""
        return _expand([k for name in self.frames for k in inputs_of(name)] + list(self.inputs))

    def all_soft_inputs(self) -> list[str]:
        """Inputs read for some verdicts only (the check's and its frames'), beyond the hard ones."""
        hard = set(self.all_inputs())
        keys = [k for name in self.frames for k in soft_inputs_of(name)] + list(self.soft_inputs)
        return [k for k in _expand(keys) if k not in hard]


def _expand(keys: list[str]) -> list[str]:
    out: list[str] = []
    for k in keys:
        for dep in depends_on(k):
            if dep not in out:
                out.append(dep)
    return out


CATALOG: dict[str, Check] = {}


def check(id: str, *, domain: str, title: str, severity: str, practice: str, rationale: str, remediation: str,
          frames: tuple[str, ...] = (), inputs: tuple[str, ...] = (), params: dict | None = None,
          references: dict | None = None, requirement: str = "", soft_inputs: tuple[str, ...] = ()) -> Callable:
    """Register a check function in the catalog."""
    if severity not in fs.SEVERITIES:
        raise ValueError(f"{id}: bad severity {severity}")

    def register(func: Callable) -> Callable:
        if id in CATALOG:
            raise ValueError(f"duplicate check {id}")
        CATALOG[id] = Check(id, domain, title, severity, practice, rationale, remediation, func, tuple(frames),
                            tuple(inputs), dict(params or {}), dict(references or {}), requirement,
                            tuple(soft_inputs))
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

# Starts the reason of a row the engine wrote because the check itself raised: a defect of eksaudit, which tests
# look for so that a crash can never pass for an ERROR verdict about the evidence.
CRASH = "CHECK CRASHED"
SCOPE_COLS = ("account_id", "region", "cluster")


def gaps(ev: Evidence, check: Check) -> list[dict]:
    """The scopes where an input of `check` failed: one dict per (account, region, cluster) with every failed
    input of the scope and its cause. Scopes come from hard inputs; soft inputs that failed in such a scope are
    named too (the scope's one ERROR row then says everything that was missing there)."""
    def failures(keys: list[str]) -> dict[tuple, dict[str, list[str]]]:
        out: dict[tuple, dict[str, list[str]]] = {}
        for key in keys:
            for e in ev.errors(key):
                scope = (e.get("account") or ev.account, e.get("region", ""), e.get("cluster", ""))
                causes = out.setdefault(scope, {}).setdefault(key, [])
                cause = describe(e.get("error", {}))
                if cause not in causes:
                    causes.append(cause)
        return out

    hard = failures(check.all_inputs())
    soft = failures(check.all_soft_inputs())
    result = []
    for scope, inputs in hard.items():
        merged = dict(inputs)
        for sscope, sinputs in soft.items():
            if _within(sscope, scope):
                for key, causes in sinputs.items():
                    merged.setdefault(key, []).extend(c for c in causes if c not in merged.get(key, []))
        result.append({"account_id": scope[0], "region": scope[1], "cluster": scope[2], "inputs": merged})
    return sorted(result, key=lambda g: (g["account_id"], g["region"], g["cluster"]))


def _within(inner: tuple, outer: tuple) -> bool:
    """Scope `inner` lies inside `outer` (an empty field of `outer` covers any value)."""
    return all(not o or i == o for i, o in zip(inner, outer))


def gap_reason(inputs: dict[str, list[str]]) -> str:
    """"could not verify: <cause>: <input>, <input>; <cause>: <input>" grouping inputs that failed alike."""
    by_cause: dict[str, list[str]] = {}
    for key, causes in inputs.items():
        by_cause.setdefault("; ".join(causes), []).append(key)
    return "could not verify: " + "; ".join(f"{', '.join(keys)} {cause}" for cause, keys in by_cause.items())


def _overlaps(df: pd.DataFrame, scope: dict) -> pd.Series:
    """Rows whose scope could be affected by a failed input of this scope (empty means 'any')."""
    mask = pd.Series(True, index=df.index)
    for col in SCOPE_COLS:
        if scope[col]:
            mask &= df[col].isin([scope[col], ""])
    return mask


def _inside(df: pd.DataFrame, scope: dict) -> pd.Series:
    """Rows that lie inside this scope."""
    mask = pd.Series(True, index=df.index)
    for col in SCOPE_COLS:
        if scope[col]:
            mask &= df[col] == scope[col]
    return mask


def _scope_type(g: dict) -> tuple[str, str]:
    if g["cluster"]:
        return "cluster", g["cluster"]
    if g["region"]:
        return "region", g["region"]
    return "account", g["account_id"]


def run_check(ev: Evidence, frames: Frames, check: Check, params: dict, run_id: str = "") -> pd.DataFrame:
    p = {k: params.get(k, v) for k, v in check.params.items()}
    try:
        with frames.consumer(f"check:{check.id}"):
            out = rows(check.func(frames, p)).copy()
    except Exception as exc:  # a bug or unexpected evidence must not pass silently
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        out = pd.DataFrame([{"status": "ERROR", "resource_type": "check", "resource_id": check.id,
                             "reason": f"{CRASH}: the check failed on this evidence, nothing was verified "
                                       f"({type(exc).__name__}: {exc} at {tb.filename.rsplit('/', 1)[-1]}:"
                                       f"{tb.lineno}); this is a defect of eksaudit, please report it"}])
    for col in ("account_id", "region", "cluster", "evidence", "resource_type", "resource_id", "reason", "status"):
        if col not in out.columns:
            out[col] = ""
    out["account_id"] = out["account_id"].replace("", ev.account).fillna(ev.account)
    out = out.fillna({"region": "", "cluster": "", "evidence": ""})
    if "severity" not in out.columns:
        out["severity"] = check.severity
    out["severity"] = out["severity"].fillna(check.severity).replace("", check.severity)

    # One ERROR row per scope whose inputs failed: it replaces the PASS/NOT_APPLICABLE rows that scope could
    # affect and the check's own ERROR rows inside it. FAIL rows stand: they were proven from what was read.
    errors = []
    for g in gaps(ev, check):
        hit = _overlaps(out, g) & out["status"].isin(["PASS", "NOT_APPLICABLE"])
        hit |= _inside(out, g) & (out["status"] == "ERROR") & ~out["reason"].str.startswith(CRASH)
        out = out[~hit]
        rtype, rid = _scope_type(g)
        errors.append({"account_id": g["account_id"], "region": g["region"], "cluster": g["cluster"],
                       "status": "ERROR", "resource_type": rtype, "resource_id": rid, "severity": check.severity,
                       "evidence": "evidence/manifest.json", "reason": gap_reason(g["inputs"])})
    if errors:
        out = pd.concat([out, pd.DataFrame(errors)], ignore_index=True)
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
    return fs.normalise(pd.concat(parts, ignore_index=True))


def catalog_frame() -> pd.DataFrame:
    return pd.DataFrame([{
        "id": c.id, "domain": c.domain, "title": c.title, "severity": c.severity, "requirement": c.requirement,
        "practice": c.practice, "rationale": c.rationale, "remediation": c.remediation,
        "references": "; ".join(f"{k}: {v}" for k, v in c.references.items()),
        "inputs": ", ".join(c.all_inputs()), "soft_inputs": ", ".join(c.all_soft_inputs()), "params": ", ".join(f"{k}={v!r}" for k, v in c.params.items()),
    } for c in load().values()])

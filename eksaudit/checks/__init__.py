"""The check catalog: metadata beside each pure check function, and the engine that runs them.

A check reads frames and returns rows (status, resource_type, resource_id, reason, ...). The engine adds the
catalog fields, and enforces "never a false PASS": where any input the check depends on failed to be
collected, PASS and NOT_APPLICABLE rows in that scope are replaced by an ERROR that names the cause.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import findings as fs
from ..collect.faults import describe
from ..collect.steps import depends_on
from ..cycles import collector_paused
from ..errors import UserError
from ..evidence import Evidence
from ..frames import Frames, inputs_of, soft_inputs_of
from ..registry import import_folder, import_package_modules
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
    references: dict = dataclasses.field(default_factory=dict)  # framework -> control IDs (FRAMEWORKS)
    requirements: tuple[str, ...] = ()  # the practices this check audits, e.g. ("R-IAM-1",)
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
# The peers a check's references may name: framework -> control IDs of that framework that test the same thing.
FRAMEWORKS = {"cis_eks": "CIS Amazon EKS Benchmark", "securityhub": "AWS Security Hub", "prowler": "Prowler",
              "kubescape": "Kubescape", "hardeneks": "hardeneks"}


def references_text(refs: dict) -> str:
    """"CIS Amazon EKS Benchmark 4.1.5; Prowler iam_x, iam_y" for pages and tables."""
    return "; ".join(f"{FRAMEWORKS.get(k, k)} {', '.join(v) if isinstance(v, (list, tuple)) else v}"
                     for k, v in refs.items())
_BUILTIN: set[str] = set()  # IDs registered by eksaudit's own modules (whoever imported them first)
_DIR_CHECKS: dict[str, set[str]] = {}  # --checks-dir folder -> IDs its files registered (imported once)
_ACTIVE_DIRS: set[str] = set()  # folders whose checks are in the catalog now


def check(id: str, *, domain: str, title: str, severity: str, practice: str, rationale: str, remediation: str,
          frames: tuple[str, ...] = (), inputs: tuple[str, ...] = (), params: dict | None = None,
          references: dict | None = None, requirements: list[str] | tuple[str, ...] = (),
          soft_inputs: tuple[str, ...] = ()) -> Callable:
    """Register a check function in the catalog; its metadata is validated here, at import."""
    _validate(id, domain, severity, requirements, [*inputs, *soft_inputs], frames, references or {})

    def register(func: Callable) -> Callable:
        if id in CATALOG:
            raise ValueError(f"duplicate check {id}")
        peers = set(references or {}) - set(FRAMEWORKS)
        if peers and func.__module__.startswith(f"{__name__}."):  # an organization may cite its own standards
            raise ValueError(f"check {id}: reference framework {sorted(peers)[0]!r} is not one of "
                             f"{', '.join(FRAMEWORKS)}")
        CATALOG[id] = Check(id, domain, title, severity, practice, rationale, remediation, func, tuple(frames),
                            tuple(inputs), dict(params or {}), dict(references or {}), tuple(requirements),
                            tuple(soft_inputs))
        return func

    return register


def _validate(id: str, domain: str, severity: str, requirements, inputs: list[str], frames,
              references: dict) -> None:
    from ..collect.inputs import unknown_inputs
    from ..domains import BY_ID
    from ..requirements import PRACTICES

    problems = []
    if severity not in fs.SEVERITIES:
        problems.append(f"severity {severity!r} is not one of {', '.join(fs.SEVERITIES)}")
    dom = BY_ID.get(domain)
    if dom is None:
        problems.append(f"domain {domain!r} is not one of {', '.join(BY_ID)}")
    elif not re.fullmatch(rf"{dom.prefix}-[A-Z0-9][A-Z0-9-]*", id):
        problems.append(f"ID must be {dom.prefix}-<number or name> for domain {domain}")
    if not requirements or isinstance(requirements, str):
        problems.append("requirements must be a non-empty list of practice IDs")
    else:
        known = {p[0] for p in PRACTICES}
        problems += [f"unknown practice {r!r}" for r in requirements if r.startswith("R-") and r not in known]
    problems += [f"unknown input {k!r} (not read by the collector)" for k in unknown_inputs(inputs)]
    for framework, ids in references.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(framework)):
            problems.append(f"reference framework {framework!r} is not a name like cis_eks")
        elif not isinstance(ids, (list, tuple)) or not ids or not all(
                isinstance(i, str) and re.fullmatch(r"[\w.:/-]+", i) for i in ids):
            problems.append(f"references[{framework!r}] must be a non-empty list of control IDs")
    from ..frames import BUILDERS, _load_builders

    _load_builders()
    problems += [f"unknown frame {name!r}" for name in frames if name not in BUILDERS]
    if problems:
        raise ValueError(f"check {id}: " + "; ".join(problems))


def load() -> dict[str, Check]:
    """The catalog: eksaudit's checks and those of the active --checks-dir folders, in domain and ID order."""
    if not _BUILTIN:
        import_package_modules(__name__, skip=("common",))
        _BUILTIN.update(c.id for c in CATALOG.values() if c.func.__module__.startswith(f"{__name__}."))
    wanted = _BUILTIN.union(*(_DIR_CHECKS[d] for d in _ACTIVE_DIRS))
    chosen = [c for c in CATALOG.values() if c.id in wanted]
    return {c.id: c for c in sorted(chosen, key=lambda c: (fs.DOMAINS.index(c.domain), c.id))}


def use_checks_dir(folder: str | Path | None) -> dict[str, str]:
    """Add an organization's checks folder to the catalog (idempotent); returns {file: sha256} of its files."""
    if not folder:
        return {}
    load()
    key = str(Path(folder).expanduser().resolve())
    if key not in _DIR_CHECKS:
        before = set(CATALOG)
        import_folder(key)
        _DIR_CHECKS[key] = set(CATALOG) - before
        if not _DIR_CHECKS[key]:
            raise UserError(f"--checks-dir {folder}: no check registered (decorate functions with "
                            "eksaudit.checks.check)")
    _ACTIVE_DIRS.add(key)
    return import_folder(key)


def drop_checks_dirs() -> None:
    """Unload every --checks-dir folder: its checks leave the catalog (tests; a process loads them once)."""
    from ..registry import forget_folders

    for ids in _DIR_CHECKS.values():
        for cid in ids:
            CATALOG.pop(cid, None)
    _DIR_CHECKS.clear()
    _ACTIVE_DIRS.clear()
    forget_folders()


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
    inside = reported(ev)  # inventory reads outside the audit scope leave in-scope verdicts alone

    def failures(keys: list[str]) -> dict[tuple, dict[str, list[str]]]:
        out: dict[tuple, dict[str, list[str]]] = {}
        for key in keys:
            for e in ev.errors(key):
                if not inside(e):
                    continue
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
    out["remediation"] = np.where(out["status"].isin(["FAIL", "MANUAL"]), check.remediation, "")
    return out


def run_checks(ev: Evidence, params: dict | None = None, run_id: str = "", domains: list[str] | None = None,
               ids: list[str] | None = None, frames: Frames | None = None) -> pd.DataFrame:
    """Every selected check over one evidence folder: the findings DataFrame. `frames`: built over `ev` by the
    caller, which then keeps what the checks built (the runner's pages read some of it)."""
    catalog = load()
    params = {**default_params(), **(params or {})}
    with collector_paused():
        frames = frames if frames is not None else Frames(ev)
        parts = [run_check(ev, frames, c, params, run_id) for c in catalog.values()
                 if (not domains or c.domain in domains) and (not ids or c.id in ids)]
        if not parts:
            return fs.empty()
        return fs.normalise(narrow(pd.concat(parts, ignore_index=True), ev))


def catalog_frame() -> pd.DataFrame:
    return pd.DataFrame([{
        "id": c.id, "domain": c.domain, "title": c.title, "severity": c.severity, "requirements": ", ".join(c.requirements),
        "practice": c.practice, "rationale": c.rationale, "remediation": c.remediation,
        "references": references_text(c.references),
        "inputs": ", ".join(c.all_inputs()), "soft_inputs": ", ".join(c.all_soft_inputs()), "params": ", ".join(f"{k}={v!r}" for k, v in c.params.items()),
    } for c in load().values()])

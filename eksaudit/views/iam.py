"""IAM domain pictures for the notebook: which policy statements grant the permissions a check flagged."""

from __future__ import annotations

import pandas as pd

from .. import render
from ..evidence import Evidence
from ..frames import Frames
from ..policy import ECR_WRITE, EKS_WRITE, describe_grant
from .show import show_html

_ACTIONS = {"IAM-01": EKS_WRITE, "IAM-10": ECR_WRITE}
COLUMNS = ["principal", "policy", "attached", "statement", "effect", "grants", "actions_granted", "resources",
           "condition"]


def granting_statements(evidence: Evidence, findings: pd.DataFrame, check_id: str) -> pd.DataFrame:
    """One row per (offending principal, statement) for IAM-01 (EKS write) or IAM-10 (ECR write): the statement
    as written, and how many of the flagged actions it grants. Built from the evidence, not the reason text."""
    if check_id not in _ACTIONS:
        raise ValueError(f"statements are shown for {', '.join(_ACTIONS)}, not {check_id}")
    offenders = findings[(findings["check_id"] == check_id) & (findings["status"] == "FAIL")
                         & findings["resource_type"].isin(["iam-user", "iam-group", "iam-role", "node-role"])]
    auth = Frames(evidence).iam_auth
    known = {p["arn"] for p in auth.principals()}
    rows = []
    for arn in sorted(set(offenders["resource_id"]) & known):
        per: dict[str, dict] = {}
        for grants in auth.matching_actions_on_some(arn, _ACTIONS[check_id]).values():
            for g in grants:
                key = describe_grant(g)
                row = per.setdefault(key, {
                    "principal": arn, "policy": g.policy_name,
                    "attached": g.source.replace("/", " ").replace("group:", "group ") or g.source,
                    "statement": g.sid or "(no Sid)", "effect": g.effect,
                    "grants": ", ".join(g.not_actions and [f"NotAction {a}" for a in g.not_actions] or g.actions),
                    "actions_granted": 0, "resources": ", ".join(g.not_resources or g.resources),
                    "condition": "yes" if g.has_condition else "no"})
                row["actions_granted"] += 1
        rows.extend(per.values())
    return pd.DataFrame(rows, columns=COLUMNS)


def repository_policy_statements(evidence: Evidence, findings: pd.DataFrame) -> pd.DataFrame:
    """The statements of the repository policies IAM-10 failed, with their principals, as written."""
    failed = set(findings[(findings["check_id"] == "IAM-10") & (findings["status"] == "FAIL")
                          & (findings["resource_type"] == "ecr-repository")]["resource_id"])
    rows = []
    for r in Frames(evidence).repo_policies.to_dict(orient="records"):
        if r["repository"] not in failed or not r["policy"]:
            continue
        stmts = r["policy"].get("Statement") or []
        for s in [stmts] if isinstance(stmts, dict) else stmts:
            rows.append({"repository": r["repository"], "statement": s.get("Sid", "(no Sid)"),
                         "effect": s.get("Effect", ""), "principal": str(s.get("Principal", s.get("NotPrincipal"))),
                         "actions": str(s.get("Action", s.get("NotAction", ""))),
                         "condition": "yes" if s.get("Condition") else "no"})
    return pd.DataFrame(rows, columns=["repository", "statement", "effect", "principal", "actions", "condition"])


def show_granting_statements(ctx, check_id: str) -> None:
    """Display the statements behind a check's offenders (nb.Context from eksaudit.notebook)."""

    if ctx.evidence is None:
        show_html("<p>No evidence folder in this context: statements cannot be shown.</p>")
        return
    df = granting_statements(ctx.evidence, ctx.findings, check_id)
    html = f"<h4>{render.esc(check_id)}: statements granting the flagged permissions</h4>"
    html += render.table(df) if not df.empty else "<p>No offending principal.</p>"
    if check_id == "IAM-10":
        repo = repository_policy_statements(ctx.evidence, ctx.findings)
        if not repo.empty:
            html += "<h4>IAM-10: repository policy statements that failed</h4>" + render.table(repo)
    show_html(html)


def counts_by_cluster(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per check and cluster ("(account)" for account-level rows), one column per status."""
    if findings.empty:
        return pd.DataFrame(columns=["check_id", "cluster"])
    f = findings.assign(cluster=findings["cluster"].replace("", "(account)"))
    out = pd.crosstab([f["check_id"], f["cluster"]], f["status"]).reset_index()
    out.columns.name = None
    return out


def show_counts_by_cluster(ctx) -> None:
    """Display counts_by_cluster for a notebook context."""

    show_html(render.table(counts_by_cluster(ctx.findings)))

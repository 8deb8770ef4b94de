"""IAM domain pictures for the notebook: which policy statements grant the permissions a check flagged.

A run builds them for its offenders (`tables`, through views.pack_tables); a page shows its own offenders'."""

from __future__ import annotations

import pandas as pd

from .. import render
from ..evidence import Evidence
from ..frames import Frames, records, values
from ..policy import ECR_WRITE, EKS_WRITE, AuthorizationDetails, describe_grant
from . import shared
from .show import show_html

_ACTIONS = {"IAM-01": EKS_WRITE, "IAM-10": ECR_WRITE}
PRINCIPALS = ["iam-user", "iam-group", "iam-role", "node-role"]
REPOSITORIES = ["ecr-repository"]
COLUMNS = ["principal", "policy", "attached", "statement", "effect", "grants", "actions_granted", "resources",
           "condition"]
REPOSITORY_COLUMNS = ["repository", "statement", "effect", "principal", "actions", "condition"]
# Names of the tables a run shares (views.pack_tables), built for every offender of the run.
GRANTING = {check_id: f"iam.granting.{check_id}" for check_id in _ACTIONS}
REPOSITORY_STATEMENTS = "iam.repository_statements"


def failed(findings: pd.DataFrame, check_id: str, types: list[str]) -> set[str]:
    """The resources of these types `check_id` failed (the offenders a table is shown for)."""
    f = findings[(findings["check_id"] == check_id) & (findings["status"] == "FAIL")
                 & findings["resource_type"].isin(types)]
    return set(values(f["resource_id"]))


def statements_granting(auth: AuthorizationDetails, principals: set[str], check_id: str) -> pd.DataFrame:
    """One row per (principal, statement) for IAM-01 (EKS write) or IAM-10 (ECR write): the statement as written,
    and how many of the flagged actions it grants. Built from the evidence, not the reason text."""
    if check_id not in _ACTIONS:
        raise ValueError(f"statements are shown for {', '.join(_ACTIONS)}, not {check_id}")
    known = {p["arn"] for p in auth.principals()}
    rows = []
    for arn in sorted(principals & known):
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


def granting_statements(evidence: Evidence, findings: pd.DataFrame, check_id: str) -> pd.DataFrame:
    """`statements_granting` for the principals `check_id` failed in `findings`."""
    return statements_granting(Frames(evidence).iam_auth, failed(findings, check_id, PRINCIPALS), check_id)


def repository_statements(repo_policies: pd.DataFrame, repositories: set[str]) -> pd.DataFrame:
    """The statements of these repositories' policies, with their principals, as written."""
    rows = []
    for r in records(repo_policies):
        if r["repository"] not in repositories or not r["policy"]:
            continue
        stmts = r["policy"].get("Statement") or []
        for s in [stmts] if isinstance(stmts, dict) else stmts:
            rows.append({"repository": r["repository"], "statement": s.get("Sid", "(no Sid)"),
                         "effect": s.get("Effect", ""), "principal": str(s.get("Principal", s.get("NotPrincipal"))),
                         "actions": str(s.get("Action", s.get("NotAction", ""))),
                         "condition": "yes" if s.get("Condition") else "no"})
    return pd.DataFrame(rows, columns=REPOSITORY_COLUMNS)


def repository_policy_statements(evidence: Evidence, findings: pd.DataFrame) -> pd.DataFrame:
    """The statements of the repository policies IAM-10 failed, with their principals, as written."""
    return repository_statements(Frames(evidence).repo_policies, failed(findings, "IAM-10", REPOSITORIES))


def tables(frames: Frames, findings: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What the IAM page shows beyond the findings, for every offender of the run (a page shows its own)."""
    out = {GRANTING[c]: statements_granting(frames.iam_auth, failed(findings, c, PRINCIPALS), c) for c in _ACTIONS}
    out[REPOSITORY_STATEMENTS] = repository_statements(frames.repo_policies, failed(findings, "IAM-10", REPOSITORIES))
    return out


def show_granting_statements(ctx, check_id: str) -> None:
    """Display the statements behind a check's offenders (nb.Context from eksaudit.notebook): from the tables
    the run shared, else from the context's evidence."""
    if check_id not in GRANTING:
        raise ValueError(f"statements are shown for {', '.join(GRANTING)}, not {check_id}")
    principals = failed(ctx.findings, check_id, PRINCIPALS)
    df = shared(ctx, GRANTING[check_id], lambda f: statements_granting(f.iam_auth, principals, check_id))
    if df is None:
        show_html("<p>No evidence folder in this context: statements cannot be shown.</p>")
        return
    df = df[df["principal"].isin(principals)]  # the run's copy has every offender of the run
    html = f"<h4>{render.esc(check_id)}: statements granting the flagged permissions</h4>"
    html += render.table(df) if not df.empty else "<p>No offending principal.</p>"
    if check_id == "IAM-10":
        repositories = failed(ctx.findings, "IAM-10", REPOSITORIES)
        repo = shared(ctx, REPOSITORY_STATEMENTS, lambda f: repository_statements(f.repo_policies, repositories))
        repo = repo[repo["repository"].isin(repositories)] if repo is not None else None
        if repo is not None and not repo.empty:
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

"""IAM domain checks: who can do what to EKS, and with which identity workloads run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..collect.faults import describe
from ..frames import Frames
from ..frames.iam import (
    DESCRIBE_ADDON,
    KEYS,
    LOGIN,
    MFA,
    OIDC,
    POD_IDENTITY,
    REPO_POLICY,
    gaad_ref,
    grants_for_action,
    oidc_providers,
    pod_identity,
)
from ..frames.kubernetes import WORKLOAD_INPUTS
from ..policy import (
    AuthorizationDetails,
    Grant,
    action_matches,
    describe_grant,
    is_write_action,
    resource_matches,
    service_actions,
    trust_principals,
)
from . import check
from .common import SYSTEM_NAMESPACES, container_id, outside, result, row

GAAD = "aws:iam:GetAccountAuthorizationDetails"
# EKS actions that change clusters or who can reach them; botocore's model gives the real action list.
EKS_WRITE = [a for a in service_actions("eks") if is_write_action(a)]
EKS_ALL = service_actions("eks")
EKS_EXAMPLES = ["eks:DeleteCluster", "eks:CreateAccessEntry", "eks:AssociateAccessPolicy", "eks:UpdateClusterConfig",
                "eks:CreateCluster"]
# Needed to pull images, though its name does not start with a read verb.
ECR_PULL_EXTRA = {"ecr:BatchCheckLayerAvailability"}
ECR_WRITE = [a for a in service_actions("ecr") if is_write_action(a) and a not in ECR_PULL_EXTRA]
# Conditions that narrow a trust to known callers: without one, a whole account (or anyone) may assume the role.
TRUST_GUARDS = {"sts:externalid", "aws:principalorgid", "aws:principalorgpaths", "aws:multifactorauthpresent",
                "aws:principalarn", "aws:sourceidentity", "aws:principalaccount"}
DATA_ACTIONS = {"S3 object": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "RDS": ["rds-db:connect", "rds-data:ExecuteStatement"],
                "Secrets Manager": ["secretsmanager:GetSecretValue"]}
STORAGE_ACTIONS = {"EBS": ["ec2:CreateVolume", "ec2:AttachVolume", "ec2:DeleteVolume"],
                   "EFS": ["elasticfilesystem:CreateAccessPoint", "elasticfilesystem:DeleteAccessPoint"],
                   "FSx": ["fsx:CreateFileSystem", "fsx:DeleteFileSystem"]}
CSI_DRIVERS = {"EBS": ("aws-ebs-csi-driver", "ebs-csi"), "EFS": ("aws-efs-csi-driver", "efs-csi"),
               "FSx": ("aws-fsx-csi-driver", "fsx-csi")}
ADMIN_PROBES = ["iam:AttachUserPolicy", "iam:PutRolePolicy", "iam:CreateAccessKey"]


@check("IAM-06", domain="iam", title="One service account per application", severity="medium",
       requirements=["R-IAM-6"], frames=("workloads",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Each application runs under a service account of its own, never the namespace's default one.",
       rationale="A shared or default service account gives every workload the union of all their permissions "
                 "(RBAC and IRSA), so one compromised pod reaches what the others may.",
       remediation="Create a dedicated ServiceAccount per application, set spec.serviceAccountName, and bind only "
                   "the RBAC roles and IAM role that application needs.",
       references={"cis_eks": "4.1.5", "hardeneks": "disallow_default_sa / use_dedicated_sa"})
def iam_06(f: Frames, p: dict) -> pd.DataFrame:
    w = outside(f.workloads, p["exclude_namespaces"]).copy()
    if w.empty:
        return pd.DataFrame()
    w["app"] = [lbl.get("app.kubernetes.io/name") or lbl.get("app") or wl
                for lbl, wl in zip(w["labels"], w["workload"])]
    key = ["cluster", "namespace", "service_account"]
    apps = w.groupby(key)["app"].agg(lambda s: sorted(set(s)))
    w = w.join(apps.rename("sharing"), on=key)
    default = w["service_account"] == "default"
    shared = w["sharing"].map(len) > 1
    reason = np.where(
        default, "runs as the namespace's default service account",
        np.where(shared, "shares service account " + w["service_account"] + " with other applications: "
                 + w["sharing"].map(", ".join), "runs as its own service account " + w["service_account"]))
    status = np.where(default | shared, "FAIL", "PASS")
    return result(w, status, reason, "workload", w["namespace"] + "/" + w["workload"])


@check("IAM-07", domain="iam", title="Containers run as a non-root user", severity="high",
       requirements=["R-IAM-7"], frames=("containers",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Every container, init and ephemeral ones included, is proven to run as a non-root user.",
       rationale="A process running as root inside a container is one kernel or runtime flaw away from root on "
                 "the node; non-root also blocks writes to root-owned paths in the image.",
       remediation="Set securityContext.runAsNonRoot: true and a non-zero runAsUser on the pod or container; build "
                   "images with a non-root USER.",
       references={"cis_eks": "4.2.6", "kubescape": "C-0013", "hardeneks": "disallow_container_socket_mount / "
                   "run_as_non_root"})
def iam_07(f: Frames, p: dict) -> pd.DataFrame:
    c = outside(f.containers, p["exclude_namespaces"])
    if c.empty:
        return pd.DataFrame()
    uid = pd.to_numeric(c["run_as_user"], errors="coerce")
    explicit_root = uid == 0
    non_root = (~explicit_root) & ((uid > 0) | (c["run_as_non_root"] == True))  # noqa: E712
    reason = np.where(
        explicit_root, "runs as root: runAsUser is 0",
        np.where(non_root, np.where(uid > 0, "runs as uid " + uid.fillna(0).astype(int).astype(str),
                                    "runAsNonRoot is true"),
                 "not proven non-root: neither runAsNonRoot: true nor a non-zero runAsUser is set "
                 "(the image's USER decides)"))
    return result(c, np.where(non_root, "PASS", "FAIL"), reason, "container", container_id(c))


# ---- helpers ------------------------------------------------------------------------------------------------


# SCPs, resource control policies and session policies only take permissions away: they could turn a FAIL about
# granted permissions into a PASS, never the reverse, and none of them is readable from a member account.
NOT_READABLE = "SCPs and session policies could narrow this but are not readable from a member account"


def _granted_note(auth: AuthorizationDetails, arn: str) -> str:
    """The limits of a "may perform" verdict, for FAIL rows about granted permissions."""
    return f" ({'; '.join(x for x in (auth.boundary_note(arn), NOT_READABLE) if x)})"


def _capped(auth: AuthorizationDetails, arn: str) -> str:
    note = auth.boundary_note(arn)
    return f" ({note})" if note else ""


def _principal_row(f: Frames, p: dict, status: str, reason: str, **extra) -> dict:
    return {"region": "", "cluster": "", "status": status, "resource_type": f"iam-{p['type']}",
            "resource_id": p["arn"], "reason": reason, "evidence": gaad_ref(f, p["arn"]), **extra}


def _audited(auth: AuthorizationDetails) -> list[dict]:
    """Users, groups and roles an operator controls: service-linked roles are AWS's own."""
    return [p for p in auth.principals() if not p["service_linked"]]


def _matches_any(arn: str, patterns: list[str]) -> bool:
    return any(resource_matches(p, arn) for p in patterns or [])


def _by_statement(found: dict[str, list[Grant]]) -> str:
    """Which statements grant the actions, each with the actions it grants (short: the first few)."""
    per: dict[str, list[str]] = {}
    for action, grants in found.items():
        for g in grants:
            per.setdefault(describe_grant(g), []).append(action.split(":", 1)[1])
    parts = []
    for label, actions in per.items():
        shown = ", ".join(actions[:4]) + (f" and {len(actions) - 4} more" if len(actions) > 4 else "")
        parts.append(f"{label} [{shown}]")
    return "; ".join(parts)


def _examples(actions: list[str]) -> str:
    first = [a for a in EKS_EXAMPLES if a in actions] or actions[:3]
    return ", ".join(first[:3])


def _allowed_on_all(auth: AuthorizationDetails, arn: str, actions: list[str]) -> dict[str, list[Grant]]:
    return auth.matching_actions(arn, actions, "*")


def allowed_anywhere(auth: AuthorizationDetails, arn: str, actions: list[str]) -> dict[str, list[Grant]]:
    out = {}
    for a in actions:
        g = grants_for_action(auth, arn, a)
        if g:
            out[a] = g
    return out


def _role(auth: AuthorizationDetails, arn: str) -> dict | None:
    return next((p for p in auth.principals() if p["arn"] == arn and p["type"] == "role"), None)


def _pod_identity_agent(f: Frames) -> dict[str, bool]:
    """cluster -> whether the EKS Pod Identity agent DaemonSet runs in kube-system (clusters whose DaemonSets were
    collected only). Without the agent, pod identity associations give pods no credentials."""
    out = {e["cluster"]: False for e, _ in f.evidence.responses("k8s:daemonsets")}
    for cluster, d in f.evidence.k8s_items("daemonsets"):
        m = d.get("metadata") or {}
        if m.get("namespace") == "kube-system" and m.get("name") == "eks-pod-identity-agent":
            out[cluster] = True
    return out


def _cluster_rows(f: Frames):
    return f.clusters.to_dict(orient="records")


def _row(c: dict, status: str, rtype: str, rid: str, reason: str, evidence: str = "", cluster: str | None = None) -> dict:
    return row(status, rtype, rid, reason, evidence or c.get("evidence", ""),
               c.get("cluster", "") if cluster is None else cluster, c.get("region", ""), c.get("account_id", ""))


# ---- IAM-01 -------------------------------------------------------------------------------------------------


@check("IAM-01", domain="iam", title="Minimal IAM permissions for EKS", severity="high", requirements=["R-IAM-1"],
       frames=("iam_auth",), params={"eks_admin_principals": []},
       practice="No IAM user, group or role may change EKS clusters or their access on every cluster unless it is "
                "named as an EKS administrator; permissions are scoped to the clusters and actions a job needs.",
       rationale="eks:* or * on all resources lets one leaked credential delete clusters, add itself as cluster "
                 "admin through access entries, or change endpoint access, across every cluster of the account.",
       remediation="Replace eks:*, * and wildcard write actions on Resource \"*\" with the specific actions the "
                   "principal needs on specific cluster ARNs; list deliberate administrators in eks_admin_principals.",
       references={"cis_eks": "none (CIS EKS covers RBAC only)", "securityhub": "IAM.1, IAM.21",
                   "prowler": "iam_policy_allows_privilege_escalation (nearest)"})
def iam_01(f: Frames, p: dict) -> list[dict]:
    auth = f.iam_auth
    rows = []
    for pr in _audited(auth):
        found = _allowed_on_all(auth, pr["arn"], EKS_WRITE)
        if not found:
            rows.append(_principal_row(f, pr, "PASS", "no EKS write or admin action on all resources (IAM is "
                                                      "global: no cluster of any region)" + _capped(auth, pr["arn"])))
        elif _matches_any(pr["arn"], p["eks_admin_principals"]):
            rows.append(_principal_row(f, pr, "PASS", f"named EKS administrator (eks_admin_principals) allowed "
                                                      f"{len(found)} EKS write actions on all clusters"))
        else:
            everything = len(found) == len(EKS_WRITE)
            what = ("every EKS write and admin action" if everything
                    else f"{len(found)} of {len(EKS_WRITE)} EKS write/admin actions")
            rows.append(_principal_row(f, pr, "FAIL", f"may perform {what} on every cluster in every region (e.g. "
                                                      f"{_examples(sorted(found))}); granted by "
                                                      + _by_statement(found) + _granted_note(auth, pr["arn"])))
    return rows


# ---- IAM-02 -------------------------------------------------------------------------------------------------


def _key_label(k: dict) -> str:
    age = "age unknown" if k["age_days"] is None else f"{int(k['age_days'])} days old"
    return f"{k['key']} ({age})"


# Operators under which a condition key narrows who gets in. Negated operators, ...IfExists (true when the key
# is absent, as it is for many callers) and ForAllValues (true for an empty set) do not.
_GUARD_OPERATORS = {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "bool",
                    "null", "numericlessthan", "numericlessthanequals"}


def _guards(conditions: dict) -> list[str]:
    """Condition keys that really narrow a trust to known callers: the key is one of TRUST_GUARDS, tested with
    a positive operator against a concrete value (an ExternalId "*" or MultiFactorAuthPresent "false" lets
    anyone in). Having *a* condition is not enough."""
    out = set()
    for op, tests in (conditions or {}).items():
        if not isinstance(tests, dict):
            continue
        base = str(op).lower().removeprefix("foranyvalue:")
        if base not in _GUARD_OPERATORS:
            continue
        for key, value in tests.items():
            k = str(key).lower()
            values = [str(v).lower() for v in (value if isinstance(value, list) else [value])]
            if k not in TRUST_GUARDS and not (k == "aws:multifactorauthage" and base.startswith("numeric")):
                continue
            if base == "null":
                ok = k in ("aws:multifactorauthpresent", "aws:multifactorauthage") and values == ["false"]
            elif base == "bool":
                ok = k == "aws:multifactorauthpresent" and values == ["true"]
            elif base.startswith("numeric"):
                ok = k == "aws:multifactorauthage"
            else:
                ok = bool(values) and all(v.strip("*?") for v in values) and k != "aws:multifactorauthpresent"
            if ok:
                out.add(str(key) if k in TRUST_GUARDS else "aws:MultiFactorAuthAge")
    return sorted(out)


@check("IAM-02", domain="iam", title="Temporary credentials for EKS management", severity="high",
       requirements=["R-IAM-2"], frames=("iam_auth", "iam_users"), params={"max_access_key_age_days": 90},
       practice="People and systems manage EKS through roles they assume (temporary credentials), not IAM users' "
                "access keys; cross-account roles trust specific principals or carry a condition such as an "
                "ExternalId, the organisation id or MFA.",
       rationale="Access keys live until someone rotates them and leak through laptops, CI logs and images; a "
                 "role trusting a whole other account without a condition lets every identity there manage "
                 "your clusters.",
       remediation="Move EKS access to roles assumed through SSO or sts:AssumeRole; deactivate and delete access "
                   "keys, rotating any that must stay within the age limit; add sts:ExternalId, "
                   "aws:PrincipalOrgID or MFA conditions to cross-account trust policies.",
       references={"cis_eks": "none", "securityhub": "IAM.3", "prowler": "iam_rotate_access_key_90_days / "
                   "iam_user_with_temporary_credentials / iam_role_cross_account_readonlyaccess_policy"})
def iam_02(f: Frames, p: dict) -> list[dict]:
    auth, users, own = f.iam_auth, f.iam_users, f.evidence.account
    rows = []
    max_age = float(p["max_access_key_age_days"])
    for u in users.to_dict(orient="records"):
        pr = {"arn": u["arn"], "type": "user"}
        if u["keys_error"]:
            rows.append(_principal_row(f, pr, "ERROR", f"access keys could not be read ({KEYS} {u['keys_error']})"))
            continue
        active = [k for k in u["keys"] if k["status"] == "Active"]
        if not active:
            rows.append(_principal_row(f, pr, "PASS", "no active access key"))
            continue
        eks = allowed_anywhere(auth, u["arn"], EKS_ALL)
        keys = ", ".join(_key_label(k) for k in active)
        problems = []
        if eks:
            problems.append(f"holds active access key(s) {keys} and EKS permissions ({_examples(sorted(eks))}) "
                            f"granted by {_by_statement(eks)}")
        old = [k for k in active if k["age_days"] is not None and k["age_days"] > max_age]
        if old:
            problems.append("active access key(s) older than "
                            f"{int(max_age)} days: " + ", ".join(f"{k['key']} ({int(k['age_days'])} days)" for k in old))
        ev = u["evidence_keys"] if isinstance(u.get("evidence_keys"), str) else u["evidence"]
        if problems:
            rows.append(_principal_row(f, pr, "FAIL", "; ".join(problems)
                                       + (_granted_note(auth, u["arn"]) if eks else ""), evidence=ev))
        else:
            rows.append(_principal_row(f, pr, "PASS", f"active access key(s) {keys} grant no EKS permission and are "
                                                      f"within {int(max_age)} days" + _capped(auth, u["arn"]),
                                       evidence=ev))
    for pr in _audited(auth):
        if pr["type"] != "role" or not pr.get("trust"):
            continue
        eks = allowed_anywhere(auth, pr["arn"], EKS_ALL)
        if not eks:
            continue
        open_to = []
        guarded = []
        for t in trust_principals(pr["trust"]):
            if t["type"] not in ("AWS", "*"):
                continue
            whole = t["account"] == "*" or (t["account"] and t["account"] != own and (
                t["value"] == t["account"] or t["value"].endswith(":root")))
            if not whole:
                continue
            who = "anyone (Principal *)" if t["account"] == "*" else f"the whole account {t['account']}"
            g = _guards(t["conditions"])
            (guarded if g else open_to).append(f"{who}" + (f" with condition {', '.join(g)}" if g else ""))
        if open_to:
            rows.append(_principal_row(f, pr, "FAIL", f"holds EKS permissions ({_examples(sorted(eks))}) and trusts "
                                                      + "; ".join(open_to) + " without an ExternalId, "
                                                      "PrincipalOrgID or MFA condition that narrows it"
                                                      + _granted_note(auth, pr["arn"])))
        else:
            rows.append(_principal_row(f, pr, "PASS", "holds EKS permissions; its trust policy names no whole "
                                                      "other account without a condition"
                                                      + (f" ({'; '.join(guarded)})" if guarded else "")))
    return rows


# ---- IAM-03 -------------------------------------------------------------------------------------------------


def _node_role_rows(f: Frames, auth: AuthorizationDetails, groups: dict[str, list[str]], what: str,
                    cluster_scoped: bool = True) -> list[dict]:
    """One row per (cluster, node role): FAIL when the role is allowed any action of `groups` on some resource.

    Unknown node roles (node groups listed but not described) become ERROR rows for their cluster; roles only
    recognised from IAM (no cluster names them) are account-level rows.
    """
    rows = []
    nr = f.node_roles
    for r in nr.to_dict(orient="records"):
        if r["cluster"] and not cluster_scoped:
            continue
        base = {"account_id": r["account_id"], "region": r["region"], "cluster": r["cluster"],
                "evidence": r["evidence"]}
        if r["error"]:
            rows.append({**base, "status": "ERROR", "resource_type": "node-role", "resource_id": r["source"],
                         "reason": f"node role unknown, {what} cannot be verified: {r['error']}"})
            continue
        if _role(auth, r["role_arn"]) is None:
            rows.append({**base, "status": "ERROR", "resource_type": "node-role", "resource_id": r["role_arn"],
                         "reason": f"node role ({r['source']}) is not in the account's IAM snapshot ({GAAD}), so "
                                   "its permissions cannot be evaluated"})
            continue
        found = {}
        for label, actions in groups.items():
            hit = allowed_anywhere(auth, r["role_arn"], actions)
            if hit:
                found[label] = hit
        if found:
            kinds = ", ".join(found)
            merged = {a: g for hit in found.values() for a, g in hit.items()}
            rows.append({**base, "status": "FAIL", "resource_type": "node-role", "resource_id": r["role_arn"],
                         "reason": f"node role ({r['source']}) grants {kinds} {what} that every pod on these "
                                   f"nodes inherits through the instance metadata service; granted by "
                                   + _by_statement(merged) + _granted_note(auth, r["role_arn"])})
        else:
            rows.append({**base, "status": "PASS", "resource_type": "node-role", "resource_id": r["role_arn"],
                         "reason": f"node role ({r['source']}) grants no {'/'.join(groups)} {what}"
                                   + _capped(auth, r["role_arn"])})
    return rows


@check("IAM-03", domain="iam", title="Service roles for EKS, IRSA or pod identity for pods", severity="high",
       requirements=["R-IAM-3"], frames=("clusters", "iam_auth", "node_roles"),
       soft_inputs=(OIDC, POD_IDENTITY, "k8s:daemonsets"),
       practice="EKS acts through a cluster role that trusts eks.amazonaws.com; pods get AWS access through their "
                "own roles (IRSA via the cluster's IAM OIDC provider, or EKS Pod Identity), never through data "
                "permissions on the node instance role.",
       rationale="A node role is shared by every pod on the node: S3, RDS or Secrets Manager data access on it "
                 "hands that data to any compromised container; without IRSA or pod identity teams put such "
                 "permissions on the node role.",
       remediation="Register an IAM OIDC provider for the cluster's issuer (eksctl utils associate-iam-oidc-provider) "
                   "or install the EKS Pod Identity agent; move data permissions from node roles to per-application "
                   "roles; give the cluster a role whose trust policy allows eks.amazonaws.com.",
       references={"cis_eks": "none exact (IRSA is discussed under 5.x managed services)", "securityhub": "none",
                   "prowler": "none", "hardeneks": "use_irsa"})
def iam_03(f: Frames, p: dict) -> list[dict]:
    auth = f.iam_auth
    issuers, oidc_err = oidc_providers(f)
    pid = pod_identity(f)
    agent = _pod_identity_agent(f)
    # EKS gives every cluster an issuer of its own, so an IAM OIDC provider for it proves IRSA for that cluster
    # alone; the guard below (over every cluster of the account, as the inventory lists them) only catches
    # endpoints that break that rule (moto gives every cluster of a region the same issuer).
    by_issuer: dict[str, list[tuple[str, str]]] = {}
    for c in _cluster_rows(f):
        by_issuer.setdefault((c["oidc_issuer"] or "").removeprefix("https://").rstrip("/"), []).append(
            (c["region"], c["cluster"]))
    rows = []
    for c in _cluster_rows(f):
        role = _role(auth, c["role_arn"])
        if role is None:
            rows.append(_row(c, "FAIL", "cluster-role", c["role_arn"] or c["cluster"],
                             "cluster role is not a role of this account's IAM snapshot"))
        else:
            trusted = [t for t in trust_principals(role["trust"] or {}) if t["type"] == "Service"
                       and t["value"] == "eks.amazonaws.com"]
            rows.append(_row(c, "PASS" if trusted else "FAIL", "cluster-role", c["role_arn"],
                             "cluster role trusts eks.amazonaws.com" if trusted else
                             "cluster role does not trust eks.amazonaws.com, so it is not an EKS service role",
                             gaad_ref(f, c["role_arn"])))
        issuer = (c["oidc_issuer"] or "").removeprefix("https://").rstrip("/")
        assoc, pid_err = pid.get(c["cluster"], ([], "not collected"))
        no_agent = agent.get(c["cluster"]) is False
        rid = f"{c['cluster']} (pod credentials)"
        sharing = [x for x in by_issuer.get(issuer, []) if x != (c["region"], c["cluster"])]
        if issuer and issuer in issuers and sharing:
            rows.append(_row(c, "ERROR", "cluster", rid, f"DescribeCluster reports the same OIDC issuer {issuer} for "
                                                         f"clusters {_named(sharing, c['region'])}; EKS gives every cluster its "
                                                         "own, so the IAM OIDC provider cannot be attributed"))
        elif issuer and issuer in issuers:
            rows.append(_row(c, "PASS", "cluster", rid, f"IAM OIDC provider registered for issuer {issuer} (IRSA)"))
        elif assoc and not no_agent:
            rows.append(_row(c, "PASS", "cluster", rid, f"uses EKS Pod Identity ({len(assoc)} associations)"))
        elif oidc_err or (pid_err and not no_agent):
            causes = "; ".join(x for x in (oidc_err and f"OIDC providers ({OIDC} {oidc_err})",
                                           pid_err and f"pod identity associations ({POD_IDENTITY} {pid_err})") if x)
            rows.append(_row(c, "ERROR", "cluster", rid, "IRSA or pod identity could not be verified: " + causes))
        else:
            rows.append(_row(c, "FAIL", "cluster", rid, "no IAM OIDC provider for the cluster's issuer (no IRSA) "
                                                        "and no working pod identity (no association or no "
                                                        "eks-pod-identity-agent): pods can only use the node role"))
    rows += _node_role_rows(f, auth, DATA_ACTIONS, "data access")
    return rows


# ---- IAM-04 -------------------------------------------------------------------------------------------------


# Built-in roles every cluster binds to all service accounts (OIDC discovery, API discovery, self review): a
# binding to them says nothing about whether a workload calls the Kubernetes API.
DISCOVERY_ROLES = {"system:service-account-issuer-discovery", "system:discovery", "system:basic-user",
                   "system:public-info-viewer"}


def _bound_service_accounts(f: Frames) -> set[tuple[str, str, str]]:
    """(cluster, namespace, name) of service accounts some RoleBinding or ClusterRoleBinding grants to;
    ("cluster", ns, "*") where a group binding covers a whole namespace (or "*" for all). Bindings to the
    built-in discovery roles do not count."""
    out = set()
    for plural in ("rolebindings", "clusterrolebindings"):
        for cluster, b in f.evidence.k8s_items(plural):
            if (b.get("roleRef") or {}).get("name") in DISCOVERY_ROLES:
                continue
            bns = (b.get("metadata") or {}).get("namespace", "")
            for s in b.get("subjects") or []:
                if s.get("kind") == "ServiceAccount":
                    out.add((cluster, s.get("namespace") or bns, s.get("name", "")))
                elif s.get("kind") == "Group" and s.get("name", "").startswith("system:serviceaccounts"):
                    ns = s["name"].removeprefix("system:serviceaccounts").lstrip(":") or "*"
                    out.add((cluster, ns, "*"))
    return out


TOKEN_SECRET = "kubernetes.io/service-account-token"
SECRETS = "k8s:secrets"


def _secret_refs(f: Frames) -> dict[str, list[tuple[str, str, str, str]]]:
    """cluster -> (namespace, service account, referenced Secret name, evidence) from ServiceAccounts' `secrets:`
    lists: where Secrets cannot be listed, the only trace of token Secrets the token controller created."""
    out: dict[str, list[tuple[str, str, str, str]]] = {}
    for e, data in f.evidence.responses("k8s:serviceaccounts"):
        for sa in data.get("items") or []:
            m = sa.get("metadata") or {}
            ns, name = m.get("namespace", ""), m.get("name", "")
            for ref in sa.get("secrets") or []:
                if isinstance(ref, dict) and isinstance(ref.get("name"), str) and ref["name"]:
                    out.setdefault(e["cluster"], []).append((ns, name, ref["name"], f"evidence/{e['path']}#{ns}/{name}"))
    return out


def _token_secret_rows(f: Frames, clusters: dict[str, dict]) -> list[dict]:
    """Token Secret verdicts per cluster. Secrets are a soft input: the default RBAC role does not list them, and
    then the claim "no token Secret" is never made (MANUAL when access was denied, ERROR for other failures)."""
    rows = []
    listed: dict[str, list] = {}
    for e, data in f.evidence.responses(SECRETS):
        found = listed.setdefault(e["cluster"], [])
        found += [(s, e) for s in data.get("items") or [] if s.get("type") == TOKEN_SECRET]
    failed = {e["cluster"]: e for e in f.evidence.errors(SECRETS)}
    refs = _secret_refs(f)
    for name, c in clusters.items():
        if name in listed:
            for s, e in listed[name]:
                m = s.get("metadata") or {}
                sa = (m.get("annotations") or {}).get("kubernetes.io/service-account.name", "?")
                rows.append(_row(c, "FAIL", "secret", f"{m.get('namespace', '')}/{m.get('name', '')}",
                                 f"long-lived token Secret for service account {sa}: it never expires",
                                 f"evidence/{e['path']}#{m.get('namespace', '')}/{m.get('name', '')}"))
            if not listed[name]:
                rows.append(_row(c, "PASS", "cluster", f"{name} (token Secrets)", f"no {TOKEN_SECRET} Secret"))
            continue
        for ns, sa, secret, ev in refs.get(name, []):
            if secret.startswith(f"{sa}-token-"):
                rows.append(_row(c, "FAIL", "secret", f"{ns}/{secret}",
                                 f"service account {sa} references Secret {secret}, named as the token controller "
                                 "names long-lived token Secrets (Secrets not readable: type not confirmed)", ev))
            else:
                rows.append(_row(c, "MANUAL", "secret", f"{ns}/{secret}",
                                 f"service account {sa} references Secret {secret}; Secrets not readable: confirm "
                                 f"it is not a {TOKEN_SECRET} Secret", ev))
        err = failed.get(name)
        cause = describe(err.get("error") or {}) if err else "not collected"
        where = "evidence/manifest.json"
        if err and (err.get("error") or {}).get("kind") == "access-denied":
            rows.append(_row(c, "MANUAL", "cluster", f"{name} (token Secrets)",
                             f"Secrets not readable ({SECRETS} {cause}; the default eksaudit-reader role does not "
                             "list Secrets): token Secrets not referenced by a service account cannot be excluded; "
                             f"list them with `kubectl get secrets -A --field-selector type={TOKEN_SECRET}` or "
                             "grant the opt-in eksaudit-secrets-lister role", where))
        else:
            rows.append(_row(c, "ERROR", "cluster", f"{name} (token Secrets)",
                             f"token Secrets could not be verified: {SECRETS} {cause}", where))
    return rows


@check("IAM-04", domain="iam", title="No authentication with service account tokens", severity="medium",
       requirements=["R-IAM-4"], frames=("clusters", "workloads", "service_accounts", "aws_auth"),
       inputs=("k8s:rolebindings", "k8s:clusterrolebindings"), soft_inputs=("k8s:secrets",),
       params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="No long-lived service-account token Secrets exist; pods that do not call the Kubernetes API opt "
                "out of the token mount; people and systems authenticate with IAM through EKS access entries, "
                "not the aws-auth ConfigMap.",
       rationale="A service account token Secret never expires and works from anywhere that reaches the API server; "
                 "a mounted token is the first thing an attacker in a pod uses; aws-auth is a hand-edited ConfigMap "
                 "where one typo locks out or lets in the wrong identity.",
       remediation="Delete kubernetes.io/service-account-token Secrets (use TokenRequest / projected tokens); set "
                   "automountServiceAccountToken: false on pods or service accounts that do not call the API; "
                   "switch authenticationMode to API and migrate aws-auth mappings to access entries.",
       references={"cis_eks": "4.1.6 (automount), 5.5.1 (access entries)", "securityhub": "none",
                   "prowler": "none", "kubescape": "C-0034"})
def iam_04(f: Frames, p: dict) -> list[dict]:
    clusters = {c["cluster"]: c for c in _cluster_rows(f)}
    rows = _token_secret_rows(f, clusters)
    sas = {(r["cluster"], r["namespace"], r["name"]): r["automount"] for r in f.service_accounts.to_dict("records")}
    bound = _bound_service_accounts(f)
    w = outside(f.workloads, p["exclude_namespaces"])
    for r in w.to_dict(orient="records"):
        key = (r["cluster"], r["namespace"], r["service_account"])
        sa_auto = sas.get(key)
        mounts = r["automount_token"] if r["automount_token"] is not None else (sa_auto if sa_auto is not None else True)
        rid = f"{r['namespace']}/{r['workload']}"
        base = {"account_id": r["account_id"], "region": r["region"], "cluster": r["cluster"],
                "resource_type": "workload", "resource_id": rid, "evidence": r["evidence"]}
        if not mounts:
            where = "pod spec" if r["automount_token"] is False else f"service account {r['service_account']}"
            rows.append({**base, "status": "PASS", "reason": f"does not mount a service account token ({where} opts out)"})
        elif key in bound or (r["cluster"], r["namespace"], "*") in bound or (r["cluster"], "*", "*") in bound:
            rows.append({**base, "status": "PASS", "reason": f"mounts a token for service account "
                                                              f"{r['service_account']}, which has RBAC bindings (it "
                                                              "calls the Kubernetes API)"})
        else:
            rows.append({**base, "status": "FAIL", "reason": f"automounts a token for service account "
                                                              f"{r['service_account']}, which has no RBAC binding: "
                                                              "it does not need the API, so the token only helps an "
                                                              "attacker"})
    auth_maps = {r["cluster"]: r for r in f.aws_auth.to_dict(orient="records")}
    for name, c in clusters.items():
        mode = c["authentication_mode"]
        cm = auth_maps.get(name)
        rid = f"{name} (authentication mode)"
        if mode == "API":
            rows.append(_row(c, "PASS", "cluster", rid, "authenticationMode is API: access entries only"))
        elif mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
            rows.append(_row(c, "FAIL", "cluster", rid, f"authenticationMode is {mode}: the aws-auth ConfigMap "
                                                        "still grants cluster access"))
        elif cm is not None:
            rows.append(_row(c, "FAIL", "cluster", rid, "authenticates through the aws-auth ConfigMap "
                                                        "(DescribeCluster reported no authenticationMode)",
                             cm["evidence"]))
        else:
            rows.append(_row(c, "ERROR", "cluster", rid, "DescribeCluster reported no "
                                                         "accessConfig.authenticationMode, so the use of access "
                                                         "entries cannot be verified"))
        if cm is not None and cm["map_users"]:
            users = ", ".join(str(u.get("userarn", "?")) for u in cm["map_users"] if isinstance(u, dict))
            rows.append(_row(c, "FAIL", "configmap", "kube-system/aws-auth mapUsers",
                             f"aws-auth maps IAM users (long-lived keys) into the cluster: {users}", cm["evidence"]))
    return rows


# ---- IAM-05 -------------------------------------------------------------------------------------------------


@check("IAM-05", domain="iam", title="One IAM role per cluster", severity="medium", requirements=["R-IAM-5"],
       frames=("clusters", "node_roles", "cluster_inventory"),
       practice="Every cluster has its own cluster role, and its node groups use node roles no other cluster uses, "
                "in any region of the account.",
       rationale="A role shared by clusters joins their blast radius: a permission added for one cluster applies "
                 "to all, and a compromised node of a test cluster holds the same credentials as production nodes.",
       remediation="Create a cluster role and a node role per cluster (clusters cannot change their cluster role: "
                   "recreate or migrate); create new node groups with a dedicated node role.",
       references={"cis_eks": "none", "securityhub": "none", "prowler": "none"})
def iam_05(f: Frames, p: dict) -> list[dict]:
    # "No other cluster" is a claim about the whole account: it is decided over the inventory (every cluster
    # in every enabled region, read whatever --cluster/--region selected) and is ERROR while that is incomplete.
    inv = f.cluster_inventory
    rows = []
    cl = f.clusters
    by_role: dict[str, list[tuple[str, str]]] = {}
    for c in _cluster_rows(f):
        if c["role_arn"]:
            by_role.setdefault(c["role_arn"], []).append((c["region"], c["cluster"]))
    for c in _cluster_rows(f):
        me = (c["region"], c["cluster"])
        others = _named((x for x in by_role.get(c["role_arn"], []) if x != me), c["region"])
        unknown = inv.unknown()
        if others:
            status, reason = "FAIL", f"cluster role also used by cluster(s) {others}"
        elif unknown:
            status, reason = "ERROR", ("no other cluster read uses this cluster role, but the account's clusters "
                                       "are not all known: " + _first(unknown))
        else:
            status, reason = "PASS", f"cluster role used by this cluster only: no other cluster in the account " \
                                     f"uses it ({inv.words()})"
        rows.append(_row(c, status, "cluster-role", c["role_arn"], reason))
    nr = f.node_roles
    known = nr[(nr["cluster"] != "") & (nr["role_arn"] != "")]
    users: dict[str, set[tuple[str, str]]] = {}
    for r in known.itertuples(index=False):
        users.setdefault(r.role_arn, set()).add((r.region, r.cluster))
    auth_read = {(e["region"], e["cluster"]) for e, _ in f.evidence.responses("k8s:configmaps")}
    not_read = sorted(x for x in zip(cl["region"], cl["cluster"]) if x not in auth_read)
    for r in nr[nr["cluster"] != ""].to_dict(orient="records"):
        me = (r["region"], r["cluster"])
        base = {"account_id": r["account_id"], "region": r["region"], "cluster": r["cluster"],
                "resource_type": "node-role", "evidence": r["evidence"]}
        if r["error"]:
            rows.append({**base, "status": "ERROR", "resource_id": r["source"],
                         "reason": f"node role unknown, sharing cannot be verified: {r['error']}"})
            continue
        others = _named((x for x in users.get(r["role_arn"], set()) if x != me), r["region"])
        unknown = inv.unknown(nodes=True, besides=me)
        if others:
            status, reason = "FAIL", f"node role ({r['source']}) also used by cluster(s) {others}"
        elif unknown:
            status, reason = "ERROR", (f"node role ({r['source']}) is used by no other cluster whose node roles are "
                                       "known, but not all are: " + _first(unknown))
        else:
            unseen = [x for x in not_read if x != me]
            caveat = (f"; self-managed nodes of {_named(unseen[:5], r['region'])}" + (f" and {len(unseen) - 5} more" if
                      len(unseen) > 5 else "") + " not covered: their aws-auth was not read" if unseen else "")
            status, reason = "PASS", (f"node role ({r['source']}) used by this cluster only: no managed node group "
                                      f"or Auto Mode of another cluster uses it ({inv.words()}), nor any aws-auth "
                                      f"node mapping read ({len(auth_read)} clusters){caveat}")
        rows.append({**base, "status": status, "resource_id": r["role_arn"], "reason": reason})
    return pd.DataFrame(rows).drop_duplicates(["region", "cluster", "resource_id", "status", "reason"]) if rows \
        else rows


def _named(clusters, home: str = "") -> str:
    """(region, name) pairs as cluster names for a reason, with the region of those outside `home`."""
    found = sorted(set(clusters), key=lambda x: (x[1], x[0]))
    return ", ".join(n if r == home else f"{n} ({r})" for r, n in found)


def _first(items: list[str], n: int = 3) -> str:
    return "; ".join(items[:n]) + (f"; and {len(items) - n} more" if len(items) > n else "")


# ---- IAM-08 -------------------------------------------------------------------------------------------------


def _addon_roles(f: Frames) -> dict[tuple[str, str], str]:
    """(cluster, add-on name) -> the IAM role its add-on configuration gives it ("" when none)."""
    out = {}
    for e, data in f.evidence.responses(DESCRIBE_ADDON):
        a = data.get("addon") or {}
        role = a.get("serviceAccountRoleArn") or ""
        if not role and a.get("podIdentityAssociations"):
            role = "pod identity"
        out[(e["cluster"], a.get("addonName", ""))] = role
    return out


@check("IAM-08", domain="iam", title="Storage CSI drivers use their own IAM role", severity="high",
       requirements=["R-IAM-8"], frames=("clusters", "iam_auth", "node_roles"),
       soft_inputs=(*WORKLOAD_INPUTS, "k8s:serviceaccounts", "k8s:daemonsets", POD_IDENTITY, DESCRIBE_ADDON, OIDC),
       practice="The EBS, EFS and FSx CSI drivers get AWS permissions from a role of their own (IRSA or EKS Pod "
                "Identity) and the node role holds no volume or file-system management permissions.",
       rationale="Storage permissions on the node role let every pod on the node create, attach and delete "
                 "volumes or file systems, including snapshots of other workloads' data.",
       remediation="Create a role with AmazonEBSCSIDriverPolicy (or the EFS/FSx policy) trusted by the driver's "
                   "service account (IRSA or pod identity), set it on the add-on (serviceAccountRoleArn), and "
                   "detach storage policies from node roles.",
       references={"cis_eks": "none", "securityhub": "none", "prowler": "none", "hardeneks": "use_irsa"})
def iam_08(f: Frames, p: dict) -> list[dict]:
    auth = f.iam_auth
    rows = _node_role_rows(f, auth, STORAGE_ACTIONS, "volume/file-system management permissions")
    pid = pod_identity(f)
    agent = _pod_identity_agent(f)
    addons = _addon_roles(f)
    oidc = oidc_providers(f)
    issuers = {c["cluster"]: c["oidc_issuer"] for c in _cluster_rows(f)}
    # Kubernetes reads are soft here: a cluster whose objects could not be read gets one ERROR for its drivers,
    # while node-role verdicts (IAM only) stand for the account.
    unreadable: dict[str, list[str]] = {}
    for key in [*WORKLOAD_INPUTS, "k8s:serviceaccounts"]:
        for e in f.evidence.errors(key):
            unreadable.setdefault(e["cluster"], []).append(f"{key} {describe(e.get('error') or {})}")
    for c in _cluster_rows(f):
        if c["cluster"] in unreadable:
            causes = unreadable[c["cluster"]]
            rows.append(_row(c, "ERROR", "cluster", f"{c['cluster']} (CSI drivers)",
                             f"CSI drivers and their service accounts could not be verified: {causes[0]}"
                             + (f" and {len(causes) - 1} more inputs" if len(causes) > 1 else "")))
    sas = {(r["cluster"], r["namespace"], r["name"]): r for r in f.service_accounts.to_dict("records")}
    w = f.workloads
    w = w[(w["namespace"] == "kube-system") & w["kind"].isin(["Deployment", "StatefulSet", "Pod"])
          & ~w["cluster"].isin(list(unreadable))]
    for r in w.to_dict(orient="records"):
        images = " ".join(c.get("image", "") for c in r["spec"].get("containers") or [])
        kind = next((k for k, marks in CSI_DRIVERS.items()
                     if any(m in images or m in r["name"] for m in marks)), None)
        if kind is None:
            continue
        sa = r["service_account"]
        base = {"account_id": r["account_id"], "region": r["region"], "cluster": r["cluster"],
                "resource_type": "workload", "resource_id": f"kube-system/{r['workload']}", "evidence": r["evidence"]}
        sa_row = sas.get((r["cluster"], "kube-system", sa))
        assoc, pid_err = pid.get(r["cluster"], ([], "not collected"))
        addon_role = addons.get((r["cluster"], CSI_DRIVERS[kind][0]), "")
        has_agent = agent.get(r["cluster"]) is not False
        irsa = (sa_row or {}).get("role_arn") or ""
        # An annotation is not a credential: the role must exist and trust this cluster's OIDC provider for
        # this service account, or the driver silently falls back to the node role.
        irsa_status, irsa_reason = _irsa_role(auth, f.evidence.account, irsa, issuers.get(r["cluster"], ""),
                                              oidc, "kube-system", sa) if irsa else ("", "")
        head = f"{kind} CSI driver's service account {sa}"
        if irsa_status == "PASS":
            rows.append({**base, "status": "PASS", "reason": f"{head} has its own role {irsa} (IRSA): "
                                                              f"{irsa_reason}"})
        elif any(a.get("namespace") == "kube-system" and a.get("serviceAccount") == sa for a in assoc) and has_agent:
            rows.append({**base, "status": "PASS", "reason": f"{head} has an EKS Pod Identity association and the "
                                                              "eks-pod-identity-agent runs"})
        elif addon_role and (addon_role != "pod identity" or has_agent):
            rows.append({**base, "status": "PASS", "reason": f"{kind} CSI driver add-on is configured with "
                                                              f"{addon_role}"})
        elif irsa_status:
            rows.append({**base, "status": irsa_status, "reason": f"{head} is annotated with {irsa}, but "
                                                                   f"{irsa_reason}"})
        elif pid_err and has_agent:
            rows.append({**base, "status": "ERROR", "reason": f"{head} has no IRSA annotation and pod identity "
                                                               f"associations could not be read ({POD_IDENTITY} {pid_err})"})
        else:
            rows.append({**base, "status": "FAIL", "reason": f"{head} has no IAM role (no IRSA annotation, no pod "
                                                              "identity association or no eks-pod-identity-agent): "
                                                              "the driver falls back to the node role"})
    return rows


def _irsa_role(auth: AuthorizationDetails, own: str, role_arn: str, issuer: str, oidc: tuple[set[str], str],
               namespace: str, sa: str) -> tuple[str, str]:
    """(status, words) for an IRSA annotation: PASS only when the role exists in this account and trusts the
    cluster's IAM OIDC provider for this service account (sts:AssumeRoleWithWebIdentity)."""
    from fnmatch import fnmatchcase

    role = _role(auth, role_arn)
    if role is None:
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        if account and account != own:
            return "MANUAL", f"the role is in account {account}: confirm there that it trusts this cluster"
        return "FAIL", "it is not a role of this account's IAM snapshot, so the driver falls back to the node role"
    host = (issuer or "").removeprefix("https://").rstrip("/")
    if not host:
        return "FAIL", "the cluster reports no OIDC issuer, so IRSA cannot work and the driver falls back to the node role"
    providers, providers_err = oidc
    if not providers_err and host not in providers:
        return "FAIL", f"no IAM OIDC provider exists for the cluster's issuer {host}, so the role cannot be assumed"
    want = f"system:serviceaccount:{namespace}:{sa}"
    for t in trust_principals(role["trust"] or {}):
        if t["type"] != "Federated" or not t["value"].endswith(f":oidc-provider/{host}"):
            continue
        if t["actions"] and not any(action_matches(a, "sts:AssumeRoleWithWebIdentity") for a in t["actions"]):
            continue
        subs = [v for op, tests in (t["conditions"] or {}).items() if isinstance(tests, dict)
                and "not" not in str(op).lower() for k, vals in tests.items() if str(k).lower() == f"{host}:sub".lower()
                for v in (vals if isinstance(vals, list) else [vals])]
        if not subs or any(fnmatchcase(want, str(v)) for v in subs):
            return "PASS", f"it trusts the cluster's OIDC provider for {namespace}/{sa}"
    return "FAIL", (f"its trust policy does not admit {namespace}/{sa} through the cluster's OIDC provider {host}, "
                    "so the driver falls back to the node role")


# ---- IAM-09 -------------------------------------------------------------------------------------------------


@check("IAM-09", domain="iam", title="MFA for privileged console users", severity="high", requirements=["R-IAM-9"],
       frames=("iam_auth", "iam_users"),
       practice="Every IAM user who can sign in to the console and manage EKS (or administer IAM) has an MFA device.",
       rationale="A console password alone is phished or reused; with EKS write or IAM admin rights it is enough to "
                 "take over every cluster.",
       remediation="Enable a (virtual or hardware) MFA device for the user, and deny privileged actions without "
                   "aws:MultiFactorAuthPresent; better, move people to IAM Identity Center.",
       references={"cis_eks": "none", "securityhub": "IAM.5, IAM.19",
                   "prowler": "iam_user_mfa_enabled_console_access / iam_administrator_access_with_mfa"})
def iam_09(f: Frames, p: dict) -> list[dict]:
    auth = f.iam_auth
    rows = []
    for u in f.iam_users.to_dict(orient="records"):
        pr = {"arn": u["arn"], "type": "user"}
        if u["console_password"] is None:
            rows.append(_principal_row(f, pr, "ERROR", f"console password could not be read ({LOGIN} "
                                                       f"{u['password_error']})"))
            continue
        if not u["console_password"]:
            rows.append(_principal_row(f, pr, "PASS", "no console password"))
            continue
        eks = allowed_anywhere(auth, u["arn"], EKS_WRITE)
        admin = _allowed_on_all(auth, u["arn"], ADMIN_PROBES)
        if not eks and not admin:
            rows.append(_principal_row(f, pr, "PASS", "console user without EKS write or IAM admin permissions"
                                                      + _capped(auth, u["arn"])))
            continue
        what = " and ".join(x for x in ("EKS write" if eks else "", "IAM admin" if admin else "") if x)
        if u["mfa_devices"] is None:
            rows.append(_principal_row(f, pr, "ERROR", f"console user with {what} permissions; MFA devices could "
                                                       f"not be read ({MFA} {u['mfa_error']})"))
        elif u["mfa_devices"] == 0:
            rows.append(_principal_row(f, pr, "FAIL", f"console password, {what} permissions and no MFA device; "
                                                      f"granted by {_by_statement({**eks, **admin})}"
                                                      + _granted_note(auth, u["arn"])))
        else:
            rows.append(_principal_row(f, pr, "PASS", f"console user with {what} permissions has "
                                                      f"{u['mfa_devices']} MFA device(s)"))
    return rows


# ---- IAM-10 -------------------------------------------------------------------------------------------------


@check("IAM-10", domain="iam", title="Minimal ECR permissions", severity="high", requirements=["R-IAM-10"],
       frames=("iam_auth", "repo_policies", "node_roles", "cluster_inventory"),
       params={"ci_principals": [], "trusted_accounts": []},
       practice="Repository policies name only this account or listed partner accounts, never everyone; only the "
                "CI principals named by a parameter may push to or change repositories on every repository; node "
                "roles only pull.",
       rationale="A writable repository is a supply-chain entry point: whoever can push an image runs code in "
                 "every cluster that pulls it; Principal * on a repository policy opens it to all AWS accounts.",
       remediation="Remove Principal \"*\" and unknown accounts from repository policies (or add an "
                   "aws:PrincipalOrgID condition); scope ECR push to CI roles on their own repositories; give node "
                   "roles only AmazonEC2ContainerRegistryReadOnly (or pull-only actions).",
       references={"cis_eks": "5.1.2 (minimize user access to ECR), 5.1.3 (cluster ECR access read-only)",
                   "securityhub": "none", "prowler": "ecr_repositories_not_publicly_accessible"})
def iam_10(f: Frames, p: dict) -> list[dict]:
    auth, own = f.iam_auth, f.evidence.account
    trusted = set(map(str, p["trusted_accounts"] or [])) | {own}
    rows = []
    for r in f.repo_policies.to_dict(orient="records"):
        base = {"account_id": r["account_id"], "region": r["region"], "cluster": "",
                "resource_type": "ecr-repository", "resource_id": r["repository"], "evidence": r["evidence"]}
        if r["state"] == "error":
            rows.append({**base, "status": "ERROR", "reason": f"repository policy could not be read ({REPO_POLICY} "
                                                               f"{r['error']})"})
            continue
        if r["state"] == "none":
            rows.append({**base, "status": "PASS", "reason": "no repository policy: only this account's IAM grants "
                                                              "access"})
            continue
        problems = []
        for t in trust_principals(r["policy"]):
            if t["type"] not in ("AWS", "*"):
                continue
            guards = _guards(t["conditions"])
            if t["account"] == "*" and not guards:
                problems.append(f"Principal * (everyone) may {','.join(t['actions']) or 'act'}")
            elif t["account"] and t["account"] != "*" and t["account"] not in trusted:
                problems.append(f"untrusted account {t['account']} may {','.join(t['actions']) or 'act'}")
        rows.append({**base, "status": "FAIL" if problems else "PASS",
                     "reason": "repository policy: " + "; ".join(problems) if problems
                     else "repository policy names only this account or trusted accounts"})
    nr = f.node_roles
    node = set(nr["role_arn"]) - {""}
    # While some cluster's node roles are unknown, a role EC2 may assume could be one of them, and node roles are
    # held to "read-only anywhere", not only "no write on every repository".
    unknown_nodes = sorted(set(nr[nr["error"] != ""]["cluster"])) + [
        n for (_, n) in f.cluster_inventory.node_gaps if n not in set(nr[nr["error"] != ""]["cluster"])]
    for pr in _audited(auth):
        if pr["arn"] in node:
            continue
        found = _allowed_on_all(auth, pr["arn"], ECR_WRITE)
        if not found and unknown_nodes and pr["type"] == "role" and any(
                t["type"] == "Service" and t["value"] == "ec2.amazonaws.com" for t in trust_principals(pr["trust"] or {})):
            some = allowed_anywhere(auth, pr["arn"], ECR_WRITE)
            if some:
                rows.append(_principal_row(f, pr, "ERROR", "EC2 may assume this role and it may perform ECR write "
                                                           f"actions ({', '.join(sorted(some)[:3])}) on some "
                                                           "repositories; it may be a node role of "
                                                           f"{', '.join(unknown_nodes[:3])}, whose node roles could "
                                                           "not all be read, where it would fail"))
                continue
        if not found:
            rows.append(_principal_row(f, pr, "PASS", "no ECR write action on all repositories"
                                                      + _capped(auth, pr["arn"])))
        elif _matches_any(pr["arn"], p["ci_principals"]):
            rows.append(_principal_row(f, pr, "PASS", "CI principal (ci_principals) may push to all repositories"))
        else:
            rows.append(_principal_row(f, pr, "FAIL", f"may perform {len(found)} ECR write actions (e.g. "
                                                      f"{', '.join(sorted(found)[:3])}) on every repository without "
                                                      f"being a CI principal; granted by {_by_statement(found)}"
                                                      + _granted_note(auth, pr["arn"])))
    for arn in sorted(node):
        pr = _role(auth, arn)
        if pr is None:
            continue
        found = allowed_anywhere(auth, arn, ECR_WRITE)
        rows.append(_principal_row(f, pr, "FAIL" if found else "PASS",
                                   f"node role may perform ECR write actions ({', '.join(sorted(found)[:3])}); "
                                   f"granted by {_by_statement(found)}{_granted_note(auth, arn)}" if found
                                   else "node role has at most read-only ECR access" + _capped(auth, arn)))
    return rows

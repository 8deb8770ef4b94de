"""Frames for the IAM domain: the account's IAM snapshot, its users' credentials, node roles, OIDC providers,
pod identity, service accounts and ECR repository policies.

Per-user credential reads, pod identity and node-group descriptions are "soft" inputs: a frame records for each
row whether its data was read and, if not, why (``*_error`` columns), so a check can ERROR exactly where a
verdict depended on a failed read while other verdicts stand.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import yaml

from ..collect.faults import describe
from ..policy import AuthorizationDetails, action_matches
from . import Frames, frame
from .core import ref

GAAD = "aws:iam:GetAccountAuthorizationDetails"
KEYS = "aws:iam:ListAccessKeys"
LOGIN = "aws:iam:GetLoginProfile"
MFA = "aws:iam:ListMFADevices"
OIDC = "aws:iam:ListOpenIDConnectProviders"
POD_IDENTITY = "aws:eks:ListPodIdentityAssociations"
NODEGROUPS = "aws:eks:ListNodegroups"
NODEGROUP = "aws:eks:DescribeNodegroup"
DESCRIBE_ADDON = "aws:eks:DescribeAddon"
REPO_POLICY = "aws:ecr:GetRepositoryPolicy"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@frame("iam_auth", [GAAD])
def iam_auth(f: Frames) -> AuthorizationDetails:
    """Not a DataFrame: the account's IAM authorization details, ready for policy evaluation (eksaudit.policy).
    Empty when GetAccountAuthorizationDetails was not collected (checks then ERROR through their inputs)."""
    merged: dict = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for _, data in f.evidence.responses(GAAD):
        for key in merged:
            merged[key].extend(data.get(key) or [])
    return AuthorizationDetails(merged)


def gaad_ref(f: Frames, anchor: str = "") -> str:
    """Evidence pointer into the GAAD response for a principal (anchor: its ARN)."""
    found = f.evidence.responses(GAAD)
    return ref(found[0][0], anchor) if found else "evidence/manifest.json"


def _per_param(f: Frames, input_key: str, param: str) -> dict[str, tuple[dict, dict | None, str]]:
    """param value -> (entry, data or None, failure cause) for a fanned-out input."""
    out: dict[str, tuple[dict, dict | None, str]] = {}
    for e in f.evidence.by_input.get(input_key, []):
        key = str((e.get("params") or {}).get(param, ""))
        if e["status"] == "ok":
            out[key] = (e, f.evidence.load(e), "")
        else:
            out[key] = (e, None, describe(e.get("error") or {}))
    return out


def _age_days(created: object, now: datetime) -> float | None:
    try:
        ts = pd.Timestamp(created)
    except (TypeError, ValueError):
        return None
    if ts is pd.NaT:
        return None
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return (now - ts.to_pydatetime()).total_seconds() / 86400


@frame("iam_users", [GAAD], soft_inputs=[KEYS, LOGIN, MFA])
def iam_users(f: Frames) -> pd.DataFrame:
    """One row per IAM user of the GAAD snapshot with the credentials GAAD lacks.

    Columns: account_id, user, arn, keys (list of {key, status, created, age_days}; key shows only the last four
    characters of the key id), keys_error (cause, "" when read), console_password (True/False, None when
    unknown), password_error, mfa_devices (count, None when unknown), mfa_error, evidence. Ages are computed
    against the time the keys were read (the collection time), so the same evidence gives the same findings.
    """
    keys, logins, mfas = _per_param(f, KEYS, "UserName"), _per_param(f, LOGIN, "UserName"), _per_param(f, MFA, "UserName")
    rows = []
    for entry, data in f.evidence.responses(GAAD):
        for u in data.get("UserDetailList") or []:
            name = u.get("UserName", "")
            row = {"account_id": entry["account"], "user": name, "arn": u.get("Arn", ""),
                   "keys": [], "keys_error": "", "console_password": None, "password_error": "",
                   "mfa_devices": None, "mfa_error": "", "evidence": ref(entry, u.get("Arn", ""))}
            k_entry, k_data, k_err = keys.get(name, ({}, None, "not collected"))
            if k_data is None:
                row["keys_error"] = k_err
            else:
                read_at = pd.Timestamp(k_entry.get("time") or f.evidence.collected_at).to_pydatetime()
                if read_at.tzinfo is None:
                    read_at = read_at.replace(tzinfo=timezone.utc)
                for k in k_data.get("AccessKeyMetadata") or []:
                    kid = str(k.get("AccessKeyId", ""))
                    row["keys"].append({"key": "…" + kid[-4:] if kid else "?", "status": k.get("Status", ""),
                                        "created": str(k.get("CreateDate", "")),
                                        "age_days": _age_days(k.get("CreateDate"), read_at)})
                row["evidence_keys"] = ref(k_entry, name)
            _, l_data, l_err = logins.get(name, ({}, None, "not collected"))
            if l_data is None:
                row["password_error"] = l_err
            else:
                row["console_password"] = "__absent__" not in l_data
            _, m_data, m_err = mfas.get(name, ({}, None, "not collected"))
            if m_data is None:
                row["mfa_error"] = m_err
            else:
                row["mfa_devices"] = len(m_data.get("MFADevices") or [])
            rows.append(row)
    cols = ["account_id", "user", "arn", "keys", "keys_error", "console_password", "password_error", "mfa_devices",
            "mfa_error", "evidence", "evidence_keys"]
    return pd.DataFrame(rows, columns=cols, dtype=object)  # object: None stays "unknown", never NaN


def oidc_providers(f: Frames) -> tuple[set[str], str]:
    """(issuer URLs without scheme that have an IAM OIDC provider, cause when the list could not be read)."""
    errors = f.evidence.errors(OIDC)
    found: set[str] = set()
    for _, data in f.evidence.responses(OIDC):
        for p in data.get("OpenIDConnectProviderList") or []:
            arn = p.get("Arn", "")
            if ":oidc-provider/" in arn:
                found.add(arn.split(":oidc-provider/", 1)[1].rstrip("/"))
    if not f.evidence.responses(OIDC):
        return found, describe(errors[0].get("error") or {}) if errors else "not collected"
    return found, ""


def pod_identity(f: Frames) -> dict[str, tuple[list[dict], str]]:
    """cluster -> (pod identity associations, cause when they could not be read)."""
    out: dict[str, tuple[list[dict], str]] = {}
    for e in f.evidence.by_input.get(POD_IDENTITY, []):
        if e["status"] == "ok":
            out[e["cluster"]] = (list(f.evidence.load(e).get("associations") or []), "")
        else:
            out[e["cluster"]] = ([], describe(e.get("error") or {}))
    return out


def _aws_auth(f: Frames) -> dict[str, tuple[dict, dict]]:
    """cluster -> (aws-auth ConfigMap data parsed, its collection entry) for clusters that have one."""
    out = {}
    for e, data in f.evidence.responses("k8s:configmaps"):
        for obj in data.get("items") or []:
            m = obj.get("metadata") or {}
            if (m.get("namespace"), m.get("name")) != ("kube-system", "aws-auth"):
                continue
            parsed = {}
            for key in ("mapRoles", "mapUsers", "mapAccounts"):
                try:
                    parsed[key] = yaml.safe_load((obj.get("data") or {}).get(key) or "[]") or []
                except yaml.YAMLError:
                    parsed[key] = None  # unparseable: reported by the checks that read it
            out[e["cluster"]] = (parsed, e)
    return out


@frame("aws_auth", ["k8s:configmaps"])
def aws_auth(f: Frames) -> pd.DataFrame:
    """One row per cluster whose kube-system/aws-auth ConfigMap was collected: cluster, region, account_id,
    map_roles, map_users, map_accounts (parsed lists; None when unparseable), evidence."""
    rows = []
    for cluster, (parsed, e) in _aws_auth(f).items():
        rows.append({"cluster": cluster, "region": e["region"], "account_id": e["account"],
                     "map_roles": parsed["mapRoles"], "map_users": parsed["mapUsers"],
                     "map_accounts": parsed["mapAccounts"], "evidence": ref(e, "kube-system/aws-auth")})
    return pd.DataFrame(rows, columns=["cluster", "region", "account_id", "map_roles", "map_users", "map_accounts",
                                       "evidence"])


@frame("node_roles", [], soft_inputs=[NODEGROUPS, NODEGROUP, "k8s:configmaps", GAAD])
def node_roles(f: Frames) -> pd.DataFrame:
    """Node instance roles per cluster, from every source that names them.

    One row per (cluster, source): account_id, region, cluster, role_arn ("" when unknown), source (e.g.
    "node group ng-1", "EKS Auto Mode", "aws-auth mapRoles"; node groups and Auto Mode for every cluster of the
    account, aws-auth for the audited clusters whose objects were read), error (why the role is unknown: a node group listed but not
    described, or node groups that could not be listed), evidence. Rows with cluster "" are roles that look like
    node roles in IAM (trusted by ec2.amazonaws.com and allowed eks:DescribeCluster) but that no collected
    cluster names. Soft inputs: ListNodegroups, DescribeNodegroup, k8s configmaps.
    """
    rows = []
    described = _per_nodegroup(f)
    for e in f.evidence.by_input.get(NODEGROUPS, []):
        cluster = e["cluster"] or str((e.get("params") or {}).get("clusterName", ""))
        base = {"account_id": e["account"], "region": e["region"], "cluster": cluster}
        if e["status"] != "ok":
            rows.append({**base, "role_arn": "", "source": "node groups",
                         "error": f"node groups could not be listed ({NODEGROUPS} {describe(e.get('error') or {})})",
                         "evidence": "evidence/manifest.json"})
            continue
        for ng in f.evidence.load(e).get("nodegroups") or []:
            d_entry, d_data, cause = described.get((cluster, ng), ({}, None, "not collected"))
            if d_data is None:
                rows.append({**base, "role_arn": "", "source": f"node group {ng}",
                             "error": f"node group {ng} was listed but not described ({NODEGROUP} {cause})",
                             "evidence": ref(e)})
            else:
                rows.append({**base, "role_arn": (d_data.get("nodegroup") or {}).get("nodeRole", ""),
                             "source": f"node group {ng}", "error": "", "evidence": ref(d_entry)})
    for entry, data in f.evidence.responses("aws:eks:DescribeCluster"):
        c = data.get("cluster") or {}
        role = (c.get("computeConfig") or {}).get("nodeRoleArn")
        if role:  # EKS Auto Mode launches its nodes with this role
            rows.append({"account_id": entry["account"], "region": entry["region"], "cluster": c.get("name", ""),
                         "role_arn": role, "source": "EKS Auto Mode", "error": "", "evidence": ref(entry)})
    for cluster, (parsed, e) in _aws_auth(f).items():
        for m in parsed["mapRoles"] or []:
            if isinstance(m, dict) and "system:nodes" in (m.get("groups") or []):
                rows.append({"account_id": e["account"], "region": e["region"], "cluster": cluster,
                             "role_arn": str(m.get("rolearn", "")), "source": "aws-auth mapRoles", "error": "",
                             "evidence": ref(e, "kube-system/aws-auth")})
    named = {r["role_arn"] for r in rows if r["role_arn"]}
    # While some cluster's node roles are unknown, a role that merely looks like a node role may be that
    # cluster's: say nothing account-level about it (the cluster's ERROR row covers it).
    incomplete = any(r["error"] for r in rows)
    auth = f.iam_auth if f.evidence.responses(GAAD) and not incomplete else None
    for p in auth.principals() if auth else []:
        if p["type"] != "role" or p["arn"] in named or p["service_linked"]:
            continue
        trusts_ec2 = any(t["type"] == "Service" and t["value"] == "ec2.amazonaws.com"
                         for t in _trust(p))
        if trusts_ec2 and auth.allowed(p["arn"], "eks:DescribeCluster"):
            rows.append({"account_id": f.evidence.account, "region": "", "cluster": "", "role_arn": p["arn"],
                         "source": "IAM: trusted by EC2 and allowed eks:DescribeCluster", "error": "",
                         "evidence": gaad_ref(f, p["arn"])})
    return pd.DataFrame(rows, columns=["account_id", "region", "cluster", "role_arn", "source", "error", "evidence"])


def _trust(p: dict) -> list[dict]:
    from ..policy import trust_principals

    return trust_principals(p["trust"]) if p.get("trust") else []


def _per_nodegroup(f: Frames) -> dict[tuple[str, str], tuple[dict, dict | None, str]]:
    out = {}
    for e in f.evidence.by_input.get(NODEGROUP, []):
        params = e.get("params") or {}
        key = (str(params.get("clusterName", "")), str(params.get("nodegroupName", "")))
        out[key] = (e, f.evidence.load(e), "") if e["status"] == "ok" else (e, None, describe(e.get("error") or {}))
    return out


@frame("service_accounts", ["k8s:serviceaccounts"])
def service_accounts(f: Frames) -> pd.DataFrame:
    """One row per ServiceAccount: cluster, region, account_id, namespace, name, role_arn (IRSA annotation, ""),
    automount (automountServiceAccountToken as written: True/False/None), evidence."""
    rows = []
    for e, data in f.evidence.responses("k8s:serviceaccounts"):
        for obj in data.get("items") or []:
            m = obj.get("metadata") or {}
            rows.append({"cluster": e["cluster"], "region": e["region"], "account_id": e["account"],
                         "namespace": m.get("namespace", ""), "name": m.get("name", ""),
                         "role_arn": (m.get("annotations") or {}).get(IRSA_ANNOTATION, ""),
                         "automount": obj.get("automountServiceAccountToken"),
                         "evidence": ref(e, f"{m.get('namespace', '')}/{m.get('name', '')}")})
    return pd.DataFrame(rows, columns=["cluster", "region", "account_id", "namespace", "name", "role_arn",
                                       "automount", "evidence"])


@frame("repo_policies", ["aws:ecr:DescribeRepositories"], soft_inputs=[REPO_POLICY])
def repo_policies(f: Frames) -> pd.DataFrame:
    """One row per ECR repository: account_id, region, repository, arn, policy (the parsed policy document, None
    when there is none or it could not be read), state (policy|none|error), error (cause), evidence."""
    from ..policy import parse_document

    got = {}
    for e in f.evidence.by_input.get(REPO_POLICY, []):
        got[(e["region"], str((e.get("params") or {}).get("repositoryName", "")))] = e
    rows = []
    for entry, data in f.evidence.responses("aws:ecr:DescribeRepositories"):
        for r in data.get("repositories") or []:
            name = r.get("repositoryName", "")
            row = {"account_id": entry["account"], "region": entry["region"], "repository": name,
                   "arn": r.get("repositoryArn", ""), "policy": None, "state": "error", "error": "not collected",
                   "evidence": ref(entry, name)}
            e = got.get((entry["region"], name))
            if e is not None and e["status"] == "ok":
                d = f.evidence.load(e)
                row["evidence"] = ref(e)
                if "__absent__" in d:
                    row.update(state="none", error="")
                else:
                    try:
                        row.update(policy=parse_document(d.get("policyText") or "{}"), state="policy", error="")
                    except ValueError as exc:
                        row["error"] = f"unreadable policy: {exc}"
            elif e is not None:
                row["error"] = describe(e.get("error") or {})
            rows.append(row)
    return pd.DataFrame(rows, columns=["account_id", "region", "repository", "arn", "policy", "state", "error",
                                       "evidence"])


def grants_for_action(auth: AuthorizationDetails, arn: str, action: str) -> list:
    """Allow grants covering ``action`` on any resource (not only "*"), unless an unconditioned Deny on every
    resource cancels it or the principal's permissions boundary does not let the action through: what a
    principal can do to at least some resources of that action."""
    if not auth.boundary_permits(arn, action):
        return []
    if not auth.allowed(arn, action, "*"):
        denied = any(g.effect == "Deny" and not g.has_condition and _covers(g, action) and "*" in g.resources
                     for g in auth.grants(arn))
        if denied:
            return []
    return [g for g in auth.grants(arn) if g.effect == "Allow" and _covers(g, action)]


def _covers(g, action: str) -> bool:
    if g.not_actions:
        return not any(action_matches(p, action) for p in g.not_actions)
    return any(action_matches(p, action) for p in g.actions)

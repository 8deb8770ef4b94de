"""Frames for the IAM domain: the account's IAM snapshot, its users' credentials, node roles, OIDC providers,
pod identity, service accounts and ECR repository policies.

Per-user credential reads, pod identity and node-group descriptions are "soft" inputs: a frame records for each
row whether its data was read and, if not, why (``*_error`` columns), so a check can ERROR exactly where a
verdict depended on a failed read while other verdicts stand. The plain functions (``oidc_providers``,
``pod_identity``, ``pod_identity_agents``, ``addon_roles``, ``bound_service_accounts``, ``secret_references``)
read inputs that the calling check declares itself: their reads count as that check's. What the
IAM policies in these frames allow is decided in eksaudit.policy.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timezone

import pandas as pd
import yaml

from ..collect.faults import describe
from ..collect.kubernetes import (
    CLUSTER_ROLE_BINDINGS,
    CONFIGMAPS,
    DAEMONSETS,
    ROLE_BINDINGS,
    SERVICE_ACCOUNTS,
)
from ..collect.steps.core import DESCRIBE_CLUSTER, LIST_NODEGROUPS
from ..collect.steps.iam import (
    DESCRIBE_ADDON,
    DESCRIBE_NODEGROUP,
    GET_ACCOUNT_AUTHORIZATION_DETAILS,
    GET_LOGIN_PROFILE,
    GET_REPOSITORY_POLICY,
    LIST_ACCESS_KEYS,
    LIST_MFA_DEVICES,
    LIST_OPEN_ID_CONNECT_PROVIDERS,
    LIST_POD_IDENTITY_ASSOCIATIONS,
)
from ..collect.steps.images import DESCRIBE_REPOSITORIES
from ..policy import AuthorizationDetails, parse_document, trusts_service
from . import Frames, frame
from .core import ref

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@frame("iam_auth", [GET_ACCOUNT_AUTHORIZATION_DETAILS])
def iam_auth(f: Frames) -> AuthorizationDetails:
    """Not a DataFrame: the account's IAM authorization details, ready for policy evaluation (eksaudit.policy).
    Empty when GetAccountAuthorizationDetails was not collected (checks then ERROR through their inputs)."""
    merged: dict = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for _, data in f.evidence.responses(GET_ACCOUNT_AUTHORIZATION_DETAILS):
        for key in merged:
            merged[key].extend(data.get(key) or [])
    return AuthorizationDetails(merged)


def gaad_ref(f: Frames, anchor: str = "") -> str:
    """Evidence pointer into the GAAD response for a principal (anchor: its ARN)."""
    found = f.evidence.responses(GET_ACCOUNT_AUTHORIZATION_DETAILS)
    return ref(found[0][0], anchor) if found else "evidence/manifest.json"


def _reads(f: Frames, input_key: str, key: Callable[[dict], Hashable]) -> dict[Hashable, tuple[dict, dict | None, str]]:
    """key(entry) -> (entry, data or None, failure cause) for every read of a fanned-out input (the last read
    of a key wins)."""
    out: dict[Hashable, tuple[dict, dict | None, str]] = {}
    for e in f.evidence.by_input.get(input_key, []):
        out[key(e)] = (e, f.evidence.load(e), "") if e["status"] == "ok" else (e, None, describe(e.get("error") or {}))
    return out


def _param(*names: str) -> Callable[[dict], Hashable]:
    """The key of a read by its call parameters: one value, or a tuple of several."""
    def key(e: dict) -> Hashable:
        values = tuple(str((e.get("params") or {}).get(n, "")) for n in names)
        return values[0] if len(values) == 1 else values

    return key


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


@frame("iam_users", [GET_ACCOUNT_AUTHORIZATION_DETAILS], soft_inputs=[LIST_ACCESS_KEYS, GET_LOGIN_PROFILE,
                                                                 LIST_MFA_DEVICES])
def iam_users(f: Frames) -> pd.DataFrame:
    """One row per IAM user of the GAAD snapshot with the credentials GAAD lacks.

    Columns: account_id, user, arn, keys (list of {key, status, created, age_days}; key shows only the last four
    characters of the key id), keys_error (cause, "" when read), console_password (True/False, None when
    unknown), password_error, mfa_devices (count, None when unknown), mfa_error, evidence. Ages are computed
    against the time the keys were read (the collection time), so the same evidence gives the same findings.
    """
    keys, logins, mfas = (_reads(f, key, _param("UserName"))
                          for key in (LIST_ACCESS_KEYS, GET_LOGIN_PROFILE, LIST_MFA_DEVICES))
    rows = []
    for entry, data in f.evidence.responses(GET_ACCOUNT_AUTHORIZATION_DETAILS):
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
    errors = f.evidence.errors(LIST_OPEN_ID_CONNECT_PROVIDERS)
    found: set[str] = set()
    for _, data in f.evidence.responses(LIST_OPEN_ID_CONNECT_PROVIDERS):
        for p in data.get("OpenIDConnectProviderList") or []:
            arn = p.get("Arn", "")
            if ":oidc-provider/" in arn:
                found.add(arn.split(":oidc-provider/", 1)[1].rstrip("/"))
    if not f.evidence.responses(LIST_OPEN_ID_CONNECT_PROVIDERS):
        return found, describe(errors[0].get("error") or {}) if errors else "not collected"
    return found, ""


def pod_identity(f: Frames) -> dict[str, tuple[list[dict], str]]:
    """cluster -> (pod identity associations, cause when they could not be read)."""
    return {cluster: (list((data or {}).get("associations") or []), cause)
            for cluster, (_, data, cause) in _reads(f, LIST_POD_IDENTITY_ASSOCIATIONS, lambda e: e["cluster"]).items()}


def pod_identity_agents(f: Frames) -> dict[str, bool]:
    """cluster -> whether the EKS Pod Identity agent DaemonSet runs in kube-system (clusters whose DaemonSets were
    collected only). Without the agent, pod identity associations give pods no credentials."""
    out: dict[str, bool] = {}
    for e, data in f.evidence.responses(DAEMONSETS):
        runs = any(((d.get("metadata") or {}).get("namespace"), (d.get("metadata") or {}).get("name"))
                   == ("kube-system", "eks-pod-identity-agent") for d in data.get("items", []))
        out[e["cluster"]] = out.get(e["cluster"], False) or runs
    return out


def addon_roles(f: Frames) -> dict[tuple[str, str], str]:
    """(cluster, add-on name) -> the IAM role its add-on configuration gives it: a role ARN, "pod identity"
    for pod identity associations, "" when none."""
    out = {}
    for e, data in f.evidence.responses(DESCRIBE_ADDON):
        a = data.get("addon") or {}
        role = a.get("serviceAccountRoleArn") or ""
        if not role and a.get("podIdentityAssociations"):
            role = "pod identity"
        out[(e["cluster"], a.get("addonName", ""))] = role
    return out


# Built-in roles every cluster binds to all service accounts (OIDC discovery, API discovery, self review): a
# binding to them says nothing about whether a workload calls the Kubernetes API.
DISCOVERY_ROLES = frozenset({"system:service-account-issuer-discovery", "system:discovery", "system:basic-user",
                             "system:public-info-viewer"})


def bound_service_accounts(f: Frames) -> set[tuple[str, str, str]]:
    """(cluster, namespace, name) of service accounts some RoleBinding or ClusterRoleBinding grants to;
    (cluster, namespace, "*") where a group binding covers a whole namespace (namespace "*" for all). Bindings to
    the built-in discovery roles do not count."""
    out = set()
    bindings = [(e["cluster"], b) for key in (ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS)
                for e, data in f.evidence.responses(key) for b in data.get("items", [])]
    for cluster, b in bindings:
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


def secret_references(f: Frames) -> dict[str, list[tuple[str, str, str, str]]]:
    """cluster -> (namespace, service account, referenced Secret name, evidence) from ServiceAccounts' `secrets:`
    lists: where Secrets cannot be listed, the only trace of the token Secrets the token controller created."""
    out: dict[str, list[tuple[str, str, str, str]]] = {}
    for e, data in f.evidence.responses(SERVICE_ACCOUNTS):
        for sa in data.get("items") or []:
            m = sa.get("metadata") or {}
            ns, name = m.get("namespace", ""), m.get("name", "")
            for secret in sa.get("secrets") or []:
                if isinstance(secret, dict) and isinstance(secret.get("name"), str) and secret["name"]:
                    out.setdefault(e["cluster"], []).append((ns, name, secret["name"], ref(e, f"{ns}/{name}")))
    return out


def _aws_auth(f: Frames) -> dict[str, tuple[dict, dict]]:
    """cluster -> (aws-auth ConfigMap data parsed, its collection entry) for clusters that have one."""
    out = {}
    for e, data in f.evidence.responses(CONFIGMAPS):
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


@frame("aws_auth", [CONFIGMAPS])
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


@frame("node_roles", [], soft_inputs=[LIST_NODEGROUPS, DESCRIBE_NODEGROUP, CONFIGMAPS,
                                      GET_ACCOUNT_AUTHORIZATION_DETAILS])
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
    described = _reads(f, DESCRIBE_NODEGROUP, _param("clusterName", "nodegroupName"))
    for e in f.evidence.by_input.get(LIST_NODEGROUPS, []):
        cluster = e["cluster"] or str((e.get("params") or {}).get("clusterName", ""))
        base = {"account_id": e["account"], "region": e["region"], "cluster": cluster}
        if e["status"] != "ok":
            rows.append({**base, "role_arn": "", "source": "node groups",
                         "error": f"node groups could not be listed ({LIST_NODEGROUPS} "
                                  f"{describe(e.get('error') or {})})",
                         "evidence": "evidence/manifest.json"})
            continue
        for ng in f.evidence.load(e).get("nodegroups") or []:
            d_entry, d_data, cause = described.get((cluster, ng), ({}, None, "not collected"))
            if d_data is None:
                rows.append({**base, "role_arn": "", "source": f"node group {ng}",
                             "error": f"node group {ng} was listed but not described ({DESCRIBE_NODEGROUP} {cause})",
                             "evidence": ref(e)})
            else:
                rows.append({**base, "role_arn": (d_data.get("nodegroup") or {}).get("nodeRole", ""),
                             "source": f"node group {ng}", "error": "", "evidence": ref(d_entry)})
    for entry, data in f.evidence.responses(DESCRIBE_CLUSTER):
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
    auth = f.iam_auth if f.evidence.responses(GET_ACCOUNT_AUTHORIZATION_DETAILS) and not incomplete else None
    for p in auth.principals(service_linked=False) if auth else []:
        if p["type"] != "role" or p["arn"] in named:
            continue
        if trusts_service(p["trust"], "ec2.amazonaws.com") and auth.allowed(p["arn"], "eks:DescribeCluster"):
            rows.append({"account_id": f.evidence.account, "region": "", "cluster": "", "role_arn": p["arn"],
                         "source": "IAM: trusted by EC2 and allowed eks:DescribeCluster", "error": "",
                         "evidence": gaad_ref(f, p["arn"])})
    return pd.DataFrame(rows, columns=["account_id", "region", "cluster", "role_arn", "source", "error", "evidence"])


@frame("service_accounts", [SERVICE_ACCOUNTS])
def service_accounts(f: Frames) -> pd.DataFrame:
    """One row per ServiceAccount: cluster, region, account_id, namespace, name, role_arn (IRSA annotation, ""),
    automount (automountServiceAccountToken as written: True/False/None), evidence."""
    rows = []
    for e, data in f.evidence.responses(SERVICE_ACCOUNTS):
        for obj in data.get("items") or []:
            m = obj.get("metadata") or {}
            rows.append({"cluster": e["cluster"], "region": e["region"], "account_id": e["account"],
                         "namespace": m.get("namespace", ""), "name": m.get("name", ""),
                         "role_arn": (m.get("annotations") or {}).get(IRSA_ANNOTATION, ""),
                         "automount": obj.get("automountServiceAccountToken"),
                         "evidence": ref(e, f"{m.get('namespace', '')}/{m.get('name', '')}")})
    return pd.DataFrame(rows, columns=["cluster", "region", "account_id", "namespace", "name", "role_arn",
                                       "automount", "evidence"])


@frame("repo_policies", [DESCRIBE_REPOSITORIES], soft_inputs=[GET_REPOSITORY_POLICY])
def repo_policies(f: Frames) -> pd.DataFrame:
    """One row per ECR repository: account_id, region, repository, arn, policy (the parsed policy document, None
    when there is none or it could not be read), state (policy|none|error), error (cause), evidence."""
    got = {}
    for e in f.evidence.by_input.get(GET_REPOSITORY_POLICY, []):
        got[(e["region"], str((e.get("params") or {}).get("repositoryName", "")))] = e
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_REPOSITORIES):
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


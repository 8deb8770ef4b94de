"""IAM domain checks: who can do what to EKS, and with which identity workloads run.

What IAM policies allow is decided in eksaudit.policy; these checks turn its answers into verdicts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..collect.faults import describe
from ..collect.kubernetes import (
    CLUSTER_ROLE_BINDINGS,
    CONFIGMAPS,
    DAEMONSETS,
    ROLE_BINDINGS,
    SECRETS,
    SERVICE_ACCOUNTS,
)
from ..collect.steps.iam import (
    DESCRIBE_ADDON,
    GET_ACCOUNT_AUTHORIZATION_DETAILS,
    GET_LOGIN_PROFILE,
    GET_REPOSITORY_POLICY,
    LIST_ACCESS_KEYS,
    LIST_MFA_DEVICES,
    LIST_OPEN_ID_CONNECT_PROVIDERS,
    LIST_POD_IDENTITY_ASSOCIATIONS,
)
from ..frames import Frames, records, values
from ..frames.core import Inventory, ref
from ..frames.iam import (
    addon_roles,
    bound_service_accounts,
    gaad_ref,
    oidc_providers,
    pod_identity,
    pod_identity_agents,
    secret_references,
)
from ..frames.kubernetes import WORKLOAD_INPUTS
from ..policy import (
    ECR_WRITE,
    EKS_ALL,
    EKS_WRITE,
    AuthorizationDetails,
    admits_web_identity,
    describe_grants,
    example_actions,
    resource_matches,
    trust_guards,
    trust_principals,
    trusts_service,
    whole_account_principals,
)
from . import check
from .common import SYSTEM_NAMESPACES, container_id, finding, findings, joined, outside, per_value, stacked

# Data a node role should not reach: every pod on the node would (IAM-03).
DATA_ACTIONS = {"S3 object": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "RDS": ["rds-db:connect", "rds-data:ExecuteStatement"],
                "Secrets Manager": ["secretsmanager:GetSecretValue"]}
# Volume and file-system management the CSI drivers need, which belongs on their own roles (IAM-08).
STORAGE_ACTIONS = {"EBS": ["ec2:CreateVolume", "ec2:AttachVolume", "ec2:DeleteVolume"],
                   "EFS": ["elasticfilesystem:CreateAccessPoint", "elasticfilesystem:DeleteAccessPoint"],
                   "FSx": ["fsx:CreateFileSystem", "fsx:DeleteFileSystem"]}
# CSI driver -> (its EKS add-on name, a mark in its image or workload name).
CSI_DRIVERS = {"EBS": ("aws-ebs-csi-driver", "ebs-csi"), "EFS": ("aws-efs-csi-driver", "efs-csi"),
               "FSx": ("aws-fsx-csi-driver", "fsx-csi")}
# Actions that make a principal an IAM administrator (IAM-09).
ADMIN_PROBES = ["iam:AttachUserPolicy", "iam:PutRolePolicy", "iam:CreateAccessKey"]
TOKEN_SECRET = "kubernetes.io/service-account-token"
MANIFEST = "evidence/manifest.json"


def _matches_any(arn: str, patterns: list[str]) -> bool:
    """Whether a principal is one of those a parameter names (ARN patterns with wildcards)."""
    return any(resource_matches(p, arn) for p in patterns or [])


# ---- IAM-01 -------------------------------------------------------------------------------------------------


def _eks_write_verdict(auth: AuthorizationDetails, arn: str, admins: list[str]) -> tuple[str, str]:
    found = auth.matching_actions(arn, EKS_WRITE)
    if not found:
        return "PASS", ("no EKS write or admin action on all resources (IAM is global: no cluster of any region)"
                        + auth.caveat(arn, granted=False))
    if _matches_any(arn, admins):
        return "PASS", (f"named EKS administrator (eks_admin_principals) allowed {len(found)} EKS write actions on "
                        "all clusters")
    what = ("every EKS write and admin action" if len(found) == len(EKS_WRITE)
            else f"{len(found)} of {len(EKS_WRITE)} EKS write/admin actions")
    return "FAIL", (f"may perform {what} on every cluster in every region (e.g. {example_actions(sorted(found))}); "
                    f"granted by {describe_grants(found)}{auth.caveat(arn, granted=True)}")


@check("IAM-01", domain="iam", title="Minimal IAM permissions for EKS", severity="high", requirements=["R-IAM-1"],
       frames=("iam_auth",), params={"eks_admin_principals": []},
       practice="No IAM user, group or role may change EKS clusters or their access on every cluster unless it is "
                "named as an EKS administrator; permissions are scoped to the clusters and actions a job needs.",
       rationale="eks:* or * on all resources lets one leaked credential delete clusters, add itself as cluster "
                 "admin through access entries, or change endpoint access, across every cluster of the account.",
       remediation="Replace eks:*, * and wildcard write actions on Resource \"*\" with the specific actions the "
                   "principal needs on specific cluster ARNs; list deliberate administrators in eks_admin_principals.",
       references={"securityhub": ["IAM.1", "IAM.21"]})
def minimal_eks_permissions(f: Frames, p: dict) -> list[dict]:
    auth = f.iam_auth
    out = []
    for pr in auth.principals(service_linked=False):
        status, reason = _eks_write_verdict(auth, pr["arn"], p["eks_admin_principals"])
        out.append(finding(None, status, f"iam-{pr['type']}", pr["arn"], reason, evidence=gaad_ref(f, pr["arn"])))
    return out


# ---- IAM-02 -------------------------------------------------------------------------------------------------


def _key_label(k: dict) -> str:
    age = "age unknown" if k["age_days"] is None else f"{int(k['age_days'])} days old"
    return f"{k['key']} ({age})"


def _access_key_verdict(auth: AuthorizationDetails, u: dict, max_age: float) -> tuple[str, str, str | None]:
    """(status, reason, evidence) for a user's access keys; evidence None points at the IAM snapshot."""
    if u["keys_error"]:
        return "ERROR", f"access keys could not be read ({LIST_ACCESS_KEYS} {u['keys_error']})", None
    active = [k for k in u["keys"] if k["status"] == "Active"]
    if not active:
        return "PASS", "no active access key", None
    eks = auth.matching_actions_on_some(u["arn"], EKS_ALL)
    keys = ", ".join(_key_label(k) for k in active)
    problems = []
    if eks:
        problems.append(f"holds active access key(s) {keys} and EKS permissions ({example_actions(sorted(eks))}) "
                        f"granted by {describe_grants(eks)}")
    old = [k for k in active if k["age_days"] is not None and k["age_days"] > max_age]
    if old:
        problems.append(f"active access key(s) older than {int(max_age)} days: "
                        + ", ".join(f"{k['key']} ({int(k['age_days'])} days)" for k in old))
    ev = u["evidence_keys"] if isinstance(u.get("evidence_keys"), str) else u["evidence"]
    if problems:
        return "FAIL", "; ".join(problems) + (auth.caveat(u["arn"], granted=True) if eks else ""), ev
    return "PASS", (f"active access key(s) {keys} grant no EKS permission and are within {int(max_age)} days"
                    + auth.caveat(u["arn"], granted=False)), ev


def _cross_account_verdict(auth: AuthorizationDetails, role: dict, own: str) -> tuple[str, str] | None:
    """(status, reason) for a role holding EKS permissions: whom its trust policy lets in; None without them."""
    eks = auth.matching_actions_on_some(role["arn"], EKS_ALL)
    if not eks:
        return None
    open_to, guarded = [], []
    for t in whole_account_principals(role["trust"], own):
        who = "anyone (Principal *)" if t["account"] == "*" else f"the whole account {t['account']}"
        guards = trust_guards(t["conditions"])
        (guarded if guards else open_to).append(who + (f" with condition {', '.join(guards)}" if guards else ""))
    if open_to:
        return "FAIL", (f"holds EKS permissions ({example_actions(sorted(eks))}) and trusts " + "; ".join(open_to)
                        + " without an ExternalId, PrincipalOrgID or MFA condition that narrows it"
                        + auth.caveat(role["arn"], granted=True))
    return "PASS", ("holds EKS permissions; its trust policy names no whole other account without a condition"
                    + (f" ({'; '.join(guarded)})" if guarded else ""))


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
       references={"securityhub": ["IAM.3"],
                   "prowler": ["iam_rotate_access_key_90_days", "iam_user_with_temporary_credentials"]})
def temporary_credentials_for_eks(f: Frames, p: dict) -> list[dict]:
    auth, own = f.iam_auth, f.evidence.account
    max_age = float(p["max_access_key_age_days"])
    out = []
    for u in f.iam_users.to_dict(orient="records"):
        status, reason, ev = _access_key_verdict(auth, u, max_age)
        out.append(finding(None, status, "iam-user", u["arn"], reason,
                           evidence=gaad_ref(f, u["arn"]) if ev is None else ev))
    for pr in auth.principals(service_linked=False):
        if pr["type"] != "role" or not pr.get("trust"):
            continue
        verdict = _cross_account_verdict(auth, pr, own)
        if verdict:
            status, reason = verdict
            out.append(finding(None, status, "iam-role", pr["arn"], reason, evidence=gaad_ref(f, pr["arn"])))
    return out


# ---- IAM-03 -------------------------------------------------------------------------------------------------


def _issuer_host(issuer: str | None) -> str:
    """A cluster's OIDC issuer as IAM names its provider: without scheme and trailing slash."""
    return (issuer or "").removeprefix("https://").rstrip("/")


def _named(clusters: Iterable[tuple[str, str]], home: str = "") -> str:
    """(region, name) pairs as cluster names for a reason, with the region of those outside `home`."""
    found = sorted(set(clusters), key=lambda x: (x[1], x[0]))
    return ", ".join(n if r == home else f"{n} ({r})" for r, n in found)


def _first(items: list[str], n: int = 3) -> str:
    return "; ".join(items[:n]) + (f"; and {len(items) - n} more" if len(items) > n else "")


def _node_role_verdict(auth: AuthorizationDetails, r: dict, groups: dict[str, list[str]],
                       what: str) -> tuple[str, str, str]:
    """(status, resource id, reason) for a node role: FAIL when it is allowed any action of `groups` on some
    resource. An unknown node role (a node group listed but not described) is an ERROR for its cluster."""
    if r["error"]:
        return "ERROR", r["source"], f"node role unknown, {what} cannot be verified: {r['error']}"
    arn = r["role_arn"]
    if auth.role(arn) is None:
        return "ERROR", arn, (f"node role ({r['source']}) is not in the account's IAM snapshot "
                              f"({GET_ACCOUNT_AUTHORIZATION_DETAILS}), so its permissions cannot be evaluated")
    found = {label: hit for label, actions in groups.items() if (hit := auth.matching_actions_on_some(arn, actions))}
    if not found:
        return "PASS", arn, (f"node role ({r['source']}) grants no {'/'.join(groups)} {what}"
                             + auth.caveat(arn, granted=False))
    merged = {a: g for hit in found.values() for a, g in hit.items()}
    return "FAIL", arn, (f"node role ({r['source']}) grants {', '.join(found)} {what} that every pod on these nodes "
                         "inherits through the instance metadata service; granted by " + describe_grants(merged)
                         + auth.caveat(arn, granted=True))


def _node_role_findings(f: Frames, auth: AuthorizationDetails, groups: dict[str, list[str]], what: str) -> list[dict]:
    """One finding per (cluster, node role) about `groups` of actions; roles only recognised from IAM (no
    cluster names them) are account-level."""
    out = []
    for r in f.node_roles.to_dict(orient="records"):
        status, rid, reason = _node_role_verdict(auth, r, groups, what)
        out.append(finding(r, status, "node-role", rid, reason))
    return out


def _cluster_role_finding(f: Frames, auth: AuthorizationDetails, c: dict) -> dict:
    role = auth.role(c["role_arn"])
    if role is None:
        return finding(c, "FAIL", "cluster-role", c["role_arn"] or c["cluster"],
                       "cluster role is not a role of this account's IAM snapshot")
    if trusts_service(role["trust"], "eks.amazonaws.com"):
        status, reason = "PASS", "cluster role trusts eks.amazonaws.com"
    else:
        status, reason = "FAIL", "cluster role does not trust eks.amazonaws.com, so it is not an EKS service role"
    return finding(c, status, "cluster-role", c["role_arn"], reason, evidence=gaad_ref(f, c["role_arn"]))


def _pod_credentials_verdict(c: dict, oidc: tuple[set[str], str], pid: dict[str, tuple[list[dict], str]],
                             agents: dict[str, bool], by_issuer: dict[str, list[tuple[str, str]]]) -> tuple[str, str]:
    """(status, reason): whether the cluster's pods can get credentials of their own (IRSA or pod identity)."""
    providers, oidc_err = oidc
    issuer = _issuer_host(c["oidc_issuer"])
    assoc, pid_err = pid.get(c["cluster"], ([], "not collected"))
    no_agent = agents.get(c["cluster"]) is False
    sharing = [x for x in by_issuer.get(issuer, []) if x != (c["region"], c["cluster"])]
    if issuer and issuer in providers and sharing:
        return "ERROR", (f"DescribeCluster reports the same OIDC issuer {issuer} for clusters "
                         f"{_named(sharing, c['region'])}; EKS gives every cluster its own, so the IAM OIDC provider "
                         "cannot be attributed")
    if issuer and issuer in providers:
        return "PASS", f"IAM OIDC provider registered for issuer {issuer} (IRSA)"
    if assoc and not no_agent:
        return "PASS", f"uses EKS Pod Identity ({len(assoc)} associations)"
    if oidc_err or (pid_err and not no_agent):
        causes = "; ".join(x for x in (oidc_err and f"OIDC providers ({LIST_OPEN_ID_CONNECT_PROVIDERS} {oidc_err})",
                                       pid_err and f"pod identity associations ({LIST_POD_IDENTITY_ASSOCIATIONS} "
                                                   f"{pid_err})") if x)
        return "ERROR", "IRSA or pod identity could not be verified: " + causes
    return "FAIL", ("no IAM OIDC provider for the cluster's issuer (no IRSA) and no working pod identity (no "
                    "association or no eks-pod-identity-agent): pods can only use the node role")


@check("IAM-03", domain="iam", title="Service roles for EKS, IRSA or pod identity for pods", severity="high",
       requirements=["R-IAM-3"], frames=("clusters", "iam_auth", "node_roles"),
       soft_inputs=(LIST_OPEN_ID_CONNECT_PROVIDERS, LIST_POD_IDENTITY_ASSOCIATIONS, DAEMONSETS),
       practice="EKS acts through a cluster role that trusts eks.amazonaws.com; pods get AWS access through their "
                "own roles (IRSA via the cluster's IAM OIDC provider, or EKS Pod Identity), never through data "
                "permissions on the node instance role.",
       rationale="A node role is shared by every pod on the node: S3, RDS or Secrets Manager data access on it "
                 "hands that data to any compromised container; without IRSA or pod identity teams put such "
                 "permissions on the node role.",
       remediation="Register an IAM OIDC provider for the cluster's issuer (eksctl utils associate-iam-oidc-provider) "
                   "or install the EKS Pod Identity agent; move data permissions from node roles to per-application "
                   "roles; give the cluster a role whose trust policy allows eks.amazonaws.com.",
       references={"cis_eks": ["5.2.1"]})
def service_roles_and_pod_identity(f: Frames, p: dict) -> list[dict]:
    auth = f.iam_auth
    oidc, pid, agents = oidc_providers(f), pod_identity(f), pod_identity_agents(f)
    clusters = f.clusters.to_dict(orient="records")
    # EKS gives every cluster an issuer of its own, so an IAM OIDC provider for it proves IRSA for that cluster
    # alone; the ERROR verdict (over every cluster of the account, as the inventory lists them) only catches
    # endpoints that break that rule (moto gives every cluster of a region the same issuer).
    by_issuer: dict[str, list[tuple[str, str]]] = {}
    for c in clusters:
        by_issuer.setdefault(_issuer_host(c["oidc_issuer"]), []).append((c["region"], c["cluster"]))
    out = []
    for c in clusters:
        out.append(_cluster_role_finding(f, auth, c))
        status, reason = _pod_credentials_verdict(c, oidc, pid, agents, by_issuer)
        out.append(finding(c, status, "cluster", f"{c['cluster']} (pod credentials)", reason))
    return out + _node_role_findings(f, auth, DATA_ACTIONS, "data access")


# ---- IAM-04 -------------------------------------------------------------------------------------------------


def _listed_token_secrets(c: dict, secrets: list[tuple[dict, dict]]) -> list[dict]:
    """Where Secrets were listed: a FAIL per token Secret, or a PASS for the cluster."""
    out = []
    for s, e in secrets:
        m = s.get("metadata") or {}
        sa = (m.get("annotations") or {}).get("kubernetes.io/service-account.name", "?")
        rid = f"{m.get('namespace', '')}/{m.get('name', '')}"
        out.append(finding(c, "FAIL", "secret", rid, f"long-lived token Secret for service account {sa}: it never "
                                                     "expires", evidence=ref(e, rid)))
    if not secrets:
        out.append(finding(c, "PASS", "cluster", f"{c['cluster']} (token Secrets)", f"no {TOKEN_SECRET} Secret"))
    return out


def _referenced_token_secrets(c: dict, refs: list[tuple[str, str, str, str]]) -> list[dict]:
    """Where Secrets were not listed: the Secrets service accounts reference, judged by name only."""
    out = []
    for ns, sa, secret, ev in refs:
        if secret.startswith(f"{sa}-token-"):
            status, reason = "FAIL", (f"service account {sa} references Secret {secret}, named as the token "
                                      "controller names long-lived token Secrets (Secrets not readable: type not "
                                      "confirmed)")
        else:
            status, reason = "MANUAL", (f"service account {sa} references Secret {secret}; Secrets not readable: "
                                        f"confirm it is not a {TOKEN_SECRET} Secret")
        out.append(finding(c, status, "secret", f"{ns}/{secret}", reason, evidence=ev))
    return out


def _unlisted_secrets_verdict(err: dict | None) -> tuple[str, str]:
    """(status, reason) for a cluster whose Secrets were not listed: the claim "no token Secret" is never made
    (MANUAL when access was denied, as with the default RBAC role, ERROR for other failures)."""
    cause = describe(err.get("error") or {}) if err else "not collected"
    if err and (err.get("error") or {}).get("kind") == "access-denied":
        return "MANUAL", (f"Secrets not readable ({SECRETS} {cause}; the default eksaudit-reader role does not list "
                          "Secrets): token Secrets not referenced by a service account cannot be excluded; list them "
                          f"with `kubectl get secrets -A --field-selector type={TOKEN_SECRET}` or grant the opt-in "
                          "eksaudit-secrets-lister role")
    return "ERROR", f"token Secrets could not be verified: {SECRETS} {cause}"


def _token_secret_findings(f: Frames, clusters: dict[str, dict]) -> list[dict]:
    """Token Secret verdicts per cluster. Secrets are a soft input: the default RBAC role does not list them."""
    listed: dict[str, list[tuple[dict, dict]]] = {}
    for e, data in f.evidence.responses(SECRETS):
        listed.setdefault(e["cluster"], []).extend(
            (s, e) for s in data.get("items") or [] if s.get("type") == TOKEN_SECRET)
    failed = {e["cluster"]: e for e in f.evidence.errors(SECRETS)}
    refs = secret_references(f)
    out = []
    for name, c in clusters.items():
        if name in listed:
            out += _listed_token_secrets(c, listed[name])
            continue
        out += _referenced_token_secrets(c, refs.get(name, []))
        status, reason = _unlisted_secrets_verdict(failed.get(name))
        out.append(finding(c, status, "cluster", f"{name} (token Secrets)", reason, evidence=MANIFEST))
    return out


def _token_mount_verdict(cluster: str, namespace: str, service_account: str, automount: bool | None,
                         sa_automount: dict[tuple[str, str, str], bool | None],
                         bound: set[tuple[str, str, str]]) -> tuple[str, str]:
    """(status, reason) for a workload: a mounted token is fine only for a service account that calls the API."""
    key = (cluster, namespace, service_account)
    sa_auto = sa_automount.get(key)
    mounts = automount if automount is not None else (sa_auto if sa_auto is not None else True)
    if not mounts:
        where = "pod spec" if automount is False else f"service account {service_account}"
        return "PASS", f"does not mount a service account token ({where} opts out)"
    if key in bound or (cluster, namespace, "*") in bound or (cluster, "*", "*") in bound:
        return "PASS", (f"mounts a token for service account {service_account}, which has RBAC bindings (it "
                        "calls the Kubernetes API)")
    return "FAIL", (f"automounts a token for service account {service_account}, which has no RBAC binding: it "
                    "does not need the API, so the token only helps an attacker")


def _token_mount_findings(w: pd.DataFrame, sa_automount: dict[tuple[str, str, str], bool | None],
                          bound: set[tuple[str, str, str]]) -> pd.DataFrame:
    """A finding per workload about its token mount, decided once per (cluster, namespace, service account,
    automount) that workloads share."""
    keys = zip(*(values(w[c]) for c in ("cluster", "namespace", "service_account", "automount_token")))
    verdicts = per_value(keys, lambda k: _token_mount_verdict(*k, sa_automount, bound))
    return findings(w, [s for s, _ in verdicts], [r for _, r in verdicts], "workload",
                    [f"{ns}/{wl}" for ns, wl in zip(values(w["namespace"]), values(w["workload"]))])


def _authentication_mode_verdict(c: dict, aws_auth: dict | None) -> tuple[str, str, str | None]:
    """(status, reason, evidence or None for the cluster's) for how people authenticate to the cluster."""
    mode = c["authentication_mode"]
    if mode == "API":
        return "PASS", "authenticationMode is API: access entries only", None
    if mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
        return "FAIL", f"authenticationMode is {mode}: the aws-auth ConfigMap still grants cluster access", None
    if aws_auth is not None:
        return "FAIL", ("authenticates through the aws-auth ConfigMap (DescribeCluster reported no "
                        "authenticationMode)"), aws_auth["evidence"]
    return "ERROR", ("DescribeCluster reported no accessConfig.authenticationMode, so the use of access entries "
                     "cannot be verified"), None


@check("IAM-04", domain="iam", title="No authentication with service account tokens", severity="medium",
       requirements=["R-IAM-4"], frames=("clusters", "workloads", "service_accounts", "aws_auth"),
       inputs=(ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS), soft_inputs=(SECRETS,),
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
       references={"cis_eks": ["4.1.6", "5.5.1"], "kubescape": ["C-0034"]})
def no_service_account_token_auth(f: Frames, p: dict) -> pd.DataFrame:
    clusters = {c["cluster"]: c for c in f.clusters.to_dict(orient="records")}
    out = _token_secret_findings(f, clusters)
    sa_automount = {(r["cluster"], r["namespace"], r["name"]): r["automount"] for r in records(f.service_accounts)}
    mounts = _token_mount_findings(outside(f.workloads, p["exclude_namespaces"]), sa_automount,
                                   bound_service_accounts(f))
    auth_maps = {r["cluster"]: r for r in f.aws_auth.to_dict(orient="records")}
    after = []
    for name, c in clusters.items():
        cm = auth_maps.get(name)
        status, reason, ev = _authentication_mode_verdict(c, cm)
        after.append(finding(c, status, "cluster", f"{name} (authentication mode)", reason, evidence=ev))
        if cm is not None and cm["map_users"]:
            users = ", ".join(str(u.get("userarn", "?")) for u in cm["map_users"] if isinstance(u, dict))
            after.append(finding(c, "FAIL", "configmap", "kube-system/aws-auth mapUsers",
                                 f"aws-auth maps IAM users (long-lived keys) into the cluster: {users}",
                                 evidence=cm["evidence"]))
    return stacked(out, mounts, after)


# ---- IAM-05 -------------------------------------------------------------------------------------------------
# "No other cluster" is a claim about the whole account: it is decided over the inventory (every cluster in every
# enabled region, read whatever --cluster/--region selected) and is ERROR while that is incomplete.


def _cluster_role_sharing_verdict(c: dict, by_role: dict[str, list[tuple[str, str]]],
                                  inv: Inventory) -> tuple[str, str]:
    others = _named((x for x in by_role.get(c["role_arn"], []) if x != (c["region"], c["cluster"])), c["region"])
    unknown = inv.unknown()
    if others:
        return "FAIL", f"cluster role also used by cluster(s) {others}"
    if unknown:
        return "ERROR", ("no other cluster read uses this cluster role, but the account's clusters are not all "
                         "known: " + _first(unknown))
    return "PASS", f"cluster role used by this cluster only: no other cluster in the account uses it ({inv.words()})"


def _cluster_role_sharing(f: Frames, inv: Inventory) -> list[dict]:
    clusters = f.clusters.to_dict(orient="records")
    by_role: dict[str, list[tuple[str, str]]] = {}
    for c in clusters:
        if c["role_arn"]:
            by_role.setdefault(c["role_arn"], []).append((c["region"], c["cluster"]))
    out = []
    for c in clusters:
        status, reason = _cluster_role_sharing_verdict(c, by_role, inv)
        out.append(finding(c, status, "cluster-role", c["role_arn"], reason))
    return out


@dataclasses.dataclass(frozen=True)
class _NodeRoleUse:
    """Which clusters use which node roles, as far as the evidence tells."""

    users: dict[str, set[tuple[str, str]]]  # role ARN -> (region, cluster) of every cluster naming it
    auth_read: set[tuple[str, str]]  # clusters whose aws-auth (self-managed node mappings) was read
    not_read: list[tuple[str, str]]  # clusters whose aws-auth was not read


def _node_role_sharing_verdict(r: dict, use: _NodeRoleUse, inv: Inventory) -> tuple[str, str, str]:
    """(status, resource id, reason) for one cluster's node role."""
    if r["error"]:
        return "ERROR", r["source"], f"node role unknown, sharing cannot be verified: {r['error']}"
    me = (r["region"], r["cluster"])
    others = _named((x for x in use.users.get(r["role_arn"], set()) if x != me), r["region"])
    unknown = inv.unknown(nodes=True, besides=me)
    if others:
        return "FAIL", r["role_arn"], f"node role ({r['source']}) also used by cluster(s) {others}"
    if unknown:
        return "ERROR", r["role_arn"], (f"node role ({r['source']}) is used by no other cluster whose node roles are "
                                        "known, but not all are: " + _first(unknown))
    unseen = [x for x in use.not_read if x != me]
    caveat = (f"; self-managed nodes of {_named(unseen[:5], r['region'])}"
              + (f" and {len(unseen) - 5} more" if len(unseen) > 5 else "")
              + " not covered: their aws-auth was not read" if unseen else "")
    return "PASS", r["role_arn"], (f"node role ({r['source']}) used by this cluster only: no managed node group or "
                                   f"Auto Mode of another cluster uses it ({inv.words()}), nor any aws-auth node "
                                   f"mapping read ({len(use.auth_read)} clusters){caveat}")


def _node_role_sharing(f: Frames, inv: Inventory) -> list[dict]:
    nr, cl = f.node_roles, f.clusters
    users: dict[str, set[tuple[str, str]]] = {}
    for r in nr[(nr["cluster"] != "") & (nr["role_arn"] != "")].itertuples(index=False):
        users.setdefault(r.role_arn, set()).add((r.region, r.cluster))
    auth_read = {(e["region"], e["cluster"]) for e, _ in f.evidence.responses(CONFIGMAPS)}
    use = _NodeRoleUse(users, auth_read, sorted(x for x in zip(cl["region"], cl["cluster"]) if x not in auth_read))
    out = []
    for r in nr[nr["cluster"] != ""].to_dict(orient="records"):
        status, rid, reason = _node_role_sharing_verdict(r, use, inv)
        out.append(finding(r, status, "node-role", rid, reason))
    return out


def _distinct(rows: list[dict]) -> list[dict]:
    """The rows without repeats (a role two sources name alike for one cluster is one finding), first kept."""
    seen: set[tuple] = set()
    out = []
    for r in rows:
        key = (r["region"], r["cluster"], r["resource_id"], r["status"], r["reason"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


@check("IAM-05", domain="iam", title="One IAM role per cluster", severity="medium", requirements=["R-IAM-5"],
       frames=("clusters", "node_roles", "cluster_inventory"),
       practice="Every cluster has its own cluster role, and its node groups use node roles no other cluster uses, "
                "in any region of the account.",
       rationale="A role shared by clusters joins their blast radius: a permission added for one cluster applies "
                 "to all, and a compromised node of a test cluster holds the same credentials as production nodes.",
       remediation="Create a cluster role and a node role per cluster (clusters cannot change their cluster role: "
                   "recreate or migrate); create new node groups with a dedicated node role.",
       references={})
def one_role_per_cluster(f: Frames, p: dict) -> list[dict]:
    inv = f.cluster_inventory
    return _distinct(_cluster_role_sharing(f, inv) + _node_role_sharing(f, inv))


# ---- IAM-06 -------------------------------------------------------------------------------------------------


@check("IAM-06", domain="iam", title="One service account per application", severity="medium",
       requirements=["R-IAM-6"], frames=("workloads",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Each application runs under a service account of its own, never the namespace's default one.",
       rationale="A shared or default service account gives every workload the union of all their permissions "
                 "(RBAC and IRSA), so one compromised pod reaches what the others may.",
       remediation="Create a dedicated ServiceAccount per application, set spec.serviceAccountName, and bind only "
                   "the RBAC roles and IAM role that application needs.",
       references={"cis_eks": ["4.1.5"],
                   "hardeneks": ["use_dedicated_service_accounts_for_each_deployment",
                                 "use_dedicated_service_accounts_for_each_stateful_set",
                                 "use_dedicated_service_accounts_for_each_daemon_set"]})
def one_service_account_per_app(f: Frames, p: dict) -> pd.DataFrame | list[dict]:
    w = outside(f.workloads, p["exclude_namespaces"])
    if w.empty:
        return []
    apps = [lbl.get("app.kubernetes.io/name") or lbl.get("app") or wl
            for lbl, wl in zip(values(w["labels"]), values(w["workload"]))]
    keys = list(zip(*(values(w[c]) for c in ("cluster", "namespace", "service_account"))))
    sharing: dict[tuple, set] = {}  # (cluster, namespace, service account) -> the applications running as it
    for key, app in zip(keys, apps):
        sharing.setdefault(key, set()).add(app)
    verdicts = per_value(keys, lambda key: _service_account_verdict(key[2], sorted(sharing[key])))
    return findings(w, [s for s, _ in verdicts], [r for _, r in verdicts], "workload",
                    joined(w, "{}/{}", "namespace", "workload"))


def _service_account_verdict(service_account: str, apps: list[str]) -> tuple[str, str]:
    """(status, reason) for the workloads running as one service account, which `apps` share."""
    if service_account == "default":
        return "FAIL", "runs as the namespace's default service account"
    if len(apps) > 1:
        return "FAIL", f"shares service account {service_account} with other applications: {', '.join(apps)}"
    return "PASS", f"runs as its own service account {service_account}"


# ---- IAM-07 -------------------------------------------------------------------------------------------------


@check("IAM-07", domain="iam", title="Containers run as a non-root user", severity="high",
       requirements=["R-IAM-7"], frames=("containers",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Every container, init and ephemeral ones included, is proven to run as a non-root user.",
       rationale="A process running as root inside a container is one kernel or runtime flaw away from root on "
                 "the node; non-root also blocks writes to root-owned paths in the image.",
       remediation="Set securityContext.runAsNonRoot: true and a non-zero runAsUser on the pod or container; build "
                   "images with a non-root USER.",
       references={"cis_eks": ["4.2.6"], "kubescape": ["C-0013"], "hardeneks": ["disable_run_as_root_user"]})
def containers_run_as_non_root(f: Frames, p: dict) -> pd.DataFrame | list[dict]:
    c = outside(f.containers, p["exclude_namespaces"])
    if c.empty:
        return []
    uid = pd.to_numeric(c["run_as_user"], errors="coerce")
    explicit_root = uid == 0
    non_root = (~explicit_root) & ((uid > 0) | (c["run_as_non_root"] == True))  # noqa: E712
    reason = np.where(
        explicit_root, "runs as root: runAsUser is 0",
        np.where(non_root, np.where(uid > 0, per_value(uid.fillna(0).astype(int), lambda u: f"runs as uid {u}"),
                                    "runAsNonRoot is true"),
                 "not proven non-root: neither runAsNonRoot: true nor a non-zero runAsUser is set "
                 "(the image's USER decides)"))
    return findings(c, np.where(non_root, "PASS", "FAIL"), reason, "container", container_id(c))


# ---- IAM-08 -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _PodCredentials:
    """Where the pods of each cluster can get AWS credentials from, read once for IAM-08's verdicts."""

    auth: AuthorizationDetails
    account: str
    oidc: tuple[set[str], str]  # IAM OIDC provider hosts, and why they could not be read
    issuers: dict[str, str]  # cluster -> its OIDC issuer
    pod_identity: dict[str, tuple[list[dict], str]]  # cluster -> (associations, why they could not be read)
    agents: dict[str, bool]  # cluster -> whether the pod identity agent runs (clusters whose DaemonSets were read)
    addons: dict[tuple[str, str], str]  # (cluster, add-on) -> the role its configuration gives it
    service_accounts: dict[tuple[str, str, str], dict]  # (cluster, namespace, name) -> service_accounts row


def _irsa_verdict(creds: _PodCredentials, role_arn: str, cluster: str, namespace: str, sa: str) -> tuple[str, str]:
    """(status, words) for an IRSA annotation: PASS only when the role exists in this account and trusts the
    cluster's IAM OIDC provider for this service account (sts:AssumeRoleWithWebIdentity)."""
    role = creds.auth.role(role_arn)
    if role is None:
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        if account and account != creds.account:
            return "MANUAL", f"the role is in account {account}: confirm there that it trusts this cluster"
        return "FAIL", "it is not a role of this account's IAM snapshot, so the driver falls back to the node role"
    host = _issuer_host(creds.issuers.get(cluster, ""))
    if not host:
        return "FAIL", ("the cluster reports no OIDC issuer, so IRSA cannot work and the driver falls back to the "
                        "node role")
    providers, providers_err = creds.oidc
    if not providers_err and host not in providers:
        return "FAIL", f"no IAM OIDC provider exists for the cluster's issuer {host}, so the role cannot be assumed"
    if admits_web_identity(role["trust"], host, f"system:serviceaccount:{namespace}:{sa}"):
        return "PASS", f"it trusts the cluster's OIDC provider for {namespace}/{sa}"
    return "FAIL", (f"its trust policy does not admit {namespace}/{sa} through the cluster's OIDC provider {host}, "
                    "so the driver falls back to the node role")


def _csi_driver(r: dict) -> str | None:
    """The storage kind (a key of CSI_DRIVERS) whose CSI driver this workload runs, by image or name."""
    images = " ".join(c.get("image", "") for c in r["spec"].get("containers") or [])
    return next((k for k, marks in CSI_DRIVERS.items() if any(m in images or m in r["name"] for m in marks)), None)


def _csi_driver_verdict(creds: _PodCredentials, r: dict, kind: str) -> tuple[str, str]:
    """(status, reason): whether a CSI driver gets AWS credentials of its own (IRSA, pod identity or its add-on
    configuration) rather than the node role's."""
    cluster, sa = r["cluster"], r["service_account"]
    sa_row = creds.service_accounts.get((cluster, "kube-system", sa))
    assoc, pid_err = creds.pod_identity.get(cluster, ([], "not collected"))
    addon_role = creds.addons.get((cluster, CSI_DRIVERS[kind][0]), "")
    has_agent = creds.agents.get(cluster) is not False
    # An annotation is not a credential: the role must exist and trust this cluster's OIDC provider for this
    # service account, or the driver silently falls back to the node role.
    irsa = (sa_row or {}).get("role_arn") or ""
    irsa_status, irsa_reason = _irsa_verdict(creds, irsa, cluster, "kube-system", sa) if irsa else ("", "")
    head = f"{kind} CSI driver's service account {sa}"
    if irsa_status == "PASS":
        return "PASS", f"{head} has its own role {irsa} (IRSA): {irsa_reason}"
    if any(a.get("namespace") == "kube-system" and a.get("serviceAccount") == sa for a in assoc) and has_agent:
        return "PASS", f"{head} has an EKS Pod Identity association and the eks-pod-identity-agent runs"
    if addon_role and (addon_role != "pod identity" or has_agent):
        return "PASS", f"{kind} CSI driver add-on is configured with {addon_role}"
    if irsa_status:
        return irsa_status, f"{head} is annotated with {irsa}, but {irsa_reason}"
    if pid_err and has_agent:
        return "ERROR", (f"{head} has no IRSA annotation and pod identity associations could not be read "
                         f"({LIST_POD_IDENTITY_ASSOCIATIONS} {pid_err})")
    return "FAIL", (f"{head} has no IAM role (no IRSA annotation, no pod identity association or no "
                    "eks-pod-identity-agent): the driver falls back to the node role")


def _unreadable_kubernetes(f: Frames) -> dict[str, list[str]]:
    """cluster -> the Kubernetes reads IAM-08 needs that failed there, with their cause."""
    out: dict[str, list[str]] = {}
    for key in [*WORKLOAD_INPUTS, SERVICE_ACCOUNTS]:
        for e in f.evidence.errors(key):
            out.setdefault(e["cluster"], []).append(f"{key} {describe(e.get('error') or {})}")
    return out


@check("IAM-08", domain="iam", title="Storage CSI drivers use their own IAM role", severity="high",
       requirements=["R-IAM-8"], frames=("clusters", "iam_auth", "node_roles"),
       soft_inputs=(*WORKLOAD_INPUTS, SERVICE_ACCOUNTS, DAEMONSETS, LIST_POD_IDENTITY_ASSOCIATIONS, DESCRIBE_ADDON,
                    LIST_OPEN_ID_CONNECT_PROVIDERS),
       practice="The EBS, EFS and FSx CSI drivers get AWS permissions from a role of their own (IRSA or EKS Pod "
                "Identity) and the node role holds no volume or file-system management permissions.",
       rationale="Storage permissions on the node role let every pod on the node create, attach and delete "
                 "volumes or file systems, including snapshots of other workloads' data.",
       remediation="Create a role with AmazonEBSCSIDriverPolicy (or the EFS/FSx policy) trusted by the driver's "
                   "service account (IRSA or pod identity), set it on the add-on (serviceAccountRoleArn), and "
                   "detach storage policies from node roles.",
       references={"cis_eks": ["5.2.1"]})
def csi_drivers_have_own_role(f: Frames, p: dict) -> list[dict]:
    auth = f.iam_auth
    out = _node_role_findings(f, auth, STORAGE_ACTIONS, "volume/file-system management permissions")
    pid, agents, addons, oidc = pod_identity(f), pod_identity_agents(f), addon_roles(f), oidc_providers(f)
    clusters = f.clusters.to_dict(orient="records")
    # Kubernetes reads are soft here: a cluster whose objects could not be read gets one ERROR for its drivers,
    # while node-role verdicts (IAM only) stand for the account.
    unreadable = _unreadable_kubernetes(f)
    for c in clusters:
        causes = unreadable.get(c["cluster"])
        if causes:
            out.append(finding(c, "ERROR", "cluster", f"{c['cluster']} (CSI drivers)",
                               f"CSI drivers and their service accounts could not be verified: {causes[0]}"
                               + (f" and {len(causes) - 1} more inputs" if len(causes) > 1 else "")))
    creds = _PodCredentials(auth, f.evidence.account, oidc, {c["cluster"]: c["oidc_issuer"] for c in clusters}, pid,
                            agents, addons, {(r["cluster"], r["namespace"], r["name"]): r
                                             for r in f.service_accounts.to_dict("records")})
    w = f.workloads
    w = w[(w["namespace"] == "kube-system") & w["kind"].isin(["Deployment", "StatefulSet", "Pod"])
          & ~w["cluster"].isin(list(unreadable))]
    for r in w.to_dict(orient="records"):
        kind = _csi_driver(r)
        if kind is not None:
            status, reason = _csi_driver_verdict(creds, r, kind)
            out.append(finding(r, status, "workload", f"kube-system/{r['workload']}", reason))
    return out


# ---- IAM-09 -------------------------------------------------------------------------------------------------


def _mfa_verdict(auth: AuthorizationDetails, u: dict) -> tuple[str, str]:
    """(status, reason): a console user with EKS write or IAM admin permissions must have an MFA device."""
    if u["console_password"] is None:
        return "ERROR", f"console password could not be read ({GET_LOGIN_PROFILE} {u['password_error']})"
    if not u["console_password"]:
        return "PASS", "no console password"
    eks = auth.matching_actions_on_some(u["arn"], EKS_WRITE)
    admin = auth.matching_actions(u["arn"], ADMIN_PROBES)
    if not eks and not admin:
        return "PASS", ("console user without EKS write or IAM admin permissions"
                        + auth.caveat(u["arn"], granted=False))
    what = " and ".join(x for x in ("EKS write" if eks else "", "IAM admin" if admin else "") if x)
    if u["mfa_devices"] is None:
        return "ERROR", (f"console user with {what} permissions; MFA devices could not be read ({LIST_MFA_DEVICES} "
                         f"{u['mfa_error']})")
    if u["mfa_devices"] == 0:
        return "FAIL", (f"console password, {what} permissions and no MFA device; granted by "
                        f"{describe_grants({**eks, **admin})}" + auth.caveat(u["arn"], granted=True))
    return "PASS", f"console user with {what} permissions has {u['mfa_devices']} MFA device(s)"


@check("IAM-09", domain="iam", title="MFA for privileged console users", severity="high", requirements=["R-IAM-9"],
       frames=("iam_auth", "iam_users"),
       practice="Every IAM user who can sign in to the console and manage EKS (or administer IAM) has an MFA device.",
       rationale="A console password alone is phished or reused; with EKS write or IAM admin rights it is enough to "
                 "take over every cluster.",
       remediation="Enable a (virtual or hardware) MFA device for the user, and deny privileged actions without "
                   "aws:MultiFactorAuthPresent; better, move people to IAM Identity Center.",
       references={"securityhub": ["IAM.5", "IAM.19"],
                   "prowler": ["iam_user_mfa_enabled_console_access", "iam_administrator_access_with_mfa"]})
def mfa_for_privileged_console_users(f: Frames, p: dict) -> list[dict]:
    auth = f.iam_auth
    out = []
    for u in f.iam_users.to_dict(orient="records"):
        status, reason = _mfa_verdict(auth, u)
        out.append(finding(None, status, "iam-user", u["arn"], reason, evidence=gaad_ref(f, u["arn"])))
    return out


# ---- IAM-10 -------------------------------------------------------------------------------------------------


def _repository_policy_verdict(r: dict, trusted: set[str]) -> tuple[str, str]:
    """(status, reason): a repository policy may name only this account or trusted ones, never everyone."""
    if r["state"] == "error":
        return "ERROR", f"repository policy could not be read ({GET_REPOSITORY_POLICY} {r['error']})"
    if r["state"] == "none":
        return "PASS", "no repository policy: only this account's IAM grants access"
    problems = []
    for t in trust_principals(r["policy"]):
        if t["type"] not in ("AWS", "*"):
            continue
        guards = trust_guards(t["conditions"])
        if t["account"] == "*" and not guards:
            problems.append(f"Principal * (everyone) may {','.join(t['actions']) or 'act'}")
        elif t["account"] and t["account"] != "*" and t["account"] not in trusted:
            problems.append(f"untrusted account {t['account']} may {','.join(t['actions']) or 'act'}")
    if problems:
        return "FAIL", "repository policy: " + "; ".join(problems)
    return "PASS", "repository policy names only this account or trusted accounts"


def _ecr_write_verdict(auth: AuthorizationDetails, pr: dict, unknown_nodes: list[str],
                       ci: list[str]) -> tuple[str, str]:
    """(status, reason): only CI principals may push to or change every repository. While some cluster's node
    roles are unknown, a role EC2 may assume could be one of them, and node roles are held to "read-only
    anywhere", not only "no write on every repository"."""
    arn = pr["arn"]
    found = auth.matching_actions(arn, ECR_WRITE)
    if not found and unknown_nodes and pr["type"] == "role" and trusts_service(pr["trust"], "ec2.amazonaws.com"):
        some = auth.matching_actions_on_some(arn, ECR_WRITE)
        if some:
            return "ERROR", (f"EC2 may assume this role and it may perform ECR write actions "
                             f"({', '.join(sorted(some)[:3])}) on some repositories; it may be a node role of "
                             f"{', '.join(unknown_nodes[:3])}, whose node roles could not all be read, where it "
                             "would fail")
    if not found:
        return "PASS", "no ECR write action on all repositories" + auth.caveat(arn, granted=False)
    if _matches_any(arn, ci):
        return "PASS", "CI principal (ci_principals) may push to all repositories"
    return "FAIL", (f"may perform {len(found)} ECR write actions (e.g. {', '.join(sorted(found)[:3])}) on every "
                    f"repository without being a CI principal; granted by {describe_grants(found)}"
                    + auth.caveat(arn, granted=True))


def _node_role_ecr_verdict(auth: AuthorizationDetails, arn: str) -> tuple[str, str]:
    """(status, reason): a node role only pulls, on any repository."""
    found = auth.matching_actions_on_some(arn, ECR_WRITE)
    if found:
        return "FAIL", (f"node role may perform ECR write actions ({', '.join(sorted(found)[:3])}); granted by "
                        f"{describe_grants(found)}{auth.caveat(arn, granted=True)}")
    return "PASS", "node role has at most read-only ECR access" + auth.caveat(arn, granted=False)


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
       references={"cis_eks": ["5.1.2", "5.1.3"], "prowler": ["ecr_repositories_not_publicly_accessible"]})
def minimal_ecr_permissions(f: Frames, p: dict) -> list[dict]:
    auth, own = f.iam_auth, f.evidence.account
    trusted = set(map(str, p["trusted_accounts"] or [])) | {own}
    out = []
    for r in f.repo_policies.to_dict(orient="records"):
        status, reason = _repository_policy_verdict(r, trusted)
        out.append(finding(r, status, "ecr-repository", r["repository"], reason))
    nr = f.node_roles
    node = set(nr["role_arn"]) - {""}
    failed = set(nr[nr["error"] != ""]["cluster"])
    unknown_nodes = sorted(failed) + [n for (_, n) in f.cluster_inventory.node_gaps if n not in failed]
    for pr in auth.principals(service_linked=False):
        if pr["arn"] not in node:
            status, reason = _ecr_write_verdict(auth, pr, unknown_nodes, p["ci_principals"])
            out.append(finding(None, status, f"iam-{pr['type']}", pr["arn"], reason, evidence=gaad_ref(f, pr["arn"])))
    for arn in sorted(node):
        if auth.role(arn) is not None:
            status, reason = _node_role_ecr_verdict(auth, arn)
            out.append(finding(None, status, "iam-role", arn, reason, evidence=gaad_ref(f, arn)))
    return out

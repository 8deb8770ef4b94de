"""IAM identity-policy evaluation over a GetAccountAuthorizationDetails (GAAD) snapshot.

An auditor needs to answer "who can do X?" offline, for thousands of principals, from one collected
response. This module follows AWS's evaluation for identities as far as GAAD shows it: identity policies
(inline policies, attached managed policies at their default version and, for users, the policies of their
groups) intersected with the principal's permissions boundary when it has one; an explicit Deny in either
wins. SCPs, resource control policies and session policies cannot be read from a member account, and
resource policies are not applied, so results are an upper bound of what is allowed - the conservative
direction for an audit. A boundary policy missing from the snapshot is not applied (named by
``boundary_note``).

Where the evaluation cannot prove something it leans towards reporting access: Allow statements with a
Condition still count (flagged via ``has_condition``), and a Deny cancels access only when it has no
Condition. Policy variables such as ``${aws:username}`` are matched literally.

Everything eksaudit reasons about IAM lives here, so that frames, checks and views ask the same questions the
same way: effective permissions of a principal (``AuthorizationDetails``: on every resource, on some resource),
the action sets the checks audit (``EKS_WRITE``, ``ECR_WRITE``...), who a trust or resource policy lets in
(``trust_principals``, ``trusts_service``, ``trust_guards``, ``whole_account_principals``,
``admits_web_identity``), and the words a finding uses for the statements behind a verdict (``describe_grant``,
``describe_grants``, ``example_actions``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

__all__ = [
    "ECR_PULL_EXTRA",
    "ECR_WRITE",
    "EKS_ALL",
    "EKS_EXAMPLES",
    "EKS_WRITE",
    "NOT_READABLE",
    "READ_VERBS",
    "TRUST_GUARDS",
    "AuthorizationDetails",
    "Grant",
    "action_matches",
    "admits_web_identity",
    "describe_grant",
    "describe_grants",
    "example_actions",
    "expand",
    "is_write_action",
    "parse_document",
    "resource_matches",
    "service_actions",
    "statements",
    "trust_guards",
    "trust_principals",
    "trusts_service",
    "whole_account_principals",
]

# Operation-name prefixes that only read. Everything else is treated as a write (or unknown, which an
# auditor should treat as a write). Query, Scan and Select read data, so they belong here.
READ_VERBS: tuple[str, ...] = ("Describe", "List", "Get", "BatchGet", "Head", "Search", "Lookup", "Select",
                               "Scan", "Query")
_READ_VERBS_LOWER = tuple(v.lower() for v in READ_VERBS)

# IAM action prefix -> botocore service model name(s), only where they differ. Both ELB API versions share
# the "elasticloadbalancing" IAM prefix, so its action list is the union of the two models.
_BOTOCORE_NAMES: dict[str, tuple[str, ...]] = {
    "elasticloadbalancing": ("elbv2", "elb"),
    "monitoring": ("cloudwatch",),
    "states": ("stepfunctions",),
    "elasticfilesystem": ("efs",),
    "elasticmapreduce": ("emr",),
    "email": ("ses", "sesv2"),
    "tag": ("resourcegroupstaggingapi",),
}

_SERVICE_LINKED_PATH = "/aws-service-role/"
_DOC_CACHE_LIMIT = 8192  # per-document memo entries before the memo is reset


# --------------------------------------------------------------------------------------------------------
# Pattern matching


@lru_cache(maxsize=65536)
def _compile(patterns: tuple[str, ...], ignore_case: bool) -> re.Pattern[str] | None:
    """One anchored regex for a list of IAM wildcard patterns, so a statement is tested with one match."""
    if not patterns:
        return None
    parts = []
    for pattern in patterns:
        parts.append("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("(?:" + "|".join(parts) + ")", flags)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action wildcard match: case-insensitive, ``*`` is any run of characters, ``?`` is one."""
    rx = _compile((pattern,), True)
    return rx is not None and rx.fullmatch(action) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    """IAM resource (ARN) wildcard match: case-sensitive, ``*`` is any run of characters, ``?`` is one."""
    rx = _compile((pattern,), False)
    return rx is not None and rx.fullmatch(resource) is not None


# --------------------------------------------------------------------------------------------------------
# Documents and statements


def parse_document(doc: dict | str) -> dict:
    """A policy document as a dict, whether boto3 decoded it already or it is the raw URL-encoded JSON."""
    if isinstance(doc, dict):
        return doc
    if isinstance(doc, bytes):
        doc = doc.decode("utf-8", errors="replace")
    if not isinstance(doc, str):
        raise ValueError(f"policy document must be a dict or a JSON string, not {type(doc).__name__}")
    text = doc.strip()
    if not text.startswith("{"):
        # Decoding only when needed keeps literal '%' characters inside plain JSON intact.
        text = unquote(text).strip()
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"policy document is not valid JSON ({exc.msg} at char {exc.pos}): {text[:80]!r}") from exc
    if not isinstance(parsed, dict):
        raise ValueError(f"policy document must be a JSON object, not {type(parsed).__name__}")
    return parsed


def statements(doc: dict) -> list[dict]:
    """The document's statements as a list, since IAM allows a single statement object instead of a list."""
    doc = parse_document(doc)
    raw = doc.get("Statement", [])
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ValueError(f"policy Statement must be an object or a list, not {type(raw).__name__}")
    for i, stmt in enumerate(raw):
        if not isinstance(stmt, dict):
            raise ValueError(f"policy statement {i} must be an object, not {type(stmt).__name__}")
    return list(raw)


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    """A str-or-list policy element as a tuple, since IAM accepts both spellings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"policy {what} must be a string or a list of strings, not {value!r}")


def _account_of(value: str) -> str:
    """Account id named by a trust-policy AWS principal, "*" for everyone, "" when none is named."""
    if value == "*":
        return "*"
    if value.isdigit() and len(value) == 12:
        return value
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) == 6:
            return parts[4]
    return ""


def trust_principals(trust_doc: dict) -> list[dict]:
    """Who a role's trust policy lets in: one entry per principal of each Allow statement.

    Deny statements are skipped (they narrow, never widen, who can assume). An Allow with NotPrincipal
    is reported as ``*``: it lets in everyone except the listed principals.
    """
    out: list[dict] = []
    for stmt in statements(trust_doc):
        if stmt.get("Effect") != "Allow":
            continue
        found: list[tuple[str, str, str]] = []  # (type, value, account)
        principal = stmt.get("Principal")
        if "NotPrincipal" in stmt and principal is None:
            found.append(("*", "*", "*"))
        elif isinstance(principal, str):
            if principal != "*":
                raise ValueError(f"trust policy Principal string must be '*', not {principal!r}")
            found.append(("*", "*", "*"))
        elif isinstance(principal, dict):
            for kind, values in principal.items():
                for value in _str_list(values, f"Principal.{kind}"):
                    found.append((kind, value, _account_of(value)))
        elif principal is not None:
            raise ValueError(f"trust policy Principal must be '*' or an object, not {principal!r}")
        conditions = stmt.get("Condition") or {}
        actions = list(_str_list(stmt.get("Action"), "Action"))
        out.extend({"type": kind, "value": value, "account": account, "conditions": conditions,
                    "actions": actions} for kind, value, account in found)
    return out


def trusts_service(trust_doc: dict | None, service: str) -> bool:
    """Whether a role's trust policy lets an AWS service (e.g. "eks.amazonaws.com") assume it."""
    return any(t["type"] == "Service" and t["value"] == service for t in trust_principals(trust_doc or {}))


# Condition keys that narrow a trust to known callers: without one, a whole account (or anyone) may assume the
# role or use the resource.
TRUST_GUARDS: frozenset[str] = frozenset({
    "sts:externalid", "aws:principalorgid", "aws:principalorgpaths", "aws:multifactorauthpresent",
    "aws:principalarn", "aws:sourceidentity", "aws:principalaccount"})

# Operators under which a condition key narrows who gets in. Negated operators, ...IfExists (true when the key
# is absent, as it is for many callers) and ForAllValues (true for an empty set) do not.
_GUARD_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike",
                              "bool", "null", "numericlessthan", "numericlessthanequals"})


def _guards_by(base: str, key: str, values: list[str]) -> bool:
    """Whether one condition test (operator without ForAnyValue:, lower-case key and values) narrows a trust."""
    if base == "null":
        return key in ("aws:multifactorauthpresent", "aws:multifactorauthage") and values == ["false"]
    if base == "bool":
        return key == "aws:multifactorauthpresent" and values == ["true"]
    if base.startswith("numeric"):
        return key == "aws:multifactorauthage"
    return bool(values) and all(v.strip("*?") for v in values) and key != "aws:multifactorauthpresent"


def trust_guards(conditions: dict) -> list[str]:
    """Condition keys of a statement that really narrow a trust to known callers: a key of TRUST_GUARDS (or an
    MFA age limit) tested with a positive operator against a concrete value. An ExternalId "*" or
    MultiFactorAuthPresent "false" lets anyone in: having *a* condition is not enough."""
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
            if _guards_by(base, k, values):
                out.add(str(key) if k in TRUST_GUARDS else "aws:MultiFactorAuthAge")
    return sorted(out)


def whole_account_principals(trust_doc: dict, own_account: str) -> list[dict]:
    """The principals of a trust policy (as ``trust_principals`` gives them) that let in anyone or a whole other
    account: Principal "*", or another account named by its id or its root ARN (not one of its roles or users).
    Their conditions decide whether they are narrowed (``trust_guards``)."""
    out = []
    for t in trust_principals(trust_doc):
        if t["type"] not in ("AWS", "*"):
            continue
        if t["account"] == "*" or (t["account"] and t["account"] != own_account and (
                t["value"] == t["account"] or t["value"].endswith(":root"))):
            out.append(t)
    return out


def admits_web_identity(trust_doc: dict | None, provider_host: str, subject: str) -> bool:
    """Whether a role's trust policy lets ``subject`` (e.g. "system:serviceaccount:ns:name") assume the role
    with sts:AssumeRoleWithWebIdentity through the IAM OIDC provider of ``provider_host`` (the issuer without
    its scheme). A statement without a ``<host>:sub`` condition admits every subject of the provider; a
    negated condition operator is not read as admitting anyone."""
    for t in trust_principals(trust_doc or {}):
        if t["type"] != "Federated" or not t["value"].endswith(f":oidc-provider/{provider_host}"):
            continue
        if t["actions"] and not any(action_matches(a, "sts:AssumeRoleWithWebIdentity") for a in t["actions"]):
            continue
        subs = [v for op, tests in (t["conditions"] or {}).items() if isinstance(tests, dict)
                and "not" not in str(op).lower() for k, vals in tests.items()
                if str(k).lower() == f"{provider_host}:sub".lower()
                for v in (vals if isinstance(vals, list) else [vals])]
        if not subs or any(fnmatchcase(subject, str(v)) for v in subs):
            return True
    return False


# --------------------------------------------------------------------------------------------------------
# Service action lists


@lru_cache(maxsize=1)
def _botocore_session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@lru_cache(maxsize=256)
def _service_actions(service_prefix: str) -> tuple[str, ...]:
    from botocore.exceptions import UnknownServiceError

    prefix = service_prefix.lower()
    session = _botocore_session()
    names: set[str] = set()
    for model_name in _BOTOCORE_NAMES.get(prefix, (prefix,)):
        try:
            names.update(session.get_service_model(model_name).operation_names)
        except UnknownServiceError as exc:
            raise ValueError(f"no botocore service model for IAM prefix {service_prefix!r} "
                             f"(looked for {model_name!r})") from exc
    return tuple(f"{prefix}:{name}" for name in sorted(names))


def service_actions(service_prefix: str) -> list[str]:
    """Concrete actions of a service, from botocore's model, so checks enumerate real actions offline.

    Operation names equal IAM action names for most services (eks, ecr, iam, kms...); a few IAM-only
    actions (such as s3:ListBucket for ListObjectsV2) have no operation of the same name.
    """
    return list(_service_actions(service_prefix))


def is_write_action(action: str) -> bool:
    """True unless the operation name starts with a read verb (see READ_VERBS); unknown means write."""
    operation = action.split(":", 1)[-1].lower()
    return not operation.startswith(_READ_VERBS_LOWER)


def expand(patterns: list[str], service_prefix: str) -> list[str]:
    """The concrete actions of one service that any of the patterns matches."""
    rx = _compile(tuple(patterns), True)
    if rx is None:
        return []
    return [a for a in _service_actions(service_prefix) if rx.fullmatch(a)]


# The action sets the IAM checks and views ask about, from botocore's model (real action names, offline).
EKS_ALL: tuple[str, ...] = tuple(service_actions("eks"))
# EKS actions that change clusters or who can reach them.
EKS_WRITE: tuple[str, ...] = tuple(a for a in EKS_ALL if is_write_action(a))
# The EKS actions a reason quotes first, when granted: they say most plainly what a principal may do.
EKS_EXAMPLES: tuple[str, ...] = ("eks:DeleteCluster", "eks:CreateAccessEntry", "eks:AssociateAccessPolicy",
                                 "eks:UpdateClusterConfig", "eks:CreateCluster")
# Needed to pull images, though its name does not start with a read verb.
ECR_PULL_EXTRA: frozenset[str] = frozenset({"ecr:BatchCheckLayerAvailability"})
# ECR actions that push images or change repositories.
ECR_WRITE: tuple[str, ...] = tuple(a for a in service_actions("ecr") if is_write_action(a) and a not in ECR_PULL_EXTRA)


# --------------------------------------------------------------------------------------------------------
# Compiled policies


@dataclass(frozen=True)
class Grant:
    """One statement of one policy that allows (or denies) something to a principal."""

    principal_arn: str
    principal_type: str
    principal_name: str
    policy_name: str
    policy_arn: str
    source: str
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    has_condition: bool
    statement: dict = field(compare=False, repr=False)

    def covers(self, action: str) -> bool:
        """Whether the statement's Action (or NotAction) covers ``action``, whatever its resources."""
        if self.not_actions:
            return not any(action_matches(p, action) for p in self.not_actions)
        return any(action_matches(p, action) for p in self.actions)


class _Statement:
    """A statement with its patterns compiled once, shared by every principal the policy is attached to."""

    __slots__ = ("raw", "sid", "effect", "actions", "not_actions", "resources", "not_resources",
                 "has_condition", "_action_rx", "_resource_rx", "_not_action", "_not_resource")

    def __init__(self, raw: dict):
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"statement Effect must be 'Allow' or 'Deny', not {effect!r}")
        if "Action" in raw and "NotAction" in raw:
            raise ValueError("statement has both Action and NotAction")
        if "Resource" in raw and "NotResource" in raw:
            raise ValueError("statement has both Resource and NotResource")
        self.raw = raw
        self.sid = str(raw.get("Sid", ""))
        self.effect = effect
        self.actions = _str_list(raw.get("Action"), "Action")
        self.not_actions = _str_list(raw.get("NotAction"), "NotAction")
        self.resources = _str_list(raw.get("Resource"), "Resource")
        self.not_resources = _str_list(raw.get("NotResource"), "NotResource")
        self.has_condition = bool(raw.get("Condition"))
        self._not_action = "NotAction" in raw
        self._not_resource = "NotResource" in raw
        self._action_rx = _compile(self.not_actions if self._not_action else self.actions, True)
        self._resource_rx = _compile(self.not_resources if self._not_resource else self.resources, False)

    def matches_action(self, action: str) -> bool:
        if self._not_action:
            return self._action_rx is None or self._action_rx.fullmatch(action) is None
        return self._action_rx is not None and self._action_rx.fullmatch(action) is not None

    def matches_resource(self, resource: str) -> bool:
        if self._not_resource:
            if self.effect == "Deny" and resource == "*":
                # Asking about every resource: a Deny that exempts some resources does not cover all of them.
                return False
            return self._resource_rx is None or self._resource_rx.fullmatch(resource) is None
        return self._resource_rx is not None and self._resource_rx.fullmatch(resource) is not None


class _Document:
    """A compiled policy document with a memo of (action, resource) -> outcome.

    Managed policies and group policies are compiled once and shared, so the memo pays off across all the
    principals they are attached to.
    """

    __slots__ = ("statements", "_memo")

    def __init__(self, doc: dict | str):
        self.statements = tuple(_Statement(s) for s in statements(parse_document(doc)))
        self._memo: dict[tuple[str, str], tuple[tuple[int, ...], bool]] = {}

    def _evaluate(self, key: tuple[str, str], action: str, resource: str) -> tuple[tuple[int, ...], bool]:
        """(indexes of Allow statements that apply, whether an unconditioned Deny applies), memoised."""
        allows: list[int] = []
        denied = False
        for i, stmt in enumerate(self.statements):
            if not (stmt.matches_action(action) and stmt.matches_resource(resource)):
                continue
            if stmt.effect == "Allow":
                allows.append(i)
            elif not stmt.has_condition:
                denied = True
        result = (tuple(allows), denied)
        if len(self._memo) >= _DOC_CACHE_LIMIT:
            self._memo.clear()
        self._memo[key] = result
        return result


@dataclass(frozen=True)
class _Source:
    """One policy as it applies to one principal: the document plus the labels a Grant reports."""

    doc: _Document
    policy_name: str
    policy_arn: str
    source: str


def _default_version_document(policy: dict) -> Any:
    """The document of a managed policy's default version: older versions grant nothing."""
    versions = policy.get("PolicyVersionList") or []
    for version in versions:
        if version.get("IsDefaultVersion") is True:
            return version.get("Document")
    default_id = policy.get("DefaultVersionId")
    for version in versions:
        if default_id and version.get("VersionId") == default_id:
            return version.get("Document")
    return None


class AuthorizationDetails:
    """Queryable view of a merged GetAccountAuthorizationDetails response.

    Effective permissions = identity policies (own, attached, groups') AND the permissions boundary when the
    user or role has one (GAAD's PermissionsBoundary.PermissionsBoundaryArn, a managed policy of
    ``Policies``), and no explicit Deny in either. SCPs, resource and session policies are not applied, so
    ``allowed`` can over-report but never misses an access the identity policies and boundary allow.
    Attached managed policies missing from ``Policies`` (e.g. a GAAD filter excluded them) and groups
    missing from ``GroupDetailList`` cannot be evaluated and contribute nothing; a boundary missing from
    ``Policies`` cannot be applied (see ``boundary_note``).
    """

    def __init__(self, gaad: dict):
        self._managed_docs: dict[str, _Document | None] = {}
        self._docs_by_text: dict[str, _Document] = {}
        self._policies = {p["Arn"]: p for p in gaad.get("Policies", []) or [] if p.get("Arn")}
        self._groups_by_name = {g["GroupName"]: g for g in gaad.get("GroupDetailList", []) or []
                                if g.get("GroupName")}
        self._group_sources: dict[str, list[_Source]] = {}
        self._principals: dict[str, dict] = {}
        self._plans: dict[str, tuple[tuple[_Document, tuple[Grant, ...]], ...]] = {}
        self._boundaries: dict[str, tuple[_Document, tuple[Grant, ...]] | None] = {}
        for kind, key, name_key in (("user", "UserDetailList", "UserName"), ("role", "RoleDetailList", "RoleName"),
                                    ("group", "GroupDetailList", "GroupName")):
            for detail in gaad.get(key, []) or []:
                arn = detail.get("Arn")
                if not arn or arn in self._principals:
                    continue
                path = detail.get("Path", "/") or "/"
                trust = None
                if kind == "role" and detail.get("AssumeRolePolicyDocument") is not None:
                    try:
                        trust = parse_document(detail["AssumeRolePolicyDocument"])
                    except ValueError as exc:
                        raise ValueError(f"trust policy of {arn}: {exc}") from exc
                boundary = detail.get("PermissionsBoundary") or {} if kind != "group" else {}
                self._principals[arn] = {
                    "arn": arn, "type": kind, "name": detail.get(name_key, ""), "path": path,
                    "service_linked": kind == "role" and path.startswith(_SERVICE_LINKED_PATH),
                    "trust": trust, "boundary_arn": str(boundary.get("PermissionsBoundaryArn") or ""),
                    "raw": detail,
                }

    # ---- building -----------------------------------------------------------------------------------

    def _managed(self, arn: str) -> _Document | None:
        if arn not in self._managed_docs:
            policy = self._policies.get(arn)
            doc = _default_version_document(policy) if policy else None
            self._managed_docs[arn] = self._document(doc, f"managed policy {arn}") if doc is not None else None
        return self._managed_docs[arn]

    def _document(self, doc: Any, where: str) -> _Document:
        """A compiled document, shared by every policy with the same content (templated inline policies
        are common), so its (action, resource) memo serves all of them."""
        try:
            parsed = parse_document(doc)
            text = json.dumps(parsed, sort_keys=True, default=str)
            compiled = self._docs_by_text.get(text)
            if compiled is None:
                compiled = self._docs_by_text[text] = _Document(parsed)
            return compiled
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc

    def _own_sources(self, detail: dict, inline_key: str, label: str, prefix: str) -> list[_Source]:
        out = []
        for inline in detail.get(inline_key, []) or []:
            name = inline.get("PolicyName", "")
            doc = self._document(inline.get("PolicyDocument", {}), f"inline policy {name} of {label}")
            out.append(_Source(doc, name, "", prefix + "inline"))
        for attached in detail.get("AttachedManagedPolicies", []) or []:
            arn = attached.get("PolicyArn", "")
            doc = self._managed(arn)
            if doc is not None:
                name = attached.get("PolicyName") or self._policies[arn].get("PolicyName", "")
                out.append(_Source(doc, name, arn, prefix + "managed"))
        return out

    def _sources_of(self, arn: str) -> list[_Source]:
        principal = self._principal(arn)
        detail, kind = principal["raw"], principal["type"]
        inline_key = {"user": "UserPolicyList", "role": "RolePolicyList", "group": "GroupPolicyList"}[kind]
        sources = self._own_sources(detail, inline_key, arn, "")
        if kind == "user":
            for group_name in detail.get("GroupList", []) or []:
                sources.extend(self._group_sources_of(group_name))
        return sources

    def _group_sources_of(self, group_name: str) -> list[_Source]:
        if group_name not in self._group_sources:
            group = self._groups_by_name.get(group_name)
            self._group_sources[group_name] = [] if group is None else self._own_sources(
                group, "GroupPolicyList", f"group {group_name}", f"group:{group_name}/")
        return self._group_sources[group_name]

    def _principal(self, arn: str) -> dict:
        try:
            return self._principals[arn]
        except KeyError:
            raise KeyError(f"unknown principal {arn!r}") from None

    def _plan(self, arn: str) -> tuple[tuple[_Document, tuple[Grant, ...]], ...]:
        """Each policy document of the principal paired with its Grants, built once per principal."""
        cached = self._plans.get(arn)
        if cached is not None:
            return cached
        p = self._principal(arn)
        out = []
        for src in self._sources_of(arn):
            grants = tuple(Grant(principal_arn=arn, principal_type=p["type"], principal_name=p["name"],
                                 policy_name=src.policy_name, policy_arn=src.policy_arn, source=src.source,
                                 sid=s.sid, effect=s.effect, actions=s.actions, not_actions=s.not_actions,
                                 resources=s.resources, not_resources=s.not_resources,
                                 has_condition=s.has_condition, statement=s.raw)
                           for s in src.doc.statements)
            out.append((src.doc, grants))
        plan = self._plans[arn] = tuple(out)
        return plan

    def _boundary(self, arn: str) -> tuple[_Document, tuple[Grant, ...]] | None:
        """The principal's permissions boundary compiled, with its statements as Grants; None without one (or
        when the boundary policy is not in the snapshot, see ``boundary_note``)."""
        if arn in self._boundaries:
            return self._boundaries[arn]
        p = self._principal(arn)
        out = None
        if p["boundary_arn"]:
            doc = self._managed(p["boundary_arn"])
            if doc is not None:
                name = self._policies[p["boundary_arn"]].get("PolicyName", "")
                out = (doc, tuple(Grant(principal_arn=arn, principal_type=p["type"], principal_name=p["name"],
                                        policy_name=name, policy_arn=p["boundary_arn"], source="boundary",
                                        sid=s.sid, effect=s.effect, actions=s.actions, not_actions=s.not_actions,
                                        resources=s.resources, not_resources=s.not_resources,
                                        has_condition=s.has_condition, statement=s.raw)
                                  for s in doc.statements))
        self._boundaries[arn] = out
        return out

    # ---- queries ------------------------------------------------------------------------------------

    def principals(self, service_linked: bool = True) -> list[dict]:
        """Users, roles and groups with the fields checks need; "raw" is the original GAAD detail. With
        ``service_linked=False``, without the service-linked roles (AWS's own, which no operator controls)."""
        return [p for p in self._principals.values() if service_linked or not p["service_linked"]]

    def role(self, arn: str) -> dict | None:
        """The role with this ARN (as ``principals`` gives it); None when the snapshot has no such role."""
        found = self._principals.get(arn)
        return found if found is not None and found["type"] == "role" else None

    def grants(self, principal_arn: str) -> list[Grant]:
        """Every Allow and Deny statement of the principal's identity policies, its groups' included.

        Only the default version of a managed policy counts. The permissions boundary's statements are not
        grants: they are in ``boundary_grants``.
        """
        return [g for _, per_source in self._plan(principal_arn) for g in per_source]

    def boundary_grants(self, principal_arn: str) -> list[Grant]:
        """The statements of the principal's permissions boundary (source "boundary"); empty without one."""
        found = self._boundary(principal_arn)
        return list(found[1]) if found else []

    def boundary_note(self, principal_arn: str) -> str:
        """In words, how the permissions boundary was applied: "" without one."""
        arn = self._principal(principal_arn)["boundary_arn"]
        if not arn:
            return ""
        if self._boundary(principal_arn) is None:
            return f"permissions boundary {arn} is not in the IAM snapshot, so it was not applied"
        return f"capped by permissions boundary {arn.rsplit('/', 1)[-1]}"

    def boundary_permits(self, principal_arn: str, action: str, resource: str | None = None) -> bool:
        """Whether the boundary (if any) lets ``action`` through: on ``resource``, or with None on at least some
        resource (an Allow covering the action, and no unconditioned Deny of it on every resource)."""
        found = self._boundary(principal_arn)
        if found is None:
            return True
        doc, _ = found
        if resource is not None:
            allows, denied = doc._evaluate((action.lower(), resource), action, resource)
            return bool(allows) and not denied
        covering = [s for s in doc.statements if s.matches_action(action)]
        if any(s.effect == "Deny" and not s.has_condition and s.matches_resource("*") and "*" in s.resources
               for s in covering):
            return False
        return any(s.effect == "Allow" for s in covering)

    def allowed(self, principal_arn: str, action: str, resource: str = "*") -> list[Grant]:
        """The Allow grants letting the principal perform ``action`` on ``resource``; empty when denied.

        ``action`` should be concrete (e.g. "eks:DeleteCluster"). ``resource`` "*" asks about every
        resource: only statements whose Resource patterns match "*" (or NotResource statements) apply,
        and a Deny with NotResource does not cancel, since it leaves some resources allowed. An explicit
        Deny without Condition overrides every Allow; a Deny with a Condition does not (it cannot be
        proven to apply), and an Allow with a Condition is still reported. When the principal has a
        permissions boundary, the boundary must allow the same action on the same resource too.
        """
        return self._allowed(self._plan(principal_arn), self._boundary(principal_arn),
                             (action.lower(), resource), action, resource)

    @staticmethod
    def _allowed(plan: tuple[tuple[_Document, tuple[Grant, ...]], ...],
                 boundary: tuple[_Document, tuple[Grant, ...]] | None, key: tuple[str, str],
                 action: str, resource: str) -> list[Grant]:
        """The hot loop of who_can: memo lookups per shared document, regexes only on a miss."""
        out: list[Grant] = []
        for doc, grants in plan:
            hit = doc._memo.get(key)
            allows, denied = hit if hit is not None else doc._evaluate(key, action, resource)
            if denied:
                return []
            for i in allows:
                out.append(grants[i])
        if out and boundary is not None:
            doc = boundary[0]
            hit = doc._memo.get(key)
            allows, denied = hit if hit is not None else doc._evaluate(key, action, resource)
            if denied or not allows:
                return []  # outside the boundary: identity policies alone grant nothing
        return out

    def who_can(self, action: str, resource: str = "*") -> dict[str, list[Grant]]:
        """Principal ARN -> allowing grants, for every principal (groups included) that is allowed."""
        out: dict[str, list[Grant]] = {}
        key = (action.lower(), resource)
        for arn in self._principals:
            found = self._allowed(self._plan(arn), self._boundary(arn), key, action, resource)
            if found:
                out[arn] = found
        return out

    def matching_actions(self, principal_arn: str, pattern_actions: Iterable[str],
                         resource: str = "*") -> dict[str, list[Grant]]:
        """Which of the given concrete actions the principal is allowed on ``resource`` (by default on every
        resource), within its boundary, and by which identity-policy grants."""
        return _per_action(pattern_actions, lambda action: self.allowed(principal_arn, action, resource))

    def allowed_on_some(self, principal_arn: str, action: str) -> list[Grant]:
        """The Allow grants letting the principal perform ``action`` on at least some resource (any Resource,
        not only "*"); empty when an unconditioned Deny on every resource cancels them or the permissions
        boundary does not let the action through. Where ``allowed(arn, action, "*")`` proves access to every
        resource, this proves access to some: what a principal should not hold at all (a node role with
        write access to some repositories, say)."""
        if not self.boundary_permits(principal_arn, action):
            return []
        grants = self.grants(principal_arn)
        if not self.allowed(principal_arn, action, "*") and any(
                g.effect == "Deny" and not g.has_condition and g.covers(action) and "*" in g.resources
                for g in grants):
            return []
        return [g for g in grants if g.effect == "Allow" and g.covers(action)]

    def matching_actions_on_some(self, principal_arn: str, actions: Iterable[str]) -> dict[str, list[Grant]]:
        """Which of the given concrete actions the principal is allowed on at least some resource
        (``allowed_on_some``), and by which grants."""
        return _per_action(actions, lambda action: self.allowed_on_some(principal_arn, action))

    def caveat(self, principal_arn: str, *, granted: bool) -> str:
        """What bounds a verdict about the principal's permissions, as " (...)" to append to a reason ("" when
        nothing does). A verdict that access is granted names the permissions boundary that capped it and the
        policies a member account cannot read (NOT_READABLE); a verdict that it is not names only the
        boundary."""
        notes = [n for n in (self.boundary_note(principal_arn), NOT_READABLE if granted else "") if n]
        return f" ({'; '.join(notes)})" if notes else ""


# SCPs, resource control policies and session policies only take permissions away: they could make a granted
# permission not granted, never the reverse, and none of them is readable from a member account.
NOT_READABLE = "SCPs and session policies could narrow this but are not readable from a member account"


def _per_action(actions: Iterable[str], grants_of: Callable[[str], list[Grant]]) -> dict[str, list[Grant]]:
    """action -> its grants, for the actions that have any, in the order given."""
    out: dict[str, list[Grant]] = {}
    for action in actions:
        found = grants_of(action)
        if found:
            out[action] = found
    return out


def describe_grant(grant: Grant) -> str:
    """A reader's label for the statement behind a grant: which policy, attached how, and what it says."""
    where = {"inline": "inline policy", "managed": "managed policy"}.get(grant.source.rsplit("/", 1)[-1], "policy")
    via = f" via group {grant.source.split('/', 1)[0].split(':', 1)[1]}" if grant.source.startswith("group:") else ""
    what = (f"NotAction {','.join(grant.not_actions)}" if grant.not_actions else f"Action {','.join(grant.actions)}")
    on = f"NotResource {','.join(grant.not_resources)}" if grant.not_resources else f"Resource {','.join(grant.resources)}"
    sid = f" statement {grant.sid}" if grant.sid else ""
    cond = " (with a Condition)" if grant.has_condition else ""
    return f"{where} {grant.policy_name}{via}{sid}: {grant.effect} {what} on {on}{cond}"


def describe_grants(found: dict[str, list[Grant]]) -> str:
    """Which statements grant the actions (as ``matching_actions`` gives them), each with the actions it
    grants: the first four, and how many more."""
    per: dict[str, list[str]] = {}
    for action, grants in found.items():
        for g in grants:
            per.setdefault(describe_grant(g), []).append(action.split(":", 1)[1])
    parts = []
    for label, actions in per.items():
        shown = ", ".join(actions[:4]) + (f" and {len(actions) - 4} more" if len(actions) > 4 else "")
        parts.append(f"{label} [{shown}]")
    return "; ".join(parts)


def example_actions(actions: list[str]) -> str:
    """Up to three of the actions to quote in a reason: the telling EKS ones (EKS_EXAMPLES) when present."""
    first = [a for a in EKS_EXAMPLES if a in actions] or actions[:3]
    return ", ".join(first[:3])

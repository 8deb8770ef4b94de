"""Table tests for IAM policy evaluation: small hand-built GAAD snapshots, no AWS."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from eksaudit.policy import (
    ECR_WRITE,
    EKS_ALL,
    EKS_WRITE,
    NOT_READABLE,
    AuthorizationDetails,
    Grant,
    action_matches,
    admits_web_identity,
    describe_grant,
    describe_grants,
    example_actions,
    expand,
    is_write_action,
    parse_document,
    resource_matches,
    service_actions,
    statements,
    trust_guards,
    trust_principals,
    trusts_service,
    whole_account_principals,
)

ACCOUNT = "123456789012"
CLUSTER = f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod"
OTHER_CLUSTER = f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/dev"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/subject"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
GROUP_ARN = f"arn:aws:iam::{ACCOUNT}:group/admins"
TRUST_EC2 = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def doc(*stmts: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def managed(name: str, *versions: tuple[str, bool, dict | str]) -> dict:
    """A Policies entry; versions are (VersionId, IsDefaultVersion, document)."""
    default = next(v for v, is_default, _ in versions if is_default)
    return {"PolicyName": name, "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}", "Path": "/",
            "DefaultVersionId": default,
            "PolicyVersionList": [{"VersionId": v, "IsDefaultVersion": d, "Document": body}
                                  for v, d, body in versions]}


def attach(name: str) -> dict:
    return {"PolicyName": name, "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/{name}"}


def role_gaad(inline: list[dict | str] | None = None, attached: list[str] | None = None,
              policies: list[dict] | None = None, path: str = "/") -> dict:
    """A GAAD with one role carrying the given inline documents and managed attachments."""
    role = {"RoleName": "subject", "Arn": ROLE_ARN, "Path": path, "AssumeRolePolicyDocument": TRUST_EC2,
            "RolePolicyList": [{"PolicyName": f"inline{i}", "PolicyDocument": d}
                               for i, d in enumerate(inline or [])],
            "AttachedManagedPolicies": [attach(n) for n in attached or []]}
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [role], "Policies": policies or []}


# ---- wildcard matching -------------------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("eks:DeleteCluster", "eks:DeleteCluster", True),
    ("eks:DeleteCluster", "eks:DeleteNodegroup", False),
    ("eks:*", "eks:DeleteCluster", True),
    ("eks:*", "ecr:GetAuthorizationToken", False),
    ("*", "eks:DeleteCluster", True),
    ("eks:Delete*", "eks:DeleteCluster", True),
    ("eks:Delete*", "eks:DescribeCluster", False),
    ("eks:?escribeCluster", "eks:DescribeCluster", True),
    ("eks:?escribeCluster", "eks:XXescribeCluster", False),
    ("EKS:describecluster", "eks:DescribeCluster", True),
    ("eks:DescribeCluster", "EKS:DESCRIBECLUSTER", True),
    ("eks:*Cluster", "eks:DescribeCluster", True),
    ("eks:Describe", "eks:DescribeCluster", False),
    ("eks:Desc.ibeCluster", "eks:DescribeCluster", False),  # regex metacharacters are literal
])
def test_action_matches(pattern, action, expected):
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(("pattern", "resource", "expected"), [
    ("*", CLUSTER, True),
    (CLUSTER, CLUSTER, True),
    (CLUSTER, OTHER_CLUSTER, False),
    ("arn:aws:eks:*:*:cluster/*", CLUSTER, True),
    ("arn:aws:eks:*:*:cluster/pro?", CLUSTER, True),
    ("arn:aws:eks:*:*:cluster/PROD", CLUSTER, False),  # resources are case-sensitive
    (CLUSTER, "*", False),
])
def test_resource_matches(pattern, resource, expected):
    assert resource_matches(pattern, resource) is expected


# ---- single-role evaluation --------------------------------------------------------------------------

DELETE = "eks:DeleteCluster"
DESCRIBE = "eks:DescribeCluster"


@pytest.mark.parametrize(("case", "inline", "action", "resource", "n_allowed"), [
    ("exact action", [doc(allow(DELETE))], DELETE, "*", 1),
    ("exact action, other action", [doc(allow(DELETE))], DESCRIBE, "*", 0),
    ("service wildcard", [doc(allow("eks:*"))], DELETE, "*", 1),
    ("global wildcard", [doc(allow("*"))], DELETE, CLUSTER, 1),
    ("prefix wildcard", [doc(allow("eks:Delete*"))], DELETE, "*", 1),
    ("prefix wildcard, no match", [doc(allow("eks:Delete*"))], DESCRIBE, "*", 0),
    ("single char wildcard", [doc(allow("eks:?escribeCluster"))], DESCRIBE, "*", 1),
    ("case-insensitive", [doc(allow("EKS:deletecluster"))], DELETE, "*", 1),
    ("action list", [doc(allow(["ecr:*", "eks:DeleteCluster"]))], DELETE, "*", 1),
    ("statement as a dict", [{"Version": "2012-10-17", "Statement": allow(DELETE)}], DELETE, "*", 1),
    ("NotAction allows the rest", [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
     DELETE, "*", 1),
    ("NotAction excludes its own", [doc({"Effect": "Allow", "NotAction": ["iam:*", "eks:*"], "Resource": "*"})],
     DELETE, "*", 0),
    ("Deny overrides Allow, same policy", [doc(allow("eks:*"), deny(DELETE))], DELETE, "*", 0),
    ("Deny overrides Allow, other policy", [doc(allow("eks:*")), doc(deny("eks:Delete*"))], DELETE, "*", 0),
    ("Deny of another action leaves Allow", [doc(allow("eks:*"), deny(DELETE))], DESCRIBE, "*", 1),
    ("Deny via NotAction", [doc(allow("*"), {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"})],
     DELETE, "*", 0),
    ("conditioned Deny does not cancel",
     [doc(allow("eks:*"), deny(DELETE, Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}))],
     DELETE, "*", 1),
    ("conditioned Allow still counts",
     [doc(allow(DELETE, Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))], DELETE, "*", 1),
    ("two allowing policies", [doc(allow("eks:*")), doc(allow(DELETE))], DELETE, "*", 2),
    ("Resource * covers a specific ARN", [doc(allow(DELETE, "*"))], DELETE, CLUSTER, 1),
    ("specific ARN matches itself", [doc(allow(DELETE, CLUSTER))], DELETE, CLUSTER, 1),
    ("specific ARN does not match another", [doc(allow(DELETE, CLUSTER))], DELETE, OTHER_CLUSTER, 0),
    ("specific ARN does not cover every resource", [doc(allow(DELETE, CLUSTER))], DELETE, "*", 0),
    ("Deny on one ARN leaves the others", [doc(allow(DELETE), deny(DELETE, CLUSTER))], DELETE, OTHER_CLUSTER, 1),
    ("Deny on one ARN denies it", [doc(allow(DELETE), deny(DELETE, CLUSTER))], DELETE, CLUSTER, 0),
    ("NotResource Allow, outside", [doc({"Effect": "Allow", "Action": DELETE, "NotResource": CLUSTER})],
     DELETE, OTHER_CLUSTER, 1),
    ("NotResource Allow, excluded", [doc({"Effect": "Allow", "Action": DELETE, "NotResource": CLUSTER})],
     DELETE, CLUSTER, 0),
    ("NotResource Deny, covered", [doc(allow(DELETE), {"Effect": "Deny", "Action": DELETE, "NotResource": CLUSTER})],
     DELETE, OTHER_CLUSTER, 0),
    ("NotResource Deny, exempt", [doc(allow(DELETE), {"Effect": "Deny", "Action": DELETE, "NotResource": CLUSTER})],
     DELETE, CLUSTER, 1),
    ("NotResource Deny does not cover *",
     [doc(allow(DELETE), {"Effect": "Deny", "Action": DELETE, "NotResource": CLUSTER})], DELETE, "*", 1),
    ("URL-encoded inline document", [quote(json.dumps(doc(allow("eks:*"))))], DELETE, "*", 1),
    ("plain JSON string document", [json.dumps(doc(allow("eks:*")))], DELETE, "*", 1),
])
def test_allowed_inline(case, inline, action, resource, n_allowed):
    details = AuthorizationDetails(role_gaad(inline=inline))
    found = details.allowed(ROLE_ARN, action, resource)
    assert len(found) == n_allowed, case
    assert all(g.effect == "Allow" and g.source == "inline" for g in found)


def test_grant_fields():
    stmt = allow("eks:*", Sid="EksAll", Condition={"Bool": {"aws:SecureTransport": "true"}})
    details = AuthorizationDetails(role_gaad(inline=[doc(stmt, {"Effect": "Deny", "NotAction": "eks:*",
                                                                "NotResource": CLUSTER})]))
    first, second = details.grants(ROLE_ARN)
    assert first == Grant(principal_arn=ROLE_ARN, principal_type="role", principal_name="subject",
                          policy_name="inline0", policy_arn="", source="inline", sid="EksAll", effect="Allow",
                          actions=("eks:*",), not_actions=(), resources=("*",), not_resources=(),
                          has_condition=True, statement=stmt)
    assert first.statement is stmt
    assert (second.effect, second.actions, second.not_actions, second.not_resources, second.has_condition) == (
        "Deny", (), ("eks:*",), (CLUSTER,), False)
    assert len({first, second}) == 2  # hashable despite the raw statement dict


# ---- managed policies and groups ---------------------------------------------------------------------

@pytest.mark.parametrize(("case", "versions", "n_allowed"), [
    ("default version grants", [("v1", True, doc(allow("eks:*")))], 1),
    ("non-default v1 does not grant", [("v1", False, doc(allow("eks:*"))), ("v2", True, doc(allow("ecr:*")))], 0),
    ("default v2 grants, v1 does not", [("v1", False, doc(allow("ecr:*"))), ("v2", True, doc(allow("eks:*")))], 1),
    ("URL-encoded managed document", [("v3", True, quote(json.dumps(doc(allow(DELETE)))))], 1),
])
def test_managed_policy_versions(case, versions, n_allowed):
    gaad = role_gaad(attached=["Managed"], policies=[managed("Managed", *versions)])
    found = AuthorizationDetails(gaad).allowed(ROLE_ARN, DELETE)
    assert len(found) == n_allowed, case
    for g in found:
        assert (g.source, g.policy_name, g.policy_arn) == (
            "managed", "Managed", f"arn:aws:iam::{ACCOUNT}:policy/Managed")


def test_attached_policy_missing_from_snapshot_grants_nothing():
    assert AuthorizationDetails(role_gaad(attached=["Unknown"])).grants(ROLE_ARN) == []


def group_gaad() -> dict:
    group = {"GroupName": "admins", "Arn": GROUP_ARN, "Path": "/",
             "GroupPolicyList": [{"PolicyName": "group-inline", "PolicyDocument": doc(allow(DELETE))}],
             "AttachedManagedPolicies": [attach("GroupManaged")]}
    user = {"UserName": "alice", "Arn": USER_ARN, "Path": "/", "GroupList": ["admins"],
            "UserPolicyList": [{"PolicyName": "user-inline", "PolicyDocument": doc(allow("ecr:*"))}],
            "AttachedManagedPolicies": []}
    loner = {"UserName": "bob", "Arn": f"arn:aws:iam::{ACCOUNT}:user/bob", "Path": "/", "GroupList": [],
             "UserPolicyList": [], "AttachedManagedPolicies": []}
    return {"UserDetailList": [user, loner], "GroupDetailList": [group], "RoleDetailList": [],
            "Policies": [managed("GroupManaged", ("v1", True, doc(allow("eks:Describe*"))))]}


@pytest.mark.parametrize(("action", "sources"), [
    (DELETE, [("group:admins/inline", "group-inline")]),
    (DESCRIBE, [("group:admins/managed", "GroupManaged")]),
    ("ecr:BatchGetImage", [("inline", "user-inline")]),
    ("iam:CreateUser", []),
])
def test_group_inheritance(action, sources):
    details = AuthorizationDetails(group_gaad())
    assert [(g.source, g.policy_name) for g in details.allowed(USER_ARN, action)] == sources
    assert all(g.principal_arn == USER_ARN and g.principal_type == "user" for g in details.grants(USER_ARN))


def test_group_deny_cancels_user_allow():
    gaad = group_gaad()
    gaad["GroupDetailList"][0]["GroupPolicyList"].append(
        {"PolicyName": "guard", "PolicyDocument": doc(deny("ecr:*"))})
    assert AuthorizationDetails(gaad).allowed(USER_ARN, "ecr:BatchGetImage") == []


def test_who_can_and_matching_actions():
    details = AuthorizationDetails(group_gaad())
    who = details.who_can(DELETE)
    assert set(who) == {USER_ARN, GROUP_ARN}
    assert who[GROUP_ARN][0].source == "inline"  # a group's own policies, seen from the group
    allowed = details.matching_actions(USER_ARN, service_actions("eks"))
    assert DELETE in allowed and DESCRIBE in allowed and "eks:CreateCluster" not in allowed
    assert details.matching_actions(f"arn:aws:iam::{ACCOUNT}:user/bob", [DELETE]) == {}


def test_unknown_principal():
    with pytest.raises(KeyError, match="unknown principal"):
        AuthorizationDetails(group_gaad()).allowed("arn:aws:iam::000000000000:role/nope", DELETE)


# ---- principals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "service_linked"), [
    ("/", False),
    ("/aws-service-role/eks.amazonaws.com/", True),
    ("/team/aws-service-role/", False),
])
def test_service_linked_role(path, service_linked):
    (p,) = AuthorizationDetails(role_gaad(path=path)).principals()
    assert (p["arn"], p["type"], p["name"], p["path"]) == (ROLE_ARN, "role", "subject", path)
    assert p["service_linked"] is service_linked
    assert p["trust"] == TRUST_EC2 and p["raw"]["RoleName"] == "subject"


def test_principals_lists_users_roles_groups():
    gaad = group_gaad()
    gaad["RoleDetailList"] = role_gaad()["RoleDetailList"]
    kinds = {p["arn"]: (p["type"], p["trust"], p["service_linked"])
             for p in AuthorizationDetails(gaad).principals()}
    assert kinds[USER_ARN] == ("user", None, False)
    assert kinds[GROUP_ARN] == ("group", None, False)
    assert kinds[ROLE_ARN] == ("role", TRUST_EC2, False)


# ---- trust policies ------------------------------------------------------------------------------------

def trust(principal, condition=None, effect="Allow") -> dict:
    stmt = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return doc(stmt)


EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "s3cr3t"}}


@pytest.mark.parametrize(("document", "expected"), [
    (trust("*"), [("*", "*", "*", {})]),
    (trust({"AWS": "*"}), [("AWS", "*", "*", {})]),
    (trust({"AWS": "210987654321"}), [("AWS", "210987654321", "210987654321", {})]),
    (trust({"AWS": "arn:aws:iam::210987654321:root"}), [("AWS", "arn:aws:iam::210987654321:root", "210987654321", {})]),
    (trust({"AWS": ["arn:aws:iam::210987654321:role/x", "AROAEXAMPLEID"]}),
     [("AWS", "arn:aws:iam::210987654321:role/x", "210987654321", {}), ("AWS", "AROAEXAMPLEID", "", {})]),
    (trust({"Service": "eks.amazonaws.com"}), [("Service", "eks.amazonaws.com", "", {})]),
    (trust({"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"}),
     [("Federated", f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC", ACCOUNT, {})]),
    (trust({"AWS": "arn:aws:iam::210987654321:root"}, EXTERNAL_ID),
     [("AWS", "arn:aws:iam::210987654321:root", "210987654321", EXTERNAL_ID)]),
    (trust({"AWS": "*"}, effect="Deny"), []),
    (quote(json.dumps(trust({"Service": "ec2.amazonaws.com"}))), [("Service", "ec2.amazonaws.com", "", {})]),
])
def test_trust_principals(document, expected):
    found = trust_principals(document)
    assert [(t["type"], t["value"], t["account"], t["conditions"]) for t in found] == expected
    assert all(t["actions"] == ["sts:AssumeRole"] for t in found)


# ---- service actions -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("prefix", "present"), [
    ("eks", ["eks:DeleteCluster", "eks:DescribeCluster", "eks:CreateNodegroup"]),
    ("ecr", ["ecr:GetAuthorizationToken"]),
    ("elasticloadbalancing", ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"]),
])
def test_service_actions(prefix, present):
    actions = service_actions(prefix)
    assert set(present) <= set(actions)
    assert actions == sorted(actions) and all(a.startswith(prefix + ":") for a in actions)


def test_service_actions_unknown_service():
    with pytest.raises(ValueError, match="no botocore service model"):
        service_actions("not-a-real-service")


@pytest.mark.parametrize(("patterns", "included", "excluded"), [
    (["eks:Delete*"], ["eks:DeleteCluster", "eks:DeleteNodegroup"], ["eks:DescribeCluster"]),
    (["EKS:describe*", "eks:ListClusters"], ["eks:DescribeCluster", "eks:ListClusters"], ["eks:ListNodegroups"]),
    (["ecr:*"], [], ["eks:DeleteCluster"]),
])
def test_expand(patterns, included, excluded):
    actions = expand(patterns, "eks")
    assert set(included) <= set(actions)
    assert not set(excluded) & set(actions)


@pytest.mark.parametrize(("action", "write"), [
    ("eks:DescribeCluster", False),
    ("eks:ListClusters", False),
    ("ecr:BatchGetImage", False),
    ("dynamodb:Query", False),
    ("dynamodb:Scan", False),
    ("s3:SelectObjectContent", False),
    ("cloudtrail:LookupEvents", False),
    ("eks:DeleteCluster", True),
    ("eks:UpdateClusterConfig", True),
    ("eks:*", True),
])
def test_is_write_action(action, write):
    assert is_write_action(action) is write


# ---- documents -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    "{not json",
    quote("{not json"),
    "[1, 2]",
    42,
    doc("not a statement"),
    {"Statement": "nope"},
])
def test_malformed_document_raises(bad):
    with pytest.raises(ValueError, match="policy"):
        statements(parse_document(bad)) if isinstance(bad, dict) else parse_document(bad)


@pytest.mark.parametrize("bad_doc", [
    doc({"Effect": "Maybe", "Action": "*", "Resource": "*"}),
    doc({"Effect": "Allow", "Action": 7, "Resource": "*"}),
    "%7Bbroken",
])
def test_malformed_policy_in_snapshot_names_it(bad_doc):
    details = AuthorizationDetails(role_gaad(inline=[bad_doc]))
    with pytest.raises(ValueError, match=f"inline policy inline0 of {ROLE_ARN}"):
        details.grants(ROLE_ARN)


@pytest.mark.parametrize(("document", "count"), [
    ({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}, 1),
    (doc(allow("a"), allow("b")), 2),
    ({"Version": "2012-10-17"}, 0),
    (quote(json.dumps(doc(allow("a")))), 1),
])
def test_statements(document, count):
    assert len(statements(document)) == count


def test_parse_document_keeps_literal_percent_in_plain_json():
    text = json.dumps(doc(allow("s3:GetObject", "arn:aws:s3:::b/100%25")))
    assert statements(parse_document(text))[0]["Resource"] == "arn:aws:s3:::b/100%25"


def test_identical_documents_are_shared_but_grants_stay_per_principal():
    gaad = role_gaad(inline=[doc(allow(DELETE))])
    twin = dict(gaad["RoleDetailList"][0], RoleName="twin", Arn=f"arn:aws:iam::{ACCOUNT}:role/twin")
    gaad["RoleDetailList"].append(twin)
    who = AuthorizationDetails(gaad).who_can(DELETE)
    assert {arn: [g.principal_name for g in grants] for arn, grants in who.items()} == {
        ROLE_ARN: ["subject"], twin["Arn"]: ["twin"]}


def test_describe_grant_names_policy_group_and_statement():
    details = AuthorizationDetails(group_gaad())
    (grant,) = details.allowed(USER_ARN, DELETE)
    assert describe_grant(grant) == "inline policy group-inline via group admins: Allow Action eks:DeleteCluster on Resource *"
    stmt = {"Sid": "Most", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
    (grant,) = AuthorizationDetails(role_gaad(inline=[doc(stmt)])).allowed(ROLE_ARN, DELETE)
    assert describe_grant(grant) == ("inline policy inline0 statement Most: Allow NotAction iam:* on Resource * "
                                     "(with a Condition)")


# ---- permissions boundaries ---------------------------------------------------------------------------

S3_ONLY = managed("s3-only-boundary", ("v1", True, doc(allow("s3:*"))))
ADMIN = managed("admin", ("v1", True, doc(allow("*"))))


def bounded(boundary: str | None, *, user: bool = False, policies: list[dict] | None = None,
            inline: list[dict] | None = None) -> AuthorizationDetails:
    """An administrator (managed policy admin) with an optional permissions boundary."""
    gaad = role_gaad(inline=inline, attached=["admin"], policies=policies or [ADMIN, S3_ONLY])
    principal = gaad["RoleDetailList"][0]
    if user:
        principal = {"UserName": "alice", "Arn": USER_ARN, "Path": "/", "GroupList": [], "UserPolicyList": [],
                     "AttachedManagedPolicies": principal["AttachedManagedPolicies"]}
        gaad.update(UserDetailList=[principal], RoleDetailList=[])
    if boundary:
        principal["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                            "PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/{boundary}"}
    return AuthorizationDetails(gaad)


@pytest.mark.parametrize("user", [False, True], ids=["role", "user"])
def test_admin_capped_by_s3_only_boundary_cannot_delete_clusters(user):
    arn = USER_ARN if user else ROLE_ARN
    capped = bounded("s3-only-boundary", user=user)
    assert capped.allowed(arn, "eks:DeleteCluster") == []
    assert capped.allowed(arn, "eks:DeleteCluster", CLUSTER) == []
    assert arn not in capped.who_can("eks:DeleteCluster")
    assert capped.matching_actions(arn, ["eks:DeleteCluster", "s3:GetObject"]).keys() == {"s3:GetObject"}
    assert capped.boundary_note(arn) == "capped by permissions boundary s3-only-boundary"
    assert not capped.boundary_permits(arn, "eks:DeleteCluster")
    assert capped.boundary_permits(arn, "s3:PutObject")
    # the same administrator without a boundary may
    free = bounded(None, user=user)
    assert free.allowed(arn, "eks:DeleteCluster") and arn in free.who_can("eks:DeleteCluster")
    assert free.boundary_note(arn) == "" and free.boundary_permits(arn, "eks:DeleteCluster")


def test_boundary_grants_nothing_on_its_own():
    """Effective = identity AND boundary: a broad boundary over a narrow identity policy adds nothing."""
    gaad = role_gaad(inline=[doc(allow("s3:GetObject"))], policies=[ADMIN])
    gaad["RoleDetailList"][0]["PermissionsBoundary"] = {"PermissionsBoundaryArn": ADMIN["Arn"]}
    auth = AuthorizationDetails(gaad)
    assert auth.allowed(ROLE_ARN, "s3:GetObject")
    assert auth.allowed(ROLE_ARN, "eks:DeleteCluster") == []
    [g] = auth.boundary_grants(ROLE_ARN)
    assert g.source == "boundary" and g.policy_name == "admin"
    assert all(x.source != "boundary" for x in auth.grants(ROLE_ARN))


def test_boundary_resource_scope_and_explicit_deny():
    one_cluster = managed("one-cluster", ("v1", True, doc(allow("eks:*", CLUSTER))))
    no_delete = managed("no-delete", ("v1", True, doc(allow("*"), deny("eks:DeleteCluster"))))
    auth = bounded("one-cluster", policies=[ADMIN, one_cluster])
    assert auth.allowed(ROLE_ARN, "eks:DeleteCluster", CLUSTER)
    assert auth.allowed(ROLE_ARN, "eks:DeleteCluster", OTHER_CLUSTER) == []
    assert auth.allowed(ROLE_ARN, "eks:DeleteCluster") == []  # not on every cluster
    assert auth.boundary_permits(ROLE_ARN, "eks:DeleteCluster")  # on some
    denied = bounded("no-delete", policies=[ADMIN, no_delete])
    assert denied.allowed(ROLE_ARN, "eks:DeleteCluster", CLUSTER) == []  # a Deny in the boundary wins
    assert not denied.boundary_permits(ROLE_ARN, "eks:DeleteCluster")
    assert denied.allowed(ROLE_ARN, "eks:CreateCluster")


def test_boundary_missing_from_snapshot_is_named_not_applied():
    auth = bounded("not-in-gaad")
    assert auth.allowed(ROLE_ARN, "eks:DeleteCluster"), "an unknown boundary cannot be shown to cap anything"
    assert "not-in-gaad is not in the IAM snapshot" in auth.boundary_note(ROLE_ARN)


def test_boundary_caps_group_policies_of_a_user():
    gaad = {"UserDetailList": [{"UserName": "alice", "Arn": USER_ARN, "Path": "/", "GroupList": ["admins"],
                                "UserPolicyList": [], "AttachedManagedPolicies": [],
                                "PermissionsBoundary": {"PermissionsBoundaryArn": S3_ONLY["Arn"]}}],
            "GroupDetailList": [{"GroupName": "admins", "Arn": GROUP_ARN, "Path": "/", "GroupPolicyList": [],
                                 "AttachedManagedPolicies": [attach("admin")]}],
            "RoleDetailList": [], "Policies": [ADMIN, S3_ONLY]}
    auth = AuthorizationDetails(gaad)
    assert auth.allowed(USER_ARN, "eks:DeleteCluster") == []
    assert auth.allowed(GROUP_ARN, "eks:DeleteCluster"), "the group itself has no boundary"


# ---- access on some resource, and the words for it -------------------------------------------------------

def test_allowed_on_some_resource_versus_on_every_resource():
    auth = AuthorizationDetails(role_gaad(inline=[doc(allow("eks:DeleteCluster", CLUSTER))]))
    assert auth.allowed(ROLE_ARN, DELETE) == []  # not on every cluster
    (grant,) = auth.allowed_on_some(ROLE_ARN, DELETE)
    assert grant.resources == (CLUSTER,) and grant.covers(DELETE) and not grant.covers(DESCRIBE)
    assert auth.matching_actions_on_some(ROLE_ARN, [DELETE, DESCRIBE]).keys() == {DELETE}
    assert auth.matching_actions(ROLE_ARN, [DELETE, DESCRIBE]) == {}


@pytest.mark.parametrize(("statements_", "on_some"), [
    ([allow("eks:*", CLUSTER), deny("eks:DeleteCluster")], False),  # an unconditioned Deny on * cancels it
    ([allow("eks:*", CLUSTER), deny("eks:DeleteCluster", OTHER_CLUSTER)], True),  # a Deny elsewhere does not
    ([allow("eks:*", CLUSTER), deny("eks:DeleteCluster", Condition={"Bool": {"aws:SecureTransport": "false"}})],
     True),  # nor does a Deny that may not apply
    ([{"Effect": "Allow", "NotAction": "eks:Delete*", "Resource": CLUSTER}], False),
    ([{"Effect": "Allow", "NotAction": "iam:*", "Resource": CLUSTER}], True),
])
def test_allowed_on_some_deny_and_not_action(statements_, on_some):
    auth = AuthorizationDetails(role_gaad(inline=[doc(*statements_)]))
    assert bool(auth.allowed_on_some(ROLE_ARN, DELETE)) is on_some


def test_allowed_on_some_stays_within_the_boundary():
    capped = bounded("s3-only-boundary")
    assert capped.allowed_on_some(ROLE_ARN, DELETE) == []
    assert capped.allowed_on_some(ROLE_ARN, "s3:GetObject")


def test_role_and_principals_without_service_linked_roles():
    gaad = group_gaad()
    gaad["RoleDetailList"] = role_gaad(path="/aws-service-role/eks.amazonaws.com/")["RoleDetailList"]
    auth = AuthorizationDetails(gaad)
    assert auth.role(ROLE_ARN)["name"] == "subject"
    assert auth.role(USER_ARN) is None and auth.role("arn:aws:iam::000000000000:role/nope") is None
    assert ROLE_ARN in {p["arn"] for p in auth.principals()}
    assert {p["arn"] for p in auth.principals()} - {p["arn"] for p in auth.principals(service_linked=False)} == {
        ROLE_ARN}


def test_caveat_names_the_boundary_and_what_cannot_be_read():
    capped, free = bounded("s3-only-boundary"), bounded(None)
    assert capped.caveat(ROLE_ARN, granted=False) == " (capped by permissions boundary s3-only-boundary)"
    assert capped.caveat(ROLE_ARN, granted=True) == (f" (capped by permissions boundary s3-only-boundary; "
                                                     f"{NOT_READABLE})")
    assert free.caveat(ROLE_ARN, granted=False) == ""
    assert free.caveat(ROLE_ARN, granted=True) == f" ({NOT_READABLE})"


def test_describe_grants_groups_actions_by_statement():
    auth = AuthorizationDetails(role_gaad(inline=[doc(allow("eks:*"), allow("ecr:PutImage"))]))
    found = auth.matching_actions(ROLE_ARN, ["eks:CreateCluster", "eks:DeleteCluster", "eks:DeleteNodegroup",
                                             "eks:TagResource", "eks:UntagResource", "ecr:PutImage"])
    assert describe_grants(found) == (
        "inline policy inline0: Allow Action eks:* on Resource * [CreateCluster, DeleteCluster, DeleteNodegroup, "
        "TagResource and 1 more]; inline policy inline0: Allow Action ecr:PutImage on Resource * [PutImage]")


def test_example_actions_prefer_the_telling_eks_actions():
    assert example_actions(["eks:TagResource", "eks:DeleteCluster", "eks:CreateCluster"]) == \
        "eks:DeleteCluster, eks:CreateCluster"
    assert example_actions(["ecr:PutImage", "ecr:TagResource", "ecr:DeleteRepository", "ecr:CreateRepository"]) == \
        "ecr:PutImage, ecr:TagResource, ecr:DeleteRepository"


def test_audited_action_sets():
    assert "eks:DeleteCluster" in EKS_WRITE and "eks:DescribeCluster" not in EKS_WRITE
    assert set(EKS_WRITE) < set(EKS_ALL) and "eks:DescribeCluster" in EKS_ALL
    assert "ecr:PutImage" in ECR_WRITE
    assert not {"ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"} & set(ECR_WRITE)


# ---- who a trust policy lets in -----------------------------------------------------------------------------

def test_trusts_service():
    assert trusts_service(TRUST_EC2, "ec2.amazonaws.com")
    assert not trusts_service(TRUST_EC2, "eks.amazonaws.com")
    assert not trusts_service(None, "ec2.amazonaws.com")


@pytest.mark.parametrize(("condition", "guards"), [
    (EXTERNAL_ID, ["sts:ExternalId"]),
    ({"StringEquals": {"sts:ExternalId": "*"}}, []),  # a wildcard value lets anyone in
    ({"StringNotEquals": {"sts:ExternalId": "x"}}, []),  # negated operators do not narrow
    ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, []),  # true when the key is absent
    ({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-1"}}, ["aws:PrincipalOrgID"]),
    ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, ["aws:MultiFactorAuthPresent"]),
    ({"Bool": {"aws:MultiFactorAuthPresent": "false"}}, []),
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, ["aws:MultiFactorAuthAge"]),
    ({"StringEquals": {"aws:SourceIp": "10.0.0.1"}}, []),  # not a key that names the caller
])
def test_trust_guards(condition, guards):
    assert trust_guards(condition) == guards


def test_whole_account_principals():
    document = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": [
        "arn:aws:iam::210987654321:root", "210987654322", "arn:aws:iam::210987654323:role/ci",
        f"arn:aws:iam::{ACCOUNT}:root", "*"], "Service": "eks.amazonaws.com"}})
    assert [t["value"] for t in whole_account_principals(document, ACCOUNT)] == [
        "arn:aws:iam::210987654321:root", "210987654322", "*"]


PROVIDER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"


def irsa_trust(condition=None, action="sts:AssumeRoleWithWebIdentity") -> dict:
    stmt = {"Effect": "Allow", "Action": action,
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{PROVIDER}"}}
    if condition:
        stmt["Condition"] = condition
    return doc(stmt)


@pytest.mark.parametrize(("document", "admitted"), [
    (irsa_trust(), True),  # no sub condition: every service account of the cluster
    (irsa_trust({"StringEquals": {f"{PROVIDER}:sub": "system:serviceaccount:kube-system:ebs-csi"}}), True),
    (irsa_trust({"StringLike": {f"{PROVIDER}:sub": "system:serviceaccount:kube-system:*"}}), True),
    (irsa_trust({"StringEquals": {f"{PROVIDER}:sub": "system:serviceaccount:app:api"}}), False),
    (irsa_trust(action="sts:AssumeRole"), False),
    (trust({"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER"}),
     False),
])
def test_admits_web_identity(document, admitted):
    assert admits_web_identity(document, PROVIDER, "system:serviceaccount:kube-system:ebs-csi") is admitted

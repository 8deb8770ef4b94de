"""IAM checks: PASS, FAIL and ERROR fixtures per check."""

from __future__ import annotations

from eksaudit.testing import EvidenceBuilder, assert_error, findings_for, pod


def _ev(tmp_path, pods, broken=None):
    b = EvidenceBuilder(tmp_path)
    k8s = {"pods": pods}
    b.cluster("c1", k8s=k8s)
    if broken:
        b.k8s_error("c1", broken)
    return b.build()


def status_of(f, resource):
    rows = f[f["resource_id"].str.contains(resource, regex=False)]
    assert not rows.empty, f"no finding for {resource}: {f[['resource_id', 'status']].to_string()}"
    return set(rows["status"])


# IAM-06
def test_iam06_pass_own_service_account(tmp_path):
    f = findings_for("IAM-06", _ev(tmp_path, [pod("a", sa="a-sa"), pod("b", sa="b-sa")]))
    assert set(f["status"]) == {"PASS"}


def test_iam06_fail_default_and_shared(tmp_path):
    pods = [pod("a"), pod("b", sa="shared", labels={"app": "b"}), pod("c", sa="shared", labels={"app": "c"})]
    f = findings_for("IAM-06", _ev(tmp_path, pods))
    assert status_of(f, "app/Pod/a") == {"FAIL"}
    assert f[f["resource_id"] == "app/Pod/b"]["reason"].str.contains("shares service account shared").all()


def test_iam06_replicas_of_one_app_may_share(tmp_path):
    pods = [pod("b-1", sa="b", labels={"app": "b"}), pod("b-2", sa="b", labels={"app": "b"})]
    assert set(findings_for("IAM-06", _ev(tmp_path, pods))["status"]) == {"PASS"}


def test_iam06_error_when_pods_unreadable(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c1")
    b.k8s_error("c1", "pods")
    assert_error(findings_for("IAM-06", b.build()), "k8s:pods access denied")


# IAM-07
def _c(name="main", **ctx):
    c = {"name": name, "image": "x"}
    if ctx:
        c["securityContext"] = ctx
    return c


def test_iam07_pass_pod_level_and_container_level(tmp_path):
    pods = [pod("a", containers=[_c()], security_context={"runAsNonRoot": True}),
            pod("b", containers=[_c(runAsUser=1000)])]
    assert set(findings_for("IAM-07", _ev(tmp_path, pods))["status"]) == {"PASS"}


def test_iam07_container_overrides_pod(tmp_path):
    pods = [pod("a", containers=[_c(runAsUser=0)], security_context={"runAsNonRoot": True, "runAsUser": 1000})]
    f = findings_for("IAM-07", _ev(tmp_path, pods))
    assert set(f["status"]) == {"FAIL"} and "runAsUser is 0" in f["reason"].iloc[0]


def test_iam07_fail_unset_and_init_and_ephemeral(tmp_path):
    pods = [pod("a", containers=[_c()]),
            pod("b", containers=[_c(runAsUser=1)], init=[_c("init", runAsUser=0)]),
            pod("d", containers=[_c(runAsUser=1)], ephemeralContainers=[_c("debug")])]
    f = findings_for("IAM-07", _ev(tmp_path, pods))
    assert status_of(f, "app/Pod/a/container:main") == {"FAIL"}
    assert status_of(f, "app/Pod/b/init:init") == {"FAIL"}
    assert status_of(f, "app/Pod/d/ephemeral:debug") == {"FAIL"}
    assert status_of(f, "app/Pod/b/container:main") == {"PASS"}


def test_iam07_error_when_input_missing(tmp_path):
    f = findings_for("IAM-07", _ev(tmp_path, [pod("a", containers=[_c(runAsUser=5)])], broken="jobs"))
    assert_error(f, "k8s:jobs access denied")


# ---- IAM-01..05, 08..10: IAM snapshots built by hand -----------------------------------------------------

import json  # noqa: E402

import pytest  # noqa: E402

from eksaudit.testing import ACCOUNT, REGION, stubbed_evidence  # noqa: E402

GAAD_OP = "GetAccountAuthorizationDetails"
EC2_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
EKS_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _doc(*stmts):
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def _allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _arn(kind, name):
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def _user(name, *stmts, groups=()):
    return {"UserName": name, "Arn": _arn("user", name), "Path": "/", "GroupList": list(groups),
            "UserPolicyList": [{"PolicyName": f"{name}-inline", "PolicyDocument": _doc(*stmts)}] if stmts else [],
            "AttachedManagedPolicies": []}


def _role(name, *stmts, trust=EC2_TRUST, path="/"):
    return {"RoleName": name, "Arn": _arn("role", name), "Path": path, "AssumeRolePolicyDocument": trust,
            "RolePolicyList": [{"PolicyName": f"{name}-inline", "PolicyDocument": _doc(*stmts)}] if stmts else [],
            "AttachedManagedPolicies": []}


def _gaad(users=(), roles=(), groups=(), policies=()):
    return {"UserDetailList": list(users), "RoleDetailList": list(roles), "GroupDetailList": list(groups),
            "Policies": list(policies)}


def _iam(b, gaad, keys=None, login=None, mfa=None):
    """GAAD plus per-user reads: keys/login/mfa map user -> response (or "error")."""
    b.aws("iam", GAAD_OP, gaad, region="")
    for op, per in (("ListAccessKeys", keys), ("GetLoginProfile", login), ("ListMFADevices", mfa)):
        for user, resp in (per or {}).items():
            if resp == "error":
                b.aws_error("iam", op, region="", params={"UserName": user})
            else:
                b.aws("iam", op, resp, region="", params={"UserName": user})
    return b


def _key(created="2026-01-01T00:00:00Z", status="Active", kid="AKIAEXAMPLEKEY0001"):
    return {"AccessKeyMetadata": [{"UserName": "u", "AccessKeyId": kid, "Status": status, "CreateDate": created}]}


def rows_for(f, resource):
    rows = f[f["resource_id"].str.contains(resource, regex=False)]
    assert not rows.empty, f"no finding for {resource}: {f[['resource_id', 'status']].to_string()}"
    return rows


# IAM-01
def test_iam01_fail_names_statement_and_pass_scoped(tmp_path):
    cluster = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/c1"
    admin_group = {"GroupName": "admins", "Arn": _arn("group", "admins"), "Path": "/",
                   "GroupPolicyList": [], "AttachedManagedPolicies": [
                       {"PolicyName": "adm", "PolicyArn": _arn("policy", "adm")}]}
    adm = {"PolicyName": "adm", "Arn": _arn("policy", "adm"), "DefaultVersionId": "v2", "PolicyVersionList": [
        {"VersionId": "v1", "IsDefaultVersion": False, "Document": _doc(_allow("eks:Describe*"))},
        {"VersionId": "v2", "IsDefaultVersion": True, "Document": _doc(_allow("eks:Delete*", Sid="Deleter"))}]}
    gaad = _gaad(users=[_user("ci", _allow("eks:*", Sid="All")), _user("alice", groups=["admins"]),
                        _user("scoped", _allow("eks:UpdateNodegroupConfig", cluster), _allow("eks:Describe*")),
                        _user("notaction", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
                        _user("denied", _allow("eks:*"), {"Effect": "Deny", "Action": "eks:*", "Resource": "*"})],
                 groups=[admin_group], policies=[adm],
                 roles=[_role("AWSServiceRoleForAmazonEKS", _allow("eks:*"), path="/aws-service-role/eks.amazonaws.com/")])
    f = findings_for("IAM-01", _iam(EvidenceBuilder(tmp_path), gaad).build())
    ci = rows_for(f, "user/ci")
    assert set(ci["status"]) == {"FAIL"} and "inline policy ci-inline statement All" in ci["reason"].iloc[0]
    alice = rows_for(f, "user/alice")
    assert set(alice["status"]) == {"FAIL"} and "via group admins statement Deleter" in alice["reason"].iloc[0]
    assert "eks:DeleteCluster" in alice["reason"].iloc[0] and "eks:CreateAccessEntry" not in alice["reason"].iloc[0]
    assert set(rows_for(f, "user/notaction")["status"]) == {"FAIL"}
    assert set(rows_for(f, "user/scoped")["status"]) == {"PASS"}
    assert set(rows_for(f, "user/denied")["status"]) == {"PASS"}
    assert not f["resource_id"].str.contains("AWSServiceRoleForAmazonEKS").any()


def test_iam01_named_admin_passes(tmp_path):
    gaad = _gaad(users=[_user("ci", _allow("eks:*"))])
    f = findings_for("IAM-01", _iam(EvidenceBuilder(tmp_path), gaad).build(),
                     {"eks_admin_principals": [_arn("user", "c*")]})
    assert set(f["status"]) == {"PASS"} and "eks_admin_principals" in f["reason"].iloc[0]


def test_iam01_error_without_gaad(tmp_path):
    b = EvidenceBuilder(tmp_path).aws_error("iam", GAAD_OP, region="")
    assert_error(findings_for("IAM-01", b.build()), f"aws:iam:{GAAD_OP} access denied")


# IAM-02
def test_iam02_keys_and_trusts(tmp_path):
    other = "210987654321"
    trust_open = _doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other}:root"}, "Action": "sts:AssumeRole"})
    trust_guarded = _doc({"Effect": "Allow", "Principal": {"AWS": other}, "Action": "sts:AssumeRole",
                          "Condition": {"StringEquals": {"sts:ExternalId": "x"}}})
    trust_role = _doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other}:role/deployer"},
                       "Action": "sts:AssumeRole"})
    gaad = _gaad(users=[_user("ci", _allow("eks:DescribeCluster")), _user("old"), _user("fresh"), _user("nokey"),
                        _user("broken")],
                 roles=[_role("open", _allow("eks:*"), trust=trust_open),
                        _role("guarded", _allow("eks:*"), trust=trust_guarded),
                        _role("specific", _allow("eks:*"), trust=trust_role),
                        _role("anyone", _allow("eks:ListClusters"),
                              trust=_doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}))])
    keys = {"ci": _key("2099-01-01T00:00:00Z"), "old": _key("2020-01-01T00:00:00Z"),
            "fresh": _key("2099-01-01T00:00:00Z"), "nokey": _key(status="Inactive"), "broken": "error"}
    f = findings_for("IAM-02", _iam(EvidenceBuilder(tmp_path), gaad, keys=keys).build())
    ci = rows_for(f, "user/ci")
    assert set(ci["status"]) == {"FAIL"} and "…0001" in ci["reason"].iloc[0]
    assert "AKIAEXAMPLEKEY0001" not in " ".join(f["reason"])
    old = rows_for(f, "user/old")
    assert set(old["status"]) == {"FAIL"} and "older than 90 days" in old["reason"].iloc[0]
    assert set(rows_for(f, "user/fresh")["status"]) == {"PASS"}
    assert set(rows_for(f, "user/nokey")["status"]) == {"PASS"}
    assert_error(rows_for(f, "user/broken"), "access keys could not be read", "aws:iam:ListAccessKeys access denied")
    assert "whole account 210987654321" in rows_for(f, "role/open")["reason"].iloc[0]
    assert set(rows_for(f, "role/open")["status"]) == {"FAIL"}
    assert set(rows_for(f, "role/anyone")["status"]) == {"FAIL"}
    assert set(rows_for(f, "role/guarded")["status"]) == {"PASS"}
    assert set(rows_for(f, "role/specific")["status"]) == {"PASS"}


def test_iam02_key_age_parameter(tmp_path):
    gaad = _gaad(users=[_user("old")])
    ev = _iam(EvidenceBuilder(tmp_path), gaad, keys={"old": _key("2020-01-01T00:00:00Z")}).build()
    assert set(findings_for("IAM-02", ev, {"max_access_key_age_days": 100000})["status"]) == {"PASS"}
    assert set(findings_for("IAM-02", ev, {"max_access_key_age_days": 30})["status"]) == {"FAIL"}


def test_iam02_stubbed_real_shapes(tmp_path):
    gaad = _gaad(users=[_user("ci", _allow("eks:*"))])
    gaad["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"] = json.dumps(
        gaad["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"])
    from datetime import datetime, timezone
    ev = stubbed_evidence(tmp_path, [
        ("iam", GAAD_OP, {**gaad, "IsTruncated": False}),
        ("iam", "ListAccessKeys", {"AccessKeyMetadata": [{"UserName": "ci", "AccessKeyId": "AKIAEXAMPLEKEY0002",
                                                          "Status": "Active",
                                                          "CreateDate": datetime(2019, 5, 1, tzinfo=timezone.utc)}],
                                   "IsTruncated": False}, {"UserName": "ci"}),
    ])
    f = findings_for("IAM-02", ev)
    ci = rows_for(f, "user/ci")
    assert set(ci["status"]) == {"FAIL"} and "older than 90 days" in ci["reason"].iloc[0]


# IAM-03
def _clusters(b, **kw):
    b.cluster("c1", **kw)
    return b


def test_iam03_pass_irsa_and_clean_node_role(tmp_path):
    issuer = f"oidc.eks.{REGION}.amazonaws.com/id/C1"
    gaad = _gaad(roles=[_role("c1-cluster-role", trust=EKS_TRUST),
                        _role("node", _allow(["eks:DescribeCluster", "ecr:BatchGetImage"]))])
    b = _iam(EvidenceBuilder(tmp_path), gaad)
    b.aws("iam", "ListOpenIDConnectProviders", {"OpenIDConnectProviderList": [
        {"Arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"}]}, region="")
    b.aws_error("eks", "ListPodIdentityAssociations", kind="unsupported", code="404", params={"clusterName": "c1"},
                cluster="c1")
    f = findings_for("IAM-03", _clusters(b).build())
    assert set(f["status"]) == {"PASS"}, f[["resource_id", "status", "reason"]].to_string()
    assert "IRSA" in rows_for(f, "c1 (pod credentials)")["reason"].iloc[0]
    assert "role/node" in " ".join(f["resource_id"])


def test_iam03_fail_trust_no_irsa_data_on_node_role(tmp_path):
    gaad = _gaad(roles=[_role("c1-cluster-role"),
                        _role("node", _allow("eks:DescribeCluster"), _allow("s3:GetObject", "arn:aws:s3:::b/*"))])
    b = _iam(EvidenceBuilder(tmp_path), gaad)
    b.aws("iam", "ListOpenIDConnectProviders", {"OpenIDConnectProviderList": []}, region="")
    b.aws("eks", "ListPodIdentityAssociations", {"associations": []}, params={"clusterName": "c1"}, cluster="c1")
    f = findings_for("IAM-03", _clusters(b).build())
    assert set(rows_for(f, "c1-cluster-role")["status"]) == {"FAIL"}
    assert set(rows_for(f, "c1 (pod credentials)")["status"]) == {"FAIL"}
    node = rows_for(f, "role/node")
    assert set(node["status"]) == {"FAIL"} and "S3 object" in node["reason"].iloc[0]


def test_iam03_error_when_pod_identity_unreadable_and_no_oidc(tmp_path):
    gaad = _gaad(roles=[_role("c1-cluster-role", trust=EKS_TRUST)])
    b = _iam(EvidenceBuilder(tmp_path), gaad)
    b.aws("iam", "ListOpenIDConnectProviders", {"OpenIDConnectProviderList": []}, region="")
    b.aws_error("eks", "ListPodIdentityAssociations", params={"clusterName": "c1"}, cluster="c1")
    f = findings_for("IAM-03", _clusters(b).build())
    assert_error(rows_for(f, "c1 (pod credentials)"), "aws:eks:ListPodIdentityAssociations access denied")


def test_iam03_stubbed_pod_identity(tmp_path):
    gaad = {**_gaad(roles=[_role("c1-cluster-role", trust=json.dumps(EKS_TRUST))]), "IsTruncated": False}
    ev = stubbed_evidence(tmp_path, [
        ("eks", "ListClusters", {"clusters": ["c1"]}),
        ("eks", "DescribeCluster", cluster_doc_for("c1"), {"name": "c1"}),
        ("eks", "ListPodIdentityAssociations", {"associations": [
            {"clusterName": "c1", "namespace": "app", "serviceAccount": "api", "associationArn": "arn:x",
             "associationId": "a-1"}]}, {"clusterName": "c1"}),
        ("iam", GAAD_OP, gaad),
        ("iam", "ListOpenIDConnectProviders", {"OpenIDConnectProviderList": []}),
    ], clusters={"c1": REGION})
    f = findings_for("IAM-03", ev)
    assert "EKS Pod Identity (1 associations)" in rows_for(f, "c1 (pod credentials)")["reason"].iloc[0]


def cluster_doc_for(name):
    from eksaudit.testing import cluster_doc
    return cluster_doc(name)


# IAM-04
def _sa(name, ns="app", automount=None):
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}
    if automount is not None:
        sa["automountServiceAccountToken"] = automount
    return sa


def test_iam04_pass(tmp_path):
    k8s = {"pods": [pod("a", sa="quiet", automountServiceAccountToken=False), pod("b", sa="silent"),
                    pod("c", sa="operator")],
           "serviceaccounts": [_sa("quiet"), _sa("silent", automount=False), _sa("operator")],
           "rolebindings": [{"kind": "RoleBinding", "metadata": {"name": "rb", "namespace": "app"},
                             "roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"},
                             "subjects": [{"kind": "ServiceAccount", "name": "operator"}]}]}
    f = findings_for("IAM-04", EvidenceBuilder(tmp_path).cluster("c1", k8s=k8s).build())
    assert set(f["status"]) == {"PASS"}, f[["resource_id", "status", "reason"]].to_string()
    assert "RBAC bindings" in rows_for(f, "app/Pod/c")["reason"].iloc[0]


def test_iam04_fail(tmp_path):
    token = {"kind": "Secret", "type": "kubernetes.io/service-account-token",
             "metadata": {"name": "tok", "namespace": "app",
                          "annotations": {"kubernetes.io/service-account.name": "builder"}}}
    aws_auth = {"kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": {
        "mapUsers": f"- userarn: arn:aws:iam::{ACCOUNT}:user/bob\n  groups: [system:masters]\n"}}
    k8s = {"pods": [pod("a", sa="idle")], "serviceaccounts": [_sa("idle")], "secrets": [token],
           "configmaps": [aws_auth]}
    f = findings_for("IAM-04", EvidenceBuilder(tmp_path).cluster(
        "c1", k8s=k8s, accessConfig={"authenticationMode": "CONFIG_MAP"}).build())
    assert set(rows_for(f, "app/tok")["status"]) == {"FAIL"}
    assert "no RBAC binding" in rows_for(f, "app/Pod/a")["reason"].iloc[0]
    assert set(rows_for(f, "c1 (authentication mode)")["status"]) == {"FAIL"}
    assert "user/bob" in rows_for(f, "aws-auth mapUsers")["reason"].iloc[0]


def _cluster_without_secrets(tmp_path, kind="access-denied", sas=None, **cluster):
    k8s = {"pods": [pod("a", automountServiceAccountToken=False)], "serviceaccounts": sas or []}
    b = EvidenceBuilder(tmp_path)
    from eksaudit.testing import cluster_doc
    b.aws("eks", "DescribeCluster", cluster_doc("c1", **cluster), params={"name": "c1"}, cluster="c1")
    b.clusters["c1"] = "us-east-1"
    from eksaudit.collect.kubernetes import KINDS
    for k in KINDS:
        if k.plural == "secrets":
            b.k8s_error("c1", "secrets", kind=kind)
        else:
            b.k8s("c1", k.plural, k8s.get(k.plural, []))
    return findings_for("IAM-04", b.build())


def test_iam04_error_when_secrets_unreadable_or_mode_unreported(tmp_path):
    f = _cluster_without_secrets(tmp_path, kind="throttled", accessConfig={})
    tokens = rows_for(f, "c1 (token Secrets)")
    assert_error(tokens, "k8s:secrets throttled")
    assert_error(rows_for(f, "c1 (authentication mode)"), "accessConfig.authenticationMode")
    assert list(rows_for(f, "app/Pod/a")["status"]) == ["PASS"], "other verdicts stand: Secrets are a soft input"


def test_iam04_default_rbac_role_never_claims_no_token_secret(tmp_path):
    """Secrets not listable (the default role): token Secrets come from service accounts' references, and the
    claim "no token Secret" becomes MANUAL saying what could not be proven."""
    sas = [{**_sa("builder"), "secrets": [{"name": "builder-token-x7k2p"}]},
           {**_sa("deployer"), "secrets": [{"name": "registry-creds"}]}, _sa("quiet")]
    f = _cluster_without_secrets(tmp_path, sas=sas)
    assert "PASS" not in set(rows_for(f, "c1 (token Secrets)")["status"])
    row = rows_for(f, "c1 (token Secrets)").iloc[0]
    assert row["status"] == "MANUAL" and "Secrets not readable" in row["reason"]
    assert "cannot be excluded" in row["reason"] and "access denied" in row["reason"]
    assert list(rows_for(f, "app/builder-token-x7k2p")["status"]) == ["FAIL"]
    assert "service account builder references" in rows_for(f, "app/builder-token-x7k2p")["reason"].iloc[0]
    assert list(rows_for(f, "app/registry-creds")["status"]) == ["MANUAL"]


def test_iam04_listed_secrets_prove_absence(tmp_path):
    """With Secrets listed (the opt-in role), no token Secret is a PASS, references notwithstanding."""
    sas = [{**_sa("deployer"), "secrets": [{"name": "registry-creds"}]}]
    f = findings_for("IAM-04", EvidenceBuilder(tmp_path).cluster("c1", k8s={
        "pods": [pod("a", automountServiceAccountToken=False)], "serviceaccounts": sas,
        "secrets": [{"kind": "Secret", "type": "Opaque", "metadata": {"name": "registry-creds", "namespace": "app"}}]}
    ).build())
    assert list(rows_for(f, "c1 (token Secrets)")["status"]) == ["PASS"]
    assert not f["resource_id"].str.contains("registry-creds").any()


# IAM-05
def test_iam05_shared_roles(tmp_path):
    shared = _arn("role", "shared")
    b = EvidenceBuilder(tmp_path)
    b.cluster("a", roleArn=shared).cluster("b", roleArn=shared).cluster("c")
    for c, ng, role in (("a", "ng", "node-shared"), ("b", "ng", "node-shared"), ("c", "ng", "node-c")):
        b.aws("eks", "ListNodegroups", {"nodegroups": [ng]}, params={"clusterName": c}, cluster=c)
        b.aws("eks", "DescribeNodegroup", {"nodegroup": {"nodegroupName": ng, "clusterName": c,
                                                         "nodeRole": _arn("role", role)}},
              params={"clusterName": c, "nodegroupName": ng}, cluster=c)
    f = findings_for("IAM-05", b.build())
    a = f[f["cluster"] == "a"]
    assert set(a["status"]) == {"FAIL"} and a["reason"].str.contains("also used by cluster\\(s\\) b").all()
    assert set(f[f["cluster"] == "c"]["status"]) == {"PASS"}


def test_iam05_error_when_node_group_not_described(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("a").cluster("b")
    b.aws("eks", "ListNodegroups", {"nodegroups": ["ng"]}, params={"clusterName": "a"}, cluster="a")
    b.aws("eks", "ListNodegroups", {"nodegroups": ["ng"]}, params={"clusterName": "b"}, cluster="b")
    b.aws("eks", "DescribeNodegroup", {"nodegroup": {"nodeRole": _arn("role", "n")}},
          params={"clusterName": "a", "nodegroupName": "ng"}, cluster="a")
    b.aws_error("eks", "DescribeNodegroup", params={"clusterName": "b", "nodegroupName": "ng"}, cluster="b")
    f = findings_for("IAM-05", b.build())
    nodes = f[f["resource_type"] == "node-role"]
    assert_error(nodes, "node group ng", "not described", "aws:eks:DescribeNodegroup access denied")
    assert len(nodes) == 2  # b's unknown role, and a's role that b might share


# IAM-08
def _csi(sa="ebs-csi-controller-sa"):
    return {"kind": "Deployment", "metadata": {"name": "ebs-csi-controller", "namespace": "kube-system"},
            "spec": {"template": {"spec": {"serviceAccountName": sa, "containers": [
                {"name": "ebs-plugin", "image": "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/aws-ebs-csi-driver:v1"}]}}}}


def _ng(b, cluster, role):
    b.aws("eks", "ListNodegroups", {"nodegroups": ["ng"]}, params={"clusterName": cluster}, cluster=cluster)
    b.aws("eks", "DescribeNodegroup", {"nodegroup": {"nodeRole": _arn("role", role)}},
          params={"clusterName": cluster, "nodegroupName": "ng"}, cluster=cluster)


def test_iam08_pass_irsa_driver_clean_node(tmp_path):
    sa = _sa("ebs-csi-controller-sa", "kube-system")
    sa["metadata"]["annotations"] = {"eks.amazonaws.com/role-arn": _arn("role", "ebs")}
    b = _iam(EvidenceBuilder(tmp_path), _gaad(roles=[_role("node", _allow("eks:DescribeCluster")),
                                                     _irsa_role("ebs", "C1", "kube-system:ebs-csi-controller-sa")]))
    _oidc(b, "C1")
    b.cluster("c1", k8s={"deployments": [_csi()], "serviceaccounts": [sa]})
    _ng(b, "c1", "node")
    f = findings_for("IAM-08", b.build())
    assert set(f["status"]) == {"PASS"}, f[["resource_id", "status", "reason"]].to_string()
    assert len(f) == 2


def _irsa_role(name, cluster_id, sub):
    host = f"oidc.eks.{REGION}.amazonaws.com/id/{cluster_id}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{sub}"}}}]}
    return _role(name, _allow(["ec2:CreateVolume"]), trust=trust)


def _oidc(b, *cluster_ids):
    b.aws("iam", "ListOpenIDConnectProviders", {"OpenIDConnectProviderList": [
        {"Arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/{c}"} for c in cluster_ids]},
          region="")


@pytest.mark.parametrize(("role", "providers", "words"), [
    (None, ("C1",), "not a role of this account"),
    (("C1", "kube-system:other-sa"), ("C1",), "does not admit kube-system/ebs-csi-controller-sa"),
    (("C2", "kube-system:ebs-csi-controller-sa"), ("C1", "C2"), "does not admit"),  # another cluster's provider
    (("C1", "kube-system:ebs-csi-controller-sa"), (), "no IAM OIDC provider"),
])
def test_iam08_irsa_annotation_is_not_proof_of_a_role(tmp_path, role, providers, words):
    """An IRSA annotation alone proves nothing: the role must exist and trust the cluster's provider for the SA."""
    sa = _sa("ebs-csi-controller-sa", "kube-system")
    sa["metadata"]["annotations"] = {"eks.amazonaws.com/role-arn": _arn("role", "ebs")}
    roles = [_role("node", _allow("eks:DescribeCluster"))] + ([_irsa_role("ebs", *role)] if role else [])
    b = _iam(EvidenceBuilder(tmp_path), _gaad(roles=roles))
    _oidc(b, *providers)
    b.cluster("c1", k8s={"deployments": [_csi()], "serviceaccounts": [sa]})
    _ng(b, "c1", "node")
    rows = rows_for(findings_for("IAM-08", b.build()), "ebs-csi-controller")
    assert set(rows["status"]) == {"FAIL"} and rows["reason"].str.contains(words, regex=False).all(), rows["reason"]


def test_iam08_pod_identity_association_needs_the_agent(tmp_path):
    b = _iam(EvidenceBuilder(tmp_path), _gaad(roles=[_role("node", _allow("eks:DescribeCluster"))]))
    b.cluster("c1", k8s={"deployments": [_csi()], "serviceaccounts": [_sa("ebs-csi-controller-sa", "kube-system")]})
    b.aws("eks", "ListPodIdentityAssociations", {"associations": [
        {"namespace": "kube-system", "serviceAccount": "ebs-csi-controller-sa"}]}, params={"clusterName": "c1"},
          cluster="c1")
    _ng(b, "c1", "node")
    rows = rows_for(findings_for("IAM-08", b.build()), "ebs-csi-controller")
    assert set(rows["status"]) == {"FAIL"}, rows["reason"]  # no eks-pod-identity-agent DaemonSet runs


def test_iam08_fail_storage_on_node_role_and_driver_without_role(tmp_path):
    b = _iam(EvidenceBuilder(tmp_path), _gaad(roles=[_role("node", _allow(["ec2:CreateVolume", "ec2:AttachVolume"]))]))
    b.cluster("c1", k8s={"deployments": [_csi()], "serviceaccounts": [_sa("ebs-csi-controller-sa", "kube-system")]})
    b.aws("eks", "ListPodIdentityAssociations", {"associations": []}, params={"clusterName": "c1"}, cluster="c1")
    _ng(b, "c1", "node")
    f = findings_for("IAM-08", b.build())
    assert "EBS" in rows_for(f, "role/node")["reason"].iloc[0]
    assert set(rows_for(f, "role/node")["status"]) == {"FAIL"}
    assert set(rows_for(f, "ebs-csi-controller")["status"]) == {"FAIL"}


def test_iam08_error_when_pod_identity_unreadable(tmp_path):
    b = _iam(EvidenceBuilder(tmp_path), _gaad())
    agent = {"kind": "DaemonSet", "metadata": {"name": "eks-pod-identity-agent", "namespace": "kube-system"},
             "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}}
    b.cluster("c1", k8s={"deployments": [_csi()], "daemonsets": [agent],
                         "serviceaccounts": [_sa("ebs-csi-controller-sa", "kube-system")]})
    b.aws_error("eks", "ListPodIdentityAssociations", params={"clusterName": "c1"}, cluster="c1")
    f = findings_for("IAM-08", b.build())
    assert_error(rows_for(f, "ebs-csi-controller"), "aws:eks:ListPodIdentityAssociations access denied")


# IAM-09
def test_iam09(tmp_path):
    gaad = _gaad(users=[_user("admin", _allow("*")), _user("mfa", _allow("eks:*")), _user("cli", _allow("*")),
                        _user("reader", _allow("eks:Describe*")), _user("unknown", _allow("*"))])
    login = {"admin": {"LoginProfile": {"UserName": "admin"}}, "mfa": {"LoginProfile": {"UserName": "mfa"}},
             "cli": {"__absent__": "NoSuchEntity"}, "reader": {"LoginProfile": {"UserName": "reader"}},
             "unknown": {"LoginProfile": {"UserName": "unknown"}}}
    mfa = {"admin": {"MFADevices": []}, "mfa": {"MFADevices": [{"SerialNumber": "s"}]}, "cli": {"MFADevices": []},
           "reader": {"MFADevices": []}, "unknown": "error"}
    f = findings_for("IAM-09", _iam(EvidenceBuilder(tmp_path), gaad, login=login, mfa=mfa).build())
    assert set(rows_for(f, "user/admin")["status"]) == {"FAIL"}
    assert set(rows_for(f, "user/mfa")["status"]) == {"PASS"}
    assert set(rows_for(f, "user/cli")["status"]) == {"PASS"}
    assert set(rows_for(f, "user/reader")["status"]) == {"PASS"}
    assert_error(rows_for(f, "user/unknown"), "MFA devices could not be read", "aws:iam:ListMFADevices access denied")


def test_iam09_error_names_the_login_profile_read(tmp_path):
    gaad = _gaad(users=[_user("admin", _allow("*"))])
    f = findings_for("IAM-09", _iam(EvidenceBuilder(tmp_path), gaad, login={"admin": "error"}).build())
    assert_error(rows_for(f, "user/admin"), "console password could not be read",
                 "aws:iam:GetLoginProfile access denied")


def test_iam09_stubbed_no_login_profile(tmp_path):
    gaad = {**_gaad(users=[_user("admin")]), "IsTruncated": False}
    gaad["UserDetailList"][0]["UserPolicyList"] = [{"PolicyName": "p", "PolicyDocument": json.dumps(_doc(_allow("*")))}]
    ev = stubbed_evidence(tmp_path, [
        ("iam", GAAD_OP, gaad),
        ("iam", "GetLoginProfile", {"Error": {"Code": "NoSuchEntity", "HTTPStatusCode": 404}}, {"UserName": "admin"}),
        ("iam", "ListMFADevices", {"MFADevices": [], "IsTruncated": False}, {"UserName": "admin"}),
    ])
    f = findings_for("IAM-09", ev)
    assert set(f["status"]) == {"PASS"} and "no console password" in f["reason"].iloc[0]


# IAM-10
def _repos(b, policies):
    b.aws("ecr", "DescribeRepositories", {"repositories": [
        {"repositoryName": n, "repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{n}"} for n in policies]})
    for name, pol in policies.items():
        if pol == "error":
            b.aws_error("ecr", "GetRepositoryPolicy", params={"repositoryName": name})
        elif pol is None:
            b.aws("ecr", "GetRepositoryPolicy", {"__absent__": "RepositoryPolicyNotFoundException"},
                  params={"repositoryName": name})
        else:
            b.aws("ecr", "GetRepositoryPolicy", {"repositoryName": name, "policyText": json.dumps(pol)},
                  params={"repositoryName": name})
    return b


def test_iam10(tmp_path):
    pull = ["ecr:BatchGetImage"]
    public = _doc({"Effect": "Allow", "Principal": "*", "Action": pull})
    partner = _doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": pull})
    own = _doc({"Effect": "Allow", "Principal": {"AWS": _arn("role", "ci")}, "Action": pull})
    org = _doc({"Effect": "Allow", "Principal": "*", "Action": pull,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}})
    gaad = _gaad(users=[_user("dev", _allow("ecr:*"))],
                 roles=[_role("ci", _allow("ecr:PutImage")), _role("reader", _allow(pull + ["ecr:BatchCheckLayerAvailability"])),
                        _role("node", _allow("eks:DescribeCluster"),
                              _allow("ecr:PutImage", "arn:aws:ecr:*:*:repository/x"))])
    b = _repos(_iam(EvidenceBuilder(tmp_path), gaad),
               {"pub": public, "partner": partner, "own": own, "org": org, "nopol": None, "broken": "error"})
    f = findings_for("IAM-10", b.build(), {"ci_principals": [_arn("role", "ci")]})
    assert set(rows_for(f, "pub")["status"]) == {"FAIL"}
    assert "999999999999" in rows_for(f, "partner")["reason"].iloc[0]
    assert set(rows_for(f, "own")["status"]) == {"PASS"}
    assert set(rows_for(f, "org")["status"]) == {"PASS"}
    assert set(rows_for(f, "nopol")["status"]) == {"PASS"}
    assert_error(rows_for(f, "broken"), "aws:ecr:GetRepositoryPolicy access denied")
    assert set(rows_for(f, "user/dev")["status"]) == {"FAIL"}
    assert set(rows_for(f, "role/ci")["status"]) == {"PASS"}
    assert set(rows_for(f, "role/reader")["status"]) == {"PASS"}
    assert set(rows_for(f, "role/node")["status"]) == {"FAIL"}


def test_iam10_trusted_accounts(tmp_path):
    partner = _doc({"Effect": "Allow", "Principal": {"AWS": "999999999999"}, "Action": "ecr:BatchGetImage"})
    b = _repos(_iam(EvidenceBuilder(tmp_path), _gaad()), {"partner": partner})
    f = findings_for("IAM-10", b.build(), {"trusted_accounts": ["999999999999"]})
    assert set(f["status"]) == {"PASS"}


def test_iam10_stubbed_repository_policy(tmp_path):
    repo = {"repositoryName": "pub", "repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/pub",
            "registryId": ACCOUNT, "repositoryUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/pub"}
    ev = stubbed_evidence(tmp_path, [
        ("ecr", "DescribeRepositories", {"repositories": [repo, {**repo, "repositoryName": "none"}]}),
        ("ecr", "GetRepositoryPolicy", {"repositoryName": "pub", "registryId": ACCOUNT, "policyText": json.dumps(
            _doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:*"}))}, {"repositoryName": "pub"}),
        ("ecr", "GetRepositoryPolicy", {"Error": {"Code": "RepositoryPolicyNotFoundException"}},
         {"repositoryName": "none"}),
        ("iam", GAAD_OP, {**_gaad(), "IsTruncated": False}),
    ])
    f = findings_for("IAM-10", ev)
    assert set(rows_for(f, "pub")["status"]) == {"FAIL"}
    assert set(f[f["resource_id"] == "none"]["status"]) == {"PASS"}


@pytest.mark.parametrize("check_id", ["IAM-02", "IAM-09", "IAM-10"])
def test_account_checks_error_without_gaad(tmp_path, check_id):
    b = EvidenceBuilder(tmp_path).aws_error("iam", GAAD_OP, region="")
    f = findings_for(check_id, b.build())
    assert_error(f, f"aws:iam:{GAAD_OP} access denied")


def test_nodegroup_fanout_needs_the_parent_cluster():
    from eksaudit.collect.steps.iam import per_cluster

    fan = per_cluster("nodegroups", "nodegroupName")
    listed = {"nodegroups": ["ng-1", "ng-2"]}
    assert fan(listed, REGION) == []  # the response alone does not name its cluster
    assert fan(listed, REGION, {"clusterName": "c1"}) == [{"clusterName": "c1", "nodegroupName": "ng-1"},
                                                          {"clusterName": "c1", "nodegroupName": "ng-2"}]


def test_iam08_error_for_cluster_whose_objects_are_unreadable(tmp_path):
    b = _iam(EvidenceBuilder(tmp_path), _gaad(roles=[_role("node", _allow("eks:DescribeCluster"))]))
    b.cluster("c1", k8s={"deployments": [_csi()], "serviceaccounts": [_sa("ebs-csi-controller-sa", "kube-system")]})
    b.cluster("c2")
    b.k8s_error("c2", "deployments")
    f = findings_for("IAM-08", b.build())
    assert_error(rows_for(f, "c2 (CSI drivers)"), "k8s:deployments access denied")
    assert set(rows_for(f, "role/node")["status"]) == {"PASS"}  # the IAM-only verdict stands


def test_iam04_default_discovery_binding_is_not_a_reason_to_mount_a_token(tmp_path):
    """Every cluster binds system:serviceaccounts to the OIDC discovery role: that proves no API use."""
    from eksaudit.testing import pod

    discovery = {"kind": "ClusterRoleBinding", "metadata": {"name": "system:service-account-issuer-discovery"},
                 "roleRef": {"kind": "ClusterRole", "name": "system:service-account-issuer-discovery"},
                 "subjects": [{"kind": "Group", "name": "system:serviceaccounts"}]}
    b = EvidenceBuilder(tmp_path).cluster("c", k8s={"pods": [pod("web", "shop")], "clusterrolebindings": [discovery]})
    rows = rows_for(findings_for("IAM-04", b.build()), "shop/Pod/web")
    assert rows["status"].tolist() == ["FAIL"] and "automounts a token" in rows["reason"].iloc[0]
    reader = {**discovery, "roleRef": {"kind": "ClusterRole", "name": "view"}}
    b = EvidenceBuilder(tmp_path / "2").cluster("c", k8s={"pods": [pod("web", "shop")], "clusterrolebindings": [reader]})
    assert rows_for(findings_for("IAM-04", b.build()), "shop/Pod/web")["status"].tolist() == ["PASS"]


def test_iam01_admin_capped_by_a_boundary_passes_and_fail_rows_say_what_could_narrow_them(tmp_path):
    boundary = {"PolicyName": "s3-only", "Arn": _arn("policy", "s3-only"), "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": _doc(_allow("s3:*"))}]}
    capped = {**_user("capped", _allow("*")), "PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                                                                       "PermissionsBoundaryArn": boundary["Arn"]}}
    gaad = _gaad(users=[capped, _user("free", _allow("*"))], policies=[boundary])
    f = findings_for("IAM-01", _iam(EvidenceBuilder(tmp_path), gaad).build())
    row = rows_for(f, "user/capped")
    assert row["status"].tolist() == ["PASS"] and "capped by permissions boundary s3-only" in row["reason"].iloc[0]
    free = rows_for(f, "user/free")
    assert free["status"].tolist() == ["FAIL"]
    assert "SCPs and session policies could narrow this but are not readable from a member account" in \
        free["reason"].iloc[0]


@pytest.mark.parametrize(("condition", "status"), [
    ({"StringEquals": {"sts:ExternalId": "partner-7f3a"}}, "PASS"),
    ({"StringLike": {"sts:ExternalId": "*"}}, "FAIL"),  # any ExternalId at all
    ({"Bool": {"aws:MultiFactorAuthPresent": "false"}}, "FAIL"),
    ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}, "FAIL"),  # absent for long-term keys: passes
    ({"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}, "FAIL"),
    ({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}, "FAIL"),  # a condition, but not on who
    ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, "PASS"),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, "PASS"),
])
def test_iam02_a_condition_must_narrow_who_may_assume(tmp_path, condition, status):
    trust = _doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                  "Action": "sts:AssumeRole", "Condition": condition})
    f = findings_for("IAM-02", _iam(EvidenceBuilder(tmp_path), _gaad(roles=[_role("x", _allow("eks:*"),
                                                                                   trust=trust)])).build())
    assert rows_for(f, "role/x")["status"].tolist() == [status], rows_for(f, "role/x")["reason"].tolist()

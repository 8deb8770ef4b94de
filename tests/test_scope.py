"""Scope narrows what is reported, never what a verdict needs.

The account inventory (enabled regions, every cluster, their node groups) is read whatever --cluster and
--region say; heavy per-cluster reads stay narrowed; findings are narrowed after the checks ran; and every
verdict that compares against the rest of the account (IAM-05) stays FAIL, or becomes ERROR naming what was not
read, when the audit is narrowed - never PASS.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from eksaudit.checks import load, run_checks
from eksaudit.evidence import Evidence
from eksaudit.scope import Scope, narrow
from eksaudit.testing import ACCOUNT, EvidenceBuilder, findings_for

US, EU, AP = "us-east-1", "eu-west-1", "ap-south-1"
SHARED = f"arn:aws:iam::{ACCOUNT}:role/shared"


def _ng(b: EvidenceBuilder, cluster: str, role: str, region: str = US) -> EvidenceBuilder:
    b.aws("eks", "ListNodegroups", {"nodegroups": ["ng"]}, region, {"clusterName": cluster}, cluster)
    b.aws("eks", "DescribeNodegroup", {"nodegroup": {"nodegroupName": "ng", "clusterName": cluster,
                                                     "nodeRole": f"arn:aws:iam::{ACCOUNT}:role/{role}"}},
          region, {"clusterName": cluster, "nodegroupName": "ng"}, cluster)
    return b


def _account(tmp_path, shared: bool = True) -> EvidenceBuilder:
    """a and b in us-east-1, c in eu-west-1; c shares a's cluster role and node role when `shared`."""
    b = EvidenceBuilder(tmp_path)
    b.cluster("a", roleArn=SHARED).cluster("b").cluster("c", region=EU, roleArn=SHARED if shared else
                                                         f"arn:aws:iam::{ACCOUNT}:role/c-own")
    _ng(b, "a", "node-shared")
    _ng(b, "b", "node-b")
    _ng(b, "c", "node-shared" if shared else "node-c", EU)
    return b


def _rows(f: pd.DataFrame, cluster: str, rtype: str) -> pd.DataFrame:
    return f[(f["cluster"] == cluster) & (f["resource_type"] == rtype)]


# ---- narrowing the findings ----------------------------------------------------------------------------


def test_scope_keeps_selected_clusters_and_account_level_rows():
    scope = Scope((), (US,), (US, EU), {US: ("a", "b"), EU: ("c",)}, {US: ("a",)})
    assert scope.keeps(US, "a") and scope.keeps("", "") and scope.keeps(US, "") and scope.keeps("", "a")
    assert not scope.keeps(US, "b") and not scope.keeps(EU, "c") and not scope.keeps(EU, "")
    assert not scope.keeps(EU, "a"), "a cluster of the same name in another region is another cluster"


def test_narrow_drops_unselected_rows_and_keeps_the_catalog_complete(tmp_path):
    b = _account(tmp_path).select(clusters=["a"], regions=[US])
    ev = b.build()
    f = run_checks(ev, ids=["IAM-05", "NET-07"])
    assert set(f["cluster"]) == {"a"}
    assert set(f["check_id"]) == {"IAM-05", "NET-07"}
    raw = pd.DataFrame([{"check_id": "X", "region": EU, "cluster": "c", "status": "PASS", "severity": "high",
                         "resource_type": "cluster", "resource_id": "c", "reason": "", "evidence": "",
                         "remediation": "", "account_id": ACCOUNT}])
    kept = narrow(raw, ev)
    assert kept["status"].tolist() == ["NOT_APPLICABLE"] and "nothing in the audit scope (a in us-east-1)" in \
        kept["reason"].iloc[0]


def test_evidence_without_a_scope_record_is_not_narrowed(tmp_path):
    ev = _account(tmp_path).build()
    assert Scope.of(ev) is None
    assert set(findings_for("IAM-05", ev)["cluster"]) == {"a", "b", "c"}


# ---- IAM-05: an account-wide claim under a narrowed audit -------------------------------------------------


@pytest.mark.parametrize(("clusters", "regions"), [(["a"], [US]), ([], [US]), (["a"], None)],
                         ids=["--cluster a --region us-east-1", "--region us-east-1", "--cluster a"])
def test_iam05_shared_role_fails_however_narrowed(tmp_path, clusters, regions):
    """The issue's false PASS: c (another region, not selected) shares a's roles; a's rows FAIL and name it."""
    f = findings_for("IAM-05", _account(tmp_path).select(clusters=clusters, regions=regions).build())
    role = _rows(f, "a", "cluster-role")
    assert role["status"].tolist() == ["FAIL"] and "also used by cluster(s) c (eu-west-1)" in role["reason"].iloc[0]
    node = _rows(f, "a", "node-role")
    assert node["status"].tolist() == ["FAIL"] and "c (eu-west-1)" in node["reason"].iloc[0]
    assert "c" not in set(f["cluster"]), "c is not selected: its own rows are not reported"


def test_iam05_pass_states_the_scope_it_proves(tmp_path):
    f = findings_for("IAM-05", _account(tmp_path, shared=False).select(clusters=["b"], regions=[US]).build())
    role = _rows(f, "b", "cluster-role")
    assert role["status"].tolist() == ["PASS"]
    assert "no other cluster in the account uses it (3 clusters in 2 regions; all 2 enabled regions listed)" in \
        role["reason"].iloc[0]
    node = _rows(f, "b", "node-role")
    assert node["status"].tolist() == ["PASS"] and "3 clusters in 2 regions" in node["reason"].iloc[0]


def _gap(b: EvidenceBuilder, gap: str) -> EvidenceBuilder:
    if gap == "regions":
        b.aws_error("ec2", "DescribeRegions", region="")
    elif gap == "list":
        b.aws_error("eks", "ListClusters", region=EU)
    elif gap == "describe":
        b.store.entries = [e for e in b.store.entries
                           if not (e["input"] == "aws:eks:DescribeCluster" and e["cluster"] == "c")]
        b.aws_error("eks", "DescribeCluster", kind="throttled", code="ThrottlingException", region=EU,
                    params={"name": "c"}, cluster="c")
    return b


@pytest.mark.parametrize(("gap", "named"), [
    ("regions", "aws:ec2:DescribeRegions access denied"),
    ("list", "aws:eks:ListClusters in eu-west-1 access denied"),
    ("describe", "aws:eks:DescribeCluster of c (eu-west-1) throttled"),
])
def test_iam05_error_when_the_rest_of_the_account_was_not_read(tmp_path, gap, named):
    """No other cluster read uses b's roles, but the inventory has a gap: ERROR naming it, never PASS."""
    b = _account(tmp_path, shared=False)
    if gap == "regions":  # without the enabled regions, only the regions that were listed are known
        b.store.entries = [e for e in b.store.entries if e["input"] != "aws:ec2:DescribeRegions"]
    if gap == "list":  # eu-west-1's clusters unknown: c was never listed nor described
        b.store.entries = [e for e in b.store.entries if e["region"] != EU]
        b.clusters.pop("c")
    f = findings_for("IAM-05", _gap(b, gap).select(clusters=["b"], regions=[US]).build())
    mine = f[f["cluster"] == "b"]
    assert set(mine["status"]) == {"ERROR"}, mine[["resource_type", "status", "reason"]].to_string()
    assert mine["reason"].str.contains(named, regex=False).all(), mine["reason"].tolist()


def test_iam05_node_role_error_when_another_clusters_node_groups_are_unknown(tmp_path):
    b = _account(tmp_path, shared=False)
    b.store.entries = [e for e in b.store.entries if e["input"] != "aws:eks:DescribeNodegroup" or e["cluster"] != "c"]
    b.aws_error("eks", "DescribeNodegroup", region=EU, params={"clusterName": "c", "nodegroupName": "ng"},
                cluster="c")
    f = findings_for("IAM-05", b.select(clusters=["b"], regions=[US]).build())
    assert _rows(f, "b", "cluster-role")["status"].tolist() == ["PASS"], "cluster roles are all known"
    node = _rows(f, "b", "node-role")
    assert node["status"].tolist() == ["ERROR"] and "node groups of c (eu-west-1)" in node["reason"].iloc[0]


def test_iam10_ec2_role_is_error_while_node_roles_are_unknown(tmp_path):
    """A role EC2 may assume could be a node role of a cluster whose node groups could not be read."""
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}
    role = {"RoleName": "pusher", "Arn": f"arn:aws:iam::{ACCOUNT}:role/pusher", "Path": "/",
            "AssumeRolePolicyDocument": trust, "AttachedManagedPolicies": [], "RolePolicyList": [
                {"PolicyName": "p", "PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Action": "ecr:PutImage",
                     "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app"}]}}]}
    b = EvidenceBuilder(tmp_path).cluster("a")
    b.aws("iam", "GetAccountAuthorizationDetails", {"RoleDetailList": [role]}, region="")
    b.aws_error("eks", "ListNodegroups", params={"clusterName": "a"}, cluster="a")
    row = findings_for("IAM-10", b.build())
    row = row[row["resource_id"].str.endswith("role/pusher")]
    assert row["status"].tolist() == ["ERROR"] and "may be a node role of a" in row["reason"].iloc[0]


# ---- the collector: inventory account-wide, the rest narrowed ---------------------------------------------


def test_collector_inventories_every_region_and_cluster_and_narrows_the_rest(tmp_path, monkeypatch):
    from eksaudit.collect import aws
    from eksaudit.collect.steps import plan
    from eksaudit.collect.store import EvidenceStore
    from eksaudit.target import AwsTarget

    listed = {US: ["a", "b"], EU: ["c"], AP: []}
    calls: list[tuple[str, str, dict]] = []

    def call(client, operation, params):
        service, region = client
        calls.append((region, operation, dict(params)))
        return {
            # an emulator may list other partitions' regions too: these credentials reach none of them
            "DescribeRegions": {"Regions": [{"RegionName": r} for r in [*listed, "cn-north-1", "us-gov-west-1"]]},
            "ListClusters": {"clusters": listed[region]},
            "DescribeCluster": {"cluster": {"name": params.get("name"), "roleArn": SHARED}},
            "ListNodegroups": {"nodegroups": ["ng"]},
            "DescribeNodegroup": {"nodegroup": {"nodeRole": SHARED}},
            "ListAddons": {"addons": []},
        }[operation]

    class Pool:
        def get(self, service, region):
            return (service, region)

    monkeypatch.setattr(aws, "call", call)
    wanted = {"DescribeRegions", "ListClusters", "DescribeCluster", "ListNodegroups", "DescribeNodegroup",
              "ListAddons"}
    steps = [s for s in plan() if s.operation in wanted]
    assert {s.operation for s in steps if s.inventory} == wanted - {"ListAddons"}
    store = EvidenceStore(tmp_path / "evidence")
    found = aws.collect_aws(AwsTarget(regions=[US]), store, clusters=["a"], steps=steps, pool=Pool(), workers=1)
    made = {(r, op, p.get("name") or p.get("clusterName") or "") for r, op, p in calls}
    assert {r for r, op, _ in made if op == "ListClusters"} == {US, EU, AP}
    assert {(r, c) for r, op, c in made if op == "DescribeCluster"} == {(US, "a"), (US, "b"), (EU, "c")}
    assert {(r, c) for r, op, c in made if op == "DescribeNodegroup"} == {(US, "a"), (US, "b"), (EU, "c")}
    assert {(r, c) for r, op, c in made if op == "ListAddons"} == {(US, "a")}, "heavy reads stay narrowed"
    assert ("", "DescribeRegions") in {(e["region"], e["operation"]) for e in store.entries}
    assert found["listed"] == {"a": US}
    assert found["scope"] == {"selected_clusters": ["a"], "selected_regions": [US], "enabled_regions": sorted(listed),
                              "inventory_regions": sorted(listed), "inventory": {AP: [], EU: ["c"], US: ["a", "b"]},
                              "audited": {US: ["a"]}}


# ---- end to end on the demo account (legacy-west in eu-west-1 shares legacy-weak's roles) -----------------


@pytest.fixture(scope="module")
def narrowed(demo_env, tmp_path_factory):
    """The demo audited as `--cluster legacy-batch` (us-east-1)."""
    from eksaudit.collect.run import collect

    target, source, extra = demo_env
    root = collect(target, source, tmp_path_factory.mktemp("narrowed"), clusters=["legacy-batch"],
                   attachments=extra["attachments"])
    ev = Evidence(root)
    return ev, run_checks(ev)


def test_demo_narrowed_to_one_cluster_still_sees_the_whole_account(narrowed):
    ev, f = narrowed
    scope = ev.manifest["scope"]
    assert scope["selected_clusters"] == ["legacy-batch"] and scope["audited"] == {US: ["legacy-batch"]}
    assert scope["inventory"][US] == ["legacy-batch", "legacy-weak", "prod-hardened"]
    assert scope["inventory"][EU] == ["legacy-west"] and EU in scope["enabled_regions"]
    described = {e["cluster"] for e, _ in ev.responses("aws:eks:DescribeCluster")}
    assert described == {"legacy-batch", "legacy-weak", "prod-hardened", "legacy-west"}
    assert {e["cluster"] for e in ev.entries if e["source"] == "k8s"} == {"legacy-batch"}
    assert {e["cluster"] for e in ev.by_input["aws:eks:ListAddons"]} == {"legacy-batch"}
    assert set(f["cluster"]) <= {"legacy-batch", ""}
    role = f[(f["check_id"] == "IAM-05") & (f["resource_type"] == "cluster-role")]
    assert role["status"].tolist() == ["FAIL"]
    assert "also used by cluster(s) legacy-weak, legacy-west (eu-west-1)" in role["reason"].iloc[0]
    node = f[(f["check_id"] == "IAM-05") & (f["resource_type"] == "node-role")]
    assert set(node["status"]) == {"FAIL"} and node["reason"].str.contains("legacy-west (eu-west-1)", regex=False).all()
    assert set(f["check_id"]) == set(load()), "every check keeps a row"


def test_demo_narrowed_to_the_other_region(demo_env, tmp_path):
    """`--region eu-west-1 --cluster legacy-west`: the us-east-1 clusters sharing its roles are still named."""
    from eksaudit.collect.run import collect
    from eksaudit.target import AwsTarget

    target, source, extra = demo_env
    west = AwsTarget(regions=[EU], endpoint_url=target.endpoint_url)
    ev = Evidence(collect(west, source, tmp_path, clusters=["legacy-west"]))
    f = run_checks(ev, ids=["IAM-05", "LOG-02"])
    assert set(f["cluster"]) <= {"legacy-west", ""} and set(f["region"]) <= {EU, ""}
    role = f[(f["check_id"] == "IAM-05") & (f["resource_type"] == "cluster-role")]
    assert role["status"].tolist() == ["FAIL"]
    assert "legacy-batch (us-east-1), legacy-weak (us-east-1)" in role["reason"].iloc[0]
    assert not ev.by_input.get("aws:cloudtrail:DescribeTrails") or {
        e["region"] for e in ev.by_input["aws:cloudtrail:DescribeTrails"]} == {EU}


def test_demo_unknown_cluster_names_its_region(demo_env, tmp_path):
    from eksaudit.collect.run import collect
    from eksaudit.errors import UserError

    target, source, _ = demo_env
    with pytest.raises(UserError, match="legacy-west is in eu-west-1: add --region eu-west-1"):
        collect(target, source, tmp_path, clusters=["legacy-west"])


def test_demo_inventory_denied_in_another_region_is_error_not_pass(demo_env, tmp_path, monkeypatch):
    """`--cluster prod-hardened` while ListClusters is denied in eu-west-1: its roles cannot be shown unshared."""
    import botocore.exceptions as bex

    from eksaudit.collect import aws
    from eksaudit.collect.run import collect

    target, source, _ = demo_env
    real = aws.call

    def call(client, operation, params):
        if operation == "ListClusters" and client.meta.region_name == EU:
            raise bex.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "explicit deny in an SCP"},
                                   "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)
        return real(client, operation, params)

    monkeypatch.setattr(aws, "call", call)
    ev = Evidence(collect(target, source, tmp_path, clusters=["prod-hardened"]))
    f = run_checks(ev, ids=["IAM-05"])
    assert set(f["cluster"]) == {"prod-hardened"}
    assert set(f["status"]) == {"ERROR"}, f[["resource_type", "status", "reason"]].to_string()
    assert f["reason"].str.contains("aws:eks:ListClusters in eu-west-1 access denied", regex=False).all()
    manifest = json.loads((ev.root / "manifest.json").read_text())
    assert EU not in manifest["scope"]["inventory"]
    # verdicts that do not compare against the rest of the account are untouched by the out-of-scope denial
    net = run_checks(ev, ids=["NET-07"])
    assert net["status"].tolist() == ["PASS"] and net["cluster"].tolist() == ["prod-hardened"]


# ---- the other account-wide claims under a narrowed audit ------------------------------------------------


def test_iam10_node_role_of_an_unselected_cluster_is_still_a_node_role(tmp_path):
    """c (eu-west-1, not selected) runs nodes on role node-c: held to read-only ECR, not 'no write everywhere'."""
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}
    role = {"RoleName": "node-c", "Arn": f"arn:aws:iam::{ACCOUNT}:role/node-c", "Path": "/",
            "AssumeRolePolicyDocument": trust, "AttachedManagedPolicies": [], "RolePolicyList": [
                {"PolicyName": "p", "PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Action": "ecr:PutImage",
                     "Resource": f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app"}]}}]}
    b = _account(tmp_path, shared=False)
    b.aws("iam", "GetAccountAuthorizationDetails", {"RoleDetailList": [role]}, region="")
    f = findings_for("IAM-10", b.select(clusters=["a"], regions=[US]).build())
    row = f[f["resource_id"].str.endswith("role/node-c")]
    assert row["status"].tolist() == ["FAIL"] and "node role may perform ECR write" in row["reason"].iloc[0]


def test_iam03_issuer_shared_with_an_unselected_cluster_is_not_attributed(tmp_path):
    issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/SAME"
    b = EvidenceBuilder(tmp_path).cluster("a", identity={"oidc": {"issuer": issuer}}).cluster(
        "b", identity={"oidc": {"issuer": issuer}})
    b.aws("iam", "ListOpenIDConnectProviders", {"OpenIDConnectProviderList": [
        {"Arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/SAME"}]}, region="")
    b.aws("iam", "GetAccountAuthorizationDetails", {}, region="")
    f = findings_for("IAM-03", b.select(clusters=["a"]).build())
    row = f[f["resource_id"] == "a (pod credentials)"]
    assert row["status"].tolist() == ["ERROR"] and "for clusters b" in row["reason"].iloc[0]
    assert "b" not in set(f["cluster"])

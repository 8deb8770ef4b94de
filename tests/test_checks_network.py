"""Network checks: PASS, FAIL and ERROR fixtures per check."""

from __future__ import annotations

import pytest

from eksaudit.testing import ACCOUNT, REGION, EvidenceBuilder, assert_error, findings_for, stubbed_evidence


def _vpc(public, private, cidrs):
    return {"vpcId": "vpc-1", "subnetIds": [], "securityGroupIds": [], "endpointPublicAccess": public,
            "endpointPrivateAccess": private, "publicAccessCidrs": cidrs}


def test_net07_pass_private_only(tmp_path):
    f = findings_for("NET-07", EvidenceBuilder(tmp_path).cluster("c").build())
    assert list(f["status"]) == ["PASS"]


def test_net07_fail_world_is_critical_restricted_is_high(tmp_path):
    b = EvidenceBuilder(tmp_path)
    b.cluster("open", resourcesVpcConfig=_vpc(True, False, ["0.0.0.0/0"]))
    b.cluster("narrow", resourcesVpcConfig=_vpc(True, True, ["203.0.113.0/24"]))
    f = findings_for("NET-07", b.build()).set_index("cluster")
    assert f.loc["open", "status"] == "FAIL" and f.loc["open", "severity"] == "critical"
    assert "private endpoint access is off" in f.loc["open", "reason"]
    assert f.loc["narrow", "status"] == "FAIL" and f.loc["narrow", "severity"] == "high"


def test_net07_error_when_describe_denied(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("ok")
    b.clusters["denied"] = "us-east-1"
    b.aws_error("eks", "DescribeCluster", params={"name": "denied"}, cluster="denied")
    f = findings_for("NET-07", b.build())
    assert_error(f[f["cluster"] == "denied"], "aws:eks:DescribeCluster access denied")
    assert set(f[f["cluster"] == "ok"]["status"]) == {"PASS"}


def _repos(*enc):
    return {"repositories": [{"repositoryName": f"r{i}", "repositoryArn": f"arn:aws:ecr:us-east-1:1:repository/r{i}",
                              "encryptionConfiguration": {"encryptionType": e}} for i, e in enumerate(enc)]}


def test_net09_pass_and_fail(tmp_path):
    f = findings_for("NET-09", EvidenceBuilder(tmp_path).aws("ecr", "DescribeRepositories", _repos("KMS", "AES256"))
                     .build()).set_index("resource_id")
    assert f.loc["arn:aws:ecr:us-east-1:1:repository/r0", "status"] == "PASS"
    assert f.loc["arn:aws:ecr:us-east-1:1:repository/r1", "status"] == "FAIL"


def test_net09_error_when_denied(tmp_path):
    f = findings_for("NET-09", EvidenceBuilder(tmp_path).aws_error("ecr", "DescribeRepositories").build())
    assert len(f) == 1
    assert_error(f, "aws:ecr:DescribeRepositories access denied")


def test_stubbed_collection_real_shapes(tmp_path):
    """The collector reads AWS's real DescribeRepositories shape (Stubber validates it against the model)."""
    from eksaudit.testing import stubbed_evidence

    repo = {"repositoryName": "app", "repositoryArn": "arn:aws:ecr:us-east-1:123456789012:repository/app",
            "registryId": "123456789012", "repositoryUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            "encryptionConfiguration": {"encryptionType": "AES256"}}
    ev = stubbed_evidence(tmp_path, [("ecr", "DescribeRepositories", {"repositories": [repo]}, {})])
    assert list(findings_for("NET-09", ev)["status"]) == ["FAIL"]
    ev2 = stubbed_evidence(tmp_path / "2", [("ecr", "DescribeRepositories",
                                             {"Error": {"Code": "AccessDeniedException", "HTTPStatusCode": 400}})])
    f = findings_for("NET-09", ev2)
    assert len(f) == 1
    assert_error(f, "aws:ecr:DescribeRepositories access denied (AccessDeniedException")


# ---- shared fixtures for NET-01..12 -------------------------------------------------------------------

VPC = "vpc-1"


def _sg(gid, *rules, tags=None):
    perms = []
    for port, cidr in rules:
        p = {"IpProtocol": "-1"} if port == "all" else {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
        perms.append({**p, "IpRanges": [{"CidrIp": cidr}]})
    return {"GroupId": gid, "GroupName": gid, "VpcId": VPC, "IpPermissions": perms,
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}


def _ep(service, groups=("sg-ep",), kind="Interface", dns=True, vpc=VPC):
    return {"VpcEndpointId": f"vpce-{service}", "VpcEndpointType": kind, "VpcId": vpc, "State": "available",
            "ServiceName": f"com.amazonaws.{REGION}.{service}", "PrivateDnsEnabled": dns,
            "Groups": [{"GroupId": g, "GroupName": g} for g in groups]}


def _net(tmp_path, endpoints=(), groups=(), secrets=(), **cluster):
    b = EvidenceBuilder(tmp_path).cluster("c", **cluster)
    b.aws("ec2", "DescribeVpcEndpoints", {"VpcEndpoints": list(endpoints)})
    b.aws("ec2", "DescribeSecurityGroups", {"SecurityGroups": list(groups)})
    b.aws("ec2", "DescribeVpcs", {"Vpcs": [{"VpcId": VPC, "CidrBlock": "10.0.0.0/16"}]})
    b.aws("secretsmanager", "ListSecrets", {"SecretList": [{"Name": s, "ARN": f"arn:{s}"} for s in secrets]})
    return b


def _by(f, key="resource_id"):
    return {r[key]: r for r in f.to_dict("records")}


# ---- NET-04 / NET-08 / NET-11: VPC endpoints ----------------------------------------------------------

def test_net04_pass_fail_open_and_missing(tmp_path):
    ok = findings_for("NET-04", _net(tmp_path / "a", [_ep("eks")], [_sg("sg-ep", (443, "10.0.0.0/16"))]).build())
    assert list(ok["status"]) == ["PASS"]
    open_ = findings_for("NET-04", _net(tmp_path / "b", [_ep("eks")], [_sg("sg-ep", (443, "0.0.0.0/0"))]).build())
    assert list(open_["status"]) == ["FAIL"] and "sg-ep allows ingress from the whole internet" in open_["reason"][0]
    missing = findings_for("NET-04", _net(tmp_path / "c", [_ep("ecr.api")], []).build())
    assert list(missing["status"]) == ["FAIL"] and "no interface endpoint com.amazonaws.us-east-1.eks" in \
        missing["reason"][0]


def test_net04_error_when_endpoints_denied(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.aws_error("ec2", "DescribeVpcEndpoints").aws("ec2", "DescribeSecurityGroups", {"SecurityGroups": []})
    f = findings_for("NET-04", b.build())
    assert "PASS" not in set(f["status"])
    assert_error(f[f["status"] == "ERROR"], "aws:ec2:DescribeVpcEndpoints access denied")


def test_net04_error_when_endpoint_group_unknown(tmp_path):
    f = findings_for("NET-04", _net(tmp_path, [_ep("eks", groups=("sg-gone",))], []).build())
    assert len(f) == 1
    assert_error(f, "sg-gone", "not in the DescribeSecurityGroups evidence")


def test_vpc_resolved_from_subnets_when_cluster_omits_it(tmp_path):
    vpc = {"subnetIds": ["subnet-1"], "securityGroupIds": [], "endpointPublicAccess": False,
           "endpointPrivateAccess": True}
    b = _net(tmp_path, [_ep("eks")], [_sg("sg-ep")], resourcesVpcConfig=vpc)
    b.aws("ec2", "DescribeSubnets", {"Subnets": [{"SubnetId": "subnet-1", "VpcId": VPC}]})
    assert list(findings_for("NET-04", b.build())["status"]) == ["PASS"]
    b2 = _net(tmp_path / "2", [_ep("eks")], [_sg("sg-ep")], resourcesVpcConfig=vpc)
    f = findings_for("NET-04", b2.build())
    assert len(f) == 1
    assert_error(f, "cluster VPC is unknown", "DescribeCluster gave no vpcId", "not found in aws:ec2:DescribeSubnets")


def test_net08_needs_endpoint_with_private_dns_when_secrets_exist(tmp_path):
    groups = [_sg("sg-ep", (443, "10.0.0.0/16"))]
    ok = findings_for("NET-08", _net(tmp_path / "a", [_ep("secretsmanager")], groups, ["db"]).build())
    assert list(ok["status"]) == ["PASS"] and "1 secret(s)" in ok["reason"][0]
    nodns = findings_for("NET-08", _net(tmp_path / "b", [_ep("secretsmanager", dns=False)], groups, ["db"]).build())
    assert list(nodns["status"]) == ["FAIL"] and "private DNS is off" in nodns["reason"][0]
    missing = findings_for("NET-08", _net(tmp_path / "c", [], groups, ["db"]).build())
    assert list(missing["status"]) == ["FAIL"]
    none = findings_for("NET-08", _net(tmp_path / "d", [], groups, []).build())
    assert list(none["status"]) == ["NOT_APPLICABLE"]


def test_net08_error_when_secrets_not_listed(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c").aws_error("secretsmanager", "ListSecrets")
    b.aws("ec2", "DescribeVpcEndpoints", {"VpcEndpoints": []}).aws("ec2", "DescribeSecurityGroups",
                                                                    {"SecurityGroups": []})
    f = findings_for("NET-08", b.build())
    assert_error(f, "aws:secretsmanager:ListSecrets access denied")


def test_net11_all_three_endpoints(tmp_path):
    groups = [_sg("sg-ep", (443, "10.0.0.0/16")), _sg("sg-open", (443, "::/0"))]
    eps = [_ep("ecr.api"), _ep("ecr.dkr", groups=("sg-open",)), _ep("s3", groups=(), kind="Gateway")]
    f = _by(findings_for("NET-11", _net(tmp_path, eps, groups).build()))
    status = {k.split(f"{REGION}.")[1].split(" ")[0]: v["status"] for k, v in f.items()}
    assert status == {"ecr.api": "PASS", "ecr.dkr": "FAIL", "s3": "PASS"}
    missing = findings_for("NET-11", _net(tmp_path / "2", [_ep("ecr.api")], groups).build())
    assert sorted(missing["status"]) == ["FAIL", "FAIL", "PASS"]
    assert missing["reason"].str.contains("no gateway endpoint com.amazonaws.us-east-1.s3").any()


def test_net11_error_when_groups_denied(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c").aws_error("ec2", "DescribeSecurityGroups")
    b.aws("ec2", "DescribeVpcEndpoints", {"VpcEndpoints": [_ep("ecr.api"), _ep("ecr.dkr")]})
    f = findings_for("NET-11", b.build())
    assert "PASS" not in set(f["status"])  # the missing S3 gateway endpoint is a proven FAIL
    assert_error(f[f["status"] == "ERROR"], "aws:ec2:DescribeSecurityGroups access denied")


@pytest.mark.parametrize(("endpoint", "group", "status", "words"), [
    # an endpoint in another VPC of the account guards nothing here
    ({"vpc": "vpc-other"}, (443, "10.0.0.0/16"), "FAIL", "no interface endpoint com.amazonaws.us-east-1.eks"),
    # not restricted to the VPC: a source outside its CIDR, though not the whole internet
    ({}, (443, "203.0.113.0/24"), "FAIL", "sg-ep admits 203.0.113.0/24, outside the VPC (10.0.0.0/16)"),
    ({}, (443, "10.0.4.0/24"), "PASS", "admit only sources inside the VPC vpc-1"),
    ({"state": "pendingAcceptance"}, (443, "10.0.0.0/16"), "FAIL", "is pendingAcceptance, not available"),
])
def test_endpoint_is_proven_for_the_cluster_vpc(tmp_path, endpoint, group, status, words):
    ep = _ep("eks", vpc=endpoint.get("vpc", VPC))
    ep["State"] = endpoint.get("state", "available")
    f = findings_for("NET-04", _net(tmp_path, [ep], [_sg("sg-ep", group)]).build())
    assert list(f["status"]) == [status] and words in f["reason"][0], f["reason"][0]


def test_endpoint_prefix_list_source_is_manual(tmp_path):
    sg = _sg("sg-ep")
    sg["IpPermissions"] = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                            "PrefixListIds": [{"PrefixListId": "pl-1"}]}]
    f = findings_for("NET-11", _net(tmp_path, [_ep("ecr.api")], [sg]).build())
    api = f[f["resource_id"].str.contains("ecr.api")]
    assert list(api["status"]) == ["MANUAL"] and "prefix list pl-1" in api["reason"].iloc[0]


def test_endpoint_error_when_vpc_cidrs_unreadable(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c").aws_error("ec2", "DescribeVpcs")
    b.aws("ec2", "DescribeVpcEndpoints", {"VpcEndpoints": [_ep("eks")]})
    b.aws("ec2", "DescribeSecurityGroups", {"SecurityGroups": [_sg("sg-ep", (443, "10.0.0.0/16"))]})
    f = findings_for("NET-04", b.build())
    assert "PASS" not in set(f["status"]) and f["reason"].str.contains("aws:ec2:DescribeVpcs").any()


# ---- NET-05: security groups --------------------------------------------------------------------------

def test_net05_world_all_ports_and_ssh(tmp_path):
    groups = [_sg("sg-1", (443, "10.0.0.0/16"), (22, "10.0.5.0/24")),
              _sg("sg-cluster", (22, "198.51.100.0/24")),
              _sg("sg-node", ("all", "192.168.0.0/16"), tags={"kubernetes.io/cluster/c": "owned"})]
    f = _by(findings_for("NET-05", _net(tmp_path, [], groups).build()))
    assert f["sg-1"]["status"] == "PASS"
    assert f["sg-cluster"]["status"] == "FAIL" and "SSH open to 198.51.100.0/24, outside the VPC" in \
        f["sg-cluster"]["reason"]
    assert f["sg-node"]["status"] == "FAIL" and "all ports open to 192.168.0.0/16" in f["sg-node"]["reason"]
    world = findings_for("NET-05", _net(tmp_path / "2", [], [_sg("sg-1", (443, "0.0.0.0/0")),
                                                              _sg("sg-cluster")]).build())
    assert _by(world)["sg-1"]["status"] == "FAIL" and "port 443 open to 0.0.0.0/0" in _by(world)["sg-1"]["reason"]


def test_net05_error_when_groups_denied(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c").aws_error("ec2", "DescribeSecurityGroups")
    b.aws("ec2", "DescribeVpcs", {"Vpcs": []})
    assert_error(findings_for("NET-05", b.build()), "aws:ec2:DescribeSecurityGroups access denied")


# ---- NET-02: load balancers ---------------------------------------------------------------------------

LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/edge/1"


def _lb_evidence(b, listeners, policies=None, tag_cluster=None, vpc="vpc-other"):
    b.aws("elbv2", "DescribeLoadBalancers", {"LoadBalancers": [
        {"LoadBalancerArn": LB_ARN, "LoadBalancerName": "edge", "Type": "network", "Scheme": "internet-facing",
         "VpcId": vpc}]})
    b.aws("elbv2", "DescribeTags", {"TagDescriptions": [{"ResourceArn": LB_ARN, "Tags": [
        {"Key": "elbv2.k8s.aws/cluster", "Value": tag_cluster}] if tag_cluster else []}]},
          params={"ResourceArns": [LB_ARN]})
    b.aws("elbv2", "DescribeListeners", {"Listeners": [
        {"ListenerArn": f"{LB_ARN}/l{i}", "LoadBalancerArn": LB_ARN, **li} for i, li in enumerate(listeners)]},
          params={"LoadBalancerArn": LB_ARN})
    b.aws("elbv2", "DescribeSSLPolicies", {"SslPolicies": policies if policies is not None else [
        {"Name": "old", "SslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"]},
        {"Name": "modern", "SslProtocols": ["TLSv1.2", "TLSv1.3"]}]})
    return b


def test_net02_policies_and_redirects(tmp_path):
    listeners = [{"Protocol": "TLS", "Port": 443, "SslPolicy": "old"},
                 {"Protocol": "HTTPS", "Port": 8443, "SslPolicy": "modern"},
                 {"Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "forward"}]},
                 {"Protocol": "HTTP", "Port": 8080, "DefaultActions": [
                     {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443"}}]}]
    f = findings_for("NET-02", _lb_evidence(EvidenceBuilder(tmp_path).cluster("c"), listeners, tag_cluster="c").build())
    got = {r["resource_id"].split(" ")[0]: (r["status"], r["reason"]) for r in f.to_dict("records")}
    assert got["edge:TLS:443"][0] == "FAIL" and "TLS below 1.2" in got["edge:TLS:443"][1]
    assert got["edge:HTTPS:8443"][0] == "PASS"
    assert got["edge:HTTP:80"][0] == "FAIL" and "without redirecting" in got["edge:HTTP:80"][1]
    assert got["edge:HTTP:8080"][0] == "PASS"


def test_net02_scope_by_vpc_and_unknown_policy_is_error(tmp_path):
    listeners = [{"Protocol": "HTTPS", "Port": 443, "SslPolicy": "custom-missing"}]
    f = findings_for("NET-02", _lb_evidence(EvidenceBuilder(tmp_path).cluster("c"), listeners, vpc="vpc-1").build())
    assert len(f) == 1
    assert_error(f, "custom-missing", "not returned by DescribeSSLPolicies")
    other = findings_for("NET-02", _lb_evidence(EvidenceBuilder(tmp_path / "2").cluster("c"), listeners).build())
    assert list(other["status"]) == ["NOT_APPLICABLE"]  # another VPC, not tagged for the cluster


def test_net02_error_when_policies_denied(tmp_path):
    b = _lb_evidence(EvidenceBuilder(tmp_path).cluster("c"), [{"Protocol": "HTTPS", "Port": 443,
                                                              "SslPolicy": "modern"}], tag_cluster="c")
    b.aws_error("elbv2", "DescribeSSLPolicies")
    f = findings_for("NET-02", b.build())
    assert "PASS" not in set(f["status"]) and f["reason"].str.contains("DescribeSSLPolicies").any()


def test_net02_stubbed_real_shapes(tmp_path):
    """Real DescribeLoadBalancers / DescribeListeners / DescribeTags / DescribeSSLPolicies shapes."""
    lb = {"LoadBalancerArn": LB_ARN, "LoadBalancerName": "edge", "Type": "network", "Scheme": "internet-facing",
          "VpcId": "vpc-9"}
    calls = [
        ("elbv2", "DescribeLoadBalancers", {"LoadBalancers": [lb]}, {}),
        ("elbv2", "DescribeSSLPolicies", {"SslPolicies": [
            {"Name": "ELBSecurityPolicy-TLS-1-0-2015-04", "SslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"],
             "Ciphers": [{"Name": "AES128-SHA", "Priority": 1}], "SupportedLoadBalancerTypes": ["network"]}]}, {}),
        ("elbv2", "DescribeListeners", {"Listeners": [
            {"ListenerArn": f"{LB_ARN}/l", "LoadBalancerArn": LB_ARN, "Port": 443, "Protocol": "TLS",
             "SslPolicy": "ELBSecurityPolicy-TLS-1-0-2015-04",
             "DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:tg"}]}]}, {"LoadBalancerArn": LB_ARN}),
        ("elbv2", "DescribeTags", {"TagDescriptions": [{"ResourceArn": LB_ARN, "Tags": [
            {"Key": "elbv2.k8s.aws/cluster", "Value": "c"}]}]}, {"ResourceArns": [LB_ARN]}),
    ]
    ev = stubbed_evidence(tmp_path / "s", calls)
    b = EvidenceBuilder(tmp_path / "e").cluster("c")
    for e in ev.entries:  # graft the stubbed reads onto an evidence folder that has the cluster
        b.aws(e["service"], e["operation"], ev.load(e), params=e["params"])
    f = findings_for("NET-02", b.build())
    assert list(f["status"]) == ["FAIL"] and "ELBSecurityPolicy-TLS-1-0-2015-04 allows TLSv1" in f["reason"][0]


# ---- NET-03: nodes ------------------------------------------------------------------------------------

def _node(name, version):
    return {"kind": "Node", "metadata": {"name": name}, "status": {"nodeInfo": {"kubeletVersion": version}}}


def test_net03_versions_and_manual_config(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c", k8s={"nodes": [_node("old", "v1.27.16-eks-1"),
                                                              _node("new", "v1.31.2-eks-2")]})
    f = _by(findings_for("NET-03", b.build()))
    assert f["c/node/old"]["status"] == "FAIL" and "older than the oldest supported version" in f["c/node/old"]["reason"]
    assert f["c/node/new"]["status"] == "PASS"
    assert f["c/kubelet-config"]["status"] == "MANUAL"


def test_net03_error_when_nodes_denied(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c").k8s_error("c", "nodes")
    f = findings_for("NET-03", b.build())
    assert len(f) == 1
    assert_error(f, "k8s:nodes access denied")


# ---- NET-06: network policies -------------------------------------------------------------------------

def _netpol(ns, name="deny", selector=None):
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns},
            "spec": {"podSelector": selector or {}, "policyTypes": ["Ingress"]}}


def test_net06_namespaces_and_default_deny(tmp_path):
    from eksaudit.testing import pod

    k8s = {"pods": [pod("a", "shop"), pod("b", "pay"), pod("c", "sgp")],
           "networkpolicies": [_netpol("pay")],
           "securitygrouppolicies": [{"kind": "SecurityGroupPolicy", "metadata": {"name": "db", "namespace": "sgp"},
                                      "spec": {"podSelector": {}, "securityGroups": {"groupIds": ["sg-1"]}}}]}
    f = _by(findings_for("NET-06", EvidenceBuilder(tmp_path).cluster("c", k8s=k8s).build()))
    assert f["c/shop"]["status"] == "FAIL" and "neither a NetworkPolicy nor a SecurityGroupPolicy" in f["c/shop"]["reason"]
    assert f["c/pay"]["status"] == "PASS" and f["c/sgp"]["status"] == "PASS"
    # a default-deny in one namespace says nothing about the others
    assert f["c/default-deny"]["status"] == "FAIL" and "namespace(s) sgp, shop" in f["c/default-deny"]["reason"]
    k8s["pods"] = [pod("b", "pay")]
    f1 = _by(findings_for("NET-06", EvidenceBuilder(tmp_path / "1").cluster("c", k8s=k8s).build()))
    assert f1["c/default-deny"]["status"] == "PASS" and "pay/deny in every namespace" in f1["c/default-deny"]["reason"]
    k8s["networkpolicies"] = [_netpol("pay", selector={"matchLabels": {"app": "x"}})]
    f2 = _by(findings_for("NET-06", EvidenceBuilder(tmp_path / "2").cluster("c", k8s=k8s).build()))
    assert f2["c/default-deny"]["status"] == "FAIL"
    assert f2["c/pay"]["status"] == "FAIL" and "selected by no policy that isolates them" in f2["c/pay"]["reason"]


def test_net06_a_policy_in_the_namespace_is_not_proof_for_every_pod(tmp_path):
    """PASS only when every workload is selected by an isolating policy: label selectors are evaluated."""
    from eksaudit.testing import pod

    api = pod("api", "pay", labels={"app": "api", "tier": "web"})
    db = pod("db", "pay", labels={"app": "db"})
    batch = pod("batch", "pay", labels={"app": "batch"}, sa="batch-sa")
    web_only = {**_netpol("pay", "web", {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]})}
    allow_all = _netpol("pay", "db-open", {"matchLabels": {"app": "db"}})
    allow_all["spec"]["ingress"] = [{}]  # admits every source on every port: no isolation
    sgp = {"kind": "SecurityGroupPolicy", "metadata": {"name": "batch-sg", "namespace": "pay"},
           "spec": {"serviceAccountSelector": {"matchLabels": {"role": "batch"}}, "securityGroups": {"groupIds": []}}}
    sa = {"kind": "ServiceAccount", "metadata": {"name": "batch-sa", "namespace": "pay", "labels": {"role": "batch"}}}
    k8s = {"pods": [api, db, batch], "networkpolicies": [web_only, allow_all], "securitygrouppolicies": [sgp],
           "serviceaccounts": [sa]}
    f = _by(findings_for("NET-06", EvidenceBuilder(tmp_path).cluster("c", k8s=k8s).build()))
    row = f["c/pay"]
    assert row["status"] == "FAIL" and row["reason"].startswith("Pod/db of 3 workloads"), row["reason"]
    allow_all["spec"]["ingress"] = [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}]}]
    f2 = _by(findings_for("NET-06", EvidenceBuilder(tmp_path / "2").cluster("c", k8s=k8s).build()))
    assert f2["c/pay"]["status"] == "PASS", f2["c/pay"]["reason"]
    assert "NetworkPolicy db-open, NetworkPolicy web, SecurityGroupPolicy batch-sg" in f2["c/pay"]["reason"]


def test_net06_error_when_policies_denied(tmp_path):
    from eksaudit.testing import pod

    b = EvidenceBuilder(tmp_path).cluster("c", k8s={"pods": [pod("a", "pay")], "networkpolicies": [_netpol("pay")]})
    b.store.entries = [e for e in b.store.entries if e["input"] != "k8s:networkpolicies"]
    b.k8s_error("c", "networkpolicies")
    assert_error(findings_for("NET-06", b.build()), "k8s:networkpolicies access denied")
    b2 = EvidenceBuilder(tmp_path / "2").cluster("c", k8s={"pods": [pod("a", "shop")]})
    b2.store.entries = [e for e in b2.store.entries if e["input"] != "k8s:securitygrouppolicies"]
    b2.k8s_error("c", "securitygrouppolicies")
    f2 = _by(findings_for("NET-06", b2.build()))
    assert f2["c/shop"]["status"] == "ERROR"
    assert "SecurityGroupPolicies could not be read (k8s:securitygrouppolicies access denied" in f2["c/shop"]["reason"]


# ---- NET-10: customer-managed keys for sensitive repositories -----------------------------------------

def _repo(name, enc="KMS", key="arn:aws:kms:us-east-1:123456789012:key/k1"):
    r = {"repositoryName": name, "repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}",
         "registryId": ACCOUNT, "repositoryUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}",
         "encryptionConfiguration": {"encryptionType": enc}}
    if enc == "KMS":
        r["encryptionConfiguration"]["kmsKey"] = key
    return r


def _key(manager, key_id="k1"):
    return {"KeyMetadata": {"KeyId": key_id, "Arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}",
                            "KeyManager": manager, "AWSAccountId": ACCOUNT}}


def _net10_calls(manager, tags, aliases=()):
    repo = _repo("app")
    # plan order: roots first (DescribeRepositories, ListAliases), then the calls fanned out of them
    return [("ecr", "DescribeRepositories", {"repositories": [repo]}, {}),
            ("kms", "ListAliases", {"Aliases": [{"AliasName": a, "TargetKeyId": "k1"} for a in aliases]}, {}),
            ("ecr", "ListTagsForResource", {"tags": tags}, {"resourceArn": repo["repositoryArn"]}),
            ("kms", "DescribeKey", _key(manager), {"KeyId": repo["encryptionConfiguration"]["kmsKey"]})]


@pytest.mark.parametrize("manager,aliases,expected", [("AWS", ["alias/aws/ecr"], "FAIL"),
                                                      ("CUSTOMER", ["alias/aws/ecr"], "FAIL"),
                                                      ("CUSTOMER", ["alias/team-images"], "PASS")])
def test_net10_stubbed_key_manager(tmp_path, manager, aliases, expected):
    """AWS reports KeyManager AWS for the aws/ecr key (moto says CUSTOMER; its alias still gives it away)."""
    ev = stubbed_evidence(tmp_path, _net10_calls(manager, [{"Key": "sensitivity", "Value": "high"}], aliases))
    f = findings_for("NET-10", ev)
    assert list(f["status"]) == [expected], f["reason"].tolist()
    if expected == "FAIL":
        assert "AWS-managed key" in f["reason"][0]


def test_net10_not_sensitive_aes_and_name_pattern(tmp_path):
    ev = stubbed_evidence(tmp_path, _net10_calls("AWS", [{"Key": "team", "Value": "x"}]))
    assert list(findings_for("NET-10", ev)["status"]) == ["NOT_APPLICABLE"]
    f = findings_for("NET-10", ev, {"sensitive_repo_patterns": ["ap*"]})
    assert list(f["status"]) == ["FAIL"] and "name matches ap*" in f["reason"][0]
    b = EvidenceBuilder(tmp_path / "aes").aws("ecr", "DescribeRepositories", {"repositories": [_repo("x", "AES256")]})
    b.aws("ecr", "ListTagsForResource", {"tags": [{"Key": "sensitive", "Value": "true"}]},
          params={"resourceArn": _repo("x")["repositoryArn"]})
    f = findings_for("NET-10", b.build())
    assert list(f["status"]) == ["FAIL"] and "AES256" in f["reason"][0]


def test_net10_error_when_key_or_tags_unreadable(tmp_path):
    calls = _net10_calls("CUSTOMER", [{"Key": "sensitivity", "Value": "high"}])
    calls[3] = ("kms", "DescribeKey", {"Error": {"Code": "AccessDeniedException", "HTTPStatusCode": 400}})
    f = findings_for("NET-10", stubbed_evidence(tmp_path / "k", calls))
    assert len(f) == 1
    assert_error(f, "could not be verified", "aws:kms:DescribeKey access denied")
    calls = _net10_calls("CUSTOMER", [])
    calls[2] = ("ecr", "ListTagsForResource", {"Error": {"Code": "AccessDeniedException", "HTTPStatusCode": 400}})
    f = findings_for("NET-10", stubbed_evidence(tmp_path / "t", calls))
    assert len(f) == 1
    assert_error(f, "could not tell whether it is sensitive", "aws:ecr:ListTagsForResource access denied")


# ---- NET-12: secrets envelope encryption --------------------------------------------------------------

def test_net12_pass_fail_error(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("enc").cluster("plain", encryptionConfig=[])
    f = findings_for("NET-12", b.build()).set_index("cluster")
    assert f.loc["enc", "status"] == "PASS" and f.loc["plain", "status"] == "FAIL"
    assert "not envelope-encrypted" in f.loc["plain", "reason"]
    b2 = EvidenceBuilder(tmp_path / "2")
    b2.clusters["denied"] = "us-east-1"
    b2.aws_error("eks", "DescribeCluster", params={"name": "denied"}, cluster="denied")
    assert_error(findings_for("NET-12", b2.build()), "aws:eks:DescribeCluster access denied")


# ---- NET-01 without probe evidence --------------------------------------------------------------------

def test_net01_error_without_probe_evidence(tmp_path):
    f = findings_for("NET-01", EvidenceBuilder(tmp_path).cluster("c").build())
    assert len(f) == 1
    assert_error(f, "no TLS probe evidence (probe:tls)", "collected without probes")


def test_net05_icmp_from_a_range_is_not_all_ports(tmp_path):
    icmp = {"GroupId": "sg-1", "GroupName": "g", "VpcId": VPC, "IpPermissions": [
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}
    f = findings_for("NET-05", _net(tmp_path, [], [icmp, _sg("sg-cluster")]).build())
    assert set(f["status"]) == {"PASS"}


def test_net05_nodegroup_ssh_without_source_groups(tmp_path):
    b = _net(tmp_path, [], [_sg("sg-1"), _sg("sg-cluster")])
    for name, sources in (("open", []), ("scoped", ["sg-bastion"])):
        b.aws("eks", "DescribeNodegroup", {"nodegroup": {
            "nodegroupName": name, "clusterName": "c", "nodegroupArn": f"arn:ng/{name}",
            "remoteAccess": {"ec2SshKey": "ops", "sourceSecurityGroups": sources}}},
              params={"clusterName": "c", "nodegroupName": name}, cluster="c")
    f = _by(findings_for("NET-05", b.build()))
    assert f["arn:ng/open"]["status"] == "FAIL" and "opens port 22 to 0.0.0.0/0" in f["arn:ng/open"]["reason"]
    assert "arn:ng/scoped" not in f


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ({}, {"app": "x"}, True),
    ({"matchLabels": {"app": "x"}}, {"app": "x", "tier": "web"}, True),
    ({"matchLabels": {"app": "x"}}, {"app": "y"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}, {"tier": "api"}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}, {}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}, {"tier": "web"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"tier": ""}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"tier": "x"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "Gt", "values": ["1"]}]}, {"tier": "2"}, False),
])
def test_label_selectors(selector, labels, expected):
    from eksaudit.checks.common import selects

    assert selects(selector, labels) is expected

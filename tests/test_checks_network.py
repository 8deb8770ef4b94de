"""Network checks: PASS, FAIL and ERROR fixtures per check."""

from __future__ import annotations

from eksaudit.testing import EvidenceBuilder, findings_for


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
    assert set(f[f["cluster"] == "denied"]["status"]) == {"ERROR"}
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
    assert list(f["status"]) == ["ERROR"]


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
    assert list(f["status"]) == ["ERROR"] and "access denied" in f["reason"].iloc[0]

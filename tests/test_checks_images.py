"""Images checks: PASS, FAIL and ERROR fixtures per check."""

from __future__ import annotations

import pytest

from eksaudit.frames.images import split_image
from eksaudit.testing import ACCOUNT, EvidenceBuilder, findings_for, pod

ECR = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"


def _ev(tmp_path, pods):
    return EvidenceBuilder(tmp_path).cluster("c", k8s={"pods": pods}).build()


@pytest.mark.parametrize("image,registry,repo,tag", [
    ("nginx", "docker.io", "library/nginx", "latest"),
    ("nginx:1.25", "docker.io", "library/nginx", "1.25"),
    ("bitnami/redis:7", "docker.io", "bitnami/redis", "7"),
    ("quay.io/prometheus/node-exporter:v1", "quay.io", "prometheus/node-exporter", "v1"),
    ("localhost:5000/app@sha256:abc", "localhost:5000", "app", ""),
    (f"{ECR}/team/app:1", ECR, "team/app", "1"),
])
def test_split_image(image, registry, repo, tag):
    parts = split_image(image)
    assert (parts["registry"], parts["repository"], parts["tag"]) == (registry, repo, tag)


def test_img01_pass_own_ecr(tmp_path):
    f = findings_for("IMG-01", _ev(tmp_path, [pod("a", containers=[{"name": "c", "image": f"{ECR}/app:1"}])]))
    assert set(f["status"]) == {"PASS"}


def test_img01_fail_public_and_other_account(tmp_path):
    pods = [pod("a", containers=[{"name": "c", "image": "nginx"}]),
            pod("b", containers=[{"name": "c", "image": "999999999999.dkr.ecr.us-east-1.amazonaws.com/x:1"}],
                init=[{"name": "i", "image": "ghcr.io/evil/tool:1"}])]
    f = findings_for("IMG-01", _ev(tmp_path, pods))
    assert set(f["status"]) == {"FAIL"} and len(f) == 3


def test_img01_parameter_adds_registries(tmp_path):
    pods = [pod("a", containers=[{"name": "c", "image": "ghcr.io/acme/app:1"}])]
    f = findings_for("IMG-01", _ev(tmp_path, pods), {"trusted_registries": ["ghcr.io/acme/*"]})
    assert set(f["status"]) == {"PASS"}


def test_img01_error(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.k8s_error("c", "pods")
    assert set(findings_for("IMG-01", b.build())["status"]) == {"ERROR"}


def test_img06_pass_fail(tmp_path):
    pods = [pod("a", containers=[{"name": "c", "image": "x", "securityContext": {"readOnlyRootFilesystem": True}}]),
            pod("b", containers=[{"name": "c", "image": "x"}])]
    f = findings_for("IMG-06", _ev(tmp_path, pods)).set_index("resource_id")
    assert f.loc["app/Pod/a/container:c", "status"] == "PASS"
    assert f.loc["app/Pod/b/container:c", "status"] == "FAIL"


def test_img06_error(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.k8s_error("c", "cronjobs")
    assert set(findings_for("IMG-06", b.build())["status"]) == {"ERROR"}


def test_img01_aws_addon_registry_trusted_by_default(tmp_path):
    image = "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.18.0"
    ev = _ev(tmp_path, [pod("a", containers=[{"name": "c", "image": image}])])
    assert set(findings_for("IMG-01", ev)["status"]) == {"PASS"}
    assert set(findings_for("IMG-01", ev, {"trust_aws_addon_registries": False})["status"]) == {"FAIL"}

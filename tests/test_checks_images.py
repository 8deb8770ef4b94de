"""Images checks: PASS, FAIL and ERROR fixtures per check."""

from __future__ import annotations

import pytest

from eksaudit.frames.images import split_image
from eksaudit.testing import ACCOUNT, EvidenceBuilder, assert_error, findings_for, pod

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
    assert_error(findings_for("IMG-01", b.build()), "k8s:pods access denied")


def test_img06_pass_fail(tmp_path):
    pods = [pod("a", containers=[{"name": "c", "image": "x", "securityContext": {"readOnlyRootFilesystem": True}}]),
            pod("b", containers=[{"name": "c", "image": "x"}])]
    f = findings_for("IMG-06", _ev(tmp_path, pods)).set_index("resource_id")
    assert f.loc["app/Pod/a/container:c", "status"] == "PASS"
    assert f.loc["app/Pod/b/container:c", "status"] == "FAIL"


def test_img06_error(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.k8s_error("c", "cronjobs")
    assert_error(findings_for("IMG-06", b.build()), "k8s:cronjobs access denied")


def test_img01_aws_addon_registry_trusted_by_default(tmp_path):
    image = "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.18.0"
    ev = _ev(tmp_path, [pod("a", containers=[{"name": "c", "image": image}])])
    assert set(findings_for("IMG-01", ev)["status"]) == {"PASS"}
    assert set(findings_for("IMG-01", ev, {"trust_aws_addon_registries": False})["status"]) == {"FAIL"}


# ---- IMG-02..05, 07, 08 -------------------------------------------------------------------------------------

import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from eksaudit.collect.attachments import collect_attachments  # noqa: E402
from eksaudit.collect.steps.images import _manifest_calls, _scan_calls  # noqa: E402
from eksaudit.testing import stubbed_evidence  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "eksaudit" / "demo" / "data"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _iso(days_ago: float) -> str:
    return (NOW - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _attach(b: EvidenceBuilder, tmp_path: Path, key: str, name: str, body: bytes, days_old: float = 1) -> None:
    path = tmp_path / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(body)
    t = time.time() - days_old * 86400
    os.utime(path, (t, t))
    collect_attachments(b.store, b.account, {key: [path]})


def _cronjob(last_success: str | None, name: str = "kube-bench") -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [
                {"name": "kb", "image": "aquasec/kube-bench:v0.9.1"}]}}}}},
            "status": {"lastSuccessfulTime": last_success} if last_success else {}}


def _by(f, col="resource_id"):
    return {r[col]: r for r in f.to_dict("records")}


def test_img02_pass_recent_cronjob(tmp_path):
    ev = EvidenceBuilder(tmp_path).cluster("c", k8s={"cronjobs": [_cronjob(_iso(2))]}).build()
    f = findings_for("IMG-02", ev)
    assert list(f["status"]) == ["PASS"] and "CronJob kube-system/kube-bench" in f["reason"].iloc[0]


def test_img02_fail_no_evidence_and_stale_cronjob(tmp_path):
    ev = EvidenceBuilder(tmp_path).cluster("c", k8s={}).build()
    f = findings_for("IMG-02", ev)
    assert list(f["status"]) == ["FAIL"] and "no evidence of a kube-bench run" in f["reason"].iloc[0]
    ev = EvidenceBuilder(tmp_path / "b").cluster("c", k8s={"cronjobs": [_cronjob(_iso(45))]}).build()
    f = findings_for("IMG-02", ev)
    assert list(f["status"]) == ["FAIL"] and "older than 30 days" in f["reason"].iloc[0]
    assert list(findings_for("IMG-02", ev, {"kube_bench_max_age_days": 60})["status"]) == ["PASS"]


def test_img02_attached_result_fails_become_findings_and_time_in_file_wins(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c", k8s={})
    # modified an hour ago, but the file says it ran in 2025: the file's own time decides
    _attach(b, tmp_path, "kube-bench:c", "kb.json", (DATA / "kube-bench-legacy-weak.json").read_bytes(), 0.04)
    f = findings_for("IMG-02", b.build())
    rows = _by(f)
    assert rows["c"]["status"] == "FAIL" and "time recorded in the file" in rows["c"]["reason"]
    assert rows["kube-bench:kb.json:3.2.1"]["status"] == "FAIL" and "Anonymous Auth" in \
        rows["kube-bench:kb.json:3.2.1"]["reason"]
    assert rows["kube-bench:kb.json:3.2.1"]["evidence"].endswith("#3.2.1")
    assert not any(k.endswith(":3.2.3") for k in rows)  # PASS results are not findings


def test_img02_fresh_file_passes_even_when_jobs_are_unreadable(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.k8s_error("c", "jobs")
    _attach(b, tmp_path, "kube-bench", "kb.json", (DATA / "kube-bench-prod-hardened.json").read_bytes(), 3)
    f = findings_for("IMG-02", b.build())
    assert list(f["status"]) == ["PASS"] and "modified time" in f["reason"].iloc[0]


def test_img02_error_when_jobs_unreadable_and_no_result(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    b.k8s_error("c", "jobs")
    f = findings_for("IMG-02", b.build())
    assert len(f) == 1
    assert_error(f, "Jobs/CronJobs could not be read", "k8s:jobs access denied")


def test_img02_malformed_result_is_an_error_row(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c", k8s={"cronjobs": [_cronjob(_iso(1))]})
    _attach(b, tmp_path, "kube-bench:c", "kb.json", b'{"Controls": [{"id": "3", "tests": [')
    rows = _by(findings_for("IMG-02", b.build()))
    assert rows["c"]["status"] == "PASS"
    assert rows["kb.json"]["status"] == "ERROR"
    assert "kb.json (file:kube-bench) is unreadable: not valid JSON" in rows["kb.json"]["reason"]


def test_img03_pass_fail_error(tmp_path):
    doc = json.loads((DATA / "docker-bench-security.log.json").read_text())
    doc["start"], doc["end"] = int(time.time()) - 86400, int(time.time()) - 86300
    b = EvidenceBuilder(tmp_path).cluster("c")
    _attach(b, tmp_path, "docker-bench", "db.log.json", json.dumps(doc).encode())
    rows = _by(findings_for("IMG-03", b.build()))
    # a fresh result proves the benchmark runs; which hosts it covered is for a reviewer to confirm
    assert rows[ACCOUNT]["status"] == "PASS" and "within 30 days" in rows[ACCOUNT]["reason"]
    assert "confirm every host that builds images" in rows[ACCOUNT]["reason"]
    assert rows["docker-bench:db.log.json:4.1"]["status"] == "FAIL"
    assert "ci-cache-warmer" in rows["docker-bench:db.log.json:4.1"]["reason"]
    assert "docker-bench:db.log.json:2.3" not in rows  # PASS results are not findings
    # nothing given
    f = findings_for("IMG-03", EvidenceBuilder(tmp_path / "none").cluster("c").build())
    assert list(f["status"]) == ["FAIL"] and "containerd" in f["reason"].iloc[0]
    # broken JSON alone
    b = EvidenceBuilder(tmp_path / "broken").cluster("c")
    _attach(b, tmp_path, "docker-bench", "x.log.json", b'{"tests": [{"id": "1", "results": [{"id": "1.1", "des')
    rows = _by(findings_for("IMG-03", b.build()))
    assert rows["x.log.json"]["status"] == "ERROR" and rows[ACCOUNT]["status"] == "FAIL"
    assert "x.log.json (file:docker-bench) is unreadable: not valid JSON" in rows["x.log.json"]["reason"]


def test_img03_broken_json_falls_back_to_the_text_log(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c")
    _attach(b, tmp_path, "docker-bench", "db.log.json", b'{"tests": [{"id": "4", "results": [{"id": "4.1", '
            b'"result": "WARN", "details": "image "web" runs as root"}]}]}')
    _attach(b, tmp_path, "docker-bench", "db.log", (DATA / "docker-bench-security.log").read_bytes())
    rows = _by(findings_for("IMG-03", b.build()))
    assert rows[ACCOUNT]["status"] == "FAIL" and "text log" in rows[ACCOUNT]["reason"]  # the sample log is old
    assert rows["docker-bench:db.log.json:5.4"]["status"] == "FAIL"


# ---- ECR: real response shapes through botocore's Stubber ------------------------------------------------

REPO_ARN = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/"


def _repo(name: str, scan: bool = True, mutability: str = "IMMUTABLE") -> dict:
    return {"repositoryArn": REPO_ARN + name, "registryId": ACCOUNT, "repositoryName": name,
            "repositoryUri": f"{ECR}/{name}", "imageTagMutability": mutability,
            "imageScanningConfiguration": {"scanOnPush": scan}, "encryptionConfiguration": {"encryptionType": "KMS"}}


def _detail(repo: str, digest: str, tags: list[str], pushed_days: float, counts: dict | None) -> dict:
    d = {"registryId": ACCOUNT, "repositoryName": repo, "imageDigest": digest, "imageTags": tags,
         "imageSizeInBytes": 31457280, "imagePushedAt": NOW - dt.timedelta(days=pushed_days),
         "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"}
    if counts is not None:
        d["imageScanStatus"] = {"status": "COMPLETE", "description": "The scan was completed successfully."}
        d["imageScanFindingsSummary"] = {"imageScanCompletedAt": NOW - dt.timedelta(days=1),
                                         "vulnerabilitySourceUpdatedAt": NOW, "findingSeverityCounts": counts}
    return d


def _manifest(base: str | None) -> str:
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "c" * 64, "size": 1},
         "layers": []}
    if base:
        m["annotations"] = {"org.opencontainers.image.base.name": base}
    return json.dumps(m)


D_OLD, D_NEW, D_UNSCANNED = "sha256:" + "1" * 64, "sha256:" + "2" * 64, "sha256:" + "3" * 64


def _stubbed(tmp_path: Path, batch_get=None) -> EvidenceBuilder:
    """ECR evidence collected through the Stubber, copied into a builder that adds the cluster's pods."""
    images = [_detail("app", D_OLD, ["old"], 200, {"CRITICAL": 2, "MEDIUM": 1}),
              _detail("app", D_NEW, ["new"], 5, {"LOW": 3}),
              _detail("app", D_UNSCANNED, ["unscanned"], 5, None)]
    calls = [
        ("ecr", "DescribeRepositories", {"repositories": [_repo("app")]}),
        ("ecr", "GetRegistryScanningConfiguration", {"registryId": ACCOUNT,
                                                     "scanningConfiguration": {"scanType": "BASIC", "rules": []}}),
        ("ecr", "DescribeImages", {"imageDetails": images}, {"repositoryName": "app"}),
        ("ecr", "GetLifecyclePolicy", {"Error": {"Code": "LifecyclePolicyNotFoundException", "HTTPStatusCode": 400}},
         {"repositoryName": "app"}),
        ("ecr", "DescribeImageScanFindings", {"Error": {"Code": "ScanNotFoundException", "HTTPStatusCode": 400}},
         {"repositoryName": "app", "imageId": {"imageDigest": D_UNSCANNED}}),
        ("ecr", "BatchGetImage", batch_get or {"images": [
            {"registryId": ACCOUNT, "repositoryName": "app", "imageId": {"imageDigest": D_OLD},
             "imageManifest": _manifest("docker.io/library/python:3.8"),
             "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"},
            {"registryId": ACCOUNT, "repositoryName": "app", "imageId": {"imageDigest": D_NEW},
             "imageManifest": _manifest(f"{ECR}/base/distroless:1")},
            {"registryId": ACCOUNT, "repositoryName": "app", "imageId": {"imageDigest": D_UNSCANNED},
             "imageManifest": _manifest(None)}], "failures": []}),
    ]
    stub = stubbed_evidence(tmp_path / "stub", calls)
    b = EvidenceBuilder(tmp_path / "ev")
    for e in stub.entries:
        if e["status"] == "ok":
            b.aws(e["service"], e["operation"], stub.load(e), e["region"], e["params"])
        else:
            b.aws_error(e["service"], e["operation"], e["error"]["kind"], e["error"]["code"], e["region"], e["params"])
    return b


def _app_pods() -> list[dict]:
    return [pod("old", containers=[{"name": "c", "image": f"{ECR}/app:old"}]),
            pod("new", containers=[{"name": "c", "image": f"{ECR}/app:new"}]),
            pod("unscanned", containers=[{"name": "c", "image": f"{ECR}/app:unscanned"}]),
            pod("pinned", containers=[{"name": "c", "image": f"{ECR}/app@{D_NEW}"}]),
            pod("gone", containers=[{"name": "c", "image": f"{ECR}/app:1.0"}]),
            pod("hub", containers=[{"name": "c", "image": "nginx:latest"}])]


def _reasons(f, image: str) -> dict[str, str]:
    rows = f[f["resource_id"] == image]
    return {r: s for r, s in zip(rows["reason"], rows["status"])}


def test_img05_stubbed_scans_ages_and_references(tmp_path):
    ev = _stubbed(tmp_path).cluster("c", k8s={"pods": _app_pods()}).build()
    f = findings_for("IMG-05", ev)
    old = _reasons(f, f"{ECR}/app:old")
    assert any(s == "FAIL" and "2 CRITICAL findings" in r for r, s in old.items())
    assert any(s == "FAIL" and "older than 90 days" in r for r, s in old.items())
    assert f[(f["resource_id"] == f"{ECR}/app:old") & f["reason"].str.contains("CRITICAL")]["severity"].iloc[0] == \
        "critical"
    new = _reasons(f, f"{ECR}/app:new")
    assert set(new.values()) == {"PASS"} and any("3 LOW" in r for r in new)
    assert any(s == "FAIL" and "never scanned" in r for r, s in _reasons(f, f"{ECR}/app:unscanned").items())
    assert any(s == "PASS" and "pinned by digest" in r for r, s in _reasons(f, f"{ECR}/app@{D_NEW}").items())
    assert any(s == "FAIL" and "not in repository app" in r for r, s in _reasons(f, f"{ECR}/app:1.0").items())
    hub = _reasons(f, "nginx:latest")
    assert any(s == "FAIL" and "tag latest" in r for r, s in hub.items())
    assert any(s == "MANUAL" and "docker.io" in r for r, s in hub.items())
    repo = f[f["resource_id"] == REPO_ARN + "app"]
    assert list(repo["status"]) == ["PASS"]


def test_img05_threshold_parameter(tmp_path):
    ev = _stubbed(tmp_path).cluster("c", k8s={"pods": _app_pods()[1:2]}).build()
    f = findings_for("IMG-05", ev, {"scan_severity_threshold": "LOW"})
    assert any(s == "FAIL" and "3 LOW" in r for r, s in _reasons(f, f"{ECR}/app:new").items())


def test_img05_registry_scanning_rules_cover_repositories(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c", k8s={})
    b.aws("ecr", "DescribeRepositories", {"repositories": [_repo("prod/api", scan=False), _repo("dev/tool", scan=True)]})
    b.aws("ecr", "GetRegistryScanningConfiguration", {"scanningConfiguration": {"scanType": "ENHANCED", "rules": [
        {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "prod/*", "filterType": "WILDCARD"}]}]}})
    rows = _by(findings_for("IMG-05", b.build()))
    assert rows[REPO_ARN + "prod/api"]["status"] == "PASS" and "enhanced" in rows[REPO_ARN + "prod/api"]["reason"]
    # enhanced scanning replaces scan on push: a repository no rule matches is not scanned
    assert rows[REPO_ARN + "dev/tool"]["status"] == "FAIL"


def test_img05_error_when_images_cannot_be_listed(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c", k8s={"pods": _app_pods()[:1]})
    b.aws("ecr", "DescribeRepositories", {"repositories": [_repo("app")]})
    b.aws("ecr", "GetRegistryScanningConfiguration", {"scanningConfiguration": {"scanType": "BASIC", "rules": []}})
    b.aws_error("ecr", "DescribeImages", params={"repositoryName": "app"})
    f = findings_for("IMG-05", b.build())
    image = _reasons(f, f"{ECR}/app:old")
    assert any(s == "ERROR" and "could not verify the scan" in r and "aws:ecr:DescribeImages access denied" in r
               for r, s in image.items())
    assert not any("pushed" in r or "scanned" in r for r in image)  # no age or scan verdict without the images
    # what DescribeRepositories alone proves still stands: scan on push, immutable tags
    assert list(f[f["resource_id"] == REPO_ARN + "app"]["status"]) == ["PASS"]


def test_img04_bases_from_manifests(tmp_path):
    ev = _stubbed(tmp_path).cluster("c", k8s={"pods": _app_pods()}).build()
    f = findings_for("IMG-04", ev)
    rows = _by(f)
    assert rows[f"{ECR}/app:old"]["status"] == "FAIL" and "docker.io/library/python:3.8" in rows[f"{ECR}/app:old"]["reason"]
    assert rows[f"{ECR}/app:new"]["status"] == "PASS"
    assert rows[f"{ECR}/app:unscanned"]["status"] == "MANUAL" and "annotation" in rows[f"{ECR}/app:unscanned"]["reason"]
    assert rows["nginx:latest"]["status"] == "FAIL" and "run as is" in rows["nginx:latest"]["reason"]
    assert rows[f"{ECR}/app:1.0"]["status"] == "MANUAL"
    trusted = _by(findings_for("IMG-04", ev, {"trusted_base_images": ["docker.io/library/python:*"]}))
    assert trusted[f"{ECR}/app:old"]["status"] == "PASS"


def test_img04_error_when_manifests_unreadable(tmp_path):
    denied = {"Error": {"Code": "AccessDeniedException", "HTTPStatusCode": 400}}
    ev = _stubbed(tmp_path, batch_get=denied).cluster("c", k8s={"pods": _app_pods()[:2]}).build()
    assert_error(findings_for("IMG-04", ev), "aws:ecr:BatchGetImage access denied")


def test_img07_pass_fail_error(tmp_path):
    b = EvidenceBuilder(tmp_path)
    b.aws("ecr", "DescribeRepositories", {"repositories": [_repo("a"), _repo("b", mutability="MUTABLE")]})
    rows = _by(findings_for("IMG-07", b.build()))
    assert rows[REPO_ARN + "a"]["status"] == "PASS" and rows[REPO_ARN + "b"]["status"] == "FAIL"
    b = EvidenceBuilder(tmp_path / "e")
    b.aws_error("ecr", "DescribeRepositories")
    assert_error(findings_for("IMG-07", b.build()), "aws:ecr:DescribeRepositories access denied")


def test_img08_pass_fail_error(tmp_path):
    b = EvidenceBuilder(tmp_path)
    b.aws("ecr", "DescribeRepositories", {"repositories": [_repo("a"), _repo("b"), _repo("c"), _repo("d")]})
    rules = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                         "countUnit": "days", "countNumber": 7},
                        "action": {"type": "expire"}}]}
    b.aws("ecr", "GetLifecyclePolicy", {"repositoryName": "a", "lifecyclePolicyText": json.dumps(rules)},
          params={"repositoryName": "a"})
    b.aws("ecr", "GetLifecyclePolicy", {"__absent__": "LifecyclePolicyNotFoundException"}, params={"repositoryName": "b"})
    b.aws_error("ecr", "GetLifecyclePolicy", params={"repositoryName": "c"})
    rows = _by(findings_for("IMG-08", b.build()))
    assert rows[REPO_ARN + "a"]["status"] == "PASS"
    assert rows[REPO_ARN + "b"]["status"] == "FAIL" and "no lifecycle policy" in rows[REPO_ARN + "b"]["reason"]
    assert rows[REPO_ARN + "c"]["status"] == "ERROR"
    assert "aws:ecr:GetLifecyclePolicy access denied" in rows[REPO_ARN + "c"]["reason"]
    assert rows[REPO_ARN + "d"]["status"] == "ERROR"  # never read: no verdict
    assert "aws:ecr:GetLifecyclePolicy not collected" in rows[REPO_ARN + "d"]["reason"]


def test_img08_stubbed_absent_policy_is_a_fail(tmp_path):
    ev = _stubbed(tmp_path).build()
    assert list(findings_for("IMG-08", ev)["status"]) == ["FAIL"]


def test_fanouts_bound_the_extra_reads():
    details = {"imageDetails": [{"repositoryName": "r", "imageDigest": f"sha256:{i}", "imageTags": [str(i)]}
                                for i in range(250)] + [{"repositoryName": "r", "imageDigest": "sha256:x"}]}
    calls = _manifest_calls(details, "us-east-1")
    assert [len(c["imageIds"]) for c in calls] == [100, 100, 51]
    scans = _scan_calls(details, "us-east-1")
    assert len(scans) == 100 and all(c["imageId"]["imageDigest"] != "sha256:x" for c in scans)
    details["imageDetails"][0]["imageScanFindingsSummary"] = {"findingSeverityCounts": {}}
    assert {"imageDigest": "sha256:0"} not in [c["imageId"] for c in _scan_calls(details, "us-east-1")]


def test_img05_one_cluster_gap_leaves_repository_verdicts_alone(tmp_path):
    b = _stubbed(tmp_path).cluster("ok", k8s={"pods": _app_pods()[1:2]}).cluster("blind")
    b.k8s_error("blind", "pods")
    f = findings_for("IMG-05", b.build())
    assert list(f[f["resource_id"] == REPO_ARN + "app"]["status"]) == ["PASS"]
    blind = f[f["cluster"] == "blind"]
    assert len(blind) == 1
    assert_error(blind, "could not verify the running images", "k8s:pods access denied")
    assert set(f[f["cluster"] == "ok"]["status"]) == {"PASS"}


def test_img02_unnamed_result_counts_only_when_one_cluster_is_audited(tmp_path):
    body = (DATA / "kube-bench-prod-hardened.json").read_bytes()
    b = EvidenceBuilder(tmp_path).cluster("a", k8s={}).cluster("b", k8s={})
    _attach(b, tmp_path, "kube-bench", "kb.json", body)
    rows = _by(findings_for("IMG-02", b.build()))
    assert rows["a"]["status"] == rows["b"]["status"] == "FAIL"
    assert rows["kb.json"]["status"] == "MANUAL" and "kube-bench:CLUSTER=PATH" in rows["kb.json"]["reason"]
    b = EvidenceBuilder(tmp_path / "one").cluster("a", k8s={})
    _attach(b, tmp_path, "kube-bench", "kb.json", body)
    assert list(findings_for("IMG-02", b.build())["status"]) == ["PASS"]
    # --cluster a: the account holds b too (inventory), but a is the one audited cluster the result is for
    b = EvidenceBuilder(tmp_path / "narrowed").cluster("a", k8s={}).cluster("b")
    _attach(b, tmp_path, "kube-bench", "kb.json", body)
    f = findings_for("IMG-02", b.select(clusters=["a"]).build())
    assert list(f["cluster"]) == ["a"] and list(f["status"]) == ["PASS"]


def test_inventory_view(tmp_path):
    from eksaudit.frames import Frames
    from eksaudit.views.images import inventory

    ev = _stubbed(tmp_path).cluster("c", k8s={"pods": _app_pods()[:1] + _app_pods()[-1:]}).build()
    inv = inventory(Frames(ev)).set_index("image")
    old = inv.loc[f"{ECR}/app:old"]
    assert (old["critical"], old["medium"], old["scan_status"]) == (2, 1, "COMPLETE")
    assert old["base_image"] == "docker.io/library/python:3.8" and old["where_it_runs"] == "c: app/Pod/old/c"
    assert inv.loc["nginx:latest", "scan_status"].startswith("unknown")
    assert inv.loc[f"{ECR}/app:new", "where_it_runs"] == "not running"

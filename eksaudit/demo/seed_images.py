"""Demo account resources for the images domain: planted offenders beside their hardened twins.

Weak side: legacy/web (AES256, mutable tags, scan on push off, no lifecycle policy) holds `latest` (never
scanned) and `migrate` (scanned once by hand: critical and high findings), both built FROM Docker Hub bases;
legacy-weak also has a kube-bench Job that never succeeded. Hardened side: payments/api and security/kube-bench
(KMS, immutable tags, scan on push, lifecycle policies) hold scanned images built FROM the team's own ECR base,
and prod-hardened runs kube-bench as a CronJob with a recent successful run.

moto cannot backdate imagePushedAt, so "an image pushed long ago" is covered by unit tests only. Scan results
are set through moto's documented static-result endpoint (DescribeImageScanFindings) on the loopback server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.request

from .. import clock
from .account import ACCOUNT, HARDENED, PLANTED_SECRETS, REGION, WEAK, DemoAccount

ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
KUBE_BENCH_IMAGE = f"{ECR}/security/kube-bench:v0.9.1"
LIFECYCLE = {"rules": [
    {"rulePriority": 1, "description": "expire untagged images after 7 days",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "keep the last 30 images",
     "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
     "action": {"type": "expire"}}]}

# (repository, tag, base image annotation, scan result: None = never scanned, else severity counts)
IMAGES = [
    ("legacy/web", "latest", "docker.io/library/node:14-alpine", None),
    ("legacy/web", "migrate", "docker.io/library/python:3.8-slim", {"CRITICAL": 1, "HIGH": 3, "MEDIUM": 6, "LOW": 2}),
    ("payments/api", "1.4.1", f"{ECR}/base/distroless-static:2026.01", {"LOW": 2}),  # the previous release
    ("payments/api", "1.4.2", f"{ECR}/base/distroless-static:2026.01", {"LOW": 1}),
    ("payments/api", "1.4.2-migrate", f"{ECR}/base/distroless-static:2026.01", {}),
    ("security/kube-bench", "v0.9.1", f"{ECR}/base/alpine:3.20", {"MEDIUM": 1}),
]
FINDINGS = {  # a few realistic findings per severity for the scanned legacy image
    "CRITICAL": ("CVE-2024-45491", "libexpat", "2.5.0-r0"),
    "HIGH": ("CVE-2023-4911", "glibc", "2.31-13+deb11u5"),
    "MEDIUM": ("CVE-2023-5678", "openssl", "1.1.1n-0+deb11u4"),
    "LOW": ("CVE-2011-3389", "gnutls28", "3.7.1-5"),
}


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def manifest(repo: str, tag: str, base: str) -> str:
    """A small OCI image manifest with the base-image annotations a BuildKit/ko build records."""
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _sha(f"cfg {repo}:{tag}"),
                   "size": 2419},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": _sha(f"{repo}:{tag} {i}"),
                    "size": 3_145_728 + i} for i in range(2)],
        "annotations": {"org.opencontainers.image.base.name": base, "org.opencontainers.image.base.digest":
                        _sha(f"base {base}"), "org.opencontainers.image.source": f"https://git.example.internal/{repo}"},
    }, sort_keys=True)


def _scan_result(repo: str, tag: str, counts: dict) -> dict:
    completed = int(clock.now().timestamp()) - 3600
    findings = []
    for sev, n in counts.items():
        cve, pkg, version = FINDINGS.get(sev, FINDINGS["LOW"])
        for i in range(n):
            findings.append({"name": cve if i == 0 else f"{cve[:-1]}{i}", "severity": sev,
                             "uri": f"https://nvd.nist.gov/vuln/detail/{cve}",
                             "attributes": [{"key": "package_name", "value": pkg},
                                            {"key": "package_version", "value": version}]})
    return {"registryId": ACCOUNT, "repositoryName": repo, "imageId": {"imageTag": tag},
            "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
            "imageScanFindings": {"imageScanCompletedAt": completed, "vulnerabilitySourceUpdatedAt": completed,
                                  "findings": findings, "findingSeverityCounts": counts}}


def seed(acct: DemoAccount) -> None:
    ecr, kms = acct.client("ecr"), acct.client("kms")
    key = kms.create_key(Description="ECR images")["KeyMetadata"]["Arn"]
    ecr.create_repository(repositoryName="legacy/web", imageTagMutability="MUTABLE",
                          imageScanningConfiguration={"scanOnPush": False},
                          encryptionConfiguration={"encryptionType": "AES256"},
                          tags=[{"Key": "password", "Value": PLANTED_SECRETS["ecr_tag"]}])
    for name, tags in (("payments/api", [{"Key": "sensitivity", "Value": "high"}]),
                       ("security/kube-bench", [{"Key": "team", "Value": "platform-security"}])):
        ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE",
                              imageScanningConfiguration={"scanOnPush": True},
                              encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key}, tags=tags)
        ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(LIFECYCLE))
    results = []
    for repo, tag, base, counts in IMAGES:
        ecr.put_image(repositoryName=repo, imageTag=tag, imageManifest=manifest(repo, tag, base),
                      imageManifestMediaType="application/vnd.oci.image.manifest.v1+json")
        if counts is not None:
            ecr.start_image_scan(repositoryName=repo, imageId={"imageTag": tag})
            results.append(_scan_result(repo, tag, counts))
    req = urllib.request.Request(f"{acct.endpoint_url}/moto-api/static/ecr/scan-finding-results",
                                 data=json.dumps({"results": results, "region": REGION, "account_id": ACCOUNT}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310  (the loopback moto server)
        resp.read()


# What the demo team can fix before a second audit (`eksaudit demo --fixed NAME`): applied after seeding.
FIXES = {"ecr-immutable-tags": "legacy/web's image tags made immutable"}


def fix(acct: DemoAccount, name: str) -> None:
    if name == "ecr-immutable-tags":
        acct.client("ecr").put_image_tag_mutability(repositoryName="legacy/web", imageTagMutability="IMMUTABLE")


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _kube_bench_pod(image: str) -> dict:
    return {"hostPID": True, "restartPolicy": "Never", "serviceAccountName": "kube-bench",
            "containers": [{"name": "kube-bench", "image": image,
                            "command": ["kube-bench", "run", "--targets", "node", "--benchmark", "eks-1.5.0", "--json"],
                            "securityContext": {"readOnlyRootFilesystem": True},
                            "volumeMounts": [{"name": "var-lib-kubelet", "mountPath": "/var/lib/kubelet",
                                              "readOnly": True}]}],
            "volumes": [{"name": "var-lib-kubelet", "hostPath": {"path": "/var/lib/kubelet"}}]}


def k8s_objects() -> dict[str, list[dict]]:
    """kube-bench in kube-system: a CronJob with a recent successful run (hardened), a failed one-off Job (weak).

    Times are relative to when the demo starts, so the hardened run stays recent whenever the demo runs.
    """
    now = clock.now().replace(microsecond=0)
    ran = now - dt.timedelta(hours=26)
    meta = {"namespace": "kube-system", "creationTimestamp": "2026-01-15T10:00:00Z"}
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "kube-bench", "uid": "uid-kb-cron", **meta},
            "spec": {"schedule": "0 3 * * *", "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": _kube_bench_pod(KUBE_BENCH_IMAGE)}}}},
            "status": {"lastScheduleTime": _iso(ran), "lastSuccessfulTime": _iso(ran + dt.timedelta(minutes=1))}}
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": f"kube-bench-{int(ran.timestamp()) // 60}", "uid": "uid-kb-job", **meta,
                        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "kube-bench",
                                             "uid": "uid-kb-cron", "controller": True}]},
           "spec": {"backoffLimit": 0, "template": {"spec": _kube_bench_pod(KUBE_BENCH_IMAGE)}},
           "status": {"startTime": _iso(ran), "completionTime": _iso(ran + dt.timedelta(minutes=1)), "succeeded": 1,
                      "conditions": [{"type": "Complete", "status": "True",
                                      "lastTransitionTime": _iso(ran + dt.timedelta(minutes=1))}]}}
    failed = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "kube-bench", "uid": "uid-kb-weak", **meta},
              "spec": {"backoffLimit": 0, "template": {"spec": _kube_bench_pod("docker.io/aquasec/kube-bench:v0.6.8")}},
              "status": {"startTime": "2025-03-04T09:12:00Z", "failed": 1,
                         "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                         "lastTransitionTime": "2025-03-04T09:13:10Z"}]}}
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kube-bench", **meta},
          "automountServiceAccountToken": False}
    return {WEAK: [sa, failed], HARDENED: [sa, cron, job]}

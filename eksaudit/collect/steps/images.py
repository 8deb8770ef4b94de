"""AWS reads for the images domain: ECR repositories, their images, scans, manifests and lifecycle policies.

NET-09/10 read DescribeRepositories too.
"""

from __future__ import annotations

from . import each, step

# Manifest formats BatchGetImage may return as stored (OCI and Docker, single image and multi-arch index).
MANIFEST_TYPES = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json",
                  "application/vnd.docker.distribution.manifest.list.v2+json"]
BATCH = 100  # BatchGetImage takes at most 100 image ids per call
SCAN_LOOKUPS_PER_REPOSITORY = 100


def _manifest_calls(data: dict, region: str, parent_params: dict | None = None) -> list[dict]:
    """One BatchGetImage per repository and 100 digests: manifests carry the base-image annotations."""
    by_repo: dict[str, list[str]] = {}
    for d in data.get("imageDetails") or []:
        if d.get("repositoryName") and d.get("imageDigest"):
            digests = by_repo.setdefault(d["repositoryName"], [])
            if d["imageDigest"] not in digests:
                digests.append(d["imageDigest"])
    return [{"repositoryName": repo, "imageIds": [{"imageDigest": x} for x in digests[i:i + BATCH]],
             "acceptedMediaTypes": MANIFEST_TYPES}
            for repo, digests in sorted(by_repo.items()) for i in range(0, len(digests), BATCH)]


def _scan_calls(data: dict, region: str, parent_params: dict | None = None) -> list[dict]:
    """DescribeImageScanFindings only for tagged images DescribeImages gives no findings summary for.

    AWS puts the summary of the last completed scan in DescribeImages, so the extra read confirms "never scanned"
    (ScanNotFoundException) or a scan still in progress; capped per repository to bound the cost.
    """
    calls: dict[str, list[dict]] = {}
    for d in data.get("imageDetails") or []:
        if d.get("imageScanFindingsSummary") or not d.get("imageTags") or not d.get("imageDigest"):
            continue
        repo_calls = calls.setdefault(d.get("repositoryName", ""), [])
        if len(repo_calls) < SCAN_LOOKUPS_PER_REPOSITORY:
            repo_calls.append({"repositoryName": d.get("repositoryName", ""),
                               "imageId": {"imageDigest": d["imageDigest"]}})
    return [c for repo in sorted(calls) for c in calls[repo] if repo]


DESCRIBE_REPOSITORIES = step("ecr", "DescribeRepositories").input
GET_REGISTRY_SCANNING_CONFIGURATION = step("ecr", "GetRegistryScanningConfiguration").input
DESCRIBE_IMAGES = step("ecr", "DescribeImages", parent=("ecr", "DescribeRepositories"),
     fanout=each("repositories[].repositoryName", "repositoryName")).input
GET_LIFECYCLE_POLICY = step("ecr", "GetLifecyclePolicy", parent=("ecr", "DescribeRepositories"),
     fanout=each("repositories[].repositoryName", "repositoryName"), absent_codes=("LifecyclePolicyNotFoundException",)).input
DESCRIBE_IMAGE_SCAN_FINDINGS = step("ecr", "DescribeImageScanFindings", parent=("ecr", "DescribeImages"), fanout=_scan_calls,
     absent_codes=("ScanNotFoundException",)).input
BATCH_GET_IMAGE = step("ecr", "BatchGetImage", parent=("ecr", "DescribeImages"), fanout=_manifest_calls).input

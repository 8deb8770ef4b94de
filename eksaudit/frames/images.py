"""Frames for the images domain: ECR repositories and image references."""

from __future__ import annotations

import re

import pandas as pd

from . import Frames, frame
from .core import ref

ECR_RE = re.compile(r"^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def split_image(image: str) -> dict:
    """registry, repository, tag, digest of an image reference, with Docker Hub's implicit defaults."""
    name, digest = (image.split("@", 1) + [""])[:2]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", name if "/" in name else f"library/{name}"
    tag = ""
    if ":" in path.rsplit("/", 1)[-1]:
        path, tag = path.rsplit(":", 1)
    if not tag and not digest:
        tag = "latest"
    m = ECR_RE.match(registry)
    return {"registry": registry, "repository": path, "tag": tag, "digest": digest,
            "ecr_account": m.group(1) if m else "", "ecr_region": m.group(3) if m else ""}


@frame("ecr_repositories", ["aws:ecr:DescribeRepositories"])
def ecr_repositories(f: Frames) -> pd.DataFrame:
    """One row per ECR repository: account_id, region, repository, arn, uri, encryption_type, kms_key,
    scan_on_push, tag_mutability, created, evidence."""
    rows = []
    for entry, data in f.evidence.responses("aws:ecr:DescribeRepositories"):
        for r in data.get("repositories", []):
            enc = r.get("encryptionConfiguration") or {}
            rows.append({
                "account_id": entry["account"], "region": entry["region"], "repository": r.get("repositoryName", ""),
                "arn": r.get("repositoryArn", ""), "uri": r.get("repositoryUri", ""),
                "encryption_type": enc.get("encryptionType", ""), "kms_key": enc.get("kmsKey", ""),
                "scan_on_push": bool((r.get("imageScanningConfiguration") or {}).get("scanOnPush")),
                "tag_mutability": r.get("imageTagMutability", ""), "created": r.get("createdAt", ""),
                "evidence": ref(entry, r.get("repositoryName", "")),
            })
    cols = ["account_id", "region", "repository", "arn", "uri", "encryption_type", "kms_key", "scan_on_push",
            "tag_mutability", "created", "evidence"]
    return pd.DataFrame(rows, columns=cols)

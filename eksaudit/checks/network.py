"""Network access domain checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frames import Frames
from . import check
from .common import result

WORLD = {"0.0.0.0/0", "::/0"}


@check("NET-07", domain="network", title="No public access to the EKS API server", severity="high",
       requirement="R-NET-7", frames=("clusters",),
       practice="The cluster API endpoint is private: public access is off and private access is on, so it is "
                "reached from inside the VPC, a bastion or a VPN.",
       rationale="A public API endpoint exposes authentication and any API flaw to the internet; restricting it "
                 "to a few CIDRs still leaves it reachable from outside the network the cluster lives in.",
       remediation="aws eks update-cluster-config --resources-vpc-config endpointPublicAccess=false,"
                   "endpointPrivateAccess=true; manage the cluster from a bastion, VPN or Direct Connect.",
       references={"cis_eks": "5.4.1, 5.4.2", "securityhub": "EKS.1",
                   "prowler": "eks_cluster_not_publicly_accessible"})
def net_07(f: Frames, p: dict) -> pd.DataFrame:
    c = f.clusters
    if c.empty:
        return pd.DataFrame()
    public = c["endpoint_public"] == True  # noqa: E712
    private = c["endpoint_private"] == True  # noqa: E712
    world = c["public_cidrs"].map(lambda cidrs: not cidrs or bool(WORLD & set(cidrs)))
    reasons = []
    for pub, priv, w, cidrs in zip(public, private, world, c["public_cidrs"]):
        parts = []
        if pub:
            parts.append("public endpoint open to " + (", ".join(cidrs) or "0.0.0.0/0") if w else
                         "public endpoint enabled (restricted to " + ", ".join(cidrs) + ")")
        if not priv:
            parts.append("private endpoint access is off")
        reasons.append("; ".join(parts) or "public access off, private access on")
    status = np.where(public | ~private, "FAIL", "PASS")
    severity = np.where(public & world, "critical", "high")
    return result(c, status, pd.Series(reasons, index=c.index), "cluster", c["arn"], severity)


@check("NET-09", domain="network", title="ECR repositories encrypted with KMS", severity="medium",
       requirement="R-NET-9", frames=("ecr_repositories",),
       practice="Every ECR repository encrypts its images with AWS KMS rather than the default AES-256 "
                "S3-managed keys.",
       rationale="KMS encryption puts image access under key policies and CloudTrail-logged key use, which "
                 "AES-256 server-side encryption does not.",
       remediation="ECR encryption is fixed at creation: create a new repository with encryptionType KMS, "
                   "replicate or re-push the images, and retire the old one.",
       references={"securityhub": "ECR (encryption)", "prowler": "ecr_repositories_encrypted (nearest)"})
def net_09(f: Frames, p: dict) -> pd.DataFrame:
    r = f.ecr_repositories
    if r.empty:
        return pd.DataFrame()
    kms = r["encryption_type"].isin(["KMS", "KMS_DSSE"])
    reason = np.where(kms, "encrypted with KMS (" + r["encryption_type"] + ")",
                      "encrypted with " + r["encryption_type"].replace("", "unknown") + ", not KMS")
    return result(r, np.where(kms, "PASS", "FAIL"), reason, "ecr-repository", r["arn"])

"""Images and compliance domain checks."""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from ..frames import Frames
from ..frames.images import split_image
from . import check
from .common import SYSTEM_NAMESPACES, container_id, result

# Registries AWS itself publishes EKS add-ons from (VPC CNI, kube-proxy, CoreDNS, CSI drivers).
AWS_ADDON_REGISTRIES = ["602401143452.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com/eks/*",
                        "public.ecr.aws/eks/*", "public.ecr.aws/eks-distro/*"]


def _allowed(parts: dict, accounts: set[str], extra: list[str]) -> bool:
    if parts["ecr_account"] and parts["ecr_account"] in accounts:
        return True
    return any(fnmatch.fnmatch(parts["registry"], pat) or fnmatch.fnmatch(f"{parts['registry']}/{parts['repository']}", pat)
               for pat in extra)


@check("IMG-01", domain="images", title="Only trusted images from private ECR", severity="high",
       requirement="R-IMG-1", frames=("containers",), params={"trusted_registries": [], "image_exclude_namespaces": [],
                                                 "trust_aws_addon_registries": True},
       practice="Every container image comes from the audited account's private ECR registries or another "
                "registry the organisation has approved (AWS's own EKS add-on registries are trusted unless "
                "trust_aws_addon_registries is false).",
       rationale="Images pulled from public registries can change under the same tag, disappear, or carry "
                 "malicious code; a private registry is where scanning, signing and retention are enforced.",
       remediation="Mirror approved images into ECR (pull-through cache or CI), point workloads at the ECR copies, "
                   "and enforce the allow-list with an admission policy.",
       references={"cis_eks": "5.1.4", "kubescape": "C-0078"})
def img_01(f: Frames, p: dict) -> pd.DataFrame:
    c = f.containers[~f.containers["namespace"].isin(p["image_exclude_namespaces"] or [])]
    if c.empty:
        return pd.DataFrame()
    accounts = {f.evidence.account}
    parts = [split_image(i) for i in c["image"]]
    extra = list(p["trusted_registries"] or []) + (AWS_ADDON_REGISTRIES if p["trust_aws_addon_registries"] else [])
    ok = [_allowed(x, accounts, extra) for x in parts]
    reason = [f"image {img} from {x['registry']} " + ("(allowed)" if good else "is not from an allowed registry")
              for img, x, good in zip(c["image"], parts, ok)]
    return result(c, np.where(ok, "PASS", "FAIL"), pd.Series(reason, index=c.index), "container", container_id(c))


@check("IMG-06", domain="images", title="Read-only root filesystem", severity="medium",
       requirement="R-IMG-6", frames=("containers",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Every container mounts its root filesystem read-only.",
       rationale="A writable root filesystem lets an intruder drop tools or alter binaries inside a running "
                 "container; read-only roots force writes into explicit, auditable volumes.",
       remediation="Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes for the paths the "
                   "application must write (e.g. /tmp).",
       references={"cis_eks": "4.2.x (Pod Security Standards)", "kubescape": "C-0017"})
def img_06(f: Frames, p: dict) -> pd.DataFrame:
    c = f.containers[~f.containers["namespace"].isin(p["exclude_namespaces"] or [])]
    if c.empty:
        return pd.DataFrame()
    reason = np.where(c["read_only_root"], "readOnlyRootFilesystem is true",
                      "root filesystem is writable: readOnlyRootFilesystem is not true")
    return result(c, np.where(c["read_only_root"], "PASS", "FAIL"), reason, "container", container_id(c))

"""IAM domain checks: who can do what to EKS, and with which identity workloads run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frames import Frames
from . import check
from .common import SYSTEM_NAMESPACES, container_id, outside, result


@check("IAM-06", domain="iam", title="One service account per application", severity="medium",
       requirement="R-IAM-6", frames=("workloads",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Each application runs under a service account of its own, never the namespace's default one.",
       rationale="A shared or default service account gives every workload the union of all their permissions "
                 "(RBAC and IRSA), so one compromised pod reaches what the others may.",
       remediation="Create a dedicated ServiceAccount per application, set spec.serviceAccountName, and bind only "
                   "the RBAC roles and IAM role that application needs.",
       references={"cis_eks": "4.1.5", "hardeneks": "disallow_default_sa / use_dedicated_sa"})
def iam_06(f: Frames, p: dict) -> pd.DataFrame:
    w = outside(f.workloads, p["exclude_namespaces"]).copy()
    if w.empty:
        return pd.DataFrame()
    w["app"] = [lbl.get("app.kubernetes.io/name") or lbl.get("app") or wl
                for lbl, wl in zip(w["labels"], w["workload"])]
    key = ["cluster", "namespace", "service_account"]
    apps = w.groupby(key)["app"].agg(lambda s: sorted(set(s)))
    w["sharing"] = [apps[k] for k in zip(w["cluster"], w["namespace"], w["service_account"])]
    default = w["service_account"] == "default"
    shared = w["sharing"].map(len) > 1
    reason = np.where(
        default, "runs as the namespace's default service account",
        np.where(shared, "shares service account " + w["service_account"] + " with other applications: "
                 + w["sharing"].map(", ".join), "runs as its own service account " + w["service_account"]))
    status = np.where(default | shared, "FAIL", "PASS")
    return result(w, status, reason, "workload", w["namespace"] + "/" + w["workload"])


@check("IAM-07", domain="iam", title="Containers run as a non-root user", severity="high",
       requirement="R-IAM-7", frames=("containers",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Every container, init and ephemeral ones included, is proven to run as a non-root user.",
       rationale="A process running as root inside a container is one kernel or runtime flaw away from root on "
                 "the node; non-root also blocks writes to root-owned paths in the image.",
       remediation="Set securityContext.runAsNonRoot: true and a non-zero runAsUser on the pod or container; build "
                   "images with a non-root USER.",
       references={"cis_eks": "4.2.6", "kubescape": "C-0013", "hardeneks": "disallow_container_socket_mount / "
                   "run_as_non_root"})
def iam_07(f: Frames, p: dict) -> pd.DataFrame:
    c = outside(f.containers, p["exclude_namespaces"])
    if c.empty:
        return pd.DataFrame()
    uid = pd.to_numeric(c["run_as_user"], errors="coerce")
    explicit_root = uid == 0
    non_root = (~explicit_root) & ((uid > 0) | (c["run_as_non_root"] == True))  # noqa: E712
    reason = np.where(
        explicit_root, "runs as root: runAsUser is 0",
        np.where(non_root, np.where(uid > 0, "runs as uid " + uid.fillna(0).astype(int).astype(str),
                                    "runAsNonRoot is true"),
                 "not proven non-root: neither runAsNonRoot: true nor a non-zero runAsUser is set "
                 "(the image's USER decides)"))
    return result(c, np.where(non_root, "PASS", "FAIL"), reason, "container", container_id(c))

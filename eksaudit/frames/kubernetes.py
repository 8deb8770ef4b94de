"""Frames from Kubernetes objects: workloads (one row per pod spec) and their containers."""

from __future__ import annotations

import pandas as pd

from ..collect.kubernetes import (
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    JOBS,
    KINDS,
    NAMESPACES,
    PODS,
    REPLICASETS,
    STATEFULSETS,
)
from . import Frames, frame

# Controller kind -> the input that lists it.
CONTROLLERS = {"Deployment": DEPLOYMENTS, "StatefulSet": STATEFULSETS, "DaemonSet": DAEMONSETS,
               "ReplicaSet": REPLICASETS, "Job": JOBS, "CronJob": CRONJOBS}
WORKLOAD_INPUTS = [PODS, *CONTROLLERS.values()]
KIND_INPUTS = frozenset(k.input for k in KINDS)


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _template(obj: dict) -> dict:
    """A controller's pod template (a CronJob's through its job template); {} when it has none."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return spec.get("template") or {}


def _pod_spec(obj: dict) -> dict | None:
    """The pod spec of a Pod, or of a controller's pod template (None when the template has none)."""
    if obj.get("kind") == "Pod":
        return obj.get("spec") or {}
    return _template(obj).get("spec")


def _pod_labels(obj: dict) -> dict:
    """The labels the workload's pods carry (a controller's pod template labels; a Pod's own)."""
    if obj.get("kind") == "Pod":
        return _meta(obj).get("labels") or {}
    return (_template(obj).get("metadata") or {}).get("labels") or {}


def _owner(obj: dict) -> tuple[str, str] | None:
    for o in _meta(obj).get("ownerReferences") or []:
        if o.get("controller", True):
            return o.get("kind", ""), o.get("name", "")
    return None


@frame("workloads", WORKLOAD_INPUTS)
def workloads(f: Frames) -> pd.DataFrame:
    """One row per pod spec an auditor owns: each controller's template, and pods no collected controller owns.

    Columns: cluster, region, namespace, kind, name, workload ("Kind/name"), service_account, automount_token
    (True/False/None as written in the pod spec), labels (the object's), pod_labels (its pods': the template's
    for a controller), spec (the pod spec), evidence.
    """
    ev = f.evidence
    objects = []  # (cluster, obj, entry)
    known = set()
    for key in WORKLOAD_INPUTS:
        for entry, data in ev.responses(key):
            for obj in data.get("items", []):
                objects.append((entry, obj))
                m = _meta(obj)
                known.add((entry["cluster"], m.get("namespace", ""), obj.get("kind"), m.get("name")))
    rows = []
    for entry, obj in objects:
        m = _meta(obj)
        owner = _owner(obj)
        if owner and (entry["cluster"], m.get("namespace", ""), owner[0], owner[1]) in known:
            continue  # represented by its controller
        spec = _pod_spec(obj)
        if spec is None:
            continue
        rows.append({
            "cluster": entry["cluster"], "region": entry["region"], "account_id": entry["account"],
            "namespace": m.get("namespace", ""), "kind": obj.get("kind", ""), "name": m.get("name", ""),
            "workload": f"{obj.get('kind', '')}/{m.get('name', '')}",
            "service_account": spec.get("serviceAccountName") or spec.get("serviceAccount") or "default",
            "automount_token": spec.get("automountServiceAccountToken"),
            "labels": m.get("labels") or {}, "pod_labels": _pod_labels(obj), "spec": spec,
            "evidence": f"evidence/{entry['path']}#{m.get('namespace', '')}/{m.get('name', '')}",
        })
    cols = ["cluster", "region", "account_id", "namespace", "kind", "name", "workload", "service_account",
            "automount_token", "labels", "pod_labels", "spec", "evidence"]
    return pd.DataFrame(rows, columns=cols)


def _effective(pod_ctx: dict, ctx: dict, key: str):
    return ctx[key] if key in ctx and ctx[key] is not None else pod_ctx.get(key)


@frame("containers", WORKLOAD_INPUTS)
def containers(f: Frames) -> pd.DataFrame:
    """One row per container of every workload, init and ephemeral included.

    Columns: the workload's identity columns, container, container_type (container|init|ephemeral), image,
    run_as_user and run_as_non_root (effective: container securityContext over the pod's), read_only_root,
    privileged, allow_privilege_escalation, evidence.
    """
    rows = []
    for w in f.workloads.itertuples(index=False):
        pod_ctx = w.spec.get("securityContext") or {}
        for group, ctype in (("initContainers", "init"), ("containers", "container"),
                             ("ephemeralContainers", "ephemeral")):
            for c in w.spec.get(group) or []:
                ctx = c.get("securityContext") or {}
                rows.append({
                    "cluster": w.cluster, "region": w.region, "account_id": w.account_id, "namespace": w.namespace,
                    "kind": w.kind, "name": w.name, "workload": w.workload, "container": c.get("name", ""),
                    "container_type": ctype, "image": c.get("image", ""),
                    "run_as_user": _effective(pod_ctx, ctx, "runAsUser"),
                    "run_as_non_root": _effective(pod_ctx, ctx, "runAsNonRoot"),
                    "read_only_root": ctx.get("readOnlyRootFilesystem") is True,
                    "privileged": ctx.get("privileged") is True,
                    "allow_privilege_escalation": ctx.get("allowPrivilegeEscalation"),
                    "evidence": w.evidence,
                })
    cols = ["cluster", "region", "account_id", "namespace", "kind", "name", "workload", "container",
            "container_type", "image", "run_as_user", "run_as_non_root", "read_only_root", "privileged",
            "allow_privilege_escalation", "evidence"]
    return pd.DataFrame(rows, columns=cols)


@frame("k8s_objects", [NAMESPACES])
def k8s_objects(f: Frames) -> pd.DataFrame:
    """Every collected Kubernetes object's identity: cluster, plural, kind, namespace, name, labels, obj, evidence."""
    rows = []
    ev = f.evidence
    for e, data in [pair for key in ev.by_input if key in KIND_INPUTS for pair in ev.responses(key)]:
        for obj in data.get("items", []):
            m = _meta(obj)
            rows.append({"cluster": e["cluster"], "region": e["region"], "account_id": e["account"],
                         "plural": e["operation"], "kind": obj.get("kind", ""), "namespace": m.get("namespace", ""),
                         "name": m.get("name", ""), "labels": m.get("labels") or {}, "obj": obj,
                         "evidence": f"evidence/{e['path']}#{m.get('namespace', '')}/{m.get('name', '')}"})
    cols = ["cluster", "region", "account_id", "plural", "kind", "namespace", "name", "labels", "obj", "evidence"]
    return pd.DataFrame(rows, columns=cols)

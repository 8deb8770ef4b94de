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
from . import Frames, frame, values

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


def _pod(obj: dict, meta: dict) -> tuple[dict | None, dict]:
    """(pod spec, labels its pods carry) of a Pod (its own) or a controller (its pod template's; the spec None when
    the template has none), the template looked up once."""
    if obj.get("kind") == "Pod":
        return obj.get("spec") or {}, meta.get("labels") or {}
    template = _template(obj)
    return template.get("spec"), (template.get("metadata") or {}).get("labels") or {}


def _pod_spec(obj: dict) -> dict | None:
    """The pod spec of a Pod, or of a controller's pod template (None when the template has none)."""
    return _pod(obj, _meta(obj))[0]


def _owner(meta: dict) -> tuple[str, str] | None:
    for o in meta.get("ownerReferences") or []:
        if o.get("controller", True):
            return o.get("kind", ""), o.get("name", "")
    return None


WORKLOAD_COLUMNS = ["cluster", "region", "account_id", "namespace", "kind", "name", "workload", "service_account",
                    "automount_token", "labels", "pod_labels", "spec", "evidence"]


@frame("workloads", WORKLOAD_INPUTS)
def workloads(f: Frames) -> pd.DataFrame:
    """One row per pod spec an auditor owns: each controller's template, and pods no collected controller owns.

    Columns: cluster, region, namespace, kind, name, workload ("Kind/name"), service_account, automount_token
    (True/False/None as written in the pod spec), labels (the object's), pod_labels (its pods': the template's
    for a controller), spec (the pod spec), evidence.
    """
    ev = f.evidence
    objects = []  # (entry, obj, its metadata)
    known = set()
    for key in WORKLOAD_INPUTS:
        for entry, data in ev.responses(key):
            cluster = entry["cluster"]
            for obj in data.get("items", []):
                m = _meta(obj)
                objects.append((entry, obj, m))
                known.add((cluster, m.get("namespace", ""), obj.get("kind"), m.get("name")))
    rows = []  # tuples in WORKLOAD_COLUMNS order: a frame from tuples is built faster than from dicts
    for entry, obj, m in objects:
        kind, ns, name = obj.get("kind", ""), m.get("namespace", ""), m.get("name", "")
        owner = _owner(m)
        if owner and (entry["cluster"], ns, *owner) in known:
            continue  # represented by its controller
        spec, pod_labels = _pod(obj, m)
        if spec is None:
            continue
        rows.append((
            entry["cluster"], entry["region"], entry["account"], ns, kind, name, f"{kind}/{name}",
            spec.get("serviceAccountName") or spec.get("serviceAccount") or "default",
            spec.get("automountServiceAccountToken"), m.get("labels") or {}, pod_labels, spec,
            f"evidence/{entry['path']}#{ns}/{name}",
        ))
    return pd.DataFrame(rows, columns=WORKLOAD_COLUMNS)


def _effective(pod_ctx: dict, ctx: dict, key: str):
    return ctx[key] if key in ctx and ctx[key] is not None else pod_ctx.get(key)


CONTAINER_GROUPS = (("initContainers", "init"), ("containers", "container"), ("ephemeralContainers", "ephemeral"))
WORKLOAD_IDENTITY = ["cluster", "region", "account_id", "namespace", "kind", "name", "workload"]
CONTAINER_OWN = ["container", "container_type", "image", "run_as_user", "run_as_non_root", "read_only_root",
                 "privileged", "allow_privilege_escalation"]
CONTAINER_COLUMNS = [*WORKLOAD_IDENTITY, *CONTAINER_OWN, "evidence"]


@frame("containers", WORKLOAD_INPUTS)
def containers(f: Frames) -> pd.DataFrame:
    """One row per container of every workload, init and ephemeral included.

    Columns: the workload's identity columns, container, container_type (container|init|ephemeral), image,
    run_as_user and run_as_non_root (effective: container securityContext over the pod's), read_only_root,
    privileged, allow_privilege_escalation, evidence.
    """
    w = f.workloads
    at, rows = [], []  # the workload row of each container, and the container's own columns
    for i, spec in enumerate(values(w["spec"])):
        pod_ctx = spec.get("securityContext") or {}
        for group, ctype in CONTAINER_GROUPS:
            for c in spec.get(group) or []:
                ctx = c.get("securityContext") or {}
                at.append(i)
                rows.append((c.get("name", ""), ctype, c.get("image", ""), _effective(pod_ctx, ctx, "runAsUser"),
                             _effective(pod_ctx, ctx, "runAsNonRoot"), ctx.get("readOnlyRootFilesystem") is True,
                             ctx.get("privileged") is True, ctx.get("allowPrivilegeEscalation")))
    if not rows:
        return pd.DataFrame([], columns=CONTAINER_COLUMNS)
    # The workload's columns are repeated per container in one take, not copied row by row.
    ident = w.iloc[at][[*WORKLOAD_IDENTITY, "evidence"]].reset_index(drop=True)
    return pd.concat([ident, pd.DataFrame(rows, columns=CONTAINER_OWN)], axis=1)[CONTAINER_COLUMNS]


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

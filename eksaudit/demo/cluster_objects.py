"""Kubernetes objects of the demo clusters, as an API server would hold them.

The weak cluster carries the planted weaknesses; the hardened one their clean counterparts. Controllers come
with the ReplicaSets and Pods they own, as in a real cluster.
"""

from __future__ import annotations

import copy

from .account import ACCOUNT, HARDENED, PLANTED_SECRETS, REGION, WEAK

ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
CREATED = "2026-01-15T10:00:00Z"


def _meta(name: str, namespace: str | None = None, labels: dict | None = None, **extra) -> dict:
    m = {"name": name, "uid": f"uid-{namespace or ''}-{name}", "creationTimestamp": CREATED}
    if namespace:
        m["namespace"] = namespace
    if labels:
        m["labels"] = labels
    m.update(extra)
    return m


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name), "status": {"phase": "Active"}}


def service_account(name: str, ns: str, annotations: dict | None = None, automount: bool | None = None) -> dict:
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, ns)}
    if annotations:
        sa["metadata"]["annotations"] = annotations
    if automount is not None:
        sa["automountServiceAccountToken"] = automount
    return sa


def deployment(name: str, ns: str, spec: dict, app: str | None = None, replicas: int = 2) -> list[dict]:
    """A Deployment with the ReplicaSet and Pods it owns."""
    labels = {"app.kubernetes.io/name": app or name}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, ns, labels),
           "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": spec}}}
    rs_name = f"{name}-7d9f8c6b5"
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": _meta(rs_name, ns, labels, ownerReferences=[
              {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": f"uid-{ns}-{name}",
               "controller": True}]),
          "spec": {"replicas": replicas, "template": {"metadata": {"labels": labels}, "spec": spec}}}
    pods = []
    for i in range(replicas):
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": _meta(f"{rs_name}-p{i}", ns, labels, ownerReferences=[
                         {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                          "uid": f"uid-{ns}-{rs_name}", "controller": True}]),
                     "spec": {**copy.deepcopy(spec), "nodeName": f"ip-10-0-1-{10 + i}.ec2.internal"},
                     "status": {"phase": "Running"}})
    return [dep, rs, *pods]


def container(name: str, image: str, ctx: dict | None = None, env: list | None = None) -> dict:
    c = {"name": name, "image": image, "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}}
    if ctx is not None:
        c["securityContext"] = ctx
    if env:
        c["env"] = env
    return c


HARD_CTX = {"runAsNonRoot": True, "runAsUser": 10001, "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def system_objects() -> list[dict]:
    """kube-system add-ons every EKS cluster runs (excluded from workload checks by default)."""
    aws_node = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta("aws-node", "kube-system"),
                "spec": {"template": {"spec": {"serviceAccountName": "aws-node", "hostNetwork": True, "containers": [
                    container("aws-node", f"602401143452.dkr.ecr.{REGION}.amazonaws.com/amazon-k8s-cni:v1.18.0",
                              {"privileged": True})]}}}}
    return [namespace("kube-system"), namespace("default"), service_account("aws-node", "kube-system"), aws_node]


def weak_objects() -> list[dict]:
    ns = "shop"
    shared = service_account("shared-sa", ns)
    shared["secrets"] = [{"name": "shared-sa-token-x7k2p"}]  # its long-lived token, as the token controller names it
    objs = [namespace(ns), service_account("default", ns), shared]
    # A web front end on the default service account, from Docker Hub, no securityContext.
    objs += deployment("web", ns, {"containers": [container("nginx", "nginx:1.25")]})
    # Two applications sharing one service account; an init container running as root; a quay.io image.
    objs += deployment("worker", ns, {
        "serviceAccountName": "shared-sa",
        "initContainers": [container("migrate", f"{ECR}/legacy/web:migrate", {"runAsUser": 0})],
        "containers": [container("worker", f"{ECR}/legacy/web:latest", {"runAsNonRoot": True},
                                 env=[{"name": "DB_PASSWORD", "value": PLANTED_SECRETS["env"]}])]})
    objs += deployment("reporter", ns, {
        "serviceAccountName": "shared-sa",
        "containers": [container("reporter", "quay.io/prometheus/node-exporter:v1.8.0", {"runAsUser": 65534})]})
    objs += _planted_in_workloads(objs, ns)
    objs.append({"apiVersion": "v1", "kind": "Secret", "metadata": _meta("db-credentials", ns), "type": "Opaque",
                 "data": {"password": _b64(PLANTED_SECRETS["k8s_secret"])}})
    objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("web-config", ns),
                 "data": {"API_TOKEN": PLANTED_SECRETS["configmap_token"], "LOG_LEVEL": "debug"}})
    return system_objects() + objs


def _planted_in_workloads(objs: list[dict], ns: str) -> list[dict]:
    """Secrets where operators put them by mistake (issue #12): container args and commands, probe headers and
    commands, lifecycle hooks, CSI volume attributes, annotations (plain, on pod templates, and the whole applied
    object as kubectl, kapp and Rancher keep it), label values. Adds them to the web Deployment (its ReplicaSet
    and Pods too) and returns a CronJob that exports an API key in its command."""
    import base64
    import gzip
    import json

    p = PLANTED_SECRETS
    applied = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
               "spec": {"template": {"spec": {"containers": [{"name": "nginx", "env": [
                   {"name": "API_TOKEN", "value": p["last_applied"]}]}]}}}}
    rancher = base64.b64encode(gzip.compress(json.dumps(
        {"kind": "Secret", "stringData": {"token": p["rancher"]}}).encode(), mtime=0)).decode()
    for obj in objs:
        if obj["metadata"]["name"].startswith("web") and obj["kind"] in ("Deployment", "ReplicaSet", "Pod"):
            meta = obj["metadata"]
            meta.setdefault("labels", {})["cache-token"] = p["label"]
            meta["annotations"] = {"example.com/api-token": p["annotation"],
                                   "kapp.k14s.io/original": json.dumps({**applied, "data": {"key": p["kapp"]}}),
                                   "objectset.rio.cattle.io/applied": rancher}
            spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
            if obj["kind"] != "Pod":
                obj["spec"]["template"]["metadata"]["annotations"] = {
                    "db-password": p["template_annotation"],
                    "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}
            c = spec["containers"][0]
            c["args"] = [f"--db-password={p['args']}", "--listen=:8080"]
            c["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080, "httpHeaders": [
                {"name": "Authorization", "value": f"Basic {p['probe_header']}"}]}}
            c["livenessProbe"] = {"exec": {"command": ["sh", "-c", f"curl -H 'X-Token: {p['probe_exec']}' localhost"]}}
            c["lifecycle"] = {"postStart": {"exec": {"command": ["sh", "-c", f"echo {p['lifecycle']} > /tmp/key"]}}}
            spec["volumes"] = [{"name": "assets", "csi": {"driver": "s3.csi.aws.com", "volumeAttributes": {
                "bucketName": "shop-assets", "authToken": p["csi_attribute"]}}}]
    return [{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta("nightly-export", ns),
             "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                 "restartPolicy": "OnFailure",
                 "containers": [container("export", "busybox:1.36")
                                | {"command": ["sh", "-c", f"export API_KEY={p['command']} && ./export.sh"]}]}}}}}}]


def hardened_objects() -> list[dict]:
    ns = "payments"
    irsa = {"eks.amazonaws.com/role-arn": f"arn:aws:iam::{ACCOUNT}:role/{HARDENED}-payments-api"}
    objs = [namespace(ns), service_account("default", ns, automount=False),
            service_account("payments-api", ns, irsa, automount=False),
            service_account("payments-ledger", ns, automount=False)]
    pod_ctx = {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001,
               "seccompProfile": {"type": "RuntimeDefault"}}
    objs += deployment("api", ns, {"serviceAccountName": "payments-api", "automountServiceAccountToken": False,
                                   "securityContext": pod_ctx,
                                   "containers": [container("api", f"{ECR}/payments/api:1.4.2", HARD_CTX)]})
    objs += deployment("ledger", ns, {"serviceAccountName": "payments-ledger", "automountServiceAccountToken": False,
                                      "securityContext": pod_ctx,
                                      "initContainers": [container("schema", f"{ECR}/payments/api:1.4.2-migrate",
                                                                   HARD_CTX)],
                                      "containers": [container("ledger", f"{ECR}/payments/api:1.4.2", HARD_CTX)]})
    objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": _meta("default-deny", ns), "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
    return system_objects() + objs


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def demo_clusters(fixes: list[str] | tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """Base objects of each cluster plus every domain's extras, then the demo team's fixes that change objects
    in the clusters (a seed module's `fix_objects`)."""
    import importlib

    from .account import DOMAIN_SEEDS, _fix_module

    clusters = {WEAK: weak_objects(), HARDENED: hardened_objects()}
    for name in DOMAIN_SEEDS:
        for cluster, objs in importlib.import_module(f"{__package__}.{name}").k8s_objects().items():
            clusters.setdefault(cluster, []).extend(objs)
    for fix in fixes:
        module = _fix_module(fix)
        if hasattr(module, "fix_objects"):
            module.fix_objects(clusters, fix)
    return clusters

"""Read Kubernetes objects of each cluster: live through the official client, or from kubectl snapshots."""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import os
import stat
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import safe_files
from ..cycles import collector_paused
from ..errors import UserError
from ..target import AwsTarget, K8sSource, eks_token
from .faults import classify
from .redact import Redactor, redact_k8s
from .store import EvidenceStore, now


@dataclasses.dataclass(frozen=True)
class Kind:
    plural: str
    group: str
    version: str
    namespaced: bool
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path(self) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{prefix}/{self.plural}"

    @property
    def input(self) -> str:
        return f"k8s:{self.plural}"


KINDS = [
    Kind("namespaces", "", "v1", False, "Namespace"),
    Kind("nodes", "", "v1", False, "Node"),
    Kind("pods", "", "v1", True, "Pod"),
    Kind("serviceaccounts", "", "v1", True, "ServiceAccount"),
    Kind("secrets", "", "v1", True, "Secret"),
    Kind("configmaps", "", "v1", True, "ConfigMap"),
    Kind("services", "", "v1", True, "Service"),
    Kind("deployments", "apps", "v1", True, "Deployment"),
    Kind("daemonsets", "apps", "v1", True, "DaemonSet"),
    Kind("statefulsets", "apps", "v1", True, "StatefulSet"),
    Kind("replicasets", "apps", "v1", True, "ReplicaSet"),
    Kind("jobs", "batch", "v1", True, "Job"),
    Kind("cronjobs", "batch", "v1", True, "CronJob"),
    Kind("networkpolicies", "networking.k8s.io", "v1", True, "NetworkPolicy"),
    Kind("roles", "rbac.authorization.k8s.io", "v1", True, "Role"),
    Kind("rolebindings", "rbac.authorization.k8s.io", "v1", True, "RoleBinding"),
    Kind("clusterroles", "rbac.authorization.k8s.io", "v1", False, "ClusterRole"),
    Kind("clusterrolebindings", "rbac.authorization.k8s.io", "v1", False, "ClusterRoleBinding"),
    Kind("securitygrouppolicies", "vpcresources.k8s.aws", "v1beta1", True, "SecurityGroupPolicy"),
]
BY_KIND = {k.kind: k for k in KINDS}
# The only Kubernetes verb the collector uses: whole collections, never one object by name (get) nor a watch.
# The shipped RBAC roles grant exactly this (eksaudit.least_privilege).
VERBS = ("list",)
BY_PLURAL = {k.plural: k for k in KINDS}


def _input(plural: str) -> str:
    return BY_PLURAL[plural].input  # a KeyError at import for a kind the collector does not read


# Input keys of the kinds, for frames and checks (never typed as strings there).
NAMESPACES, NODES, PODS, SERVICE_ACCOUNTS = (_input(p) for p in ("namespaces", "nodes", "pods", "serviceaccounts"))
SECRETS, CONFIGMAPS, SERVICES = (_input(p) for p in ("secrets", "configmaps", "services"))
DEPLOYMENTS, DAEMONSETS, STATEFULSETS, REPLICASETS = (_input(p) for p in ("deployments", "daemonsets", "statefulsets",
                                                                           "replicasets"))
JOBS, CRONJOBS, NETWORK_POLICIES = (_input(p) for p in ("jobs", "cronjobs", "networkpolicies"))
ROLES, ROLE_BINDINGS, CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS = (_input(p) for p in (
    "roles", "rolebindings", "clusterroles", "clusterrolebindings"))
SECURITY_GROUP_POLICIES = _input("securitygrouppolicies")
PAGE = 500


def snapshot_command() -> str:
    """The command an auditor sends to a cluster owner to produce a snapshot folder."""
    kinds = " ".join(k.plural if not k.group else f"{k.plural}.{k.group}" for k in KINDS)
    return (f"mkdir -p snap && for k in {kinds}; do kubectl get \"$k\" -A -o json > \"snap/${{k%%.*}}.json\"; done")


def _as_list(kind: Kind, items: list[dict], redactor: Redactor | None = None) -> dict:
    """A List document of redacted copies of the items."""
    for item in items:
        item.setdefault("kind", kind.kind)
        item.setdefault("apiVersion", kind.api_version)
    with collector_paused():  # thousands of objects built at once: see eksaudit.cycles
        items = [redact_k8s(item, redactor) for item in items]

    def order(o: dict) -> tuple[str, str]:
        meta = o.get("metadata") if isinstance(o.get("metadata"), dict) else {}
        return str(meta.get("namespace") or ""), str(meta.get("name") or "")

    items.sort(key=order)
    return {"apiVersion": "v1", "kind": "List", "items": items}


def _record(store, account, region, cluster, kind: Kind, data=None, error=None, started=None):
    store.record(source="k8s", service="kubernetes", operation=kind.plural, params={}, account=account,
                 region=region, cluster=cluster, data=data, error=error, started=started)


def _record_all_failed(store, account, region, cluster, cause: dict) -> None:
    for kind in KINDS:
        _record(store, account, region, cluster, kind, error=cause)


# ---- live ---------------------------------------------------------------------------------------------


def _get(api_client, path: str, query: list) -> dict:
    """One GET through the official client, raw JSON back (works with old and new client generations)."""
    headers = {"Accept": "application/json"}
    if hasattr(api_client, "param_serialize"):
        from kubernetes.client.exceptions import ApiException

        method, url, hdrs, body, _ = api_client.param_serialize(
            "GET", path, query_params=query, header_params=headers, auth_settings=["BearerToken"])
        resp = api_client.call_api(method, url, header_params=hdrs, body=body, _request_timeout=30)
        data = resp.read()
        if not 200 <= resp.status < 300:
            raise ApiException(status=resp.status, reason=resp.reason, http_resp=resp)
    else:  # kubernetes < 31
        resp = api_client.call_api(path, "GET", query_params=query, header_params=headers,
                                   auth_settings=["BearerToken"], _preload_content=False,
                                   _return_http_data_only=True, _request_timeout=30)
        data = resp.data
    return json.loads(data)


def _list_live(api_client, kind: Kind, redactor: Redactor | None = None) -> dict:
    items, token = [], None
    while True:
        doc = _get(api_client, kind.path, [("limit", PAGE)] + ([("continue", token)] if token else []))
        if not isinstance(doc, dict) or not isinstance(doc.get("items", []), list) or not all(
                isinstance(i, dict) for i in doc.get("items") or []):
            raise ValueError(f"unexpected response for {kind.plural}: not a list of objects")
        items.extend(doc.get("items") or [])
        token = (doc.get("metadata") or {}).get("continue")
        if not token:
            return _as_list(kind, items, redactor)


def _k8s_error(exc: BaseException) -> dict:
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, ApiException):
        kind = {401: "access-denied", 403: "access-denied", 404: "unsupported", 429: "throttled"}.get(
            exc.status, "api-error")
        reason = exc.reason or ""
        try:
            reason = json.loads(exc.body).get("message", reason)
        except Exception:
            pass
        return {"kind": kind, "code": str(exc.status), "message": str(reason)[:500]}
    return classify(exc)


def _collect_live(api_client, store, account, region, cluster) -> None:
    def one(kind: Kind) -> None:
        started = now()
        try:
            _record(store, account, region, cluster, kind, data=_list_live(api_client, kind, store.redactor),
                    started=started)
        except Exception as exc:  # recorded as evidence of what could not be read
            _record(store, account, region, cluster, kind, error=_k8s_error(exc), started=started)

    with ThreadPoolExecutor(8) as ex:
        list(ex.map(one, KINDS))


def _kubeconfig_clients(source: K8sSource, clusters: dict[str, dict]) -> dict[str, object]:
    """Map each EKS cluster to an API client from the kubeconfig: by context name, cluster ARN or endpoint."""
    from kubernetes import config

    try:
        contexts, active = config.list_kube_config_contexts(config_file=source.kubeconfig)
    except Exception as exc:
        raise UserError(f"cannot read kubeconfig: {' '.join(str(exc).split())[:300]}") from exc
    names = {c["name"] for c in contexts}
    if source.context and source.context not in names:
        raise UserError(f"context {source.context!r} not found in kubeconfig")
    mapping = {}
    for name, info in clusters.items():
        arn = info.get("arn", "")
        chosen = None
        if source.context:
            chosen = source.context if len(clusters) == 1 or source.context in (name, arn) else None
        else:
            for ctx in contexts:
                if ctx["name"] in (name, arn) or ctx["context"].get("cluster") in (name, arn):
                    chosen = ctx["name"]
                    break
        if chosen:
            mapping[name] = config.new_client_from_config(config_file=source.kubeconfig, context=chosen)
    return mapping


def _eks_client(target: AwsTarget, info: dict, region: str, name: str):
    from kubernetes import client

    conf = client.Configuration()
    conf.host = info["endpoint"]
    ca = base64.b64decode(info.get("certificateAuthority", {}).get("data", ""))
    fd = tempfile.NamedTemporaryFile(prefix="eksaudit-ca-", suffix=".pem", delete=False)
    fd.write(ca)
    fd.close()
    conf.ssl_ca_cert = fd.name
    conf.api_key = {"BearerToken": eks_token(target.session(), name, region, target.endpoint_url)}
    conf.api_key_prefix = {"BearerToken": "Bearer"}
    return client.ApiClient(conf)


def collect_kubernetes(source: K8sSource, store: EvidenceStore, account: str, clusters: dict[str, dict],
                       target: AwsTarget | None = None) -> None:
    """clusters: name -> {"region", "arn", "endpoint", "certificateAuthority"} from DescribeCluster."""
    if source.mode == "snapshot":
        collect_snapshots(source, store, account, clusters)
        return
    if source.mode == "none":
        for name, info in clusters.items():
            _record_all_failed(store, account, info["region"], name,
                               {"kind": "missing", "code": "NoKubernetesSource",
                                "message": "no Kubernetes source given (--kubeconfig, --eks-auth or --k8s-snapshot)"})
        return
    clients = _kubeconfig_clients(source, clusters) if source.mode == "kubeconfig" else {}
    for name, info in clusters.items():
        region = info["region"]
        try:
            api = clients.get(name) if source.mode == "kubeconfig" else _eks_client(target, info, region, name)
        except Exception as exc:
            _record_all_failed(store, account, region, name, classify(exc))
            continue
        if api is not None:
            info["k8s_host"] = api.configuration.host
        if api is None:
            _record_all_failed(store, account, region, name,
                               {"kind": "missing", "code": "NoContext",
                                "message": f"no kubeconfig context for cluster {name}"})
            continue
        _collect_live(api, store, account, region, name)


# ---- snapshots ----------------------------------------------------------------------------------------


def _snapshot_files(paths: list[Path]) -> list[tuple[str, Callable[[], bytes]]]:
    """(name, reader of its bytes) of every snapshot file, read with the received-file rules (`safe_files`).

    A folder's `*.json` entries must be regular files: a link, pipe or device named like a snapshot is refused,
    never followed or opened. The paths given on the command line are the user's and are taken as they are.
    Every file is listed (and refused) first; each is read only when parsed, so one file's bytes are held at a time.
    """
    out: list[tuple[str, Callable[[], bytes]]] = []
    for p in paths:
        if not p.is_dir():
            out.append((str(p), functools.partial(safe_files.read_file, p, "snapshot")))
            continue
        try:
            entries = sorted((e.name, e.stat(follow_symlinks=False).st_mode) for e in os.scandir(p)
                             if e.name.endswith(".json") and not e.name.startswith("."))
        except OSError as exc:
            raise UserError(f"cannot list snapshot folder {safe_files.shown(p)}: {exc.strerror or exc}") from None
        for name, mode in entries:
            if not stat.S_ISREG(mode):
                raise safe_files.Refused(f"snapshot {safe_files.shown(p / name)} is not a regular file "
                                         f"({safe_files.file_type(mode)}); links, pipes and devices are never read")
            out.append((str(p / name), functools.partial(safe_files.read_inside, p, name,
                                                         f"snapshot in {safe_files.shown(p)}:")))
    return out


def read_snapshot(paths: list[Path]) -> tuple[dict[str, list[dict]], set[str]]:
    """Objects by plural from kubectl `-o json` files (or folders of them), and the kinds they cover.

    A kind counts as covered when objects of it are present or a file is named after it (an empty list).
    Bounded like every received file: size per file, objects per file, nesting depth (`safe_files`).
    """
    files = _snapshot_files(paths)
    if not files:
        raise UserError(f"snapshot has no .json files: {', '.join(map(str, paths))}")
    objects: dict[str, list[dict]] = {}
    covered: set[str] = set()
    for name, read in files:
        f = Path(name)
        doc = safe_files.load_json(read(), name, "snapshot")
        if not isinstance(doc, dict) or doc.get("kind") != "List" and not str(doc.get("kind", "")).endswith("List"):
            raise UserError(f"snapshot {f} is not `kubectl get ... -o json` output (kind: List)")
        items = doc.get("items")
        if not isinstance(items, list):
            raise UserError(f"snapshot {f} has no items list")
        safe_files.check_count(items, name, "snapshot")
        stem = f.stem.split(".")[0].lower()
        if stem in BY_PLURAL:
            covered.add(stem)
        for item in items:
            if not isinstance(item, dict):
                raise UserError(f"snapshot {f} holds an item that is not an object")
            if not isinstance(item.get("metadata", {}), dict) or not isinstance(item.get("spec", {}), dict):
                raise UserError(f"snapshot {f} holds an object whose metadata or spec is not an object")
            kind = BY_KIND.get(item.get("kind", "")) if isinstance(item.get("kind", ""), str) else None
            if kind is None:
                continue  # kinds the checks do not read
            objects.setdefault(kind.plural, []).append(item)
            covered.add(kind.plural)
    return objects, covered


def collect_snapshots(source: K8sSource, store: EvidenceStore, account: str, clusters: dict[str, dict]) -> None:
    specs = dict(source.snapshots)
    unnamed = specs.pop("", None)
    unknown = set(specs) - set(clusters)
    if unknown:
        raise UserError(f"snapshot given for unknown cluster: {', '.join(sorted(unknown))}")
    if unnamed:
        if len(clusters) != 1 and len(clusters) - len(specs) != 1:
            raise UserError("a snapshot without a cluster name needs exactly one cluster in scope: use NAME=PATH")
        rest = [c for c in clusters if c not in specs]
        specs[rest[0]] = unnamed
    with collector_paused():  # held across clusters: nothing built here outlives the files written
        for name, info in clusters.items():
            _collect_snapshot(store, account, info["region"], name, specs.get(name))


def _collect_snapshot(store: EvidenceStore, account: str, region: str, name: str, paths: list[Path] | None) -> None:
    if paths is None:
        _record_all_failed(store, account, region, name,
                           {"kind": "missing", "code": "NoSnapshot", "message": f"no snapshot for cluster {name}"})
        return
    objects, covered = read_snapshot(paths)
    for kind in KINDS:
        if kind.plural in covered:
            # The redactor builds new objects: the parsed snapshot is released kind by kind as it goes.
            _record(store, account, region, name, kind, data=_as_list(kind, objects.pop(kind.plural, []),
                                                                      store.redactor))
        else:
            _record(store, account, region, name, kind,
                    error={"kind": "missing", "code": "NotInSnapshot",
                           "message": f"the snapshot has no {kind.plural}"})

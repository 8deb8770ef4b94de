"""Run the collection plan against AWS: read-only, paginated, concurrent, every failure recorded."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions

from ..errors import UserError
from ..target import AwsTarget
from .faults import classify, describe
from .redact import redact_aws
from .steps import Step, plan
from .store import EvidenceStore, now

WORKERS = 16


class ClientPool:
    """One boto3 client per (service, region); creation is not thread-safe, use is."""

    def __init__(self, target: AwsTarget):
        self.target = target
        self._clients: dict = {}
        self._lock = threading.Lock()

    def get(self, service: str, region: str):
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self.target.client(service, region)
            return self._clients[key]


def call(client, operation: str, params: dict) -> dict:
    """One read, every page merged into a single response."""
    method = {v: k for k, v in client.meta.method_to_api_mapping.items()}[operation]
    if client.can_paginate(method):
        result = client.get_paginator(method).paginate(**params).build_full_result()
    else:
        result = getattr(client, method)(**params)
    result.pop("ResponseMetadata", None)
    return result


def collect_aws(target: AwsTarget, store: EvidenceStore, clusters: list[str] | None = None,
                steps: list[Step] | None = None, pool=None, workers: int = WORKERS) -> dict:
    """Collect every step of the plan; returns {"account": id, "clusters": {name: region}, "listed": ...}.

    steps, pool and workers exist for tests (a subset of the plan, stubbed clients, a deterministic order).
    """
    pool = pool or ClientPool(target)
    steps = steps or plan()
    results: dict[tuple, list[tuple[str, dict, dict]]] = {}  # (service, op) -> [(region, params, data)]
    account = ""

    def run_one(s: Step, region: str, params: dict) -> None:
        scope_region = "" if s.scope == "global" else region
        cluster = str(params.get(s.cluster_param, "")) if s.cluster_param else ""
        started = now()
        try:
            data = call(pool.get(s.service, region), s.operation, {**s.params, **params})
            error = None
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in s.absent_codes:
                data, error = {"__absent__": code}, None
            else:
                data, error = None, classify(exc)
        except Exception as exc:  # any failure is evidence of what could not be read
            data, error = None, classify(exc)
        if data is not None:
            data = redact_aws(data, s.service, s.operation, store.redactor)
        store.record(source="aws", service=s.service, operation=s.operation, params=params, account=account,
                     region=scope_region, cluster=cluster, data=data, error=error, started=started)
        if data is not None:
            with lock:
                results.setdefault(s.key, []).append((region, params, data))

    lock = threading.Lock()
    depth: dict[tuple, int] = {}
    for s in steps:
        depth[s.key] = depth.get(s.parent, -1) + 1 if s.parent else 0
    regions_of = {"global": target.regions[:1], "region": target.regions}

    # Identity first: every entry carries the account id.
    ident = next((s for s in steps if s.key == ("sts", "GetCallerIdentity")), None)
    if ident is not None:
        run_one(ident, target.regions[0], {})
    for _, _, data in results.get(("sts", "GetCallerIdentity"), []):
        account = data.get("Account", "")
    if ident is not None and not account:
        failed = next((e for e in store.entries if e["input"] == ident.input and e["status"] == "error"), None)
        cause = describe(failed["error"]) if failed else "no account in the response"
        raise UserError(f"cannot identify the AWS caller (sts:GetCallerIdentity: {cause}); nothing was audited: "
                        "check the credentials, --profile/--role-arn and --endpoint-url")
    for e in store.entries:
        e["account"] = account

    with ThreadPoolExecutor(workers) as ex:
        for level in range(max(depth.values()) + 1):
            jobs = []
            for s in steps:
                if depth[s.key] != level or s is ident:
                    continue
                for region in regions_of[s.scope]:
                    if s.parent is None:
                        jobs.append((s, region, {}))
                        continue
                    for parent_region, parent_params, data in results.get(s.parent, []):
                        if parent_region != region:
                            continue
                        for params in s.fanout(data, region, parent_params):
                            if s.cluster_param and clusters and params.get(s.cluster_param) not in clusters:
                                continue
                            jobs.append((s, region, params))
            list(ex.map(lambda j: run_one(*j), jobs))

    found = {}
    for region, _, data in results.get(("eks", "DescribeCluster"), []):
        c = data.get("cluster", {})
        found[c.get("name")] = region
    return {"account": account, "clusters": found, "listed": _listed(results, clusters)}


def _listed(results: dict, clusters: list[str] | None) -> dict[str, str]:
    listed = {}
    for region, _, data in results.get(("eks", "ListClusters"), []):
        for name in data.get("clusters", []):
            if not clusters or name in clusters:
                listed[name] = region
    return listed

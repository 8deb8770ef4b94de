"""Run the collection plan against AWS: read-only, paginated, concurrent, every failure recorded."""

from __future__ import annotations

import functools
import heapq
import itertools
import threading
from collections.abc import Callable

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
        key = (service, region)
        client = self._clients.get(key)  # most calls: a client made already, no waiting behind one being made
        if client is not None:
            return client
        with self._lock:
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


@functools.lru_cache(maxsize=1)
def _botocore_session():
    """One botocore session for partition lookups: each new session loads botocore's endpoint data again."""
    import botocore.session

    return botocore.session.get_session()


@functools.lru_cache(maxsize=64)
def partition(region: str) -> str | None:
    """The AWS partition of a region (aws, aws-cn, aws-us-gov...), None when botocore does not know it.

    The credentials of one partition reach no other; AWS lists only its own regions, some emulators all of them.
    """
    try:
        return _botocore_session().get_partition_for_region(region)
    except Exception:  # a region newer than botocore: keep it rather than leave it unread
        return None


def run_jobs(jobs: list[tuple[tuple, object]], run: Callable[[object, Callable[[tuple, object], None]], None],
             workers: int) -> None:
    """Run (priority, job) pairs on `workers` threads, lowest priority first; `run(job, add)` may add jobs.

    Returns when no job is queued or running; the first exception raised by a job is raised here, after the
    running ones end (no new one starts). Daemon threads: a Ctrl-C in the caller leaves them to end alone.
    """
    heap = [(p, n, job) for n, (p, job) in enumerate(jobs)]
    heapq.heapify(heap)
    counter = itertools.count(len(heap))
    cond = threading.Condition()
    running = 0
    failures: list[BaseException] = []

    def add(p: tuple, job: object) -> None:
        with cond:
            heapq.heappush(heap, (p, next(counter), job))
            cond.notify()

    def work() -> None:
        nonlocal running
        while True:
            with cond:
                while not heap and running and not failures:
                    cond.wait()
                if not heap or failures:
                    cond.notify_all()
                    return
                _, _, job = heapq.heappop(heap)
                running += 1
            try:
                run(job, add)
            except BaseException as exc:  # handed to the caller
                with cond:
                    failures.append(exc)
            finally:
                with cond:
                    running -= 1
                    cond.notify_all()

    threads = [threading.Thread(target=work, name=f"eksaudit-collect-{i}", daemon=True)
               for i in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]


def collect_aws(target: AwsTarget, store: EvidenceStore, clusters: list[str] | None = None,
                steps: list[Step] | None = None, pool=None, workers: int = WORKERS) -> dict:
    """Collect every step of the plan; returns {"account": id, "clusters": {name: region} (all described),
    "listed": {name: region} (the selected clusters listed in the selected regions), "scope": the audit scope}.

    Inventory steps run in every enabled region and for every cluster; the others only in the selected regions
    (target.regions) and, when `clusters` is given, for those clusters. steps, pool and workers exist for tests
    (a subset of the plan, stubbed clients, a deterministic order).
    """
    pool = pool or ClientPool(target)
    steps = steps or plan()
    results: dict[tuple, list[tuple[str, dict, dict]]] = {}  # (service, op) -> [(region, params, data)]
    account = ""

    def run_one(s: Step, region: str, params: dict) -> int | None:
        """One call, recorded; the index of its result among its step's results, None when it gave none."""
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
        if data is None:
            return None
        with lock:
            got = results.setdefault(s.key, [])
            got.append((region, params, data))
            return len(got) - 1

    lock = threading.Lock()
    selected = list(target.regions)

    # Identity first (every entry carries the account id), then the enabled regions the inventory covers.
    first = [s for key in (("sts", "GetCallerIdentity"), ("ec2", "DescribeRegions"))
             for s in steps if s.key == key]
    for s in first:
        run_one(s, selected[0], {})
        if s.key == ("sts", "GetCallerIdentity"):
            for _, _, data in results.get(s.key, []):
                account = data.get("Account", "")
            for e in store.entries:
                e["account"] = account
            if not account:
                failed = next((e for e in store.entries if e["input"] == s.input and e["status"] == "error"), None)
                cause = describe(failed["error"]) if failed else "no account in the response"
                raise UserError(f"cannot identify the AWS caller (sts:GetCallerIdentity: {cause}); nothing was "
                                "audited: check the credentials, --profile/--role-arn and --endpoint-url")
    home = partition(selected[0])
    enabled = sorted(r for r in {r.get("RegionName", "") for _, _, data in results.get(("ec2", "DescribeRegions"), [])
                                 for r in data.get("Regions") or []} - {""}
                     if partition(r) in (home, None))
    # The selected regions are read even if DescribeRegions failed or does not list them (its failure is
    # recorded, and account-wide verdicts then say which regions were not read).
    inventory_regions = selected + [r for r in enabled if r not in selected]
    regions_of = {"global": selected[:1], "region": selected}

    def regions(s: Step) -> list[str]:
        return inventory_regions if s.inventory and s.scope == "region" else regions_of[s.scope]

    order = {s.key: i for i, s in enumerate(steps)}
    depth: dict[tuple, int] = {}
    children: dict[tuple, list[Step]] = {}
    for s in steps:
        depth[s.key] = depth.get(s.parent, -1) + 1 if s.parent else 0
        if s.parent and s not in first:
            children.setdefault(s.parent, []).append(s)

    def priority(s: Step, region: str, parent: int = 0, fan: int = 0) -> tuple:
        # Shallow steps first, and the selected regions' reads before the other regions' inventory (each of
        # those needs a client of its own, 34 on AWS, made one at a time). With one worker this is the plan's
        # order level by level, which tests with botocore's Stubber rely on.
        return (depth[s.key], region not in selected, order[s.key], regions(s).index(region), parent, fan)

    def run_job(job: tuple, add: Callable[[tuple, tuple], None]) -> None:
        s, region, params = job
        seq = run_one(s, region, params)
        if seq is None:
            return
        data = results[s.key][seq][2]
        for child in children.get(s.key, []):
            if region not in regions(child):
                continue
            for fan, p in enumerate(child.fanout(data, region, params)):
                named = p.get(child.cluster_param) if child.cluster_param else None
                if child.cluster_param and clusters and not child.inventory and named not in clusters:
                    continue
                add(priority(child, region, seq, fan), (child, region, p))

    # A call starts as soon as the call it depends on has answered, not when its whole level has.
    run_jobs([(priority(s, region), (s, region, {})) for s in steps if depth[s.key] == 0 and s not in first
              for region in regions(s)], run_job, workers)

    found = {}
    for region, _, data in results.get(("eks", "DescribeCluster"), []):
        c = data.get("cluster", {})
        found[c.get("name")] = region
    inventory: dict[str, list[str]] = {}
    for region, _, data in results.get(("eks", "ListClusters"), []):
        inventory.setdefault(region, []).extend(data.get("clusters") or [])
    listed = {name: region for region, names in inventory.items() if region in selected
              for name in names if not clusters or name in clusters}
    audited: dict[str, list[str]] = {}
    for name, region in listed.items():
        audited.setdefault(region, []).append(name)
    scope = {
        "selected_clusters": sorted(clusters or []), "selected_regions": selected,
        "enabled_regions": enabled, "inventory_regions": sorted(inventory_regions),
        "inventory": {r: sorted(n) for r, n in sorted(inventory.items())},
        "audited": {r: sorted(n) for r, n in sorted(audited.items())},
    }
    return {"account": account, "clusters": found, "listed": listed, "scope": scope}

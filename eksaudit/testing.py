"""Build small evidence folders in tests: the same store and manifest the collector writes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from . import clock
from .checks import load, run_checks
from .collect.kubernetes import BY_PLURAL, KINDS, _as_list
from .collect.store import EvidenceStore
from .evidence import Evidence

ACCOUNT = "123456789012"
REGION = "us-east-1"


def second_before_midnight() -> dt.datetime:
    """23:59:59 UTC today (tomorrow's when that is under a minute away). Tests that compare collections freeze
    the clock here for all of them: later than anything a running demo has stamped, and where collections taken
    a moment apart would fall on different days."""
    now = clock.now()
    at = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.timezone.utc) - dt.timedelta(seconds=1)
    return at if at - now > dt.timedelta(minutes=1) else at + dt.timedelta(days=1)


def cluster_doc(name: str, region: str = REGION, **overrides) -> dict:
    """A DescribeCluster response for a cluster that passes the cluster-level checks unless overridden."""
    c = {
        "name": name, "arn": f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}", "version": "1.31",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{name}-cluster-role", "status": "ACTIVE",
        "endpoint": f"https://{name}.example.eks.amazonaws.com",
        "resourcesVpcConfig": {"vpcId": "vpc-1", "subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"],
                               "clusterSecurityGroupId": "sg-cluster", "endpointPublicAccess": False,
                               "endpointPrivateAccess": True, "publicAccessCidrs": []},
        "logging": {"clusterLogging": [{"types": ["api", "audit", "authenticator", "controllerManager",
                                                  "scheduler"], "enabled": True}]},
        "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": f"arn:aws:kms:{region}:{ACCOUNT}:key/k"}}],
        "identity": {"oidc": {"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{name.upper()}"}},
        "accessConfig": {"authenticationMode": "API"},
    }
    c.update(overrides)
    return {"cluster": c}


class EvidenceBuilder:
    def __init__(self, root: Path, account: str = ACCOUNT):
        self.store = EvidenceStore(Path(root) / "evidence")
        self.account = account
        self.clusters: dict[str, str] = {}
        self.regions: set[str] = {REGION}
        self.selection: tuple[list[str], list[str]] | None = None

    def aws(self, service: str, op: str, data: dict, region: str = REGION, params: dict | None = None,
            cluster: str = "") -> EvidenceBuilder:
        data = self.store.redactor.aws(service, op, data)  # what a collection would have written
        self.store.record(source="aws", service=service, operation=op, params=params or {}, account=self.account,
                          region=region, cluster=cluster, data=data)
        return self

    def aws_error(self, service: str, op: str, kind: str = "access-denied", code: str = "AccessDenied",
                  region: str = REGION, params: dict | None = None, cluster: str = "") -> EvidenceBuilder:
        self.store.record(source="aws", service=service, operation=op, params=params or {}, account=self.account,
                          region=region, cluster=cluster, error={"kind": kind, "code": code, "message": "test"})
        return self

    def cluster(self, name: str, region: str = REGION, k8s: dict[str, list[dict]] | None = None,
                **overrides) -> EvidenceBuilder:
        """A cluster listed and described; with k8s given, every kind is collected (missing kinds empty)."""
        self.clusters[name] = region
        self.regions.add(region)
        self.aws("eks", "DescribeCluster", cluster_doc(name, region, **overrides), region, {"name": name}, name)
        if k8s is not None:
            for kind in KINDS:
                self.k8s(name, kind.plural, k8s.get(kind.plural, []), region)
        return self

    def k8s(self, cluster: str, plural: str, items: list[dict], region: str = REGION) -> EvidenceBuilder:
        data = _as_list(BY_PLURAL[plural], json.loads(json.dumps(items)), self.store.redactor)
        self.store.record(source="k8s", service="kubernetes", operation=plural, account=self.account,
                          region=region, cluster=cluster, data=data)
        return self

    def k8s_error(self, cluster: str, plural: str, kind: str = "access-denied", region: str = REGION,
                  code: str = "403", message: str = "test") -> EvidenceBuilder:
        self.store.record(source="k8s", service="kubernetes", operation=plural, account=self.account, region=region,
                          cluster=cluster, error={"kind": kind, "code": code, "message": message})
        return self

    def select(self, clusters: list[str] | None = None, regions: list[str] | None = None) -> EvidenceBuilder:
        """Record an audit scope as `--cluster`/`--region` would (default: every cluster, every region)."""
        self.selection = (list(clusters or []), list(regions or []))
        return self

    def build(self, sign_key: bytes | None = None) -> Evidence:
        """Finish the folder: ListClusters per region and DescribeRegions (the builder's regions are the enabled
        ones) unless already recorded, and the manifest, with a scope record when `select` was called."""
        listed = {e["region"] for e in self.store.entries if e["input"] == "aws:eks:ListClusters"}
        for region in sorted(self.regions - listed):
            names = [n for n, r in self.clusters.items() if r == region]
            self.aws("eks", "ListClusters", {"clusters": names}, region)
        if not any(e["input"] == "aws:ec2:DescribeRegions" for e in self.store.entries):
            self.aws("ec2", "DescribeRegions", {"Regions": [{"RegionName": r, "OptInStatus": "opt-in-not-required"}
                                                            for r in sorted(self.regions)]}, region="")
        meta = {"account": self.account, "regions": sorted(self.regions),
                "clusters": dict(sorted(self.clusters.items()))}
        if self.selection is not None:
            names, regions = self.selection
            regions = regions or sorted(self.regions)
            inventory: dict[str, list[str]] = {}
            for n, r in sorted(self.clusters.items()):
                inventory.setdefault(r, []).append(n)
            audited = {r: [n for n in ns if not names or n in names] for r, ns in inventory.items() if r in regions}
            meta.update(regions=regions, clusters={n: r for r, ns in audited.items() for n in ns},
                        scope={"selected_clusters": sorted(names), "selected_regions": regions,
                               "enabled_regions": sorted(self.regions), "inventory_regions": sorted(self.regions),
                               "inventory": inventory, "audited": {r: ns for r, ns in audited.items() if ns}})
        self.store.write_manifest(meta, sign_key)
        return Evidence(self.store.root)


def findings_for(check_id: str, ev: Evidence, params: dict | None = None, crash_ok: bool = False) -> pd.DataFrame:
    """Findings of one check over an evidence folder. A crash of the check fails the calling test (an ERROR
    row written because the check raised is a defect, not a verdict) unless `crash_ok`."""
    load()
    out = run_checks(ev, params, ids=[check_id])
    if not crash_ok:
        assert_no_crash(out)
    if FINDINGS_LOG is not None:
        FINDINGS_LOG.append(out)
    return out


# Set by the test suite (tests/golden.py): every findings_for result of the running test, compared with a stored
# copy so that a reshaping of checks or frames provably changes no finding.
FINDINGS_LOG: list[pd.DataFrame] | None = None


def assert_no_crash(findings: pd.DataFrame) -> None:
    """Fail when any finding is a crash row of the engine."""
    from .checks import CRASH

    crashed = findings[findings["reason"].str.startswith(CRASH)]
    if len(crashed):
        raise AssertionError("checks crashed: " + "; ".join(f"{r.check_id}: {r.reason}" for r in crashed.itertuples()))


def assert_error(findings: pd.DataFrame, *names: str) -> None:
    """Fail unless `findings` has rows, every one is ERROR and not a crash, and every reason names each of
    `names` (the input key or API operation that failed, and the cause words): an ERROR that does not say what
    could not be read is no better than a crash."""
    assert len(findings), "expected ERROR rows, found none"
    shown = "\n".join(f"  {r.status} {r.resource_id}: {r.reason}" for r in findings.itertuples())
    assert set(findings["status"]) == {"ERROR"}, f"expected only ERROR rows:\n{shown}"
    assert_no_crash(findings)
    for name in names:
        missing = findings[~findings["reason"].str.contains(name, regex=False)]
        assert missing.empty, f"reason does not name {name!r}:\n{shown}"


def pod(name: str, namespace: str = "app", containers: list[dict] | None = None, sa: str | None = None,
        security_context: dict | None = None, init: list[dict] | None = None, labels: dict | None = None,
        **spec_extra) -> dict:
    """A bare Pod object for fixtures."""
    spec = {"containers": containers or [{"name": "main", "image": "nginx"}], **spec_extra}
    if sa:
        spec["serviceAccountName"] = sa
    if security_context:
        spec["securityContext"] = security_context
    if init:
        spec["initContainers"] = init
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace,
                                                             "labels": labels or {}}, "spec": spec}


def stubbed_evidence(root: Path, calls: list[tuple], clusters: dict[str, str] | None = None,
                     account: str = ACCOUNT) -> Evidence:
    """Collect with botocore's Stubber: real AWS response shapes for APIs moto lacks or gets wrong.

    calls: (service, operation, response, expected_params) in the order the collector makes them (plan order,
    parents before children, one worker). response is a dict, or {"Error": {"Code": ..., "HTTPStatusCode": ...}}
    to make the call fail. Only the steps named in calls run.
    """
    import boto3
    from botocore.stub import Stubber

    from .collect.aws import collect_aws
    from .collect.steps import plan
    from .target import AwsTarget

    wanted = {(c[0], c[1]) for c in calls}
    steps = [s for s in plan() if s.key in wanted]
    clients: dict[str, tuple] = {}
    for service, op, response, *rest in calls:
        if service not in clients:
            client = boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
            clients[service] = (client, Stubber(client))
        client, stubber = clients[service]
        method = {v: k for k, v in client.meta.method_to_api_mapping.items()}[op]
        expected = rest[0] if rest else None
        if isinstance(response, dict) and "Error" in response and len(response) == 1:
            err = response["Error"]
            stubber.add_client_error(method, service_error_code=err.get("Code", ""),
                                     service_message=err.get("Message", ""),
                                     http_status_code=err.get("HTTPStatusCode", 400), expected_params=expected)
        else:
            stubber.add_response(method, response, expected)
    for _, stubber in clients.values():
        stubber.activate()

    class Pool:
        def get(self, service: str, region: str):
            return clients[service][0]

    store = EvidenceStore(Path(root) / "evidence")
    collect_aws(AwsTarget(regions=[REGION]), store, steps=steps, pool=Pool(), workers=1)
    for e in store.entries:
        e["account"] = account
    for _, stubber in clients.values():
        stubber.assert_no_pending_responses()
    store.write_manifest({"account": account, "regions": [REGION], "clusters": clusters or {}})
    return Evidence(store.root)

"""Live probes made during collection (e.g. TLS versions an endpoint accepts), recorded as evidence.

Probes only ever contact endpoints the audit already talks to:
- the Kubernetes API URL the Kubernetes client actually used (k8s_host);
- the DescribeCluster endpoint and the regional EKS API (eks.<region>.amazonaws.com), but only when no
  --endpoint-url is set: behind an emulator those names are fake and are never resolved or contacted.

Evidence: input "probe:tls", one entry per cluster (path probe/<cluster>/tls.json) and, in live runs, one for
the regional EKS endpoints (cluster "", path probe/_/tls.json). Data: {"targets": [probe records], "skipped":
reason or ""}. When every target of an entry failed, the entry is recorded as an error with the cause.
"""

from __future__ import annotations

from ..target import AwsTarget, K8sSource
from .store import EvidenceStore, now
from .tls import probe_url


def _targets(target: AwsTarget, info: dict) -> tuple[list[tuple[str, str]], str]:
    """(role, url) pairs to probe for one cluster, and why some were skipped."""
    urls: list[tuple[str, str]] = []
    host = info.get("k8s_host") or ""
    if host:
        urls.append(("kubernetes-client", host))
    endpoint = info.get("endpoint") or ""
    skipped = ""
    if target.endpoint_url:
        skipped = ("the DescribeCluster endpoint was not probed: the AWS APIs are served by an emulator "
                   "(--endpoint-url), so its hostname is not real")
    elif endpoint and endpoint.rstrip("/") != host.rstrip("/"):
        urls.append(("describe-cluster", endpoint))
    return urls, skipped


def _record(store: EvidenceStore, account: str, region: str, cluster: str, targets: list[dict], skipped: str,
            started: str) -> None:
    failed = [t for t in targets if t.get("status") == "error"]
    if targets and len(failed) == len(targets):
        store.record(source="probe", service="tls", operation="tls", account=account, region=region,
                     cluster=cluster, started=started,
                     error={"kind": "timeout", "code": "probe-failed",
                            "message": "; ".join(f"{t['url']}: {t.get('reason', '')}" for t in failed)[:500]})
        return
    store.record(source="probe", service="tls", operation="tls", account=account, region=region, cluster=cluster,
                 data={"targets": targets, "skipped": skipped}, started=started)


def collect_probes(target: AwsTarget, source: K8sSource, store: EvidenceStore, account: str,
                   clusters: dict[str, dict]) -> None:
    """clusters: name -> {"region", "arn", "endpoint", "certificateAuthority", "k8s_host"}."""
    for name, info in sorted(clusters.items()):
        started = now()
        urls, skipped = _targets(target, info)
        targets = [{**probe_url(url), "role": role} for role, url in urls]
        if not urls:
            skipped = "; ".join(x for x in (skipped, f"no Kubernetes connection was made ({source.mode} source)")
                                if x)
        _record(store, account, info.get("region", ""), name, targets, skipped, started)
    if not target.endpoint_url:
        started = now()
        targets = [{**probe_url(f"https://eks.{region}.amazonaws.com"), "role": "eks-regional", "region": region}
                   for region in target.regions]
        _record(store, account, "", "", targets, "", started)

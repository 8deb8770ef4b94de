"""Everything `eksaudit demo` needs running: the seeded account and its clusters' API endpoint."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..target import AwsTarget, K8sSource
from .account import REGION, DemoAccount
from .cluster_objects import demo_clusters


@contextlib.contextmanager
def demo_environment(clusters: dict[str, list[dict]] | None = None) -> Iterator[tuple[AwsTarget, K8sSource, dict]]:
    """Start moto and the demo Kubernetes endpoint on loopback; yield the target and source that reach them."""
    from .k8s_server import DemoKubeServer

    with tempfile.TemporaryDirectory(prefix="eksaudit-demo-") as tmp, DemoAccount() as acct, \
            DemoKubeServer(clusters or demo_clusters()) as kube:
        kubeconfig = kube.write_kubeconfig(Path(tmp) / "kubeconfig")
        target = AwsTarget(regions=[REGION], endpoint_url=acct.endpoint_url)
        source = K8sSource(mode="kubeconfig", kubeconfig=str(kubeconfig))
        yield target, source, {"account": acct, "kube": kube, "kubeconfig": kubeconfig,
                               "attachments": demo_attachments()}


def demo_attachments() -> dict[str, list[Path]]:
    """Result files the demo attaches as evidence (kube-bench, Docker Bench samples), by KIND[:CLUSTER].

    The stale legacy-weak kube-bench result carries its run time in a top-level "timestamp" (2025-08-19), so it
    is old whenever the demo runs; the Docker Bench log records its own start. The hardened result has no time
    of its own: prod-hardened's recent run is proven by its kube-bench CronJob.
    """
    from .account import HARDENED, WEAK

    data = Path(__file__).parent / "data"
    return {f"kube-bench:{WEAK}": [data / "kube-bench-legacy-weak.json"],
            f"kube-bench:{HARDENED}": [data / "kube-bench-prod-hardened.json"],
            "docker-bench": [data / "docker-bench-security.log.json", data / "docker-bench-security.log"]}

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
    """Result files the demo attaches as evidence (kube-bench, Docker Bench samples), by KIND[:CLUSTER]."""
    return {}

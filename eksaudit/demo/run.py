"""Everything `eksaudit demo` needs running: the seeded account and its clusters' API endpoint."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .. import clock
from ..target import AwsTarget, K8sSource
from .account import HARDENED, REGION, WEAK, DemoAccount
from .cluster_objects import demo_clusters

# Ports `eksaudit demo` asks for first, so that the endpoint URLs in its findings are the same from one demo
# audit to the next (for `eksaudit diff`); when taken, any free port does.
DEMO_PORTS = (46443, 46444)


@contextlib.contextmanager
def demo_environment(clusters: dict[str, list[dict]] | None = None, fixes: list[str] | tuple[str, ...] = (),
                     ports: tuple[int, int] = (0, 0)) -> Iterator[tuple[AwsTarget, K8sSource, dict]]:
    """Start moto and the demo Kubernetes endpoint on loopback; yield the target and source that reach them.

    `fixes`: the demo team's fixes applied after seeding (demo.account.fixes()). `ports`: the Kubernetes
    endpoint's preferred ports (TLS 1.2+ listener, legacy listener); 0 or a taken port means any free one.
    """
    from .k8s_server import DemoKubeServer

    # legacy-weak's API endpoint sits behind a listener that still accepts TLS 1.0 and 1.1, as an old proxy in
    # front of a cluster would; the other clusters share a TLS 1.2+ listener.
    with tempfile.TemporaryDirectory(prefix="eksaudit-demo-") as tmp, DemoAccount(fixes) as acct, \
            DemoKubeServer(clusters or demo_clusters(fixes), legacy_tls={WEAK}, ports=ports) as kube:
        kubeconfig = kube.write_kubeconfig(Path(tmp) / "kubeconfig")
        target = AwsTarget(regions=[REGION], endpoint_url=acct.endpoint_url)
        source = K8sSource(mode="kubeconfig", kubeconfig=str(kubeconfig))
        yield target, source, {"account": acct, "kube": kube, "kubeconfig": kubeconfig, "fixes": acct.fixes,
                               "attachments": demo_attachments(Path(tmp))}


def demo_attachments(folder: Path) -> dict[str, list[Path]]:
    """Result files the demo attaches as evidence (kube-bench, Docker Bench samples), by KIND[:CLUSTER].

    The stale legacy-weak kube-bench result carries its run time in a top-level "timestamp" (2025-08-19), so it
    is old whenever the demo runs; the hardened result has no time of its own: prod-hardened's recent run is
    proven by its kube-bench CronJob. Docker Bench: an old build host's result with warnings (the committed
    sample, its log records its own start) and a clean result from the hardened team's build host, written into
    `folder` and dated when the demo starts.
    """
    data = Path(__file__).parent / "data"
    return {f"kube-bench:{WEAK}": [data / "kube-bench-legacy-weak.json"],
            f"kube-bench:{HARDENED}": [data / "kube-bench-prod-hardened.json"],
            "docker-bench": [data / "docker-bench-security.log.json", data / "docker-bench-security.log",
                             _clean_docker_bench(data / "docker-bench-security.log.json", folder)]}


def _clean_docker_bench(sample: Path, folder: Path) -> Path:
    """The sample Docker Bench result as a host that fixed every warning would produce it, run just now."""
    doc = json.loads(sample.read_text(encoding="utf-8"))
    for section in doc["tests"]:
        for r in section["results"]:
            if r["result"] == "WARN":
                r["result"] = "PASS"
                for key in ("details", "items", "remediation"):
                    r.pop(key, None)
    started = int(clock.now().timestamp()) - 120
    doc.update(start=started, end=started + 41, score=sum(r["result"] == "PASS" for s in doc["tests"]
                                                          for r in s["results"]))
    path = folder / "docker-bench-payments-build.log.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path

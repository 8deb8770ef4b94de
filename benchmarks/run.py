"""Speed goals, measured (results go to benchmarks/RESULTS.md; tests never assert timings).

1. A synthetic estate of N pods (default 50,000) across two clusters: frames + every check, offline.
2. The whole demo pack: moto + Kubernetes endpoint start, collection, checks, notebooks, HTML.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def synthetic_estate(root: Path, pods: int):
    from eksaudit.testing import EvidenceBuilder, pod

    b = EvidenceBuilder(root)
    half = pods // 2
    for cluster in ("estate-a", "estate-b"):
        items = []
        for i in range(half):
            ctx = {"runAsUser": 1000 + i % 7, "readOnlyRootFilesystem": i % 3 == 0} if i % 2 else None
            c = {"name": "app", "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app{i % 50}:1"}
            if ctx:
                c["securityContext"] = ctx
            items.append(pod(f"p{i}", namespace=f"ns{i % 40}", containers=[c], sa=f"sa{i % 300}",
                             labels={"app": f"app{i % 300}"}))
        b.cluster(cluster, k8s={"pods": items})
    return b.build()


def bench_estate(pods: int) -> dict:
    started = time.perf_counter()
    from eksaudit.checks import load, run_checks
    from eksaudit.evidence import Evidence

    load()  # the catalog's imports (pandas, botocore's models for policy.py): a run pays them at its start
    imports = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        synthetic_estate(Path(tmp), pods)
        t0, c0 = time.perf_counter(), time.process_time()
        findings = run_checks(Evidence(Path(tmp) / "evidence"))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU seconds beside the wall: on a shared machine the wall clock swings with the load, the CPU far less.
    return {"pods": pods, "findings": len(findings), "seconds": round(elapsed, 2), "cpu_seconds": round(cpu, 2),
            "catalog_import_seconds": round(imports, 2), "load_average": round(os.getloadavg()[0], 1)}


def bench_demo() -> dict:
    from eksaudit.collect.run import collect
    from eksaudit.demo.run import demo_environment
    from eksaudit.runner import run_pack

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, demo_environment() as (target, source, extra):
        started = time.perf_counter()
        _, findings = run_pack(Path(tmp) / "pack",
                               collect=lambda d: collect(target, source, d, attachments=extra["attachments"]))
        done = time.perf_counter()
    return {"setup_seconds": round(started - t0, 2), "pack_seconds": round(done - started, 2),
            "findings": len(findings)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=50_000)
    ap.add_argument("--skip-demo", action="store_true")
    a = ap.parse_args()
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print("estate:", bench_estate(a.pods))
    if not a.skip_demo:
        print("demo pack:", bench_demo())


if __name__ == "__main__":
    main()

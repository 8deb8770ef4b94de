"""Snapshot collection and evidence read-back, in-process: CPU time and peak memory of each (issue #16).

One measurement is two child processes (so each peak RSS is its own): `collect` runs
`collect.kubernetes.collect_snapshots` over kubectl-shaped snapshots of N pods (the clusters and objects of
`benchmarks/scale.py --pods N`, built without moto: the IRSA roles and ECR images they name are made up) and writes
the evidence manifest; `read` runs `Evidence.check_readable` over that evidence inside the runner's cycle-collector
pause, as `eksaudit run` does before its checks. No AWS side, no checks, no notebooks: `scale.py` measures whole
runs. `--checkout DIR` measures another checkout's eksaudit on the same snapshot (A/B, alternate them).

    python benchmarks/snapshot.py [--pods 20000] [--repeat 1] [--keep DIR] [--checkout DIR]

Results go to benchmarks/RESULTS.md by hand; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
mode, snap, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
cpu, wall = time.process_time(), time.perf_counter()
if mode == "collect":
    from eksaudit.collect.kubernetes import collect_snapshots
    from eksaudit.collect.store import EvidenceStore
    from eksaudit.target import K8sSource
    names = sorted(p.name for p in snap.iterdir())
    store = EvidenceStore(out, redaction_key=b"benchmark key")
    cpu, wall = time.process_time(), time.perf_counter()
    collect_snapshots(K8sSource(mode="snapshot", snapshots={n: [snap / n] for n in names}), store, "123456789012",
                      {n: {"region": "us-east-1"} for n in names})
    store.write_manifest({"account": "123456789012", "clusters": {n: "us-east-1" for n in names}})
else:
    import contextlib
    from eksaudit.evidence import Evidence
    try:
        from eksaudit.cycles import collector_paused
    except ImportError:  # a checkout from before eksaudit.cycles
        collector_paused = contextlib.nullcontext
    cpu, wall = time.process_time(), time.perf_counter()
    with collector_paused():
        Evidence(out).check_readable()
print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def build(folder: Path, pods: int) -> None:
    """kubectl files of `scale.py --pods N`'s clusters, one folder per cluster."""
    import scale

    e = scale.pods_estate(pods)
    names = scale.cluster_names(e)
    seeded = scale.Seeded({n: [f"arn:aws:iam::{scale.ACCOUNT}:role/irsa-{n}-{k}" for k in range(20)] for n in names},
                          {n: f"arn:aws:iam::{scale.ACCOUNT}:role/node-{n}" for n in names},
                          [(f"team/repo-{i}", f"v{i}", f"sha256:{i:064x}") for i in range(200)], 0, 0.0)
    per = [e.pods // len(names) + (1 if i < e.pods % len(names) else 0) for i in range(len(names))]
    for i, (name, count) in enumerate(zip(names, per)):
        w = scale.ClusterWriter(name, i, count, seeded)
        w.build()
        w.write(folder / name)


def child(checkout: Path, mode: str, snap: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(snap), str(out)], env=env, cwd=checkout,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pods", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", help="build the snapshot here (and reuse it when it is already there)")
    ap.add_argument("--checkout", help="measure the eksaudit of this checkout (default: this one)")
    a = ap.parse_args()
    checkout = Path(a.checkout).resolve() if a.checkout else ROOT
    with tempfile.TemporaryDirectory(prefix="eksaudit-snapshot-") as tmp:
        snap = Path(a.keep) / f"snap-{a.pods}" if a.keep else Path(tmp) / "snap"
        if not snap.exists():
            build(snap, a.pods)
        size = sum(f.stat().st_size for f in snap.rglob("*.json"))
        print(f"{checkout}: {a.pods:,} pods, snapshot {size / 2**20:.0f} MiB")
        for _ in range(a.repeat):
            out = Path(tmp) / "evidence"
            load = os.getloadavg()[0]
            c = child(checkout, "collect", snap, out)
            r = child(checkout, "read", snap, out)
            evidence = sum(f.stat().st_size for f in out.rglob("*.json"))
            print(f"  collect {c['cpu']:.2f} s CPU ({c['wall']:.2f} s wall), peak RSS {c['rss'] / 2**20:,.0f} MiB; "
                  f"evidence {evidence / 2**20:.0f} MiB; read back {r['cpu']:.2f} s CPU ({r['wall']:.2f} s wall), "
                  f"peak RSS {r['rss'] / 2**20:,.0f} MiB; load {load:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)
            shutil.rmtree(out)


if __name__ == "__main__":
    main()

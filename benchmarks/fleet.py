"""Fleet throughput: N demo-like targets audited one after another vs on a local Dask cluster, and memory.

Every target is the demo account (moto + the demo Kubernetes endpoint), reached through a role of its own
(AssumeRole on the worker, as a real fleet does), with the demo's kubeconfig and attachments: a complete pack
each. Two runs over the same targets:

- sequential: each target's child process (`eksaudit.fleet.work`) run one after the other, no Dask: what a shell
  loop over `eksaudit run` does;
- Dask: `run_fleet` submitting to a scheduler and workers started here as separate processes (`dask scheduler`,
  `dask worker --nthreads 1`), which is the `--scheduler` path and lets the scheduler's and the workers' own
  memory be measured apart from this process (which hosts moto).

Memory is sampled every half second with psutil: the scheduler process, each worker process alone, and each
worker's children (the target's process and its notebook kernels), reported as peaks. Results go to
benchmarks/RESULTS.md by hand; nothing here asserts a time.

    python benchmarks/fleet.py [--targets 20] [--workers 2] [--notebooks summary]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sampler:
    """Peak RSS of the scheduler, of each worker process, and of each worker's child processes together."""

    def __init__(self, scheduler_pid: int, worker_pids: list[int]):
        import psutil

        self.psutil = psutil
        self.scheduler = psutil.Process(scheduler_pid)
        self.workers = [psutil.Process(pid) for pid in worker_pids]
        self.peak = {"scheduler": 0, "worker": 0, "target": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self, p) -> int:
        try:
            return p.memory_info().rss
        except self.psutil.Error:
            return 0

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak["scheduler"] = max(self.peak["scheduler"], self._rss(self.scheduler))
            for w in self.workers:  # worker process -> target process -> notebook kernels
                self.peak["worker"] = max(self.peak["worker"], self._rss(w))
                try:
                    kids = w.children(recursive=True)
                except self.psutil.Error:
                    continue
                self.peak["target"] = max(self.peak["target"], sum(self._rss(k) for k in kids))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _specs(n: int, target, extra) -> list[dict]:
    attach = [f"{k}={','.join(str(p) for p in v)}" for k, v in extra["attachments"].items()]
    return [{"name": f"demo-{i:02d}", "role_arn": f"arn:aws:iam::123456789012:role/Auditor{i:02d}",
             "endpoint_url": target.endpoint_url, "regions": ["us-east-1"], "clusters": "all",
             "kubeconfig": str(extra["kubeconfig"]), "attach": attach} for i in range(1, n + 1)]


def bench_sequential(specs: list[dict], folder: Path, options: dict) -> dict:
    from eksaudit.fleet.work import audit_target

    targets = folder / "targets"
    targets.mkdir(parents=True)
    t0 = time.perf_counter()
    summaries = [audit_target(spec, str(targets), options) for spec in specs]
    elapsed = time.perf_counter() - t0
    return {"seconds": round(elapsed, 1), "per_minute": round(len(specs) / elapsed * 60, 2),
            "audited": sum(s["status"] == "audited" for s in summaries)}


def bench_dask(specs: list[dict], folder: Path, options: dict, workers: int) -> dict:
    from eksaudit.fleet.engine import run_fleet
    from eksaudit.fleet.targets import Fleet, Target

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    scheduler = subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], env=env, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--nworkers",
                               str(workers), "--host", "127.0.0.1", "--no-dashboard"], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
            worker_pids = list(client.run(os.getpid).values())
        fleet = Fleet(path=folder / "bench.yaml", targets=[Target(spec=s, line=i + 1) for i, s in enumerate(specs)])
        with Sampler(scheduler.pid, worker_pids) as sampler:
            t0 = time.perf_counter()
            _, doc = run_fleet(fleet, folder / "fleet", options, scheduler=address, say=lambda line: None)
            elapsed = time.perf_counter() - t0
    finally:
        for p in (worker, scheduler):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    mib = {k: round(v / 2**20) for k, v in sampler.peak.items()}
    return {"seconds": round(elapsed, 1), "per_minute": round(len(specs) / elapsed * 60, 2),
            "audited": sum(s["status"] == "audited" for s in doc["targets"]), "workers": workers,
            "peak_scheduler_mib": mib["scheduler"], "peak_worker_mib": mib["worker"],
            "peak_target_mib": mib["target"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--notebooks", help="comma-separated notebooks per pack (default: all five)")
    ap.add_argument("--skip-sequential", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from eksaudit.demo.run import demo_environment

    options = {"notebooks": a.notebooks.split(",")} if a.notebooks else {}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp, demo_environment() as (target, _, extra):
        specs = _specs(a.targets, target, extra)
        if not a.skip_sequential:
            print("sequential:", bench_sequential(specs, Path(tmp) / "seq", options), flush=True)
        print("dask:", bench_dask(specs, Path(tmp) / "dask", options, a.workers), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

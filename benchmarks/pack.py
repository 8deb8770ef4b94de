"""The demo audit, phase by phase: median of N runs (results go to benchmarks/RESULTS.md; tests never time).

Three measures, each `eksaudit run` as a process of its own, its phases read from the pack's run.json:
1. `run --evidence` on the committed demo evidence (tests/data/demo-evidence): no AWS, no Kubernetes.
2. The demo pack after the account is seeded: the demo account (moto on 127.0.0.1 and the clusters' HTTPS
   endpoint) runs in this process, started and seeded once, as a real account would be up already; each run
   collects from it (AWS and Kubernetes, with the demo's attachments) and builds the pack.
3. The same with `--pdf` (Debian's chromium; skipped with a note when it is missing).

    python benchmarks/pack.py [--runs 5] [--skip-pdf]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVIDENCE = ROOT / "tests" / "data" / "demo-evidence"


def one_run(args: list[str], out: Path, env: dict | None = None) -> dict:
    """One `eksaudit run` process: its wall time and the phases its run.json records."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "eksaudit.cli", "run", *args, "--out", str(out), "--quiet",
                           "--accept-incomplete"], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=ROOT)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"eksaudit run failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    run = json.loads((out / "run.json").read_text())
    phases = {t["phase"].strip(): t["seconds"] for t in run.get("timings", [])}
    phases["wall"] = wall
    return phases


def medians(runs: list[dict]) -> dict:
    names = list(dict.fromkeys(p for r in runs for p in r))
    return {n: statistics.median(r.get(n, 0.0) for r in runs) for n in names}


def bench(label: str, args: list[str], runs: int, env: dict | None = None) -> dict:
    results = []
    with tempfile.TemporaryDirectory(prefix="eksaudit-bench-") as tmp:
        for i in range(runs):
            out = Path(tmp) / f"pack{i}"
            results.append(one_run(args, out, env))
            shutil.rmtree(out)
    m = medians(results)
    print(f"{label}: median of {runs}: {m['wall']:.2f} s", flush=True)
    return m


def demo_args(target, source, extra) -> tuple[list[str], dict]:
    args = ["--endpoint-url", target.endpoint_url, "--region", target.regions[0], "--kubeconfig", source.kubeconfig]
    for spec, paths in extra["attachments"].items():
        for path in paths:
            args += ["--attach", f"{spec}={path}"]
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": target.regions[0]}
    return args, env


def table(columns: dict[str, dict]) -> str:
    names = list(dict.fromkeys(p for m in columns.values() for p in m if p != "wall"))
    head = "| phase | " + " | ".join(columns) + " |\n|---|" + "---:|" * len(columns)
    rows = [f"| {n} | " + " | ".join(f"{m[n]:.2f}" if n in m else "" for m in columns.values()) + " |"
            for n in names]
    rows.append("| **wall (process)** | " + " | ".join(f"**{m['wall']:.2f}**" for m in columns.values()) + " |")
    return "\n".join([head, *rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-pdf", action="store_true")
    a = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    columns = {"run --evidence (demo evidence)": bench("run --evidence", ["--evidence", str(EVIDENCE)], a.runs)}
    from eksaudit.demo.run import demo_environment
    from eksaudit.pdf import find_chromium

    started = time.perf_counter()
    with demo_environment() as (target, source, extra):
        print(f"demo account started and seeded in {time.perf_counter() - started:.2f} s (not in the runs)")
        args, env = demo_args(target, source, extra)
        columns["demo: collect + pack"] = bench("demo pack", args, a.runs, env)
        if a.skip_pdf:
            pass
        elif find_chromium(None) is None:
            print("no chromium on PATH: the PDF measure is skipped (apt-get install chromium)")
        else:
            columns["demo: collect + pack + PDFs"] = bench("demo pack with PDFs", [*args, "--pdf"], a.runs, env)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}\n")
    print(table(columns))


if __name__ == "__main__":
    main()

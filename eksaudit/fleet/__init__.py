"""Fleet audits: many accounts, regions and clusters in one run, on Dask (`eksaudit run --targets FILE`).

The fleet layer sits on top of the single-target pipeline and drives it, never the collectors: `targets.py`
reads and checks the targets file, `engine.py` runs one Dask task per target, `work.py` is what a worker runs
(the same collect + run_pack as `eksaudit run`, in a child process), `report.py` writes the roll-up.
Importing this package loads neither Dask nor the pipeline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from ..safe_files import shown

# `run` options that describe one target: with --targets, the file says all of that per target.
SINGLE_TARGET_OPTIONS = {"profile": "--profile", "role_arn": "--role-arn", "external_id": "--external-id",
                         "regions": "--region", "endpoint_url": "--endpoint-url", "clusters": "--cluster",
                         "kubeconfig": "--kubeconfig", "context": "--context", "eks_auth": "--eks-auth",
                         "snapshots": "--k8s-snapshot", "attach": "--attach", "evidence": "--evidence"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("fleet (many targets in one run, on Dask)")
    g.add_argument("--targets", metavar="FILE",
                   help="YAML file of targets (accounts, regions, clusters, Kubernetes sources) audited into one "
                        "fleet folder; see README 'Fleet audits'")
    g.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="with --targets: submit to this Dask scheduler (default: a local cluster on this machine)")
    g.add_argument("--workers", type=int, metavar="N",
                   help="with --targets: local Dask workers (default: sized to this machine's cores and memory)")
    g.add_argument("--target-timeout", type=int, metavar="SECONDS",
                   help="with --targets: a target still running after this long is stopped and reported failed "
                        "(default 3600; `timeout:` in the targets file overrides it per target)")


def run_command(a: argparse.Namespace, params: dict, sign_key: bytes | None) -> int:
    """`eksaudit run --targets FILE`: check the file, audit every target, print where the fleet folder is."""
    from ..checks import default_params
    from ..runner import new_run_id
    from . import targets as targets_file
    from .engine import run_fleet

    given = [flag for attr, flag in SINGLE_TARGET_OPTIONS.items() if getattr(a, attr, None)]
    if given:
        raise UserError(f"--targets takes every target's settings from the file: drop {', '.join(given)} (put it "
                        "in the file's defaults)")
    if a.workers is not None and (a.workers < 1 or a.scheduler):
        raise UserError("--workers takes a number above 0, and only for the local cluster (not with --scheduler)")
    if a.target_timeout is not None and a.target_timeout < 1:
        raise UserError("--target-timeout takes a number of seconds above 0")
    fleet = targets_file.load(a.targets, default_params())  # after _params: --checks-dir's parameters count too
    run_id = "fleet-" + new_run_id()
    out = Path(a.out) if a.out else Path("reports") / run_id
    options = {"params": params, "fail_on": a.fail_on, "checks_dir": str(Path(a.checks_dir).resolve())
               if a.checks_dir else None, "pdf": a.pdf or bool(a.chromium), "chromium": a.chromium,
               "accept_incomplete": [x.strip() for x in (a.accept_incomplete or "").split(",") if x.strip()],
               "sign_key_file": str(Path(a.sign_key).resolve()) if a.sign_key else None}
    if a.target_timeout:
        options["timeout"] = a.target_timeout
    folder, doc = run_fleet(fleet, out, options, scheduler=a.scheduler, workers=a.workers, sign_key=sign_key,
                            run_id=run_id)
    return finish(folder, doc)


def finish(folder: Path, doc: dict) -> int:
    summaries = doc["targets"]
    failed = [s for s in summaries if s["status"] != "audited"]
    print(f"fleet: {len(summaries) - len(failed)} of {len(summaries)} targets audited")
    print(f"fleet pack: {folder.resolve() / 'index.html'}")
    for s in failed:
        print(f"eksaudit: target {s['target']} could not be audited: {shown(s['error'])}", file=sys.stderr)
    return doc["exit"]

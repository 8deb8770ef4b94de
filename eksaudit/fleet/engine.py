"""The client side of a fleet audit: a Dask cluster, one task per target, progress, and the fleet folder.

By default a LocalCluster sized to this machine (worker processes, one target each at a time, listening on
127.0.0.1 only, no dashboard); `--scheduler tcp://HOST:8786` uses an existing cluster instead, whose workers
have eksaudit installed and see the fleet folder at the same path (shared storage). Targets are submitted
as plain data; each task returns a summary (see `work.audit_target`), so the scheduler never holds evidence.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import __version__, clock, staging
from ..errors import UserError
from ..runner import new_run_id
from ..safe_files import shown
from . import work
from .targets import DEFAULT_TIMEOUT, Fleet

SCHEDULER_RE = re.compile(r"^(tcp|tls)://[A-Za-z0-9_.:\[\]-]+:\d{1,5}$")
TARGET_MEMORY = 2 << 30  # bytes one target may use at its peak (collection, five notebook kernels): sizes workers
CONNECT_TIMEOUT = "30s"


def local_workers(n_targets: int, cpus: int | None = None, memory: int | None = None) -> int:
    """Workers for a local cluster: one per core, as many as memory holds at a target's peak, never more than
    there are targets; at least one."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if memory is None:
        import psutil

        memory = psutil.virtual_memory().available
    return max(1, min(cpus, memory // TARGET_MEMORY, n_targets))


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A Dask client: to `scheduler`, or to a local cluster of `workers` single-threaded worker processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        if not SCHEDULER_RE.match(scheduler):
            raise UserError(f"--scheduler {shown(scheduler)}: expected tcp://HOST:PORT (or tls://HOST:PORT)")
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise UserError(f"cannot reach the Dask scheduler at {shown(scheduler)}: {exc}") from None
        with client:
            yield client
        return
    # Processes, not threads: each target runs its own child process anyway, but the worker processes keep a
    # stuck task from holding the client's interpreter. 127.0.0.1 and no dashboard: nothing listens outside.
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, worker_dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def _check_workers(client, targets_dir: Path) -> str:
    """Every worker runs this eksaudit and can write the fleet folder (shared storage); one line why not."""
    def probe(path: str) -> dict:
        from eksaudit import __version__ as version

        ok = os.path.isdir(path) and os.access(path, os.W_OK)
        return {"version": version, "writable": ok}

    answers = client.run(probe, str(targets_dir))
    if not answers:
        raise UserError("the Dask cluster has no workers")
    wrong = {w: a["version"] for w, a in answers.items() if a["version"] != __version__}
    if wrong:
        w, v = next(iter(sorted(wrong.items())))
        raise UserError(f"Dask worker {shown(w)} runs eksaudit {shown(v)}, this is {__version__}: install the same "
                        "version on every worker")
    blind = sorted(w for w, a in answers.items() if not a["writable"])
    if blind:
        raise UserError(f"Dask worker {shown(blind[0])} cannot write {shown(targets_dir)}: --out must be on storage "
                        "shared with the workers, at the same path")
    return f"{len(answers)} worker{'s' if len(answers) != 1 else ''}"


class Progress:
    """Targets done / running / failed on stderr, one line per change."""

    def __init__(self, total: int, say: Callable[[str], None]):
        self.total, self.say = total, say
        self.running: set[str] = set()
        self.done = self.failed = 0
        self._lock = threading.Lock()

    def event(self, event) -> None:
        """Handler of the workers' start notices (a Dask event: (time, message))."""
        msg = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if not isinstance(msg, dict) or msg.get("event") != "started":
            return
        with self._lock:
            self.running.add(str(msg.get("target", "")))
            self._line(f"started {msg.get('target', '')}")

    def finished(self, summary: dict) -> None:
        with self._lock:
            self.running.discard(summary["target"])
            self.done += 1
            if summary["status"] == "failed":
                self.failed += 1
                what = f"FAILED {summary['target']}: {summary['error'][:200]}"
            else:
                what = f"audited {summary['target']} ({_result(summary)})"
            self._line(what)

    def _line(self, what: str) -> None:
        self.say(f"fleet: {self.done}/{self.total} done, {len(self.running)} running, {self.failed} failed"
                 f" · {shown(what)}")


def _result(summary: dict) -> str:
    counts = summary.get("counts") or {}
    return ", ".join(f"{k} {counts[k]}" for k in ("FAIL", "ERROR") if counts.get(k)) or "no FAIL or ERROR"


def run_fleet(fleet: Fleet, out: Path, options: dict[str, Any], *, scheduler: str | None = None,
              workers: int | None = None, sign_key: bytes | None = None, run_id: str | None = None,
              say: Callable[[str], None] | None = None) -> tuple[Path, dict]:
    """Audit every target of `fleet` on Dask into `out` (written beside it, renamed when complete).

    `options`: what every target's run gets (params, fail_on, checks_dir, pdf, chromium, accept_incomplete,
    sign_key_file, timeout; `notebooks` to run fewer notebooks, for tests and benchmarks). Returns the folder
    and the fleet document (fleet.json).
    """
    from . import report

    say = say or (lambda line: print(line, file=sys.stderr))
    out = Path(out).resolve()
    run_id = run_id or "fleet-" + new_run_id()
    started = clock.iso()
    options = {"timeout": DEFAULT_TIMEOUT, **options}
    with staging.Staging(out, say) as stage:
        targets_dir = stage.tmp / "targets"
        targets_dir.mkdir()
        n = workers or local_workers(len(fleet.targets))
        with dask_client(scheduler, n) as client:
            where = _check_workers(client, targets_dir)
            where = f"Dask scheduler {scheduler} ({where})" if scheduler else f"local Dask cluster ({where})"
            say(f"fleet: {len(fleet.targets)} targets on {where}")
            summaries = execute(client, fleet, targets_dir, options, say)
        doc = report.write(stage.tmp, fleet, summaries, options, run_id=run_id, started=started, where=where,
                           sign_key=sign_key)
        stage.publish()
    return out, doc


def execute(client, fleet: Fleet, targets_dir: Path, options: dict[str, Any],
            say: Callable[[str], None]) -> list[dict]:
    """Submit one task per target and collect the summaries as they come; a task that raises (its worker
    died, say) is that target's failure, never the fleet's. Summaries in the targets file's order."""
    from distributed import as_completed

    progress = Progress(len(fleet.targets), say)
    client.subscribe_topic(work.TOPIC, progress.event)
    futures = {}
    try:
        for t in fleet.targets:
            # Plain data only: the spec, a folder, the options (a sign key by its file's path). The worker
            # builds the session; the key makes each target's task distinct in the scheduler.
            fut = client.submit(work.audit_target, t.spec, str(targets_dir), options, pure=False,
                                key=f"eksaudit-target-{t.name}-{secrets.token_hex(4)}")
            futures[fut] = t
        summaries: dict[str, dict] = {}
        for fut in as_completed(list(futures)):
            t = futures[fut]
            try:
                summary = fut.result()
            except Exception as exc:  # the task itself failed (its worker died, a defect): this target only
                summary = work.failed(t.spec, f"the Dask task failed: {type(exc).__name__}: {exc}")
            summaries[t.name] = summary
            progress.finished(summary)
    finally:
        client.unsubscribe_topic(work.TOPIC)
        client.cancel(list(futures))
    return [summaries[t.name] for t in fleet.targets]

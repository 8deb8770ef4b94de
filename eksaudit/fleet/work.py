"""What runs on a Dask worker: one target audited in a child process, and a small summary back.

The Dask task (`audit_target`) receives plain data only: the target's spec (names, role ARN, regions, paths),
the folder its pack goes to, and the run's options (a --sign-key is passed as its file's path, read on the
worker). The child process (`python -m eksaudit.fleet.work`) builds the AWS session from the worker's own base
credentials (AssumeRole into the target's role when it has one) and runs the same collect + run_pack as a
single `eksaudit run`. So no credential travels through the scheduler, a hanging target can be stopped (the
child is interrupted at its timeout, then killed), and the worker's memory returns to what it was after each
target. What comes back is a summary: the pack's folder, counts by status, the exit code, or the cause of the
failure; never evidence.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

TOPIC = "eksaudit-fleet"  # Dask event topic of target start notices (the console's "running" count)
GRACE = 30  # seconds a target has to clean up (kill its kernels, drop its temporary folder) after an interrupt
POLL = 0.5  # seconds between looks at the child, the deadline and the fleet folder


def audit_target(spec: dict[str, Any], targets_dir: str, options: dict[str, Any]) -> dict[str, Any]:
    """The Dask task: audit one target into `targets_dir/<name>` within its timeout; never raises for the target's
    own failures (they are in the summary, so one target cannot stop the others)."""
    name = spec["name"]
    _notify({"target": name, "event": "started"})
    started = time.monotonic()
    timeout = float(spec.get("timeout") or options.get("timeout") or 3600)
    with tempfile.TemporaryDirectory(prefix="eksaudit-fleet-") as tmp, \
            open(Path(tmp) / "stderr.log", "w+b") as log:
        request, result = Path(tmp) / "request.json", Path(tmp) / "summary.json"
        request.write_text(json.dumps({"spec": spec, "out": str(Path(targets_dir) / name), "options": options}))
        child = subprocess.Popen([sys.executable, "-m", "eksaudit.fleet.work", str(request), str(result)],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        cause = _wait(child, timeout, Path(targets_dir))
        if cause:
            _drop_partial(Path(targets_dir), name)
        summary = _read_summary(result)
        if summary is None:  # it died without a word: its last line of output says why
            log.seek(0)
            tail = [ln for ln in log.read().decode("utf-8", "replace").splitlines() if ln.strip()][-1:]
            summary = failed(spec, cause or (f"the audit process ended with code {child.returncode}"
                                             + (f": {tail[0].strip()[:300]}" if tail else "")))
        elif cause:
            summary = failed(spec, cause)
    summary["seconds"] = round(time.monotonic() - started, 1)
    summary["worker"] = _worker_address()
    _notify({"target": name, "event": "finished", "status": summary["status"]})
    return summary


def _wait(child: subprocess.Popen, timeout: float, targets_dir: Path) -> str:
    """Wait for the child; interrupt it at its timeout, or when the fleet folder is gone (the fleet run was
    stopped), then kill it if it has not ended within GRACE. Returns why it was stopped ("" if it was not)."""
    deadline = time.monotonic() + timeout
    cause = ""
    while child.poll() is None:
        if not cause and time.monotonic() > deadline:
            cause = f"timed out after {int(timeout)} s (the target's timeout); stopped"
        elif not cause and not targets_dir.is_dir():
            cause = "the fleet run was stopped"
        if cause:
            child.send_signal(signal.SIGINT)  # the runner's Ctrl-C path: kernels killed, temporary folder removed
            try:
                child.wait(GRACE)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            break
        try:
            child.wait(POLL)
        except subprocess.TimeoutExpired:
            pass
    return cause


def _drop_partial(targets_dir: Path, name: str) -> None:
    """A killed child may leave its staging folder (`.NAME.partial-PID-XXXXXX`) in the fleet folder."""
    for leftover in targets_dir.glob(f".{name}.partial-*") if targets_dir.is_dir() else []:
        shutil.rmtree(leftover, ignore_errors=True)


def _read_summary(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and "status" in doc else None


def failed(spec: dict[str, Any], cause: str) -> dict[str, Any]:
    """The summary of a target that could not be audited."""
    return {"target": spec["name"], "status": "failed", "error": " ".join(str(cause).split())[:1000],
            "account": _account_of(spec), "regions": spec.get("regions", []), "pack": "", "exit": None,
            "counts": {}, "notes": []}


def _account_of(spec: dict[str, Any]) -> str:
    arn = spec.get("role_arn") or ""
    return arn.split(":")[4] if arn.count(":") >= 5 else ""


def _notify(msg: dict) -> None:
    """Tell the client a target started or ended (outside a Dask worker, e.g. a sequential run: nothing)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return
    worker.log_event(TOPIC, msg)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return ""


# ---- the child process ------------------------------------------------------------------------------------


def build(spec: dict[str, Any]):
    """The AWS target, Kubernetes source, cluster selection and attachments of a spec, on this machine."""
    from ..collect.attachments import parse_specs
    from ..target import AwsTarget, K8sSource

    source = K8sSource.from_args(spec.get("kubeconfig"), spec.get("context"), bool(spec.get("eks_auth")),
                                 spec.get("k8s_snapshot"))
    target = AwsTarget(profile=spec.get("profile"), role_arn=spec.get("role_arn"),
                       external_id=spec.get("external_id"), regions=list(spec.get("regions") or ["us-east-1"]),
                       endpoint_url=spec.get("endpoint_url"))
    clusters = None if spec.get("clusters", "all") == "all" else list(spec["clusters"])
    return target, source, clusters, parse_specs(spec.get("attach"))


def run_target(spec: dict[str, Any], out: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Audit one target into `out` (a complete pack, as `eksaudit run` writes it) and summarise it."""
    from .. import safe_files
    from ..collect.run import collect
    from ..errors import UserError
    from ..runner import exit_code, run_pack
    from ..safe_files import Refused

    notes: list[str] = []
    try:
        if not out.parent.is_dir():  # the fleet run was stopped and its folder removed: write nothing
            raise UserError(f"the fleet folder {out.parent} is gone")
        key = None
        if options.get("sign_key_file"):
            try:
                key = safe_files.read_file(options["sign_key_file"], "--sign-key", follow=True,
                                           limit=1 << 20).strip()
            except Refused as exc:
                raise UserError(f"cannot read --sign-key on this worker: {exc}") from None
        target, source, clusters, files = build(spec)
        target.session()  # AssumeRole here, from this machine's own credentials
        extra = {"waivers_file": spec["waivers"]} if spec.get("waivers") else {}
        params = {**options.get("params", {}), **spec.get("params", {})}
        pack, findings = run_pack(out, collect=lambda d: collect(target, source, d, clusters, files, key),
                                  params=params, fail_on=options.get("fail_on", "high"),
                                  notebooks=options.get("notebooks"), pdf=bool(options.get("pdf")),
                                  chromium=options.get("chromium"), sign_key=key, say=notes.append,
                                  checks_dir=options.get("checks_dir"), **extra)
    except KeyboardInterrupt:
        return failed(spec, "interrupted")
    except UserError as exc:
        return {**failed(spec, str(exc)), "notes": notes}
    except Exception as exc:  # any other failure is this target's, reported with its cause, never the fleet's
        traceback.print_exc()  # to the worker's log, for a defect
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return {**failed(spec, f"{type(exc).__name__}: {detail}"), "notes": notes}
    run = json.loads((pack / "run.json").read_text(encoding="utf-8"))
    accept = options.get("accept_incomplete") or []
    counts = {k: int(v) for k, v in findings["status"].value_counts().items()}
    return {"target": spec["name"], "status": "audited", "error": "", "account": run.get("account", ""),
            "caller": run.get("caller", ""), "regions": run.get("regions") or spec.get("regions", []),
            "clusters": _audited_clusters(run), "pack": f"targets/{spec['name']}",
            "run_id": run.get("run_id", ""), "exit": exit_code(findings, options.get("fail_on", "high"), accept),
            "counts": counts, "unverified_checks": len(run.get("unverified_checks") or []), "notes": notes}


def _audited_clusters(run: dict) -> list[str]:
    """The clusters the pack reports on (scope.audited), else every cluster the evidence names."""
    scope = run.get("scope") if isinstance(run.get("scope"), dict) else {}
    audited = scope.get("audited")
    if isinstance(audited, dict):
        return sorted({c for names in audited.values() for c in names})
    return sorted(run.get("clusters") or [])


def _watch_parent() -> None:
    """Interrupt this process if its worker dies (it is then adopted by another parent): a stopped fleet must
    not leave targets running. ipykernel watches its parent the same way."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGINT)
                return

    threading.Thread(target=watch, name="eksaudit-parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    request, result = Path(argv[0]), Path(argv[1])
    doc = json.loads(request.read_text(encoding="utf-8"))
    _watch_parent()
    summary = run_target(doc["spec"], Path(doc["out"]), doc["options"])
    result.write_text(json.dumps(summary, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

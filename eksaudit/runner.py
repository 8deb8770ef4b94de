"""Execute the notebooks over one collection and assemble the evidence pack."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import __version__, clock, diff, exports, render, staging, trend, viewer, waivers
from .checks import run_checks, use_checks_dir
from .domains import DOMAINS, page_of, title_of
from .errors import UserError
from .evidence import Evidence, check_evidence_folder, signing_note
from .findings import SEVERITIES, at_or_above
from .not_audited import not_audited, unverified_checks
from .pack import write_manifest

DOMAIN_NOTEBOOKS = [d.notebook for d in DOMAINS]
# nbclient waits this long for a cell's outputs after the kernel says it is done, then by default drops them
# silently: on a loaded machine a page could lose a table. Wait longer, and fail rather than drop.
IOPUB_TIMEOUT = 60
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


class Kernels:
    """The kernel processes of one run, so that an interrupted or failed run can end them at once.

    jupyter_client starts every kernel in a session of its own, so a Ctrl-C at the terminal reaches eksaudit
    but not its kernels: eksaudit has to kill them. After `kill_all`, a kernel that starts is killed at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: list = []
        self.stopped = False

    def started(self, process) -> None:
        """Record a kernel's process (a subprocess.Popen); kill it now if the run is already stopping."""
        with self._lock:
            self._processes.append(process)
            stopped = self.stopped
        if stopped:
            _kill(process)

    def kill_all(self) -> None:
        with self._lock:
            self.stopped = True
            processes = list(self._processes)
        for process in processes:
            _kill(process)


def _kill(process) -> None:
    """Kill a kernel; Popen does nothing when the process has already ended and been reaped."""
    try:
        process.kill()
    except OSError:
        pass


def _kernel_manager_class(sockets: str, kernels: Kernels | None = None):
    """A kernel manager that reports the kernels it starts to `kernels` and shuts them down without an interrupt.

    jupyter_client sends SIGINT before it asks a kernel to shut down. A notebook's kernel is idle by then, but
    when the signal lands while it is still finishing its last reply, ipykernel prints "[IPKernelApp] ERROR |
    KeyboardInterrupt caught in kernel." on the terminal (in about one demo run out of four). The interrupt
    buys nothing at shutdown, so it is left out.

    With `sockets` (not on Windows, which has no Unix sockets): kernels on Unix sockets in a private folder,
    not loopback TCP ports. Several kernels start at once; with TCP the ports are picked before the kernel
    binds them, and two kernels can race for one ("Address already in use"). ipykernel also warns on every
    start that TCP is unencrypted. A fresh 0700 folder per kernel (under `sockets`, removed by the caller)
    gives neither race nor warning, and no other local user can connect. The connection file (it holds the
    kernel's message key) goes there too: a run killed outright leaves one folder, which the next run's sweep
    removes (`staging.sweep_temp`).
    """
    import tempfile

    from jupyter_client import AsyncKernelManager
    from traitlets import default

    class RunKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
            # What a kernel prints on its own (ipykernel's shutdown races, e.g. a ZMQError from a flush after
            # its IOPub thread stopped) is not the run's to show: it goes to a log beside the kernel's sockets.
            # Notebook errors reach the run through the notebook itself, not this stream.
            if "stderr" not in kw:
                log = tempfile.NamedTemporaryFile(prefix="kernel-", suffix=".log", dir=sockets or None,
                                                  delete=not sockets)
                kw["stderr"] = kw["stdout"] = log
            await super()._async_launch_kernel(kernel_cmd, **kw)
            process = getattr(self.provisioner, "process", None)
            if kernels is not None and process is not None:
                kernels.started(process)

        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    if not sockets:
        return RunKernelManager

    class IpcKernelManager(RunKernelManager):
        @default("transport")
        def _transport_default(self) -> str:
            return "ipc"

        @default("connection_file")
        def _connection_file_default(self) -> str:
            # jupyter_client names the sockets after this file ("<dir>/c-ipc-<n>"); keeping the file (it holds
            # the kernel's key) in the private folder also means a killed kernel leaves nothing in /tmp.
            return os.path.join(tempfile.mkdtemp(prefix="k", dir=sockets), "c.json")

    return IpcKernelManager


# Windows has no Unix sockets: stay on TCP there, and keep ipykernel's start-up notice about it off the terminal.
KERNEL_OPTIONS: dict = ({"extra_arguments": ["--IPKernelApp.log_level=ERROR"]} if os.name == "nt" else {})


def new_run_id() -> str:
    return clock.now().strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def print_header(account: str, run_id: str, started: str) -> str:
    """What every PDF page carries at its top (with "page X of Y" at its bottom): whose audit, which run, when."""
    when = started.replace("T", " ")[:16] + " UTC" if started else ""
    return f"EKS security audit · account {account or '?'} · run {run_id} · {when}"


def page_name(name: str) -> str:
    return page_of(name)


def execute_notebook(name: str, pack: Path, parameters: dict, subtitle: str = "", sockets: str = "",
                     kernels: Kernels | None = None, header: str = "") -> Path:
    """Run one notebook with papermill and export it to a self-contained HTML page with the code hidden.

    nbconvert's "basic" template gives the cells alone (its full templates load require.js and MathJax from a
    CDN); `render.page` wraps them with the pack's navigation, styles and a CSP that allows no external resource
    and no script but the tables' one. `header`: printed at the top of every PDF page. `sockets`: folder for the kernel's Unix sockets (a temporary
    one when not given). `kernels`: where the kernel's process is recorded, so that the caller can kill it.
    The kernel runs in `pack`; papermill's own `cwd` would change the whole process's working folder from
    this thread.
    """
    import tempfile

    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    if not KERNEL_OPTIONS and not sockets:
        with tempfile.TemporaryDirectory(prefix="eksaudit-kernels-") as tmp:
            return execute_notebook(name, pack, parameters, subtitle, tmp, kernels, header=header)
    kernel = {**KERNEL_OPTIONS, "kernel_manager_class": _kernel_manager_class(sockets, kernels)}
    out_nb = pack / "notebooks" / f"{name}.ipynb"
    papermill.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(out_nb), parameters=parameters,
                               kernel_name="python3", progress_bar=False, log_output=False,
                               iopub_timeout=IOPUB_TIMEOUT, raise_on_iopub_timeout=True,
                               resources={"metadata": {"path": str(pack)}}, **kernel)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(out_nb, as_version=4))
    target = pack / page_name(name)
    title = f"EKS security audit: {title_of(name)}"
    target.write_text(render.page(title, body, current=target.name, subtitle=subtitle, header=header),
                      encoding="utf-8")
    return target


def run_pack(out: Path, *, evidence_dir: Path | None = None, collect: Callable[[Path], Path] | None = None,
             params: dict | None = None, run_id: str | None = None, fail_on: str = "high",
             notebooks: list[str] | None = None, pdf: bool = False, chromium: str | None = None,
             sign_key: bytes | None = None, say: Callable[[str], None] | None = None,
             checks_dir: str | Path | None = None, waivers_file: str | Path | None = None,
             baseline: str | Path | None = None, history: str | Path | None = None) -> tuple[Path, pd.DataFrame]:
    """Build a pack at `out`: written in a temporary folder beside it, renamed into place only when complete.

    `evidence_dir`: an evidence folder from elsewhere, proven intact against its manifest (and its HMAC with
    `sign_key`) before anything is analysed; only the files it lists are copied in.
    `pdf`: also print every page and the whole pack to PDF with headless Chromium (`chromium` or found on PATH);
    without Chromium the pack is still built and `say` (stderr by default) gets one line on how to get PDFs.
    `sign_key`: HMAC the manifest with this key (`eksaudit verify --sign-key` checks it).
    `checks_dir`: an organization's own checks, run beside the catalog and shown on every page.
    `waivers_file`: accepted risks (eksaudit/waivers.py); `baseline`: an earlier pack to diff against (diff.*
    in the pack); `history`: where earlier packs of the account are found for the trend (default: out's folder).
    Both files are checked before anything is collected.
    """
    say = say or (lambda line: print(line, file=sys.stderr))
    if fail_on not in SEVERITIES:
        raise UserError(f"--fail-on must be one of {', '.join(SEVERITIES)}")
    # Absolute from the start; papermill runs without cwd= (its chdir is process-wide and races across threads).
    out = Path(out).resolve()
    if evidence_dir is not None:
        source = Path(evidence_dir).resolve()
        if out == source or out.is_relative_to(source):
            raise UserError(f"--out {out} is inside the evidence folder {source}: choose a folder outside it")
    run_id = run_id or new_run_id()
    use_checks_dir(checks_dir)  # a waiver may name one of its checks
    accepted = waivers.load(waivers_file) if waivers_file else None
    old = diff.read_pack(baseline, "--baseline pack") if baseline else None
    if history and not Path(history).is_dir():
        raise UserError(f"--history {history} is not a folder")
    with staging.Staging(out, say) as stage:
        tmp = stage.tmp
        started = clock.iso()
        evidence_check = ""
        if collect is not None:
            collect(tmp)
            evidence_check = "collected by this run"
        elif evidence_dir is not None:
            checked = check_evidence_folder(evidence_dir, sign_key, dest=tmp / "evidence", say=say)
            evidence_check = checked.how
            note = signing_note(checked, sign_key)
            if note:
                say(note)
        ev = Evidence(tmp / "evidence")
        ev.check_readable()
        org_checks = use_checks_dir(checks_dir)
        findings = run_checks(ev, params or {}, run_id=run_id)
        findings, waived = waivers.apply(findings, accepted, ev.collected_at.date())
        exports.write_csv(findings, tmp / "findings.csv")
        exports.write_json(findings, tmp / "findings.json")
        run = {"run_id": run_id, "tool": "eksaudit", "version": __version__, "started": started,
               "account": ev.account, "caller": ev.manifest.get("caller", ""), "regions": ev.manifest.get("regions"),
               "clusters": ev.clusters, "scope": ev.manifest.get("scope"),
               "kubernetes_source": ev.manifest.get("kubernetes_source", ""),
               "collected": [ev.manifest.get("started"), ev.manifest.get("finished")],
               "evidence_check": evidence_check, "params": params or {}, "fail_on": fail_on,
               "checks_dir": {"path": str(Path(checks_dir).resolve()), "files": org_checks} if checks_dir else {},
               "unverified_checks": unverified_checks(findings),
               "not_audited": not_audited(ev).to_dict(orient="records"), "waivers": waived}
        if old is not None:
            run["baseline"] = diff.baseline_into(tmp, old, findings, run)
        run["trend"] = trend.write(tmp, Path(history) if history else out.parent, run, findings, exclude=[out])
        (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
        (tmp / "notebooks").mkdir()
        names = notebooks or [*DOMAIN_NOTEBOOKS, "summary"]
        subtitle = f"account {ev.account or '?'} · run {run_id}"
        header = print_header(ev.account, run_id, started)
        # All kernels start at once: start-up is mostly waiting, and the summary reads findings.json, not the
        # other notebooks, so nothing orders them.
        import tempfile

        nb_params = {"run_dir": str(tmp.resolve()),
                     "checks_dir": str(Path(checks_dir).resolve()) if checks_dir else ""}
        kernels = Kernels()
        with _papermill_cwd(), tempfile.TemporaryDirectory(prefix="eksaudit-kernels-") as sockets:
            lock = staging.hold_lock(sockets)  # a sweep by another run leaves a live run's sockets alone
            try:
                _in_parallel([lambda n=n: _notebook(n, tmp, {**nb_params, **_static(n)}, subtitle,
                                                    "" if KERNEL_OPTIONS else sockets, kernels, header)
                              for n in names], kernels)
            finally:
                lock.close()
        _relativise(tmp)
        viewer.write_viewers(tmp, findings, subtitle)
        if pdf:
            run["pdf"] = _pdfs(tmp, chromium, [page_name(n) for n in names], say, header)
        run["finished"] = clock.iso()
        (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
        exports.write_ocsf(findings, tmp / "findings.ocsf.json", run)
        write_manifest(tmp, run, sign_key)
        stage.publish()
    return out, findings


def _static(name: str) -> dict:
    """A pack's pages have no kernel: the domain notebooks' Explore section shows a table, not the explorer."""
    return {"interactive": False} if name in DOMAIN_NOTEBOOKS else {}


def _in_parallel(jobs: list[Callable[[], object]], kernels: Kernels, workers: int = 5) -> None:
    """Run the jobs in up to `workers` threads; raise the first failure, or the interrupt, promptly.

    On a failure or a Ctrl-C the kernels are killed and the jobs not started are dropped. The threads then end
    within a second or two (nbclient notices a dead kernel once a second); they are daemon threads, waited for
    only briefly, so they cannot hold the process open, and what they log about their dead kernels is dropped.
    """
    todo = list(reversed(jobs))
    lock = threading.Lock()
    failures: list[BaseException] = []
    finished = [0]
    changed = threading.Event()

    def work() -> None:
        try:
            while True:
                with lock:
                    if not todo or failures or kernels.stopped:
                        return
                    job = todo.pop()
                try:
                    job()
                except BaseException as exc:  # handed to the main thread
                    with lock:
                        failures.append(exc)
                    return
        finally:
            with lock:
                finished[0] += 1
                changed.set()

    threads = [threading.Thread(target=work, name=f"eksaudit-notebook-{i}", daemon=True)
               for i in range(max(1, min(len(jobs), workers)))]
    for t in threads:
        t.start()
    try:
        while True:
            with lock:
                if failures:
                    raise failures[0]
                if finished[0] == len(threads):
                    return
                changed.clear()
            changed.wait(0.5)  # a timeout, as Windows delivers a Ctrl-C only between waits
    except BaseException:
        kernels.kill_all()
        for t in threads:
            t.abandoned = True  # type: ignore[attr-defined]
        logging.getLogger("papermill").addFilter(_from_live_threads)
        deadline = time.monotonic() + 0.5
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        raise


def _from_live_threads(record: logging.LogRecord) -> bool:
    """Drop papermill's (and nbclient's) log lines from notebook threads whose kernels eksaudit killed."""
    return not getattr(threading.current_thread(), "abandoned", False)


@contextlib.contextmanager
def _papermill_cwd():
    """Put back the working directory papermill changes for each notebook.

    papermill sets it (os.chdir, and a copy in its local file handler) per call and restores it on return; calls
    from several threads interleave, so either may be left on this run's temporary folder, which is renamed or
    removed next, and the next run in the same process then fails to change into it.
    """
    from papermill.iorw import papermill_io

    cwd = os.getcwd()
    papermill_io.get_handler("local").cwd(None)
    try:
        yield
    finally:
        os.chdir(cwd)
        papermill_io.get_handler("local").cwd(None)


def _notebook(name: str, pack: Path, parameters: dict, subtitle: str, sockets: str,
              kernels: Kernels | None = None, header: str = "") -> Path:
    """One notebook; a notebook that fails on this evidence ends the run with one line (its traceback stays in
    the temporary notebook, which is removed with the half-built pack)."""
    try:
        return execute_notebook(name, pack, parameters, subtitle, sockets, kernels, header=header)
    except Exception as exc:
        if type(exc).__name__ != "PapermillExecutionError":
            raise
        detail = " ".join(f"{getattr(exc, 'ename', '')}: {getattr(exc, 'evalue', '')}".split())[:300]
        raise UserError(f"the {name} notebook failed on this evidence: {detail}") from None


def _pdfs(pack: Path, chromium: str | None, pages: list[str], say: Callable[[str], None], header: str = "") -> str:
    """Print the pages to PDF; a missing or failing Chromium costs the PDFs, never the pack."""
    from . import pdf

    binary = pdf.find_chromium(chromium)
    if binary is None:
        where = f"--chromium {chromium} is not an executable" if chromium else "no Chromium found on PATH"
        say(f"eksaudit: PDFs skipped: {where}; to get them, {pdf.HOW_TO_GET}.")
        return f"skipped: {where}"
    order = [p for p, _ in render.NAV if p in pages] + [p for p in pages if p not in dict(render.NAV)]
    try:
        made = pdf.render_pack(pack, binary, order, header)
    except pdf.PdfError as exc:
        for leftover in pack.glob("*.pdf"):
            leftover.unlink()
        say(f"eksaudit: PDFs skipped: {exc}")
        return f"failed: {exc}"
    return "made: " + ", ".join(p.name for p in made)


def _relativise(pack: Path) -> None:
    """Executed notebooks record the temporary folder's path as a parameter; point them at the pack instead."""
    for nb in (pack / "notebooks").glob("*.ipynb"):
        text = nb.read_text(encoding="utf-8").replace(str(pack.resolve()), "..")
        nb.write_text(text, encoding="utf-8")


EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


def unaccepted_errors(findings: pd.DataFrame, accept: list[str] | None) -> pd.DataFrame:
    """ERROR findings not covered by --accept-incomplete: "*" accepts all; otherwise check IDs, or input keys
    (e.g. aws:eks:ListAddons) that the ERROR's reason names."""
    errors = findings[findings["status"] == "ERROR"]
    accept = accept or []
    if "*" in accept:
        return errors.iloc[0:0]
    ids = {a for a in accept if ":" not in a}
    keys = [a for a in accept if ":" in a]
    known = errors["check_id"].isin(ids) | errors["reason"].map(lambda r: any(k in r for k in keys)).astype(bool)
    return errors[~known]


def exit_code(findings: pd.DataFrame, fail_on: str, accept_incomplete: list[str] | None = None) -> int:
    """1: FAIL findings at or above fail_on (a proven failure outranks a gap); 3: otherwise, ERROR findings not
    accepted with --accept-incomplete (the audit could not verify everything); 0: neither."""
    failed = findings[findings["status"] == "FAIL"]
    if not at_or_above(failed, fail_on).empty:
        return EXIT_FAIL
    return EXIT_INCOMPLETE if len(unaccepted_errors(findings, accept_incomplete)) else EXIT_OK

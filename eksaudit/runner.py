"""Execute the notebooks over one collection and assemble the evidence pack."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from . import __version__, exports, render, staging
from .checks import run_checks
from .errors import UserError
from .evidence import Evidence, check_evidence_folder, signing_note
from .findings import SEVERITIES, at_or_above
from .pack import write_manifest

DOMAIN_NOTEBOOKS = ["iam", "network", "logging", "images"]
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
TITLES = {"summary": "Summary", "iam": "IAM", "network": "Network", "logging": "Auditing and monitoring",
          "images": "Images and compliance"}


def _kernel_manager_class(sockets: str):
    """Kernels on Unix sockets in a private folder, not loopback TCP ports.

    Several kernels start at once; with TCP the ports are picked before the kernel binds them, and two kernels
    can race for one ("Address already in use"). ipykernel also warns on every start that TCP is unencrypted.
    A fresh 0700 folder per kernel (under `sockets`, removed by the caller) gives neither race nor warning, and
    no other local user can connect. The connection file (it holds the kernel's message key) goes there too,
    not loose in the system temporary folder: a run killed outright leaves one folder, which the next run's
    sweep removes (`staging.sweep_temp`).
    """
    import tempfile

    from jupyter_client import AsyncKernelManager
    from traitlets import default

    class IpcKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport_default(self) -> str:
            return "ipc"

        @default("connection_file")
        def _connection_file_default(self) -> str:
            # jupyter_client then puts the sockets beside it: <folder>/k-ipc-<n>
            return os.path.join(tempfile.mkdtemp(prefix="k", dir=sockets), "k.json")

    return IpcKernelManager


# Windows has no Unix sockets: stay on TCP there, and keep ipykernel's start-up notice about it off the terminal.
KERNEL_OPTIONS: dict = ({"extra_arguments": ["--IPKernelApp.log_level=ERROR"]} if os.name == "nt" else {})


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def page_name(name: str) -> str:
    return "index.html" if name == "summary" else f"{name}.html"


def execute_notebook(name: str, pack: Path, parameters: dict, subtitle: str = "", sockets: str = "") -> Path:
    """Run one notebook with papermill and export it to a self-contained HTML page with the code hidden.

    nbconvert's "basic" template gives the cells alone (its full templates load require.js and MathJax from a
    CDN); `render.page` wraps them with the pack's navigation, styles and a CSP that allows no external resource
    and no script but the sortable-table one. `sockets`: folder for the kernel's Unix sockets (a temporary
    one when not given).
    """
    import tempfile

    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    if not KERNEL_OPTIONS and not sockets:
        with tempfile.TemporaryDirectory(prefix="eksaudit-kernels-") as tmp:
            return execute_notebook(name, pack, parameters, subtitle, tmp)
    kernel = KERNEL_OPTIONS or {"kernel_manager_class": _kernel_manager_class(sockets)}
    out_nb = pack / "notebooks" / f"{name}.ipynb"
    papermill.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(out_nb), parameters=parameters,
                               kernel_name="python3", progress_bar=False, log_output=False, cwd=str(pack),
                               **kernel)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(out_nb, as_version=4))
    target = pack / page_name(name)
    title = f"EKS security audit: {TITLES.get(name, name)}"
    target.write_text(render.page(title, body, current=target.name, subtitle=subtitle), encoding="utf-8")
    return target


def run_pack(out: Path, *, evidence_dir: Path | None = None, collect: Callable[[Path], Path] | None = None,
             params: dict | None = None, run_id: str | None = None, fail_on: str = "high",
             notebooks: list[str] | None = None, pdf: bool = False, chromium: str | None = None,
             sign_key: bytes | None = None, say: Callable[[str], None] | None = None) -> tuple[Path, pd.DataFrame]:
    """Build a pack at `out`: written in a temporary folder beside it, renamed into place only when complete.

    `evidence_dir`: an evidence folder from elsewhere, proven intact against its manifest (and its HMAC with
    `sign_key`) before anything is analysed; only the files it lists are copied in.
    `pdf`: also print every page and the whole pack to PDF with headless Chromium (`chromium` or found on PATH);
    without Chromium the pack is still built and `say` (stderr by default) gets one line on how to get PDFs.
    `sign_key`: HMAC the manifest with this key (`eksaudit verify --sign-key` checks it).
    """
    say = say or (lambda line: print(line, file=sys.stderr))
    if fail_on not in SEVERITIES:
        raise UserError(f"--fail-on must be one of {', '.join(SEVERITIES)}")
    out = Path(out).resolve()  # papermill changes the process cwd from worker threads
    if evidence_dir is not None:
        source = Path(evidence_dir).resolve()
        if out == source or out.is_relative_to(source):
            raise UserError(f"--out {out} is inside the evidence folder {source}: choose a folder outside it")
    run_id = run_id or new_run_id()
    with staging.Staging(out, say) as stage:
        tmp = stage.tmp
        started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
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
        findings = run_checks(ev, params or {}, run_id=run_id)
        exports.write_csv(findings, tmp / "findings.csv")
        exports.write_json(findings, tmp / "findings.json")
        run = {"run_id": run_id, "tool": "eksaudit", "version": __version__, "started": started,
               "account": ev.account, "caller": ev.manifest.get("caller", ""), "regions": ev.manifest.get("regions"),
               "clusters": ev.clusters, "kubernetes_source": ev.manifest.get("kubernetes_source", ""),
               "collected": [ev.manifest.get("started"), ev.manifest.get("finished")],
               "evidence_check": evidence_check, "params": params or {}, "fail_on": fail_on}
        (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
        (tmp / "notebooks").mkdir()
        names = notebooks or [*DOMAIN_NOTEBOOKS, "summary"]
        subtitle = f"account {ev.account or '?'} · run {run_id}"
        # All kernels start at once: start-up is mostly waiting, and the summary reads findings.json, not the
        # other notebooks, so nothing orders them.
        import tempfile

        with _papermill_cwd(), tempfile.TemporaryDirectory(prefix="eksaudit-kernels-") as sockets, \
                ThreadPoolExecutor(max(1, min(len(names), 5))) as ex:
            lock = staging.hold_lock(sockets)  # a sweep by another run leaves a live run's sockets alone
            try:
                list(ex.map(lambda n: _notebook(n, tmp, {"run_dir": str(tmp.resolve())}, subtitle, sockets),
                            names))
            finally:
                lock.close()
        _relativise(tmp)
        if pdf:
            run["pdf"] = _pdfs(tmp, chromium, [page_name(n) for n in names], say)
        run["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
        exports.write_ocsf(findings, tmp / "findings.ocsf.json", run)
        write_manifest(tmp, run, sign_key)
        stage.publish()
    return out, findings


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


def _notebook(name: str, pack: Path, parameters: dict, subtitle: str, sockets: str) -> Path:
    """One notebook; a notebook that fails on this evidence ends the run with one line (its traceback stays in
    the temporary notebook, which is removed with the half-built pack)."""
    try:
        return execute_notebook(name, pack, parameters, subtitle, sockets)
    except Exception as exc:
        if type(exc).__name__ != "PapermillExecutionError":
            raise
        detail = " ".join(f"{getattr(exc, 'ename', '')}: {getattr(exc, 'evalue', '')}".split())[:300]
        raise UserError(f"the {name} notebook failed on this evidence: {detail}") from None


def _pdfs(pack: Path, chromium: str | None, pages: list[str], say: Callable[[str], None]) -> str:
    """Print the pages to PDF; a missing or failing Chromium costs the PDFs, never the pack."""
    from . import pdf

    binary = pdf.find_chromium(chromium)
    if binary is None:
        where = f"--chromium {chromium} is not an executable" if chromium else "no Chromium found on PATH"
        say(f"eksaudit: PDFs skipped: {where}; to get them, {pdf.HOW_TO_GET}.")
        return f"skipped: {where}"
    order = [p for p, _ in render.NAV if p in pages] + [p for p in pages if p not in dict(render.NAV)]
    try:
        made = pdf.render_pack(pack, binary, order)
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


def exit_code(findings: pd.DataFrame, fail_on: str) -> int:
    """0: no FAIL at or above fail_on; 1: such findings exist."""
    failed = findings[findings["status"] == "FAIL"]
    return 1 if not at_or_above(failed, fail_on).empty else 0

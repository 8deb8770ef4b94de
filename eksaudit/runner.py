"""Execute the notebooks over one collection and assemble the evidence pack."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from . import __version__, exports, render
from .checks import run_checks, use_checks_dir
from .domains import DOMAINS, page_of, title_of
from .errors import UserError
from .evidence import Evidence
from .findings import SEVERITIES, at_or_above
from .not_audited import not_audited, unverified_checks
from .pack import write_manifest

DOMAIN_NOTEBOOKS = [d.notebook for d in DOMAINS]
# nbclient waits this long for a cell's outputs after the kernel says it is done, then by default drops them
# silently: on a loaded machine a page could lose a table. Wait longer, and fail rather than drop.
IOPUB_TIMEOUT = 60
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def _kernel_manager_class(sockets: str):
    """Kernels on Unix sockets in a private folder, not loopback TCP ports.

    Several kernels start at once; with TCP the ports are picked before the kernel binds them, and two kernels
    can race for one ("Address already in use"). ipykernel also warns on every start that TCP is unencrypted.
    A fresh 0700 folder per kernel (under `sockets`, removed by the caller) gives neither race nor warning, and
    no other local user can connect.
    """
    import tempfile

    from jupyter_client import AsyncKernelManager
    from traitlets import default

    class IpcKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport_default(self) -> str:
            return "ipc"

        def _ip_default(self) -> str:
            return os.path.join(tempfile.mkdtemp(prefix="k", dir=sockets), "k")

    return IpcKernelManager


# Windows has no Unix sockets: stay on TCP there, and keep ipykernel's start-up notice about it off the terminal.
KERNEL_OPTIONS: dict = ({"extra_arguments": ["--IPKernelApp.log_level=ERROR"]} if os.name == "nt" else {})


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def page_name(name: str) -> str:
    return page_of(name)


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
                               kernel_name="python3", progress_bar=False, log_output=False,
                               iopub_timeout=IOPUB_TIMEOUT, raise_on_iopub_timeout=True, **kernel)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(out_nb, as_version=4))
    target = pack / page_name(name)
    title = f"EKS security audit: {title_of(name)}"
    target.write_text(render.page(title, body, current=target.name, subtitle=subtitle), encoding="utf-8")
    return target


def run_pack(out: Path, *, evidence_dir: Path | None = None, collect: Callable[[Path], Path] | None = None,
             params: dict | None = None, run_id: str | None = None, fail_on: str = "high",
             notebooks: list[str] | None = None, pdf: bool = False, chromium: str | None = None,
             sign_key: bytes | None = None, say: Callable[[str], None] | None = None,
             checks_dir: str | Path | None = None) -> tuple[Path, pd.DataFrame]:
    """Build a pack at `out`: written in a temporary folder beside it, renamed into place only when complete.

    `pdf`: also print every page and the whole pack to PDF with headless Chromium (`chromium` or found on PATH);
    without Chromium the pack is still built and `say` (stderr by default) gets one line on how to get PDFs.
    `sign_key`: HMAC the manifest with this key (`eksaudit verify --sign-key` checks it).
    `checks_dir`: an organization's own checks, run beside the catalog and shown on every page.
    """
    say = say or (lambda line: print(line, file=sys.stderr))
    if fail_on not in SEVERITIES:
        raise UserError(f"--fail-on must be one of {', '.join(SEVERITIES)}")
    # Absolute from the start; papermill runs without cwd= (its chdir is process-wide and races across threads).
    out = Path(out).resolve()
    if out.exists():
        raise UserError(f"output folder already exists: {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    run_id = run_id or new_run_id()
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(3)}"
    tmp.mkdir()
    try:
        started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        if collect is not None:
            collect(tmp)
        elif evidence_dir is not None:
            shutil.copytree(evidence_dir, tmp / "evidence")
        ev = Evidence(tmp / "evidence")
        org_checks = use_checks_dir(checks_dir)
        findings = run_checks(ev, params or {}, run_id=run_id)
        exports.write_csv(findings, tmp / "findings.csv")
        exports.write_json(findings, tmp / "findings.json")
        run = {"run_id": run_id, "tool": "eksaudit", "version": __version__, "started": started,
               "account": ev.account, "caller": ev.manifest.get("caller", ""), "regions": ev.manifest.get("regions"),
               "clusters": ev.clusters, "kubernetes_source": ev.manifest.get("kubernetes_source", ""),
               "collected": [ev.manifest.get("started"), ev.manifest.get("finished")],
               "params": params or {}, "fail_on": fail_on,
               "checks_dir": {"path": str(Path(checks_dir).resolve()), "files": org_checks} if checks_dir else {},
               "unverified_checks": unverified_checks(findings),
               "not_audited": not_audited(ev).to_dict(orient="records")}
        (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
        (tmp / "notebooks").mkdir()
        names = notebooks or [*DOMAIN_NOTEBOOKS, "summary"]
        subtitle = f"account {ev.account or '?'} · run {run_id}"
        # All kernels start at once: start-up is mostly waiting, and the summary reads findings.json, not the
        # other notebooks, so nothing orders them.
        import tempfile

        nb_params = {"run_dir": str(tmp.resolve()),
                     "checks_dir": str(Path(checks_dir).resolve()) if checks_dir else ""}
        with tempfile.TemporaryDirectory(prefix="eksaudit-kernels-") as sockets, \
                ThreadPoolExecutor(max(1, min(len(names), 5))) as ex:
            list(ex.map(lambda n: execute_notebook(n, tmp, nb_params, subtitle, sockets), names))
        _relativise(tmp)
        if pdf:
            run["pdf"] = _pdfs(tmp, chromium, [page_name(n) for n in names], say)
        run["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
        exports.write_ocsf(findings, tmp / "findings.ocsf.json", run)
        write_manifest(tmp, run, sign_key)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out, findings


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

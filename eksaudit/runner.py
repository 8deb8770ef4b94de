"""Execute the notebooks over one collection and assemble the evidence pack."""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import __version__, clock, diff, exports, render, staging, trend, viewer, waivers
from .checks import run_checks, use_checks_dir
from .cycles import collector_paused
from .domains import DOMAINS, page_of, title_of
from .errors import UserError
from .evidence import Evidence, check_evidence_folder, signing_note
from .findings import SEVERITIES, at_or_above
from .frames import Frames
from .kernels import KERNEL_OPTIONS, Kernels, NotebookPool, WarmKernel, ensure_engine, pool_size
from .not_audited import not_audited, unverified_checks
from .pack import write_manifest
from .pdf import Spool
from .pdf import ready as pdf_spool
from .progress import Progress
from .views import pack_tables

DOMAIN_NOTEBOOKS = [d.notebook for d in DOMAINS]
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


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
    """Run one notebook on a kernel of its own and export its page (`render_notebook`); for a single page.
    `sockets`: folder for the kernel's Unix sockets (a temporary one when not given). `kernels`: where the
    kernel's process is recorded, so that the caller can kill it. A pack's notebooks share warm kernels
    (`kernels.NotebookPool`) instead."""
    import tempfile

    if not KERNEL_OPTIONS and not sockets:
        with tempfile.TemporaryDirectory(prefix="eksaudit-kernels-") as tmp:
            lock = staging.hold_lock(tmp)  # a sweep by another run leaves a live folder alone
            try:
                return execute_notebook(name, pack, parameters, subtitle, tmp, kernels, header=header)
            finally:
                lock.close()
    ensure_engine()
    kernel = WarmKernel(pack, sockets, kernels)
    try:
        kernel.start(warm_up="")
        return render_notebook(kernel, name, pack, parameters, subtitle, header)
    finally:
        kernel.shutdown()


_exporters = threading.local()


def _page_exporter():
    """nbconvert's HTML exporter, "basic" template, code hidden, without its final BeautifulSoup pass.

    That pass parses the whole page again to give alt text to images that lack it and a tab stop to cells of
    the lab template: a pack page has neither (its pictures are inline SVG), and on a page of many rows the pass
    took longer than the rest of the export.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return PageExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True)


def thread_exporter():
    """This thread's page exporter, made on first use (threads of a pool make theirs while kernels start)."""
    exporter = getattr(_exporters, "html", None)
    if exporter is None:
        exporter = _exporters.html = _page_exporter()
        import nbformat

        exporter.from_notebook_node(nbformat.v4.new_notebook())  # compiles the templates now
    return exporter


def render_notebook(kernel: WarmKernel, name: str, pack: Path, parameters: dict, subtitle: str = "",
                    header: str = "", prelude: str = "", timed: Callable[[str, float], None] | None = None) -> Path:
    """Run one notebook with papermill on `kernel` and export it to a self-contained HTML page, code hidden.

    nbconvert's "basic" template gives the cells alone (its full templates load require.js and MathJax from a
    CDN); `render.page` wraps them with the pack's navigation, styles and a CSP that allows no external resource
    and no script but the tables' one. `header`: printed at the top of every PDF page. The page is made from
    the executed notebook in memory (papermill has written it to the pack already), by one exporter per
    thread (making one loads its templates). `timed(part, seconds)` is told how long each part took.
    """
    started = time.perf_counter()
    executed = kernel.execute(NOTEBOOK_DIR / f"{name}.ipynb", pack / "notebooks" / f"{name}.ipynb", parameters,
                              prelude)
    executed_at = time.perf_counter()
    body, _ = thread_exporter().from_notebook_node(executed)
    target = pack / page_name(name)
    title = f"EKS security audit: {title_of(name)}"
    target.write_text(render.page(title, body, current=target.name, subtitle=subtitle, header=header),
                      encoding="utf-8")
    if timed is not None:
        timed("run", executed_at - started)
        timed("html", time.perf_counter() - executed_at)
    return target


def run_pack(out: Path, *, evidence_dir: Path | None = None, collect: Callable[[Path], Path] | None = None,
             params: dict | None = None, run_id: str | None = None, fail_on: str = "high",
             notebooks: list[str] | None = None, pdf: bool = False, chromium: str | None = None,
             sign_key: bytes | None = None, say: Callable[[str], None] | None = None,
             checks_dir: str | Path | None = None, waivers_file: str | Path | None = None,
             baseline: str | Path | None = None, history: str | Path | None = None,
             progress: Progress | None = None) -> tuple[Path, pd.DataFrame]:
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
    `progress`: where phases are reported and timed (silent by default); run.json keeps the timings.
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
    progress = progress or Progress(quiet=True)
    names = notebooks or [*DOMAIN_NOTEBOOKS, "summary"]
    with staging.Staging(out, say) as stage, NotebookPool(stage.tmp, pool_size(len(names)),
                                                                        prepare=thread_exporter) as pool, \
            pdf_spool(chromium, wanted=pdf) as spool:
        # The kernels start now, in their own threads: they are warm by the time the findings are ready. So does
        # the browser that prints the PDFs (with --pdf): each page prints once its notebook has written it.
        tmp = stage.tmp
        started = clock.iso()
        evidence_check = ""
        if collect is not None:
            with progress.phase("collect"):
                collect(tmp)
            evidence_check = "collected by this run"
        elif evidence_dir is not None:
            with progress.phase("evidence check"):
                checked = check_evidence_folder(evidence_dir, sign_key, dest=tmp / "evidence", say=say)
            evidence_check = checked.how
            note = signing_note(checked, sign_key)
            if note:
                say(note)
        # The cycle collector stays off from the first file read to the last check (eksaudit.cycles), and the
        # parsed evidence is dropped before it comes back on: nothing else needs it (the kernels read their own).
        with progress.phase("checks"), collector_paused():
            ev = Evidence(tmp / "evidence", own=True)  # collected here, or checked and copied here
            ev.check_readable()
            org_checks = use_checks_dir(checks_dir)
            frames = Frames(ev)
            findings = run_checks(ev, params or {}, run_id=run_id, frames=frames)
            findings, waived = waivers.apply(findings, accepted, ev.collected_at.date())
            shown = pack_tables(frames, tmp, findings)  # for the kernels, from the frames the checks built
            ev.on_read, frames = None, None  # the frames go (the evidence held them through its read hook)
            ev.release()
        with progress.phase("findings"):
            table = exports.normalised(findings)
            exports.write_csv(table, tmp / "findings.csv")
            exports.write_json(table, tmp / "findings.json")
            run = {"run_id": run_id, "tool": "eksaudit", "version": __version__, "started": started,
                   "account": ev.account, "caller": ev.manifest.get("caller", ""),
                   "regions": ev.manifest.get("regions"), "clusters": ev.clusters, "scope": ev.manifest.get("scope"),
                   "kubernetes_source": ev.manifest.get("kubernetes_source", ""),
                   "collected": [ev.manifest.get("started"), ev.manifest.get("finished")],
                   "evidence_check": evidence_check, "params": params or {}, "fail_on": fail_on,
                   "checks_dir": ({"path": str(Path(checks_dir).resolve()), "files": org_checks}
                                  if checks_dir else {}),
                   "unverified_checks": unverified_checks(findings),
                   "not_audited": not_audited(ev).to_dict(orient="records"), "waivers": waived}
            if old is not None:
                run["baseline"] = diff.baseline_into(tmp, old, findings, run)
            run["trend"] = trend.write(tmp, Path(history) if history else out.parent, run, findings, exclude=[out])
            (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
            (tmp / "notebooks").mkdir()
            cache = pool.share_findings(table, tmp, shown)
        subtitle = f"account {ev.account or '?'} · run {run_id}"
        header = print_header(ev.account, run_id, started)
        nb_params = {"run_dir": str(tmp.resolve()),
                     "checks_dir": str(Path(checks_dir).resolve()) if checks_dir else ""}
        with progress.phase("notebooks"):
            pool.run([spool.after(_notebook_job(n, tmp, {**nb_params, **_static(n)}, subtitle, header, cache,
                                                progress)) for n in names])
        _relativise(tmp)
        with progress.phase("evidence viewer"):
            viewer.write_viewers(tmp, table, subtitle)
        if pdf:
            with progress.phase("pdf"):
                run["pdf"] = _pdfs(tmp, chromium, [page_name(n) for n in names], say, header, spool)
        with progress.phase("ocsf"):
            run["finished"] = clock.iso()
            exports.write_ocsf(table, tmp / "findings.ocsf.json", run)
        with progress.phase("manifest"):
            run["timings"] = list(progress.timings)
            (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
            write_manifest(tmp, run, sign_key)
            stage.publish()
    return out, findings


def _static(name: str) -> dict:
    """A pack's pages have no kernel: the domain notebooks' Explore section shows a table, not the explorer."""
    return {"interactive": False} if name in DOMAIN_NOTEBOOKS else {}


def _notebook_job(name: str, pack: Path, parameters: dict, subtitle: str, header: str, prelude: str,
                  progress: Progress) -> Callable[[WarmKernel], Path]:
    """One notebook as a job for the pool; a notebook that fails on this evidence ends the run with one line
    (its traceback stays in the temporary notebook, which is removed with the half-built pack)."""

    def job(kernel: WarmKernel) -> Path:
        progress.update(name)
        try:
            return render_notebook(kernel, name, pack, parameters, subtitle, header, prelude,
                                   timed=lambda part, seconds: progress.record(f"  {name} {part}", seconds))
        except Exception as exc:
            raise _notebook_failure(name, exc) from None

    return job


def _notebook_failure(name: str, exc: Exception) -> Exception:
    if type(exc).__name__ != "PapermillExecutionError":
        return exc
    detail = " ".join(f"{getattr(exc, 'ename', '')}: {getattr(exc, 'evalue', '')}".split())[:300]
    return UserError(f"the {name} notebook failed on this evidence: {detail}")


def _pdfs(pack: Path, chromium: str | None, pages: list[str], say: Callable[[str], None], header: str = "",
          spool: Spool | None = None) -> str:
    """Print the pages to PDF; a missing or failing Chromium costs the PDFs, never the pack."""
    from . import pdf

    binary = pdf.find_chromium(chromium)
    if binary is None:
        where = f"--chromium {chromium} is not an executable" if chromium else "no Chromium found on PATH"
        say(f"eksaudit: PDFs skipped: {where}; to get them, {pdf.HOW_TO_GET}.")
        return f"skipped: {where}"
    order = [p for p, _ in render.NAV if p in pages] + [p for p in pages if p not in dict(render.NAV)]
    try:
        made = pdf.render_pack(pack, binary, order, header, spool)
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

"""Execute the notebooks over one collection and assemble the evidence pack."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from . import __version__
from .checks import run_checks
from .errors import UserError
from .evidence import Evidence
from .findings import SEVERITIES, at_or_above
from .pack import write_manifest

DOMAIN_NOTEBOOKS = ["iam", "network", "logging", "images"]
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def execute_notebook(name: str, pack: Path, parameters: dict) -> Path:
    """Run one notebook with papermill and export it to HTML with the code hidden."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    out_nb = pack / "notebooks" / f"{name}.ipynb"
    papermill.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(out_nb), parameters=parameters,
                               kernel_name="python3", progress_bar=False, log_output=False, cwd=str(pack))
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(out_nb, as_version=4))
    target = pack / ("index.html" if name == "summary" else f"{name}.html")
    target.write_text(body, encoding="utf-8")
    return target


def run_pack(out: Path, *, evidence_dir: Path | None = None, collect: Callable[[Path], Path] | None = None,
             params: dict | None = None, run_id: str | None = None, fail_on: str = "high",
             notebooks: list[str] | None = None) -> tuple[Path, pd.DataFrame]:
    """Build a pack at `out`: written in a temporary folder beside it, renamed into place only when complete."""
    if fail_on not in SEVERITIES:
        raise UserError(f"--fail-on must be one of {', '.join(SEVERITIES)}")
    out = Path(out)
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
        findings = run_checks(ev, params or {}, run_id=run_id)
        findings.to_csv(tmp / "findings.csv", index=False)
        (tmp / "findings.json").write_text(json.dumps(findings.to_dict(orient="records"), indent=1))
        run = {"run_id": run_id, "tool": "eksaudit", "version": __version__, "started": started,
               "account": ev.account, "caller": ev.manifest.get("caller", ""), "regions": ev.manifest.get("regions"),
               "clusters": ev.clusters, "kubernetes_source": ev.manifest.get("kubernetes_source", ""),
               "collected": [ev.manifest.get("started"), ev.manifest.get("finished")],
               "params": params or {}, "fail_on": fail_on}
        (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
        (tmp / "notebooks").mkdir()
        names = notebooks or [*DOMAIN_NOTEBOOKS, "summary"]
        with ThreadPoolExecutor(max(1, min(len(names), os.cpu_count() or 2, 4))) as ex:
            list(ex.map(lambda n: execute_notebook(n, tmp, {"run_dir": str(tmp.resolve())}), names))
        _relativise(tmp)
        run["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        (tmp / "run.json").write_text(json.dumps(run, indent=1, default=str))
        write_manifest(tmp, run)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out, findings


def _relativise(pack: Path) -> None:
    """Executed notebooks record the temporary folder's path as a parameter; point them at the pack instead."""
    for nb in (pack / "notebooks").glob("*.ipynb"):
        text = nb.read_text(encoding="utf-8").replace(str(pack.resolve()), "..")
        nb.write_text(text, encoding="utf-8")


def exit_code(findings: pd.DataFrame, fail_on: str) -> int:
    """0: no FAIL at or above fail_on; 1: such findings exist."""
    failed = findings[findings["status"] == "FAIL"]
    return 1 if not at_or_above(failed, fail_on).empty else 0

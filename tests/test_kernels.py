"""The warm kernels a pack's notebooks share: a fresh namespace per notebook, findings handed over per domain,
and a failure that ends every kernel."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from eksaudit import exports, notebook
from eksaudit.findings import PAGE_COLUMNS
from eksaudit.kernels import NotebookPool, WarmKernel, ensure_engine


def _notebook(folder: Path, name: str, *sources: str) -> Path:
    path = folder / f"{name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path)
    return path


def test_one_kernel_runs_notebooks_one_after_another_each_in_a_fresh_namespace(tmp_path):
    ensure_engine()
    first = _notebook(tmp_path, "first", "import json\nleft_over = 42")
    second = _notebook(tmp_path, "second", "print('left_over' in dir(), 'json' in dir())",
                       "import sys\nprint('json' in sys.modules)")
    kernel = WarmKernel(tmp_path, str(tmp_path))
    kernel.start(warm_up="")
    try:
        kernel.execute(first, tmp_path / "first.out.ipynb", {})
        done = kernel.execute(second, tmp_path / "second.out.ipynb", {})
    finally:
        kernel.shutdown()
    cells = [c for c in done.cells if c.cell_type == "code"]
    assert cells[0].outputs[0]["text"].split() == ["False", "False"]  # names gone
    assert cells[1].outputs[0]["text"].strip() == "True"  # modules stay loaded: that is the warm part
    assert cells[0].execution_count == 1  # numbered as if the kernel were new
    written = nbformat.read(tmp_path / "second.out.ipynb", as_version=4)
    assert [c.execution_count for c in written.cells if c.cell_type == "code"] == [1, 2]


def test_a_failing_notebook_ends_the_run_and_every_kernel(tmp_path):
    _notebook(tmp_path, "ok", "x = 1")
    _notebook(tmp_path, "bad", "raise ValueError('broken on purpose')")
    ran: list[str] = []

    def job(name: str):
        def run(kernel: WarmKernel):
            ran.append(name)
            kernel.execute(tmp_path / f"{name}.ipynb", tmp_path / f"{name}.out.ipynb", {})
        return run

    with pytest.raises(Exception, match="broken on purpose"):
        with NotebookPool(tmp_path, 2) as pool:
            pool.run([job("bad"), job("ok"), job("ok"), job("ok")])
    processes = pool.kernels._processes
    assert len(processes) == 2
    for p in processes:
        p.wait(timeout=30)  # killed: a guard against a hang, not a speed test
    assert "bad" in ran and len(ran) < 4  # jobs not started are dropped


def test_kernels_read_their_domains_findings_from_the_runs_private_copy(tmp_path):
    def prod() -> str:
        return "".join(["pro", "d"])  # equal values, each its own object, as findings built row by row are

    rows = [{"check_id": "IAM-01", "domain": "iam", "status": "FAIL", "remediation": "long words " * 20,
             "cluster": prod()},
            {"check_id": "NET-01", "domain": "network", "status": "PASS"},
            {"check_id": "IAM-02", "domain": "iam", "status": "PASS", "remediation": "long words " * 20,
             "cluster": prod()}]
    table = exports.normalised(pd.DataFrame(rows))
    exports.write_json(table, tmp_path / "findings.json")
    inventory = pd.DataFrame({"image": ["a", "b"], "critical": [1, 0]})
    with NotebookPool(tmp_path, 1) as pool:
        prelude = pool.share_findings(table, tmp_path, {"images.inventory": inventory})
        private = Path(pool._sockets.name)
        exec(prelude, {})  # what each kernel runs before a notebook, here in this process
        try:
            iam = notebook.load_findings(tmp_path, "iam")
            everything = notebook.load_findings(tmp_path)
            logging = notebook.load_findings(tmp_path, "logging")
            shared = notebook.shared_table(tmp_path, "images.inventory")
            missing = notebook.shared_table(tmp_path, "network.nothing")
        finally:
            notebook._SHARED.clear()
        pool.run([])
    assert iam["check_id"].tolist() == ["IAM-01", "IAM-02"] and logging.empty
    # Pages are given the columns they show (titles and remediation come from the catalog) ...
    assert list(everything.columns) == PAGE_COLUMNS
    from_json = notebook.load_findings(tmp_path)  # the same rows as findings.json gives a notebook
    pd.testing.assert_frame_equal(everything, from_json[PAGE_COLUMNS])
    # ... with each column's equal values one object: a kernel holds a pointer per cell, not a string
    assert iam["cluster"].iloc[0] is iam["cluster"].iloc[1] and table["cluster"].iloc[0] is not table["cluster"].iloc[2]
    pd.testing.assert_frame_equal(shared, inventory)
    assert missing is None and notebook.shared_table(tmp_path, "images.inventory") is None  # the run is over
    assert not private.exists(), "the private copy goes with the pool"
    assert json.loads((tmp_path / "findings.json").read_text())[0]["check_id"] == "IAM-01"


def test_the_summary_shows_titles_from_the_catalog_when_given_the_page_columns(monkeypatch):
    from eksaudit.checks import load
    from eksaudit.views import summary

    shown: list[str] = []
    monkeypatch.setattr(summary, "show_html", shown.append)
    row = {c: "" for c in PAGE_COLUMNS} | {"check_id": "IAM-01", "domain": "iam", "status": "FAIL",
                                           "severity": "high", "resource_id": "arn:x"}
    summary.show_top_risks(summary.Summary({}, pd.DataFrame([row], columns=PAGE_COLUMNS)))
    assert load()["IAM-01"].title in shown[0]


def test_the_pool_folder_goes_even_when_a_starting_kernel_writes_in_it(tmp_path, monkeypatch):
    """After a failure, an abandoned kernel thread may write its connection file while the folder is removed
    (rmtree then fails: "Directory not empty"): the removal tries again instead of failing the run."""
    import shutil

    from eksaudit import kernels

    folder = tmp_path / "eksaudit-kernels-x"
    (folder / "k1").mkdir(parents=True)
    real = shutil.rmtree
    calls = []

    def racing(path, ignore_errors=False, onerror=None):
        calls.append(path)
        if len(calls) == 1:  # a kernel's folder appears as the first removal runs: it is left behind
            real(folder / "k1")
            (folder / "k2").mkdir()
            (folder / "k2" / "c.json").write_text("{}")
            return None
        return real(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(shutil, "rmtree", racing)
    kernels.remove_folder(str(folder))
    assert not folder.exists()
    assert len(calls) == 2

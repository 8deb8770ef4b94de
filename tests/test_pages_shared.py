"""A run's domain pages read what the run shared (findings and `views.pack_tables`), never the evidence, and show
what the same notebook opened by hand over the pack (findings.json and the evidence folder) shows."""

from __future__ import annotations

from pathlib import Path

import IPython.display
import nbformat
import pytest

import eksaudit
from eksaudit import evidence, exports, kernels, notebook
from eksaudit.domains import DOMAINS
from eksaudit.frames import Frames
from eksaudit.views import pack_tables


def _page(name: str, run_dir: Path, monkeypatch) -> list[str]:
    """The HTML a notebook's code cells display, run here as a pack's kernel runs them (interactive=False)."""
    shown: list[str] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, *a, **k: shown.append(obj.data))
    nb = nbformat.read(Path(eksaudit.__file__).parent.parent / "notebooks" / f"{name}.ipynb", 4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(cell.source, namespace)
            if "parameters" in cell.metadata.get("tags", []):
                namespace.update(run_dir=str(run_dir), interactive=False)
    return shown


@pytest.fixture(scope="module")
def shared_demo(demo_pack, tmp_path_factory):
    """The demo pack's prelude: its findings and every page's tables, as the runner shares them."""
    pack, findings = demo_pack
    tmp = tmp_path_factory.mktemp("shared")
    tables = pack_tables(Frames(evidence.Evidence(pack / "evidence")), tmp, findings)
    return pack, kernels.share(exports.normalised(findings), pack, tmp / "private", tables), tables


def test_every_domain_page_has_its_tables_shared(shared_demo):
    _, _, tables = shared_demo
    assert {n.split(".")[0] for n in tables} == {d.id for d in DOMAINS}


@pytest.mark.parametrize("name", [d.notebook for d in DOMAINS])
def test_a_runs_page_reads_no_evidence_and_shows_what_a_notebook_opened_by_hand_shows(shared_demo, name,
                                                                                    monkeypatch):
    pack, prelude, _ = shared_demo
    by_hand = _page(name, pack, monkeypatch)  # nothing shared: findings.json and the evidence folder
    assert notebook._SHARED == {}

    def refused(root):
        raise AssertionError(f"a run's {name} page opened the evidence at {root}")

    exec(prelude, {})
    try:
        with monkeypatch.context() as m:
            m.setattr(evidence, "_read_manifest", refused)
            in_run = _page(name, pack, monkeypatch)
    finally:
        notebook._SHARED.clear()
    assert in_run == by_hand
    assert len(in_run) > 5 and not any("No evidence folder" in html for html in in_run)

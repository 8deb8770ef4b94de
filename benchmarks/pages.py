"""The pack's notebooks one by one, each in a fresh process as a run's kernel gets them: CPU, wall, peak memory
and HTML size per notebook, over a kept pack (e.g. `benchmarks/scale.py --scale 10 --keep DIR`).

    PYTHONPATH=. python benchmarks/pages.py DIR/pack-10x-0 [images network ...]

The findings (and, where the checkout has them, the tables pages show beyond findings) are computed from the
pack's evidence and shared as `eksaudit run` shares them (`NotebookPool.share_findings`); each notebook's code
cells then run in a child process after the kernels' warm-up imports, with IPython's display counting bytes and
the evidence manifest's parses counted (`manifest_reads`: 0 when a page reads only what the run shared) and the
page's HTML hashed (`html_sha256`: equal across two checkouts when they show the same page).
Peak memory is the child's VmHWM (Linux): `ru_maxrss` survives exec and would report this process's. To compare
two versions, run it with each checkout first on PYTHONPATH, alternately, and note the load average.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOTEBOOKS = ["images", "network", "iam", "logging", "summary"]


def peak_mb() -> float:
    """This process image's peak resident memory (VmHWM), in MiB; 0 where /proc is missing."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(name: str, pack: str, prelude: str) -> dict:
    import IPython.display
    import nbformat

    import eksaudit
    from eksaudit.kernels import WARM_UP

    exec(WARM_UP, {})
    import eksaudit.evidence

    manifests = {"read": 0}
    read_manifest = eksaudit.evidence._read_manifest

    def counted(root):
        manifests["read"] += 1
        return read_manifest(root)

    eksaudit.evidence._read_manifest = counted
    warm, cpu0, wall0 = peak_mb(), time.process_time(), time.perf_counter()
    shown = {"bytes": 0}
    digest = hashlib.sha256()

    def display(obj, *a, **k):
        data = getattr(obj, "data", "") or ""
        shown["bytes"] += len(data)
        digest.update(data.encode() if isinstance(data, str) else repr(data).encode())

    IPython.display.display = display
    exec(Path(prelude).read_text(), {})
    notebook = nbformat.read(Path(eksaudit.__file__).parent.parent / "notebooks" / f"{name}.ipynb", 4)
    namespace: dict = {}
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        started, before = time.process_time(), shown["bytes"]
        exec(cell.source, namespace)
        if "parameters" in cell.metadata.get("tags", []):
            namespace.update(run_dir=pack, interactive=False)  # what `eksaudit run` sets
        cells.append({"cell": cell.source.splitlines()[-1][:50], "cpu_s": round(time.process_time() - started, 2),
                      "html_mb": round((shown["bytes"] - before) / 2**20, 2)})
    return {"notebook": name, "cpu_s": round(time.process_time() - cpu0, 2),
            "wall_s": round(time.perf_counter() - wall0, 2), "warm_mb": round(warm), "peak_mb": round(peak_mb()),
            "html_mb": round(shown["bytes"] / 2**20, 2), "manifest_reads": manifests["read"],
            "html_sha256": digest.hexdigest()[:12],
            "slowest": sorted(cells, key=lambda c: -c["cpu_s"])[:3]}


def main(pack: str, names: list[str]) -> None:
    from eksaudit import exports
    from eksaudit.checks import run_checks
    from eksaudit.evidence import Evidence
    from eksaudit.kernels import NotebookPool

    ev = Evidence(Path(pack) / "evidence")
    started = time.process_time()
    frames = None
    if "frames" in inspect.signature(run_checks).parameters:  # a checkout that shares page tables
        from eksaudit.frames import Frames

        frames = Frames(ev)
        findings = run_checks(ev, {}, frames=frames)
    else:
        findings = run_checks(ev, {})
    table = exports.normalised(findings)
    checked = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        tables = {}
        if frames is not None:
            from eksaudit.views import pack_tables

            with_findings = "findings" in inspect.signature(pack_tables).parameters  # every page's tables
            tables = pack_tables(frames, Path(tmp), *([findings] if with_findings else []))
        print(json.dumps({"checks_cpu_s": round(checked - started, 2),
                          "page_tables_cpu_s": round(time.process_time() - checked, 2)}))
        pool = NotebookPool.__new__(NotebookPool)  # only its private folder is needed here
        pool._sockets = tempfile.TemporaryDirectory(dir=tmp)
        prelude = pool.share_findings(table, Path(pack), *([tables] if tables else []))
        (Path(tmp) / "prelude.py").write_text(prelude)
        for name in names:
            done = subprocess.run([sys.executable, __file__, "--child", name, pack, str(Path(tmp) / "prelude.py")],
                                  capture_output=True, text=True)
            print(done.stdout.strip() or done.stderr[-2000:])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*sys.argv[2:5])))
    elif len(sys.argv) > 1:
        main(sys.argv[1], sys.argv[2:] or NOTEBOOKS)
    else:
        sys.exit(__doc__)

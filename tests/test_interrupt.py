"""The command line in a real process: a run prints nothing from its kernels, and Ctrl-C stops it cleanly.

Kernels are found through /proc (Linux): they are the eksaudit process's children running ipykernel.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eksaudit.progress import is_progress

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")


def _eksaudit(*args: str, env: dict | None = None) -> subprocess.Popen:
    """eksaudit in a session of its own, so that a signal to its process group is what a terminal's Ctrl-C
    sends: to eksaudit and to everything that shares its group."""
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, "-m", "eksaudit.cli", *args], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0]


def _kernels(parent: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and (_stat(int(proc.name)) or (0, ""))[0] == parent:
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"ipykernel" in cmdline:
                found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[1] != "Z"


def test_a_run_prints_nothing_from_its_kernels(demo_evidence, tmp_path):
    """A completed run writes its result on stdout and nothing on stderr: in particular no "[IPKernelApp] ERROR |
    KeyboardInterrupt caught in kernel." from the way kernels are shut down. The fixed clock (EKSAUDIT_NOW) is
    also what a subprocess test uses to pin the run's times."""
    proc = _eksaudit("run", "--evidence", str(demo_evidence), "--out", str(tmp_path / "pack"),
                     env={"EKSAUDIT_NOW": "2030-06-30T23:59:59+00:00"})
    out, err = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1, 3), err
    # stderr holds only eksaudit's own lines: one per phase done, and the audit's gaps (the demo lacks some EKS
    # APIs); stderr is not a terminal here, so no status line is rewritten in place
    assert [line for line in err.splitlines() if not line.startswith("eksaudit: incomplete audit:")
            and not is_progress(line) and not line.startswith("eksaudit: removed ")] == [], err
    assert "\r" not in err and "eksaudit: notebooks done in" in err
    assert "pack: " in out
    run = json.loads((tmp_path / "pack" / "run.json").read_text())
    assert run["run_id"].startswith("20300630T235959Z-")
    assert run["started"] == run["finished"] == "2030-06-30T23:59:59+00:00"


def test_ctrl_c_stops_the_run_its_kernels_and_leaves_nothing(demo_evidence, tmp_path):
    proc = _eksaudit("run", "--evidence", str(demo_evidence), "--out", str(tmp_path / "pack"))
    deadline = time.monotonic() + 300
    kernels: list[int] = []
    while not kernels and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        kernels = _kernels(proc.pid)
    assert kernels, "no kernel started"
    time.sleep(0.5)  # let them get to work
    kernels = sorted(set(kernels) | set(_kernels(proc.pid)))
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)  # a guard against a hang, not a speed test
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()  # the phases done before the Ctrl-C, then one line
    assert lines[-1] == "eksaudit: interrupted", err
    assert all(is_progress(line) or line.startswith("eksaudit: removed ") for line in lines[:-1]), err
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "a pack or its temporary folder was left behind"
    time.sleep(0.2)
    assert not [pid for pid in kernels if _alive(pid)], "kernel processes outlived the run"


def test_kernel_shutdown_sends_no_interrupt(tmp_path, monkeypatch):
    """The cause of that stray message: jupyter_client interrupts a kernel (SIGINT) before asking it to shut
    down. eksaudit's kernel manager does not; the stock one does, which shows this test can see it."""
    import nbformat
    from jupyter_client import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    import eksaudit.kernels as kernels_module
    import eksaudit.runner as runner

    sent: list[int] = []
    original = LocalProvisioner.send_signal

    async def record(self, signum: int) -> None:
        sent.append(signum)
        await original(self, signum)

    monkeypatch.setattr(LocalProvisioner, "send_signal", record)
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", tmp_path)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    (tmp_path / "pack" / "notebooks").mkdir(parents=True)

    kernels = kernels_module.Kernels()
    runner.execute_notebook("tiny", tmp_path / "pack", {}, kernels=kernels)
    assert signal.SIGINT not in sent
    assert len(kernels._processes) == 1 and kernels._processes[0].poll() is not None

    monkeypatch.setattr(kernels_module, "kernel_manager_class", lambda *_a: AsyncKernelManager)
    runner.execute_notebook("tiny", tmp_path / "pack", {})
    assert signal.SIGINT in sent

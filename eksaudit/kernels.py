"""The Jupyter kernels that execute a pack's notebooks: started early, warmed once, shared, killable at once.

A kernel's cold start (the process, then pandas and eksaudit) costs more than most notebooks take to run. So a
run starts a small pool of kernels, one per core (`pool_size`), while it is still collecting and checking; each
imports what the notebooks need (`WARM_UP`) and then executes notebooks one after another, with the namespace
reset in between. Every kernel belongs to one thread: jupyter_client's asynchronous managers live on the event
loop of the thread that made them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import threading
import time
from pathlib import Path

from .domains import DOMAINS

# nbclient waits this long for a cell's outputs after the kernel says it is done, then by default drops them
# silently: on a loaded machine a page could lose a table. Wait longer, and fail rather than drop.
IOPUB_TIMEOUT = 60
START_TIMEOUT = 120
# What every notebook imports, loaded while the run is still computing findings.
WARM_UP = "import eksaudit.notebook, eksaudit.views.explore, eksaudit.views.summary\n" + "\n".join(
    f"import eksaudit.views.{d.notebook}" for d in DOMAINS)
# Between notebooks: a fresh namespace and execution count; imported modules stay loaded.
RESET = "get_ipython().reset(new_session=True)"
# Windows has no Unix sockets: stay on TCP there, and keep ipykernel's start-up notice about it off the terminal.
KERNEL_OPTIONS: dict = ({"extra_arguments": ["--IPKernelApp.log_level=ERROR"]} if os.name == "nt" else {})


def pool_size(notebooks: int) -> int:
    """One kernel per core, never more than there are notebooks: on two cores, more kernels only queue.
    EKSAUDIT_KERNELS=N sets it (benchmarks compare sizes)."""
    wanted = os.environ.get("EKSAUDIT_KERNELS", "")
    cores = int(wanted) if wanted.isdigit() and int(wanted) > 0 else (os.cpu_count() or 1)
    return max(1, min(notebooks, cores))


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


def kernel_manager_class(sockets: str, kernels: Kernels | None = None):
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


class KernelError(RuntimeError):
    """Code the runner itself sent to a kernel (warm-up, reset) failed."""


class WarmKernel:
    """One kernel process that executes notebooks one after another. Use it from one thread only."""

    def __init__(self, cwd: Path, sockets: str = "", kernels: Kernels | None = None) -> None:
        self.cwd = cwd
        self.manager_class = kernel_manager_class(sockets, kernels)
        self.km = None
        self.kc = None

    def start(self, warm_up: str = WARM_UP) -> None:
        from jupyter_core.utils import run_sync

        self.km = self.manager_class(kernel_name="python3")
        run_sync(self.km.start_kernel)(cwd=str(self.cwd), **KERNEL_OPTIONS)
        if warm_up:
            self.run_code(warm_up)

    def run_code(self, code: str) -> None:
        """Execute code the runner owns (not a notebook's): its outputs are dropped, a failure raises."""
        from jupyter_core.utils import run_sync

        run_sync(self._run_code)(code)

    async def _client(self):
        """The kernel's client, opened once and kept: a new client waits for the kernel to answer and for its
        output channel to connect (jupyter_client polls that channel for 0.2 s), twice per notebook otherwise."""
        if self.kc is None:
            kc = self.km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=START_TIMEOUT)
            except BaseException:
                kc.stop_channels()
                raise
            kc.allow_stdin = False
            self.kc = kc
        return self.kc

    async def _run_code(self, code: str) -> None:
        kc = await self._client()
        reply = await kc.execute_interactive(code, store_history=False, allow_stdin=False,
                                             output_hook=lambda _msg: None, timeout=START_TIMEOUT)
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelError(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")

    def execute(self, source: Path, out: Path, parameters: dict, prelude: str = "") -> object:
        """Run one notebook with papermill on this kernel, after a fresh namespace and `prelude` (code of the
        runner's, not shown in the notebook); write it to `out` and return it.

        papermill gets no output path: it would write the whole notebook again at every cell's start and end,
        which on a page of large tables cost as much as running it. It is written once, when done.
        """
        import nbformat
        import papermill

        self.run_code(RESET + "\n" + prelude)
        executed = papermill.execute_notebook(str(source), None, parameters=parameters, kernel_name="python3",
                                              engine_name=ENGINE, km=self.km, kc=self.kc, progress_bar=False,
                                              log_output=False, iopub_timeout=IOPUB_TIMEOUT,
                                              raise_on_iopub_timeout=True, start_timeout=START_TIMEOUT)
        nbformat.write(executed, str(out))
        return executed

    def shutdown(self) -> None:
        """Stop the kernel at once: it is idle, and nothing it could still say is wanted."""
        from jupyter_core.utils import run_sync

        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km is not None and self.km.has_kernel:
            run_sync(self.km.shutdown_kernel)(now=True)


ENGINE = "eksaudit-warm-kernel"


def _register_engine() -> None:
    """papermill's nbclient engine, on a kernel that outlives the notebook: the notebook's client closes its
    channels when done (nbclient leaves them open when it does not own the kernel); the kernel stays up."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import remove_args

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            kc = kwargs.pop("kc", None)
            client = PapermillNotebookClient(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                                             kernel_name=kernel_name, log=logger, log_output=log_output,
                                             stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
            client.kc = kc  # the kernel's open client: nbclient makes (and waits for) a new one only without
            try:
                return client.execute()
            finally:
                if client.kc is not None and client.kc is not kc:
                    client.kc.stop_channels()

    papermill_engines.register(ENGINE, WarmKernelEngine)


@functools.cache
def ensure_engine() -> None:
    """Register the engine once per process (two threads racing both register the same class: harmless)."""
    _register_engine()


class NotebookPool:
    """Warm kernels in threads of their own, started on entering (so they start while the run still computes)
    and given notebooks by `run`. On leaving, whatever happened, every kernel is ended.

    A failure or a Ctrl-C kills the kernels and drops the jobs not started; the threads then end within a
    second or two (nbclient notices a dead kernel once a second). They are daemon threads, waited for only
    briefly, so they cannot hold the process open, and what they log about their dead kernels is dropped.
    """

    def __init__(self, cwd: Path, size: int, prepare=None) -> None:
        """`prepare`: called in each kernel's thread while the kernel starts (e.g. to load export templates)."""
        self.cwd, self.size, self.prepare = cwd, size, prepare
        self.kernels = Kernels()
        self._lock = threading.Lock()
        self._todo: list = []
        self._failures: list[BaseException] = []
        self._finished = 0
        self._go = threading.Event()
        self._changed = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> NotebookPool:
        ensure_engine()
        self._cwd_guard = _papermill_cwd()
        self._cwd_guard.__enter__()
        self._sockets = tempfile.TemporaryDirectory(prefix="eksaudit-kernels-", ignore_cleanup_errors=True)
        from . import staging

        self._lock_file = staging.hold_lock(self._sockets.name)  # a sweep by another run leaves them alone
        sockets = "" if KERNEL_OPTIONS else self._sockets.name
        self._threads = [threading.Thread(target=self._work, args=(sockets,), name=f"eksaudit-kernel-{i}",
                                          daemon=True) for i in range(self.size)]
        for t in self._threads:
            t.start()
        return self

    def _work(self, sockets: str) -> None:
        kernel = WarmKernel(self.cwd, sockets, self.kernels)
        try:
            kernel.start()
            if self.prepare is not None:
                self.prepare()
            self._go.wait()
            while True:
                with self._lock:
                    if not self._todo or self._failures or self.kernels.stopped:
                        return
                    job = self._todo.pop()
                job(kernel)
        except BaseException as exc:  # handed to the main thread
            with self._lock:
                self._failures.append(exc)
        finally:
            if not self.kernels.stopped:
                try:
                    kernel.shutdown()
                except Exception:  # an ended kernel: nothing left to stop
                    pass
            with self._lock:
                self._finished += 1
                self._changed.set()

    def share_findings(self, table, pack: Path, tables: dict | None = None) -> str:
        """Hand the kernels what the run computed (`share`), in this pool's private folder (0700, removed with
        the pool, never in the pack). Returns the prelude that points a kernel's `eksaudit.notebook` at it."""
        return share(table, pack, Path(self._sockets.name) / "findings", tables)

    def run(self, jobs: list) -> None:
        """Run each job (a callable taking a WarmKernel) on the first free kernel; raise the first failure."""
        with self._lock:
            self._todo = list(reversed(jobs))
        self._go.set()
        while True:
            with self._lock:
                if self._failures:
                    raise self._failures[0]
                if self._finished == len(self._threads):
                    return
                self._changed.clear()
            self._changed.wait(0.5)  # a timeout, as Windows delivers a Ctrl-C only between waits

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None or self._finished < len(self._threads):
                self.kernels.kill_all()
                self._go.set()
                for t in self._threads:
                    t.abandoned = True  # type: ignore[attr-defined]
                import logging

                for name in ("papermill", "traitlets"):  # traitlets: jupyter_client's, a kernel still starting
                    logging.getLogger(name).addFilter(_from_live_threads)
                deadline = time.monotonic() + 0.5
                for t in self._threads:
                    t.join(max(0.0, deadline - time.monotonic()))
        finally:
            self._lock_file.close()
            remove_folder(self._sockets.name)
            self._cwd_guard.__exit__(exc_type, exc, tb)


def remove_folder(folder: str, tries: int = 20) -> None:
    """Remove the pool's folder. After a failure a kernel thread may still be starting a kernel (abandoned, not
    waited for) and write its connection file in it while it is being removed: try again for a moment; what is
    still left then is the next run's sweep's (`staging.sweep_temp`)."""
    import shutil

    for _ in range(tries):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.lexists(folder):
            return
        time.sleep(0.05)


def share(table, pack: Path, folder: Path, tables: dict | None = None) -> str:
    """Write the run's findings as one pickle per domain, in the columns pages show (findings.PAGE_COLUMNS), and
    `tables` (name -> what a page shows beyond findings, views.pack_tables), each a pickle, into a new `folder`.
    Returns the prelude that points `eksaudit.notebook` at them, so that a notebook reads its domain's rows and
    tables and nothing else, without parsing findings.json or the evidence again."""
    import pandas as pd

    from .findings import PAGE_COLUMNS

    folder.mkdir()
    files, shared = {}, {}
    table = _each_value_once(table[PAGE_COLUMNS])
    parts = dict(iter(table.groupby("domain", sort=False))) if len(table) else {}
    for i, domain in enumerate(sorted(set(parts) | {d.id for d in DOMAINS})):
        path = folder / f"{i}.pkl"
        parts.get(domain, table.iloc[0:0]).to_pickle(path)
        files[domain] = str(path)
    for i, (name, value) in enumerate(sorted((tables or {}).items())):
        path = folder / f"t{i}.pkl"
        pd.to_pickle(value, path)  # a DataFrame, or a dict of them (the network pictures)
        shared[name] = str(path)
    return (f"import eksaudit.notebook as _eksaudit_nb\n"
            f"_eksaudit_nb.use_shared_findings({str(pack.resolve())!r}, {files!r}, {shared!r})\n"
            f"del _eksaudit_nb")


def _each_value_once(table):
    """The findings with each column's equal values as one string object. A normalised table holds a string per
    cell and pickle keeps what it is given; here statuses, check IDs, clusters and repeated reasons unpickle as
    one object each, and a row costs little more than a pointer per column in the kernel that reads it."""
    import numpy as np
    import pandas as pd

    out = {}
    for col in table.columns:
        codes, uniques = pd.factorize(table[col], use_na_sentinel=False)
        out[col] = pd.Series(np.asarray(uniques, dtype=object)[codes], index=table.index, dtype=object)
    return pd.DataFrame(out)


def _from_live_threads(record) -> bool:
    """Drop papermill's, nbclient's and jupyter_client's log lines from notebook threads whose kernels eksaudit
    killed (or was still starting when the run failed)."""
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

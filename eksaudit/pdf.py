"""PDFs of the pack's pages with headless Chromium (Debian's `chromium`): one per page, and pack.pdf of them all
(pdf_pages numbers the pages and puts pack.pdf together)."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from . import render

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HOW_TO_GET = "install Chromium (apt-get install chromium) or point --chromium at a Chrome/Chromium binary"
PACK_PDF = "pack.pdf"
PACK_TITLE = "EKS security audit: evidence pack"
# One browser keeps up with the pages as the notebooks write them; a second costs its start-up again (about
# 1 s of CPU) for little on two cores.
BROWSERS = 1
# Headless, as root in containers, and quiet on the network: the pages load nothing from outside anyway
# (their CSP forbids it), and these keep Chromium's own background services from calling out.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio"]


class PdfError(RuntimeError):
    """Chromium was found but could not print a page."""


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium to use: `explicit` (a path or a name on PATH), else the first known name on PATH."""
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return os.path.abspath(explicit)
        return shutil.which(explicit)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Printer:
    """One headless Chromium that prints page after page in one tab, driven over its DevTools pipe.

    With `--remote-debugging-pipe` it reads protocol commands on its fd 3 and answers on fd 4, each message JSON
    ended by a NUL byte: no port is opened, and no other process can talk to it. Pages are printed with the
    sizes and margins their CSS asks for (`@page`), without Chromium's own header and footer: the pages draw
    their header (account, run, date) and pdf_pages writes "page X of Y". Not thread-safe: one thread prints.
    """

    def __init__(self, chromium: str, timeout: float = 180) -> None:
        self.timeout = timeout
        # Chromium writes some 180 files into its profile: on tmpfs they go in a moment, on a busy disk removing
        # them took 0.3-0.5 s.
        self._profile = tempfile.mkdtemp(prefix="eksaudit-chromium-", dir=_memory_tmp())
        to_browser, self._send_fd = os.pipe()
        self._recv_fd, from_browser = os.pipe()
        # Out of the way of 3 and 4 first, so that putting them there in the child cannot overwrite one another.
        to_browser, from_browser = (_high_fd(to_browser), _high_fd(from_browser))

        def as_fd_3_and_4() -> None:  # in the child, before exec: only dup2, no Python locks taken
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        try:
            self.proc = subprocess.Popen([chromium, *FLAGS, "--remote-debugging-pipe",
                                          f"--user-data-dir={self._profile}", "about:blank"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL,
                                         preexec_fn=as_fd_3_and_4, close_fds=False,  # PEP 446: only 3, 4 pass
                                         start_new_session=True)  # its helpers in its group, to end together
        except OSError as exc:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise PdfError(f"could not start Chromium ({chromium}): {exc}") from exc
        finally:
            os.close(to_browser)
            os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        self._session = ""

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def kill(self) -> None:
        """End Chromium and all its helpers: a thread waiting for an answer reads the end of the pipe."""
        # The whole group: killing the browser alone left its helpers (network service, renderers) writing into
        # the profile while it was being removed ("Directory not empty").
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        self.kill()
        for fd in (self._send_fd, self._recv_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._send_fd, json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise PdfError(f"Chromium stopped answering ({exc})") from exc
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise PdfError(f"Chromium: {method}: {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            self._events.append(reply)

    def _receive(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._recv_fd], [], [], max(0.0, left))
            if not ready:
                raise PdfError(f"Chromium did not answer within {self.timeout:.0f}s")
            chunk = os.read(self._recv_fd, 1 << 20)
            if not chunk:
                raise PdfError("Chromium ended before printing every page")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def _wait_for_load(self, loader: str) -> None:
        """Until the page that navigation `loader` brought has loaded (its own `load`, not a previous page's)."""
        while True:
            events, self._events = self._events, []
            for event in events:
                params = event.get("params", {})
                if (event.get("method") == "Page.lifecycleEvent" and event.get("sessionId") == self._session
                        and params.get("name") == "load" and params.get("loaderId") == loader):
                    return
            self._events.append(self._receive())

    def print_bytes(self, html: Path) -> bytes:
        """Load one HTML file in the printer's tab and print it: the PDF's bytes. Untagged: pack.pdf is put
        together from the pages' PDFs, which keeps no structure tree, and tagging took a third of the time."""
        if not self._session:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self._call("Page.enable", session=self._session)
            self._call("Page.setLifecycleEventsEnabled", {"enabled": True}, session=self._session)
        loader = self._call("Page.navigate", {"url": Path(html).resolve().as_uri()},
                            session=self._session).get("loaderId", "")
        self._wait_for_load(loader)
        data = self._call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                              "displayHeaderFooter": False, "generateTaggedPDF": False},
                          session=self._session)["data"]
        printed = base64.b64decode(data)
        if not printed.startswith(b"%PDF-"):
            raise PdfError(f"Chromium printed nothing for {Path(html).name}")
        return printed


def _warm_page() -> str:
    """A few lines with what the pack's pages print: their styles and fonts (regular, bold, italic, monospace),
    a table, a badge, a chart."""
    import pandas as pd

    rows = pd.DataFrame({"status": ["FAIL", "PASS"], "severity": ["high", "low"], "reason": ["<i>a</i>", "b"]})
    chart = '<svg width="40" height="10"><rect width="40" height="10" fill="#c62828"/></svg>'
    return render.page("warm-up", f"<h1>Warm-up</h1><h2>Table</h2><p><b>b</b> <i>i</i> <code>c</code></p>"
                                  f"{render.table(rows)}{render.status_badge('FAIL')}{chart}")


def _memory_tmp() -> str | None:
    """/dev/shm when it is a writable folder (Linux's tmpfs), else the usual temporary folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _high_fd(fd: int) -> int:
    """The same pipe end on a descriptor above 9 (close-on-exec), the original closed."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Spool:
    """Pages printed as they are handed in, each once, by browsers started with the spool.

    A run makes one when it starts: Chromium starts and prints a small page (its first page costs most: renderer,
    fonts and print compositor start then) while evidence is checked, and each page prints as soon as its
    notebook has written it, while the other notebooks run. `finish` prints what is left and writes the PDFs.
    Without `chromium` it does nothing (and `finish` is not to be called).
    """

    def __init__(self, chromium: str | None, browsers: int = BROWSERS) -> None:
        self.chromium = chromium
        self._tmp = tempfile.TemporaryDirectory(prefix="eksaudit-pdf-", dir=_memory_tmp()) if chromium else None
        self._queue: queue.Queue[tuple[str, Path] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._done: dict[str, tuple[bytes, bytes] | Exception] = {}
        self._added: set[str] = set()
        self._printers: list[Printer] = []
        self._workers: list[threading.Thread] = []
        if not chromium:
            return
        warm = Path(self._tmp.name) / "_warm-up.html"
        warm.write_text(static_copy_text(_warm_page(), "warm-up"), encoding="utf-8")
        try:
            for _ in range(browsers):
                self._printers.append(Printer(chromium))
        except PdfError as exc:
            self._done[""] = exc  # said by finish
        for printer in self._printers:
            self._workers.append(threading.Thread(target=self._work, args=(printer, warm), daemon=True,
                                                  name="eksaudit-pdf"))
            self._workers[-1].start()

    def after(self, job: Callable[..., Path]) -> Callable[..., Path]:
        """`job` (one that writes a page and returns its path), then the page handed in for printing."""
        return lambda *args: self.add(job(*args))

    def add(self, html: Path, header: str = "") -> Path:
        """Hand in a finished page (a static copy of it prints); `header` tops every sheet if given."""
        if not self._workers:
            return html
        copy = Path(self._tmp.name) / html.name
        with self._lock:
            if html.name in self._added:
                return html
            self._added.add(html.name)
        copy.write_text(static_copy_text(html.read_text(encoding="utf-8"), header), encoding="utf-8")
        self._queue.put((html.name, copy))
        return html

    def _work(self, printer: Printer, warm: Path) -> None:
        with contextlib.suppress(PdfError):  # a failure shows again, with its reason, on a page
            printer.print_bytes(warm)
        while (item := self._queue.get()) is not None:
            name, copy = item
            try:
                from . import pdf_pages

                printed = printer.print_bytes(copy)
                result: tuple[bytes, bytes] | Exception = (printed, pdf_pages.numbered(printed))
            except Exception as exc:  # handed to finish, which raises it in the run's thread
                result = exc
            with self._lock:
                self._done[name] = result

    def finish(self, htmls: list[Path], header: str = "") -> list[tuple[bytes, bytes]]:
        """(printed, numbered) PDF of each page, in order: those not handed in yet are printed now. Once."""
        if "" in self._done:
            raise self._done[""]
        for html in htmls:
            self.add(html, header)
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join()
        results = [self._done.get(h.name, PdfError("Chromium stopped before printing every page")) for h in htmls]
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results  # type: ignore[return-value]

    def close(self) -> None:
        for printer in self._printers:
            printer.kill()  # a worker still waiting on its browser reads the end of the pipe and stops
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join()
        for printer in self._printers:
            printer.close()
        if self._tmp is not None:
            self._tmp.cleanup()


@contextlib.contextmanager
def ready(chromium: str | None, wanted: bool = True) -> Iterator[Spool]:
    """A Spool for a run: started now when PDFs are `wanted` and Chromium is found, doing nothing otherwise
    (render_pack then starts its own, or the caller says why there are no PDFs)."""
    spool = Spool(find_chromium(chromium) if wanted else None)
    try:
        yield spool
    finally:
        spool.close()


_NO_PAGE_NUMBER = "<style>@page{@bottom-right{content:none}}</style>"
_SCREEN_ONLY = '<div class="ek-screen-only">'
_DIV = re.compile(r"<div\b|</div>")


def _drop_screen_only(text: str) -> str:
    """Without the blocks marked screen-only (print hides them anyway; the Explore table is most of a page).
    Pages are built by render, every value escaped: a literal `<div` is always a tag."""
    while (start := text.find(_SCREEN_ONLY)) >= 0:
        depth = 0
        for m in _DIV.finditer(text, start):
            depth += 1 if m.group() == "<div" else -1
            if depth == 0:
                text = text[:start] + text[m.end():]
                break
        else:
            return text  # unclosed (render never leaves one): print hides it
    return text


def static_copy_text(text: str, header: str = "") -> str:
    """A page to print: without its scripts (they follow </main>), so a PDF shows the tables as written, whole,
    never a table widget's controls or a state it reached while arranging itself (Chromium's headless print
    cannot run with scripts switched off altogether); without the table widget's stylesheet and the screen-only
    blocks, which print would hide; `header` at the top of every sheet, and no page number (pdf_pages adds it)."""
    cut = text.rfind("</main>")
    if cut >= 0:
        text = text[:cut] + "</main></body></html>\n"
    text = _drop_screen_only(text.replace(f"<style>{_datatables_css()}</style>", "", 1))
    style = (render.print_header(header) if header else "") + _NO_PAGE_NUMBER
    cut = text.rfind("</body>")
    return text[:cut] + style + text[cut:] if cut >= 0 else text + style


@functools.cache
def _datatables_css() -> str:
    return render.datatables_assets()[1]


def render_pack(pack: Path, chromium: str, pages: list[str] | None = None, header: str = "",
                spool: Spool | None = None) -> list[Path]:
    """One PDF beside each HTML page (index.pdf, iam.pdf, ...) and pack.pdf with every page in order.

    Each page is printed once; pack.pdf is put together from those prints, numbered through, a bookmark per
    page. `header` tops every sheet (the runner's pages carry it already). `spool`: the run's, which may have
    printed some pages already; without one render_pack starts its own browser.
    """
    try:
        from . import pdf_pages
    except ImportError as exc:  # an environment set up before pypdf was a dependency
        raise PdfError(f"the pypdf package is missing ({exc}): pip install pypdf, a dependency of eksaudit") from exc
    pack = Path(pack)
    names = pages or [href for href, _ in render.NAV]
    htmls = [pack / n for n in names if (pack / n).is_file()]
    if not htmls:
        return []
    with contextlib.ExitStack() as own:
        if spool is None or not spool.chromium:
            spool = own.enter_context(ready(chromium))
        printed = spool.finish(htmls, header)
    made = []
    for html, (_, numbered) in zip(htmls, printed):
        made.append(html.with_suffix(".pdf"))
        made[-1].write_bytes(numbered)
    titles = dict(render.NAV)
    parts = [(titles.get(h.name, h.stem), data) for h, (data, _) in zip(htmls, printed)]
    return [*made, pdf_pages.write_pack(parts, pack / PACK_PDF, PACK_TITLE)]

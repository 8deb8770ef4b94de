"""PDFs of the pack's pages with headless Chromium (Debian's `chromium`): one per page and one for the whole pack."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import render

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HOW_TO_GET = "install Chromium (apt-get install chromium) or point --chromium at a Chrome/Chromium binary"
PACK_PDF = "pack.pdf"
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
    """One headless Chromium that prints page after page, driven over its DevTools pipe.

    Starting Chromium costs more than printing a page, so a pack's PDFs share one browser. With
    `--remote-debugging-pipe` it reads protocol commands on its fd 3 and answers on fd 4, each message JSON
    ended by a NUL byte: no port is opened, and no other process can talk to it. Pages are printed with the
    sizes and margins their CSS asks for (`@page`), without Chromium's own header and footer: the pages draw
    theirs (account, run, date, page X of Y).
    """

    def __init__(self, chromium: str, timeout: float = 180) -> None:
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="eksaudit-chromium-")
        to_browser, self._send_fd = os.pipe()
        self._recv_fd, from_browser = os.pipe()
        # Out of the way of 3 and 4 first, so that putting them there in the child cannot overwrite one another.
        to_browser, from_browser = (_high_fd(to_browser), _high_fd(from_browser))

        def as_fd_3_and_4() -> None:  # in the child, before exec: only dup2, no Python locks taken
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        try:
            self.proc = subprocess.Popen([chromium, *FLAGS, "--remote-debugging-pipe",
                                          f"--user-data-dir={self._profile.name}", "about:blank"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL,
                                         preexec_fn=as_fd_3_and_4, close_fds=False)  # PEP 446: only 3, 4 pass
        except OSError as exc:
            self._profile.cleanup()
            raise PdfError(f"could not start Chromium ({chromium}): {exc}") from exc
        finally:
            os.close(to_browser)
            os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._send_fd)
        with contextlib.suppress(OSError):
            os.close(self._recv_fd)
        self.proc.kill()
        self.proc.wait()
        self._profile.cleanup()

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

    def _wait_for(self, method: str, session: str) -> None:
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self._events[i]
                    return
            self._events.append(self._receive())

    def print_pdf(self, html: Path, out: Path) -> Path:
        """Load one HTML file in a fresh tab and print it to `out`."""
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self._call("Page.enable", session=session)
            self._call("Page.navigate", {"url": Path(html).resolve().as_uri()}, session=session)
            self._wait_for("Page.loadEventFired", session)
            data = self._call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                                  "displayHeaderFooter": False}, session=session)["data"]
        finally:
            self._call("Target.closeTarget", {"targetId": target})
        Path(out).write_bytes(base64.b64decode(data))
        if Path(out).stat().st_size == 0:
            raise PdfError(f"Chromium printed nothing for {html.name}")
        return Path(out)


def _high_fd(fd: int) -> int:
    """The same pipe end on a descriptor above 9 (close-on-exec), the original closed."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


def _print_all(chromium: str, jobs: list[tuple[Path, Path]]) -> list[Path]:
    with Printer(chromium) as printer:
        return [printer.print_pdf(html, out) for html, out in jobs]


_MAIN = re.compile(r"<main>(.*)</main>", re.S)


def static_copy_text(text: str) -> str:
    """A page without its scripts (they follow </main>): a PDF shows the tables as written, whole, never a table
    widget's controls or a state it reached while arranging itself. (Chromium's headless print cannot run with
    scripts switched off altogether.)"""
    cut = text.rfind("</main>")
    return text if cut < 0 else text[:cut] + "</main></body></html>\n"


def static_copy(page: Path) -> str:
    return static_copy_text(page.read_text(encoding="utf-8"))


def combined_html(pages: list[Path], header: str = "") -> str:
    """All pages in one document, each starting on a new sheet (for the pack PDF); `header` tops every sheet."""
    sections = []
    for page in pages:
        m = _MAIN.search(page.read_text(encoding="utf-8"))
        if m:
            sections.append(f'<section class="ek-section">{m.group(1)}</section>')
    return render.page("EKS security audit: evidence pack", "".join(sections), header=header)


def render_pack(pack: Path, chromium: str, pages: list[str] | None = None, header: str = "") -> list[Path]:
    """One PDF beside each HTML page (index.pdf, iam.pdf, ...) and pack.pdf with every page in order.

    Each page carries its own print header (render.page's `header`); pack.pdf gets `header`.
    """
    pack = Path(pack)
    names = pages or [href for href, _ in render.NAV]
    htmls = [pack / n for n in names if (pack / n).is_file()]
    with tempfile.TemporaryDirectory(prefix="eksaudit-pdf-") as tmp:
        combined = Path(tmp) / "pack.html"
        combined.write_text(static_copy_text(combined_html(htmls, header)), encoding="utf-8")
        jobs = [(combined, pack / PACK_PDF)]
        for h in htmls:
            (Path(tmp) / h.name).write_text(static_copy(h), encoding="utf-8")
            jobs.insert(-1, (Path(tmp) / h.name, h.with_suffix(".pdf")))
        # Two browsers: the pack PDF repeats every page, so it prints beside the pages, one core each.
        with ThreadPoolExecutor(2) as ex:
            pack_pdf = ex.submit(_print_all, chromium, jobs[-1:])
            pages_pdfs = ex.submit(_print_all, chromium, jobs[:-1])
            return pages_pdfs.result() + pack_pdf.result()

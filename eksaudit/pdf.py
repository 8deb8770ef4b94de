"""PDFs of the pack's pages with headless Chromium (Debian's `chromium`): one per page and one for the whole pack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
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
# Printing only: no browser header/footer (the pages draw their own with CSS margin boxes: account, run, date,
# page X of Y).
PRINT_FLAGS = ["--no-pdf-header-footer"]


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


def command(chromium: str, url: str, out: Path, profile: Path) -> list[str]:
    return [chromium, *FLAGS, *PRINT_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}", url]


def print_pdf(chromium: str, html: Path, out: Path, timeout: float = 180) -> Path:
    """Print one HTML file to PDF in a fresh, throw-away Chromium profile."""
    with tempfile.TemporaryDirectory(prefix="eksaudit-chromium-") as profile:
        cmd = command(chromium, Path(html).resolve().as_uri(), Path(out).resolve(), Path(profile))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"Chromium did not finish printing {html.name} within {timeout:.0f}s") from exc
        except OSError as exc:
            raise PdfError(f"could not start Chromium ({chromium}): {exc}") from exc
    if proc.returncode != 0 or not Path(out).is_file() or Path(out).stat().st_size == 0:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise PdfError(f"Chromium could not print {html.name} (exit {proc.returncode}): {tail[0]}")
    return Path(out)


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
        with ThreadPoolExecutor(2) as ex:
            return list(ex.map(lambda job: print_pdf(chromium, *job), jobs))

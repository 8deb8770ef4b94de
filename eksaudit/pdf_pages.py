"""Page numbers and pack.pdf, made from the pages Chromium printed once each (pypdf).

Chromium numbers a page within the document it prints, so pack.pdf used to be printed a second time as one long
document to count its pages through. Now every page is printed once, without a number, and the numbers are
written here: "page i of n" of its own PDF, and of the whole pack in pack.pdf, which also gets a bookmark per page.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from .pdf import PdfError

# Where Chromium drew "page X of Y" (render.print_header's @bottom-right box): right-aligned on the page's right
# margin (render.CSS: @page margin 12mm 10mm), its baseline in the middle of the 12 mm bottom margin, in 9 CSS px.
RIGHT_MARGIN = 10 / 25.4 * 72
BASELINE = 14.8
SIZE = 9 * 0.75
GREY = 0.2  # #333
# Helvetica's advance widths (per 1000 em) for the characters a page number uses: to right-align it.
_WIDTHS = {**dict.fromkeys("0123456789pageo", 556), " ": 278, "f": 278}


def label(number: int, total: int) -> str:
    return f"page {number} of {total}"


def _stamp(page: PageObject, text: str) -> None:
    """Write `text` at the page's bottom right, over what is there (Helvetica, one of the PDF's standard fonts:
    nothing to embed)."""
    width = sum(_WIDTHS[c] for c in text) / 1000 * SIZE
    x = float(page.mediabox.right) - RIGHT_MARGIN - width
    y = float(page.mediabox.bottom) + BASELINE
    stamp = PageObject.create_blank_page(None, width=page.mediabox.width, height=page.mediabox.height)
    content = DecodedStreamObject()
    content.set_data(f"BT /EkNum {SIZE:.2f} Tf {GREY} g {x:.2f} {y:.2f} Td ({text}) Tj ET".encode("ascii"))
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica"),
                             NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})
    stamp[NameObject("/Contents")] = content
    stamp[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/EkNum"): font})})
    page.merge_page(stamp)
    page.compress_content_streams()  # merge_page leaves the page's content uncompressed (three times the size)


def _number(writer: PdfWriter) -> None:
    total = len(writer.pages)
    for i, page in enumerate(writer.pages, 1):
        _stamp(page, label(i, total))


@contextlib.contextmanager
def _as_pdf_error() -> Iterator[None]:
    try:
        yield
    except PyPdfError as exc:
        raise PdfError(f"could not number the printed pages: {exc}") from exc


def numbered(printed: bytes) -> bytes:
    """One page's PDF as Chromium printed it, with "page i of n" on each sheet."""
    with _as_pdf_error():
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(printed)))
        _number(writer)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def write_pack(parts: list[tuple[str, bytes]], out: Path, title: str) -> Path:
    """pack.pdf: the printed pages one after another, (title, PDF) each, numbered through, one bookmark each."""
    with _as_pdf_error():
        writer = PdfWriter()
        for name, printed in parts:
            writer.append(PdfReader(io.BytesIO(printed)), outline_item=name)
        _number(writer)
        writer.add_metadata({"/Title": title})
        writer.write(out)
    return Path(out)

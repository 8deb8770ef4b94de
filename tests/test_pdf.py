"""PDFs without a browser: the static copy a page prints from, page numbers and pack.pdf (pypdf), and a
Chromium that fails. The printed PDFs themselves are checked in test_browser.py."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader, PdfWriter

from eksaudit import pdf, pdf_pages, render
from eksaudit.runner import _pdfs


def blank_pdf(pages: int, title: str = "") -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=842, height=595)
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_texts(data: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages]


def test_static_copy_prints_the_page_without_scripts_widget_styles_or_screen_only_blocks():
    table = render.sortable(pd.DataFrame({"status": ["FAIL", "PASS"], "name": ["a", "b"]}))
    body = ('<p class="ek-print-only">left out of print</p>'
            f'<div class="ek-screen-only"><div><p>note</p></div>{table}</div><p>after the table</p>')
    page = render.page("IAM", body, header="account 1 · run r")
    assert "<script" in page and 'class="ek-screen-only"' in page
    copy = pdf.static_copy_text(page)
    assert "<script" not in copy and 'class="ek-screen-only"' not in copy and "<p>note</p>" not in copy
    assert pdf._datatables_css() not in copy
    assert "left out of print" in copy and "after the table" in copy and copy.count("<div") == copy.count("</div>")
    assert copy.rstrip().endswith("</body></html>")
    # The page's own header stays; the page number is left to pdf_pages.
    assert render.print_header("account 1 · run r") in copy and "@bottom-right{content:none}" in copy
    assert render.css_string("other header") in pdf.static_copy_text(page, "other header")


def test_static_copy_leaves_an_unclosed_screen_only_block_to_print_css():
    text = '<main><p>kept</p><div class="ek-screen-only"><div>no end</main>'
    copy = pdf.static_copy_text(text)
    assert "kept" in copy and 'class="ek-screen-only"' in copy


def test_each_page_is_numbered_within_its_own_pdf():
    numbered = pdf_pages.numbered(blank_pdf(3, "EKS security audit: IAM"))
    assert page_texts(numbered) == ["page 1 of 3", "page 2 of 3", "page 3 of 3"]
    assert PdfReader(io.BytesIO(numbered)).metadata.title == "EKS security audit: IAM"


def test_pack_pdf_holds_every_page_numbered_through_with_a_bookmark_per_page(tmp_path):
    out = pdf_pages.write_pack([("Summary", blank_pdf(2)), ("IAM", blank_pdf(3))], tmp_path / "pack.pdf",
                               pdf.PACK_TITLE)
    reader = PdfReader(out)
    assert page_texts(out.read_bytes()) == [f"page {i} of 5" for i in range(1, 6)]
    assert [(o.title, reader.get_destination_page_number(o)) for o in reader.outline] == [("Summary", 0),
                                                                                          ("IAM", 2)]
    assert reader.metadata.title == pdf.PACK_TITLE


def test_numbers_sit_in_the_bottom_margin_at_the_right():
    reader = PdfReader(io.BytesIO(pdf_pages.numbered(blank_pdf(1))))
    spots = []
    reader.pages[0].extract_text(visitor_text=lambda text, cm, tm, *_: text.strip() and spots.append(tm[4:]))
    ((x, y),) = spots
    assert 0 < y < 12 / 25.4 * 72  # inside the 12 mm bottom margin
    assert 842 - 10 / 25.4 * 72 - 80 < x < 842 - 10 / 25.4 * 72  # ends at the 10 mm right margin


def test_a_printed_page_pypdf_cannot_read_is_a_pdf_error():
    with pytest.raises(pdf.PdfError, match="could not number"):
        pdf_pages.numbered(b"%PDF-1.4 not really")


def test_a_spool_without_chromium_hands_pages_through():
    with pdf.ready(None, wanted=False) as spool:
        assert spool.chromium is None
        assert spool.after(lambda kernel: Path(f"{kernel}.html"))("iam") == Path("iam.html")


def test_a_chromium_that_does_not_print_costs_the_pdfs_not_the_pack(tmp_path):
    """A binary that exits at once (here /bin/false) in place of Chromium: the spool started with the run fails
    on the first page, and the run says so in one line and leaves no PDF behind."""
    false = "/bin/false"
    pytest.importorskip("fcntl")
    if not Path(false).is_file():
        pytest.skip("no /bin/false")
    (tmp_path / "index.html").write_text(render.page("Summary", "<p>x</p>"), encoding="utf-8")
    said: list[str] = []
    with pdf.ready(false) as spool:
        spool.add(tmp_path / "index.html")
        outcome = _pdfs(tmp_path, false, ["index.html"], said.append, "", spool)
    assert outcome.startswith("failed: ") and len(said) == 1 and said[0].startswith("eksaudit: PDFs skipped: ")
    assert "Chromium" in said[0] and not list(tmp_path.glob("*.pdf"))

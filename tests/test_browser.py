"""The pack as a reviewer sees it: pages in headless Chromium (Debian's, driven by Playwright) and its PDFs.

Needs /usr/bin/chromium and poppler's pdftoppm (`make system-deps` installs both). In CI (CI set) a missing tool
fails these tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from eksaudit import render
from eksaudit.cli import main
from eksaudit.pack import verify
from eksaudit.pdf import PACK_PDF, Printer, find_chromium
from eksaudit.runner import _pdfs
from tests.browsers import BROWSER_ARGS, CHROMIUM, need

DOMAIN_PAGES = ["iam.html", "network.html", "logging.html", "images.html"]



@pytest.fixture(scope="module")
def browser():
    need(os.access(CHROMIUM, os.X_OK), CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


SIGN_KEY = "test-signing-key"


@pytest.fixture(scope="module")
def pdf_pack(demo_pack, tmp_path_factory):
    """`eksaudit run --evidence <demo evidence> --pdf --chromium ... --sign-key ...`: the demo's evidence through
    the same CLI path as `eksaudit demo --pdf`, without a second demo environment."""
    need(os.access(CHROMIUM, os.X_OK), CHROMIUM)
    pack, _ = demo_pack
    work = tmp_path_factory.mktemp("pdf")
    (work / "key").write_text(SIGN_KEY + "\n")
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(["run", "--evidence", str(pack / "evidence"), "--out", str(work / "pack"), "--pdf",
                     "--chromium", CHROMIUM, "--sign-key", str(work / "key")])
    assert code in (0, 1, 3), err.getvalue()
    assert "PDFs skipped" not in err.getvalue(), err.getvalue()
    assert "pack.pdf" in out.getvalue()
    return work / "pack"


class Watch:
    """Console errors, uncaught exceptions, failed loads and dialogs of one browser page."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", lambda m: m.type in ("error", "warning") and self.problems.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"requestfailed: {r.url}"))
        page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))


def test_pages_load_clean_and_link_to_each_other(browser, demo_pack, tmp_path):
    pack, _ = demo_pack
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    index = (pack / "index.html").resolve().as_uri()
    page.goto(index)
    assert page.title().startswith("EKS security audit")
    rows = page.locator("table.ek-table").last.locator("tbody tr")
    assert rows.count() > 0
    for href in DOMAIN_PAGES:
        page.goto(index)
        page.click(f'nav a[href="{href}"]')
        page.wait_for_load_state()
        assert page.url.endswith("/" + href)
        assert page.locator(f'nav a[aria-current="page"][href="{href}"]').count() == 1
        assert page.locator(".ek-card h3").count() > 0, f"{href} shows no checks"
        assert page.locator("svg[role=img] rect").count() > 0, f"{href} has no chart"
        page.click('nav a[href="index.html"]')
        page.wait_for_load_state()
        assert page.url.endswith("/index.html")
    # A top risk links to its check on the domain page.
    page.goto(index)
    risk = page.locator('a[href*=".html#"]').first
    target = risk.get_attribute("href")
    risk.click()
    page.wait_for_load_state()
    page_name, anchor = target.split("#")
    assert page.url.endswith(f"/{page_name}#{anchor}")
    assert page.locator(f'h3[id="{anchor}"]').count() == 1
    shot = tmp_path / "index.png"
    page.goto(index)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert watch.problems == []
    page.close()


@pytest.mark.parametrize("name", ["index.html", *DOMAIN_PAGES])
def test_nothing_cut_off_at_print_width(browser, demo_pack, name):
    """On an A4-landscape-wide print layout, no table or chart is wider than the page: long values wrap."""
    pack, _ = demo_pack
    page = browser.new_page(viewport={"width": 1040, "height": 800})
    page.emulate_media(media="print")
    page.goto((pack / name).resolve().as_uri())
    widest = page.evaluate("Math.max(...[...document.querySelectorAll('table, svg')]"
                           ".map(e => e.getBoundingClientRect().right))")
    assert widest <= 1040 + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1040
    page.close()


def test_index_shows_every_practice(browser, demo_pack):
    from eksaudit.requirements import PRACTICES

    pack, _ = demo_pack
    page = browser.new_page()
    page.goto((pack / "index.html").resolve().as_uri())
    text = page.inner_text("main")
    missing = [pid for pid, _, _ in PRACTICES if pid not in text]
    assert not missing
    page.close()


def test_hostile_names_stay_text(browser, tmp_path):
    """Names are attacker-controlled: markup, script and javascript: links in them render as text."""
    hostile = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
               "</td></tr></table><h1>fake</h1>", "a\u202eevil"]
    df = pd.DataFrame({"status": ["FAIL"] * 5, "resource_id": hostile, "check_id": hostile})
    body = render.table(df, links={"check_id": lambda r: r["check_id"]}) + render.bar_chart(
        pd.DataFrame({"status": ["FAIL"] * 5, "domain": hostile}), "domain")
    path = tmp_path / "hostile.html"
    path.write_text(render.page('<script>alert("t")</script>', body), encoding="utf-8")
    page = browser.new_page()
    watch = Watch(page)
    page.goto(path.resolve().as_uri())
    assert page.locator("img, main h1, main script").count() == 0
    # The only scripts: the table bundle and its start, outside <main>, allowed by hash.
    assert page.locator("script").count() == 2
    assert page.locator("script").nth(1).evaluate("s => s.textContent") == render.TABLE_SCRIPT
    assert page.locator("main a").count() == 0  # not a pack page: no link at all
    text = page.inner_text("main")
    assert '<script>alert("x")</script>' in text and "\\u202e" in text
    assert page.title() == '<script>alert("t")</script>'
    assert watch.problems == []
    page.close()


def _pgm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary greyscale PGM (what `pdftoppm -gray` writes)."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5" and int(fields[3]) == 255
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos + 1:pos + 1 + w * h]


def test_pdfs_made_for_every_page_and_not_blank(pdf_pack, tmp_path):
    need(shutil.which("pdftoppm") is not None, "pdftoppm (poppler-utils)")
    for name in ["index.pdf", *[p.replace(".html", ".pdf") for p in DOMAIN_PAGES], PACK_PDF]:
        assert (pdf_pack / name).read_bytes()[:5] == b"%PDF-", name
    run = json.loads((pdf_pack / "run.json").read_text())
    assert run["pdf"].startswith("made:")
    manifest = json.loads((pdf_pack / "manifest.json").read_text())
    assert PACK_PDF in manifest["files"] and "iam.pdf" in manifest["files"]
    subprocess.run(["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "1", str(pdf_pack / PACK_PDF),
                    str(tmp_path / "p")], check=True, capture_output=True)
    (pgm,) = tmp_path.glob("p*.pgm")
    w, h, pixels = _pgm(pgm)
    assert w > h, "pages are A4 landscape"
    inked = sum(1 for v in pixels if v < 200)
    assert inked > 0.01 * w * h, f"page 1 is nearly blank ({inked} dark pixels of {w * h})"
    assert inked < 0.6 * w * h, "page 1 is mostly black"
    pages = subprocess.run(["pdfinfo", str(pdf_pack / PACK_PDF)], capture_output=True, text=True, check=True)
    count = int(next(line.split()[-1] for line in pages.stdout.splitlines() if line.startswith("Pages:")))
    singles = 0
    for name in ["index.pdf", *[p.replace(".html", ".pdf") for p in DOMAIN_PAGES]]:
        info = subprocess.run(["pdfinfo", str(pdf_pack / name)], capture_output=True, text=True, check=True)
        singles += int(next(ln.split()[-1] for ln in info.stdout.splitlines() if ln.startswith("Pages:")))
    assert count >= 5 and count == singles, (count, singles)  # the pack PDF holds every page, each once


def test_pack_pdf_has_a_bookmark_where_each_page_starts(pdf_pack):
    from pypdf import PdfReader

    reader = PdfReader(pdf_pack / PACK_PDF)
    marks = [(o.title, reader.get_destination_page_number(o)) for o in reader.outline]
    titles = dict(render.NAV)
    assert [t for t, _ in marks] == [titles[p] for p in ["index.html", *DOMAIN_PAGES]]
    first = 0
    for (title, page), name in zip(marks, ["index.html", *DOMAIN_PAGES]):
        assert page == first, (title, page, first)
        first += len(PdfReader(pdf_pack / name.replace(".html", ".pdf")).pages)


def test_pdf_text_has_findings(pdf_pack):
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    text = subprocess.run(["pdftotext", str(pdf_pack / "iam.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "IAM-07" in text and "Remediation" in text and "Offenders" in text


def test_printer_ends_chromium_with_all_its_helpers_and_removes_its_profile(tmp_path):
    """Killing the browser alone left helpers writing into the profile while it was removed ("Directory not
    empty", which ended the run)."""
    need(os.access(CHROMIUM, os.X_OK), CHROMIUM)
    page = tmp_path / "p.html"
    page.write_text(render.page("p", "<p>one page</p>"), encoding="utf-8")
    printer = Printer(CHROMIUM)
    assert printer.print_bytes(page).startswith(b"%PDF-")
    group, profile = printer.proc.pid, Path(printer._profile)
    assert os.getpgid(group) == group and profile.is_dir()
    printer.close()
    assert not profile.exists()
    deadline = time.monotonic() + 30  # SIGKILLed helpers take a moment to go (a wait, not a speed goal)
    while _live_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_in_group(group) == []


def _live_in_group(group: int) -> list[int]:
    """Processes of a process group that are not (yet) zombies."""
    live = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(fields[2]) == group and fields[0] not in "ZX":
            live.append(int(entry.name))
    return live


def test_pdf_skipped_without_chromium_says_so_once(demo_pack, tmp_path, monkeypatch):
    pack, _ = demo_pack
    copy = Path(shutil.copytree(pack, tmp_path / "pack"))
    said: list[str] = []
    assert _pdfs(copy, str(tmp_path / "no-such-chromium"), ["index.html"], said.append).startswith("skipped")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() is None
    assert _pdfs(copy, None, ["index.html"], said.append).startswith("skipped")
    assert len(said) == 2 and all("PDFs skipped" in s and "apt-get install chromium" in s and "--chromium" in s
                                  for s in said)
    assert not list(copy.glob("*.pdf"))


def test_tables_work_under_the_csp_from_file(browser, tmp_path):
    """DataTables (inlined, allowed by hash) sorts, filters and searches; an extra inline script is blocked."""
    df = pd.DataFrame({"status": ["PASS", "FAIL", "ERROR"], "name": ["b-two", "a-one", "c-three"],
                       "n": ["2", "10", "1"]})
    path = tmp_path / "sortable.html"
    path.write_text(render.page("t", render.sortable(df) + "<script>document.title='pwned'</script>"))
    page = browser.new_page()
    watch = Watch(page)
    page.goto(path.resolve().as_uri())
    assert page.title() == "t"
    assert [p for p in watch.problems if "Content Security Policy" in p], watch.problems
    assert [p for p in watch.problems if "Content Security Policy" not in p] == []
    assert page.locator("table.dataTable").count() == 1
    table = page.locator("table.ek-dt")
    page.fill(".dt-search input", "a-one")
    assert _rows_until(page, table, lambda rows: len(rows) == 1) == [["FAIL", "a-one", "10"]]
    page.fill(".dt-search input", "")
    assert len(_rows_until(page, table, lambda rows: len(rows) == 3)) == 3
    _sort_by(page, table, 2)
    assert page.locator("tbody tr td:nth-child(3)").all_inner_texts() == ["1", "2", "10"]
    _sort_by(page, table, 0)  # attention order, not the alphabet
    assert page.locator("tbody tr td:nth-child(1)").all_inner_texts() == ["FAIL", "ERROR", "PASS"]
    page.close()


def _sort_by(page, table, col: int, direction: str = "asc") -> None:
    """Click a column's header once (ascending first, then descending) and wait for the redraw: DataTables
    sorts and filters in a zero-delay timer after the click or keystroke."""
    from playwright.sync_api import expect

    th = table.locator("thead th").nth(col)
    th.locator(".dt-column-title").click()
    expect(th).to_have_class(re.compile(rf"\bdt-ordering-{direction}\b"))


def _rows_until(page, table, ok) -> list[list[str]]:
    """The table's rows once `ok(rows)` holds (DataTables redraws after a zero-delay timer); the last rows seen
    otherwise, for the assertion that follows to show."""
    rows = _cells(table)
    for _ in range(100):
        if ok(rows):
            break
        page.wait_for_timeout(50)
        rows = _cells(table)
    return rows


def _cells(table) -> list[list[str]]:
    return table.evaluate("t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim()))")


def _biggest_table(page):
    index = page.evaluate("""() => { const t = [...document.querySelectorAll('table.ek-dt')];
        let best = 0; t.forEach((x, i) => { if (x.tBodies[0].rows.length > t[best].tBodies[0].rows.length) best = i; });
        return best; }""")
    return page.locator("table.ek-dt").nth(index)


def _key(text: str):
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text.lower())


@pytest.mark.parametrize("name", ["index.html", *DOMAIN_PAGES])
def test_every_table_sorts_filters_and_searches(browser, demo_pack, name):
    pack, _ = demo_pack
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    page.goto((pack / name).resolve().as_uri())
    tables = page.locator("table.ek-dt")
    assert tables.count() > 0, f"{name} has no interactive table"
    assert page.locator("table.ek-dt.dataTable").count() == tables.count(), "every table was set up"
    table = _biggest_table(page)
    box = table.locator("xpath=ancestor::div[contains(@class, 'dt-container')][1]")
    rows = _cells(table)
    assert len(rows) >= 2
    heads = table.locator("thead th .dt-column-title").all_inner_texts()
    # Search: a value found in some rows but not all.
    term = next(v for col in range(len(heads)) for v in sorted({r[col] for r in rows})
                if 2 < len(v) and 0 < sum(v.lower() in " ".join(r).lower() for r in rows) < len(rows))
    box.locator(".dt-search input").fill(term)
    shown = _rows_until(page, table, lambda now: len(now) < len(rows))
    assert 0 < len(shown) < len(rows) and all(term.lower() in " ".join(r).lower() for r in shown), term
    box.locator(".dt-search input").fill("")
    assert len(_rows_until(page, table, lambda now: len(now) == len(rows))) == len(rows)
    # Sort: a column with differing values, ascending then descending.
    col = next(i for i, h in enumerate(heads) if h not in ("results",) and len({r[i] for r in rows}) > 1
               and h not in ("status", "severity"))
    _sort_by(page, table, col)
    values = [r[col] for r in _cells(table)]
    assert values == sorted(values, key=_key), (heads[col], values[:10])
    _sort_by(page, table, col, "desc")
    values = [r[col] for r in _cells(table)]
    assert values == sorted(values, key=_key, reverse=True), (heads[col], values[:10])
    # Filter one column by ticking one of its values.
    keyed = [i for i in range(len(heads)) if "ek-col-key" in (table.locator("thead th").nth(i).get_attribute("class")
                                                              or "") and len({r[i] for r in rows}) > 1]
    if keyed:
        col = keyed[0]
        value = sorted({r[col] for r in rows})[0]
        table.locator("thead th").nth(col).locator(".dtcc-button_dropdown").click()
        page.locator(".dtcc-dropdown .dtcc-list-buttons button").filter(has_text=value).first.click()
        page.keyboard.press("Escape")
        shown = _rows_until(page, table, lambda now: len(now) < len(rows))
        assert shown and len(shown) < len(rows) and all(r[col] == value for r in shown), (heads[col], value)
    assert watch.problems == []
    page.close()


def test_evidence_link_opens_the_response_from_file(browser, demo_pack):
    """From a check on a domain page, one click shows the raw response with the object the finding names."""
    pack, findings = demo_pack
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    page.goto((pack / "iam.html").resolve().as_uri())
    link = page.locator("a.ek-ev-link[href*='#']").first
    ref = link.inner_text()
    fragment = ref.split("#", 1)[1]
    link.click()
    page.wait_for_load_state()
    assert page.url.startswith((pack / render.VIEWER_DIR).resolve().as_uri())
    assert page.locator("h1").inner_text() == "Evidence: " + ref.split("#")[0].removeprefix("evidence/")
    target = page.locator(":target")
    assert target.count() == 1 and fragment in target.inner_text()
    assert target.evaluate("e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }")
    assert target.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"  # highlighted
    entry = page.locator("table.ek-table").first.inner_text()
    assert "sha256" in entry and "aws:iam:GetAccountAuthorizationDetails" in entry
    assert watch.problems == []
    page.close()


def test_short_words_stay_whole_in_the_image_inventory(browser, demo_pack):
    """The tag column wrapped "latest" as "late st"; at print width no short cell breaks inside a word."""
    pack, _ = demo_pack
    page = browser.new_page(viewport={"width": 1040, "height": 800})
    page.emulate_media(media="print")
    page.goto((pack / "images.html").resolve().as_uri())
    checked, broken = page.evaluate("""() => {
        let checked = 0; const broken = [];
        for (const td of document.querySelectorAll('main td')) {
            const node = [...td.childNodes].find(c => c.nodeType === 3 && c.textContent.trim());
            if (!node) continue;
            for (const m of node.textContent.matchAll(/[^\\s]+/g)) {
                if (m[0].length > 24 || /[-\\/]/.test(m[0])) continue;  // long tokens may wrap; so may hyphens
                const r = document.createRange(); r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
                checked++;
                if (r.getClientRects().length > 1) broken.push(m[0]);
            }
        }
        return [checked, broken]; }""")
    assert "latest" in page.inner_text("main") and checked > 100
    assert broken == []
    page.close()


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def test_every_pdf_page_carries_account_run_date_and_page_x_of_y(pdf_pack):
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    run = json.loads((pdf_pack / "run.json").read_text())
    date = run["started"][:10]
    for name in ["index.pdf", *[p.replace(".html", ".pdf") for p in DOMAIN_PAGES], PACK_PDF]:
        pages = _pdf_pages(pdf_pack / name)
        assert len(pages) >= 1
        for i, text in enumerate(pages, 1):
            flat = " ".join(text.split())
            assert f"account {run['account']}" in flat and run["run_id"] in flat and date in flat, (name, i)
            assert f"page {i} of {len(pages)}" in flat, (name, i, flat[-200:])


def test_domain_pdfs_do_not_start_with_a_half_empty_page(pdf_pack):
    """The first sheet is filled: its last line of content sits in the lower quarter of the page."""
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    for name in [p.replace(".html", ".pdf") for p in DOMAIN_PAGES]:
        out = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf_pack / name), "-"],
                             capture_output=True, text=True, check=True).stdout
        height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', out).group(1))
        words = re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', out)
        body = [float(y1) for y0, y1, w in words if float(y0) < 0.93 * height]  # the footer aside
        assert body and max(body) > 0.75 * height, (name, max(body) / height)


def test_pdf_text_has_no_widget_placeholder_text(pdf_pack):
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    from tests.test_pack_ui import PLACEHOLDERS

    for pdf in sorted(pdf_pack.glob("*.pdf")):
        text = " ".join(_pdf_pages(pdf))
        for placeholder in [*PLACEHOLDERS, "Toggle ordering", "search all columns"]:
            assert placeholder not in text, (pdf.name, placeholder)


def test_pdf_pack_verifies_signed_and_a_changed_pdf_is_named(pdf_pack, tmp_path):
    assert verify(pdf_pack, SIGN_KEY.encode()) == []
    copy = Path(shutil.copytree(pdf_pack, tmp_path / "copy"))
    body = bytearray((copy / "iam.pdf").read_bytes())
    body[len(body) // 2] ^= 0x01
    (copy / "iam.pdf").write_bytes(bytes(body))
    assert verify(copy, SIGN_KEY.encode()) == ["changed: iam.pdf"]


def test_pdfs_hold_no_widget_placeholder(pdf_pack):
    """The domain notebooks' Explore section prints as a table: no widget, no "Loading widget..." in any PDF."""
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    for name in [p.replace(".html", ".pdf") for p in DOMAIN_PAGES] + [PACK_PDF]:
        text = subprocess.run(["pdftotext", str(pdf_pack / name), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "Explore" in text, name
        assert not [t for t in ("Loading widget", "Error displaying widget", "widget-view") if t in text], name

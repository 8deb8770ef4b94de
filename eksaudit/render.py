"""HTML pieces the notebooks display: badges, tables and charts. Every value is escaped: names are untrusted."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .domains import pages
from .findings import SEVERITIES, STATUSES
from .frames import records

STATUS_STYLE = {"FAIL": ("#b00020", "#fff"), "ERROR": ("#6a1b9a", "#fff"), "MANUAL": ("#e65100", "#fff"),
                "WAIVED": ("#546e7a", "#fff"), "NOT_APPLICABLE": ("#e0e0e0", "#222"), "PASS": ("#1b5e20", "#fff")}
SEVERITY_STYLE = {"critical": ("#000", "#fff"), "high": ("#c62828", "#fff"), "medium": ("#f9a825", "#000"),
                  "low": ("#90caf9", "#000"), "info": ("#eeeeee", "#000")}
CSS = """<style>
.ek-table{border-collapse:collapse;font:13px/1.4 system-ui,sans-serif;width:100%;table-layout:auto}
.ek-table th{background:#263238;color:#fff;text-align:left;padding:4px 6px;position:sticky;top:0}
.ek-table td{border-bottom:1px solid #ddd;padding:4px 6px;vertical-align:top;overflow-wrap:anywhere;
 word-break:break-word;max-width:48em}
.ek-table td.ek-k,.ek-table td.ek-w{overflow-wrap:normal;word-break:normal}
.ek-table td.ek-w{white-space:nowrap}
.ek-ev-text{display:none}
.ek-badge{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:600;font-size:12px;
 border:1px solid #333;white-space:nowrap}
.ek-card{border:1px solid #ccc;border-left:6px solid #263238;padding:8px 12px;margin:12px 0;
 font:14px/1.5 system-ui,sans-serif}
.ek-muted{color:#555}
.ek-banner{border:2px solid #b71c1c;background:#ffebee;color:#7f0000;padding:8px 12px;margin:12px 0;
 font:15px/1.5 system-ui,sans-serif}
.ek-table,.ek-badge,.ek-card,.ek-banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@media print{.ek-table th{position:static}.ek-table thead{display:table-header-group}
 .ek-table tr{break-inside:avoid}.ek-table td{max-width:none}.ek-card h3{break-after:avoid}
 .ek-ev-link{display:none}.ek-ev-text{display:inline}}
</style>"""
# The page around an exported notebook: no script, no external resource (the CSP forbids both, so a name that
# slipped through escaping still could not run or call out), and print rules for Chromium's PDF.
PAGE_CSS = """<style>
body{margin:0;font:14px/1.5 system-ui,"DejaVu Sans",sans-serif;color:#111;background:#fff}
main{max-width:1280px;margin:0 auto;padding:8px 20px 40px}
nav.ek-nav{background:#263238;padding:8px 20px;font:14px system-ui,sans-serif}
nav.ek-nav a{color:#fff;margin-right:16px;text-decoration:none}
nav.ek-nav a[aria-current=page]{font-weight:700;text-decoration:underline}
.ek-pack{color:#cfd8dc;float:right}
h1{font-size:24px;margin:16px 0 8px}h2{font-size:19px;margin:22px 0 6px;border-bottom:2px solid #263238}
h3{font-size:16px;margin:4px 0}
a.anchor-link{display:none}
svg{max-width:100%;height:auto}
pre{white-space:pre-wrap;overflow-wrap:anywhere}
@page{size:A4 landscape;margin:12mm 10mm}
.ek-print-only{display:none}
@media print{body{font-size:11px}main{max-width:none;padding:0}nav.ek-nav{display:none}
 input[type=search]{display:none}
 h2{break-after:avoid}.ek-table{font-size:10px}svg{break-inside:avoid}
 .ek-section+.ek-section{break-before:page}
 .ek-screen-only{display:none}.ek-print-only{display:block}}
</style>"""
NAV = [(page, title) for _, title, page in pages()]
# Short columns wrap only at spaces and hyphens, so ARNs and reasons get the width.
KEY_COLUMNS = {"cluster", "region", "resource_type", "check_id", "domain", "practice", "account_id"}
# base-uri and form-action do not fall back to default-src: without them a planted <base> could redirect the
# pack's relative links, and a planted <form> could send what a reader types anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
# Every table of a page sorts, filters and searches with DataTables (the bundle itables ships, MIT), inlined in
# the page: the pack stays one folder that works from file:// with no server, and the CSP allows exactly the
# bundle and TABLE_SCRIPT by their hashes. The tables themselves stay server-side HTML (escaped); the script only
# rearranges rows, and the PDFs are printed with scripts off, so print shows the plain table.
TABLE_SCRIPT = """(function(){var $=window.$;if(!$||!$.fn||!$.fn.DataTable)return;
document.querySelectorAll('table.ek-dt').forEach(function(t){if($.fn.dataTable.isDataTable(t))return;
var ph=t.getAttribute('data-ek-placeholder')||'search all columns';
$(t).DataTable({paging:false,info:true,order:[],autoWidth:false,columnControl:[['search']],
columnDefs:[{targets:'ek-col-key',columnControl:[['searchList']]},
{targets:'ek-col-plain',orderable:false,columnControl:[]}],
language:{search:'Search',searchPlaceholder:ph,info:'_TOTAL_ rows',infoFiltered:'(of _MAX_)',
infoEmpty:'no rows',zeroRecords:'no matching rows'}});});})();"""
# Columns filtered by ticking values (few distinct values); the others by typing.
LIST_FILTER_COLUMNS = KEY_COLUMNS | {"status", "severity", "tool", "scan_status", "source", "time_source",
                                    "registry", "repository", "namespace", "kind"}
# Where the pack keeps one viewer page per evidence file a page links to (eksaudit/viewer.py writes them).
VIEWER_DIR = "evidence-view"
# A cell whose words are all this short never breaks inside a word (tags, dates, names); longer tokens (ARNs,
# digests, JSON paths) may wrap anywhere, or the table would not fit the page.
SHORT_WORD = 24


@functools.lru_cache(maxsize=1)
def datatables_assets() -> tuple[str, str]:
    """(script, stylesheet) of the DataTables bundle shipped inside the itables package (no CDN, no network)."""
    spec = importlib.util.find_spec("itables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the itables package is missing: pip install itables (a dependency of eksaudit)")
    html_dir = Path(next(iter(spec.submodule_search_locations))) / "html"
    return ((html_dir / "dt_bundle.js").read_text(encoding="utf-8"),
            (html_dir / "dt_bundle.css").read_text(encoding="utf-8"))


# Control characters (but newline and tab) and the bidi overrides and isolates, which can make a name read as
# something it is not: shown as \uXXXX.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\u202a-\u202e\u2066-\u2069]")


def esc(value: object, quote: bool = True) -> str:
    """Escape any value for HTML, including control and bidi characters made visible. `quote=False` leaves quotes
    as they are: only for text between tags, never in an attribute."""
    text = "" if value is None else str(value)
    text = _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return html.escape(text, quote=quote)


def badge(text: str, styles: dict) -> str:
    bg, fg = styles.get(text, ("#fff", "#000"))
    return f'<span class="ek-badge" style="background:{bg};color:{fg}">{esc(text)}</span>'


def status_badge(status: str) -> str:
    return badge(status, STATUS_STYLE)


def severity_badge(severity: str) -> str:
    return badge(severity, SEVERITY_STYLE)


_SAFE_HREF = re.compile(r"[A-Za-z0-9_.-]+\.html(#[A-Za-z0-9_.-]*)?|#[A-Za-z0-9_.-]+")


def link(href: str, text: object) -> str:
    """A link to another page of the pack; anything but a relative pack page or anchor stays plain text."""
    if not _SAFE_HREF.fullmatch(href or ""):
        return esc(text)
    return f'<a href="{esc(href)}">{esc(text)}</a>'


# An evidence reference as findings write it: evidence/<path inside the evidence folder>[#<object>]. Path
# segments are what the evidence store writes (no "..", no leading dot); anything else stays plain text.
_EVIDENCE_REF = re.compile(r"evidence/((?:[A-Za-z0-9_][A-Za-z0-9_.=+-]*/)*[A-Za-z0-9_][A-Za-z0-9_.=+-]*)(?:#(.+))?",
                           re.S)


def evidence_ref(ref: str) -> tuple[str, str] | None:
    """(path inside evidence/, fragment) of an evidence reference, or None when it is not one."""
    m = _EVIDENCE_REF.fullmatch((ref or "").strip())
    if not m or ".." in m.group(1).split("/"):
        return None
    return m.group(1), m.group(2) or ""


def anchor(fragment: str) -> str:
    """The id a viewer page gives the object a fragment names: a digest of the fragment, so that no name from
    the audited account ever sits inside an attribute (the page lists the fragments themselves as text)."""
    return "o-" + hashlib.sha256(fragment.encode()).hexdigest()[:16]


def viewer_path(path: str) -> str:
    """Where the viewer page of evidence/<path> is, relative to the pack: one flat folder, named by a digest of
    the path (the page's title and heading give the path)."""
    return f"{VIEWER_DIR}/{hashlib.sha256(path.encode()).hexdigest()[:20]}.html"


def evidence_link(ref: object, root: str = "") -> str:
    """An evidence reference as a link to its viewer page (landing on the object when it has a fragment); in
    print the link is hidden and the path shown as text, since a PDF cannot open the pack's pages. Anything
    that is not an evidence reference is escaped text."""
    text = "" if ref is None else str(ref)
    parsed = evidence_ref(text)
    if parsed is None:
        return esc(text)
    path, fragment = parsed
    href = root + viewer_path(path) + (f"#{anchor(fragment)}" if fragment else "")
    return (f'<a class="ek-ev-link" href="{esc(href)}">{esc(text)}</a>'
            f'<span class="ek-ev-text">{esc(text)}</span>')


def _cell_class(col: str, text: str) -> str:
    """ek-k: break only between words (key columns, and cells whose words are all short); ek-w: never wrap (a
    single short word: a tag, a date, a count); "": long tokens may wrap anywhere."""
    if col in KEY_COLUMNS:
        return "ek-k"
    words = text.split()
    if words and all(len(w) <= SHORT_WORD for w in words):
        return "ek-w" if len(words) == 1 and len(text) <= 16 else "ek-k"
    return ""


def _rank(col: str, value: str) -> str:
    """A sort key for status and severity cells, so that sorting follows attention order, not the alphabet."""
    order = STATUSES if col == "status" else SEVERITIES
    return str(order.index(value)) if value in order else str(len(order))


def table(df: pd.DataFrame, columns: list[str] | None = None, max_rows: int | None = None,
          links: dict[str, Callable[[dict], str]] | None = None, interactive: bool | None = None,
          placeholder: str = "", markup: dict[str, Callable[[dict], str]] | None = None,
          rest_in: str = "findings.csv") -> str:
    """A full-width HTML table; status and severity columns become badges, every other cell is escaped.

    Values are shown whole (ARNs and names are never cut); long ones wrap. `links` maps a column to a function
    of the row giving a pack-relative href (see `link`). An `evidence` column links to the evidence viewer.
    `markup` maps a column to a function of the row giving markup built by this module (a bar, a badge), never
    text from the data; such a column does not sort.
    `interactive`: the page's script makes it sortable, filterable and searchable (default: yes, but for a
    label/value table, whose first column has no name, and tables of fewer than two rows).
    """
    columns = columns or list(df.columns)
    links, markup = links or {}, markup or {}
    shown = df if max_rows is None else df.head(max_rows)
    if interactive is None:
        interactive = bool(columns) and str(columns[0]) != "" and len(shown) >= 2

    def th(c: object) -> str:
        cls = "ek-col-plain" if c in markup else "ek-col-key" if c in LIST_FILTER_COLUMNS else ""
        return f'<th class="{cls}">{esc(c)}</th>' if cls else f"<th>{esc(c)}</th>"

    head = "".join(th(c) for c in columns)
    body = []
    # Rows through plain lists: pandas' record iteration converts every cell on its own, the cost of a long table.
    for rec in records(shown):
        cells = []
        for col in columns:
            val = rec.get(col)
            if col in markup:
                cells.append(f"<td>{markup[col](rec)}</td>")
            elif col == "status":
                cells.append(f'<td data-order="{_rank(col, str(val))}">{status_badge(str(val))}</td>')
            elif col == "severity":
                cells.append(f'<td data-order="{_rank(col, str(val))}">{severity_badge(str(val))}</td>')
            else:
                if isinstance(val, (list, tuple, set)):
                    val = ", ".join(map(str, val))
                text = "" if val is None else str(val)
                cls = _cell_class(col, text)
                cls = f' class="{cls}"' if cls else ""
                if col in links:
                    inner = link(links[col](rec), val)
                elif col == "evidence":
                    inner = evidence_link(val)
                else:
                    inner = esc(val)
                cells.append(f"<td{cls}>{inner}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(df) > max_rows:
        more = f'<p class="ek-muted">{len(df) - max_rows} more rows in {esc(rest_in)}</p>'
    cls = "ek-table ek-dt" if interactive else "ek-table"
    ph = f' data-ek-placeholder="{esc(placeholder)}"' if placeholder and interactive else ""
    return (f'{CSS}<table class="{cls}"{ph}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            f"{more}")


def counts(findings: pd.DataFrame, by: str = "check_id") -> pd.DataFrame:
    """Rows per `by` value, one column per status (in severity-of-attention order)."""
    if findings.empty:
        return pd.DataFrame(columns=[by, *STATUSES])
    out = pd.crosstab(findings[by], findings["status"]).reindex(columns=STATUSES, fill_value=0)
    return out.reset_index()


def bar_chart(findings: pd.DataFrame, by: str = "domain") -> str:
    """An inline SVG stacked bar per group: renders the same in HTML and PDF, no plotting library needed."""
    c = counts(findings, by)
    if c.empty:
        return "<p>No findings.</p>"
    width, bar_h, gap, label_w = 640, 22, 8, 140
    total_max = max(int(c[STATUSES].sum(axis=1).max()), 1)
    parts = []
    for i, row in enumerate(c.itertuples(index=False)):
        y = i * (bar_h + gap)
        parts.append(f'<text x="0" y="{y + 15}" font-size="12" font-family="sans-serif">{esc(getattr(row, by))}</text>')
        x = label_w
        for s in STATUSES:
            n = int(getattr(row, s))
            if not n:
                continue
            w = (width - label_w - 40) * n / total_max
            bg, fg = STATUS_STYLE[s]
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{bg}" stroke="#333">'
                         f'<title>{esc(s)}: {n}</title></rect>')
            if w > 18:
                parts.append(f'<text x="{x + 3:.1f}" y="{y + 15}" font-size="11" font-family="sans-serif" fill="{fg}">{n}</text>')
            x += w
    height = len(c) * (bar_h + gap)
    legend = " ".join(status_badge(s) for s in STATUSES)
    return (f'<svg role="img" aria-label="findings by {esc(by)} and status" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg><div>{legend}</div>')


def status_bar(row: dict, most: int, width: int = 180) -> str:
    """One row's statuses as a small stacked bar (inline SVG, scaled to `most` findings), with its counts in
    the tooltip and for screen readers."""
    parts, x, said = [], 0.0, []
    for s in STATUSES:
        n = int(row.get(s, 0) or 0)
        if not n:
            continue
        w = width * n / max(most, 1)
        bg, _ = STATUS_STYLE[s]
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="12" fill="{bg}" stroke="#333" '
                     f'stroke-width="0.5"><title>{esc(s)}: {n}</title></rect>')
        said.append(f"{s} {n}")
        x += w
    label = esc(", ".join(said) or "no findings")
    return (f'<svg role="img" aria-label="{label}" width="{width}" height="12" viewBox="0 0 {width} 12" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')


def counts_table(findings: pd.DataFrame, by: str = "check_id", titles: dict[str, str] | None = None,
                 links: dict[str, Callable[[dict], str]] | None = None) -> str:
    """Counts per `by` value and status with a bar per row: a chart that breaks across PDF pages row by row,
    where one tall chart would leave the page before it half empty."""
    c = counts(findings, by)
    if c.empty:
        return "<p>No findings.</p>"
    if titles is not None:
        c.insert(1, "title", c[by].map(titles))
    most = int(c[STATUSES].sum(axis=1).max())
    c.insert(2 if titles is not None else 1, "results", "")
    legend = '<p class="ek-muted">' + " ".join(status_badge(s) for s in STATUSES) + "</p>"
    return legend + table(c, links=links, markup={"results": lambda r: status_bar(r, most)})


def severity_order(df: pd.DataFrame) -> pd.DataFrame:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return df.assign(_r=df["severity"].map(rank)).sort_values("_r", kind="stable").drop(columns="_r")


def sortable(df: pd.DataFrame, columns: list[str] | None = None, placeholder: str = "filter rows") -> str:
    """A table a reader can sort, filter and search, whatever its size (`table` with `interactive=True`)."""
    return f'<div class="ek-sortable">{table(df, columns, interactive=True, placeholder=placeholder)}</div>'


def _script_hash(js: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(js.encode()).digest()).decode() + "'"


# DataTables' controls in the pack's colours; in print (a reader's Ctrl+P) only the table itself.
TABLE_CSS = """<style>
div.dt-container{margin:6px 0 14px;font:13px system-ui,sans-serif}
div.dt-container .dt-search input{width:22em}
table.dataTable.ek-table>thead>tr>th{background:#263238;color:#fff;padding:4px 6px}
table.dataTable.ek-table>thead>tr>th div.dt-column-header{flex-wrap:wrap;gap:2px}
table.dataTable.ek-table>thead>tr>th .dtcc{flex:0 0 auto}
table.dataTable.ek-table>thead>tr>th .dtcc-button{color:#fff;opacity:.8}
table.dataTable.ek-table>thead>tr>th .dtcc-button svg{stroke:#fff}
table.dataTable.ek-table>tbody>tr>td{padding:4px 6px}
table.dataTable.ek-table th.dt-type-numeric,table.dataTable.ek-table td.dt-type-numeric{text-align:left}
table.dataTable.ek-table th.dt-type-numeric div.dt-column-header{flex-direction:row}
@media print{div.dt-container .dt-layout-row:not(.dt-layout-table){display:none}
 table.dataTable.ek-table .dtcc{display:none}}
</style>"""
_CSS_SAFE = re.compile(r"[A-Za-z0-9 .,:_/@()+=-]")


def css_string(text: str) -> str:
    """A CSS string literal: every character but a few plain ones as a CSS escape (nothing can end the string,
    the rule or the <style> element)."""
    return '"' + "".join(ch if _CSS_SAFE.fullmatch(ch) else f"\\{ord(ch):x} " for ch in text) + '"'


def print_header(header: str) -> str:
    """Page margin boxes for print: `header` at the top of every PDF page, "page X of Y" at the bottom (CSS paged
    media, drawn by Chromium's own printing: no DevTools client needed)."""
    font = 'font:9px/1.2 system-ui,"DejaVu Sans",sans-serif;color:#333'
    return ("<style>@page{@top-left{content:" + css_string(header) + f";{font}}}"
            f'@bottom-right{{content:"page " counter(page) " of " counter(pages);{font}}}}}</style>')


def page(title: str, body: str, current: str = "", subtitle: str = "", root: str = "", header: str = "",
         nav: list[tuple[str, str]] | None = None) -> str:
    """A whole, self-contained HTML document: navigation between the pack's pages, our styles, a strict CSP.

    `body` is markup built through this module (every value in it escaped); `title`/`subtitle`/`header` are
    escaped. The CSP allows no external resource at all, and no script but the DataTables bundle and
    TABLE_SCRIPT, and those only on a page with an interactive table: any other script in a page (one that
    slipped through escaping, say) is blocked by the browser and shows as a console error.
    `root`: the way back to the pack's folder from this page ("" at the top, "../../" two folders down).
    `header`: printed at the top of every PDF page, with "page X of Y" at the bottom.
    `nav`: other (href, label) links than the pack's pages (a fleet's page).
    """
    interactive = 'class="ek-table ek-dt"' in body
    csp, styles, script = CSP, "", ""
    if interactive:
        js, css = datatables_assets()
        csp += f"; script-src {_script_hash(js)} {_script_hash(TABLE_SCRIPT)}"
        styles = f"<style>{css}</style>{TABLE_CSS}"
        script = f'<script type="module">{js}</script><script type="module">{TABLE_SCRIPT}</script>'
    if header:
        styles += print_header(header)
    cur = ' aria-current="page"'
    links = "".join(f'<a href="{esc(root + href)}"{cur if href == current else ""}>{esc(label)}</a>'
                    for href, label in (nav or NAV))
    extra = f'<span class="ek-pack">{esc(subtitle)}</span>' if subtitle else ""
    body = body.replace(CSS, "")  # once in the head is enough
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title>{CSS}{PAGE_CSS}{styles}</head>\n"
            f'<body><nav class="ek-nav">{links}{extra}</nav>\n<main>{body}</main>{script}</body></html>\n')


# ---- lifecycle pages (waivers, diff, trend) -----------------------------------------------------------------

# Line colours for series with no status meaning (domains, clusters): distinguishable, also in print.
SERIES_COLOURS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#ad1457"]


def line_chart(labels: list[str], series: dict[str, list[float | None]], title: str, unit: str = "",
               y_max: float | None = None) -> str:
    """A small inline SVG line chart: one line per series over the x `labels` (None leaves a gap), a legend
    beside it. Like bar_chart, no plotting library and no script, so it prints the same in the PDF."""
    if not labels or not series:
        return "<p>No data.</p>"
    width, height, left, right, top, bottom = 640, 200, 44, 170, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    top_value = y_max if y_max is not None else max(values + [1])
    top_value = top_value or 1

    def x(i: int) -> float:
        return left + (plot_w * i / (len(labels) - 1) if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>']
    for v in sorted({0, round(top_value / 2), round(top_value)}):
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end" '
                     f'font-family="sans-serif">{esc(f"{v:g}{unit}")}</text>')
    step = max(1, len(labels) // 6)  # at most about six x labels, the last always shown
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="middle" '
                         f'font-family="sans-serif">{esc(label)}</text>')
    for n, (name, vs) in enumerate(series.items()):
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        run: list[str] = []
        for i, v in enumerate(list(vs) + [None]):
            if v is not None:
                run.append(f"{x(i):.1f},{y(v):.1f}")
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                             f"<title>{esc(name)} {esc(labels[i])}: {esc(f'{v:g}{unit}')}</title></circle>")
            elif run:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
                run = []
        ly = top + 12 + 16 * n
        parts.append(f'<rect x="{left + plot_w + 12}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + plot_w + 26}" y="{ly}" font-size="11" font-family="sans-serif">'
                     f"{esc(name)}</text>")
    height = max(height, top + 16 * len(series) + 8)
    return (f'<svg role="img" aria-label="{esc(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')


def standalone_page(title: str, body: str, subtitle: str = "") -> str:
    """`page` for a document that lives outside a pack (e.g. `eksaudit diff`'s diff.html): the same styles and
    CSP, without the navigation to pack pages that are not beside it."""
    doc = page(title, body, subtitle=subtitle)
    start = doc.index('<nav class="ek-nav">') + len('<nav class="ek-nav">')
    end = doc.index("</nav>", start)
    kept = f'<span class="ek-pack">{esc(subtitle)}</span>' if subtitle else ""
    return doc[:start] + f"<b style=\"color:#fff\">{esc(title)}</b>{kept}" + doc[end:]

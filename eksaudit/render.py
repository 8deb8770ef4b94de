"""HTML pieces the notebooks display: badges, tables and charts. Every value is escaped: names are untrusted."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Callable

import pandas as pd

from .domains import pages
from .findings import SEVERITIES, STATUSES

STATUS_STYLE = {"FAIL": ("#b00020", "#fff"), "ERROR": ("#6a1b9a", "#fff"), "MANUAL": ("#e65100", "#fff"),
                "WAIVED": ("#546e7a", "#fff"), "NOT_APPLICABLE": ("#e0e0e0", "#222"), "PASS": ("#1b5e20", "#fff")}
SEVERITY_STYLE = {"critical": ("#000", "#fff"), "high": ("#c62828", "#fff"), "medium": ("#f9a825", "#000"),
                  "low": ("#90caf9", "#000"), "info": ("#eeeeee", "#000")}
CSS = """<style>
.ek-table{border-collapse:collapse;font:13px/1.4 system-ui,sans-serif;width:100%;table-layout:auto}
.ek-table th{background:#263238;color:#fff;text-align:left;padding:4px 6px;position:sticky;top:0}
.ek-table td{border-bottom:1px solid #ddd;padding:4px 6px;vertical-align:top;overflow-wrap:anywhere;
 word-break:break-word;max-width:48em}
.ek-table td.ek-k{overflow-wrap:normal;word-break:normal}
.ek-badge{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:600;font-size:12px;
 border:1px solid #333;white-space:nowrap}
.ek-card{border:1px solid #ccc;border-left:6px solid #263238;padding:8px 12px;margin:12px 0;
 font:14px/1.5 system-ui,sans-serif}
.ek-muted{color:#555}
.ek-banner{border:2px solid #b71c1c;background:#ffebee;color:#7f0000;padding:8px 12px;margin:12px 0;
 font:15px/1.5 system-ui,sans-serif}
.ek-table,.ek-badge,.ek-card,.ek-banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@media print{.ek-table th{position:static}.ek-table thead{display:table-header-group}
 .ek-table tr{break-inside:avoid}.ek-table td{max-width:none}.ek-card h3{break-after:avoid}}
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
@media print{body{font-size:11px}main{max-width:none;padding:0}nav.ek-nav{display:none}
 input[type=search]{display:none}
 h2{break-after:avoid}.ek-table{font-size:10px}svg{break-inside:avoid}
 .ek-section+.ek-section{break-before:page}}
</style>"""
NAV = [(page, title) for _, title, page in pages()]
# Short columns wrap only at spaces and hyphens, so ARNs and reasons get the width.
KEY_COLUMNS = {"cluster", "region", "resource_type", "check_id", "domain", "practice", "account_id"}
# base-uri and form-action do not fall back to default-src: without them a planted <base> could redirect the
# pack's relative links, and a planted <form> could send what a reader types anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
# The one script a page may run: sort a table by a header click and filter its rows from the box above it.
# Static (no data in it), so the page's CSP can allow exactly this text by its hash and nothing else.
SORT_SCRIPT = """(function(){document.querySelectorAll('.ek-sortable').forEach(function(box){
var t=box.querySelector('table'),q=box.querySelector('input'),b=t&&t.tBodies[0];if(!b||box.dataset.ekReady)return;
box.dataset.ekReady='1';if(q){q.addEventListener('input',function(){var v=q.value.toLowerCase();
Array.prototype.forEach.call(b.rows,function(r){r.style.display=r.textContent.toLowerCase().indexOf(v)>=0?'':'none';});});}
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.style.cursor='pointer';th.title='sort';
th.addEventListener('click',function(){var asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){var a=x.cells[i].textContent,c=y.cells[i].textContent;
var n=parseFloat(a),m=parseFloat(c);var r=(!isNaN(n)&&!isNaN(m))?n-m:a.localeCompare(c);return asc?r:-r;});
rows.forEach(function(r){b.appendChild(r);});});});});})();"""
_SORT_TAG = f"<script>{SORT_SCRIPT}</script>"


def esc(value: object) -> str:
    """Escape any value for HTML, including control and bidi characters made visible."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch in "\n\t" or (ord(ch) >= 32 and not 0x202A <= ord(ch) <= 0x202E
                                          and not 0x2066 <= ord(ch) <= 0x2069) else f"\\u{ord(ch):04x}"
                   for ch in text)
    return html.escape(text, quote=True)


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


def table(df: pd.DataFrame, columns: list[str] | None = None, max_rows: int | None = None,
          links: dict[str, Callable[[dict], str]] | None = None) -> str:
    """A full-width HTML table; status and severity columns become badges, every other cell is escaped.

    Values are shown whole (ARNs and names are never cut); long ones wrap. `links` maps a column to a function
    of the row giving a pack-relative href (see `link`).
    """
    columns = columns or list(df.columns)
    links = links or {}
    shown = df if max_rows is None else df.head(max_rows)
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for rec in shown.to_dict(orient="records"):
        cells = []
        for col in columns:
            val = rec.get(col)
            if col == "status":
                cells.append(f"<td>{status_badge(str(val))}</td>")
            elif col == "severity":
                cells.append(f"<td>{severity_badge(str(val))}</td>")
            else:
                if isinstance(val, (list, tuple, set)):
                    val = ", ".join(map(str, val))
                cls = ' class="ek-k"' if col in KEY_COLUMNS else ""
                cells.append(f"<td{cls}>{link(links[col](rec), val) if col in links else esc(val)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(df) > max_rows:
        more = f'<p class="ek-muted">{len(df) - max_rows} more rows in findings.csv</p>'
    return f'{CSS}<table class="ek-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{more}'


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


def severity_order(df: pd.DataFrame) -> pd.DataFrame:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return df.assign(_r=df["severity"].map(rank)).sort_values("_r", kind="stable").drop(columns="_r")


def sortable(df: pd.DataFrame, columns: list[str] | None = None, placeholder: str = "filter rows") -> str:
    """A table a reader can sort (click a header) and filter (type in the box); plain table in print and PDF."""
    return (f'<div class="ek-sortable"><input type="search" class="ek-filter" placeholder="{esc(placeholder)}">'
            f"{table(df, columns)}</div>{_SORT_TAG}")


def _script_hash(js: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(js.encode()).digest()).decode() + "'"


def page(title: str, body: str, current: str = "", subtitle: str = "",
         nav: list[tuple[str, str]] | None = None) -> str:
    """A whole, self-contained HTML document: navigation between the pack's pages, our styles, a strict CSP.

    `body` is markup built through this module (every value in it escaped); `title`/`subtitle` are escaped. The
    CSP allows no external resource at all, and no script but SORT_SCRIPT: any other script in a page (one
    that slipped through escaping, say) is blocked by the browser and shows as a console error. `nav`: other
    (href, label) links than the pack's pages (a fleet's page).
    """
    interactive = _SORT_TAG in body
    body = body.replace(_SORT_TAG, "")
    csp = CSP + (f"; script-src {_script_hash(SORT_SCRIPT)}" if interactive else "")
    script = _SORT_TAG if interactive else ""
    cur = ' aria-current="page"'
    links = "".join(f'<a href="{href}"{cur if href == current else ""}>{esc(label)}</a>' for href, label in (nav or NAV))
    extra = f'<span class="ek-pack">{esc(subtitle)}</span>' if subtitle else ""
    body = body.replace(CSS, "")  # once in the head is enough
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title>{CSS}{PAGE_CSS}</head>\n"
            f'<body><nav class="ek-nav">{links}{extra}</nav>\n<main>{body}</main>{script}</body></html>\n')

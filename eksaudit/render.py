"""HTML pieces the notebooks display: badges, tables and charts. Every value is escaped: names are untrusted."""

from __future__ import annotations

import html

import pandas as pd

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
.ek-badge{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:600;font-size:12px;
 border:1px solid #333;white-space:nowrap}
.ek-card{border:1px solid #ccc;border-left:6px solid #263238;padding:8px 12px;margin:12px 0;
 font:14px/1.5 system-ui,sans-serif;break-inside:avoid}
.ek-muted{color:#555}
@media print{.ek-table th{position:static}}
</style>"""


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


def table(df: pd.DataFrame, columns: list[str] | None = None, max_rows: int | None = None) -> str:
    """A full-width HTML table; status and severity columns become badges, every other cell is escaped."""
    columns = columns or list(df.columns)
    shown = df if max_rows is None else df.head(max_rows)
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in shown[columns].itertuples(index=False):
        cells = []
        for col, val in zip(columns, row):
            if col == "status":
                cells.append(f"<td>{status_badge(str(val))}</td>")
            elif col == "severity":
                cells.append(f"<td>{severity_badge(str(val))}</td>")
            else:
                if isinstance(val, (list, tuple, set)):
                    val = ", ".join(map(str, val))
                cells.append(f"<td>{esc(val)}</td>")
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
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{esc(getattr(row, by))}</text>')
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
                parts.append(f'<text x="{x + 3:.1f}" y="{y + 15}" font-size="11" fill="{fg}">{n}</text>')
            x += w
    height = len(c) * (bar_h + gap)
    legend = " ".join(status_badge(s) for s in STATUSES)
    return (f'<svg role="img" aria-label="findings by {esc(by)} and status" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg><div>{legend}</div>')


def severity_order(df: pd.DataFrame) -> pd.DataFrame:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return df.assign(_r=df["severity"].map(rank)).sort_values("_r", kind="stable").drop(columns="_r")

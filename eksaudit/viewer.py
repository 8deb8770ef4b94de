"""Evidence viewer pages: the raw response behind a finding, one click away in the pack, with no server.

A finding's evidence reference is `evidence/<path>[#<object>]`. For every evidence file that a page of the pack
links to, `write_viewers` writes `evidence-view/<digest of path>.html`: the file's manifest entry (input, parameters,
account, region, cluster, time, sha256) and the response pretty-printed, where each object a reference names
carries an id, so the link lands on it (and `:target` highlights it). The pages are static: no script, every
value escaped, the pack's CSP. They are ordinary pack files, so the pack manifest lists and hashes them.

A fragment is what the check wrote after the `#`: an ARN, a name, `namespace/name`, an ID, a digest, a benchmark
test number. It is looked up in the response in this order: a parameter of the read (the whole response is
about it), an identifying field (…Arn, …Name, …Id, digest, number: exactly equal, then as the last segment of
an ARN or path), a Kubernetes object's name or namespace/name, then any field. The object marked is the
list element holding the match (the role, the pod, the image), not the field; of several matches, the one
nearest the top of the response.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from . import render, safe_files
from .evidence import proven_limit

# A response up to this size is shown whole; above it only the objects the pack's pages name (a 50,000-pod
# pods.json would otherwise make a page of hundreds of megabytes).
VIEW_LIMIT = 4 << 20
_ID_KEY = re.compile(r"(?i)(arn|name|id|digest|number|url|uid)$")
_EV_TEXT = re.compile(r'<span class="ek-ev-text">([^<]*)</span>')
VIEWER_CSS = """<style>
pre.ek-json{font:12px/1.45 ui-monospace,"DejaVu Sans Mono",monospace;background:#fafafa;border:1px solid #ddd;
 padding:10px;white-space:pre-wrap;overflow-wrap:anywhere}
.ek-obj:target{background:#fff59d}
.ek-named li{margin:2px 0}
</style>"""


def references(pack: Path, findings: pd.DataFrame | None = None) -> dict[str, set[str]]:
    """Evidence path -> fragments, for every reference in the findings and every evidence link on the pack's
    pages (a view may show references of its own)."""
    refs: dict[str, set[str]] = {}
    texts: list[str] = []
    if findings is not None and "evidence" in findings:
        texts += [str(v) for v in findings["evidence"].dropna()]
    for page in sorted(Path(pack).glob("*.html")):
        texts += [html_lib.unescape(m) for m in _EV_TEXT.findall(page.read_text(encoding="utf-8"))]
    for text in texts:
        parsed = render.evidence_ref(text)
        if parsed:
            path, fragment = parsed
            refs.setdefault(path, set())
            if fragment:
                refs[path].add(fragment)
    return refs


class _Index:
    """Where each fragment lands in one parsed response: built in one walk, so a file named by thousands of
    findings is still read once."""

    def __init__(self, doc: Any):
        self.exact: dict[str, Any] = {}     # identifying field value -> object
        self.suffix: dict[str, Any] = {}    # last segment of an identifying value (ARN, path) -> object
        self.k8s: dict[str, Any] = {}       # name and namespace/name of a Kubernetes object -> object
        self.any: dict[str, Any] = {}       # any string field -> object
        self._walk(doc, None)

    def _walk(self, node: Any, item: Any) -> None:
        queue = deque([(node, item)])
        while queue:
            node, item = queue.popleft()
            if isinstance(node, dict):
                target = item if item is not None else node
                meta = node.get("metadata")
                if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                    name = meta["name"]
                    ns = meta.get("namespace")
                    if isinstance(ns, str) and ns:
                        self.k8s.setdefault(f"{ns}/{name}", node)
                    self.k8s.setdefault(name, node)
                for key, value in node.items():
                    if isinstance(value, str):
                        if _ID_KEY.search(str(key)):
                            self.exact.setdefault(value, target)
                            for sep in ("/", ":"):
                                if sep in value:
                                    self.suffix.setdefault(value.rsplit(sep, 1)[1], target)
                        self.any.setdefault(value, target)
                children = [(v, item) for v in node.values()]
            elif isinstance(node, list):
                children = [(v, v if isinstance(v, dict) else item) for v in node]
            else:
                continue
            queue.extend(children)  # breadth first: the shallowest match wins (a role in the role list, not
            # the same ARN quoted inside another role's instance profile), then the first in document order

    def find(self, fragment: str) -> Any:
        for table in (self.exact, self.k8s, self.suffix, self.any):
            if fragment in table:
                return table[fragment]
        return None


def _scalar(value: Any) -> str:
    return render.esc(json.dumps(value, ensure_ascii=False))


def _pretty(node: Any, marks: dict[int, list[str]], pad: str = "") -> str:
    """JSON as json.dumps(indent=2) prints it, escaped, each marked object wrapped in spans carrying its ids."""
    if isinstance(node, dict) and node:
        inner = pad + "  "
        text = ("{\n" + ",\n".join(f"{inner}{_scalar(str(k))}: {_pretty(v, marks, inner)}" for k, v in node.items())
                + f"\n{pad}}}")
    elif isinstance(node, list) and node:
        inner = pad + "  "
        text = "[\n" + ",\n".join(f"{inner}{_pretty(v, marks, inner)}" for v in node) + f"\n{pad}]"
    else:
        text = _scalar(node)
    for ident in marks.get(id(node), []):
        text = f'<span class="ek-obj" id="{render.esc(ident)}">{text}</span>'
    return text


def _entry_table(entry: dict | None, path: str) -> str:
    if entry is None:
        what = ("the evidence manifest: every read, its parameters, time, sha256 or the cause of its failure"
                if path == "manifest.json" else "no manifest entry names this file")
        return f'<p class="ek-muted">{render.esc(what)}</p>'
    fields = ["input", "params", "account", "region", "cluster", "time", "status", "sha256", "bytes", "error"]
    rows = [(f, json.dumps(entry[f], sort_keys=True) if isinstance(entry.get(f), (dict, list)) else entry.get(f))
            for f in fields if f in entry]
    return render.table(pd.DataFrame(rows, columns=["", "value"]))


def _named(fragments: Iterable[str], found: dict[str, bool]) -> str:
    items = []
    for fragment in sorted(fragments):
        ident = render.anchor(fragment)
        if found.get(fragment):
            items.append(f'<li><a href="#{render.esc(ident)}">{render.esc(fragment)}</a></li>')
        else:
            items.append(f"<li>{render.esc(fragment)} <span class=\"ek-muted\">(not an object of this response: "
                         "the finding refers to the response as a whole)</span></li>")
    if not items:
        return ""
    return f'<h2>Named by findings</h2><ul class="ek-named">{"".join(items)}</ul>'


def _text_view(text: str, fragments: set[str]) -> tuple[str, dict[str, bool]]:
    """A file that is not JSON (an attached log): its lines, the first line naming each fragment marked."""
    lines = text.splitlines()
    marks: dict[int, list[str]] = {}
    found = {}
    for fragment in fragments:
        pattern = re.compile(r"(?<![\w.])" + re.escape(fragment) + r"(?![\w.])")
        hit = next((i for i, line in enumerate(lines) if pattern.search(line)), None)
        found[fragment] = hit is not None
        if hit is not None:
            marks.setdefault(hit, []).append(render.anchor(fragment))
    out = []
    for i, line in enumerate(lines):
        shown = render.esc(line)
        for ident in marks.get(i, []):
            shown = f'<span class="ek-obj" id="{render.esc(ident)}">{shown}</span>'
        out.append(shown)
    return "\n".join(out), found


def viewer_page(evidence_root: Path, path: str, fragments: set[str], entry: dict | None, subtitle: str = "") -> str:
    """The viewer page of evidence/<path>: its manifest entry, the objects findings name, the response."""
    root = "../"
    raw = f"<code>{render.esc('evidence/' + path)}</code>"
    head = (f"<h1>Evidence: {render.esc(path)}</h1>"
            f'<p class="ek-muted">The response as collected is {raw} in this pack; the evidence manifest records '
            "its sha256 (below) and <code>eksaudit verify</code> checks the pack, this page included.</p>")
    found: dict[str, bool] = {}
    try:
        body = safe_files.read_inside(evidence_root, path, "evidence file", limit=proven_limit(entry))
    except safe_files.Refused as exc:
        view = f'<p class="ek-banner">This file could not be read: {render.esc(str(exc))}</p>'
    else:
        try:
            doc = safe_files.load_json(body, path, "evidence file")
        except safe_files.Refused:
            text, found = _text_view(body.decode("utf-8", errors="replace"), fragments)
            view = f'<pre class="ek-json">{text}</pre>'
        else:
            index = _Index(doc)
            params = {str(v) for v in (entry or {}).get("params", {}).values() if isinstance(v, (str, int))}
            marks: dict[int, list[str]] = {}
            targets = {}
            for fragment in sorted(fragments):
                target = doc if fragment in params else index.find(fragment)
                found[fragment] = target is not None
                if target is not None:
                    marks.setdefault(id(target), []).append(render.anchor(fragment))
                    targets[id(target)] = target
            if len(body) <= VIEW_LIMIT:
                view = f'<pre class="ek-json">{_pretty(doc, marks)}</pre>'
            else:
                parts = "".join(f'<pre class="ek-json">{_pretty(t, marks)}</pre>' for t in targets.values())
                view = (f'<p class="ek-muted">The response is {render.esc(safe_files.size_text(len(body)))}: only '
                        f"the objects the pack names are shown here; {raw} holds all of it.</p>{parts}")
    body_html = (head + "<h2>Manifest entry</h2>" + _entry_table(entry, path) + _named(fragments, found)
                 + "<h2>Response</h2>" + view)
    return render.page(f"Evidence: {path}", VIEWER_CSS + body_html, root=root, subtitle=subtitle)


def write_viewers(pack: Path, findings: pd.DataFrame | None = None, subtitle: str = "") -> list[Path]:
    """One viewer page per evidence file the findings or the pack's pages refer to; returns the pages.

    `pack`: the pack being built, whose evidence this run wrote or checked: a file is read up to the size the
    evidence manifest records for it (`evidence.proven_limit`)."""
    pack = Path(pack)
    evidence_root = pack / "evidence"
    try:
        manifest = safe_files.load_json(safe_files.read_inside(evidence_root, "manifest.json"), "manifest.json",
                                        "evidence manifest")
    except safe_files.Refused:
        manifest = {}
    entries = {e["path"]: e for e in (manifest.get("entries") or []) if isinstance(e, dict) and e.get("path")}
    written = []
    for path, fragments in sorted(references(pack, findings).items()):
        target = pack / render.viewer_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(viewer_page(evidence_root, path, fragments, entries.get(path), subtitle), encoding="utf-8")
        written.append(target)
    return written

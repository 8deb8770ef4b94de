"""Evidence viewer pages: the raw response behind a finding, one click away in the pack, with no server.

A finding's evidence reference is `evidence/<path>[#<object>]`. For every evidence file that a page of the pack
links to, `write_viewers` writes `evidence-view/<digest of path>.html`: the file's manifest entry (input, parameters,
account, region, cluster, time, sha256) and the response as the file has it (its own text, escaped), where each
object a reference names is wrapped in a span carrying an id, so the link lands on it (and `:target` highlights
it). A response over VIEW_LIMIT shows only the objects the pack names; when those come to more than VIEW_LIMIT of
text they go on pages of about that much each (`<digest>-<n>.html`, in the order of the file), the pack's pages
are relinked to the page holding each object, and the first page lists every named object with a link to it (an
id on each entry, so a link that was not relinked still lands one click away). The pages are static: no script,
every value escaped, the pack's CSP. They are ordinary pack files, so the pack manifest lists and hashes them.

A fragment is what the check wrote after the `#`: an ARN, a name, `namespace/name`, an ID, a digest, a benchmark
test number. It is looked up in the response in this order: a parameter of the read (the whole response is about
it); a Kubernetes object of the file (the document itself, then the elements of its top-level lists, in order) by
name or namespace/name; then, breadth first through the response, an identifying field (…Arn, …Name, …Id,
digest, number, exactly equal), a nested Kubernetes object's name, an identifying field's last segment (of an ARN
or path), any field. The object marked is the list element holding the match (the role, the pod, the image), not
the field; of several matches, the one nearest the top of the response.

Cost (issue #16): a response of 25,000 pods is never held whole. Only its top level is kept; each element of a
top-level list is parsed by the C scanner, its Kubernetes name noted and the object dropped, its place in the text
kept. The breadth-first lookup, needed only for what names did not find, walks the elements whose text holds the
fragment's last segment (every element when the text has escapes that could hide it). An object is shown as its
slice of the file's text, escaped in one pass: no per-value formatting. A file whose text is not laid out in
lines (one long line) is shown re-indented instead.
"""

from __future__ import annotations

import bisect
import html as html_lib
import json
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from json.decoder import scanstring
from pathlib import Path
from typing import Any

import pandas as pd

from . import render, safe_files
from .cycles import collector_paused
from .evidence import proven_limit

# A response up to this size is shown whole; above it only the objects the pack's pages name, on pages of about
# this much text each (a 25,000-pod pods.json would otherwise make a page of hundreds of megabytes).
VIEW_LIMIT = 4 << 20
_ID_KEY = re.compile(r"(?i)(arn|name|id|digest|number|url|uid)$")
_EV_TEXT = re.compile(r'<span class="ek-ev-text">([^<]*)</span>')
# An evidence link as render.evidence_link writes it: (way up to the pack, viewer page without .html, anchor).
_VIEW_HREF = re.compile(r'href="((?:\.\./)*)(' + re.escape(render.VIEWER_DIR) + r'/[0-9a-f]{20})\.html#(o-[0-9a-f]{16})"')
_WS = re.compile(r"[ \t\n\r]*")
_scan = json.JSONDecoder().scan_once  # the C scanner json.loads uses: (value, end) of the value at an index
VIEWER_CSS = """<style>
pre.ek-json{font:12px/1.45 ui-monospace,"DejaVu Sans Mono",monospace;background:#fafafa;border:1px solid #ddd;
 padding:10px;white-space:pre-wrap;overflow-wrap:anywhere}
.ek-obj:target,.ek-named li:target{background:#fff59d}
.ek-named li{margin:2px 0}
</style>"""

Span = tuple[int, int]  # where a value is in the response's text: [start, end)


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


# ---- finding the named objects in a JSON response -------------------------------------------------------------


class _NotRead(Exception):
    """This reader does not take the text (not JSON, too deep, a repeated top-level key...): load_json decides."""


class _Doc:
    """A JSON response as text, its top level parsed and each element of a top-level list (a "slot") located."""

    def __init__(self, text: str):
        self.text = text
        self.slots: list[Span] = []
        self.lists: dict[str | None, range] = {}  # top-level list (its key; None for a list document) -> its slots
        self.names: dict[str, int] = {}           # Kubernetes name, namespace/name -> slot (-1: the document)
        self.head: Any = None                      # the document with its top-level lists left empty
        self.span: Span = (0, 0)
        try:
            self._parse()
        except (StopIteration, ValueError, IndexError, RecursionError):  # JSONDecodeError is a ValueError
            raise _NotRead from None

    # -- reading

    def _parse(self) -> None:
        text, ws = self.text, _WS.match
        start = i = ws(text, 0).end()
        if text.startswith("{", i):
            head: dict[str, Any] = {}
            i = ws(text, i + 1).end()
            while not text.startswith("}", i):
                if not text.startswith('"', i):
                    raise _NotRead
                key, i = scanstring(text, i + 1, True)
                i = ws(text, i).end()
                if not text.startswith(":", i) or key in head:  # json keeps a repeated key's last value: left to it
                    raise _NotRead
                i = ws(text, i + 1).end()
                head[key], i = self._list(key, i, 2) if text.startswith("[", i) else self._value(i, 2)
                i = self._next_member(i, "}")
            i += 1
            self.head = head
        elif text.startswith("[", i):
            self.head, i = self._list(None, i, 1)
        else:
            self.head, i = self._value(i, 1)
        if ws(text, i).end() != len(text):
            raise _NotRead
        self.span = (start, i)
        meta = self.head.get("metadata") if type(self.head) is dict else None
        for key in _k8s_names(meta):
            self.names[key] = -1  # the document itself comes first

    def _value(self, i: int, depth: int) -> tuple[Any, int]:
        """The value at `i`, `depth` levels down, held to load_json's depth limit: a value with no more opening
        brackets than levels left cannot nest deeper (counting is cheaper than walking it)."""
        text = self.text
        value, end = _scan(text, i)
        if type(value) is dict or type(value) is list:
            left = safe_files.MAX_DEPTH - depth + 1
            if text.count("{", i, end) + text.count("[", i, end) > left and safe_files.too_deep(value, left):
                raise _NotRead
        return value, end

    def _list(self, key: str | None, i: int, depth: int) -> tuple[list, int]:
        """Locate the elements of a top-level list, noting their Kubernetes names; keep none of them."""
        text, ws, slots = self.text, _WS.match, self.slots
        first = len(slots)
        i = ws(text, i + 1).end()
        while not text.startswith("]", i):
            value, end = self._value(i, depth + 1)
            if type(value) is dict:
                for name in _k8s_names(value.get("metadata")):
                    self.names.setdefault(name, len(slots))
            slots.append((i, end))
            i = self._next_member(end, "]")
        self.lists[key] = range(first, len(slots))
        return [], i + 1

    def _next_member(self, i: int, closer: str) -> int:
        """After a member of an object or list: past its comma to the next member, or at `closer` (a comma
        before the closer is not JSON)."""
        text, ws = self.text, _WS.match
        i = ws(text, i).end()
        if text.startswith(",", i):
            i = ws(text, i + 1).end()
            if text.startswith(closer, i):
                raise _NotRead
        elif not text.startswith(closer, i):
            raise _NotRead
        return i

    def slot(self, k: int) -> Any:
        return _scan(self.text, self.slots[k][0])[0]

    # -- looking up

    def find(self, fragments: Iterable[str], params: set[str]) -> dict[str, Span]:
        """Fragment -> the span of the object it names, for the fragments found (the order in the module doc)."""
        out: dict[str, Span] = {}
        rest = set()
        for fragment in fragments:
            if fragment in params:
                out[fragment] = self.span
            elif fragment in self.names:
                k = self.names[fragment]
                out[fragment] = self.span if k < 0 else self.slots[k]
            else:
                rest.add(fragment)
        if rest:
            out.update(self._walk(rest))
        return out

    def _candidates(self, wanted: set[str]) -> set[int] | None:
        """The slots whose text holds a wanted fragment's last segment followed by a quote: any string equal to a
        fragment, ending with one (an ARN's last segment), or a Kubernetes name of one, does. None (every slot)
        when the text has escapes (\\u, \\/) that could spell a fragment otherwise, or a fragment cannot be
        searched for."""
        text = self.text
        if "\\u" in text or "\\/" in text:
            return None
        starts = [s for s, _ in self.slots]
        hits: set[int] = set()
        budget = 100_000
        for fragment in wanted:
            tail = fragment.rsplit("/", 1)[-1]
            if not tail or '"' in tail or "\\" in tail or any(c < " " for c in tail):
                return None
            token = tail + '"'
            pos = text.find(token)
            while pos != -1:
                k = bisect.bisect_right(starts, pos) - 1
                if k >= 0 and pos < self.slots[k][1]:
                    hits.add(k)
                    pos = text.find(token, self.slots[k][1])
                else:
                    pos = text.find(token, pos + 1)
                budget -= 1
                if budget < 0:
                    return None
        return hits

    def _walk(self, wanted: set[str]) -> dict[str, Span]:
        """The breadth-first lookup over the top level and the slots that may hold a wanted fragment (the others
        hold none, so leaving them out changes no first match)."""
        candidates = self._candidates(wanted)
        objects: dict[int, Any] = {}  # slot -> its parsed object (containers only: a string element names nothing)
        for k in range(len(self.slots)) if candidates is None else sorted(candidates):
            if self.text[self.slots[k][0]] in "{[":
                objects[k] = self.slot(k)
        slot_of = {id(obj): k for k, obj in objects.items()}
        head = self.head
        if type(head) is dict:
            root: Any = {key: ([objects[k] for k in self.lists[key] if k in objects] if key in self.lists else value)
                         for key, value in head.items()}
        elif type(head) is list:
            root = [objects[k] for k in self.lists[None] if k in objects]
        else:
            root = head
        exact: dict[str, tuple[Any, int]] = {}
        k8s: dict[str, tuple[Any, int]] = {}
        suffix: dict[str, tuple[Any, int]] = {}
        any_field: dict[str, tuple[Any, int]] = {}
        identifying: dict[str, bool] = {}
        queue = deque([(root, None, -1)])  # (node, the list element holding it, its slot or -1)
        while queue:
            node, item, top = queue.popleft()
            if type(node) is dict:
                target = (item if item is not None else node, top)
                for name in _k8s_names(node.get("metadata")):
                    if name in wanted:
                        k8s.setdefault(name, (node, top))
                for key, value in node.items():
                    kind = type(value)
                    if kind is str:
                        ident = identifying.get(key)
                        if ident is None:
                            ident = identifying[key] = bool(_ID_KEY.search(key))
                        if value in wanted:
                            any_field.setdefault(value, target)
                            if ident:
                                exact.setdefault(value, target)
                        if ident:
                            for sep in ("/", ":"):
                                if sep in value:
                                    last = value.rsplit(sep, 1)[1]
                                    if last in wanted:
                                        suffix.setdefault(last, target)
                    elif kind is dict or kind is list:
                        queue.append((value, item, top))
            elif type(node) is list:
                for value in node:
                    if type(value) is dict:
                        queue.append((value, value, slot_of.get(id(value), top)))
                    elif type(value) is list:
                        queue.append((value, item, slot_of.get(id(value), top)))
            # breadth first: the shallowest match wins (a role in the role list, not the same ARN quoted inside
            # another role's instance profile), then the first in the order of the file
        out = {}
        for fragment in wanted:
            for table in (exact, k8s, suffix, any_field):
                if fragment in table:
                    node, top = table[fragment]
                    out[fragment] = self._span_of(node, top, root, objects)
                    break
        return out

    def _span_of(self, node: Any, top: int, root: Any, objects: dict[int, Any]) -> Span:
        if node is root:
            return self.span
        if top >= 0 and node is objects.get(top):
            return self.slots[top]
        within = objects[top] if top >= 0 else root
        start = self.slots[top][0] if top >= 0 else self.span[0]
        return _descend(self.text, start, _path_to(within, node, skip=self.lists if top < 0 else {}))


def _k8s_names(meta: Any) -> list[str]:
    """The names a Kubernetes object's metadata gives it: namespace/name (when namespaced), then name."""
    if type(meta) is not dict or type(meta.get("name")) is not str:
        return []
    name, ns = meta["name"], meta.get("namespace")
    return [f"{ns}/{name}", name] if type(ns) is str and ns else [name]


def _path_to(within: Any, node: Any, skip: dict) -> tuple:
    """Keys and indexes from `within` down to `node` (by identity); `skip`: top-level keys not to enter."""
    stack: list[tuple[Any, tuple]] = [(within, ())]
    while stack:
        obj, path = stack.pop()
        if obj is node:
            return path
        if type(obj) is dict:
            stack += [(v, path + (k,)) for k, v in obj.items()
                      if (type(v) is dict or type(v) is list) and not (not path and k in skip)]
        elif type(obj) is list:
            stack += [(v, path + (i,)) for i, v in enumerate(obj) if type(v) is dict or type(v) is list]
    raise LookupError("not found")  # pragma: no cover - the walk found it there


def _descend(text: str, i: int, path: tuple) -> Span:
    """The span of the value reached from the value at `i` by `path`, skipping siblings with the C scanner."""
    ws = _WS.match
    for step in path:
        i = ws(text, ws(text, i).end() + 1).end()  # past the bracket
        if type(step) is int:
            for _ in range(step):
                i = ws(text, ws(text, _scan(text, i)[1]).end() + 1).end()  # past the element and its comma
        else:
            found = i
            while not text.startswith("}", i):
                key, i = scanstring(text, i + 1, True)
                i = ws(text, ws(text, i).end() + 1).end()  # past the colon
                if key == step:
                    found = i  # json keeps the last of repeated keys: so does this
                i = ws(text, _scan(text, i)[1]).end()
                if text.startswith(",", i):
                    i = ws(text, i + 1).end()
            i = found
    i = ws(text, i).end()
    return i, _scan(text, i)[1]


def _in_lines(text: str) -> bool:
    """Whether a response's own text is fit to show: laid out in lines (the evidence store indents), no \\r."""
    sample = text[:100_000]
    return "\r" not in text and (len(sample) < 2000 or sample.count("\n") * 400 >= len(sample))


# ---- rendering -------------------------------------------------------------------------------------------------


def _opening(idents: list[str]) -> str:
    return "".join(f'<span class="ek-obj" id="{render.esc(i)}">' for i in idents)


def _marked(text: str, marks: dict[Span, list[str]], quote: bool) -> str:
    """The text escaped, each marked span wrapped in spans carrying its ids (spans nest or are apart)."""
    events = [(s, 1, -e, _opening(ids)) for (s, e), ids in marks.items()]
    events += [(e, 0, -s, "</span>" * len(ids)) for (s, e), ids in marks.items()]
    out, at = [], 0
    for pos, _, _, tag in sorted(events):
        out += [render.esc(text[at:pos], quote), tag]
        at = pos
    out.append(render.esc(text[at:], quote))
    return "".join(out)


@dataclass
class _Piece:
    """One shown object (or line): the fragments naming it, its escaped markup (carrying their ids)."""
    fragments: list[str]
    html: str


def _piece(text: str, fragments: list[str], quote: bool, raw: str) -> _Piece:
    idents = [render.anchor(f) for f in fragments]
    cut = len(text) > VIEW_LIMIT
    body = _opening(idents) + render.esc(text[:VIEW_LIMIT], quote) + "</span>" * len(idents)
    if cut:
        body += (f'\n<span class="ek-muted">(cut at {render.esc(safe_files.size_text(VIEW_LIMIT))}: {raw} holds '
                 "the whole of it)</span>")
    return _Piece(fragments, f'<pre class="ek-json">{body}</pre>')


def _by_span(spans: dict[str, Span]) -> dict[Span, list[str]]:
    """Span -> the fragments naming it (several fragments may name one object)."""
    out: dict[Span, list[str]] = {}
    for fragment, span in sorted(spans.items()):
        out.setdefault(span, []).append(fragment)
    return out


def _ids(marks: dict[Span, list[str]]) -> dict[Span, list[str]]:
    return {span: [render.anchor(f) for f in fragments] for span, fragments in marks.items()}


def _pieces(text: str, spans: dict[str, Span], raw: str, quote: bool, in_lines: bool = True) -> list[_Piece]:
    """The named objects (or lines) of a large file, one piece each, in the order of the file."""
    pieces = []
    for (s, e), fragments in sorted(_by_span(spans).items()):
        if in_lines:
            indent = text[text.rfind("\n", 0, s) + 1:s]  # the object's first line as indented as the rest
            shown = ("" if indent.strip() else indent) + text[s:e]
        else:
            shown = json.dumps(json.loads(text[s:e]), indent=1, ensure_ascii=False)
        pieces.append(_piece(shown, fragments, quote, raw))
    return pieces


def _text_spans(text: str, fragments: Iterable[str]) -> dict[str, Span]:
    """A file that is not JSON (an attached log): the first line naming each fragment."""
    out = {}
    for fragment in fragments:
        m = None if "\n" in fragment else re.search(r"(?<![\w.])" + re.escape(fragment) + r"(?![\w.])", text)
        if m:
            end = text.find("\n", m.end())
            out[fragment] = (text.rfind("\n", 0, m.start()) + 1, len(text) if end < 0 else end)
    return out


# ---- pages -----------------------------------------------------------------------------------------------------


@dataclass
class _View:
    """What a response's pages show: the whole response (markup) or the named objects' pieces, and where each
    fragment was found."""
    found: dict[str, Span]
    whole: str | None = None
    pieces: list[_Piece] | None = None
    note: str = ""


def _only_named(size: str, raw: str) -> str:
    return (f'<p class="ek-muted">The response is {size}: only the objects the pack names are shown here; {raw} '
            "holds all of it.</p>")


def _load(evidence_root: Path, path: str, fragments: set[str], entry: dict | None) -> tuple[int, _Doc | str | None]:
    """(size, the response): a _Doc, text when it is not JSON (an attached log), None when it is too large to
    show and names nothing. Refused when it cannot be read (read up to the size its manifest entry records)."""
    body = safe_files.read_inside(evidence_root, path, "evidence file", limit=proven_limit(entry))
    size = len(body)
    if size > VIEW_LIMIT and not fragments:
        return size, None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        body = b""  # the text is all that is needed now: a large response is not held twice
        try:
            return size, _Doc(text)
        except _NotRead:
            body = text.encode()
    try:
        parsed = safe_files.load_json(body, path, "evidence file")
    except safe_files.Refused:
        return size, body.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return size, _Doc(json.dumps(parsed, indent=1, ensure_ascii=False))  # JSON read another way: re-indented


def _view(evidence_root: Path, path: str, fragments: set[str], entry: dict | None, raw: str) -> _View:
    try:
        size, doc = _load(evidence_root, path, fragments, entry)
    except safe_files.Refused as exc:
        return _View({}, note=f'<p class="ek-banner">This file could not be read: {render.esc(str(exc))}</p>')
    large = size > VIEW_LIMIT
    shown = render.esc(safe_files.size_text(size))
    if doc is None:
        return _View({}, pieces=[], note=f'<p class="ek-muted">The response is {shown}, too large to show here; '
                                          f"{raw} holds all of it.</p>")
    if isinstance(doc, str):
        spans = _text_spans(doc, fragments)
        if large:
            return _View(spans, pieces=_pieces(doc, spans, raw, quote=True), note=_only_named(shown, raw))
        return _View(spans, whole=_marked(doc, _ids(_by_span(spans)), quote=True))
    if not large and not _in_lines(doc.text):
        doc = _Doc(json.dumps(json.loads(doc.text), indent=1, ensure_ascii=False))
    params = {str(v) for v in (entry or {}).get("params", {}).values() if isinstance(v, (str, int))}
    spans = doc.find(fragments, params)
    if large:
        return _View(spans, pieces=_pieces(doc.text, spans, raw, False, _in_lines(doc.text)),
                     note=_only_named(shown, raw))
    # Quotes stay as they are: the text is JSON, where a quote only ever opens or closes a string, so no markup
    # the page looks for (render.page's table marker) can appear in it.
    return _View(spans, whole=_marked(doc.text, _ids(_by_span(spans)), quote=False))


def _entry_table(entry: dict | None, path: str) -> str:
    if entry is None:
        what = ("the evidence manifest: every read, its parameters, time, sha256 or the cause of its failure"
                if path == "manifest.json" else "no manifest entry names this file")
        return f'<p class="ek-muted">{render.esc(what)}</p>'
    fields = ["input", "params", "account", "region", "cluster", "time", "status", "sha256", "bytes", "error"]
    rows = "".join(
        f'<tr><td class="ek-w">{render.esc(f)}</td><td>'
        f"{render.esc(json.dumps(entry[f], sort_keys=True) if isinstance(entry[f], (dict, list)) else entry[f])}</td></tr>"
        for f in fields if f in entry)
    # render.table's label/value table, written out: a DataFrame per page cost more than the page itself
    return f'<table class="ek-table"><thead><tr><th></th><th>value</th></tr></thead><tbody>{rows}</tbody></table>'


def _named(fragments: Iterable[str], found: dict[str, Span], where: dict[str, str] | None = None) -> str:
    """The list of named objects, each linking to its object (on the page `where` says, with an id on the entry
    itself); a fragment that is no object of the response is said to be about the whole of it."""
    items = []
    for fragment in sorted(fragments):
        ident = render.anchor(fragment)
        if fragment in found:
            href = (where[ident].rsplit("/", 1)[-1] if where else "") + "#" + ident
            own = f' id="{render.esc(ident)}"' if where else ""
            items.append(f'<li{own}><a href="{render.esc(href)}">{render.esc(fragment)}</a></li>')
        else:
            items.append(f"<li>{render.esc(fragment)} <span class=\"ek-muted\">(not an object of this response: "
                         "the finding refers to the response as a whole)</span></li>")
    if not items:
        return ""
    return f'<h2>Named by findings</h2><ul class="ek-named">{"".join(items)}</ul>'


def _part_path(path: str, number: int) -> str:
    return render.viewer_path(path).removesuffix(".html") + f"-{number}.html"


def _paged(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Pieces on pages of about VIEW_LIMIT of markup each; an object is never split."""
    pages: list[list[_Piece]] = [[]]
    size = 0
    for piece in pieces:
        if pages[-1] and size + len(piece.html) > VIEW_LIMIT:
            pages.append([])
            size = 0
        pages[-1].append(piece)
        size += len(piece.html)
    return pages


def viewer_pages(evidence_root: Path, path: str, fragments: set[str], entry: dict | None,
                 subtitle: str = "") -> tuple[dict[str, str], dict[str, str]]:
    """The viewer pages of evidence/<path> (pack-relative path -> HTML): its manifest entry, the objects findings
    name, the response; and, for named objects on pages of their own, anchor -> the page holding the object."""
    raw = f"<code>{render.esc('evidence/' + path)}</code>"
    main = render.viewer_path(path)
    head = (f"<h1>Evidence: {render.esc(path)}</h1>"
            f'<p class="ek-muted">The response as collected is {raw} in this pack; the evidence manifest records '
            "its sha256 (below) and <code>eksaudit verify</code> checks the pack, this page included.</p>")
    entry_html = "<h2>Manifest entry</h2>" + _entry_table(entry, path)
    view = _view(evidence_root, path, fragments, entry, raw)

    def page(body: str) -> str:
        return render.page(f"Evidence: {path}", VIEWER_CSS + head + entry_html + body, root="../", subtitle=subtitle)

    pages = _paged(view.pieces or [])
    if len(pages) == 1:
        if view.whole is not None:
            shown = f'<pre class="ek-json">{view.whole}</pre>'
        else:
            shown = "".join(p.html for p in pages[0])
        return {main: page(_named(fragments, view.found) + "<h2>Response</h2>" + view.note + shown)}, {}
    names = [_part_path(path, n) for n in range(1, len(pages) + 1)]
    where = {}
    files = {}
    for name, part in zip(names, pages):
        named = [f for p in part for f in p.fragments]
        where.update({render.anchor(f): name for f in named})
        files[name] = page(
            f'<p>Page {len(files) + 1} of {len(pages)} of the objects the pack names in this response; '
            f'<a href="{render.esc(Path(main).name)}">the response\'s page</a> lists them all.</p>'
            + _named(named, view.found) + "<h2>Response</h2>" + "".join(p.html for p in part))
    parts = " ".join(f'<a href="{render.esc(Path(name).name)}">{n}</a>' for n, name in enumerate(names, 1))
    files[main] = page(_named(fragments, view.found, where) + "<h2>Response</h2>" + view.note
                       + f"<p>The {len(view.pieces or [])} objects it names are on {len(pages)} pages: {parts}.</p>")
    return files, where


def _relink(pack: Path, moved: dict[tuple[str, str], str]) -> None:
    """Point the pack's pages at the page holding each object of a response shown on several pages."""
    if not moved:
        return

    def relinked(m: re.Match) -> str:
        part = moved.get((m[2], m[3]))
        return f'href="{m[1]}{part}#{m[3]}"' if part else m[0]

    for page in sorted(pack.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        new = _VIEW_HREF.sub(relinked, text)
        if new != text:
            page.write_text(new, encoding="utf-8")


def write_viewers(pack: Path, findings: pd.DataFrame | None = None, subtitle: str = "") -> list[Path]:
    """One viewer page (or a few, for a large response) per evidence file the findings or the pack's pages refer
    to; the pack's pages are relinked to the page holding each object. Returns the pages written.

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
    moved: dict[tuple[str, str], str] = {}
    with collector_paused():  # see eksaudit.cycles
        for path, fragments in sorted(references(pack, findings).items()):
            files, where = viewer_pages(evidence_root, path, fragments, entries.get(path), subtitle)
            for rel, text in files.items():
                target = pack / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                written.append(target)
            main = render.viewer_path(path).removesuffix(".html")
            moved.update({(main, ident): rel for ident, rel in where.items()})
    _relink(pack, moved)
    return written

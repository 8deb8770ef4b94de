"""The pack as a reader uses it, without a browser: evidence links and their viewer pages, table markup, print
header, and the small defects a new user met (checks --params, make demo ARGS, the README's demo, the set-up
warning, the missing-Kubernetes-source warning). The browser side is in test_browser.py."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from eksaudit import render, viewer
from eksaudit.cli import main
from eksaudit.pack import verify

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["index.html", "iam.html", "network.html", "logging.html", "images.html"]
# What an unrendered widget or table widget leaves in a page: none of it may reach a pack.
PLACEHOLDERS = ["Loading widget", "Loading ITables", "widget-view+json", "Error displaying widget",
                "Loading...", "Showing 1 to", "No data available"]
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_HREF = re.compile(r'href="([^"]*)"')
_ID = re.compile(r'\bid="([^"]*)"')


def _text_outside_scripts(page: str) -> str:
    return _SCRIPT.sub("", page)


# ---- evidence references and links ---------------------------------------------------------------------------


def test_evidence_link_points_at_the_viewer_and_prints_as_a_path():
    ref = "evidence/aws/global/iam/GetAccountAuthorizationDetails.json#arn:aws:iam::1:role/r"
    out = render.evidence_link(ref)
    href = html.unescape(_HREF.search(out).group(1))
    assert href == render.viewer_path("aws/global/iam/GetAccountAuthorizationDetails.json") + "#" + \
        render.anchor("arn:aws:iam::1:role/r")
    assert href.startswith("evidence-view/") and "arn" not in href  # no name inside an attribute
    assert f'<span class="ek-ev-text">{html.escape(ref)}</span>' in out  # what print shows
    assert render.evidence_link("evidence/k8s/c/pods.json").count("#") == 0


@pytest.mark.parametrize("ref", ["evidence/../run.json", "/etc/passwd", "javascript:alert(1)", "evidence/",
                                 "evidence/.hidden/x.json", "x evidence/a.json", "evidence/a b.json",
                                 'evidence/a.json"onclick=1', "https://example.invalid/evidence/a.json", ""])
def test_anything_but_an_evidence_reference_stays_text(ref):
    out = render.evidence_link(ref)
    assert "<a" not in out and out == render.esc(ref)


def test_table_links_the_evidence_column_and_escapes_the_rest():
    df = pd.DataFrame({"status": ["FAIL", "PASS"], "resource_id": ["<b>x</b>", "y"],
                       "evidence": ["evidence/k8s/c/deployments.json#shop/web", "<script>"]})
    out = render.table(df)
    assert out.count('class="ek-ev-link"') == 1 and "&lt;script&gt;" in out and "&lt;b&gt;" in out
    assert 'class="ek-table ek-dt"' in out  # two rows: interactive
    assert 'class="ek-table"' in render.table(df.head(1))  # one row: nothing to sort
    assert 'class="ek-table"' in render.table(pd.DataFrame({"": ["a", "b"], "value": ["1", "2"]}))  # label/value


def test_short_words_never_break_long_tokens_may():
    """The image inventory's tag column showed "late st": a cell of short words keeps them whole."""
    df = pd.DataFrame({"tag": ["latest", "sha256:" + "ab" * 32], "reason": ["a short reason", "x" * 80]})
    cells = re.findall(r"<td([^>]*)>([^<]*)</td>", render.table(df))
    classes = {text: attrs for attrs, text in cells}
    assert 'class="ek-w"' in classes["latest"] and 'class="ek-k"' in classes["a short reason"]
    assert "class" not in classes["sha256:" + "ab" * 32] and "class" not in classes["x" * 80]
    assert ".ek-table td.ek-w{white-space:nowrap}" in render.CSS


def test_status_and_severity_sort_in_attention_order():
    df = pd.DataFrame({"status": ["PASS", "FAIL"], "severity": ["info", "critical"]})
    out = render.table(df)
    assert '<td data-order="5">' in out and '<td data-order="0">' in out


def test_print_header_cannot_break_out_of_its_style():
    header = 'acct "1" </style><script>x()</script>\\ \n'
    css = render.print_header(header)
    assert "</style><script>" not in css and '"1"' not in css and "\n" not in css.split("content:")[1][:200]
    assert css.count("<style>") == 1 and css.count("</style>") == 1
    assert 'counter(page) " of " counter(pages)' in css
    page = render.page("t", "<p>x</p>", header="account 1 · run r")
    assert "@top-left" in page and "script-src" not in page  # no interactive table: no script at all


def test_page_allows_exactly_the_table_scripts_by_hash():
    df = pd.DataFrame({"a": ["1", "2"]})
    page = render.page("t", render.table(df) + "<script>alert(1)</script>")
    csp = re.search(r'Content-Security-Policy" content="([^"]*)"', page).group(1)
    js, _ = render.datatables_assets()
    hashes = re.findall(r"'sha256-[^']+'", csp)
    assert sorted(hashes) == sorted([render._script_hash(js), render._script_hash(render.TABLE_SCRIPT)])
    assert "unsafe-inline" not in csp.split("script-src")[1] and "unsafe-eval" not in csp
    assert page.count('<script type="module">') == 2


# ---- viewer pages --------------------------------------------------------------------------------------------


def _evidence(root: Path, files: dict[str, object], entries: list[dict] | None = None) -> Path:
    ev = root / "evidence"
    ev.mkdir(parents=True, exist_ok=True)
    for path, doc in files.items():
        (ev / path).parent.mkdir(parents=True, exist_ok=True)
        (ev / path).write_text(doc if isinstance(doc, str) else json.dumps(doc))
    listed = entries if entries is not None else [
        {"input": f"test:{p}", "params": {}, "account": "111122223333", "region": "us-east-1", "cluster": "",
         "time": "2026-01-01T00:00:00+00:00", "status": "ok", "path": p, "sha256": "0" * 64} for p in files]
    (ev / "manifest.json").write_text(json.dumps({"entries": listed}))
    return ev


def _marked(page: str) -> dict[str, str]:
    """id -> the text of the object it marks (outermost span with that id)."""
    out = {}
    for m in re.finditer(r'<span class="ek-obj" id="([^"]+)">', page):
        depth, i = 1, m.end()
        while depth:
            nxt_open, nxt_close = page.find("<span", i), page.find("</span>", i)
            if nxt_open != -1 and nxt_open < nxt_close:
                depth, i = depth + 1, nxt_open + 5
            else:
                depth, i = depth - 1, nxt_close + 7
        out[m.group(1)] = html.unescape(re.sub(r"<[^>]+>", "", page[m.end():i - 7]))
    return out


def test_fragments_land_on_the_object_they_name(tmp_path):
    iam = {"RoleDetailList": [
        {"RoleName": "other", "Arn": "arn:aws:iam::1:role/other",
         "InstanceProfileList": [{"Roles": [{"Arn": "arn:aws:iam::1:role/web"}]}]},
        {"RoleName": "web", "Arn": "arn:aws:iam::1:role/web", "Path": "/"}]}
    deploys = {"kind": "List", "items": [
        {"metadata": {"namespace": "shop", "name": "api"}, "spec": {"replicas": 1}},
        {"metadata": {"namespace": "pay", "name": "api"}, "spec": {"replicas": 3}}]}
    images = {"images": [{"imageId": {"imageDigest": "sha256:aa"}, "imageManifest": "m1"},
                         {"imageId": {"imageDigest": "sha256:bb"}, "imageManifest": "m2"}]}
    listeners = {"Listeners": [{"ListenerArn": "arn:aws:elasticloadbalancing:r:1:listener/app/lb/1f/c77b", "Port": 443}]}
    keys = {"AccessKeyMetadata": [{"UserName": "ci", "AccessKeyId": "AKIA1"}]}
    log = "[INFO] 1.1 - something\n[WARN] 4.1 - Ensure a user for the container has been created\n[PASS] 4.10 - x\n"
    ev = _evidence(tmp_path, {"aws/global/iam/GAAD.json": iam, "k8s/c/deployments.json": deploys,
                              "aws/us-east-1/ecr/BatchGetImage.json": images, "aws/r/elbv2/L.json": listeners,
                              "aws/global/iam/ListAccessKeys--ci.json": keys, "files/db/run.log": log})
    entries = json.loads((ev / "manifest.json").read_text())["entries"]
    next(e for e in entries if e["path"].endswith("ListAccessKeys--ci.json"))["params"] = {"UserName": "ci"}
    (ev / "manifest.json").write_text(json.dumps({"entries": entries}))
    cases = {  # reference -> text the marked object must contain (and what it must not)
        "evidence/aws/global/iam/GAAD.json#arn:aws:iam::1:role/web": ('"Path": "/"', "InstanceProfileList"),
        "evidence/aws/global/iam/GAAD.json#web": ('"Path": "/"', "InstanceProfileList"),
        "evidence/k8s/c/deployments.json#pay/api": ('"replicas": 3', '"replicas": 1'),
        "evidence/aws/us-east-1/ecr/BatchGetImage.json#sha256:bb": ('"imageManifest": "m2"', "m1"),
        "evidence/aws/r/elbv2/L.json#c77b": ('"Port": 443', None),
        "evidence/aws/global/iam/ListAccessKeys--ci.json#ci": ('"AccessKeyMetadata"', None),  # the read's param
        "evidence/files/db/run.log#4.1": ("[WARN] 4.1 - Ensure", "4.10"),
    }
    pack = tmp_path
    findings = pd.DataFrame({"evidence": list(cases) + ["evidence/k8s/c/deployments.json#nowhere/none"]})
    written = viewer.write_viewers(pack, findings)
    assert len(written) == 6
    for ref, (must, must_not) in cases.items():
        path, fragment = render.evidence_ref(ref)
        page = (pack / render.viewer_path(path)).read_text()
        marked = _marked(page)
        assert render.anchor(fragment) in marked, ref
        assert must in marked[render.anchor(fragment)], (ref, marked[render.anchor(fragment)][:300])
        if must_not:
            assert must_not not in marked[render.anchor(fragment)], ref
        assert f'href="#{render.anchor(fragment)}"' in page  # the list of named objects links to it
    deploy_page = (pack / render.viewer_path("k8s/c/deployments.json")).read_text()
    assert "nowhere/none" in deploy_page and "not an object of this response" in deploy_page
    assert render.anchor("nowhere/none") not in _marked(deploy_page)
    assert "<script" not in deploy_page and "script-src" not in deploy_page  # a viewer runs nothing


def test_viewer_shows_the_manifest_entry_and_escapes_everything(tmp_path):
    hostile = '<script>alert("x")</script>'
    doc = {"items": [{"metadata": {"name": hostile, "namespace": "n"}, "note": "\u202eevil"}]}
    entry = {"input": "k8s:pods", "params": {"q": hostile}, "account": "111122223333", "region": "eu-west-1",
             "cluster": "prod", "time": "2026-01-02T03:04:05+00:00", "status": "ok", "path": "k8s/prod/pods.json",
             "sha256": "ab" * 32}
    _evidence(tmp_path, {"k8s/prod/pods.json": doc}, [entry])
    viewer.write_viewers(tmp_path, pd.DataFrame({"evidence": [f"evidence/k8s/prod/pods.json#n/{hostile}"]}))
    page = (tmp_path / render.viewer_path("k8s/prod/pods.json")).read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page and "\u202e" not in page
    for value in ("k8s:pods", "111122223333", "eu-west-1", "prod", "2026-01-02T03:04:05+00:00", "ab" * 32):
        assert value in page, value
    assert _ID.findall(page) and all(re.fullmatch(r"o-[0-9a-f]{16}", v) for v in _ID.findall(page))
    assert render.anchor(f"n/{hostile}") in _marked(page)


def test_a_large_response_shows_only_the_named_objects(tmp_path, monkeypatch):
    monkeypatch.setattr(viewer, "VIEW_LIMIT", 200)
    doc = {"items": [{"metadata": {"name": f"pod-{i}", "namespace": "ns"}, "pad": "x" * 50} for i in range(20)]}
    _evidence(tmp_path, {"k8s/c/pods.json": doc})
    viewer.write_viewers(tmp_path, pd.DataFrame({"evidence": ["evidence/k8s/c/pods.json#ns/pod-7"]}))
    page = (tmp_path / render.viewer_path("k8s/c/pods.json")).read_text()
    assert "pod-7" in page and "pod-8" not in page and "only the objects the pack names" in page


def test_unreadable_evidence_gives_a_page_that_says_so(tmp_path):
    _evidence(tmp_path, {})
    viewer.write_viewers(tmp_path, pd.DataFrame({"evidence": ["evidence/aws/gone.json#x"]}))
    page = (tmp_path / render.viewer_path("aws/gone.json")).read_text()
    assert "could not be read" in page


def _stored(doc: object, **kw) -> str:
    """A response as the evidence store writes it (collect/store.py), unless told otherwise."""
    return json.dumps(doc, **{"indent": 1, "sort_keys": True, "ensure_ascii": False, **kw})


def _marks_for(tmp_path: Path, name: str, text: str, refs: list[str]) -> dict[str, str]:
    """Anchor -> marked text over every viewer page of one evidence file."""
    root = tmp_path / name
    _evidence(root, {"r/doc.json": text})
    viewer.write_viewers(root, pd.DataFrame({"evidence": [f"evidence/r/doc.json#{r}" for r in refs]}))
    out = {}
    for page in (root / render.VIEWER_DIR).glob("*.html"):
        out.update(_marked(page.read_text()))
    return out


@pytest.mark.parametrize("layout", ["stored", "one line", "escaped"])
def test_a_large_response_marks_the_same_objects_as_a_small_one(tmp_path, monkeypatch, layout):
    """Above VIEW_LIMIT only the named objects are parsed and shown: each must be the object the whole-response
    lookup marks, by every rule of the lookup, whatever the layout of the file (one line: shown re-indented;
    \\u escapes: no text search, every element walked)."""
    roles = [{"RoleName": f"r{i}", "Arn": f"arn:aws:iam::1:role/r{i}", "Path": "/", "Description": f"role é{i}",
              "InstanceProfileList": [{"Roles": [{"Arn": f"arn:aws:iam::1:role/r{i + 1}"}]}],
              "Containers": [{"name": "c", "image": f"repo/app:{i}"}]} for i in range(30)]
    doc = {"RoleDetailList": roles, "Policies": [{"PolicyName": "p", "Arn": "arn:aws:iam::1:policy/p"}],
           "Marker": "end", "Logging": {"Types": [{"Type": "audit-x", "On": True}]}}
    text = {"stored": _stored(doc), "one line": json.dumps(doc),
            "escaped": _stored(doc, ensure_ascii=True)}[layout]
    refs = ["arn:aws:iam::1:role/r5",   # an identifying field (r4 quotes it deeper: the role itself wins)
            "r7",                        # an identifying field, exactly
            "role/r9",                   # the last segment of an ARN
            "repo/app:3",                # any field: the container, not the role
            "role é12",                  # any field, not ASCII
            "p",                         # an element of another top-level list
            "audit-x",                   # an element of a list nested in a top-level object
            "end",                       # a top-level field: the response as a whole
            "nowhere"]                   # no object
    small = _marks_for(tmp_path, "small", text, refs)
    monkeypatch.setattr(viewer, "VIEW_LIMIT", 1500)
    large = _marks_for(tmp_path, "large", text, refs)
    assert len(text) > 1500 and render.anchor("nowhere") not in small
    assert set(small) == set(large) == {render.anchor(r) for r in refs[:-1]}
    for ref in refs[:-2]:
        a = render.anchor(ref)
        assert json.loads(small[a]) == json.loads(large[a]), ref
    whole = small[render.anchor("end")]  # the response itself: shown cut at VIEW_LIMIT when large
    assert large[render.anchor("end")] == whole[:1500]
    assert json.loads(small[render.anchor("r7")])["RoleName"] == "r7"
    assert json.loads(small[render.anchor("arn:aws:iam::1:role/r5")])["RoleName"] == "r5"
    assert json.loads(small[render.anchor("role/r9")])["RoleName"] == "r9"
    assert json.loads(small[render.anchor("repo/app:3")]) == {"name": "c", "image": "repo/app:3"}
    assert json.loads(small[render.anchor("role é12")])["RoleName"] == "r12"
    assert json.loads(small[render.anchor("p")])["PolicyName"] == "p"
    assert json.loads(small[render.anchor("audit-x")]) == {"Type": "audit-x", "On": True}
    assert json.loads(small[render.anchor("end")])["Marker"] == "end"


def test_a_kubernetes_object_is_found_by_its_name_first(tmp_path):
    """A fragment naming an object of a Kubernetes list marks that object, even where an earlier object quotes
    the same value in an identifying field as near the top (its service account here)."""
    doc = {"items": [{"metadata": {"name": "api", "namespace": "n"}, "spec": {"serviceAccountName": "web"}},
                     {"metadata": {"name": "web", "namespace": "n"}, "spec": {}},
                     {"metadata": {"name": "web"}, "spec": {"cluster": True}}]}
    marks = _marks_for(tmp_path, "k", _stored(doc), ["web", "n/web"])
    assert json.loads(marks[render.anchor("web")]) == doc["items"][1]  # the first object named so
    assert json.loads(marks[render.anchor("n/web")]) == doc["items"][1]


def test_a_response_too_large_for_one_page_is_split_and_the_pack_relinked(tmp_path, monkeypatch):
    """The named objects of a large response go on pages of about VIEW_LIMIT each, in the order of the file;
    the pack's pages link to the page holding each object, and the response's first page lists them all."""
    monkeypatch.setattr(viewer, "VIEW_LIMIT", 3000)
    pods = [{"metadata": {"name": f"pod-{i}", "namespace": "ns"}, "spec": {"pad": "x" * 200}} for i in range(60)]
    _evidence(tmp_path, {"k8s/c/pods.json": _stored({"items": pods, "kind": "List"})})
    refs = [f"evidence/k8s/c/pods.json#ns/pod-{i}" for i in range(0, 60, 2)]
    findings = pd.DataFrame({"check_id": ["K-1"] * len(refs), "evidence": refs})
    (tmp_path / "iam.html").write_text(render.page("iam", render.table(findings)), encoding="utf-8")
    written = viewer.write_viewers(tmp_path, findings)
    main = render.viewer_path("k8s/c/pods.json")
    parts = sorted(p for p in written if p.name != Path(main).name)
    assert len(parts) >= 3 and len(written) == len(parts) + 1
    page = (tmp_path / "iam.html").read_text()
    hrefs = [html.unescape(h) for h in _HREF.findall(page) if h.startswith(render.VIEWER_DIR)]
    assert len(hrefs) == len(refs) and not any(h.startswith(main + "#") for h in hrefs)
    first_page = (tmp_path / main).read_text()
    for ref, href in zip(refs, hrefs):
        fragment = ref.split("#")[1]
        target, _, anchor = href.partition("#")
        assert anchor == render.anchor(fragment)
        shown = json.loads(_marked((tmp_path / target).read_text())[anchor])
        assert shown["metadata"]["name"] == fragment.split("/")[1], ref  # the link lands on its object
        assert f'<li id="{anchor}"><a href="{Path(target).name}#{anchor}">' in first_page  # an old link too
    for part in parts:
        text = part.read_text()
        response = text.split("<h2>Response</h2>", 1)[1]
        assert len(response) < 3000 + 1000  # about VIEW_LIMIT: whole objects, never cut
        assert "pod-1&quot;" not in text and '"pod-1"' not in text  # pods nobody names are not shown
        assert "<script" not in text
    names = [json.loads(t)["metadata"]["name"] for p in parts for t in _marked(p.read_text()).values()]
    assert names == [f"pod-{i}" for i in range(0, 60, 2)]  # in the order of the file


def test_a_large_log_shows_only_the_lines_named(tmp_path, monkeypatch):
    monkeypatch.setattr(viewer, "VIEW_LIMIT", 500)
    log = "".join(f"[PASS] 1.{i} - check number {i} <ok>\n" for i in range(100))
    _evidence(tmp_path, {"files/db/run.log": log})
    viewer.write_viewers(tmp_path, pd.DataFrame({"evidence": ["evidence/files/db/run.log#1.7",
                                                              "evidence/files/db/run.log#1.70"]}))
    page = (tmp_path / render.viewer_path("files/db/run.log")).read_text()
    marked = _marked(page)
    assert marked[render.anchor("1.7")] == "[PASS] 1.7 - check number 7 <ok>"
    assert marked[render.anchor("1.70")] == "[PASS] 1.70 - check number 70 <ok>"
    assert "check number 8 " not in page and "&lt;ok&gt;" in page


def test_json_read_another_way_is_shown_reindented(tmp_path):
    """A response with a byte order mark, or a top-level key given twice (json keeps the last), is not read as
    text: it is parsed whole and shown re-indented, its objects marked."""
    bom = b"\xef\xbb\xbf" + json.dumps({"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}).encode()
    twice = '{"items": [{"metadata": {"name": "old"}}], "items": [{"metadata": {"name": "new"}}]}'
    ev = _evidence(tmp_path, {"k8s/c/twice.json": twice})
    (ev / "k8s/c/bom.json").write_bytes(bom)
    viewer.write_viewers(tmp_path, pd.DataFrame({"evidence": ["evidence/k8s/c/bom.json#b",
                                                              "evidence/k8s/c/twice.json#new",
                                                              "evidence/k8s/c/twice.json#old"]}))
    bom_page = _marked((tmp_path / render.viewer_path("k8s/c/bom.json")).read_text())
    assert json.loads(bom_page[render.anchor("b")]) == {"metadata": {"name": "b"}}
    twice_page = (tmp_path / render.viewer_path("k8s/c/twice.json")).read_text()
    assert json.loads(_marked(twice_page)[render.anchor("new")]) == {"metadata": {"name": "new"}}
    assert render.anchor("old") not in _marked(twice_page)


# ---- the demo pack --------------------------------------------------------------------------------------------


def _pack_pages(pack: Path) -> dict[str, str]:
    pages = {p.name: p.read_text(encoding="utf-8") for p in pack.glob("*.html")}
    pages.update({f"{render.VIEWER_DIR}/{p.name}": p.read_text(encoding="utf-8")
                  for p in (pack / render.VIEWER_DIR).glob("*.html")})
    return pages


def test_every_evidence_link_of_the_pack_lands_on_its_object(demo_pack):
    """No dead link: every href of every page (viewers included) names a pack file, and its fragment an id there."""
    pack, findings = demo_pack
    pages = _pack_pages(pack)
    linked = 0
    for name, text in pages.items():
        base = (pack / name).parent
        for href in map(html.unescape, _HREF.findall(text)):
            target, _, frag = href.partition("#")
            page = (base / target).resolve() if target else (pack / name).resolve()
            assert page.is_file() and page.is_relative_to(pack.resolve()), f"{name}: dead link {href}"
            if frag:
                assert f'id="{frag}"' in page.read_text(encoding="utf-8"), f"{name}: {href} lands nowhere"
            linked += target.startswith(render.VIEWER_DIR)
    assert linked > 100, linked
    refs = [r for r in findings["evidence"] if render.evidence_ref(r)]
    with_fragment = [r for r in refs if "#" in r]
    assert with_fragment, "the demo's findings name objects"
    marks = {name: _marked(text) for name, text in pages.items() if name.startswith(render.VIEWER_DIR + "/")}
    missed = []
    for ref in with_fragment:
        path, fragment = render.evidence_ref(ref)
        main = render.viewer_path(path)
        shown = [m for name, m in marks.items() if name == main or name.startswith(main.removesuffix(".html") + "-")]
        if not any(render.anchor(fragment) in m for m in shown):  # on the response's page, or one of its parts
            missed.append(ref)
    # A fragment that is no object of its response (a bucket named in a GetBucketPolicy read's parameters is
    # one: the whole response is about it) lands on the page; everything the demo names is found.
    assert not missed, missed[:10]


def test_viewer_pages_are_in_the_manifest_and_verified(demo_pack):
    pack, _ = demo_pack
    files = json.loads((pack / "manifest.json").read_text())["files"]
    viewers = [f for f in files if f.startswith(render.VIEWER_DIR + "/")]
    assert viewers and len(viewers) == len(list((pack / render.VIEWER_DIR).glob("*.html")))
    assert verify(pack) == []


def test_pack_html_has_no_widget_placeholder_text(demo_pack):
    pack, _ = demo_pack
    for name, text in _pack_pages(pack).items():
        shown = _text_outside_scripts(text)
        for placeholder in PLACEHOLDERS:
            assert placeholder not in shown, f"{name}: {placeholder!r}"


def test_pages_carry_the_print_header(demo_pack):
    pack, _ = demo_pack
    run = json.loads((pack / "run.json").read_text())
    for name in PAGES:
        text = (pack / name).read_text(encoding="utf-8")
        header = render.print_header(f"EKS security audit · account {run['account']} · run {run['run_id']} · "
                                     f"{run['started'].replace('T', ' ')[:16]} UTC")
        assert header in text, name


# ---- small defects ---------------------------------------------------------------------------------------------


def test_checks_params_lists_every_parameter_described(capsys):
    from eksaudit.checks import default_params
    from eksaudit.params import DESCRIPTIONS, params_frame

    df = params_frame()
    assert set(df["name"]) == set(default_params())
    undescribed = sorted(set(default_params()) - set(DESCRIPTIONS))
    assert not undescribed, f"describe these in eksaudit/params.py: {undescribed}"
    row = df.set_index("name").loc["exclude_namespaces"]
    assert row["type"] == "list" and "NET-06" in row["checks"] and "IMG-06" in row["checks"]
    assert main(["checks", "--params"]) == 0
    out = capsys.readouterr().out
    assert "log_retention_days = 365  (int; LOG-01)" in out and DESCRIPTIONS["log_retention_days"] in out
    assert main(["checks", "--params", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"name", "default", "type", "checks", "description"} <= set(doc[0])


def test_unknown_param_hint_names_a_command_that_works(capsys, tmp_path):
    assert main(["run", "--evidence", str(tmp_path), "--param", "nosuch=1", "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    hint = re.search(r"see `eksaudit ([^`]+)`", err).group(1).split()
    assert main(hint) == 0
    assert "nosuch" not in capsys.readouterr().out


def test_make_demo_passes_args():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "demo", "ARGS=--pdf --param log_retention_days=400",
                          "VENV=/nonexistent-venv"], capture_output=True, text=True, check=True).stdout
    assert "/nonexistent-venv/bin/eksaudit demo --pdf --param log_retention_days=400" in out
    readme = (ROOT / "README.md").read_text()
    assert 'make demo ARGS="--pdf"' in readme


def test_readme_names_the_demo_clusters_as_the_demo_serves_them(demo_pack):
    pack, _ = demo_pack
    run = json.loads((pack / "run.json").read_text())
    audited = {c for names in run["scope"]["audited"].values() for c in names}
    inventory = {c: r for r, names in run["scope"]["inventory"].items() for c in names}
    readme = (ROOT / "README.md").read_text()
    intro = readme[:readme.index("## Auditing a real account")]
    words = {3: "three", 4: "four", 2: "two", 5: "five"}
    assert f"{words[len(inventory)]} clusters" in intro
    assert f"its {words[len(audited)]} clusters" in intro
    for cluster, region in inventory.items():
        assert cluster in intro, cluster
        if cluster not in audited:
            assert region in intro and "inventory" in intro


def test_editable_install_prints_no_build_backend_warning(tmp_path):
    """`make setup` on a fresh clone: `pip install -e .` printed setuptools' multi-line BuildBackendWarning
    ("Editable installation ...") because of how pyproject.toml laid out the package."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "eksaudit", src / "eksaudit", ignore=shutil.ignore_patterns("__pycache__"))
    # A throwaway venv: pip (even with --prefix) uninstalls an installed eksaudit from the environment it runs in.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "--no-deps", "-e", str(src)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and ("No matching distribution" in proc.stderr or "Could not find" in proc.stderr
                                 or "connection" in proc.stderr.lower()):
        pytest.skip("pip cannot reach setuptools for the isolated build: " + proc.stderr.strip()[-200:])
    assert proc.returncode == 0, proc.stderr
    assert "BuildBackendWarning" not in proc.stderr and "Editable install" not in proc.stderr, proc.stderr


def test_no_kubernetes_source_is_said_once_naming_the_clusters(demo_env, tmp_path, capsys):
    target, _, _ = demo_env
    assert main(["collect", "--endpoint-url", target.endpoint_url, "--cluster", "legacy-batch",
                 "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "no Kubernetes source" in ln]
    assert len(lines) == 1, err
    assert lines[0].startswith("eksaudit: warning: ") and "legacy-batch" in lines[0]
    assert "prod-hardened" not in lines[0] and "--k8s-snapshot" in lines[0]


def test_no_warning_when_every_cluster_had_a_kubernetes_source(demo_evidence, tmp_path, capsys):
    from eksaudit.cli import _warn_no_kubernetes

    _warn_no_kubernetes(Path(demo_evidence))
    assert capsys.readouterr().err == ""

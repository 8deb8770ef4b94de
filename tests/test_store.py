"""Evidence files as the store writes them, and read back."""

from __future__ import annotations

import datetime as dt
import json

from eksaudit.collect.store import dumps
from eksaudit.testing import EvidenceBuilder, pod


def test_a_kubernetes_list_is_one_object_per_line(tmp_path):
    """Compact JSON (the C encoder) with sorted keys; each object of a list on its own line, so evidence stays
    greppable and two collections diff object by object."""
    ev = EvidenceBuilder(tmp_path).cluster("c1", k8s={"pods": [pod("web"), pod("api"), pod("db")]}).build()
    entry = next(e for e in ev.entries if e["input"] == "k8s:pods")
    text = (ev.root / entry["path"]).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[:3] == ["{", '"apiVersion":"v1",', '"items":['] and lines[-3:] == ["],", '"kind":"List"', "}"]
    objects = [json.loads(line.rstrip(",")) for line in lines[3:-3]]
    assert [o["metadata"]["name"] for o in objects] == ["api", "db", "web"]
    assert json.loads(text) == ev.load(entry) == {"apiVersion": "v1", "kind": "List", "items": objects}
    manifest = (ev.root / "manifest.json").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith('{"account":') for line in manifest) == len(ev.entries)


def test_dumps_reads_back_as_the_same_document():
    doc = {"b": [1, {"z": "é", "a": None}], "a": {"y": [], "x": "[hash:0123456789ab]"}, "when": dt.date(2026, 1, 2),
           "raw": b"\x00", "empty": [], "n": 1.5}
    body = dumps(doc)
    assert json.loads(body) == json.loads(json.dumps(doc, default=lambda o: o.isoformat() if isinstance(o, dt.date)
                                                     else "[bytes]"))
    assert "é".encode() in body and b" " not in body
    for other in ([1, 2], "text", {}, {1: "a"}):
        assert json.loads(dumps(other)) == json.loads(json.dumps(other))


def test_released_evidence_is_read_again_when_asked(tmp_path):
    ev = EvidenceBuilder(tmp_path).cluster("c1", k8s={"pods": [pod("web")]}).build()
    ev.check_readable()
    before = ev.k8s_items("pods")
    ev.release()
    assert not ev._cache
    assert ev.k8s_items("pods") == before

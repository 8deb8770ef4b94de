"""Parsers of attached result files: good, truncated and broken kube-bench and Docker Bench files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eksaudit.ingest import docker_bench, kube_bench

DATA = Path(__file__).resolve().parents[1] / "eksaudit" / "demo" / "data"


def _kb_control(status: str = "FAIL", **extra) -> dict:
    return {"id": "3", "version": "eks-1.5.0", "text": "Worker Node Security Configuration", "node_type": "node",
            "tests": [{"section": "3.2", "desc": "Kubelet", "results": [
                {"test_number": "3.2.1", "test_desc": "Anonymous auth disabled", "status": status, "scored": True,
                 "remediation": "set it", "actual_value": "true", "expected_result": "false", "reason": "",
                 "AuditEnv": "", "IsMultiple": False}]}], "total_fail": 1, **extra}


def test_kube_bench_sample_files():
    weak = kube_bench.parse((DATA / "kube-bench-legacy-weak.json").read_bytes())
    assert weak.ok and weak.run_at.year == 2025
    assert {r["test_number"] for r in weak.results if r["status"] == "FAIL"} >= {"3.2.1", "3.2.2", "3.2.4"}
    hard = kube_bench.parse((DATA / "kube-bench-prod-hardened.json").read_bytes())
    assert hard.ok and hard.run_at is None and not [r for r in hard.results if r["status"] == "FAIL"]


@pytest.mark.parametrize("doc", [
    {"Controls": [_kb_control()], "Totals": {"total_fail": 1}},  # default output
    [_kb_control()],  # --nototals
])
def test_kube_bench_shapes(doc):
    p = kube_bench.parse(json.dumps(doc).encode())
    assert p.ok and [(r["test_number"], r["status"], r["node_type"]) for r in p.results] == [("3.2.1", "FAIL", "node")]


def test_kube_bench_concatenated_documents_and_timestamp():
    body = (json.dumps({"Controls": [_kb_control()], "timestamp": "2026-03-01T02:00:00Z"}) + "\n"
            + json.dumps({"Controls": [_kb_control("PASS")]})).encode()
    p = kube_bench.parse(body)
    assert p.ok and len(p.results) == 2 and p.run_at.isoformat().startswith("2026-03-01T02:00:00")


@pytest.mark.parametrize("body,why", [
    (b"", "empty"),
    (json.dumps({"Controls": [_kb_control()]}).encode()[:-40], "truncated"),
    (b"kube-bench: command not found\n", "not valid JSON"),
    (json.dumps({"Totals": {}}).encode(), "Controls"),
    (json.dumps([{"id": "1"}]).encode(), "tests"),
    (json.dumps([{"id": "1", "tests": [{"section": "1.1", "results": [{"test_desc": "x"}]}]}]).encode(), "test_number"),
])
def test_kube_bench_malformed_is_an_error_not_a_crash(body, why):
    p = kube_bench.parse(body)
    assert not p.ok and p.error and (why in p.error or why in ("empty", "truncated"))


def test_docker_bench_sample_json_and_log_agree():
    j = docker_bench.parse((DATA / "docker-bench-security.log.json").read_bytes())
    t = docker_bench.parse((DATA / "docker-bench-security.log").read_bytes())
    assert j.ok and t.ok and j.run_at is not None and t.run_at is not None
    warn = lambda p: sorted(r["id"] for r in p.results if r["result"] == "WARN")  # noqa: E731
    assert warn(j) == warn(t) and "4.1" in warn(j)
    assert next(r for r in t.results if r["id"] == "5.4")["items"] == ["buildkitd"]


def test_docker_bench_raw_control_characters_are_accepted():
    body = b'{"dockerbenchsecurity":"1.6.0","start":1700000000,"tests":[{"id":"4","desc":"Images","results":' \
           b'[{"id":"4.1","desc":"user","result":"WARN","details":"root:\tweb\n"}]}],"end":1700000040}'
    p = docker_bench.parse(body)
    assert p.ok and p.results[0]["id"] == "4.1" and "control characters" in p.note


def test_docker_bench_broken_json_falls_back_to_text_log():
    broken = b'{"dockerbenchsecurity":"1.6.0","start":1700000000,"tests":[{"id":"4","results":[{"id":"4.1",' \
             b'"desc":"user","result":"WARN","details":"image "web" runs as root"}]}]}'
    log = b"Initializing 2023-11-14T22:13:20+00:00\n[INFO] 4 - Images\n\x1b[1;31m[WARN] 4.1 - user\x1b[0m\n" \
          b"[WARN]      * Running as root: web\n[PASS] 4.2 - trusted base\n"
    assert not docker_bench.parse(broken).ok
    p = docker_bench.parse(broken, log)
    assert p.ok and "text log" in p.note
    assert [(r["id"], r["result"], r["items"]) for r in p.results] == [("4.1", "WARN", ["Running as root: web"]),
                                                                       ("4.2", "PASS", [])]
    assert p.run_at.year == 2023


@pytest.mark.parametrize("body", [
    b'{"dockerbenchsecurity":"1.6.0","tests":[{"id":"4","results":[{"id":"4.1","res',  # truncated
    b'{"checks": 3}',  # no tests
    b"",  # empty
    b"nothing to see here\n",  # a text file without result lines
])
def test_docker_bench_malformed_is_an_error_not_a_crash(body):
    p = docker_bench.parse(body)
    assert not p.ok and p.error

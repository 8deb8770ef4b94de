"""No secret values in packs: the demo plants them; no file of its pack holds one, in any encoding."""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from eksaudit import least_privilege
from eksaudit.collect import kubernetes as k8s
from eksaudit.collect.redact import REDACTED, is_hash
from eksaudit.collect.steps import plan
from eksaudit.demo.account import PLANTED_SECRETS


def encodings(value: str) -> dict[str, bytes]:
    """The value as written raw, and every base64 alignment of it as it could appear inside a longer string."""
    raw = value.encode()
    out = {"raw": raw}
    for offset in range(3):
        for name, enc in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
            full = enc(b"\0" * offset + raw)
            skip = (offset * 4 + 2) // 3 + (1 if offset else 0)  # chars that depend on the prefix
            core = full.rstrip(b"=")[skip:-2]
            out[f"{name}+{offset}"] = core
    return out


def _unpacked(body: bytes) -> bytes:
    """What gzip+base64 strings inside a text hold (Rancher keeps whole applied objects that way)."""
    out = []
    for m in re.finditer(rb"H4sI[A-Za-z0-9+/=]{16,}", body):
        try:
            out.append(gzip.decompress(base64.b64decode(m.group(0))))
        except (ValueError, OSError, EOFError):
            continue
    return b"\n".join(out)


def pack_texts(pack: Path) -> dict[str, bytes]:
    texts = {}
    for p in sorted(pack.rglob("*")):
        if not p.is_file():
            continue
        body = p.read_bytes()
        texts[p.relative_to(pack).as_posix()] = body
        if unpacked := _unpacked(body):
            texts[p.relative_to(pack).as_posix() + " (gzip+base64 inside)"] = unpacked
        if p.suffix == ".pdf" and shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(p), "-"], capture_output=True, check=True).stdout
            texts[p.relative_to(pack).as_posix() + " (text)"] = text
    return texts


def test_unpacking_finds_what_it_should():
    """Control: a value inside a gzip+base64 blob is found."""
    blob = base64.b64encode(gzip.compress(b'{"token": "' + PLANTED_SECRETS["rancher"].encode() + b'"}'))
    assert PLANTED_SECRETS["rancher"].encode() in _unpacked(b'{"a": "' + blob + b'"}')


def test_encodings_find_what_they_should():
    """Control: the search really finds a planted value embedded in base64 at any alignment."""
    value = PLANTED_SECRETS["k8s_secret"]
    for prefix in ("", "a", "ab", "abc"):
        blob = base64.b64encode((prefix + value + "tail").encode())
        assert any(form in blob for form in encodings(value).values()), prefix


def test_no_planted_secret_in_any_pack_file(demo_pack):
    pack, _ = demo_pack
    texts = pack_texts(pack)
    assert any(n.startswith("evidence/k8s/") for n in texts) and any(n.endswith(".html") for n in texts)
    assert any(n.startswith("notebooks/") for n in texts) and "findings.csv" in texts and "findings.json" in texts
    hits = [(name, label, form) for name, body in texts.items() for label, value in PLANTED_SECRETS.items()
            for form, needle in encodings(value).items() if needle in body]
    assert not hits, f"planted secrets found in the pack: {hits}"


def test_secret_objects_were_read_and_redacted(demo_pack):
    """Not vacuous: the pack does hold the planted Secret, the ConfigMap and the env var, values redacted."""
    pack, _ = demo_pack
    ev = pack / "evidence"
    manifest = json.loads((ev / "manifest.json").read_text())
    ok = {e["input"]: e for e in manifest["entries"] if e["status"] == "ok" and e["cluster"] == "legacy-weak"}
    secrets = json.loads((ev / ok["k8s:secrets"]["path"]).read_text())["items"]
    planted = [s for s in secrets if s["metadata"]["name"] == "db-credentials"]
    assert planted and planted[0]["data"] == {"password": REDACTED}
    maps = json.loads((ev / ok["k8s:configmaps"]["path"]).read_text())["items"]
    web = [m for m in maps if m["metadata"]["name"] == "web-config"]
    assert web and web[0]["data"]["API_TOKEN"] == REDACTED
    deploys = json.loads((ev / ok["k8s:deployments"]["path"]).read_text())["items"]
    envs = [env for d in deploys for c in d["spec"]["template"]["spec"]["containers"] for env in c.get("env") or []]
    db = [env for env in envs if env["name"] == "DB_PASSWORD"]
    assert db and is_hash(db[0]["value"]), db


def test_collector_never_calls_a_secret_value_api():
    ops = {(s.service, s.operation) for s in plan()}
    bad = [op for op in ops if op[1] in least_privilege.NEVER or "SecretValue" in op[1] or "Decrypt" in op[1]]
    assert not bad, bad
    assert all(op[1].startswith(("List", "Describe")) for op in ops if op[0] == "secretsmanager"), ops


@pytest.fixture(scope="module")
def k8s_paths(demo_env, tmp_path_factory):
    """Every Kubernetes path a live collection of the demo clusters requests with what it returned, the raw AWS
    responses, and the evidence folder written."""
    from eksaudit.collect import aws
    from eksaudit.collect.run import collect

    target, source, extra = demo_env
    seen: list[tuple[str, dict]] = []
    raw_aws: list[bytes] = []
    real, real_call = k8s._get, aws.call

    def get(api_client, path, query):
        doc = real(api_client, path, query)
        seen.append((path, json.loads(json.dumps(doc))))
        return doc

    def call(client, operation, params):
        result = real_call(client, operation, params)
        raw_aws.append(json.dumps(result, default=str).encode())
        return result

    mp = pytest.MonkeyPatch()
    mp.setattr(k8s, "_get", get)
    mp.setattr(aws, "call", call)
    try:
        root = collect(target, source, tmp_path_factory.mktemp("k8s-paths"), attachments=extra["attachments"])
    finally:
        mp.undo()
    return seen, root, raw_aws


def test_secrets_are_only_listed_never_read_by_name(k8s_paths):
    seen, _, _ = k8s_paths
    secret_paths = {p for p, _ in seen if "secrets" in p}
    assert secret_paths == {"/api/v1/secrets"}, secret_paths
    collections = {k.path for k in k8s.KINDS}
    assert {p for p, _ in seen} <= collections, "only whole collections are listed, never one object by name"


def test_raw_secret_values_arrive_and_are_dropped(k8s_paths):
    """Control for the redaction: the endpoints do send every planted value (Secrets Manager's secret value
    excepted: it is never requested); the evidence written has none of them."""
    seen, root, raw_aws = k8s_paths
    raw = json.dumps([doc for p, doc in seen if p == "/api/v1/secrets"]).encode()
    assert any(form in raw for form in encodings(PLANTED_SECRETS["k8s_secret"]).values())
    received = json.dumps([doc for _, doc in seen]).encode() + b"\n".join(raw_aws)
    received += _unpacked(received)
    for label, value in PLANTED_SECRETS.items():
        arrived = any(form in received for form in encodings(value).values())
        assert arrived == (label != "secretsmanager"), (label, "reached the collector" if arrived else "never sent")
    for p in Path(root).rglob("*"):
        if p.is_file():
            body = p.read_bytes()
            body += _unpacked(body)
            for value in PLANTED_SECRETS.values():
                assert not any(form in body for form in encodings(value).values()), (p, value)


@pytest.mark.parametrize("obj", [
    {"kind": "Secret", "metadata": {"name": "s"}, "data": "c2VjcmV0LXZhbHVlLTEyMw=="},
    {"kind": "Secret", "metadata": "odd", "stringData": ["secret-value-123"]},
    {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}, "data": [["k", "secret-value-123"]]},
    {"kind": "Pod", "metadata": {}, "spec": {"containers": [{"name": "c", "env": {"A": "secret-value-123"}},
                                                            "not-a-container"]}},
    {"kind": "Deployment", "metadata": {}, "spec": {"template": {"spec": {"containers": [
        {"name": "c", "env": [{"name": "A", "value": "secret-value-123"}, "junk"]}]}}}},
    {"kind": "CronJob", "metadata": {}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "initContainers": [{"name": "c", "env": [{"name": "A", "value": "secret-value-123"}]}]}}}}}},
])
def test_redaction_of_odd_shapes(obj):
    """Objects from clusters and snapshots we do not control: odd shapes are redacted whole, never skipped."""
    from eksaudit.collect.redact import redact_k8s

    out = json.dumps(redact_k8s(obj))
    assert "secret-value-123" not in out and "c2VjcmV0LXZhbHVlLTEyMw" not in out, out


def test_findings_show_no_hashes(demo_pack):
    """Reasons name what a person needs (kept identifiers), never a hash standing for a value."""
    _, findings = demo_pack
    hashed = findings[findings["reason"].str.contains("[hash:", regex=False)
                      | findings["resource_id"].str.contains("[hash:", regex=False)]
    assert hashed.empty, hashed[["check_id", "resource_id", "reason"]].to_string()

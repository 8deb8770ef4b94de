"""NET-01's TLS probe against local TLS servers: one that still accepts TLS 1.0 and one that requires 1.2."""

from __future__ import annotations

import contextlib
import socket
import ssl
import tempfile
import threading
import warnings
from pathlib import Path

import pytest

from eksaudit.collect.probes import collect_probes
from eksaudit.collect.tls import probe_url
from eksaudit.target import AwsTarget, K8sSource
from eksaudit.testing import ACCOUNT, EvidenceBuilder, assert_error, findings_for


def _server_context(minimum: ssl.TLSVersion) -> ssl.SSLContext:
    from eksaudit.demo.k8s_server import _issue_certificates

    _, cert, key = _issue_certificates()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = minimum
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "c.pem").write_bytes(cert)
        Path(tmp, "k.pem").write_bytes(key)
        ctx.load_cert_chain(Path(tmp, "c.pem"), Path(tmp, "k.pem"))
    return ctx


@contextlib.contextmanager
def tls_server(minimum: ssl.TLSVersion):
    """A loopback server that completes TLS handshakes (and nothing else) until the test ends."""
    ctx = _server_context(minimum)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            try:
                with ctx.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}/clusters/x"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _client_can_offer_tls10() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            return True
        except (ValueError, ssl.SSLError):
            return False


@pytest.fixture
def old_server():
    if not _client_can_offer_tls10():
        pytest.skip("the local OpenSSL cannot do TLS 1.0 at all")
    with tls_server(ssl.TLSVersion.TLSv1) as url:
        # Prove the server really completes a TLS 1.0 handshake before relying on it.
        if "TLSv1" not in probe_url(url)["accepted"]:
            pytest.skip("the local OpenSSL refuses TLS 1.0 on both sides")
        yield url


@pytest.fixture
def modern_server():
    with tls_server(ssl.TLSVersion.TLSv1_2) as url:
        yield url


def test_probe_records_tls10_accepted(old_server):
    r = probe_url(old_server)
    assert r["status"] == "ok"
    assert "TLSv1" in r["accepted"] and "TLSv1.2" in r["accepted"]
    attempt = next(a for a in r["attempts"] if a["version"] == "TLSv1")
    assert attempt["result"] == "accepted" and attempt["negotiated"] == "TLSv1"


def test_probe_records_old_versions_rejected(modern_server):
    r = probe_url(modern_server)
    assert r["status"] == "ok"
    assert "TLSv1" not in r["accepted"] and "TLSv1.1" not in r["accepted"]
    assert "TLSv1.2" in r["accepted"]
    results = {a["version"]: a["result"] for a in r["attempts"]}
    if _client_can_offer_tls10():
        assert results["TLSv1"] == results["TLSv1.1"] == "rejected"


def _net01(tmp_path, url: str):
    """Collect the probe the way `eksaudit collect` does, then run NET-01 over the evidence."""
    b = EvidenceBuilder(tmp_path).cluster("c")
    # endpoint_url set: the DescribeCluster endpoint (a fake name) must not be probed, only k8s_host
    collect_probes(AwsTarget(endpoint_url="http://127.0.0.1:9"), K8sSource(mode="kubeconfig"), b.store, ACCOUNT,
                   {"c": {"region": "us-east-1", "endpoint": "https://c.example.invalid", "k8s_host": url}})
    return findings_for("NET-01", b.build())


def test_net01_fails_when_tls10_accepted(tmp_path, old_server):
    f = _net01(tmp_path, old_server)
    assert list(f["status"]) == ["FAIL"]
    assert "accepts TLSv1" in f["reason"].iloc[0] and f["resource_id"].iloc[0] == old_server


def test_net01_passes_when_tls12_required(tmp_path, modern_server):
    f = _net01(tmp_path, modern_server)
    if _client_can_offer_tls10():
        assert list(f["status"]) == ["PASS"], f["reason"].tolist()
        assert "refuses TLSv1 and TLSv1.1" in f["reason"].iloc[0]
    else:  # old versions could not even be offered: never a PASS
        assert len(f) == 1
        assert_error(f, "TLS probe (probe:tls) could not test TLSv1")
    assert f["evidence"].iloc[0].startswith("evidence/probe/c/tls.json")


def test_net01_plain_http_is_not_applicable(tmp_path):
    f = _net01(tmp_path, "http://127.0.0.1:8080")
    assert list(f["status"]) == ["NOT_APPLICABLE"]
    assert "plain HTTP" in f["reason"].iloc[0]


def test_net01_connection_refused_is_error(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    f = _net01(tmp_path, f"https://127.0.0.1:{port}")
    assert len(f) == 1
    assert_error(f, "probe:tls", "could not connect")


def test_no_probe_of_emulator_names(tmp_path):
    """With --endpoint-url, only the Kubernetes client's URL is probed: nothing else is resolved."""
    b = EvidenceBuilder(tmp_path).cluster("c")
    collect_probes(AwsTarget(endpoint_url="http://127.0.0.1:9"), K8sSource(mode="snapshot"), b.store, ACCOUNT,
                   {"c": {"region": "us-east-1", "endpoint": "https://c.example.invalid"}})
    f = findings_for("NET-01", b.build())
    assert list(f["status"]) == ["NOT_APPLICABLE"] and "emulator" in f["reason"].iloc[0]


def test_net01_untested_old_version_is_error_not_pass(tmp_path):
    """When the local library could not even offer TLS 1.0, acceptance is unknown: ERROR, never PASS."""
    b = EvidenceBuilder(tmp_path).cluster("c")
    attempts = [{"version": "TLSv1", "result": "not-tested", "detail": "local TLS library refused"},
                {"version": "TLSv1.1", "result": "rejected"}, {"version": "TLSv1.2", "result": "accepted"},
                {"version": "TLSv1.3", "result": "accepted"}]
    b.store.record(source="probe", service="tls", operation="tls", account=ACCOUNT, region="us-east-1", cluster="c",
                   data={"targets": [{"url": "https://h:443", "status": "ok", "accepted": ["TLSv1.2", "TLSv1.3"],
                                      "attempts": attempts, "role": "kubernetes-client"}], "skipped": ""})
    f = findings_for("NET-01", b.build())
    assert len(f) == 1
    assert_error(f, "TLS probe (probe:tls) could not test TLSv1 (local TLS library refused)")

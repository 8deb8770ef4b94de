"""Which TLS versions an endpoint accepts: one handshake per version, nothing sent after it.

The client context of each attempt is pinned to a single version (minimum = maximum) and lowered to security
level 0 so that the *client* is able to offer old versions; the server alone decides whether it accepts them.
Certificates are not verified: the probe is about protocol versions, and no request is ever sent.
"""

from __future__ import annotations

import socket
import ssl
import warnings
from urllib.parse import urlsplit

# (label as written in evidence, ssl.TLSVersion attribute name)
VERSIONS = [("TLSv1", "TLSv1"), ("TLSv1.1", "TLSv1_1"), ("TLSv1.2", "TLSv1_2"), ("TLSv1.3", "TLSv1_3")]
OLD = ("TLSv1", "TLSv1.1")
# OpenSSL reasons that mean the local library refused to offer the version (not the server's answer)
CLIENT_SIDE = ("NO_PROTOCOLS_AVAILABLE", "no protocols available")


def _context(version_attr: str) -> ssl.SSLContext:
    with warnings.catch_warnings():  # TLSv1/TLSv1_1 are deprecated names; we use them on purpose
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        version = getattr(ssl.TLSVersion, version_attr)
        ctx.minimum_version = version
        ctx.maximum_version = version
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    return ctx


def _attempt(host: str, port: int, label: str, attr: str, timeout: float) -> dict:
    """One handshake: accepted (with the negotiated version), rejected by the server, or not tested."""
    try:
        ctx = _context(attr)
    except (ValueError, ssl.SSLError, AttributeError) as exc:
        return {"version": label, "result": "not-tested", "detail": f"local TLS library cannot offer it: {exc}"}
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return {"version": label, "result": "unreachable", "detail": f"{type(exc).__name__}: {exc}"}
    try:
        with ctx.wrap_socket(sock, server_hostname=None if _is_ip(host) else host) as tls:
            return {"version": label, "result": "accepted", "negotiated": tls.version() or "",
                    "cipher": (tls.cipher() or ("",))[0]}
    except ssl.SSLError as exc:
        text = f"{exc.reason or ''} {exc}"
        if any(marker in text for marker in CLIENT_SIDE) and "alert" not in text.lower():
            return {"version": label, "result": "not-tested", "detail": f"local TLS library refused: {exc.reason}"}
        return {"version": label, "result": "rejected", "detail": str(exc.reason or exc)}
    except (ConnectionError, TimeoutError, OSError) as exc:  # the server closed the handshake: a refusal
        return {"version": label, "result": "rejected", "detail": f"{type(exc).__name__}: {exc}"}
    finally:
        sock.close()


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return True
    except OSError:
        return False


def probe_url(url: str, timeout: float = 5.0) -> dict:
    """Probe one endpoint URL. Returns a JSON-able record:

    url, scheme, host, port, status ("ok" | "not-applicable" | "error"), accepted (versions the server
    completed a handshake with), attempts (one per version), reason (for not-applicable and error).
    """
    parts = urlsplit(url if "://" in url else f"https://{url}")
    record = {"url": url, "scheme": parts.scheme, "host": parts.hostname or "", "port": parts.port or 443,
              "accepted": [], "attempts": []}
    if parts.scheme == "http":
        return {**record, "port": parts.port or 80, "status": "not-applicable",
                "reason": "plain HTTP endpoint (no TLS at all, e.g. a local emulator): there is no TLS version to test"}
    if parts.scheme != "https" or not parts.hostname:
        return {**record, "status": "error", "reason": f"not an https URL: {url}"}
    attempts = [_attempt(record["host"], record["port"], label, attr, timeout) for label, attr in VERSIONS]
    record["attempts"] = attempts
    record["accepted"] = [a["version"] for a in attempts if a["result"] == "accepted"]
    unreachable = [a for a in attempts if a["result"] == "unreachable"]
    if unreachable and not record["accepted"]:
        return {**record, "status": "error", "reason": f"could not connect: {unreachable[0]['detail']}"}
    if not record["accepted"] and not any(a["result"] == "rejected" for a in attempts):
        return {**record, "status": "error", "reason": "no TLS version could be tested"}
    return {**record, "status": "ok"}

"""The evidence folder: raw responses as files, each hashed and described in manifest.json."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import clock

MANIFEST = "manifest.json"


def now() -> str:
    """The time an entry is recorded with (see eksaudit.clock)."""
    return clock.iso()


def _default(o: Any) -> Any:
    if isinstance(o, (dt.datetime, dt.date)):
        return o.isoformat()
    if isinstance(o, bytes):
        return "[bytes]"
    return str(o)


# The C encoder (the standard library uses it only without `indent`): indented output of a large cluster's pods
# took most of a snapshot's collection. Keys sorted, UTF-8 kept, no spaces.
_encode = json.JSONEncoder(sort_keys=True, default=_default, ensure_ascii=False, separators=(",", ":")).encode


def dumps(data: Any) -> bytes:
    """An evidence file's bytes: compact JSON with keys sorted, a top-level object one key per line and each item
    of its lists on a line of its own (a Kubernetes object, a manifest entry), so a file stays greppable and two
    collections diff line by line. The evidence viewer pretty-prints; any JSON reader sees the same document."""
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        return _encode(data).encode()
    lines = []
    for key in sorted(data):
        value = data[key]
        if isinstance(value, list) and value:
            text = "[\n" + ",\n".join(map(_encode, value)) + "\n]"
        else:
            text = _encode(value)
        lines.append(f"{_encode(key)}:{text}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode() if lines else b"{}\n"


def _slug(params: dict) -> str:
    if not params:
        return ""
    text = "_".join(f"{v}" for _, v in sorted(params.items()) if not isinstance(v, (list, dict)))
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60]
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"--{text}-{digest}" if text else f"--{digest}"


class EvidenceStore:
    """Writes evidence files and keeps their manifest entries; safe to use from many threads."""

    def __init__(self, root: Path, redaction_key: bytes | None = None):
        from .redact import Redactor

        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.entries: list[dict] = []
        self._lock = threading.Lock()
        # One hashing key per collection, held in memory only (tests may inject a fixed one).
        self.redactor = Redactor(redaction_key)
        self.on_record: Callable[[dict], None] | None = None  # told of every entry (progress on a terminal)

    def record(
        self,
        *,
        source: str,
        service: str,
        operation: str,
        params: dict | None = None,
        account: str = "",
        region: str = "",
        cluster: str = "",
        data: Any = None,
        error: dict | None = None,
        started: str | None = None,
    ) -> dict:
        params = params or {}
        entry = {
            "input": f"{source}:{service}:{operation}" if source == "aws" else f"{source}:{operation}",
            "source": source,
            "service": service,
            "operation": operation,
            "params": params,
            "account": account,
            "region": region,
            "cluster": cluster,
            "time": started or now(),
            "status": "error" if error else "ok",
        }
        if error:
            entry["error"] = error
        else:
            if source == "aws":
                rel = Path("aws", region or "global", service, operation + _slug(params) + ".json")
            else:
                rel = Path(source, cluster or "_", operation + ".json")
            body = dumps(data)
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            entry.update(path=rel.as_posix(), sha256=hashlib.sha256(body).hexdigest(), bytes=len(body))
        with self._lock:
            self.entries.append(entry)
        if self.on_record is not None:
            self.on_record(entry)
        return entry

    def write_manifest(self, meta: dict, sign_key: bytes | None = None) -> Path:
        """Write manifest.json; with `sign_key`, add an HMAC over it (`run --evidence --sign-key` checks it)."""
        entries = sorted(self.entries, key=lambda e: (e["input"], e["region"], e["cluster"], e.get("path", "")))
        doc = {**meta, "entries": entries}
        if sign_key:
            from ..pack import sign

            doc = json.loads(dumps(doc))  # sign exactly what a reader will parse
            doc["hmac_sha256"] = sign(doc, sign_key)
        path = self.root / MANIFEST
        path.write_bytes(dumps(doc))
        return path

"""The pack's manifest: every file with its sha256 and size, and verification against it."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(pack: Path) -> dict[str, dict]:
    out = {}
    for p in sorted(pack.rglob("*")):
        if p.is_file() and p.relative_to(pack).as_posix() != MANIFEST:
            out[p.relative_to(pack).as_posix()] = {"sha256": _sha256(p), "bytes": p.stat().st_size}
    return out


def write_manifest(pack: Path, run: dict, sign_key: bytes | None = None) -> Path:
    doc = {"run": run, "files": _files(pack)}
    if sign_key:
        doc["hmac_sha256"] = hmac.new(sign_key, json.dumps(doc["files"], sort_keys=True).encode(), "sha256").hexdigest()
    path = pack / MANIFEST
    path.write_text(json.dumps(doc, indent=1, sort_keys=True, default=str))
    return path


def verify(pack: Path, sign_key: bytes | None = None) -> list[str]:
    """Problems found: every added, missing or changed file (empty when the pack is intact)."""
    path = Path(pack) / MANIFEST
    if not path.is_file():
        return [f"no {MANIFEST} in {pack}"]
    doc = json.loads(path.read_text())
    listed, actual = doc.get("files", {}), _files(Path(pack))
    problems = [f"missing: {n}" for n in sorted(set(listed) - set(actual))]
    problems += [f"added: {n}" for n in sorted(set(actual) - set(listed))]
    problems += [f"changed: {n}" for n in sorted(set(listed) & set(actual)) if listed[n]["sha256"] != actual[n]["sha256"]]
    if sign_key:
        want = hmac.new(sign_key, json.dumps(listed, sort_keys=True).encode(), "sha256").hexdigest()
        if not hmac.compare_digest(want, doc.get("hmac_sha256", "")):
            problems.append("signature: manifest HMAC does not match the key")
    return problems

"""The pack's manifest: every file with its sha256 and size, and verification against it.

The manifest also carries a digest of its own content, and is written in one canonical form, so a changed byte in
manifest.json itself is caught too. Anyone can recompute those digests after editing a pack; `--sign-key` adds an
HMAC over the whole manifest that only a holder of the key can recompute.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

MANIFEST = "manifest.json"
SELF_DIGEST = "manifest_sha256"
SIGNATURE = "hmac_sha256"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(pack: Path) -> dict[str, dict]:
    out = {}
    for p in sorted(pack.rglob("*")):
        rel = p.relative_to(pack).as_posix()
        if p.is_file() and rel != MANIFEST:
            out[rel] = {"sha256": _sha256(p), "bytes": p.stat().st_size}
    return out


def _canonical(doc: dict) -> bytes:
    """The bytes a digest or signature covers: the manifest without its digest and signature fields."""
    body = {k: v for k, v in doc.items() if k not in (SELF_DIGEST, SIGNATURE)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def _serialise(doc: dict) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n"


def _sign(doc: dict, key: bytes) -> str:
    return hmac.new(key, _canonical(doc), "sha256").hexdigest()


def write_manifest(pack: Path, run: dict, sign_key: bytes | None = None) -> Path:
    """List every file of the pack (except the manifest) with its sha256 and size, beside the run metadata."""
    pack = Path(pack)
    doc: dict = {"format": "eksaudit-pack/1", "run": json.loads(json.dumps(run, default=str)),
                 "files": _files(pack)}
    doc[SELF_DIGEST] = hashlib.sha256(_canonical(doc)).hexdigest()
    if sign_key:
        doc[SIGNATURE] = _sign(doc, sign_key)
    path = pack / MANIFEST
    path.write_text(_serialise(doc), encoding="utf-8")
    return path


def verify(pack: Path, sign_key: bytes | None = None) -> list[str]:
    """Problems found: every added, missing or changed file (empty when the pack is intact)."""
    pack = Path(pack)
    path = pack / MANIFEST
    if not pack.is_dir():
        return [f"not a folder: {pack}"]
    if not path.is_file():
        return [f"missing: {MANIFEST} (nothing to verify against)"]
    raw = path.read_bytes()
    try:
        doc = json.loads(raw.decode("utf-8"))
        listed = doc["files"]
        if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
            raise ValueError("files is not a mapping of file -> {sha256, bytes}")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return [f"changed: {MANIFEST} (unreadable: {exc})"]
    problems = []
    if (raw.decode("utf-8") != _serialise(doc)
            or doc.get(SELF_DIGEST) != hashlib.sha256(_canonical(doc)).hexdigest()):
        problems.append(f"changed: {MANIFEST} (its content does not match its own digest)")
    actual = _files(pack)
    problems += [f"missing: {n}" for n in sorted(set(listed) - set(actual))]
    problems += [f"added: {n}" for n in sorted(set(actual) - set(listed))]
    problems += [f"changed: {n}" for n in sorted(set(listed) & set(actual))
                 if (listed[n].get("sha256"), listed[n].get("bytes")) != (actual[n]["sha256"], actual[n]["bytes"])]
    if sign_key:
        if SIGNATURE not in doc:
            problems.append(f"signature: {MANIFEST} is not signed")
        elif not hmac.compare_digest(_sign(doc, sign_key), str(doc[SIGNATURE])):
            problems.append(f"signature: {MANIFEST} was not signed with this key, or was changed after signing")
    return problems


def is_signed(pack: Path) -> bool:
    try:
        return SIGNATURE in json.loads((Path(pack) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False

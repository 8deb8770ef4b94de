"""The pack's manifest: every file with its sha256 and size, and verification against it.

The manifest also carries a digest of its own content, and is written in one canonical form, so a changed byte in
manifest.json itself is caught too. Anyone can recompute those digests after editing a pack; `--sign-key` adds an
HMAC over the whole manifest that only a holder of the key can recompute.

A pack handed to `verify` is untrusted: it is walked without following links, only regular files are opened (a
link, pipe or device is itself a problem), and every name is printed escaped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

from .errors import UserError
from .safe_files import file_type, shown

MANIFEST = "manifest.json"
SELF_DIGEST = "manifest_sha256"
SIGNATURE = "hmac_sha256"


def _sha256(path: Path) -> tuple[str, int]:
    """(sha256, size) of a regular file, opened without following a link (it was lstat-ed just before)."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                 | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the walk
            raise OSError(f"{path} is not a regular file")
        size = 0
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _files(pack: Path) -> tuple[dict[str, dict], list[tuple[str, str]]]:
    """Every regular file but the manifest with its sha256 and size; and anything that is not a regular file
    (links to files or folders, pipes, devices), never opened or descended."""
    from .safe_files import walk

    files, others = walk(pack)
    out = {}
    for rel in files:
        if rel != MANIFEST:
            digest, size = _sha256(pack / rel)
            out[rel] = {"sha256": digest, "bytes": size}
    return out, others


def _canonical(doc: dict) -> bytes:
    """The bytes a digest or signature covers: the manifest without its digest and signature fields."""
    body = {k: v for k, v in doc.items() if k not in (SELF_DIGEST, SIGNATURE)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def _serialise(doc: dict) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n"


def _sign(doc: dict, key: bytes) -> str:
    return hmac.new(key, _canonical(doc), "sha256").hexdigest()


def sign(doc: dict, key: bytes) -> str:
    """HMAC-SHA256 of a JSON document without its digest and signature fields (pack and evidence manifests)."""
    return _sign(doc, key)


def signature_ok(doc: dict, key: bytes, field: str = SIGNATURE) -> bool:
    return field in doc and hmac.compare_digest(_sign(doc, key), str(doc[field]))


def write_manifest(pack: Path, run: dict, sign_key: bytes | None = None) -> Path:
    """List every file of the pack (except the manifest) with its sha256 and size, beside the run metadata."""
    pack = Path(pack)
    files, others = _files(pack)
    if others:  # a pack is written by eksaudit alone: anything but regular files is a bug
        raise ValueError(f"cannot list {pack}: not regular files: {', '.join(shown(o) for o, _ in others)}")
    doc: dict = {"format": "eksaudit-pack/1", "run": json.loads(json.dumps(run, default=str)), "files": files}
    doc[SELF_DIGEST] = hashlib.sha256(_canonical(doc)).hexdigest()
    if sign_key:
        doc[SIGNATURE] = _sign(doc, sign_key)
    path = pack / MANIFEST
    path.write_text(_serialise(doc), encoding="utf-8")
    return path


def verify(pack: Path, sign_key: bytes | None = None) -> list[str]:
    """Problems found: every added, missing or changed file, and anything that is not a regular file (empty when
    the pack is intact). Names are escaped. UserError when `pack` is not a pack at all (no folder, no manifest)."""
    pack = Path(pack)
    path = pack / MANIFEST
    if not pack.is_dir():
        raise UserError(f"not a folder: {shown(pack)}")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise UserError(f"not a pack: no manifest.json in {shown(pack)}") from None
    if not stat.S_ISREG(mode):
        return [f"not a regular file: {MANIFEST} ({file_type(mode)})"]
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)),
                   "rb") as fh:
        raw = fh.read()
    try:
        doc = json.loads(raw.decode("utf-8"))
        listed = doc["files"]
        if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
            raise ValueError("files is not a mapping of file -> {sha256, bytes}")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return [f"changed: {MANIFEST} (unreadable: {shown(str(exc))[:200]})"]
    problems = []
    if (raw.decode("utf-8") != _serialise(doc)
            or doc.get(SELF_DIGEST) != hashlib.sha256(_canonical(doc)).hexdigest()):
        problems.append(f"changed: {MANIFEST} (its content does not match its own digest)")
    actual, others = _files(pack)
    problems += [f"not a regular file: {shown(rel)} ({kind})" for rel, kind in others]
    odd = {rel for rel, _ in others}
    problems += [f"missing: {shown(n)}" for n in sorted(set(listed) - set(actual) - odd)]
    problems += [f"added: {shown(n)}" for n in sorted(set(actual) - set(listed))]
    problems += [f"changed: {shown(n)}" for n in sorted(set(listed) & set(actual))
                 if (listed[n].get("sha256"), listed[n].get("bytes")) != (actual[n]["sha256"], actual[n]["bytes"])]
    if sign_key:
        if SIGNATURE not in doc:
            problems.append(f"signature: {MANIFEST} is not signed")
        elif not signature_ok(doc, sign_key):
            problems.append(f"signature: {MANIFEST} was not signed with this key, or was changed after signing")
    return problems


def is_signed(pack: Path) -> bool:
    path = Path(pack) / MANIFEST
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        return SIGNATURE in json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False


def read_verified(pack: Path, names: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """A few files of a pack, each proven against the manifest (which matches its own digest): a cheaper proof
    than `verify` for reading, e.g., earlier packs for the trend. ({name: bytes} when intact, problems)."""
    from .safe_files import Refused, load_json, read_inside

    pack = Path(pack)
    try:
        doc = load_json(read_inside(pack, MANIFEST, "pack file"), MANIFEST, "pack file")
        if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
            return {}, [f"changed: {MANIFEST} (not a pack manifest)"]
        if doc.get(SELF_DIGEST) != hashlib.sha256(_canonical(doc)).hexdigest():
            return {}, [f"changed: {MANIFEST} (its content does not match its own digest)"]
        bodies, problems = {}, []
        for name in names:
            listed = doc["files"].get(name)
            if not isinstance(listed, dict):
                problems.append(f"missing: {shown(name)}")
                continue
            body = read_inside(pack, name, "pack file")
            if (hashlib.sha256(body).hexdigest(), len(body)) != (listed.get("sha256"), listed.get("bytes")):
                problems.append(f"changed: {shown(name)}")
            bodies[name] = body
        return (bodies if not problems else {}), problems
    except Refused as exc:
        return {}, [exc.problem]

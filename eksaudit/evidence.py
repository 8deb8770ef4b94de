"""Read an evidence folder: its manifest, its responses, and what could not be collected.

An evidence folder may come from elsewhere, so it is read as untrusted (`safe_files`): entry paths stay inside the
folder, files are regular and bounded, JSON is bounded in depth. `check_evidence_folder` proves a folder is the
one its manifest describes (and, when signed, the one its key holder collected) before `run --evidence` uses it.
A file that cannot be read, and a Kubernetes object of the wrong shape, count as failed reads: the checks that
need them report ERROR naming the file or the object, never PASS.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from . import clock, safe_files
from .collect.store import MANIFEST
from .errors import UserError
from .safe_files import Refused, shown

SIGNATURE = "hmac_sha256"


def _read_manifest(root: Path) -> tuple[dict, list[dict], bytes]:
    """(manifest, its entries, its bytes): UserError when it is missing, unreadable or not a manifest."""
    path = root / MANIFEST
    try:
        body = safe_files.read_file(path, "evidence manifest")
        doc = safe_files.load_json(body, str(path), "evidence manifest")
    except Refused as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            raise UserError(f"no evidence manifest at {shown(path)}") from None
        raise UserError(f"unreadable evidence manifest: {exc}") from None
    entries = doc.get("entries", []) if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("input"), str) and e.get("status") in ("ok", "error")
            and isinstance(e.get("params", {}), dict) and all(isinstance(e.get(k, ""), str)
                                                             for k in ("account", "region", "cluster", "path"))
            for e in entries):
        raise UserError(f"not an evidence manifest (entries with input and status expected): {shown(path)}")
    for e in entries:
        for key in ("account", "region", "cluster"):
            e.setdefault(key, "")
        e.setdefault("source", e["input"].split(":", 1)[0])
        e.setdefault("params", {})
    return doc, entries, body


def proven_limit(entry: dict | None) -> int:
    """The read bound of an evidence file whose manifest is proven: the size the manifest records for it when that
    is above the limit for received files (`safe_files.MAX_FILE_BYTES`), so evidence eksaudit wrote is never
    refused for its size when read back. Proven: written by this process, or signed and checked with the key."""
    size = (entry or {}).get("bytes")
    limit = safe_files.MAX_FILE_BYTES
    return max(limit, size) if type(size) is int else limit


class Evidence:
    """An evidence folder, read on demand; each file parsed once and kept until `release`.

    `own`: the folder was written by this process (collected, or copied by `check_evidence_folder` from the bytes
    it checked), so its manifest is proven: files are read up to the size it records (`proven_limit`).
    """

    def __init__(self, root: Path | str, own: bool = False):
        self.root = Path(root)
        self.own = own
        self.manifest, self.entries, _ = _read_manifest(self.root)
        # (source, path) -> (data, objects left out) or (Refused, []): read once, whatever asks first
        self._cache: dict[tuple[str, str], tuple[Any, list[str]]] = {}
        # Told of every input read by key, so the engine can compare what a check reads with what it declares.
        self.on_read: Callable[[str], None] | None = None

    @property
    def account(self) -> str:
        return self.manifest.get("account", "")

    @property
    def clusters(self) -> dict[str, str]:
        """Cluster name -> region, as listed by EKS."""
        return self.manifest.get("clusters", {})

    @cached_property
    def collected_at(self) -> dt.datetime:
        """When the collection started, in UTC: the reference time for every age in the findings, so that the same
        evidence gives the same findings whenever it is analysed. Falls back to the end of the collection, then
        to the newest entry; only evidence with no time at all is measured against the clock."""
        def parse(value: object) -> dt.datetime | None:
            try:
                t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                return None
            return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)

        for key in ("started", "finished"):
            if self.manifest.get(key) and (t := parse(self.manifest[key])):
                return t
        times = [t for e in self.entries if e.get("time") and (t := parse(e["time"]))]
        return max(times) if times else clock.now()

    @cached_property
    def by_input(self) -> dict[str, list[dict]]:
        """Input key -> its manifest entries (ok and error); every lookup is reported to `on_read`."""
        out = _InputIndex(self)
        for e in self.entries:
            dict.setdefault(out, e["input"], []).append(e)
        return out

    def _read(self, entry: dict) -> tuple[Any, list[str]]:
        """(data, malformed objects left out) of an ok entry, or (the Refused error, [])."""
        path = entry.get("path", "")
        key = (entry["source"], path)
        if key not in self._cache:
            try:
                body = safe_files.read_inside(self.root, path, f"evidence file for {entry['input']}",
                                              limit=proven_limit(entry) if self.own else None)
                if entry["source"] == "file":  # attachments are kept byte for byte, parsed by ingest/
                    self._cache[key] = (body, [])
                else:
                    data = safe_files.load_json(body, path, "evidence file")
                    self._cache[key] = k8s_checked(data, path) if entry["source"] == "k8s" else (data, [])
            except Refused as exc:
                self._cache[key] = (exc, [])
        return self._cache[key]

    def load(self, entry: dict) -> Any:
        """The content of a successful read: parsed JSON (Kubernetes lists without malformed objects), or the
        bytes of an attached file. Raises Refused when the file cannot be read safely."""
        data, _ = self._read(entry)
        if isinstance(data, Refused):
            raise data
        return data

    def readable(self, entry: dict) -> bool:
        return entry["status"] == "ok" and not isinstance(self._read(entry)[0], Refused)

    def responses(self, input_key: str) -> list[tuple[dict, Any]]:
        """(entry, data) for each successful, readable read of an input, e.g. "aws:eks:DescribeCluster"."""
        return [(e, self.load(e)) for e in self.by_input.get(input_key, []) if self.readable(e)]

    def errors(self, input_key: str) -> list[dict]:
        """Failed reads of an input, with those that failed after collection: a file that cannot be read, and
        Kubernetes objects of the wrong shape (the frames leave them out; this says so)."""
        out = []
        for e in self.by_input.get(input_key, []):
            if e["status"] == "error":
                out.append(e)
                continue
            data, bad = self._read(e)
            if isinstance(data, Refused):
                out.append({**e, "status": "error", "error": {"kind": "malformed", "code": "UnreadableEvidence",
                                                              "message": str(data)[:500]}})
            elif bad:
                more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
                out.append({**e, "status": "error", "error": {"kind": "malformed", "code": "MalformedObject",
                                                              "message": "; ".join(bad[:3]) + more}})
        return out

    def check_readable(self) -> None:
        """Read every file now: one line naming the first that cannot be read (the run stops, exit 2)."""
        for e in self.entries:
            if e["status"] == "ok":
                self.load(e)

    def release(self) -> None:
        """Drop the parsed files (a large estate's are most of the process's memory); read again if asked."""
        self._cache.clear()

    def read(self, input_key: str) -> None:
        if self.on_read is not None:
            self.on_read(input_key)

    def k8s_items(self, plural: str) -> list[tuple[str, dict]]:
        """(cluster, object) for every collected, well-formed object of a kind."""
        return [(e["cluster"], item) for e, data in self.responses(f"k8s:{plural}") for item in data.get("items", [])]


# ---- Kubernetes object shapes ---------------------------------------------------------------------------
# What the frames rely on, checked once per object when a file is loaded: a value of the wrong type makes the
# object malformed (left out of the frames, reported by `errors`). Absent or null values are fine: the frames read
# them as empty. Written out by hand rather than as generic path rules: this runs for every pod of an estate.

_WORDS = {dict: "an object", list: "a list", str: "a string"}
_TOP = (("kind", str), ("apiVersion", str), ("metadata", dict), ("spec", dict), ("status", dict), ("data", dict),
        ("rules", list), ("subjects", list), ("roleRef", dict))
_META = (("name", str), ("namespace", str), ("labels", dict), ("annotations", dict), ("ownerReferences", list))
_POD = (("securityContext", dict), ("volumes", list), ("containers", list), ("initContainers", list),
        ("ephemeralContainers", list))
_CONTAINER = (("name", str), ("image", str), ("securityContext", dict), ("env", list), ("ports", list))
_CONTAINER_GROUPS = ("containers", "initContainers", "ephemeralContainers")


def _fields(node: dict, rules: tuple, where: str) -> str | None:
    for key, want in rules:
        v = node.get(key)
        if v is not None and not isinstance(v, want):
            return f"{where}{key} is not {_WORDS[want]}"
    return None


def _each_object(items: list, where: str, key: str = "") -> str | None:
    for i, v in enumerate(items):
        if not isinstance(v, dict):
            return f"{where}{key}[{i}] is not an object"
    return None


def _pod_spec_problem(spec: dict, where: str) -> str | None:
    problem = _fields(spec, _POD, where) or _each_object(spec.get("volumes") or [], where, "volumes")
    if problem:
        return problem
    for group in _CONTAINER_GROUPS:
        containers = spec.get(group) or []
        problem = _each_object(containers, where, group)
        if problem:
            return problem
        for i, c in enumerate(containers):
            # Checked without its location, which is written out only for a container that has a problem.
            problem = _fields(c, _CONTAINER, "") or _each_object(c.get("env") or [], "", "env")
            if problem:
                return f"{where}{group}[{i}].{problem}"
    return None


def k8s_problem(obj: Any) -> str | None:
    """Why a Kubernetes object cannot be read as its kind (None when it can)."""
    if not isinstance(obj, dict):
        return "not an object"
    problem = _fields(obj, _TOP, "")
    if problem:
        return problem
    meta = obj.get("metadata") or {}
    problem = (_fields(meta, _META, "metadata.") or _each_object(meta.get("ownerReferences") or [],
                                                                  "metadata.ownerReferences")
               or _each_object(obj.get("rules") or [], "rules") or _each_object(obj.get("subjects") or [], "subjects"))
    if problem:
        return problem
    spec = obj.get("spec")
    if not spec:
        return None
    if obj.get("kind") == "Pod":
        return _pod_spec_problem(spec, "spec.")
    # Controllers keep their pod spec in a template (a CronJob one level deeper): each level must be an object.
    node, where = spec, "spec"
    for key in (("jobTemplate", "spec", "template", "spec") if obj.get("kind") == "CronJob" else ("template", "spec")):
        node = node.get(key)
        where = f"{where}.{key}"
        if node is None:
            return None
        if not isinstance(node, dict):
            return f"{where} is not an object"
    return _pod_spec_problem(node, where + ".")


def _object_name(obj: Any, index: int) -> str:
    kind = obj.get("kind") if isinstance(obj, dict) and isinstance(obj.get("kind"), str) else "object"
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("name"), str):
        ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
        return shown(f"{kind} {ns}/{meta['name']}" if ns else f"{kind} {meta['name']}")
    return f"{shown(kind)} #{index + 1}"


def k8s_checked(data: Any, path: str) -> tuple[dict, list[str]]:
    """A Kubernetes list with only well-formed objects, and one line per object left out."""
    if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
        raise Refused(f"evidence file {shown(path)} is not a Kubernetes list (no items list)",
                      f"not a Kubernetes list: {shown(path)}")
    items = data.get("items") or []
    safe_files.check_count(items, path, "evidence file")
    good, bad = [], []
    for i, obj in enumerate(items):
        problem = k8s_problem(obj)
        if problem:
            bad.append(f"{_object_name(obj, i)}: {problem}")
        else:
            good.append(obj)
    return ({**data, "items": good} if bad else data), bad


# ---- is this folder the one its manifest describes? -------------------------------------------------------


@dataclasses.dataclass
class EvidenceCheck:
    """What `check_evidence_folder` proved about a folder."""

    signed: bool  # the manifest carries an HMAC
    how: str  # "hashes and signature" | "hashes only (...)": recorded in run.json
    files: int  # files checked (and copied)
    ignored: list[str]  # what lay in the folder but is not in its manifest (never read, never copied)


def _refuse(root: Path, problems: list[str]) -> UserError:
    shown_problems = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return UserError(f"refusing evidence folder {shown(root)}: it is not what its manifest describes: "
                     f"{shown_problems}")


def check_evidence_folder(root: Path | str, sign_key: bytes | None = None, dest: Path | None = None,
                          say: Callable[[str], None] | None = None) -> EvidenceCheck:
    """Prove an evidence folder is intact before anything is analysed; copy it to `dest` on the way.

    Every successful entry's file must be a regular file inside the folder (no link on the way), within the size
    limit, with the sha256 (and size) its manifest records; with `sign_key`, a signed manifest's HMAC must match,
    and the size it records bounds each file instead of the limit for received files (`proven_limit`).
    Only the manifest and the files it lists are copied, from the very bytes that were hashed; anything else in
    the folder is named in one line and left behind. Any problem: UserError naming the first ones (exit 2).
    """
    from .pack import signature_ok

    root = Path(root)
    doc, entries, manifest_bytes = _read_manifest(root)
    signed = SIGNATURE in doc
    if sign_key and signed and not signature_ok(doc, sign_key, SIGNATURE):
        raise UserError(f"refusing evidence folder {shown(root)}: its manifest signature does not match "
                        "--sign-key (signed with another key, or changed after signing)")
    problems: list[str] = []
    seen: dict[str, tuple[str, int] | None] = {}  # path -> (sha256, size), None when unreadable
    proven = bool(sign_key and signed)  # the key holder's manifest bounds each file, not the received-file limit
    for e in entries:
        if e["status"] != "ok":
            continue
        path = e.get("path", "")
        try:
            safe_files.parts_of(path)
        except Refused:
            problems.append(f"unsafe path for {shown(e['input'])}: {shown(repr(path))} (it must stay inside the "
                            "evidence folder)")
            continue
        if path not in seen:
            try:
                body = safe_files.read_inside(root, path, limit=proven_limit(e) if proven else None)
            except Refused as exc:
                problems.append(exc.problem)
                seen[path] = None
                continue
            seen[path] = (hashlib.sha256(body).hexdigest(), len(body))
            if dest is not None and not problems:
                target = Path(dest, *path.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
        if seen[path] is None:
            continue
        if not isinstance(e.get("sha256"), str):
            problems.append(f"no sha256: {shown(path)}")
        elif (e["sha256"], e.get("bytes", seen[path][1])) != seen[path]:
            problems.append(f"changed: {shown(path)} (its sha256 differs from the manifest)")
    listed = {MANIFEST, *seen}
    if problems:
        raise _refuse(root, problems)
    if dest is not None:
        Path(dest).mkdir(parents=True, exist_ok=True)
        (Path(dest) / MANIFEST).write_bytes(manifest_bytes)
    try:
        files, others = safe_files.walk(root)
    except OSError as exc:
        raise UserError(f"cannot list evidence folder {shown(root)}: {exc.strerror or exc}") from None
    ignored = [f for f in files if f not in listed] + [f"{p} ({t})" for p, t in others]
    if ignored and say:
        more = f" and {len(ignored) - 5} more" if len(ignored) > 5 else ""
        say(f"eksaudit: ignored {len(ignored)} files not in the evidence manifest (not read, not copied into the "
            f"pack): {', '.join(shown(i) for i in ignored[:5])}{more}")
    if not signed:
        how = "hashes only (the evidence manifest is not signed)"
    elif sign_key:
        how = "hashes and signature"
    else:
        how = "hashes only (the evidence manifest is signed; no --sign-key was given)"
    return EvidenceCheck(signed, how, len(seen), ignored)


def signing_note(check: EvidenceCheck, sign_key: bytes | None) -> str:
    """One line for the user when the evidence's origin was not proven, else ""."""
    if check.signed and not sign_key:
        return "eksaudit: note: the evidence manifest is signed; pass --sign-key FILE to check its signature too"
    if sign_key and not check.signed:
        return ("eksaudit: note: the evidence manifest is not signed: its files match their hashes, but who "
                "collected them is not proven (collect with --sign-key to sign it)")
    return ""



class _InputIndex(dict):
    """The by-input index; lookups by key count as reading that input."""

    def __init__(self, ev: Evidence):
        super().__init__()
        self._ev = ev

    def get(self, key, default=None):
        self._ev.read(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._ev.read(key)
        return super().__getitem__(key)

"""Result files an auditor attaches to a collection (kube-bench, Docker Bench, ...): copied in as evidence."""

from __future__ import annotations

from pathlib import Path

from .. import safe_files
from ..errors import UserError
from .store import EvidenceStore

KINDS = {"kube-bench": "kube-bench --json output", "docker-bench": "Docker Bench for Security log (.json or text)"}
KUBE_BENCH, DOCKER_BENCH = "file:kube-bench", "file:docker-bench"  # input keys of the attached files


def parse_specs(specs: list[str] | None) -> dict[str, list[Path]]:
    """KIND=PATH[,PATH] or KIND:CLUSTER=PATH -> {"KIND" or "KIND:CLUSTER": [paths]}."""
    out: dict[str, list[Path]] = {}
    for spec in specs or []:
        key, sep, paths = spec.partition("=")
        if not sep or key.split(":", 1)[0] not in KINDS:
            raise UserError(f"bad --attach {spec!r}: expected KIND[:CLUSTER]=PATH with KIND one of {', '.join(KINDS)}")
        for p in paths.split(","):
            safe_files.check_file(p, "attachment")  # a regular file (not a link, pipe or device) within the limit
            out.setdefault(key, []).append(Path(p))
    return out


def collect_attachments(store: EvidenceStore, account: str, attachments: dict[str, list[Path]]) -> None:
    """Each file is stored byte for byte (hashed in the manifest); parsing happens in frames, never here.

    Read with the received-file rules (`safe_files.read_file`): checked again here, as the file may have been
    swapped since the arguments were parsed.
    """
    import hashlib

    from .store import now

    bodies = {(key, i): safe_files.read_file(path, "attachment")
              for key, paths in attachments.items() for i, path in enumerate(paths)}
    for key, paths in sorted(attachments.items()):
        kind, _, cluster = key.partition(":")
        for i, path in enumerate(paths):
            body = bodies[(key, i)]
            rel = Path("files", kind, f"{i:02d}-{path.name}")
            (store.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (store.root / rel).write_bytes(body)
            entry = {"input": f"file:{kind}", "source": "file", "service": "file", "operation": kind,
                     "params": {"name": path.name, "modified": int(path.lstat().st_mtime)}, "account": account,
                     "region": "", "cluster": cluster, "time": now(), "status": "ok", "path": rel.as_posix(),
                     "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
            with store._lock:
                store.entries.append(entry)

"""Reading files eksaudit receives (evidence folders, attachments, snapshots, packs) without trusting them.

The rules, in one place:
- no link is followed below the folder a file is read from, and the file itself is never a link;
- a path named in a file (an evidence manifest entry) is relative and stays inside its folder;
- only regular files are opened: a named pipe would block, a device would never end, so the type is checked with
  lstat before anything is opened (and again on the open descriptor, against a swap in between);
- reads are bounded: at most MAX_FILE_BYTES per file, MAX_OBJECTS Kubernetes objects per file, JSON nested at
  most MAX_DEPTH deep.
A file that breaks a rule raises `Refused` (a `UserError`: one line, exit 2, unless the caller turns it into an
ERROR finding). Names are untrusted too: `shown` escapes them for a terminal.
"""

from __future__ import annotations

import json
import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

from .cycles import collector_paused
from .errors import UserError


def _limit_from_env() -> int:
    """EKSAUDIT_MAX_FILE_MB raises (or lowers) the per-file limit; a bad value keeps the default."""
    try:
        mb = int(os.environ.get("EKSAUDIT_MAX_FILE_MB", "256"))
    except ValueError:
        mb = 256
    return max(1, mb) * 1024 * 1024


# 256 MiB: kubectl prints about 8 KiB a pod, so a single pods.json of some 30,000 pods; a larger cluster raises it
# or splits its snapshot by namespace (several files per kind are read). Evidence whose manifest is proven is
# bounded by the sizes it records instead (`evidence.proven_limit`).
MAX_FILE_BYTES = _limit_from_env()
# Kubernetes objects in one file (one kind of one cluster): above Kubernetes' own limit of 150,000 pods a cluster.
MAX_OBJECTS = 200_000
# JSON nesting: Kubernetes objects and AWS responses stay under about 20 levels; deeper input is built to hurt.
MAX_DEPTH = 100

_DIRFD = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)


class Refused(UserError):
    """A received file that eksaudit will not read, and why (one line).

    `problem`: the same in a few words, for lists of problems ("not a regular file: NAME (named pipe)").
    """

    def __init__(self, message: str, problem: str = ""):
        super().__init__(message)
        self.problem = problem or message


# ---- names ------------------------------------------------------------------------------------------------

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def shown(name: str | os.PathLike) -> str:
    """A name as it may be printed: control, format (bidi) and separator characters and backslashes escaped,
    so a name cannot move the cursor, repaint a line or reorder text. Other characters stay as they are."""
    out = []
    for ch in os.fspath(name):
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def file_type(mode: int) -> str:
    """What a stat mode is, in words: "file" for a regular file."""
    for test, word in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "folder"), (stat.S_ISLNK, "symbolic link"),
                       (stat.S_ISFIFO, "named pipe"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return word
    return "special file"


def size_text(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _not_regular(what: str, name: str, mode: int) -> Refused:
    return Refused(f"{what} {shown(name)} is not a regular file ({file_type(mode)}); links, pipes and devices "
                   "are never read", f"not a regular file: {shown(name)} ({file_type(mode)})")


def _too_large(what: str, name: str, limit: int) -> Refused:
    return Refused(f"{what} {shown(name)} is larger than the limit of {size_text(limit)} per file (raise it with "
                   "EKSAUDIT_MAX_FILE_MB)", f"larger than {size_text(limit)}: {shown(name)} (EKSAUDIT_MAX_FILE_MB)")


# ---- reading --------------------------------------------------------------------------------------------


def parts_of(rel: str, what: str = "path") -> list[str]:
    """The components of a relative path that stays inside its folder; Refused otherwise.

    No absolute path, no empty, "." or ".." component (a clean path has none, so nothing needs resolving).
    """
    parts = rel.split("/") if isinstance(rel, str) else []
    if not parts or "\x00" in rel or rel.startswith("/") or (os.sep != "/" and (os.sep in rel or ":" in rel)) or \
            any(p in ("", ".", "..") for p in parts):
        text = shown(repr(rel))
        raise Refused(f"{what} {text} does not stay inside its folder", f"unsafe path {text}")
    return parts


def _read_fd(fd: int, what: str, name: str, limit: int | None) -> bytes:
    limit = MAX_FILE_BYTES if limit is None else limit
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(what, name, st.st_mode)
    if st.st_size > limit:
        raise _too_large(what, name, limit)
    chunks, total = [], 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:  # it grew while being read
            raise _too_large(what, name, limit)


def _open_error(exc: OSError, what: str, name: str) -> Refused:
    if isinstance(exc, FileNotFoundError):
        return Refused(f"{what} {shown(name)} is missing", f"missing: {shown(name)}")
    return Refused(f"cannot read {what} {shown(name)}: {exc.strerror or exc}",
                   f"unreadable: {shown(name)} ({exc.strerror or exc})")


def read_inside(root: str | os.PathLike, rel: str, what: str = "evidence file", limit: int | None = None) -> bytes:
    """The bytes of `root/rel`, where rel comes from an untrusted file: see the module rules.

    `root` itself was named by the user and is taken as it is (it may be reached through a link).
    """
    parts = parts_of(rel, f"{what} path")
    if not _DIRFD:  # pragma: no cover - Windows: check each component with lstat, then open
        current = Path(root)
        for part in parts:
            current = current / part
            try:
                st = os.lstat(current)
            except OSError as exc:
                raise _open_error(exc, what, rel) from exc
            if part is not parts[-1] and not stat.S_ISDIR(st.st_mode):
                raise _not_regular(what, rel, st.st_mode)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(what, rel, st.st_mode)
        fd = os.open(current, os.O_RDONLY | _BINARY)
        try:
            return _read_fd(fd, what, rel, limit)
        finally:
            os.close(fd)
    fds = []
    try:
        try:
            fds.append(os.open(root, os.O_RDONLY | _DIRECTORY))
            for part in parts[:-1]:
                st = os.stat(part, dir_fd=fds[-1], follow_symlinks=False)
                if not stat.S_ISDIR(st.st_mode):
                    raise _not_regular(what, rel, st.st_mode)
                fds.append(os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=fds[-1]))
            st = os.stat(parts[-1], dir_fd=fds[-1], follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise _not_regular(what, rel, st.st_mode)
            fds.append(os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _NOCTTY, dir_fd=fds[-1]))
        except OSError as exc:
            raise _open_error(exc, what, rel) from exc
        return _read_fd(fds[-1], what, rel, limit)
    finally:
        for fd in fds:
            os.close(fd)


def check_file(path: str | os.PathLike, what: str = "file", follow: bool = False,
               limit: int | None = None) -> os.stat_result:
    """Fail early (before a long collection) when a file named on the command line will be refused."""
    name = os.fspath(path)
    try:
        st = os.stat(name) if follow else os.lstat(name)
    except OSError as exc:
        raise Refused(f"{what} not found: {shown(name)}" if isinstance(exc, FileNotFoundError)
                      else f"cannot read {what} {shown(name)}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(what, name, st.st_mode)
    limit = MAX_FILE_BYTES if limit is None else limit
    if st.st_size > limit:
        raise _too_large(what, name, limit)
    return st


def read_file(path: str | os.PathLike, what: str = "file", follow: bool = False, limit: int | None = None) -> bytes:
    """The bytes of a file named on the command line. Its folders are the user's choice and are followed; the
    file itself must be a regular file, not a link (unless `follow`: e.g. a key file mounted through links)."""
    name = os.fspath(path)
    check_file(name, what, follow, limit)
    try:
        fd = os.open(name, os.O_RDONLY | _NONBLOCK | _NOCTTY | _BINARY | (0 if follow else _NOFOLLOW))
    except OSError as exc:
        raise _open_error(exc, what, name) from exc
    try:
        return _read_fd(fd, what, name, limit)
    finally:
        os.close(fd)


def walk(root: str | os.PathLike) -> tuple[list[str], list[tuple[str, str]]]:
    """Everything under root without following links: (regular files, [(path, type) of anything else]).

    Paths are relative, "/"-separated and sorted; folders are descended, never reported.
    """
    files, others = [], []
    base = os.fspath(root)
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(base, rel) if rel else base) as it:
            for entry in it:
                path = f"{rel}/{entry.name}" if rel else entry.name
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    stack.append(path)
                elif stat.S_ISREG(mode):
                    files.append(path)
                else:
                    others.append((path, file_type(mode)))
    return sorted(files), sorted(others)


# ---- parsing ----------------------------------------------------------------------------------------------


def too_deep(doc: Any, limit: int) -> bool:
    """Whether a parsed document (a dict or list, level 1) holds a dict or list below level `limit`.

    A recursive walk, one call per container and never more than `limit` calls deep: a quarter faster than an
    explicit stack of (container, depth) pairs, and this visits every container of every evidence file."""
    dict_, list_ = dict, list

    def deeper(node: Any, room: int) -> bool:  # room: the levels still allowed below node
        for v in (node.values() if type(node) is dict_ else node):
            if (type(v) is dict_ or type(v) is list_) and (room == 0 or deeper(v, room - 1)):
                return True
        return False

    return limit < 1 or deeper(doc, limit - 1)


def _opening_brackets(body: bytes | str) -> int:
    """An upper bound on a JSON text's nesting depth: every object or list opens with one of these characters."""
    if isinstance(body, str):
        return body.count("[") + body.count("{")
    return body.count(b"[") + body.count(b"{")


def load_json(body: bytes | str, name: str, what: str = "file") -> Any:
    """Parse JSON from an untrusted file: Refused (naming the file) when it is not JSON or nested too deeply.

    The depth walk is skipped when the text has too few brackets to nest that deep (most AWS responses)."""
    try:
        with collector_paused():  # a large file is millions of objects: see eksaudit.cycles
            doc = json.loads(body)
            deep = (type(doc) is dict or type(doc) is list) and _opening_brackets(body) > MAX_DEPTH and \
                too_deep(doc, MAX_DEPTH)
    except RecursionError:
        deep = True
    except (UnicodeDecodeError, ValueError) as exc:
        detail = (f"{exc.msg} at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError)
                  else str(exc))
        raise Refused(f"{what} {shown(name)} is not valid JSON ({shown(detail)[:200]})") from None
    if not deep:
        return doc
    raise Refused(f"{what} {shown(name)} is nested more than {MAX_DEPTH} levels deep: not a Kubernetes or AWS "
                  "document")


def check_count(items: list, name: str, what: str = "file") -> None:
    if len(items) > MAX_OBJECTS:
        raise Refused(f"{what} {shown(name)} holds {len(items)} objects, over the limit of {MAX_OBJECTS} per file")

"""Write a folder all at once: build it in a temporary folder beside its target, rename it into place when complete.

A failed run (an error, Ctrl-C, a full disk) removes its temporary folder and says why in one line. Only a run
killed outright (kill -9, a power cut) leaves one behind: `.NAME.partial-PID-XXXXXX` beside the target, and the
kernels' socket folders in the system temporary folder. The next run removes those that are older than a day and
not in use (a running run holds an flock on its folder), and says so.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import clock
from .errors import UserError
from .safe_files import shown

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; the age and process checks remain
    fcntl = None  # type: ignore[assignment]

PARTIAL = re.compile(r"^\.(?P<name>.+)\.partial-(?P<pid>\d+)-[0-9a-f]{6}$")
TEMP_PREFIXES = ("eksaudit-kernels-", "eksaudit-chromium-")  # in tempfile.gettempdir()
STALE_AFTER = 24 * 3600  # seconds since the folder last changed
# Failures of the disk or the folder, not of eksaudit: the user fixes them, so one line and exit 2.
WRITE_ERRORS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO,
                errno.ENAMETOOLONG, errno.EMLINK}


class Lock:
    """An exclusive flock held on a folder itself (no lock file to leave in the pack); released by close()."""

    def __init__(self, fd: int | None):
        self.fd = fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def hold_lock(folder: Path | str) -> Lock:
    if fcntl is None or not hasattr(os, "O_DIRECTORY"):  # pragma: no cover
        return Lock(None)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return Lock(fd)


def _in_use(path: Path) -> bool:
    """Whether a run holds the folder's lock (True when that cannot be told: then it is left alone)."""
    if fcntl is None or not hasattr(os, "O_DIRECTORY"):  # pragma: no cover
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the probe's own lock
    return False


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - os.kill(pid, 0) is not a probe there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return pid != 0


def _stale(path: Path, now: float) -> bool:
    """Ours, a real folder (never a link), unchanged for a day and not locked by a live run."""
    st = os.lstat(path)
    mine = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return stat.S_ISDIR(st.st_mode) and mine and now - st.st_mtime > STALE_AFTER and not _in_use(path)


def _remove(path: Path) -> bool:
    try:
        shutil.rmtree(path)  # removes links inside, never what they point to
    except OSError:
        return False
    return True


def sweep(parent: Path | str, now: float | None = None) -> list[Path]:
    """Remove stale `.NAME.partial-PID-XXXXXX` folders in parent (their PID gone, unlocked, a day old)."""
    now = clock.system_seconds() if now is None else now  # file times are the machine's, whatever the audit's
    removed = []
    try:
        entries = sorted(os.scandir(parent), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        m = PARTIAL.match(entry.name)
        path = Path(entry.path)
        try:
            if m and _stale(path, now) and not _pid_alive(int(m["pid"])) and _remove(path):
                removed.append(path)
        except OSError:
            continue
    return removed


def sweep_temp(now: float | None = None) -> list[Path]:
    """Remove stale kernel-socket and Chromium-profile folders eksaudit made in the system temporary folder."""
    now = clock.system_seconds() if now is None else now  # file times are the machine's, whatever the audit's
    removed = []
    base = tempfile.gettempdir()
    try:
        entries = sorted(os.scandir(base), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        path = Path(entry.path)
        try:
            if entry.name.startswith(TEMP_PREFIXES) and _stale(path, now) and _remove(path):
                removed.append(path)
        except OSError:
            continue
    return removed


def report(removed: list[Path], say: Callable[[str], None]) -> None:
    if not removed:
        return
    names = ", ".join(shown(p.name) for p in removed[:5]) + (f" and {len(removed) - 5} more" if len(removed) > 5
                                                              else "")
    s = "s" if len(removed) != 1 else ""
    say(f"eksaudit: removed {len(removed)} stale temporary folder{s} left by interrupted runs (unchanged for a "
        f"day, not in use): {names}")


def write_error(exc: BaseException, target: Path) -> UserError | None:
    """The one line for a failure of the disk or the folder while writing `target`, or None for anything else."""
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRORS:
        where = f" ({shown(exc.filename)})" if exc.filename else ""
        return UserError(f"cannot write {shown(target)}: {exc.strerror or exc}{where}; nothing was left behind")
    return None


class Staging:
    """`with Staging(target, say) as st:` write into `st.tmp`, then `st.publish()` renames it into place.

    On entry: refuses an existing target, sweeps stale temporary folders, creates and locks `st.tmp`. On exit
    without publish (any error): removes `st.tmp`; a disk or folder error becomes one UserError line.
    """

    def __init__(self, target: Path | str, say: Callable[[str], None]):
        self.target = Path(target)
        self.say = say
        self.published = False

    def __enter__(self) -> Staging:
        target = self.target
        if target.exists() or target.is_symlink():
            raise UserError(f"output folder already exists: {shown(target)}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {shown(target.parent)}: {exc.strerror or exc}") from None
        report(sweep(target.parent) + sweep_temp(), self.say)
        self.tmp = target.parent / f".{target.name}.partial-{os.getpid()}-{secrets.token_hex(3)}"
        try:
            self.tmp.mkdir()
            self._lock = hold_lock(self.tmp)
        except OSError as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise UserError(f"cannot write in {shown(target.parent)}: {exc.strerror or exc}") from None
        return self

    def publish(self, folder: Path | None = None) -> Path:
        """Rename `folder` (default: the whole temporary folder) to the target; refuse to replace anything."""
        try:
            os.rename(folder or self.tmp, self.target)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) or self.target.exists():
                raise UserError(f"output folder already exists: {shown(self.target)} (another run finished it "
                                "first; this run's result was discarded)") from None
            raise
        self.published = folder is None
        return self.target

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._lock.close()
        if not self.published:
            # An interrupted run's notebook thread may still be writing its last file: try again briefly.
            for _ in range(20):
                shutil.rmtree(self.tmp, ignore_errors=True)
                if not self.tmp.exists():
                    break
                time.sleep(0.05)
        mapped = write_error(exc, self.target) if exc is not None else None
        if mapped is not None:
            raise mapped from exc
        return False

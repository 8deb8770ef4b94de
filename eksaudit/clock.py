"""The one source of "now" in eksaudit, so that tests can fix it.

Everything in the package that needs the current time asks `now()`: collection times in the evidence, run ids, a
run's start and end, the demo's dated samples. Ages in findings are never measured against `now()` but against
the collection time recorded in the evidence, so re-analysing evidence later gives the same findings.

Tests freeze the clock with `frozen(at)`; a test that runs eksaudit in another process sets EKSAUDIT_NOW to an
ISO 8601 time (for tests only: a pack made that way records a time that is not when it was made).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator

from .errors import UserError

ENV = "EKSAUDIT_NOW"
_frozen: dt.datetime | None = None


def _aware(t: dt.datetime) -> dt.datetime:
    """In UTC; a naive time is taken to be UTC already."""
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def now() -> dt.datetime:
    """The current time in UTC (timezone-aware), or the frozen one."""
    if _frozen is not None:
        return _frozen
    fixed = os.environ.get(ENV, "")
    if fixed:
        try:
            return _aware(dt.datetime.fromisoformat(fixed.replace("Z", "+00:00")))
        except ValueError as exc:
            raise UserError(f"{ENV}={fixed!r} is not an ISO 8601 time") from exc
    return dt.datetime.now(dt.timezone.utc)


def system_seconds() -> float:
    """The machine's own time (seconds since the epoch), never a frozen one: for comparing with the times the
    file system records (a folder's age), which a frozen audit clock would make look years old or new."""
    import time

    return time.time()


def iso() -> str:
    """`now()` as written into evidence and run records, e.g. 2026-12-01T23:59:59+00:00."""
    return now().isoformat(timespec="seconds")


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[dt.datetime]:
    """Within the block, `now()` is `at` in every thread of this process (for tests)."""
    global _frozen
    before, _frozen = _frozen, _aware(at)
    try:
        yield _frozen
    finally:
        _frozen = before

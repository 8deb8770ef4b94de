"""Python's cycle collector held off while large acyclic data is built (parsed JSON, redacted copies, frames)."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()
_STATE = {"holders": 0, "was_on": False}  # callers holding the collector off; whether it was on before


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off for the block (nested and concurrent holders included).

    A large estate's evidence is millions of small dicts and lists: while they are built, every collection the
    allocations trigger walks the young ones again, and each full collection walks all that is already held
    (two thirds of parsing a 10,000-pod file, and of redacting it). JSON data has no cycles: reference counting
    still frees what is dropped; the few cycles other code leaves meanwhile are collected once it is back on."""
    with _LOCK:
        if _STATE["holders"] == 0:
            _STATE["was_on"] = gc.isenabled()
            gc.disable()
        _STATE["holders"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["holders"] -= 1
            if _STATE["holders"] == 0 and _STATE["was_on"]:
                gc.enable()

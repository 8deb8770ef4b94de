"""Parsers for result files auditors attach (kube-bench, Docker Bench): bytes in, plain records out, never raise.

A file that cannot be read yields `ok=False` with the reason; the frames turn that into ERROR findings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re


@dataclasses.dataclass
class Parsed:
    """What a result file says: its results, when it ran (if it says), and how it was read."""

    ok: bool
    results: list[dict] = dataclasses.field(default_factory=list)
    run_at: dt.datetime | None = None  # a time found inside the file, UTC
    error: str = ""  # why the file could not be read (ok=False)
    note: str = ""  # how it was read when not the plain way (e.g. fell back to the text log)
    meta: dict = dataclasses.field(default_factory=dict)


def decode(body: bytes) -> str:
    """Text of a result file; undecodable bytes are replaced (they only appear inside free-text fields)."""
    text = body.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def load_json(text: str, lenient: bool = False) -> list:
    """The JSON documents in a file: usually one, sometimes several concatenated (one per target, as older
    tools print them).

    lenient accepts raw control characters inside strings (tabs, newlines), as some tools write them.
    """
    decoder = json.JSONDecoder(strict=not lenient)
    text = text.strip()
    docs, pos = [], 0
    while pos < len(text):
        doc, end = decoder.raw_decode(text, pos)
        docs.append(doc)
        pos = end
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
    if not docs:
        raise ValueError("the file is empty")
    return docs


def json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); the file may be truncated"
    return str(exc)


def parse_time(value) -> dt.datetime | None:
    """An epoch number or an ISO 8601 / RFC 3339 string as an aware UTC datetime; None when unreadable."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{9,11}(\.\d+)?", value)):
            return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
        if isinstance(value, str):
            t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return None

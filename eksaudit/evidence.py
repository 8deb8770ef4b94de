"""Read an evidence folder: its manifest, its responses, and what could not be collected."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from . import clock
from .collect.store import MANIFEST
from .errors import UserError


class Evidence:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        path = self.root / MANIFEST
        if not path.is_file():
            raise UserError(f"no evidence manifest at {path}")
        try:
            self.manifest = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"unreadable evidence manifest {path}: {exc}") from exc
        entries = self.manifest.get("entries", []) if isinstance(self.manifest, dict) else None
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("input"), str) and e.get("status") in ("ok", "error")
                for e in entries):
            raise UserError(f"not an evidence manifest (entries with input and status expected): {path}")
        for e in entries:
            for key in ("account", "region", "cluster"):
                e.setdefault(key, "")
            e.setdefault("source", e["input"].split(":", 1)[0])
        self.entries: list[dict] = entries
        self._cache: dict[str, Any] = {}
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

    def load(self, entry: dict) -> Any:
        path = entry["path"]
        if path not in self._cache:
            file = (self.root / path).resolve()
            if not file.is_relative_to(self.root.resolve()):
                raise ValueError(f"evidence path outside the evidence folder: {path}")
            self._cache[path] = json.loads(file.read_text())
        return self._cache[path]

    def responses(self, input_key: str) -> list[tuple[dict, Any]]:
        """(entry, data) for each successful read of an input, e.g. "aws:eks:DescribeCluster" or "k8s:pods"."""
        return [(e, self.load(e)) for e in self.by_input.get(input_key, []) if e["status"] == "ok"]

    def errors(self, input_key: str) -> list[dict]:
        return [e for e in self.by_input.get(input_key, []) if e["status"] == "error"]

    def read(self, input_key: str) -> None:
        if self.on_read is not None:
            self.on_read(input_key)

    def k8s_items(self, plural: str) -> list[tuple[str, dict]]:
        """(cluster, object) for every collected object of a kind."""
        return [(e["cluster"], item) for e, data in self.responses(f"k8s:{plural}") for item in data.get("items", [])]


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

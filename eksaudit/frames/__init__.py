"""Evidence -> tidy DataFrames, one per resource kind, built lazily and cached.

Domain modules register builders with `@frame("name", inputs=[...])`; `Frames(evidence).name` builds it once.
The inputs say which evidence a frame is made from, so a check that reads a frame inherits its inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..evidence import Evidence

BUILDERS: dict[str, tuple[Callable[[Frames], pd.DataFrame], tuple[str, ...], str]] = {}


def frame(name: str, inputs: list[str] | tuple[str, ...], doc: str = "") -> Callable:
    def register(fn: Callable[[Frames], pd.DataFrame]) -> Callable:
        BUILDERS[name] = (fn, tuple(inputs), doc or (fn.__doc__ or "").strip())
        return fn

    return register


def _load_builders() -> None:
    from . import core, iam, images, kubernetes, logging, network  # noqa: F401  (registration)


class Frames:
    """Lazy, cached DataFrames over one evidence folder."""

    def __init__(self, evidence: Evidence):
        _load_builders()
        self.evidence = evidence
        self._built: dict[str, pd.DataFrame] = {}

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name.startswith("_") or name not in BUILDERS:
            raise AttributeError(name)
        if name not in self._built:
            self._built[name] = BUILDERS[name][0](self)
        return self._built[name]

    def get(self, name: str) -> pd.DataFrame:
        return getattr(self, name)


def inputs_of(frame_name: str) -> tuple[str, ...]:
    _load_builders()
    return BUILDERS[frame_name][1]


def catalog() -> pd.DataFrame:
    """Every frame with its documented columns and inputs."""
    _load_builders()
    return pd.DataFrame([{"frame": n, "inputs": ", ".join(i), "doc": d} for n, (_, i, d) in sorted(BUILDERS.items())])

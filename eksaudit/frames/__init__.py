"""Evidence -> tidy DataFrames, one per resource kind, built lazily and cached.

Domain modules register builders with `@frame("name", inputs=[...], soft_inputs=[...])`; `Frames(evidence).name`
builds it once. `inputs` are what a frame is made from: a check that reads the frame inherits them, and a failed
one turns the check's PASS rows in that scope into ERROR. `soft_inputs` are read for some rows only; the frame
marks those rows (e.g. an `error` column) and the check decides. Frames also record what every consumer (a frame
or a check) actually read, so a test can hold the declarations to the truth.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator

import pandas as pd

from ..evidence import Evidence


@dataclasses.dataclass(frozen=True)
class FrameSpec:
    name: str
    build: Callable[[Frames], pd.DataFrame]
    inputs: tuple[str, ...]
    soft_inputs: tuple[str, ...]
    doc: str


BUILDERS: dict[str, FrameSpec] = {}


def frame(name: str, inputs: list[str] | tuple[str, ...], doc: str = "",
          soft_inputs: list[str] | tuple[str, ...] = ()) -> Callable:
    from ..collect.inputs import unknown_inputs

    unknown = unknown_inputs([*inputs, *soft_inputs])
    if unknown:
        raise ValueError(f"frame {name}: unknown inputs {unknown} (not read by the collector)")

    def register(fn: Callable[[Frames], pd.DataFrame]) -> Callable:
        BUILDERS[name] = FrameSpec(name, fn, tuple(inputs), tuple(soft_inputs), doc or (fn.__doc__ or "").strip())
        return fn

    return register


def _load_builders() -> None:
    if not _LOADED:
        from ..registry import import_package_modules

        import_package_modules(__name__)
        _LOADED.append(True)


_LOADED: list[bool] = []


class Frames:
    """Lazy, cached DataFrames over one evidence folder, with a record of who read what."""

    def __init__(self, evidence: Evidence):
        _load_builders()
        self.evidence = evidence
        self._built: dict[str, pd.DataFrame] = {}
        self._consumers: list[str] = []  # innermost last: "check:IAM-01", "frame:clusters"
        self.reads: dict[str, set[str]] = {}  # consumer -> input keys it read itself
        self.uses: dict[str, set[str]] = {}  # consumer -> frames it used
        evidence.on_read = self._note_read

    def _note_read(self, input_key: str) -> None:
        if self._consumers:
            self.reads.setdefault(self._consumers[-1], set()).add(input_key)

    @contextlib.contextmanager
    def consumer(self, name: str) -> Iterator[None]:
        """Attribute the reads inside this block to `name` (e.g. "check:IAM-01")."""
        self._consumers.append(name)
        try:
            yield
        finally:
            self._consumers.pop()

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name.startswith("_") or name not in BUILDERS:
            raise AttributeError(name)
        if self._consumers:
            self.uses.setdefault(self._consumers[-1], set()).add(name)
        if name not in self._built:
            with self.consumer(f"frame:{name}"):
                self._built[name] = BUILDERS[name].build(self)
        return self._built[name]

    def get(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def read_by(self, consumer: str) -> set[str]:
        """Every input `consumer` read, itself or through the frames it used (built now or earlier)."""
        out = set(self.reads.get(consumer, ()))
        for name in self.uses.get(consumer, ()):
            out |= self.read_by(f"frame:{name}")
        return out


def inputs_of(frame_name: str) -> tuple[str, ...]:
    _load_builders()
    return BUILDERS[frame_name].inputs


def soft_inputs_of(frame_name: str) -> tuple[str, ...]:
    _load_builders()
    return BUILDERS[frame_name].soft_inputs


def catalog() -> pd.DataFrame:
    """Every frame with its documented columns and inputs."""
    _load_builders()
    return pd.DataFrame([{"frame": n, "inputs": ", ".join(b.inputs), "soft_inputs": ", ".join(b.soft_inputs),
                          "doc": b.doc} for n, b in sorted(BUILDERS.items())])

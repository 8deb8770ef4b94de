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

import numpy as np
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


# ---- reading frames row by row ---------------------------------------------------------------------------
# With pandas 3, string columns box every cell one at a time when iterated (to_dict, itertuples, list(series)),
# which made row loops over 50,000 pods cost seconds. These give the same values from each column's array at once.

_NUMPY_SCALARS = (np.integer, np.floating, np.bool_)


def _native(v: object) -> object:
    """A numpy scalar as the Python value `to_dict` would give (pandas' maybe_box_native); anything else as is."""
    if isinstance(v, _NUMPY_SCALARS):
        return v.item()
    if isinstance(v, np.datetime64):
        return pd.Timestamp(v)
    if isinstance(v, np.timedelta64):
        return pd.Timedelta(v)
    return v


def values(column: pd.Series) -> list:
    """A column's cells as a list of the values `DataFrame.to_dict("records")` holds (missing strings as NaN,
    datetimes as Timestamp/NaT, numbers as Python numbers), read from its array at once."""
    dtype = column.dtype
    if isinstance(dtype, (pd.StringDtype, pd.DatetimeTZDtype)) or dtype.kind == "M":
        return column.to_numpy(dtype=object).tolist()  # str/NaN or Timestamp/NaT: already native
    if not isinstance(dtype, np.dtype):  # other extension types (nullable numbers, categories): rare, exact
        return [r["v"] for r in column.rename("v").to_frame().to_dict("records")]
    if dtype.kind in "biuf":  # numbers and booleans: tolist gives Python scalars
        return column.to_numpy().tolist()
    out = column.to_numpy(dtype=object).tolist()
    return [_native(v) for v in out] if any(isinstance(v, np.generic) for v in out) else out


def rows(df: pd.DataFrame) -> Iterator[tuple]:
    """The rows of `df` as tuples of the values `records` holds, read column by column (see `values`)."""
    return zip(*(values(df.iloc[:, i]) for i in range(df.shape[1])))


def records(df: pd.DataFrame) -> list[dict]:
    """`df.to_dict("records")`, built column by column (see `values`): the same dicts, without boxing each cell."""
    names = list(df.columns)
    if not names:
        return [{} for _ in range(len(df))]
    return [dict(zip(names, row)) for row in rows(df)]


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

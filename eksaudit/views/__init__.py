"""Domain-specific displays the notebooks show beside the per-check tables (one module per domain).

What a domain page shows beyond its findings is built once by the run (`pack_tables`), from the frames its
checks built, and handed to the kernels with the findings (kernels.NotebookPool.share_findings): a page reads it
with `shared` and never opens the evidence. A notebook opened by hand in JupyterLab has nothing shared: `shared`
builds the same table from its evidence folder.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

# The view modules with a `tables(frames, findings) -> {name: table}` of what their page shows beyond findings.
PAGES = ("iam", "images", "logging", "network")
T = TypeVar("T")


def pack_tables(frames, pack: Path, findings: pd.DataFrame) -> dict[str, Any]:
    """Every page's tables (a DataFrame, or a dict of them, by name), built from the run's frames and its
    findings (after waivers: a view keyed on offenders covers every offender a page can show). Those a pack
    exports are written into `pack` (image-inventory.csv).

    A view whose tables cannot be built here is left out: its page builds them from the evidence and fails there,
    naming its notebook, as it did before tables were shared."""
    from .. import exports

    out: dict[str, Any] = {}
    for name in PAGES:
        try:
            out.update(import_module(f"{__name__}.{name}").tables(frames, findings))
        except Exception:  # noqa: BLE001 - reported by the page, see above
            continue
    from .images import EXPORT, INVENTORY

    if INVENTORY in out:
        exports.write_table_csv(out[INVENTORY], pack / EXPORT)
    return out


def shared(ctx, name: str, build: Callable[[Any], T], share: bool = True) -> T | None:
    """The table `name` the run shared with this kernel; else `build(frames)` over the context's evidence (opened
    now, on first use); None when there is neither. `share=False`: the page asked for something the run's copy
    is not (e.g. the image inventory of some clusters only)."""
    from ..notebook import shared_table

    table = shared_table(getattr(ctx, "run_dir", ""), name) if share else None
    if table is None:
        frames = ctx.frames
        table = build(frames) if frames is not None else None
    return table

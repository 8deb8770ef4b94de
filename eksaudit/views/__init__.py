"""Domain-specific displays the notebooks show beside the per-check tables (one module per domain)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def pack_tables(frames, pack: Path) -> dict[str, pd.DataFrame]:
    """The tables pages show beyond the findings, built once by the run from the frames its checks built (a
    kernel would otherwise read the evidence again): by name, for `kernels.NotebookPool.share_findings`. Those a
    pack exports are written into `pack` (image-inventory.csv).

    A table whose frames cannot be built here is left out: its page builds it from the evidence and fails there,
    naming its notebook, as before."""
    from .. import exports
    from . import images

    try:
        out = images.tables(frames)
    except Exception:  # noqa: BLE001 - reported by the page, see above
        return {}
    exports.write_table_csv(out[images.INVENTORY], pack / images.EXPORT)
    return out

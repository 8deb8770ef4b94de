"""eksaudit: an audit workbook for Amazon EKS security."""

from __future__ import annotations

from typing import Any

from .lazy_imports import defer_iri_grammar

defer_iri_grammar()  # before anything imports nbformat: saves ~3 s per process (see lazy_imports.py)

__version__ = "0.1.0"
__all__ = ["explore", "__version__"]


def __getattr__(name: str) -> Any:
    # `eksaudit.explore` is the explorer of eksaudit/views/explore.py, imported on first use: the CLI and the
    # batch runner never pay for ipywidgets.
    if name == "explore":
        from .views.explore import explore

        return explore
    raise AttributeError(f"module 'eksaudit' has no attribute {name!r}")

"""Defer a dependency's import-time cost that every run would otherwise pay.

jsonschema (which nbformat, hence papermill and nbconvert, import) loads `rfc3987_syntax` when it is installed,
and that module compiles its IRI grammars at import: about 3 s on a 2-core machine, for a format ("iri") no
notebook schema uses (python-jsonschema/jsonschema#1428). JupyterLab installs it (jupyter-events asks for
jsonschema's format-nongpl extra). `defer_iri_grammar` puts a stand-in module in its place whose
`is_valid_syntax` imports the real one on first use: the same answers, paid for only by a caller that checks
an IRI.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

_NAME = "rfc3987_syntax"


def _real() -> types.ModuleType:
    stand_in = sys.modules.pop(_NAME, None)
    try:
        module = importlib.import_module(_NAME)
    except BaseException:
        if stand_in is not None:
            sys.modules[_NAME] = stand_in
        raise
    return module


def is_valid_syntax(rule: str, value: str) -> bool:
    """rfc3987_syntax.is_valid_syntax, imported on the first call."""
    return _real().is_valid_syntax(rule, value)


def defer_iri_grammar() -> None:
    """Install the stand-in unless the real module is loaded already or not installed at all."""
    if _NAME in sys.modules or importlib.util.find_spec(_NAME) is None:
        return
    stand_in = types.ModuleType(_NAME, "eksaudit's stand-in: the real module is imported on first use")
    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in

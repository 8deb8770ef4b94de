"""Registration by discovery: every module of a package registers its checks, frames or steps when imported,
so adding one is adding a file, never editing an import list. Also loads an organization's own checks from a
folder (`--checks-dir`), written with the same decorators over the same frames."""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

from .errors import UserError


@functools.cache
def import_package_modules(package: str, skip: tuple[str, ...] = ()) -> list[ModuleType]:
    """Import every public module of `package` (its decorators register what it declares); once per process,
    as the catalog is read many times per run."""
    pkg = importlib.import_module(package)
    return [importlib.import_module(f"{package}.{m.name}") for m in pkgutil.iter_modules(pkg.__path__)
            if not m.name.startswith("_") and m.name not in skip and not m.ispkg]


_LOADED: dict[Path, dict[str, str]] = {}  # folder -> {file name: sha256} of modules imported from it


def import_folder(folder: str | Path) -> dict[str, str]:
    """Import every `*.py` of an organization's checks folder once; returns {file: sha256} for the run record.

    Errors in those files are the user's to fix: one line, not a traceback.
    """
    root = Path(folder).expanduser().resolve()
    if root in _LOADED:
        return _LOADED[root]
    if not root.is_dir():
        raise UserError(f"--checks-dir {folder} is not a folder")
    files = sorted(p for p in root.glob("*.py") if p.is_file() and not p.is_symlink() and not p.name.startswith("_"))
    if not files:
        raise UserError(f"--checks-dir {folder} holds no .py file")
    digests = {}
    tag = hashlib.sha256(str(root).encode()).hexdigest()[:8]
    for path in files:
        name = f"eksaudit_org_checks_{tag}.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise UserError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except UserError:
            raise
        except Exception as exc:  # the organization's code: say where it failed, in one line
            sys.modules.pop(name, None)
            raise UserError(f"cannot load checks from {path.name}: {type(exc).__name__}: {exc}") from exc
        digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    _LOADED[root] = digests
    return digests


def forget_folders() -> None:
    """Drop the modules imported from checks folders, so a folder can be imported afresh."""
    for name in [n for n in sys.modules if n.startswith("eksaudit_org_checks_")]:
        del sys.modules[name]
    _LOADED.clear()

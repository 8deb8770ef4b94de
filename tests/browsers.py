"""What the browser tests share: Debian's Chromium, the flags it runs with, and how a missing one is reported."""

from __future__ import annotations

import os

import pytest

from eksaudit.pdf import FLAGS

CHROMIUM = "/usr/bin/chromium"
# FLAGS minus the print-only ones; Playwright adds --headless and its own fresh --user-data-dir.
BROWSER_ARGS = [f for f in FLAGS if f not in ("--headless", "--no-pdf-header-footer")]


def need(ok: bool, what: str, install: str = "apt-get install chromium poppler-utils") -> None:
    """Skip when a browser part is missing; in CI (which installs them) fail instead."""
    if ok:
        return
    message = f"{what} is missing: run `make system-deps` ({install}) and `make setup`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)

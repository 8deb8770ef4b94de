"""The one way a notebook page shows something: escaped HTML built with eksaudit.render, displayed once."""

from __future__ import annotations


def show_html(html: str) -> None:
    from IPython.display import HTML, display

    display(HTML(html))

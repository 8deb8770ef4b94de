"""The audit's domains, listed once: check ID prefix, title, notebook and page. Everything that lists domains
(catalog order, findings, runner, navigation, summary, PDFs, tests) reads this registry."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Domain:
    id: str  # findings' domain column and notebooks/<id>.ipynb
    title: str
    prefix: str  # check IDs of this domain start with it, e.g. "IAM-"
    group: str  # the requirements document's group (requirements.PRACTICES)

    @property
    def notebook(self) -> str:
        return self.id

    @property
    def page(self) -> str:
        return f"{self.id}.html"


DOMAINS: list[Domain] = [
    Domain("iam", "IAM", "IAM", "IAM"),
    Domain("network", "Network", "NET", "Network"),
    Domain("logging", "Auditing and monitoring", "LOG", "Auditing and monitoring"),
    Domain("images", "Images and compliance", "IMG", "Compliance"),
]
BY_ID = {d.id: d for d in DOMAINS}
IDS = [d.id for d in DOMAINS]
# The summary page is not a domain but is a page and a notebook like them.
SUMMARY = ("summary", "Summary", "index.html")


def pages() -> list[tuple[str, str, str]]:
    """(notebook, title, page) of every page of a pack, summary first: the navigation order."""
    return [SUMMARY] + [(d.notebook, d.title, d.page) for d in DOMAINS]


def page_of(notebook: str) -> str:
    return next((p for n, _, p in pages() if n == notebook), f"{notebook}.html")


def title_of(notebook: str) -> str:
    return next((t for n, t, _ in pages() if n == notebook), notebook)

"""The collection plan: every AWS read eksaudit makes, declared once.

Domain modules add steps with `step(...)`; the collector, the least-privilege policy and the fault-injection
tests all derive from this one list, so a new API call cannot escape any of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class Step:
    service: str
    operation: str
    scope: str = "region"  # "global": once per account; "region": per selected region (inventory: every enabled one)
    parent: tuple[str, str] | None = None  # (service, operation) whose results fan out into calls of this step
    fanout: Callable[..., list[dict]] | None = None  # (parent response, region, parent params) -> params per call
    params: dict = dataclasses.field(default_factory=dict)
    cluster_param: str | None = None  # the param that names the EKS cluster a call belongs to
    absent_codes: tuple[str, ...] = ()  # error codes that mean "there is none", recorded as data
    # Account inventory: read in every enabled region and for every cluster whatever --cluster/--region select,
    # because verdicts such as "no other cluster uses this role" compare against the whole account.
    inventory: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.operation)

    @property
    def input(self) -> str:
        return f"aws:{self.service}:{self.operation}"

    @property
    def iam_action(self) -> str:
        from ..least_privilege import action_for

        return action_for(self.service, self.operation)


STEPS: list[Step] = []


def step(service: str, operation: str, **kwargs) -> Step:
    s = Step(service, operation, **kwargs)
    if any(x.key == s.key for x in STEPS):
        raise ValueError(f"duplicate step {s.key}")
    STEPS.append(s)
    return s


_PLAN: list[Step] = []


def plan() -> list[Step]:
    """All steps, parents before children (computed once the domain modules have registered)."""
    from ...registry import import_package_modules

    import_package_modules(__name__)

    if len(_PLAN) == len(STEPS):
        return list(_PLAN)
    by_key = {s.key: s for s in STEPS}
    seen: set[tuple[str, str]] = set()
    ordered: list[Step] = []

    def visit(s: Step) -> None:
        if s.key in seen:
            return
        if s.parent:
            visit(by_key[s.parent])
        seen.add(s.key)
        ordered.append(s)

    for s in STEPS:
        visit(s)
    _PLAN[:] = ordered
    return list(ordered)


def depends_on(input_key: str) -> list[str]:
    """The input itself and every input it was derived from (parents first).

    Kubernetes objects are read only for clusters that EKS listed and described, so they depend on those.
    """
    if input_key.startswith("k8s:"):
        return ["aws:eks:ListClusters", "aws:eks:DescribeCluster", input_key]
    by_input = {s.input: s for s in plan()}
    chain = []
    s = by_input.get(input_key)
    while s is not None:
        chain.insert(0, s.input)
        s = by_input.get(f"aws:{s.parent[0]}:{s.parent[1]}") if s.parent else None
    return chain or [input_key]


def each(path: str, param: str, extra: dict | None = None) -> Callable[[dict, str], list[dict]]:
    """Fan-out helper: one call per value found at `path` (dotted, `[]` for lists) in the parent response."""

    def fan(data: dict, region: str, parent_params: dict | None = None) -> list[dict]:
        values = _pluck(data, path.split("."))
        return [{param: v, **(extra or {})} for v in values if v]

    return fan


def _pluck(node, parts: list[str]) -> list:
    if not parts:
        return [node]
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = (node or {}).get(head[:-2]) or [] if isinstance(node, dict) else []
        return [v for item in items for v in _pluck(item, rest)]
    if isinstance(node, dict) and head in node:
        return _pluck(node[head], rest)
    return []


# Every domain's steps register as soon as this package is imported, in module order: the plan's order (the order
# of calls, which stubbed tests rely on) must not depend on which step module an importer happened to name first.
from ...registry import import_package_modules  # noqa: E402

import_package_modules(__name__)

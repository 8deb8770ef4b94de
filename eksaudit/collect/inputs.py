"""Every evidence input the collector can record, by key: the one list declared inputs are checked against."""

from __future__ import annotations

import functools

TLS_PROBE = "probe:tls"  # input key of the TLS probe (collect/probes.py)
PROBES = (TLS_PROBE,)


@functools.cache
def known_inputs() -> frozenset[str]:
    """AWS steps of the plan, Kubernetes kinds, attachment kinds and probes."""
    from .attachments import KINDS as FILE_KINDS
    from .kubernetes import KINDS
    from .steps import plan

    return frozenset([s.input for s in plan()] + [k.input for k in KINDS] + [f"file:{k}" for k in FILE_KINDS]
                     + list(PROBES))


def unknown_inputs(keys) -> list[str]:
    known = known_inputs()
    return [k for k in keys if k not in known]

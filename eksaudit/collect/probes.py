"""Live probes made during collection (e.g. TLS versions an endpoint accepts), recorded as evidence.

Probes only ever contact endpoints the audit already talks to; see each probe for its safety rules.
"""

from __future__ import annotations

from ..target import AwsTarget, K8sSource
from .store import EvidenceStore


def collect_probes(target: AwsTarget, source: K8sSource, store: EvidenceStore, account: str,
                   clusters: dict[str, dict]) -> None:
    """clusters: name -> {"region", "arn", "endpoint", "certificateAuthority", "k8s_host"}."""
    return None

"""One collection: AWS first (it names the clusters), then each cluster's Kubernetes objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import UserError
from ..target import AwsTarget, K8sSource
from .attachments import collect_attachments
from .aws import collect_aws
from .kubernetes import collect_kubernetes
from .probes import collect_probes
from .store import EvidenceStore, now

if TYPE_CHECKING:
    from ..progress import Progress


def collect(target: AwsTarget, source: K8sSource, out: Path, clusters: list[str] | None = None,
            attachments: dict[str, list[Path]] | None = None, sign_key: bytes | None = None,
            progress: Progress | None = None) -> Path:
    """Collect into out/evidence and return that folder; `sign_key` signs its manifest with an HMAC.
    `progress`: told of every read (a terminal shows the service or cluster at work)."""
    started = now()
    store = EvidenceStore(Path(out) / "evidence")
    if progress is not None:
        store.on_record = lambda e: progress.update(
            f"{len(store.entries)} reads, last {e['input']}{' ' + e['cluster'] if e['cluster'] else ''}"
            f"{' ' + e['region'] if e['region'] else ''}")
    found = collect_aws(target, store, clusters)
    account = found["account"]
    scope = found["scope"]
    if clusters:
        missing = [c for c in clusters if c not in found["listed"]]
        listed_ok = any(e["input"] == "aws:eks:ListClusters" and e["status"] == "ok" and e["region"] in target.regions
                        for e in store.entries)
        if missing and listed_ok:
            elsewhere = {c: r for r, names in scope["inventory"].items() for c in names if c in missing}
            hint = "".join(f"; {c} is in {r}: add --region {r}" for c, r in sorted(elsewhere.items()))
            raise UserError(f"unknown cluster {', '.join(missing)} in {', '.join(target.regions)}{hint}")
    # Kubernetes objects and probes: the audited clusters only (the inventory describes every cluster).
    infos: dict[str, dict] = {}
    for e in store.entries:
        if e["input"] == "aws:eks:DescribeCluster" and e["status"] == "ok":
            c = json.loads((store.root / e["path"]).read_text()).get("cluster", {})
            if found["listed"].get(c.get("name")) != e["region"]:
                continue
            infos[c["name"]] = {"region": e["region"], "arn": c.get("arn", ""), "endpoint": c.get("endpoint", ""),
                                "certificateAuthority": c.get("certificateAuthority", {})}
    collect_kubernetes(source, store, account, infos, target)
    collect_probes(target, source, store, account, infos)
    collect_attachments(store, account, attachments or {})
    caller = next((e for e in store.entries if e["input"] == "aws:sts:GetCallerIdentity" and e["status"] == "ok"), None)
    caller_arn = json.loads((store.root / caller["path"]).read_text()).get("Arn", "") if caller else ""
    store.write_manifest({
        "tool": "eksaudit", "version": __version__, "started": started, "finished": now(),
        "account": account, "caller": caller_arn, "regions": target.regions,
        "endpoint_url": target.endpoint_url or "", "kubernetes_source": source.mode,
        "clusters": dict(sorted(found["listed"].items())), "scope": scope,
    }, sign_key)
    return store.root

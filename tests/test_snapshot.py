"""A kubectl snapshot of the demo clusters gives the same findings as the live endpoint."""

from __future__ import annotations

import json

from eksaudit.checks import run_checks
from eksaudit.collect.kubernetes import KINDS
from eksaudit.collect.run import collect
from eksaudit.evidence import Evidence
from eksaudit.target import K8sSource
from eksaudit.testing import assert_error


def _dump_like_kubectl(kubeconfig, context, folder):
    """What `kubectl get <kind> -A -o json` writes, one file per kind, read through the real client."""
    from kubernetes import config

    from eksaudit.collect.kubernetes import _get

    api = config.new_client_from_config(config_file=str(kubeconfig), context=context)
    folder.mkdir(parents=True)
    for kind in KINDS:
        doc = _get(api, kind.path, [])
        for item in doc["items"]:
            item["kind"], item["apiVersion"] = kind.kind, kind.api_version
        (folder / f"{kind.plural}.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                                                "items": doc["items"]}))


def test_snapshot_equals_live(demo_env, demo_evidence, tmp_path):
    target, _, extra = demo_env
    specs = []
    for cluster in Evidence(demo_evidence).clusters:
        _dump_like_kubectl(extra["kubeconfig"], cluster, tmp_path / "snap" / cluster)
        specs.append(f"{cluster}={tmp_path / 'snap' / cluster}")
    snap_ev = collect(target, K8sSource.from_args(snapshots=specs), tmp_path / "from-snapshot",
                      attachments=extra["attachments"])
    live = run_checks(Evidence(demo_evidence))
    snap = run_checks(Evidence(snap_ev))
    # A snapshot has no live endpoint to probe: checks fed by probe evidence differ by design.
    from eksaudit.checks import load

    probed = {c.id for c in load().values() if any(i.startswith("probe:") for i in c.all_inputs())}
    live = live[~live["check_id"].isin(probed)].reset_index(drop=True)
    snap = snap[~snap["check_id"].isin(probed)].reset_index(drop=True)
    cols = ["check_id", "cluster", "status", "resource_id", "reason"]
    diff = live[cols].merge(snap[cols], how="outer", indicator=True).query("_merge != \"both\"")
    assert diff.empty, diff.to_string()
    assert (live["status"] == "FAIL").sum() > 5


def test_snapshot_missing_kind_is_error_not_pass(demo_env, tmp_path):
    target, _, extra = demo_env
    folder = tmp_path / "snap"
    _dump_like_kubectl(extra["kubeconfig"], "prod-hardened", folder)
    for f in folder.glob("*.json"):
        if f.stem not in ("namespaces", "pods"):
            f.unlink()
    ev = collect(target, K8sSource.from_args(snapshots=[f"prod-hardened={folder}"]), tmp_path / "out",
                 clusters=["prod-hardened"])
    findings = run_checks(Evidence(ev), ids=["IMG-06"])
    assert "PASS" not in set(findings["status"])
    assert_error(findings[findings["status"] == "ERROR"], "k8s:deployments", "the snapshot has no deployments")

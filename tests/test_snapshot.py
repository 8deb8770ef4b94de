"""A kubectl snapshot of the demo clusters gives the same findings as the live endpoint."""

from __future__ import annotations

import datetime as dt
import json
import re

from eksaudit import clock
from eksaudit.checks import run_checks
from eksaudit.collect.kubernetes import KINDS
from eksaudit.collect.run import collect
from eksaudit.demo.account import WEAK
from eksaudit.evidence import Evidence
from eksaudit.target import K8sSource
from eksaudit.testing import assert_error, second_before_midnight


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


def _findings_without_probes(evidence):
    """Findings of a collection, less the checks fed by live probes: a snapshot has no endpoint to probe, so
    those differ from a live collection by design."""
    from eksaudit.checks import load

    probed = {c.id for c in load().values() if any(i.startswith("probe:") for i in c.all_inputs())}
    findings = run_checks(Evidence(evidence))
    return findings[~findings["check_id"].isin(probed)].reset_index(drop=True)


def _difference(a, b):
    cols = ["check_id", "cluster", "status", "resource_id", "reason"]
    return a[cols].merge(b[cols], how="outer", indicator=True).query("_merge != \"both\"")


def test_snapshot_equals_live(demo_env, tmp_path):
    """Both collections are taken with the clock frozen at one instant, a second before midnight: the ages in
    the findings are measured against each collection's own time, which would otherwise differ between them."""
    target, source, extra = demo_env
    with clock.frozen(second_before_midnight()):
        live_ev = collect(target, source, tmp_path / "live", attachments=extra["attachments"])
        specs = []
        for cluster in Evidence(live_ev).clusters:
            _dump_like_kubectl(extra["kubeconfig"], cluster, tmp_path / "snap" / cluster)
            specs.append(f"{cluster}={tmp_path / 'snap' / cluster}")
        snap_ev = collect(target, K8sSource.from_args(snapshots=specs), tmp_path / "from-snapshot",
                          attachments=extra["attachments"])
    live, snap = _findings_without_probes(live_ev), _findings_without_probes(snap_ev)
    diff = _difference(live, snap)
    assert diff.empty, diff.to_string()
    assert (live["status"] == "FAIL").sum() > 5


def test_collections_a_second_apart_can_differ_in_age(demo_evidence, tmp_path):
    """Why the comparison above freezes the clock: the same objects collected one second apart, across the
    moment the stale kube-bench result turns a day older, give a different age, and nothing else differs."""
    import shutil

    ev = Evidence(demo_evidence)
    stale = next(e for e in ev.entries if e["input"] == "file:kube-bench" and e["cluster"] == WEAK)
    kube_bench = json.loads((ev.root / stale["path"]).read_text())
    ran = dt.datetime.fromisoformat(kube_bench["timestamp"].replace("Z", "+00:00"))
    days = (ev.collected_at - ran).days
    before, after = ran + dt.timedelta(days=days, seconds=-1), ran + dt.timedelta(days=days, seconds=1)
    for name, at in (("before", before), ("after", after)):
        shutil.copytree(demo_evidence, tmp_path / name)
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        manifest["started"] = at.isoformat(timespec="seconds")
        (tmp_path / name / "manifest.json").write_text(json.dumps(manifest))
    diff = _difference(_findings_without_probes(tmp_path / "before"), _findings_without_probes(tmp_path / "after"))
    assert set(diff["check_id"]) == {"IMG-02"} and set(diff["cluster"]) == {WEAK}, diff.to_string()
    assert {f"({days - 1} days before collection)", f"({days} days before collection)"} == {
        re.search(r"\(\d+ days before collection\)", r).group(0) for r in diff["reason"]}


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

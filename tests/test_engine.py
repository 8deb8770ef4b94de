"""The engine's guarantees: failed inputs turn PASS into ERROR in their scope, never elsewhere."""

from __future__ import annotations

import pytest

from eksaudit.checks import load, run_checks
from eksaudit.testing import EvidenceBuilder, assert_error, assert_no_crash, cluster_doc, findings_for, pod


def _two_clusters(tmp_path, broken=None):
    good = [pod("a", sa="a", containers=[{"name": "c", "image": "x", "securityContext": {"runAsUser": 1000}}])]
    b = EvidenceBuilder(tmp_path)
    b.cluster("one", k8s={"pods": good})
    if broken:
        b.cluster("two")
        for kind in ("namespaces", "pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs",
                     "cronjobs"):
            if kind == broken:
                b.k8s_error("two", kind)
            else:
                b.k8s("two", kind, good if kind == "pods" else [])
    return b.build()


def test_failed_input_is_error_in_its_scope_only(tmp_path):
    ev = _two_clusters(tmp_path, broken="deployments")
    f = findings_for("IAM-07", ev)
    assert set(f[f["cluster"] == "one"]["status"]) == {"PASS"}
    assert_error(f[f["cluster"] == "two"], "k8s:deployments access denied")


def test_unrelated_checks_unchanged(tmp_path):
    ev = _two_clusters(tmp_path, broken="deployments")
    assert set(findings_for("NET-07", ev)["status"]) == {"PASS"}


def test_no_check_passes_when_its_listing_failed(tmp_path):
    b = EvidenceBuilder(tmp_path)
    b.aws_error("eks", "ListClusters", kind="throttled", code="ThrottlingException")
    ev = b.build() if False else None  # build() would add a ListClusters response; write the manifest directly
    b.store.write_manifest({"account": b.account, "regions": ["us-east-1"], "clusters": {}})
    from eksaudit.evidence import Evidence

    ev = Evidence(b.store.root)
    f = run_checks(ev)
    assert_no_crash(f)
    needs_eks = [c.id for c in load().values() if "aws:eks:ListClusters" in c.all_inputs()]
    assert needs_eks
    for cid in needs_eks:
        mine = f[f["check_id"] == cid]
        assert "PASS" not in set(mine["status"]), cid
        assert_error(mine[mine["status"] == "ERROR"], "aws:eks:ListClusters throttled past retries")


def test_empty_scope_is_not_applicable_with_reason(tmp_path):
    ev = EvidenceBuilder(tmp_path).aws("ecr", "DescribeRepositories", {"repositories": []}).build()
    f = findings_for("NET-09", ev)
    assert list(f["status"]) == ["NOT_APPLICABLE"]
    assert "nothing in scope" in f["reason"].iloc[0]


def test_check_crash_is_error(tmp_path, monkeypatch):
    from eksaudit import checks

    ev = EvidenceBuilder(tmp_path).cluster("one").build()
    chk = load()["NET-07"]

    def boom(f, p):
        raise KeyError("surprise")

    monkeypatch.setitem(checks.CATALOG, "NET-07", type(chk)(**{**chk.__dict__, "func": boom}))
    f = findings_for("NET-07", ev, crash_ok=True)
    assert list(f["status"]) == ["ERROR"] and "surprise" in f["reason"].iloc[0]
    assert f["reason"].iloc[0].startswith(checks.CRASH)  # told apart from an ERROR about the evidence
    with pytest.raises(AssertionError, match="checks crashed"):
        findings_for("NET-07", ev)


def test_one_error_row_per_scope_names_every_missing_input(tmp_path):
    """A cluster with no Kubernetes objects at all: one ERROR per check for that cluster, naming each kind."""
    b = EvidenceBuilder(tmp_path)
    b.cluster("one")
    kinds = ["pods", "serviceaccounts", "secrets", "configmaps", "rolebindings", "clusterrolebindings",
             "deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "cronjobs", "namespaces"]
    for kind in kinds:
        b.k8s_error("one", kind, kind="missing", code="NoSource", message="no Kubernetes source given")
    f = findings_for("IAM-04", b.build())
    errors = f[f["status"] == "ERROR"]
    assert len(errors) == 1, errors["reason"].tolist()
    assert_error(errors, "could not verify: ", *(f"k8s:{kind}" for kind in ("pods", "secrets", "rolebindings",
                 "clusterrolebindings", "deployments")), "no Kubernetes source given")
    row = errors.iloc[0]
    assert (row["cluster"], row["resource_type"], row["resource_id"]) == ("one", "cluster", "one")
    assert not (f["status"] == "PASS").any()


def test_gap_rows_group_inputs_by_cause(tmp_path):
    b = EvidenceBuilder(tmp_path)
    b.cluster("one")
    b.k8s_error("one", "pods")
    b.k8s_error("one", "deployments", kind="throttled", code="429", message="TooManyRequests")
    f = findings_for("IAM-07", b.build())
    err = f[f["status"] == "ERROR"]
    assert len(err) == 1
    assert_error(err, "k8s:pods access denied", "k8s:deployments throttled past retries")


def test_catalog_metadata_complete():
    from eksaudit.checks import FRAMEWORKS
    from eksaudit.domains import BY_ID
    from eksaudit.requirements import PRACTICES

    practices = {p[0] for p in PRACTICES}
    for c in load().values():
        assert c.id.startswith(BY_ID[c.domain].prefix + "-"), c.id
        for field in ("title", "practice", "rationale", "remediation", "requirements"):
            assert getattr(c, field), (c.id, field)
        assert set(c.requirements) <= practices, c.id
        for framework, ids in c.references.items():  # may be empty: a check no peer makes goes past them
            assert framework in FRAMEWORKS and ids and all(isinstance(i, str) and i for i in ids), (c.id, framework)


@pytest.mark.parametrize("bad, says", [
    ({"severity": "urgent"}, "severity 'urgent'"),
    ({"domain": "nosuch"}, "domain 'nosuch'"),
    ({"id": "IAM-77"}, "ID must be NET-"),
    ({"requirements": "R-NET-7"}, "non-empty list"),
    ({"requirements": ["R-NET-99"]}, "unknown practice 'R-NET-99'"),
    ({"inputs": ("aws:eks:DescribeNothing",)}, "unknown input 'aws:eks:DescribeNothing'"),
    ({"frames": ("nosuch_frame",)}, "unknown frame 'nosuch_frame'"),
    ({"references": {"CIS AWS": ["1.1"]}}, "reference framework 'CIS AWS'"),
    ({"references": {"cis_eks": "none (nearest)"}}, "must be a non-empty list of control IDs"),
    ({"references": {"prowler": ["eks cluster (nearest)"]}}, "must be a non-empty list of control IDs"),
])
def test_metadata_validated_at_registration(bad, says):
    from eksaudit.checks import CATALOG, check

    meta = {"id": "NET-T1", "domain": "network", "title": "t", "severity": "low", "practice": "p",
            "rationale": "r", "remediation": "m", "requirements": ["R-NET-7"], **bad}
    with pytest.raises(ValueError, match=says):
        check(meta.pop("id"), **meta)(lambda f, p: [])
    assert "NET-T1" not in CATALOG and "IAM-77" not in CATALOG


def test_builtin_checks_cite_only_known_peers():
    """eksaudit's own checks cite the peers it knows; an organization's checks may cite their own standards."""
    from eksaudit.checks import CATALOG, check

    def unknown_peer(f, p):
        return []

    unknown_peer.__module__ = "eksaudit.checks.network"
    with pytest.raises(ValueError, match="reference framework 'cis_aws'"):
        check("NET-T2", domain="network", title="t", severity="low", practice="p", rationale="r", remediation="m",
              requirements=["R-NET-7"], references={"cis_aws": ["3.1"]})(unknown_peer)
    assert "NET-T2" not in CATALOG


def test_cluster_doc_defaults_pass_cluster_checks(tmp_path):
    assert cluster_doc("x")["cluster"]["resourcesVpcConfig"]["endpointPublicAccess"] is False


def test_run_checks_gives_the_cycle_collector_back_as_it_found_it(tmp_path):
    """run_checks holds Python's cycle collector off while it runs (a speed-up over large evidence); afterwards
    it is on again if it was on, and still off if the caller had turned it off. Nested holds release once."""
    import gc

    from eksaudit.checks import collector_paused

    ev = EvidenceBuilder(tmp_path).cluster("one").build()
    assert gc.isenabled()
    assert len(run_checks(ev, ids=["NET-07"]))
    assert gc.isenabled()
    gc.disable()
    try:
        run_checks(ev, ids=["NET-07"])
        assert not gc.isenabled()
    finally:
        gc.enable()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

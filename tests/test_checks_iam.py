"""IAM checks: PASS, FAIL and ERROR fixtures per check."""

from __future__ import annotations

from eksaudit.testing import EvidenceBuilder, findings_for, pod


def _ev(tmp_path, pods, broken=None):
    b = EvidenceBuilder(tmp_path)
    k8s = {"pods": pods}
    b.cluster("c1", k8s=k8s)
    if broken:
        b.k8s_error("c1", broken)
    return b.build()


def status_of(f, resource):
    rows = f[f["resource_id"].str.contains(resource, regex=False)]
    assert not rows.empty, f"no finding for {resource}: {f[['resource_id', 'status']].to_string()}"
    return set(rows["status"])


# IAM-06
def test_iam06_pass_own_service_account(tmp_path):
    f = findings_for("IAM-06", _ev(tmp_path, [pod("a", sa="a-sa"), pod("b", sa="b-sa")]))
    assert set(f["status"]) == {"PASS"}


def test_iam06_fail_default_and_shared(tmp_path):
    pods = [pod("a"), pod("b", sa="shared", labels={"app": "b"}), pod("c", sa="shared", labels={"app": "c"})]
    f = findings_for("IAM-06", _ev(tmp_path, pods))
    assert status_of(f, "app/Pod/a") == {"FAIL"}
    assert f[f["resource_id"] == "app/Pod/b"]["reason"].str.contains("shares service account shared").all()


def test_iam06_replicas_of_one_app_may_share(tmp_path):
    pods = [pod("b-1", sa="b", labels={"app": "b"}), pod("b-2", sa="b", labels={"app": "b"})]
    assert set(findings_for("IAM-06", _ev(tmp_path, pods))["status"]) == {"PASS"}


def test_iam06_error_when_pods_unreadable(tmp_path):
    b = EvidenceBuilder(tmp_path).cluster("c1")
    b.k8s_error("c1", "pods")
    f = findings_for("IAM-06", b.build())
    assert set(f["status"]) == {"ERROR"}


# IAM-07
def _c(name="main", **ctx):
    c = {"name": name, "image": "x"}
    if ctx:
        c["securityContext"] = ctx
    return c


def test_iam07_pass_pod_level_and_container_level(tmp_path):
    pods = [pod("a", containers=[_c()], security_context={"runAsNonRoot": True}),
            pod("b", containers=[_c(runAsUser=1000)])]
    assert set(findings_for("IAM-07", _ev(tmp_path, pods))["status"]) == {"PASS"}


def test_iam07_container_overrides_pod(tmp_path):
    pods = [pod("a", containers=[_c(runAsUser=0)], security_context={"runAsNonRoot": True, "runAsUser": 1000})]
    f = findings_for("IAM-07", _ev(tmp_path, pods))
    assert set(f["status"]) == {"FAIL"} and "runAsUser is 0" in f["reason"].iloc[0]


def test_iam07_fail_unset_and_init_and_ephemeral(tmp_path):
    pods = [pod("a", containers=[_c()]),
            pod("b", containers=[_c(runAsUser=1)], init=[_c("init", runAsUser=0)]),
            pod("d", containers=[_c(runAsUser=1)], ephemeralContainers=[_c("debug")])]
    f = findings_for("IAM-07", _ev(tmp_path, pods))
    assert status_of(f, "app/Pod/a/container:main") == {"FAIL"}
    assert status_of(f, "app/Pod/b/init:init") == {"FAIL"}
    assert status_of(f, "app/Pod/d/ephemeral:debug") == {"FAIL"}
    assert status_of(f, "app/Pod/b/container:main") == {"PASS"}


def test_iam07_error_when_input_missing(tmp_path):
    f = findings_for("IAM-07", _ev(tmp_path, [pod("a", containers=[_c(runAsUser=5)])], broken="jobs"))
    assert set(f["status"]) == {"ERROR"}

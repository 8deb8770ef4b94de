"""The images page's inventory: one row per image (every cluster and place it runs), the images that need
attention listed and the rest counted, and the run's shared copy read instead of the evidence."""

from __future__ import annotations

import pandas as pd

from eksaudit import notebook
from eksaudit.checks import run_checks
from eksaudit.frames import Frames
from eksaudit.testing import pod
from eksaudit.views import images
from tests.test_checks_images import ECR, _stubbed

OLD, NEW, UNSCANNED = f"{ECR}/app:old", f"{ECR}/app:new", f"{ECR}/app:unscanned"


def _c(name: str, image: str) -> dict:
    return {"name": name, "image": image}


def test_inventory_has_one_row_per_image_with_every_cluster_and_place(tmp_path):
    a = [pod("w2", containers=[_c("z", OLD)]), pod("w1", containers=[_c("c", OLD), _c("d", OLD)])]
    b = [pod("w1", namespace="shop", containers=[_c("c", OLD)]), pod("w1", containers=[_c("c", "nginx:latest")])]
    ev = _stubbed(tmp_path).cluster("a", k8s={"pods": a}).cluster("b", k8s={"pods": b}).build()
    inv = images.inventory(Frames(ev))
    assert list(inv["image"]) == [OLD, "nginx:latest", NEW, UNSCANNED]  # running in image order, then the rest
    old = inv.iloc[0]
    assert old["clusters"] == "a, b"
    assert old["where_it_runs"] == "a: app/Pod/w1/c, a: app/Pod/w1/d, a: app/Pod/w2/z, b: shop/Pod/w1/c"
    assert [old[c] for c in ("critical", "high", "medium", "low", "other")] == [2, 0, 1, 0, 0]
    assert (old["scan_status"], old["base_image"]) == ("COMPLETE", "docker.io/library/python:3.8")
    hub = inv.iloc[1]
    assert (hub["scan_status"], hub["critical"], hub["clusters"]) == ("unknown (not-audited-ecr)", "", "b")
    assert list(inv["where_it_runs"][2:]) == ["not running", "not running"]
    assert list(inv["scan_status"][2:]) == ["COMPLETE", "NOT_SCANNED"]
    only_a = images.inventory(Frames(ev), clusters=["a"])
    assert list(only_a["image"]) == [OLD, NEW, UNSCANNED] and only_a.iloc[0]["clusters"] == "a"


def _page_case(tmp_path, pods):
    ev = _stubbed(tmp_path).cluster("c", k8s={"pods": pods}).build()
    frames = Frames(ev)
    findings = run_checks(ev, {}, domains=["images"], frames=frames)
    return images.inventory(frames), findings


def test_the_page_lists_the_images_that_need_attention_and_counts_the_rest(tmp_path):
    pods = [pod("old", containers=[_c("c", OLD)]),  # IMG-04: a public base; IMG-05: CRITICAL findings, 200 days old
            pod("new", containers=[_c("c", NEW)]),  # every finding of its own passes
            pod("evil", containers=[_c("c", "evil<b>x</b>:1")]),  # outside the audited ECR: MANUAL
            pod("proxy", namespace="kube-system", containers=[_c("c", "nginx:latest")])]  # excluded: no finding
    inv, findings = _page_case(tmp_path, pods)
    listed = images.needing_attention(inv, findings)
    assert list(listed["image"]) == [OLD, "evil<b>x</b>:1"]
    assert list(listed["findings"]) == ["IMG-04 FAIL, IMG-05 FAIL", "IMG-04 FAIL, IMG-05 MANUAL"]
    assert list(listed.columns) == images.LISTED
    counts = images.running_counts(inv, findings).set_index("registry")
    assert counts.loc[ECR].tolist() == ["c", 2, 1, 1, 0]
    assert counts.loc["docker.io"].tolist() == ["c", 2, 1, 0, 1]
    idle = images.idle_counts(inv)
    assert idle.values.tolist() == [[ECR, 1, 0, 0]]  # app:unscanned: no scan
    html = images.inventory_html(inv, findings)
    assert OLD in html and NEW not in html  # passed images are counted, not named
    assert "evil&lt;b&gt;" in html and "evil<b>" not in html
    assert images.EXPORT in html and "Images that need attention (2)" in html


def test_idle_images_are_counted_per_registry_with_their_scans(tmp_path):
    inv, findings = _page_case(tmp_path, [pod("hub", containers=[_c("c", "nginx:latest")])])
    assert images.idle_counts(inv).values.tolist() == [[ECR, 3, 2, 1]]  # app:old has CRITICAL findings


def test_places_beyond_the_first_few_are_counted():
    places = ", ".join(f"c: app/Pod/p{i}/c" for i in range(images.PLACES_SHOWN + 2))
    assert images._places(places).endswith(" and 2 more")
    assert images._places("c: app/Pod/p/c") == "c: app/Pod/p/c"


def test_the_page_reads_the_runs_shared_inventory_not_the_evidence(tmp_path, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(images, "show_html", shown.append)
    inv = pd.DataFrame([[OLD, ECR, "app", "old", "", "COMPLETE", 2, 0, 1, 0, 0, "", "c", "c: app/Pod/old/c"]],
                       columns=images.COLUMNS)
    inv.to_pickle(tmp_path / "inv.pkl")
    findings = pd.DataFrame([{"check_id": "IMG-05", "status": "FAIL", "resource_type": "image", "resource_id": OLD,
                              "cluster": "c"}])
    ctx = notebook.Context("images", findings, None, {}, {}, str(tmp_path))  # no evidence to fall back on
    notebook.use_shared_findings(str(tmp_path), {}, {images.INVENTORY: str(tmp_path / "inv.pkl")})
    try:
        got = images.show_inventory(ctx)
        assert notebook.shared_table(tmp_path / "elsewhere", images.INVENTORY) is None
        filtered = images.show_inventory(ctx, clusters=["other"])  # the run's copy is for every cluster
    finally:
        notebook._SHARED.clear()
    pd.testing.assert_frame_equal(got, inv)
    assert "Images that need attention (1)" in shown[0] and "IMG-05 FAIL" in shown[0]
    assert filtered.empty and "needs it" in shown[1]


def test_a_notebook_opened_by_hand_builds_the_inventory_from_the_evidence(tmp_path, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(images, "show_html", shown.append)
    ev = _stubbed(tmp_path).cluster("c", k8s={"pods": [pod("old", containers=[_c("c", OLD)])]}).build()
    findings = run_checks(ev, {}, domains=["images"])
    ctx = notebook.Context("images", findings, ev, {}, {}, str(tmp_path))  # no run shared anything
    got = images.show_inventory(ctx)
    assert list(got["image"]) == [OLD, NEW, UNSCANNED] and "Images that need attention (1)" in shown[0]
    assert images.show_benchmarks(ctx).empty and "No kube-bench" in shown[1]

"""End-to-end on the demo account, network domain: planted offenders FAIL, hardened counterparts PASS."""

from __future__ import annotations

import pytest

from eksaudit.demo.account import HARDENED, WEAK

from .e2e import assert_expected

# (check, cluster, resource_id substring, expected status, reason substring)
EXPECTED = [
    ("NET-07", WEAK, "cluster/legacy-weak", "FAIL", "0.0.0.0/0"),
    ("NET-07", HARDENED, "cluster/prod-hardened", "PASS", "public access off"),
    ("NET-09", "", "repository/legacy/web", "FAIL", "AES256"),
    ("NET-09", "", "repository/payments/api", "PASS", "KMS"),
    # NET-01: legacy-weak's endpoint listener still accepts TLS 1.0/1.1; the others require TLS 1.2
    ("NET-01", WEAK, "/clusters/legacy-weak", "FAIL", "accepts TLSv1 and TLSv1.1 handshakes"),
    ("NET-01", HARDENED, "/clusters/prod-hardened", "PASS", "refuses TLSv1 and TLSv1.1"),
    ("NET-02", WEAK, "legacy-nlb:TLS:443", "FAIL", "ELBSecurityPolicy-2016-08 allows TLSv1.2, TLSv1.1, TLSv1"),
    ("NET-02", WEAK, "legacy-alb:HTTP:80", "FAIL", "without redirecting to HTTPS"),
    ("NET-02", HARDENED, "payments-alb:HTTPS:443", "PASS", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
    ("NET-02", HARDENED, "payments-alb:HTTP:80", "PASS", "redirects to HTTPS"),
    ("NET-03", WEAK, "legacy-weak/node/", "FAIL", "v1.27.16"),
    ("NET-03", HARDENED, "prod-hardened/node/", "PASS", "v1.31.2"),
    ("NET-03", HARDENED, "prod-hardened/kubelet-config", "MANUAL", "tlsMinVersion"),
    ("NET-04", WEAK, ".eks", "FAIL", "no interface endpoint com.amazonaws.us-east-1.eks"),
    ("NET-04", HARDENED, ".eks", "PASS", "admit only sources inside the VPC"),
    ("NET-05", WEAK, "sg-", "FAIL", "port 22 open to 0.0.0.0/0"),
    ("NET-05", HARDENED, "sg-", "PASS", "no internet-wide"),
    ("NET-06", WEAK, "legacy-weak/shop", "FAIL", "neither a NetworkPolicy nor a SecurityGroupPolicy"),
    ("NET-06", WEAK, "legacy-weak/default-deny", "FAIL", "no default-deny"),
    ("NET-06", HARDENED, "prod-hardened/payments", "PASS", "NetworkPolicy default-deny"),
    ("NET-06", HARDENED, "prod-hardened/default-deny", "PASS", "payments/default-deny"),
    ("NET-08", WEAK, ".secretsmanager", "FAIL", "no interface endpoint com.amazonaws.us-east-1.secretsmanager"),
    ("NET-08", HARDENED, ".secretsmanager", "PASS", "secret(s) in Secrets Manager"),
    ("NET-10", "", "repository/legacy/billing", "FAIL", "AWS-managed key (alias alias/aws/ecr)"),
    ("NET-10", "", "repository/payments/api", "PASS", "customer-managed key"),
    ("NET-11", WEAK, ".ecr.api", "FAIL", "allows ingress from the whole internet"),
    ("NET-11", WEAK, ".ecr.dkr", "FAIL", "no interface endpoint"),
    ("NET-11", WEAK, ".s3", "FAIL", "no gateway endpoint"),
    ("NET-11", HARDENED, ".ecr.api", "PASS", "admit only sources inside the VPC"),
    ("NET-11", HARDENED, ".ecr.dkr", "PASS", "admit only sources inside the VPC"),
    ("NET-11", HARDENED, ".s3", "PASS", "gateway endpoint"),
    ("NET-12", WEAK, "cluster/legacy-weak", "FAIL", "no encryptionConfig for secrets"),
    ("NET-12", HARDENED, "cluster/prod-hardened", "PASS", "secrets encrypted with KMS key"),
]


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}-{r[1] or 'account'}-{r[2]}")
def test_demo_network(demo_pack, row):
    assert_expected(demo_pack[1], *row)


def test_network_picture_of_the_demo(demo_pack):
    """The notebook's per-cluster picture: exposure, endpoints present/missing, open groups, TLS floors."""
    from eksaudit.evidence import Evidence
    from eksaudit.frames import Frames
    from eksaudit.views import network as view

    pack = demo_pack[0]
    f = Frames(Evidence(pack / "evidence"))
    weak, hard = view.picture(f, WEAK), view.picture(f, HARDENED)
    assert weak["exposure"].startswith("public (0.0.0.0/0)") and hard["exposure"] == "private only"
    missing = dict(zip(weak["endpoints"]["service"].str.rsplit(".", n=1).str[-1], weak["endpoints"]["present"]))
    assert missing["eks"] == "MISSING" and missing["secretsmanager"] == "MISSING"
    assert set(hard["endpoints"]["present"]) == {"yes"}
    assert set(weak["open_groups"]["source"]) == {"0.0.0.0/0"} and hard["open_groups"].empty
    floors = dict(zip(weak["listeners"]["listener"], weak["listeners"]["TLS floor"]))
    assert floors == {"TLS:443": "TLSv1", "HTTP:80": "clear text"}
    assert set(hard["listeners"]["TLS floor"]) == {"TLSv1.2", "redirects to HTTPS"}
    html = (pack / "network.html").read_text()
    assert "Network picture" in html and "Load balancer listeners and their TLS floor" in html


def test_the_network_page_shows_the_runs_pictures_of_its_own_clusters(demo_pack, tmp_path, monkeypatch):
    """A run shares every audited cluster's picture; a page shows those of the clusters its findings name."""
    import pandas as pd

    from eksaudit import notebook
    from eksaudit.evidence import Evidence
    from eksaudit.frames import Frames
    from eksaudit.views import network as view

    pack, findings = demo_pack
    f = Frames(Evidence(pack / "evidence"))
    every = view.tables(f, findings)[view.PICTURES]
    assert {WEAK, HARDENED} <= set(every)  # and the demo's third audited cluster
    pd.testing.assert_frame_equal(every[WEAK]["listeners"], view.picture(f, WEAK)["listeners"])
    pd.to_pickle(every, tmp_path / "pictures.pkl")
    shown: list[str] = []
    monkeypatch.setattr(view, "show_html", shown.append)
    notebook.use_shared_findings(str(tmp_path), {}, {view.PICTURES: str(tmp_path / "pictures.pkl")})
    try:  # no evidence in these contexts: the pictures come from the run's copy
        view.show_picture(notebook.Context("network", findings[findings["cluster"] == WEAK], None, {}, {},
                                           str(tmp_path)))
        view.show_picture(notebook.Context("network", findings.iloc[0:0], None, {}, {}, str(tmp_path)))
    finally:
        notebook._SHARED.clear()
    assert f"<h3>{WEAK}</h3>" in shown[0] and HARDENED not in shown[0]
    assert all(f"<h3>{name}</h3>" in shown[1] for name in every)  # no cluster named: every one

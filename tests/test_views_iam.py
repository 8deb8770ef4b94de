"""The IAM notebook pictures: statements behind IAM-01/IAM-10 offenders, counts per cluster."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from eksaudit import notebook, render
from eksaudit.frames import Frames
from eksaudit.testing import ACCOUNT, EvidenceBuilder, findings_for
from eksaudit.views import iam as view


def _ev(tmp_path):
    admins = {"GroupName": "admins", "Arn": f"arn:aws:iam::{ACCOUNT}:group/admins", "Path": "/",
              "GroupPolicyList": [{"PolicyName": "all", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                  {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}}],
              "AttachedManagedPolicies": []}
    user = {"UserName": "<b>eve</b>", "Arn": f"arn:aws:iam::{ACCOUNT}:user/<b>eve</b>", "Path": "/",
            "GroupList": ["admins"], "UserPolicyList": [], "AttachedManagedPolicies": []}
    b = EvidenceBuilder(tmp_path)
    b.aws("iam", "GetAccountAuthorizationDetails", {"UserDetailList": [user], "GroupDetailList": [admins],
                                                    "RoleDetailList": [], "Policies": []}, region="")
    b.aws("ecr", "DescribeRepositories", {"repositories": [{"repositoryName": "pub"}]})
    b.aws("ecr", "GetRepositoryPolicy", {"policyText": json.dumps({"Statement": [
        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]})},
        params={"repositoryName": "pub"})
    return b.build()


@pytest.mark.parametrize("check_id", ["IAM-01", "IAM-10"])
def test_granting_statements(tmp_path, check_id):
    ev = _ev(tmp_path)
    f = findings_for(check_id, ev)
    df = view.granting_statements(ev, f, check_id)
    user = df[df["principal"].str.contains("user/")]
    assert len(user) == 1
    row = user.iloc[0]
    assert (row["policy"], row["statement"], row["attached"], row["grants"]) == ("all", "Everything",
                                                                                  "group admins inline", "*")
    assert row["actions_granted"] > 10


def test_repository_policy_statements(tmp_path):
    ev = _ev(tmp_path)
    df = view.repository_policy_statements(ev, findings_for("IAM-10", ev))
    assert df[["repository", "statement", "principal"]].values.tolist() == [["pub", "Open", "*"]]


def test_granting_statements_only_for_iam01_and_iam10(tmp_path):
    ev = _ev(tmp_path)
    with pytest.raises(ValueError):
        view.granting_statements(ev, findings_for("IAM-02", ev), "IAM-02")


def test_counts_by_cluster(tmp_path):
    ev = _ev(tmp_path)
    c = view.counts_by_cluster(findings_for("IAM-01", ev))
    assert c[["check_id", "cluster"]].values.tolist() == [["IAM-01", "(account)"]]
    assert int(c["FAIL"].iloc[0]) == 2  # the user and its group


def test_untrusted_names_are_escaped(tmp_path):
    ev = _ev(tmp_path)
    html = render.table(view.granting_statements(ev, findings_for("IAM-01", ev), "IAM-01"))
    assert "<b>eve</b>" not in html and "&lt;b&gt;eve&lt;/b&gt;" in html


def _shared_page(tmp_path, findings, tables) -> notebook.Context:
    """A page's context in a run that shared `tables` (no evidence to fall back on)."""
    files = {}
    for i, (name, table) in enumerate(tables.items()):
        files[name] = str(tmp_path / f"t{i}.pkl")
        pd.to_pickle(table, files[name])
    notebook.use_shared_findings(str(tmp_path), {}, files)
    return notebook.Context("iam", findings, None, {}, {}, str(tmp_path))


def test_a_run_shares_the_statements_of_its_offenders_and_a_page_shows_its_own(tmp_path, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(view, "show_html", shown.append)
    ev = _ev(tmp_path / "ev")
    findings = pd.concat([findings_for("IAM-01", ev), findings_for("IAM-10", ev)], ignore_index=True)
    tables = view.tables(Frames(ev), findings)
    for check_id in ("IAM-01", "IAM-10"):
        pd.testing.assert_frame_equal(tables[view.GRANTING[check_id]], view.granting_statements(ev, findings, check_id))
    pd.testing.assert_frame_equal(tables[view.REPOSITORY_STATEMENTS], view.repository_policy_statements(ev, findings))
    assert tables[view.GRANTING["IAM-01"]]["principal"].str.contains("eve").any()
    # A page filtered to fewer offenders (another cluster, a severity floor) shows only its own from the run's copy.
    page = findings[~findings["resource_id"].str.contains("eve|pub")]
    ctx = _shared_page(tmp_path, page, tables)
    try:
        view.show_granting_statements(ctx, "IAM-01")
        view.show_granting_statements(ctx, "IAM-10")
        ctx_all = _shared_page(tmp_path, findings, tables)
        view.show_granting_statements(ctx_all, "IAM-10")
    finally:
        notebook._SHARED.clear()
    assert "group/admins" in shown[0] and "eve" not in shown[0]
    assert "repository policy" not in shown[1]
    assert "eve&lt;/b&gt;" in shown[2] and "repository policy statements" in shown[2] and "Open" in shown[2]
    # The same page opened by hand builds the same from its evidence.
    by_hand: list[str] = []
    monkeypatch.setattr(view, "show_html", by_hand.append)
    view.show_granting_statements(notebook.Context("iam", findings, ev, {}, {}, str(tmp_path)), "IAM-10")
    assert by_hand == shown[2:]
    with pytest.raises(ValueError):
        view.show_granting_statements(ctx, "IAM-02")

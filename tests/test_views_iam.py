"""The IAM notebook pictures: statements behind IAM-01/IAM-10 offenders, counts per cluster."""

from __future__ import annotations

import json

import pytest

from eksaudit import render
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

"""Assertion shared by the per-domain end-to-end tests."""

from __future__ import annotations

import pandas as pd


def assert_expected(findings: pd.DataFrame, check_id: str, cluster: str, resource: str, status: str,
                    reason: str) -> None:
    """Some finding of check_id on cluster ("" for account-level) whose resource_id contains `resource` and whose
    reason contains `reason` has `status`; for PASS, every finding on that resource passes."""
    rows = findings[(findings["check_id"] == check_id) & (findings["cluster"] == cluster)
                    & findings["resource_id"].str.contains(resource, regex=False)]
    assert not rows.empty, f"{check_id} has no finding for {resource} on {cluster or 'the account'}"
    matching = rows[rows["reason"].str.contains(reason, regex=False)]
    assert not matching.empty, rows["reason"].tolist()
    assert set(matching["status"]) == {status}, matching[["status", "reason"]].to_string()
    if status == "PASS":
        assert set(rows["status"]) == {"PASS"}, rows[["status", "reason"]].to_string()

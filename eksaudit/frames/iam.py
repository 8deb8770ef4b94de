"""Frames for the IAM domain."""

from __future__ import annotations

from ..policy import AuthorizationDetails
from . import Frames, frame

GAAD = "aws:iam:GetAccountAuthorizationDetails"


@frame("iam_auth", [GAAD])
def iam_auth(f: Frames) -> AuthorizationDetails:
    """Not a DataFrame: the account's IAM authorization details, ready for policy evaluation (eksaudit.policy).
    Empty when GetAccountAuthorizationDetails was not collected (checks then ERROR through their inputs)."""
    merged: dict = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for _, data in f.evidence.responses(GAAD):
        for key in merged:
            merged[key].extend(data.get(key) or [])
    return AuthorizationDetails(merged)

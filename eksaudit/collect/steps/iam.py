"""AWS reads for the IAM domain. IAM is read once, whole, with GetAccountAuthorizationDetails."""

from . import each, step  # noqa: F401

step("iam", "GetAccountAuthorizationDetails", scope="global")

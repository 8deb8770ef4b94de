"""More accounts on the demo's moto server, for fleet audits (tests, benchmarks).

moto gives the account of an assumed role's ARN a backend of its own: credentials from
AssumeRole(arn:aws:iam::111111111111:role/...) read and write account 111111111111. A member account is seeded
with the demo's own core (VPCs, cluster roles, the two clusters), through such credentials.
"""

from __future__ import annotations

import boto3

from .account import REGION, seed_cluster_roles, seed_clusters, seed_vpcs

SEED_ROLE = "eksaudit-demo-seeder"


class MemberAccount:
    """Another account of the demo's moto server, written through an assumed role in it."""

    def __init__(self, endpoint_url: str, account_id: str):
        self.endpoint_url = endpoint_url
        self.account_id = account_id
        self.ids: dict[str, str] = {}
        sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint_url, aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{SEED_ROLE}",
                                RoleSessionName="seed")["Credentials"]
        self._creds = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                       "aws_session_token": creds["SessionToken"]}

    def client(self, service: str, region: str = REGION):
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint_url, **self._creds)


def seed_member(endpoint_url: str, account_id: str, clusters: bool = True) -> MemberAccount:
    """A member account with the demo's two clusters (and their VPCs and roles), or an empty one."""
    acct = MemberAccount(endpoint_url, account_id)
    if clusters:
        seed_vpcs(acct)
        seed_cluster_roles(acct)
        seed_clusters(acct)
    return acct

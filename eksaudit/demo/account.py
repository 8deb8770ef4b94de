"""Start moto on 127.0.0.1 and seed the demo account: one hardened cluster, one with planted weaknesses.

Seeding is split by domain (seed_* functions) so each domain's planted offenders sit beside their clean twins.
Nothing here knows about checks: it builds an account the way an operator would.

A second audit of the account "after the team fixed some things" is the same account with fixes applied after
seeding: each seed module lists its FIXES (name -> what the team did) and applies them in `fix(acct, name)`.
moto's random generator is seeded first, so resource IDs (VPCs, security groups, load balancer ARNs...) are the
same in every demo run and two demo audits can be compared finding by finding.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"
WEAK = "legacy-weak"
HARDENED = "prod-hardened"
# Values planted to prove they never reach a pack (issue #12: nothing secret ever enters a pack), one per place
# a secret has been seen to hide in; tests/test_no_secrets.py proves each reaches the collector and none the pack.
PLANTED_SECRETS = {
    "secretsmanager": "sm-DEMO-s3cr3t-value-7f3a9c",
    "k8s_secret": "k8s-DEMO-secret-password-51be",
    "env": "env-DEMO-db-password-a41d",
    "configmap_token": "cm-DEMO-api-token-99c2",
    # Kubernetes
    "args": "args-DEMO-db-password-0b7e",
    "command": "cmd-DEMO-api-key-3c1f",
    "probe_header": "probe-DEMO-basic-auth-6a90",
    "probe_exec": "exec-DEMO-probe-token-8e21",
    "lifecycle": "hook-DEMO-post-start-key-d4c3",
    "csi_attribute": "csi-DEMO-volume-secret-2f6b",
    "annotation": "anno-DEMO-api-token-77a1",
    "template_annotation": "tmpl-DEMO-annotation-pass-19bd",
    "last_applied": "applied-DEMO-nested-secret-5e0c",
    "kapp": "kapp-DEMO-original-secret-c8d2",
    "rancher": "rancher-DEMO-gzip-secret-4b7a",
    "aws_auth_extra": "awsauth-DEMO-extra-key-e913",
    "label": "label-DEMO-token-0c55",
    # AWS
    "eks_tag": "ekstag-DEMO-password-a0f4",
    "nodegroup_tag": "ngtag-DEMO-password-6d13",
    "iam_role_tag": "roletag-DEMO-password-3e8b",
    "iam_user_tag": "usertag-DEMO-password-91c6",
    "vpc_tag": "vpctag-DEMO-password-27da",
    "ecr_tag": "ecrtag-DEMO-password-f5e2",
    "sm_description": "smdesc-DEMO-password-8a3f",
    "sm_tag": "smtag-DEMO-password-b6c0",
}


class DemoAccount:
    """A seeded moto server; use as a context manager."""

    def __init__(self, fixes: list[str] | tuple[str, ...] = ()) -> None:
        self.fixes = tuple(check_fixes(list(fixes)))
        self.server = None
        self.endpoint_url = ""
        self.ids: dict[str, str] = {}

    def __enter__(self) -> DemoAccount:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)

        for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_DEFAULT_REGION": REGION}.items():
            os.environ.setdefault(k, v)
        os.environ.pop("AWS_PROFILE", None)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        _seed_random(self)
        seed(self)
        for name in self.fixes:
            _fix_module(name).fix(self, name)
        return self

    def __exit__(self, *exc) -> None:
        if self.server is not None:
            self.server.stop()

    def client(self, service: str, region: str = REGION):
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


DOMAIN_SEEDS = ["seed_iam", "seed_network", "seed_logging", "seed_images"]
RANDOM_SEED = 20260115  # any fixed value: the same IDs in every demo run


def _seed_random(acct: DemoAccount) -> None:
    """Make moto's generated IDs repeatable (its documented seeding endpoint), so that findings about the same
    resource carry the same resource ID in every demo run."""
    import urllib.request

    req = urllib.request.Request(f"{acct.endpoint_url}/moto-api/seed?a={RANDOM_SEED}", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310  (the loopback moto server)
        resp.read()


def fixes() -> dict[str, str]:
    """Every fix the demo team can apply, by name: what it changes (from the seed modules' FIXES)."""
    import importlib

    out: dict[str, str] = {}
    for name in DOMAIN_SEEDS:
        out.update(getattr(importlib.import_module(f"{__package__}.{name}"), "FIXES", {}))
    return out


def _fix_module(fix: str):
    import importlib

    return next(m for m in (importlib.import_module(f"{__package__}.{n}") for n in DOMAIN_SEEDS)
                if fix in getattr(m, "FIXES", {}))


def check_fixes(names: list[str]) -> list[str]:
    """The fix names, checked: an unknown one is one line listing the known ones."""
    from ..errors import UserError

    known = fixes()
    bad = [n for n in names if n not in known]
    if bad:
        raise UserError(f"unknown demo fix {', '.join(map(repr, bad))}; known: {', '.join(known)}")
    return list(dict.fromkeys(names))


def seed(acct: DemoAccount) -> None:
    """The shared core (VPCs, cluster roles, the two clusters), then each domain's resources."""
    import importlib

    seed_vpcs(acct)
    seed_cluster_roles(acct)
    seed_clusters(acct)
    for name in DOMAIN_SEEDS:
        importlib.import_module(f"{__package__}.{name}").seed(acct)


def seed_vpcs(acct: DemoAccount) -> None:
    ec2 = acct.client("ec2")
    for name, cidr in ((WEAK, "10.10.0.0/16"), (HARDENED, "10.20.0.0/16")):
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": f"{name}-vpc"},
                                               {"Key": "db-password", "Value": PLANTED_SECRETS["vpc_tag"]}])
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace(".0.0/16", f".{i}.0/24"),
                                     AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        sg = ec2.create_security_group(GroupName=f"{name}-cluster-sg", Description="cluster", VpcId=vpc)["GroupId"]
        acct.ids[f"{name}:vpc"] = vpc
        acct.ids[f"{name}:subnets"] = json.dumps(subnets)
        acct.ids[f"{name}:sg"] = sg


def seed_cluster_roles(acct: DemoAccount) -> None:
    iam = acct.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    for name in (f"{WEAK}-cluster-role", f"{HARDENED}-cluster-role"):
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="eks-cluster", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
                "ec2:DescribeInstances", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"]}]}))
        acct.ids[f"{name}:arn"] = arn


def seed_clusters(acct: DemoAccount) -> None:
    eks, kms = acct.client("eks"), acct.client("kms")
    key = kms.create_key(Description="EKS secrets envelope key")["KeyMetadata"]["Arn"]
    acct.ids["eks-secrets-key"] = key
    all_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    eks.create_cluster(
        name=WEAK, version="1.29", roleArn=acct.ids[f"{WEAK}-cluster-role:arn"],
        resourcesVpcConfig={"subnetIds": json.loads(acct.ids[f"{WEAK}:subnets"]),
                            "securityGroupIds": [acct.ids[f"{WEAK}:sg"]],
                            "endpointPublicAccess": True, "endpointPrivateAccess": False,
                            "publicAccessCidrs": ["0.0.0.0/0"]},
        logging={"clusterLogging": [{"types": ["api"], "enabled": True},
                                    {"types": [t for t in all_types if t != "api"], "enabled": False}]},
        tags={"team": "legacy", "env": "dev", "password": PLANTED_SECRETS["eks_tag"]})
    eks.create_cluster(
        name=HARDENED, version="1.31", roleArn=acct.ids[f"{HARDENED}-cluster-role:arn"],
        resourcesVpcConfig={"subnetIds": json.loads(acct.ids[f"{HARDENED}:subnets"]),
                            "securityGroupIds": [acct.ids[f"{HARDENED}:sg"]],
                            "endpointPublicAccess": False, "endpointPrivateAccess": True},
        logging={"clusterLogging": [{"types": all_types, "enabled": True}]},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": key}}],
        tags={"team": "payments", "env": "prod"})


@contextlib.contextmanager
def running(fixes: list[str] | tuple[str, ...] = ()) -> Iterator[DemoAccount]:
    with DemoAccount(fixes) as acct:
        yield acct

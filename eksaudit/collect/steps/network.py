"""AWS reads for the network domain: security groups, VPC endpoints, load balancers and their TLS policies,
ECR repository keys and tags, and Secrets Manager metadata (ListSecrets only: never a secret value)."""

from __future__ import annotations

from . import each, step


def _batches(path: str, param: str, size: int) -> object:
    """Fan-out in batches: one call per `size` values (DescribeTags takes up to 20 ARNs)."""
    pluck = each(path, param)

    def fan(data: dict, region: str, parent_params: dict | None = None) -> list[dict]:
        values = [p[param] for p in pluck(data, region)]
        return [{param: values[i:i + size]} for i in range(0, len(values), size)]

    return fan


def _unique(path: str, param: str) -> object:
    """Fan-out with duplicates removed (several repositories often share one key)."""
    pluck = each(path, param)

    def fan(data: dict, region: str, parent_params: dict | None = None) -> list[dict]:
        seen: list = []
        for p in pluck(data, region):
            if p[param] not in seen:
                seen.append(p[param])
        return [{param: v} for v in seen]

    return fan


DESCRIBE_VPCS = step("ec2", "DescribeVpcs").input
DESCRIBE_SECURITY_GROUPS = step("ec2", "DescribeSecurityGroups").input
DESCRIBE_VPC_ENDPOINTS = step("ec2", "DescribeVpcEndpoints").input
DESCRIBE_LOAD_BALANCERS = step("elbv2", "DescribeLoadBalancers").input
DESCRIBE_LISTENERS = step("elbv2", "DescribeListeners", parent=("elbv2", "DescribeLoadBalancers"),
      fanout=each("LoadBalancers[].LoadBalancerArn", "LoadBalancerArn")).input
DESCRIBE_TAGS = step("elbv2", "DescribeTags", parent=("elbv2", "DescribeLoadBalancers"),
      fanout=_batches("LoadBalancers[].LoadBalancerArn", "ResourceArns", 20)).input
DESCRIBE_SSL_POLICIES = step("elbv2", "DescribeSSLPolicies").input
LIST_TAGS_FOR_RESOURCE = step("ecr", "ListTagsForResource", parent=("ecr", "DescribeRepositories"),
      fanout=each("repositories[].repositoryArn", "resourceArn")).input
DESCRIBE_KEY = step("kms", "DescribeKey", parent=("ecr", "DescribeRepositories"),
      fanout=_unique("repositories[].encryptionConfiguration.kmsKey", "KeyId")).input
LIST_ALIASES = step("kms", "ListAliases").input
LIST_SECRETS = step("secretsmanager", "ListSecrets").input
DESCRIBE_SUBNETS = step("ec2", "DescribeSubnets").input

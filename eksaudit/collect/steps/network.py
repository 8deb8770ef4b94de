"""AWS reads for the network domain: security groups, VPC endpoints, load balancers and their TLS policies,
ECR repository keys and tags, and Secrets Manager metadata (ListSecrets only: never a secret value)."""

from __future__ import annotations

from . import STEPS, each, step


def _once(service: str, operation: str, **kwargs) -> None:
    """Declare a step unless another domain already reads it (its declaration then serves both)."""
    if not any(s.key == (service, operation) for s in STEPS):
        step(service, operation, **kwargs)


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


_once("ec2", "DescribeVpcs")
_once("ec2", "DescribeSecurityGroups")
_once("ec2", "DescribeVpcEndpoints")
_once("elbv2", "DescribeLoadBalancers")
_once("elbv2", "DescribeListeners", parent=("elbv2", "DescribeLoadBalancers"),
      fanout=each("LoadBalancers[].LoadBalancerArn", "LoadBalancerArn"))
_once("elbv2", "DescribeTags", parent=("elbv2", "DescribeLoadBalancers"),
      fanout=_batches("LoadBalancers[].LoadBalancerArn", "ResourceArns", 20))
_once("elbv2", "DescribeSSLPolicies")
_once("ecr", "ListTagsForResource", parent=("ecr", "DescribeRepositories"),
      fanout=each("repositories[].repositoryArn", "resourceArn"))
_once("kms", "DescribeKey", parent=("ecr", "DescribeRepositories"),
      fanout=_unique("repositories[].encryptionConfiguration.kmsKey", "KeyId"))
_once("kms", "ListAliases")
_once("secretsmanager", "ListSecrets")
_once("ec2", "DescribeSubnets")

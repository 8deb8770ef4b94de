"""AWS reads for the images domain (ECR; NET-09/10 read them too)."""

from . import each, step  # noqa: F401

step("ecr", "DescribeRepositories")

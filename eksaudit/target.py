"""Who and where: the AWS session and the Kubernetes source of an audit."""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:  # boto3 is imported where a session is made: notebooks and offline analysis never need it
    import boto3
    import botocore.config

REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")


def retry_config() -> botocore.config.Config:
    """Adaptive retries (client-side rate limiting on throttling), bounded timeouts, pooled connections."""
    import botocore.config

    return botocore.config.Config(retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=10,
                                  read_timeout=30, max_pool_connections=16, user_agent_extra="eksaudit")


@dataclasses.dataclass
class AwsTarget:
    """An AWS account reached through the standard credential chain."""

    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    regions: list[str] = dataclasses.field(default_factory=lambda: ["us-east-1"])
    endpoint_url: str | None = None
    retry_config: botocore.config.Config = dataclasses.field(default_factory=retry_config)
    _session: boto3.Session | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        for region in self.regions:
            if not REGION_RE.match(region):
                raise UserError(f"unknown region {region!r}: expected a name like us-east-1")

    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = self._make_session()
        return self._session

    def _make_session(self) -> boto3.Session:
        import boto3
        import botocore.exceptions

        try:
            base = boto3.Session(profile_name=self.profile, region_name=self.regions[0])
        except botocore.exceptions.ProfileNotFound as exc:
            raise UserError(f"AWS profile not found: {self.profile}") from exc
        try:
            creds = base.get_credentials()
        except Exception as exc:  # a broken credential source is the user's to fix
            raise UserError(f"cannot load AWS credentials: {exc}") from exc
        if creds is None:
            raise UserError("no AWS credentials found: set a profile, environment variables or an instance role")
        if not self.role_arn:
            return base
        sts = base.client("sts", endpoint_url=self.endpoint_url, config=self.retry_config)
        kwargs = {"RoleArn": self.role_arn, "RoleSessionName": "eksaudit"}
        if self.external_id:
            kwargs["ExternalId"] = self.external_id
        try:
            creds = sts.assume_role(**kwargs)["Credentials"]
        except botocore.exceptions.ClientError as exc:
            raise UserError(f"cannot assume role {self.role_arn}: {exc.response['Error'].get('Message')}") from exc
        except botocore.exceptions.BotoCoreError as exc:  # STS unreachable, say: the user's to fix, one line
            raise UserError(f"cannot assume role {self.role_arn}: {exc}") from exc
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.regions[0],
        )

    def client(self, service: str, region: str | None = None):
        return self.session().client(
            service,
            region_name=region or self.regions[0],
            endpoint_url=self.endpoint_url,
            config=self.retry_config,
        )


@dataclasses.dataclass
class K8sSource:
    """Where Kubernetes objects come from: a kubeconfig, EKS token auth, or kubectl snapshots.

    mode is one of "kubeconfig", "eks", "snapshot" or "none".
    """

    mode: str = "none"
    kubeconfig: str | None = None
    context: str | None = None
    snapshots: dict[str, list[Path]] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_args(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        eks_auth: bool = False,
        snapshots: list[str] | None = None,
    ) -> K8sSource:
        chosen = [bool(kubeconfig or context), eks_auth, bool(snapshots)]
        if sum(chosen) > 1:
            raise UserError("choose one Kubernetes source: --kubeconfig/--context, --eks-auth or --k8s-snapshot")
        if snapshots:
            parsed: dict[str, list[Path]] = {}
            for spec in snapshots:
                name, _, path = spec.rpartition("=") if "=" in spec else ("", "", spec)
                p = Path(path)
                if not p.exists():
                    raise UserError(f"snapshot not found: {path}")
                parsed.setdefault(name, []).append(p)
            return cls(mode="snapshot", snapshots=parsed)
        if eks_auth:
            return cls(mode="eks")
        if kubeconfig or context:
            if kubeconfig and not Path(kubeconfig).exists():
                raise UserError(f"kubeconfig not found: {kubeconfig}")
            return cls(mode="kubeconfig", kubeconfig=kubeconfig, context=context)
        return cls(mode="none")


def eks_token(session: boto3.Session, cluster_name: str, region: str, endpoint_url: str | None = None) -> str:
    """A bearer token for an EKS cluster, made the way `aws eks get-token` makes it."""
    sts = session.client("sts", region_name=region, endpoint_url=endpoint_url)

    def add_header(request, **_):
        request.headers["x-k8s-aws-id"] = cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")

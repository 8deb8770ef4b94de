"""Scale: synthetic estates at 1x, 10x and 100x through the whole `eksaudit run` pipeline (issue #16).

What one measurement is: `eksaudit run` as a child process (`python -m eksaudit.cli run`, this checkout first on
PYTHONPATH, so its kernels import it too) against a moto server with `--endpoint-url`, the Kubernetes side from
`kubectl get -A -o json` snapshots (`--k8s-snapshot CLUSTER=DIR`), `--accept-incomplete`, `--out` a temporary
folder. Everything the command does counts: AWS collection, snapshot reading and redaction, checks, exports, the
five notebooks, HTML, evidence viewers, manifest. Building the estate (seeding moto, writing snapshots) does not
count; its time is reported beside.

Estates (100x = 20 clusters, 50,000 pods, 5,000 IAM roles, 2,000 ECR repositories, 20,000 images; 10x and 1x a
tenth and a hundredth, never fewer than 2 clusters). `--pods N`: the issue's pod-only targets, N pods from a
snapshot with the 1x AWS side, on max(2, ceil(N / 25,000)) clusters (a cluster's pods.json stays well under
the 256 MiB per received file that `safe_files` allows by default).

Decisions about the estate, so numbers can be compared from one run to the next (generation is deterministic):

- AWS side: moto's own server (`moto_server`, a separate process on 127.0.0.1, so neither its CPU nor its memory
  is counted as eksaudit's, and the sampler here is never starved by it), seeded with boto3 over HTTP. Every
  cluster exists in EKS (us-east-1) with a node group, a cluster role (every fifth cluster shares the previous
  one's role), a node role, and an OIDC provider (moto gives all clusters one issuer, so one provider serves
  them all: IRSA trust is not told apart per cluster, a moto artefact). The remaining roles are workload
  roles: 60% IRSA roles trusting their cluster's provider (one in four without a `sub` condition), 20% trusted
  by EC2, 20% cross-account (half with an ExternalId); each has an inline policy (scoped, ecr:* or *) and one of
  roles/25 customer managed policies attached. A few IAM users, one CloudTrail trail with its bucket, a log group
  per cluster, a GuardDuty detector. Repositories alternate settings (tag mutability, scan on push, KMS or AES256,
  lifecycle policy on two in three, a repository policy on one in three, open to everyone on one in nine). Images
  are spread evenly over the repositories, each with an OCI manifest carrying base-image annotations; half of
  them are scanned (`start_image_scan`). moto's DescribeImages never carries a scan summary, so eksaudit looks up
  every tagged image's scan (DescribeImageScanFindings, at most 100 per repository): one AWS call per image that
  real ECR would spare for images scanned on push. That cost is reported as the number of AWS calls.
- Kubernetes side, per cluster, one file per kind the collector reads (every kind present, so nothing is ERROR
  for a missing kind): apps of 5 pods; 60% of apps are Deployments (with their current ReplicaSet and one old,
  scaled-down one), 10% StatefulSets, 30% bare pods owned by a controller kind eksaudit does not collect (as an
  Argo Rollout's are), so they are judged pod by pod. Plus the aws-node and kube-proxy DaemonSets with one pod per
  node (a node per 30 pods), a kube-bench CronJob. Pods carry a realistic status (conditions, container
  statuses, IPs) and are written indented as kubectl does. Each app has its own ServiceAccount (every seventh
  app shares one, every eleventh runs as `default`); a third of the ServiceAccounts are annotated with an IRSA
  role of their cluster. Security contexts mix hardened, missing, root, privileged. Images: 80% from the seeded
  ECR images (one in ten pinned by digest), the rest from Docker Hub, quay.io and missing repositories. Services,
  ConfigMaps (aws-auth in kube-system), Secrets (some legacy token Secrets), NetworkPolicies in half the
  namespaces, Roles/RoleBindings per namespace, ClusterRoles/ClusterRoleBindings, SecurityGroupPolicies.

Per phase: when the pack's run.json has `timings` (`eksaudit run --timings`), they are reported as they are.
Without them the phases are derived from the pack's file times (modification times survive the rename into
place): start-up + AWS collection (to the last AWS evidence file), Kubernetes snapshots (to the last k8s file),
the rest of collection (probes, attachments, evidence manifest), checks + CSV/JSON exports (to findings.json),
notebooks + HTML (to the last page), evidence viewers, OCSF + manifest, and exit (rename, interpreter shutdown).

Peak RSS: the whole process tree of the run (eksaudit and its Jupyter kernels), sampled every 50 ms with psutil.
A run over `--timeout` seconds or `--max-rss-gb` is killed and reported as such. `--profile` samples the Python
stacks of every thread of the eksaudit process (not its kernels) every 10 ms and prints the hottest functions.

    python benchmarks/scale.py [--scale 1,10,100] [--pods 20000,200000] [--keep DIR] [--repeat N] [--profile]
                               [--soup on|off|both] [--timeout 900] [--max-rss-gb 8] [--checkout DIR]

`--checkout DIR` measures another checkout's eksaudit (its runs start in DIR, which `python -m` puts first on
sys.path, and DIR is first on the kernels' PYTHONPATH). `--profile` attributes samples to phases by the runner's
function names at the time of writing (collect_aws, run_checks, _in_parallel, write_viewers...): a renamed
function moves its samples to "run.json, trend, other".

Results go to benchmarks/RESULTS.md by hand; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import dataclasses
import hashlib
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHECKOUT = ROOT  # the eksaudit the measured runs import (--checkout): this one unless told otherwise

ACCOUNT = "123456789012"
REGION = "us-east-1"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
PODS_PER_APP = 5
PODS_PER_NODE = 30
MAX_PODS_PER_CLUSTER = 25_000  # --pods mode: keeps pods.json well under safe_files' 256 MiB per file
CREATED = "2026-01-15T10:00:00Z"
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
       "AWS_EC2_METADATA_DISABLED": "true"}


@dataclasses.dataclass(frozen=True)
class Estate:
    name: str
    clusters: int
    pods: int
    roles: int
    repos: int
    images: int

    @property
    def resources(self) -> int:
        """What "time per resource" divides by: pods, roles, repositories and images (clusters are few)."""
        return self.pods + self.roles + self.repos + self.images


def scale_estate(scale: float) -> Estate:
    f = scale / 100
    return Estate(f"{scale:g}x", max(2, round(20 * f)), round(50_000 * f), round(5_000 * f), round(2_000 * f),
                  round(20_000 * f))


def pods_estate(pods: int) -> Estate:
    base = scale_estate(1)
    return dataclasses.replace(base, name=f"{pods:,} pods", pods=pods,
                               clusters=max(2, math.ceil(pods / MAX_PODS_PER_CLUSTER)))


def cluster_names(e: Estate) -> list[str]:
    return [f"estate-{i:02d}" for i in range(e.clusters)]


# ---- moto ---------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """moto's server in a process of its own on 127.0.0.1."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Moto:
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p",
                                      str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, **ENV})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):  # noqa: S310 (loopback)
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("moto_server did not start")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def cpu(self) -> float:
        """CPU seconds moto has used so far (what serving eksaudit's reads costs, apart from eksaudit's own)."""
        import psutil

        try:
            t = psutil.Process(self.proc.pid).cpu_times()
            return t.user + t.system
        except (psutil.Error, AttributeError):
            return 0.0

    def rss(self) -> int:
        import psutil

        try:
            return psutil.Process(self.proc.pid).memory_info().rss
        except (psutil.Error, AttributeError):
            return 0

    def client(self, service: str):
        import boto3
        import botocore.config

        return boto3.client(service, region_name=REGION, endpoint_url=self.url, aws_access_key_id="testing",
                            aws_secret_access_key="testing",
                            config=botocore.config.Config(max_pool_connections=16, retries={"max_attempts": 8}))


# ---- AWS side -----------------------------------------------------------------------------------------------


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action, resource="*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _parallel(fn, items, workers: int = 8) -> list:
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


@dataclasses.dataclass
class Seeded:
    """What the Kubernetes side refers to: IRSA roles per cluster, node roles, the images pods can run."""

    irsa_roles: dict[str, list[str]]
    node_roles: dict[str, str]
    images: list[tuple[str, str, str]]  # (repository, tag, digest)
    calls: int
    seconds: float


def seed_aws(moto: Moto, e: Estate) -> Seeded:
    from eksaudit.demo.seed_images import manifest

    t0 = time.perf_counter()
    calls = collections.Counter()
    iam, eks, ec2, ecr = (moto.client(s) for s in ("iam", "eks", "ec2", "ecr"))
    names = cluster_names(e)

    def counted(service: str, n: int = 1) -> None:
        calls[service] += n

    # Network: one VPC per five clusters, two subnets each, a security group per cluster (some open to all).
    subnets, sgs = {}, {}
    for v in range(math.ceil(len(names) / 5)):
        vpc = ec2.create_vpc(CidrBlock=f"10.{v}.0.0/16")["Vpc"]["VpcId"]
        sub = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{v}.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
        counted("ec2", 3)
        for name in names[v * 5:(v + 1) * 5]:
            subnets[name] = sub
            sg = ec2.create_security_group(GroupName=f"{name}-cluster-sg", Description="cluster", VpcId=vpc)["GroupId"]
            if names.index(name) % 3 == 0:
                ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
                    "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
                counted("ec2")
            sgs[name] = sg
            counted("ec2")

    # Cluster and node roles, clusters, node groups, OIDC providers.
    eks_trust = _doc({"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"})
    ec2_trust = _doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    cluster_role, node_roles = {}, {}
    for i, name in enumerate(names):
        if i % 5 == 4:
            cluster_role[name] = cluster_role[names[i - 1]]  # shared with the previous cluster (IAM-05)
        else:
            cluster_role[name] = iam.create_role(RoleName=f"{name}-cluster-role",
                                                 AssumeRolePolicyDocument=eks_trust)["Role"]["Arn"]
            iam.put_role_policy(RoleName=f"{name}-cluster-role", PolicyName="eks-cluster", PolicyDocument=_doc(
                _allow(["ec2:DescribeInstances", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"])))
            counted("iam", 2)
        node_roles[name] = iam.create_role(RoleName=f"{name}-node-role",
                                           AssumeRolePolicyDocument=ec2_trust)["Role"]["Arn"]
        iam.put_role_policy(RoleName=f"{name}-node-role", PolicyName="worker-node", PolicyDocument=_doc(
            _allow(["ec2:DescribeInstances", "eks:DescribeCluster"]),
            _allow("ecr:*" if i % 2 else ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])))
        counted("iam", 2)
    key = moto.client("kms").create_key(Description="EKS secrets")["KeyMetadata"]["Arn"]
    all_logs = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    for i, name in enumerate(names):
        public = i % 2 == 0
        eks.create_cluster(
            name=name, version="1.30", roleArn=cluster_role[name],
            resourcesVpcConfig={"subnetIds": subnets[name], "securityGroupIds": [sgs[name]],
                                "endpointPublicAccess": public, "endpointPrivateAccess": not public,
                                **({"publicAccessCidrs": ["0.0.0.0/0"]} if public else {})},
            logging={"clusterLogging": [{"types": all_logs, "enabled": i % 3 != 0}]},
            **({"encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": key}}]} if i % 2 else {}),
            tags={"team": f"team-{i % 4}"})
        eks.create_nodegroup(clusterName=name, nodegroupName=f"{name}-ng", nodeRole=node_roles[name],
                             subnets=subnets[name], scalingConfig={"minSize": 1, "maxSize": 5, "desiredSize": 3})
        counted("eks", 2)
    # moto gives every cluster of a server the same OIDC issuer: one provider serves them all.
    providers, made = {}, {}
    for name in names:
        issuer = eks.describe_cluster(name=name)["cluster"]["identity"]["oidc"]["issuer"]
        counted("eks")
        if issuer not in made:
            made[issuer] = iam.create_open_id_connect_provider(
                Url=issuer, ClientIDList=["sts.amazonaws.com"],
                ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])["OpenIDConnectProviderArn"]
            counted("iam")
        providers[name] = (made[issuer], issuer.removeprefix("https://"))

    # Workload roles with trust, inline and attached policies.
    managed = []
    for m in range(max(5, e.roles // 25)):
        doc = _doc(_allow(["s3:GetObject", "s3:ListBucket"], f"arn:aws:s3:::bucket-{m}/*")) if m % 3 else \
            _doc(_allow(["eks:*", "ecr:*"]))
        managed.append(iam.create_policy(PolicyName=f"estate-policy-{m:04d}", PolicyDocument=doc)["Policy"]["Arn"])
        counted("iam")
    workload = max(0, e.roles - len(set(cluster_role.values())) - len(node_roles))

    def make_role(r: int) -> tuple[str, str] | None:
        kind = r % 10
        cluster = names[r % len(names)]
        name = f"estate-role-{r:05d}"
        if kind < 6:
            provider, host = providers[cluster]
            ns, sa = f"team-{r % 7}", f"app-{r}"
            cond = {"StringEquals": {f"{host}:aud": "sts.amazonaws.com",
                                     **({f"{host}:sub": f"system:serviceaccount:{ns}:{sa}"} if r % 4 else {})}}
            trust = _doc({"Effect": "Allow", "Principal": {"Federated": provider},
                          "Action": "sts:AssumeRoleWithWebIdentity", "Condition": cond})
        elif kind < 8:
            trust = ec2_trust
        else:
            stmt = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                    "Action": "sts:AssumeRole"}
            if r % 2:
                stmt["Condition"] = {"StringEquals": {"sts:ExternalId": f"ext-{r}"}}
            trust = _doc(stmt)
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust,
                              Tags=[{"Key": "team", "Value": f"team-{r % 7}"}])["Role"]["Arn"]
        inline = (_allow("*") if r % 50 == 0 else _allow("ecr:*") if r % 10 == 1
                  else _allow("s3:GetObject", f"arn:aws:s3:::data-{r}/*"))
        iam.put_role_policy(RoleName=name, PolicyName="app", PolicyDocument=_doc(inline))
        iam.attach_role_policy(RoleName=name, PolicyArn=managed[r % len(managed)])
        counted("iam", 3)
        return (cluster, arn) if kind < 6 else None

    irsa: dict[str, list[str]] = {n: [] for n in names}
    for got in map(make_role, range(workload)):  # moto's IAM is not safe under concurrent writes (HTTP 500s)
        if got:
            irsa[got[0]].append(got[1])

    # A few users: a CI user with a key, console users with and without MFA.
    for u in range(max(3, e.roles // 100)):
        user = f"estate-user-{u:03d}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=_doc(_allow("eks:Describe*")))
        counted("iam", 2)
        if u % 3 == 0:
            iam.create_access_key(UserName=user)
            counted("iam")
        if u % 3 == 1:
            iam.create_login_profile(UserName=user, Password="Estate-NotARealPassword-1!")
            counted("iam")

    # Logging: a trail and its bucket, a log group per cluster, a GuardDuty detector.
    s3, trail = moto.client("s3"), moto.client("cloudtrail")
    s3.create_bucket(Bucket="estate-trail-logs")
    trail.create_trail(Name="estate-trail", S3BucketName="estate-trail-logs", IsMultiRegionTrail=True)
    trail.start_logging(Name="estate-trail")
    logs = moto.client("logs")
    for name in names:
        logs.create_log_group(logGroupName=f"/aws/eks/{name}/cluster")
    moto.client("guardduty").create_detector(Enable=True)
    counted("other", 5 + len(names))

    # ECR: repositories with alternating settings, images spread over them, half of the images scanned.
    ecr_key = moto.client("kms").create_key(Description="ECR")["KeyMetadata"]["Arn"]
    repos = [f"team-{r % 13}/app-{r:04d}" for r in range(e.repos)]
    lifecycle = json.dumps({"rules": [{"rulePriority": 1, "description": "expire untagged",
                                       "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                     "countUnit": "days", "countNumber": 7},
                                       "action": {"type": "expire"}}]})

    def make_repo(r: int) -> None:
        name = repos[r]
        kms = r % 2 == 0
        ecr.create_repository(
            repositoryName=name, imageTagMutability="IMMUTABLE" if r % 3 else "MUTABLE",
            imageScanningConfiguration={"scanOnPush": r % 2 == 0},
            encryptionConfiguration={"encryptionType": "KMS", "kmsKey": ecr_key} if kms else {"encryptionType": "AES256"},
            tags=[{"Key": "sensitivity", "Value": "high" if r % 5 == 0 else "low"}])
        n = 1
        if r % 3:
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=lifecycle)
            n += 1
        if r % 3 == 0:
            principal = "*" if r % 9 == 0 else {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
            ecr.set_repository_policy(repositoryName=name, policyText=_doc(
                {"Sid": "Pull", "Effect": "Allow", "Principal": principal,
                 "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}))
            n += 1
        counted("ecr", n)

    _parallel(make_repo, range(len(repos)))
    bases = ["scratch", f"{ECR}/base/distroless-static:2026.01", "docker.io/library/node:14-alpine",
             "docker.io/library/python:3.12-slim"]

    def push(i: int) -> tuple[str, str, str]:
        repo, tag = repos[i % len(repos)], f"v{i // len(repos) + 1}.{i % 7}"
        body = manifest(repo, tag, bases[i % len(bases)])
        digest = ecr.put_image(repositoryName=repo, imageTag=tag, imageManifest=body,
                               imageManifestMediaType="application/vnd.oci.image.manifest.v1+json"
                               )["image"]["imageId"]["imageDigest"]
        n = 1
        if i % 2 == 0:
            ecr.start_image_scan(repositoryName=repo, imageId={"imageTag": tag})
            n += 1
        counted("ecr", n)
        return repo, tag, digest

    images = _parallel(push, range(e.images)) if repos else []
    return Seeded(irsa, node_roles, images, sum(calls.values()), time.perf_counter() - t0)


# ---- Kubernetes side ----------------------------------------------------------------------------------------

HARD_CTX = {"runAsNonRoot": True, "runAsUser": 10001, "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
POD_CTX = {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def _meta(name: str, ns: str | None = None, labels: dict | None = None, **extra) -> dict:
    uid = hashlib.md5(f"{ns}/{name}".encode()).hexdigest()  # noqa: S324 (an ID, not security)
    m = {"name": name, "uid": f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:]}",
         "resourceVersion": str(int(uid[:6], 16)), "creationTimestamp": CREATED}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    m.update(extra)
    return m


def _owner(kind: str, name: str, ns: str, api: str = "apps/v1") -> list[dict]:
    return [{"apiVersion": api, "kind": kind, "name": name, "uid": _meta(name, ns)["uid"], "controller": True,
             "blockOwnerDeletion": True}]


class ClusterWriter:
    """The objects of one cluster, by plural, built from the seeded AWS side; `write` makes kubectl's files."""

    def __init__(self, cluster: str, index: int, pods: int, seeded: Seeded) -> None:
        self.cluster, self.index, self.seeded = cluster, index, seeded
        self.objects: dict[str, list[dict]] = collections.defaultdict(list)
        self.nodes = max(3, pods // PODS_PER_NODE)
        daemon_pods = 2 * self.nodes
        self.app_pods = max(PODS_PER_APP, pods - daemon_pods)
        self.apps = math.ceil(self.app_pods / PODS_PER_APP)
        self.namespaces = [f"team-{n}" for n in range(max(3, self.apps // 20))]
        self.irsa = seeded.irsa_roles.get(cluster) or []
        self.accounts: set[tuple[str, str]] = set()  # (namespace, name) of the ServiceAccounts written

    def add(self, plural: str, obj: dict) -> None:
        self.objects[plural].append(obj)

    def image(self, app: int, slot: int) -> str:
        k = (app * 3 + slot) % 10
        images = self.seeded.images
        if images and k < 8:
            repo, tag, digest = images[(app * 7 + slot + self.index * 131) % len(images)]
            return f"{ECR}/{repo}@{digest}" if k == 0 else f"{ECR}/{repo}:{tag}"
        return ["nginx:1.25", f"{ECR}/missing/repo-{app % 5}:1.0", "quay.io/prometheus/node-exporter:v1.8.0"][k % 3]

    def container(self, name: str, image: str, ctx: dict | None, env: bool = False) -> dict:
        c = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
             "ports": [{"containerPort": 8080, "protocol": "TCP"}],
             "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
             "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10},
             "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
             "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                               "readOnly": True}]}
        if ctx is not None:
            c["securityContext"] = ctx
        if env:
            c["env"] = [{"name": "LOG_LEVEL", "value": "info"},
                        {"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "db"}}}]
        return c

    def pod_spec(self, app: int, sa: str) -> dict:
        flavour = app % 6  # 0,1 hardened; 2 no context; 3 root; 4 privileged; 5 non-root without read-only root
        ctx = {0: HARD_CTX, 1: HARD_CTX, 2: None, 3: {"runAsUser": 0}, 4: {"privileged": True},
               5: {"runAsNonRoot": True, "runAsUser": 1000}}[flavour]
        spec = {"serviceAccountName": sa, "serviceAccount": sa,
                "containers": [self.container("app", self.image(app, 0), ctx, env=True)],
                "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                "schedulerName": "default-scheduler", "enableServiceLinks": True, "priority": 0,
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                                 "tolerationSeconds": 300}],
                "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}]}
        if flavour < 2:
            spec["securityContext"] = POD_CTX
            spec["automountServiceAccountToken"] = False
        if app % 4 == 0:
            spec["containers"].append(self.container("proxy", self.image(app, 1), ctx))
        if app % 6 == 1:
            spec["initContainers"] = [self.container("migrate", self.image(app, 2), ctx)]
        return spec

    def pod(self, name: str, ns: str, labels: dict, spec: dict, node: int, owner: list[dict] | None,
            n: int) -> dict:
        meta = _meta(name, ns, labels)
        if owner:
            meta["ownerReferences"] = owner
        ip = f"10.{self.index % 250}.{(n // 250) % 250}.{n % 250 + 1}"
        statuses = [{"name": c["name"], "image": c["image"],
                     "imageID": f"{c['image'].split('@')[0].split(':')[0]}@sha256:{hashlib.sha256(c['image'].encode()).hexdigest()}",
                     "containerID": "containerd://" + hashlib.sha256((name + c["name"]).encode()).hexdigest(),
                     "ready": True, "restartCount": n % 3, "started": True,
                     "state": {"running": {"startedAt": CREATED}}} for c in spec["containers"]]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                "spec": {**spec, "nodeName": f"ip-10-{self.index}-{node // 250}-{node % 250}.ec2.internal"},
                "status": {"phase": "Running", "hostIP": f"10.{self.index}.{node // 250}.{node % 250}",
                           "podIP": ip, "podIPs": [{"ip": ip}], "qosClass": "Burstable", "startTime": CREATED,
                           "conditions": [{"type": t, "status": "True", "lastProbeTime": None,
                                           "lastTransitionTime": CREATED}
                                          for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                           "containerStatuses": statuses}}

    def build(self) -> None:
        ns_all = ["kube-system", "default", *self.namespaces]
        for ns in ns_all:
            self.add("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                    "metadata": _meta(ns, labels={"kubernetes.io/metadata.name": ns}),
                                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
            self.add("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("kube-root-ca.crt", ns),
                                    "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"}})
            self.add("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("default", ns)})
        for ns in self.namespaces:
            i = self.namespaces.index(ns)
            self.add("secrets", {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                 "metadata": _meta("app-credentials", ns), "data": {"password": "c2VjcmV0"}})
            self.add("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("app-config", ns),
                                    "data": {"db": f"db.{ns}.internal", "LOG_LEVEL": "info"}})
            if i % 2 == 0:
                self.add("networkpolicies", {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                             "metadata": _meta("default-deny", ns),
                                             "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
            if i % 4 == 1:
                self.add("securitygrouppolicies", {"apiVersion": "vpcresources.k8s.aws/v1beta1",
                                                   "kind": "SecurityGroupPolicy", "metadata": _meta("app-sgp", ns),
                                                   "spec": {"podSelector": {"matchLabels": {"tier": "db"}},
                                                            "securityGroups": {"groupIds": ["sg-0123456789abcdef0"]}}})
            self.add("roles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                               "metadata": _meta("developer", ns), "rules": [
                                   {"apiGroups": ["", "apps"], "resources": ["pods", "deployments"],
                                    "verbs": ["get", "list", "watch"] if i % 3 else ["*"]}]})
            self.add("rolebindings", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                      "metadata": _meta("developers", ns),
                                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                  "name": "developer"},
                                      "subjects": [{"kind": "Group", "name": f"{ns}-developers",
                                                    "apiGroup": "rbac.authorization.k8s.io"}]})
        for r in range(10):
            self.add("clusterroles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                      "metadata": _meta(f"estate-reader-{r}"), "rules": [
                                          {"apiGroups": [""], "resources": ["pods", "nodes", "secrets" if r == 0 else
                                                                            "configmaps"], "verbs": ["get", "list"]}]})
            self.add("clusterrolebindings", {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": _meta(f"estate-reader-{r}"),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": "cluster-admin" if r == 0 else f"estate-reader-{r}"},
                "subjects": [{"kind": "Group", "name": f"readers-{r}", "apiGroup": "rbac.authorization.k8s.io"}]})
        node_role = self.seeded.node_roles.get(self.cluster, "")
        self.add("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("aws-auth", "kube-system"),
                                "data": {"mapRoles": f"- rolearn: {node_role}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"
                                                     "  groups:\n    - system:bootstrappers\n    - system:nodes\n"}})
        for n in range(self.nodes):
            self.add("nodes", {"apiVersion": "v1", "kind": "Node",
                               "metadata": _meta(f"ip-10-{self.index}-{n // 250}-{n % 250}.ec2.internal", labels={
                                   "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m6i.xlarge",
                                   "eks.amazonaws.com/nodegroup": f"{self.cluster}-ng"}),
                               "spec": {"providerID": f"aws:///{REGION}a/i-{n:017x}"},
                               "status": {"nodeInfo": {"kubeletVersion": "v1.30.4-eks-a737599",
                                                       "containerRuntimeVersion": "containerd://1.7.20",
                                                       "osImage": "Amazon Linux 2023"},
                                          "addresses": [{"type": "InternalIP",
                                                         "address": f"10.{self.index}.{n // 250}.{n % 250}"}]}})
        self._system()
        self._apps()

    def _system(self) -> None:
        ns = "kube-system"
        for name, image, ctx, host in (
                ("aws-node", f"602401143452.dkr.ecr.{REGION}.amazonaws.com/amazon-k8s-cni:v1.18.0",
                 {"privileged": True}, True),
                ("kube-proxy", f"602401143452.dkr.ecr.{REGION}.amazonaws.com/eks/kube-proxy:v1.30.0",
                 {"privileged": True}, True)):
            labels = {"k8s-app": name}
            spec = {"serviceAccountName": name, "hostNetwork": host, "priorityClassName": "system-node-critical",
                    "containers": [self.container(name, image, ctx)]}
            self.add("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, ns)})
            self.add("daemonsets", {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta(name, ns, labels),
                                    "spec": {"selector": {"matchLabels": labels},
                                             "template": {"metadata": {"labels": labels}, "spec": spec}},
                                    "status": {"desiredNumberScheduled": self.nodes, "numberReady": self.nodes}})
            owner = _owner("DaemonSet", name, ns)
            for n in range(self.nodes):
                self.add("pods", self.pod(f"{name}-{n:05x}", ns, labels, spec, n, owner, n))
        bench = {"serviceAccountName": "kube-bench", "hostPID": True, "restartPolicy": "Never",
                 "containers": [self.container("kube-bench", f"{ECR}/security/kube-bench:v0.9.1",
                                               {"readOnlyRootFilesystem": True})]}
        self.add("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("kube-bench", ns),
                                     "automountServiceAccountToken": False})
        ran = "2026-01-14T03:00:00Z"
        self.add("cronjobs", {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta("kube-bench", ns),
                              "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": bench}}}},
                              "status": {"lastScheduleTime": ran, "lastSuccessfulTime": ran}})
        self.add("jobs", {"apiVersion": "batch/v1", "kind": "Job",
                          "metadata": _meta("kube-bench-29001", ns, ownerReferences=_owner("CronJob", "kube-bench", ns,
                                                                                           "batch/v1")),
                          "spec": {"template": {"spec": bench}},
                          "status": {"succeeded": 1, "startTime": ran, "completionTime": ran}})
        self.add("services", {"apiVersion": "v1", "kind": "Service", "metadata": _meta("kube-dns", ns),
                              "spec": {"type": "ClusterIP", "clusterIP": "172.20.0.10", "selector": {"k8s-app": "kube-dns"},
                                       "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}})

    def _apps(self) -> None:
        left = self.app_pods
        n = 0
        for app in range(self.apps):
            replicas = min(PODS_PER_APP, left)
            if replicas <= 0:
                break
            left -= replicas
            ns = self.namespaces[app % len(self.namespaces)]
            name = f"app-{app:05d}"
            labels = {"app.kubernetes.io/name": name, "tier": "db" if app % 8 == 0 else "web"}
            sa = "default" if app % 11 == 0 else "shared" if app % 7 == 0 else name
            if sa != "default" and (ns, sa) not in self.accounts:
                self.accounts.add((ns, sa))
                sa_obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(sa, ns)}
                if app % 3 == 0 and self.irsa:
                    sa_obj["metadata"]["annotations"] = {"eks.amazonaws.com/role-arn": self.irsa[app % len(self.irsa)]}
                if app % 2:
                    sa_obj["automountServiceAccountToken"] = False
                if sa == "shared" and app % 5 == 0:  # a legacy long-lived token
                    self.add("secrets", {"apiVersion": "v1", "kind": "Secret",
                                         "type": "kubernetes.io/service-account-token",
                                         "metadata": _meta(f"{sa}-token-{app:05d}", ns, annotations={
                                             "kubernetes.io/service-account.name": sa}),
                                         "data": {"token": "bm90LWEtdG9rZW4="}})
                self.add("serviceaccounts", sa_obj)
            spec = self.pod_spec(app, sa)
            template = {"metadata": {"labels": labels}, "spec": spec}
            self.add("services", {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, ns, labels),
                                  "spec": {"type": "LoadBalancer" if app % 50 == 0 else "ClusterIP",
                                           "selector": labels, "ports": [{"port": 80, "targetPort": 8080,
                                                                          "protocol": "TCP"}]}})
            kind = app % 10
            if kind < 6:
                self.add("deployments", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, ns, labels),
                                         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                                                  "template": template, "revisionHistoryLimit": 10},
                                         "status": {"replicas": replicas, "readyReplicas": replicas}})
                dep_owner = _owner("Deployment", name, ns)
                for rev, count in (("5d8f7c9b6", replicas), ("7c4b9d8f5", 0)):
                    self.add("replicasets", {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                             "metadata": _meta(f"{name}-{rev}", ns, labels, ownerReferences=dep_owner),
                                             "spec": {"replicas": count, "selector": {"matchLabels": labels},
                                                      "template": template},
                                             "status": {"replicas": count}})
                owner, prefix = _owner("ReplicaSet", f"{name}-5d8f7c9b6", ns), f"{name}-5d8f7c9b6-"
            elif kind == 6:
                self.add("statefulsets", {"apiVersion": "apps/v1", "kind": "StatefulSet",
                                          "metadata": _meta(name, ns, labels),
                                          "spec": {"replicas": replicas, "serviceName": name,
                                                   "selector": {"matchLabels": labels}, "template": template}})
                owner, prefix = _owner("StatefulSet", name, ns), f"{name}-"
            else:  # pods of a controller kind eksaudit does not collect (e.g. an Argo Rollout)
                owner, prefix = _owner("Rollout", name, ns, "argoproj.io/v1alpha1"), f"{name}-6f9c8d7b4-"
            for r in range(replicas):
                self.add("pods", self.pod(f"{prefix}{r}" if kind == 6 else f"{prefix}{hashlib.md5(f'{name}{r}'.encode()).hexdigest()[:5]}",  # noqa: S324
                                          ns, labels, spec, n % self.nodes, owner, n))
                n += 1

    def write(self, folder: Path) -> int:
        """One kubectl-style List file per kind (every kind, an empty list where there is none); bytes written."""
        from eksaudit.collect.kubernetes import KINDS

        folder.mkdir(parents=True, exist_ok=True)
        total = 0
        for kind in KINDS:
            doc = {"apiVersion": "v1", "kind": "List", "items": self.objects.get(kind.plural, []),
                   "metadata": {"resourceVersion": ""}}
            for o in doc["items"]:
                o.setdefault("kind", kind.kind)
            body = json.dumps(doc, indent=4).encode()
            (folder / f"{kind.plural}.json").write_bytes(body)
            total += len(body)
        return total


def write_snapshots(root: Path, e: Estate, seeded: Seeded) -> dict:
    t0 = time.perf_counter()
    names = cluster_names(e)
    per = [e.pods // len(names) + (1 if i < e.pods % len(names) else 0) for i in range(len(names))]
    sizes, counts = {}, collections.Counter()
    for i, (name, pods) in enumerate(zip(names, per)):
        w = ClusterWriter(name, i, pods, seeded)
        w.build()
        sizes[name] = w.write(root / name)
        for plural, objs in w.objects.items():
            counts[plural] += len(objs)
    biggest = max((root / n / "pods.json").stat().st_size for n in names)
    return {"seconds": time.perf_counter() - t0, "bytes": sum(sizes.values()), "objects": dict(counts),
            "largest_pods_file": biggest, "paths": {n: root / n for n in names}}


# ---- the measured run ---------------------------------------------------------------------------------------


class TreeSampler:
    """Peak RSS of a process and all its descendants (eksaudit and its kernels), every `interval` seconds.

    `limit_bytes` / `timeout`: past either, the whole tree is killed (the result says so).
    """

    def __init__(self, pid: int, interval: float = 0.05, limit_bytes: int = 0, timeout: float = 0) -> None:
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.interval, self.limit, self.timeout = interval, limit_bytes, timeout
        self.peak = self.peak_main = self.peak_kernels = 0
        self.peak_at = self.peak_main_at = 0.0  # seconds after the start
        self.max_procs = 0
        self.samples = 0
        self.killed = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()

    def _tree(self) -> list:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except self.psutil.Error:
            return []

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            procs = self._tree()
            rss = {}
            for p in procs:
                try:
                    rss[p.pid] = p.memory_info().rss
                except self.psutil.Error:
                    pass
            total = sum(rss.values())
            self.samples += 1
            now = time.monotonic() - self._t0
            if total > self.peak:
                self.peak_at = now
            if rss.get(self.root.pid, 0) > self.peak_main:
                self.peak_main_at = now
            self.peak = max(self.peak, total)
            self.peak_main = max(self.peak_main, rss.get(self.root.pid, 0))
            self.peak_kernels = max(self.peak_kernels, total - rss.get(self.root.pid, 0))
            self.max_procs = max(self.max_procs, len(rss))
            over_time = self.timeout and time.monotonic() - self._t0 > self.timeout
            if (self.limit and total > self.limit) or over_time:
                self.killed = (f"killed at the {self.timeout:.0f} s limit" if over_time
                               else f"killed at {total / 2**30:.1f} GiB RSS")
                for p in reversed(procs):
                    try:
                        p.kill()
                    except self.psutil.Error:
                        pass
                return

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def eksaudit_command(args: list[str], child: dict) -> list[str]:
    """`python -m eksaudit.cli ARGS`, or through `child_main` here when profiling or experimenting."""
    if not child:
        return [sys.executable, "-m", "eksaudit.cli", *args]
    return [sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps({**child, "checkout": str(CHECKOUT)}),
            "--", *args]


def has_timings_option() -> bool:
    out = subprocess.run([sys.executable, "-m", "eksaudit.cli", "run", "--help"], capture_output=True, text=True,
                         env=child_env(), cwd=CHECKOUT, check=False).stdout
    return "--timings" in out


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(ENV)
    env["PYTHONPATH"] = str(CHECKOUT) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    return env


def run_eksaudit(moto: Moto, snapshots: dict[str, Path], out: Path, a: argparse.Namespace, timings: bool,
                 child: dict) -> dict:
    args = ["run", "--endpoint-url", moto.url, "--region", REGION, "--accept-incomplete", "--out", str(out)]
    for name, path in snapshots.items():
        args += ["--k8s-snapshot", f"{name}={path}"]
    if timings:
        args.append("--timings")
    moto_cpu = moto.cpu()
    load_before = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start_wall = time.time()
    t0 = time.perf_counter()
    # cwd: `python -m` puts the working folder first on sys.path, before PYTHONPATH
    proc = subprocess.Popen(eksaudit_command(args, child), env=child_env(), cwd=CHECKOUT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    loads = []
    with TreeSampler(proc.pid, limit_bytes=int(a.max_rss_gb * 2**30), timeout=a.timeout) as sampler:
        stop = threading.Event()

        def watch_load() -> None:
            while not stop.wait(5):
                loads.append(os.getloadavg()[0])

        watcher = threading.Thread(target=watch_load, daemon=True)
        watcher.start()
        stdout, stderr = proc.communicate()
        stop.set()
    wall = time.perf_counter() - t0
    end_wall = time.time()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of eksaudit and of the kernels it waited for (moto, our other child, is still running: not counted).
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return {"exit": proc.returncode, "wall": wall, "cpu": cpu, "moto_cpu": moto.cpu() - moto_cpu, "start": start_wall, "end": end_wall, "stdout": stdout,
            "stderr": stderr, "peak_rss": sampler.peak, "peak_main": sampler.peak_main,
            "peak_kernels": sampler.peak_kernels, "peak_at": sampler.peak_at, "peak_main_at": sampler.peak_main_at, "max_procs": sampler.max_procs, "samples": sampler.samples,
            "killed": sampler.killed, "load_before": load_before[0],
            "load_during": max(loads) if loads else os.getloadavg()[0], "load_after": os.getloadavg()[0]}


def _mtimes(paths) -> float:
    return max((p.stat().st_mtime for p in paths), default=0.0)


def slowest_cells(pack: Path, n: int = 6) -> list[tuple[float, str, str]]:
    """The kernels' side: papermill records each cell's duration in the executed notebook."""
    cells = []
    for nb in sorted((pack / "notebooks").glob("*.ipynb")):
        doc = json.loads(nb.read_text(encoding="utf-8"))
        total = (doc.get("metadata", {}).get("papermill") or {}).get("duration") or 0
        cells.append((float(total), nb.stem, "(whole notebook)"))
        for c in doc.get("cells", []):
            took = (c.get("metadata", {}).get("papermill") or {}).get("duration")
            if c.get("cell_type") == "code" and took:
                source = "".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", "")
                code = [line.strip() for line in source.splitlines() if line.strip()
                        and not line.lstrip().startswith(("import ", "from ", "#"))] or [""]
                cells.append((float(took), nb.stem, code[0][:70]))
    return sorted(cells, reverse=True)[:n + 5]


def pack_report(pack: Path, run: dict) -> dict:
    """Size, biggest files, findings, AWS calls, and per-phase times (run.json's, or derived from file times)."""
    files = [p for p in pack.rglob("*") if p.is_file()]
    sizes = sorted(((p.stat().st_size, p.relative_to(pack).as_posix()) for p in files), reverse=True)
    by_top = collections.Counter()
    for size, rel in sizes:
        by_top[rel.split("/")[0] if "/" in rel else "(top)"] += size
    out = {"bytes": sum(s for s, _ in sizes), "files": len(files), "biggest": sizes[:6],
           "by_folder": by_top.most_common(6)}
    run_json = json.loads((pack / "run.json").read_text())
    findings = json.loads((pack / "findings.json").read_text())
    rows = findings if isinstance(findings, list) else findings.get("findings", [])
    out["findings"] = len(rows)
    out["statuses"] = dict(collections.Counter(r.get("status") for r in rows))
    crashed = [r for r in rows if str(r.get("reason", "")).startswith("CHECK CRASHED")]
    out["crashed"] = sorted({r.get("check_id") for r in crashed})
    ev = json.loads((pack / "evidence" / "manifest.json").read_text())
    entries = ev.get("entries", [])
    out["aws_calls"] = sum(e["source"] == "aws" for e in entries)
    out["aws_errors"] = collections.Counter(f"{e['input']} {e.get('error', {}).get('code', '')}" for e in entries
                                            if e["source"] == "aws" and e["status"] == "error").most_common(5)
    out["k8s_errors"] = [f"{e['cluster']} {e['input']}" for e in entries if e["source"] == "k8s" and e["status"] != "ok"]
    out["aws_calls_by_op"] = collections.Counter(e["input"] for e in entries if e["source"] == "aws").most_common(6)
    out["cells"] = slowest_cells(pack)
    if run_json.get("timings"):
        out["phases"] = [(t["phase"], float(t["seconds"])) for t in run_json["timings"]]
        out["phases_from"] = "run.json timings"
        return out
    ev_dir = pack / "evidence"
    t_aws = _mtimes((ev_dir / "aws").rglob("*.json"))
    t_k8s = _mtimes((ev_dir / "k8s").rglob("*.json")) if (ev_dir / "k8s").exists() else t_aws
    t_collected = (ev_dir / "manifest.json").stat().st_mtime
    t_findings = (pack / "findings.json").stat().st_mtime
    pages = [p for p in pack.glob("*.html")] + list((pack / "notebooks").glob("*"))
    t_pages = _mtimes(pages)
    t_viewers = _mtimes((pack / "evidence-view").rglob("*.html")) if (pack / "evidence-view").exists() else t_pages
    t_manifest = (pack / "manifest.json").stat().st_mtime
    marks = [("start-up + AWS collection", t_aws), ("Kubernetes snapshots", t_k8s),
             ("probes, attachments, evidence manifest", t_collected), ("checks + CSV/JSON exports", t_findings),
             ("notebooks + HTML", t_pages), ("evidence viewers", max(t_viewers, t_pages)),
             ("OCSF + manifest", t_manifest), ("exit (rename, shutdown)", run["end"])]
    phases, last = [], run["start"]
    for name, t in marks:
        phases.append((name, max(0.0, t - last)))
        last = max(last, t)
    out["phases"] = phases
    out["phases_from"] = "derived from file times (run.json has no timings)"
    return out


def reached(folder: Path, start: float) -> list[tuple[str, float]]:
    """Milestones a run that did not finish wrote into its staging folder, seconds after its start (with the
    number of AWS calls and findings, and the size of each file, when they were written)."""
    ev, fj = folder / "evidence" / "manifest.json", folder / "findings.json"
    marks = [(ev, "evidence manifest"), (fj, "findings.json"),
             *((p, f"{p.name} ({p.stat().st_size / 2**20:,.0f} MiB)")
               for p in sorted([*folder.glob("*.html"), *folder.glob("notebooks/*.ipynb")])),
             (folder / "evidence-view", "evidence-view")]
    if ev.exists():
        entries = json.loads(ev.read_text()).get("entries", [])
        marks[0] = (ev, f"evidence manifest ({sum(e['source'] == 'aws' for e in entries):,} AWS calls)")
    if fj.exists():
        marks[1] = (fj, f"findings.json ({len(json.loads(fj.read_text())):,} findings, "
                        f"{fj.stat().st_size / 2**20:,.0f} MiB)")
    return sorted(((name, p.stat().st_mtime - start) for p, name in marks if p.exists()), key=lambda x: x[1])


def measure(moto: Moto, e: Estate, snaps: dict, work: Path, a: argparse.Namespace, timings: bool, rep: int,
            no_soup: bool = False) -> dict:
    out = work / f"pack-{e.name.replace(' ', '').replace(',', '')}-{rep}{'-nosoup' if no_soup else ''}"
    profile_out = work / f"stacks-{out.name}.txt" if a.profile else None
    child = {**({"profile": str(profile_out)} if profile_out else {}),
             **({"no_soup": True} if no_soup else {})}
    run = run_eksaudit(moto, snaps["paths"], out, a, timings, child)
    result = {"estate": e, "run": run, "snapshot": snaps}
    if run["killed"] or run["exit"] not in (0, 1, 3) or not (out / "run.json").exists():
        result["failed"] = run["killed"] or f"exit {run['exit']}: {run['stderr'].strip()[-800:]}"
        partial = sorted(work.glob(f".{out.name}.partial-*"))
        if partial:  # a killed run leaves its staging folder: how far it got
            result["reached"] = reached(partial[0], run["start"])
            if a.keep:
                dest = Path(a.keep) / f"{out.name}.partial"
                shutil.rmtree(dest, ignore_errors=True)
                shutil.move(str(partial[0]), dest)
                result["kept"] = str(dest)
            else:
                shutil.rmtree(partial[0], ignore_errors=True)
        return result
    result["pack"] = pack_report(out, run)
    if profile_out and profile_out.exists():
        result["profile"] = profile_out.read_text()
    if a.keep:
        dest = Path(a.keep) / out.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.move(str(out), dest)
        result["kept"] = str(dest)
    else:
        shutil.rmtree(out)
    return result


# ---- reporting ----------------------------------------------------------------------------------------------


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def print_result(r: dict) -> None:
    e, run = r["estate"], r["run"]
    print(f"\n## {e.name}{r['variant']}: {e.clusters} clusters, {e.pods:,} pods, {e.roles:,} roles, {e.repos:,} repositories, "
          f"{e.images:,} images")
    s = r["snapshot"]
    print(f"estate built: AWS seeding {r['seed'].seconds:.1f} s ({r['seed'].calls:,} calls), snapshots "
          f"{s['seconds']:.1f} s ({s['bytes'] / 2**20:,.0f} MiB, largest pods.json {s['largest_pods_file'] / 2**20:,.0f}"
          f" MiB, objects {sum(s['objects'].values()):,})")
    print(f"load average: {run['load_before']:.1f} before, {run['load_during']:.1f} max during, "
          f"{run['load_after']:.1f} after")
    if "failed" in r:
        print(f"FAILED: {r['failed']} ({run['wall']:.0f} s), peak RSS {_mib(run['peak_rss'])} at {run['peak_at']:.0f} s "
              f"(eksaudit process {_mib(run['peak_main'])} at {run['peak_main_at']:.0f} s, kernels "
              f"{_mib(run['peak_kernels'])}), CPU {run['cpu']:.0f} s")
        if r.get("reached"):
            print("reached: " + ", ".join(f"{name} at {t:.0f} s" for name, t in r["reached"]))
        if r.get("kept"):
            print(f"kept: {r['kept']}")
        return
    p = r["pack"]
    print(f"wall {run['wall']:.1f} s, CPU {run['cpu']:.1f} s (exit {run['exit']}), peak RSS {_mib(run['peak_rss'])} at "
          f"{run['peak_at']:.0f} s (eksaudit process {_mib(run['peak_main'])} at {run['peak_main_at']:.0f} s, kernels "
          f"{_mib(run['peak_kernels'])}, up to {run['max_procs']} processes, {run['samples']} samples)")
    print(f"per resource: {run['wall'] / e.resources * 1000:.2f} ms ({e.resources:,} resources)")
    print(f"findings: {p['findings']:,} {p['statuses']}" + (f"; CRASHED: {p['crashed']}" if p["crashed"] else ""))
    print(f"AWS calls: {p['aws_calls']:,}, moto CPU {run['moto_cpu']:.0f} s (most: {', '.join(f'{k} {v:,}' for k, v in p['aws_calls_by_op'])})")
    if p["aws_errors"]:
        print(f"AWS errors: {p['aws_errors']}")
    if p["k8s_errors"]:
        print(f"Kubernetes reads not ok: {p['k8s_errors'][:5]}")
    print(f"phases ({p['phases_from']}):")
    for name, sec in p["phases"]:
        print(f"  {name:<42} {sec:8.1f} s")
    print("kernels, slowest notebooks and cells (papermill): " + "; ".join(
        f"{nb} {cell} {t:.1f} s" for t, nb, cell in p["cells"]))
    print(f"pack: {p['bytes'] / 2**20:,.1f} MiB in {p['files']:,} files; by folder: "
          + ", ".join(f"{k} {v / 2**20:,.1f} MiB" for k, v in p["by_folder"]))
    print("biggest: " + ", ".join(f"{rel} {size / 2**20:,.1f} MiB" for size, rel in p["biggest"]))
    if r.get("profile"):
        print(r["profile"])
    if r.get("kept"):
        print(f"kept: {r['kept']}")


def markdown(results: list[dict]) -> str:
    lines = ["| estate | wall (CPU) | wall per resource | peak RSS (tree) | pack | findings | AWS calls | load avg "
             "(before/max) | slowest phases |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        e, run = r["estate"], r["run"]
        what = (f"{e.name}{r['variant']}: {e.clusters} clusters, {e.pods:,} pods, {e.roles:,} roles, {e.repos:,} repos, "
                f"{e.images:,} images")
        load = f"{run['load_before']:.1f}/{run['load_during']:.1f}"
        if "failed" in r:
            lines.append(f"| {what} | {r['failed'][:80]} | | {_mib(run['peak_rss'])} | | | "
                         f"| {load} | |")
            continue
        p = r["pack"]
        slow = ", ".join(f"{n} {s:.1f} s" for n, s in sorted(p["phases"], key=lambda x: -x[1])[:3])
        lines.append(f"| {what} | {run['wall']:.1f} s ({run['cpu']:.0f} s) | {run['wall'] / e.resources * 1000:.1f} ms | "
                     f"{_mib(run['peak_rss'])} | {p['bytes'] / 2**20:,.0f} MiB, {p['files']:,} files | "
                     f"{p['findings']:,} | {p['aws_calls']:,} | {load} | {slow} |")
    return "\n".join(lines)


# ---- the child process: stack sampling (--profile), experiments -----------------------------------------------

# Main-thread functions that mark a phase of `eksaudit run` (innermost wins), for the per-phase profile.
PHASES = [("collect/aws.py", "collect_aws", "AWS collection"),
          ("collect/kubernetes.py", "collect_kubernetes", "Kubernetes snapshots"),
          ("collect/run.py", "collect", "rest of collection"),
          ("evidence.py", "check_readable", "evidence read check"),
          ("checks/__init__.py", "run_checks", "checks"),
          ("exports.py", "write_csv", "CSV/JSON exports"), ("exports.py", "write_json", "CSV/JSON exports"),
          ("runner.py", "_in_parallel", "notebooks + HTML"), ("runner.py", "_relativise", "viewers"),
          ("viewer.py", "write_viewers", "viewers"), ("exports.py", "write_ocsf", "OCSF + manifest"),
          ("pack.py", "write_manifest", "OCSF + manifest"), ("runner.py", "run_pack", "run.json, trend, other")]
# Top frames of a thread that waits (a lock, a socket, a queue): not counted as busy.
IDLE = {"wait", "acquire", "select", "poll", "_wait_for_tstate_lock", "recv", "recv_into", "accept", "sleep",
        "readinto", "join", "_worker"}
GENERIC = {"_bootstrap", "_bootstrap_inner", "run", "main", "<module>", "cmd_run", "child_main", "run_pack",
           "<lambda>", "work", "_notebook", "_run_with_profile"}


def _phase_of(frame) -> str:
    while frame is not None:
        code = frame.f_code
        for path, name, phase in PHASES:
            if code.co_name == name and code.co_filename.replace(os.sep, "/").endswith(path):
                return phase
        frame = frame.f_back
    return "start-up, exit"


def skip_nbconvert_soup() -> None:
    """Experiment: nbconvert's HTMLExporter without the BeautifulSoup pass it makes over every finished page
    (alt text on images, tabindex on cells; html.parser in pure Python, minutes on a page of tens of MB)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    def from_notebook_node(self, nb, resources=None, **kw):
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name", None))
        self.register_filter("highlight_code",
                             self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    HTMLExporter.from_notebook_node = from_notebook_node


def child_main(options: dict, argv: list[str]) -> int:
    """`eksaudit` in this process: with `no_soup`, `skip_nbconvert_soup` first; with `profile`, a thread samples
    every thread's Python stack every 10 ms and writes, per phase of the run (from the main thread's stack), the
    functions most often on a busy stack (inclusive) and on top (self)."""
    if options.get("no_soup"):
        skip_nbconvert_soup()
    sys.path.insert(0, options["checkout"])  # ahead of the checkout holding this file
    from eksaudit import cli

    if not options.get("profile"):
        return cli.main(argv)
    inclusive: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    own: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    busy, ticks = collections.Counter(), collections.Counter()
    main_ident = threading.get_ident()
    stop = threading.Event()

    def sample() -> None:
        me = threading.get_ident()
        while not stop.wait(0.01):
            frames = sys._current_frames()
            phase = _phase_of(frames.get(main_ident))
            ticks[phase] += 1
            for ident, frame in frames.items():
                if ident == me or frame.f_code.co_name in IDLE:
                    continue
                busy[phase] += 1
                seen = set()
                top = True
                while frame is not None:
                    code = frame.f_code
                    if code.co_name not in GENERIC:
                        key = f"{code.co_name} ({Path(code.co_filename).name}:{code.co_firstlineno})"
                        if top:
                            own[phase][key] += 1
                            top = False
                        if key not in seen:
                            inclusive[phase][key] += 1
                            seen.add(key)
                    frame = frame.f_back

    threading.Thread(target=sample, daemon=True).start()
    try:
        return cli.main(argv)
    finally:
        stop.set()
        lines = ["stack samples every 10 ms; per phase: wall share (ticks), busy thread-samples, then the functions "
                 "most often on a busy stack (inclusive) and on top (self), as shares of the phase's busy samples"]
        total = max(1, sum(ticks.values()))
        for phase, n in sorted(ticks.items(), key=lambda x: -x[1]):
            b = max(1, busy[phase])
            lines.append(f"[{phase}] {n / total:.0%} of the run ({n * 0.01:.1f} s), {busy[phase]:,} busy samples")
            lines += [f"    {c / b:6.1%}  {k}" for k, c in inclusive[phase].most_common(14)]
            lines.append("  self:")
            lines += [f"    {c / b:6.1%}  {k}" for k, c in own[phase].most_common(6)]
        Path(options["profile"]).write_text("\n".join(lines) + "\n")


# ---- main ---------------------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--_child":
        sys.exit(child_main(json.loads(sys.argv[2]), sys.argv[4:]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", default="1,10,100", help="comma-separated scales (default 1,10,100; '' for none)")
    ap.add_argument("--pods", default="", help="comma-separated pod counts for the pod-only mode, e.g. 20000,200000")
    ap.add_argument("--keep", help="keep the packs in this folder")
    ap.add_argument("--repeat", type=int, default=1, help="runs per estate (the estate is built once)")
    ap.add_argument("--timeout", type=float, default=900, help="kill a run after this many seconds (default 900)")
    ap.add_argument("--max-rss-gb", type=float, default=8, help="kill a run whose tree exceeds this RSS (default 8)")
    ap.add_argument("--profile", action="store_true", help="sample eksaudit's Python stacks (all threads), per phase")
    ap.add_argument("--soup", choices=["on", "off", "both"], default="on",
                    help="off: experiment, skip nbconvert's BeautifulSoup pass over each page (skip_nbconvert_soup); "
                         "both: each estate with and without it (default on: eksaudit as it is)")
    ap.add_argument("--checkout", help="measure the eksaudit of this checkout (default: the one holding this file)")
    a = ap.parse_args()
    if a.checkout:
        global CHECKOUT
        CHECKOUT = Path(a.checkout).resolve()
    estates = [scale_estate(float(s)) for s in a.scale.split(",") if s.strip()]
    estates += [pods_estate(int(p)) for p in a.pods.split(",") if p.strip()]
    if a.keep:
        Path(a.keep).mkdir(parents=True, exist_ok=True)
    timings = has_timings_option()
    commit = subprocess.run(["git", "-C", str(CHECKOUT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    print(f"eksaudit: {CHECKOUT} at {commit or '?'}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; `eksaudit run --timings`: {'yes' if timings else 'not yet'}",
          flush=True)
    results = []
    for e in estates:
        with tempfile.TemporaryDirectory(prefix="eksaudit-scale-") as tmp, Moto() as moto:
            work = Path(tmp)
            print(f"\n# building {e.name} ...", flush=True)
            seeded = seed_aws(moto, e)
            snaps = write_snapshots(work / "snap", e, seeded)
            print(f"  AWS seeded in {seeded.seconds:.1f} s ({seeded.calls:,} calls, moto {_mib(moto.rss())}); "
                  f"snapshots in {snaps['seconds']:.1f} s", flush=True)
            for rep in range(a.repeat):
                for no_soup in {"on": [False], "off": [True], "both": [False, True]}[a.soup]:
                    r = measure(moto, e, snaps, work, a, timings, rep, no_soup)
                    r["seed"] = seeded
                    r["variant"] = " (nbconvert soup pass skipped)" if no_soup else ""
                    r["moto_rss"] = moto.rss()
                    print_result(r)
                    sys.stdout.flush()
                    results.append(r)
    print("\n" + markdown(results))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()

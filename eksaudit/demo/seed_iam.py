"""Demo account resources for the IAM domain: planted offenders beside their hardened twins.

Weak side: a CI user with an access key and eks:*/ecr:*, an admin console user without MFA, a role trusting a
whole partner account without a condition, a third cluster (legacy-batch) and a fourth in eu-west-1 (legacy-west)
sharing legacy-weak's cluster and node role, a node role with S3/Secrets Manager data access, EBS volume permissions and ECR push, no OIDC provider, a
repository policy open to everyone, a long-lived token Secret and an EBS CSI driver without its own role.
Hardened side: scoped roles and users with MFA, an OIDC provider for prod-hardened's issuer, IRSA-annotated
service accounts, a read-only node role, a repository policy naming only this account.
"""

from __future__ import annotations

import json

from .account import ACCOUNT, HARDENED, PLANTED_SECRETS, REGION, WEAK, DemoAccount

BATCH = "legacy-batch"  # shares legacy-weak's cluster role and node role; only system objects run in it
# In a second region, the same roles again: an audit of us-east-1 alone must still see that they are shared.
WEST = "legacy-west"
WEST_REGION = "eu-west-1"
PARTNER = "210987654321"


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _trust(principal: dict, condition: dict | None = None, action: str = "sts:AssumeRole") -> str:
    stmt = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        stmt["Condition"] = condition
    return _doc(stmt)


WORKER_NODE = _allow(["ec2:DescribeInstances", "ec2:DescribeRouteTables", "ec2:DescribeSubnets",
                      "ec2:DescribeVpcs", "eks:DescribeCluster", "eks-auth:AssumeRoleForPodIdentity"])
ECR_PULL = _allow(["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                   "ecr:BatchGetImage"])
EBS_CSI = _allow(["ec2:CreateVolume", "ec2:AttachVolume", "ec2:DetachVolume", "ec2:DeleteVolume",
                  "ec2:CreateSnapshot", "ec2:DescribeVolumes"])


def seed(acct: DemoAccount) -> None:
    """IAM principals and policies, node groups, the third cluster, OIDC provider and ECR repository policies."""
    iam, eks, ecr = acct.client("iam"), acct.client("eks"), acct.client("ecr")
    ec2_trust = _trust({"Service": "ec2.amazonaws.com"})

    # Node roles: the legacy one carries data, storage and push permissions every pod inherits.
    iam.create_role(RoleName=f"{WEAK}-node-role", AssumeRolePolicyDocument=ec2_trust,
                    Tags=[{"Key": "password", "Value": PLANTED_SECRETS["iam_role_tag"]}])
    iam.put_role_policy(RoleName=f"{WEAK}-node-role", PolicyName="worker-node",
                        PolicyDocument=_doc(WORKER_NODE, _allow("ecr:*"), EBS_CSI,
                                            _allow(["s3:*", "secretsmanager:GetSecretValue"])))
    iam.create_role(RoleName=f"{HARDENED}-node-role", AssumeRolePolicyDocument=ec2_trust)
    iam.put_role_policy(RoleName=f"{HARDENED}-node-role", PolicyName="worker-node",
                        PolicyDocument=_doc(WORKER_NODE, ECR_PULL))
    node_arn = {c: f"arn:aws:iam::{ACCOUNT}:role/{c}-node-role" for c in (WEAK, HARDENED)}

    # A third cluster reusing legacy-weak's cluster role and node role.
    eks.create_cluster(name=BATCH, version="1.29", roleArn=acct.ids[f"{WEAK}-cluster-role:arn"],
                       resourcesVpcConfig={"subnetIds": json.loads(acct.ids[f"{WEAK}:subnets"]),
                                           "securityGroupIds": [acct.ids[f"{WEAK}:sg"]],
                                           "endpointPublicAccess": False, "endpointPrivateAccess": True},
                       tags={"team": "legacy", "env": "dev"})
    # The legacy team's cluster in eu-west-1, on the same cluster role and node role.
    ec2_west, eks_west = acct.client("ec2", WEST_REGION), acct.client("eks", WEST_REGION)
    west_vpc = ec2_west.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    west_subnets = [ec2_west.create_subnet(VpcId=west_vpc, CidrBlock=f"10.30.{i}.0/24",
                                           AvailabilityZone=f"{WEST_REGION}{z}")["Subnet"]["SubnetId"]
                    for i, z in ((1, "a"), (2, "b"))]
    eks_west.create_cluster(name=WEST, version="1.29", roleArn=acct.ids[f"{WEAK}-cluster-role:arn"],
                            resourcesVpcConfig={"subnetIds": west_subnets, "endpointPublicAccess": False,
                                                "endpointPrivateAccess": True},
                            tags={"team": "legacy", "env": "dev"})
    eks_west.create_nodegroup(clusterName=WEST, nodegroupName=f"{WEST}-ng", nodeRole=node_arn[WEAK],
                              subnets=west_subnets, scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1})

    # moto gives every node group an SSH key; the hardened one admits SSH only from a bastion security group.
    bastion = acct.client("ec2").create_security_group(
        GroupName=f"{HARDENED}-bastion", Description="bastion hosts", VpcId=acct.ids[f"{HARDENED}:vpc"])["GroupId"]
    for cluster, role in ((WEAK, node_arn[WEAK]), (BATCH, node_arn[WEAK]), (HARDENED, node_arn[HARDENED])):
        extra = {"remoteAccess": {"ec2SshKey": "ops", "sourceSecurityGroups": [bastion]}} if cluster == HARDENED else {}
        eks.create_nodegroup(clusterName=cluster, nodegroupName=f"{cluster}-ng", nodeRole=role,
                             subnets=json.loads(acct.ids[f"{WEAK if cluster != HARDENED else HARDENED}:subnets"]),
                             scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 2},
                             tags={"bootstrap-token": PLANTED_SECRETS["nodegroup_tag"]}, **extra)

    # IRSA for prod-hardened: the OIDC provider of its issuer and per-application roles trusting it.
    issuer = eks.describe_cluster(name=HARDENED)["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer.removeprefix("https://")
    provider = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"],
                                                   ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
    for name, sa, stmt in ((f"{HARDENED}-payments-api", "payments:payments-api",
                            _allow("s3:GetObject", "arn:aws:s3:::payments-statements/*")),
                           (f"{HARDENED}-ebs-csi", "kube-system:ebs-csi-controller-sa", EBS_CSI)):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(
            {"Federated": provider["OpenIDConnectProviderArn"]},
            {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{sa}", f"{host}:aud": "sts.amazonaws.com"}},
            "sts:AssumeRoleWithWebIdentity"))
        iam.put_role_policy(RoleName=name, PolicyName="app", PolicyDocument=_doc(stmt))

    # A CI user with a long-lived key, eks:* and ecr:* on everything.
    iam.create_user(UserName="legacy-ci-deployer",
                    Tags=[{"Key": "api-key", "Value": PLANTED_SECRETS["iam_user_tag"]}])
    iam.put_user_policy(UserName="legacy-ci-deployer", PolicyName="deploy-everything",
                        PolicyDocument=_doc({**_allow(["eks:*", "ecr:*"]), "Sid": "DeployAnything"}))
    iam.create_access_key(UserName="legacy-ci-deployer")

    # Admins: a managed policy whose default version (v2) grants everything; console users in the group.
    admin = iam.create_policy(PolicyName="legacy-admin-access", PolicyDocument=_doc(_allow("eks:Describe*")))
    iam.create_policy_version(PolicyArn=admin["Policy"]["Arn"], SetAsDefault=True,
                              PolicyDocument=_doc({**_allow("*"), "Sid": "FullAdmin"}))
    iam.create_group(GroupName="legacy-admins")
    iam.attach_group_policy(GroupName="legacy-admins", PolicyArn=admin["Policy"]["Arn"])
    iam.create_user(UserName="legacy-console-admin")
    iam.add_user_to_group(GroupName="legacy-admins", UserName="legacy-console-admin")
    iam.create_login_profile(UserName="legacy-console-admin", Password="Demo-NotARealPassword-1!")

    # Hardened operators: scoped EKS rights on prod-hardened only, console with MFA.
    cluster_arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{HARDENED}"
    iam.create_group(GroupName=f"{HARDENED}-operators")
    iam.put_group_policy(GroupName=f"{HARDENED}-operators", PolicyName="operate-prod", PolicyDocument=_doc(
        _allow(["eks:Describe*", "eks:List*"]),
        {**_allow(["eks:UpdateNodegroupConfig", "eks:UpdateNodegroupVersion"], [cluster_arn,
                                                                                 f"{cluster_arn.replace(':cluster/', ':nodegroup/')}/*"]),
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}))
    iam.create_user(UserName="prod-operator")
    iam.add_user_to_group(GroupName=f"{HARDENED}-operators", UserName="prod-operator")
    iam.create_login_profile(UserName="prod-operator", Password="Demo-NotARealPassword-2!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="prod-operator")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="prod-operator", SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")

    # Cross-account management roles: the legacy one trusts the whole partner account, the hardened one
    # requires an ExternalId.
    for name, cond in ((f"{WEAK}-partner-access", None),
                       (f"{HARDENED}-partner-audit", {"StringEquals": {"sts:ExternalId": "demo-external-id"}})):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust({"AWS": f"arn:aws:iam::{PARTNER}:root"}, cond))
        iam.put_role_policy(RoleName=name, PolicyName="read-clusters",
                            PolicyDocument=_doc(_allow(["eks:DescribeCluster", "eks:ListClusters"])))

    # CI for prod pushes only to its own repository.
    iam.create_role(RoleName=f"{HARDENED}-ci-push", AssumeRolePolicyDocument=_trust(
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    repo_arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/payments/base"
    iam.put_role_policy(RoleName=f"{HARDENED}-ci-push", PolicyName="push-own-repo", PolicyDocument=_doc(
        _allow("ecr:GetAuthorizationToken"),
        _allow(["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
                "ecr:BatchCheckLayerAvailability"], repo_arn)))

    # Repository policies: open to everyone on the legacy side, this account's CI role on the hardened side.
    key = acct.client("kms").create_key(Description="ECR base images")["KeyMetadata"]["Arn"]
    ecr.create_repository(repositoryName="legacy/base")
    ecr.set_repository_policy(repositoryName="legacy/base", policyText=_doc(
        {"Sid": "PublicPull", "Effect": "Allow", "Principal": "*",
         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}))
    ecr.create_repository(repositoryName="payments/base", imageTagMutability="IMMUTABLE",
                          imageScanningConfiguration={"scanOnPush": True},
                          encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key})
    ecr.set_repository_policy(repositoryName="payments/base", policyText=_doc(
        {"Sid": "CiPush", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/{HARDENED}-ci-push"},
         "Action": ["ecr:PutImage", "ecr:BatchGetImage"]}))


# What the demo team can fix before a second audit (`eksaudit demo --fixed NAME`): applied after seeding
# (`fix`), or to the clusters' objects (`fix_objects`).
FIXES = {"console-mfa": "legacy-console-admin signs in with an MFA device",
         "remove-token-secret": "legacy-weak's long-lived service account token Secret deleted"}


def fix(acct: DemoAccount, name: str) -> None:
    if name == "console-mfa":
        iam = acct.client("iam")
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="legacy-console-admin")["VirtualMFADevice"][
            "SerialNumber"]
        iam.enable_mfa_device(UserName="legacy-console-admin", SerialNumber=serial, AuthenticationCode1="123456",
                              AuthenticationCode2="654321")


def fix_objects(clusters: dict[str, list[dict]], name: str) -> None:
    if name == "remove-token-secret":
        clusters[WEAK] = [o for o in clusters[WEAK] if not (o.get("kind") == "Secret"
                                                            and o["metadata"]["name"] == "shared-sa-token-x7k2p")]


def _meta(name: str, ns: str, **extra) -> dict:
    return {"name": name, "namespace": ns, "uid": f"uid-{ns}-{name}", "creationTimestamp": "2026-01-15T10:00:00Z",
            **extra}


def _ebs_csi(irsa_role: str | None) -> list[dict]:
    """The EBS CSI controller as the add-on installs it, with or without a role on its service account."""
    sa_meta = _meta("ebs-csi-controller-sa", "kube-system")
    if irsa_role:
        sa_meta["annotations"] = {"eks.amazonaws.com/role-arn": irsa_role}
    image = f"602401143452.dkr.ecr.{REGION}.amazonaws.com/eks/aws-ebs-csi-driver:v1.35.0"
    labels = {"app.kubernetes.io/name": "aws-ebs-csi-driver"}
    return [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta},
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": _meta("ebs-csi-controller", "kube-system", labels=labels),
             "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels}, "spec": {
                          "serviceAccountName": "ebs-csi-controller-sa",
                          "containers": [{"name": "ebs-plugin", "image": image}]}}}}]


def k8s_objects() -> dict[str, list[dict]]:
    """aws-auth, a long-lived token Secret and the EBS CSI controller (kube-system) per cluster; legacy-batch
    gets the system add-ons and an aws-auth mapping the same node role as legacy-weak."""
    from .cluster_objects import system_objects

    node = f"arn:aws:iam::{ACCOUNT}:role/{WEAK}-node-role"
    batch_auth = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("aws-auth", "kube-system"), "data": {
        "mapRoles": f"- rolearn: {node}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"
                    "  groups:\n    - system:bootstrappers\n    - system:nodes\n"}}
    aws_auth = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("aws-auth", "kube-system"), "data": {
        "mapRoles": f"- rolearn: {node}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"
                    "  groups:\n    - system:bootstrappers\n    - system:nodes\n",
        "mapUsers": f"- userarn: arn:aws:iam::{ACCOUNT}:user/legacy-ci-deployer\n  username: ci\n"
                    "  groups:\n    - system:masters\n",
        # A key aws-auth does not define, where someone parked a credential.
        "ciDeployToken": PLANTED_SECRETS["aws_auth_extra"]}}
    token = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
             "metadata": _meta("shared-sa-token-x7k2p", "shop",
                               annotations={"kubernetes.io/service-account.name": "shared-sa"}),
             "data": {"token": "ZGVtby1ub3QtYS10b2tlbg=="}}
    return {WEAK: [aws_auth, token, *_ebs_csi(None)], BATCH: [*system_objects(), batch_auth],
            WEST: [*system_objects(), batch_auth],
            HARDENED: _ebs_csi(f"arn:aws:iam::{ACCOUNT}:role/{HARDENED}-ebs-csi")}

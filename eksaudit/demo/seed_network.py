"""Demo account resources for the network domain: planted offenders beside their hardened twins.

Weak side (legacy-weak's VPC): cluster security group open to the internet (HTTPS and SSH), only an ecr.api
endpoint whose security group is open to the world (no eks, ecr.dkr, secretsmanager or S3 endpoint), an NLB
TLS listener on a policy that allows TLS 1.0, an ALB HTTP listener that forwards in clear text, a
"sensitive"-tagged repository on the AWS-managed aws/ecr key, nodes on an unsupported kubelet.
Hardened side (prod-hardened's VPC): restricted security groups, interface endpoints eks, ecr.api, ecr.dkr and
secretsmanager plus the S3 gateway, an ALB with a TLS 1.2+ HTTPS listener and an HTTP listener that redirects.
"""

from __future__ import annotations

import json

from .account import ACCOUNT, HARDENED, PLANTED_SECRETS, REGION, WEAK, DemoAccount  # noqa: F401
from .cluster_objects import CREATED

CLUSTER_TAG = "elbv2.k8s.aws/cluster"


def _ingress(ec2, group: str, port: int, cidr: str) -> None:
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}])


def _endpoints(ec2, vpc: str, subnets: list[str], group: str, services: list[str]) -> None:
    for service in services:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.{service}",
                                VpcEndpointType="Interface", SubnetIds=subnets, SecurityGroupIds=[group],
                                PrivateDnsEnabled=True)


def _load_balancer(elb, name: str, kind: str, subnets: list[str], vpc: str, cluster: str, groups: list[str]) -> tuple:
    kwargs = {"SecurityGroups": groups} if kind == "application" else {}
    lb = elb.create_load_balancer(Name=name, Subnets=subnets, Type=kind, Scheme="internet-facing",
                                  Tags=[{"Key": CLUSTER_TAG, "Value": cluster}], **kwargs)["LoadBalancers"][0]
    tg = elb.create_target_group(Name=f"{name}-tg", Protocol="TCP" if kind == "network" else "HTTP", Port=8080,
                                 VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    return lb["LoadBalancerArn"], tg


def seed(acct: DemoAccount) -> None:
    sm = acct.client("secretsmanager")
    sm.create_secret(Name="payments/db-password", SecretString=PLANTED_SECRETS["secretsmanager"],
                     Description=f"rotate by hand; old value {PLANTED_SECRETS['sm_description']}",
                     Tags=[{"Key": "previous-password", "Value": PLANTED_SECRETS["sm_tag"]}])
    ec2, elb, acm = acct.client("ec2"), acct.client("elbv2"), acct.client("acm")
    cert = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]

    # -- legacy-weak: offenders
    vpc, subnets, sg = (acct.ids[f"{WEAK}:vpc"], json.loads(acct.ids[f"{WEAK}:subnets"]), acct.ids[f"{WEAK}:sg"])
    _ingress(ec2, sg, 443, "0.0.0.0/0")
    _ingress(ec2, sg, 22, "0.0.0.0/0")
    ep_sg = ec2.create_security_group(GroupName=f"{WEAK}-endpoints", Description="endpoints", VpcId=vpc)["GroupId"]
    _ingress(ec2, ep_sg, 443, "0.0.0.0/0")
    _endpoints(ec2, vpc, subnets, ep_sg, ["ecr.api"])
    nlb, nlb_tg = _load_balancer(elb, "legacy-nlb", "network", subnets, vpc, WEAK, [])
    elb.create_listener(LoadBalancerArn=nlb, Protocol="TLS", Port=443, SslPolicy="ELBSecurityPolicy-2016-08",
                        Certificates=[{"CertificateArn": cert}],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": nlb_tg}])
    alb, alb_tg = _load_balancer(elb, "legacy-alb", "application", subnets, vpc, WEAK, [sg])
    elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": alb_tg}])

    # -- prod-hardened: clean counterparts
    vpc, subnets, sg = (acct.ids[f"{HARDENED}:vpc"], json.loads(acct.ids[f"{HARDENED}:subnets"]),
                        acct.ids[f"{HARDENED}:sg"])
    _ingress(ec2, sg, 443, "10.20.0.0/16")
    ep_sg = ec2.create_security_group(GroupName=f"{HARDENED}-endpoints", Description="endpoints",
                                      VpcId=vpc)["GroupId"]
    _ingress(ec2, ep_sg, 443, "10.20.0.0/16")
    _endpoints(ec2, vpc, subnets, ep_sg, ["eks", "ecr.api", "ecr.dkr", "secretsmanager"])
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway",
                            RouteTableIds=[rt])
    alb, alb_tg = _load_balancer(elb, "payments-alb", "application", subnets, vpc, HARDENED, [sg])
    elb.create_listener(LoadBalancerArn=alb, Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                        Certificates=[{"CertificateArn": cert}],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": alb_tg}])
    elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=[{
        "Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])

    # -- a sensitive repository on the AWS-managed ECR key. AWS creates alias/aws/ecr itself on first use;
    # moto does not, so the demo makes the alias the way AWS would have.
    kms, ecr = acct.client("kms"), acct.client("ecr")
    managed = kms.create_key(Description="Default key that protects my ECR data when no other key is defined")
    kms.create_alias(AliasName="alias/aws/ecr", TargetKeyId=managed["KeyMetadata"]["KeyId"])
    ecr.create_repository(repositoryName="legacy/billing", imageTagMutability="IMMUTABLE",
                          imageScanningConfiguration={"scanOnPush": True},
                          encryptionConfiguration={"encryptionType": "KMS", "kmsKey": managed["KeyMetadata"]["Arn"]},
                          tags=[{"Key": "sensitivity", "Value": "high"}])


# What the demo team can fix before a second audit (`eksaudit demo --fixed NAME`): applied after seeding.
FIXES = {"close-ssh": "legacy-weak's cluster security group no longer admits SSH from the internet",
         "private-endpoint": "legacy-weak's API server endpoint made private"}


def fix(acct: DemoAccount, name: str) -> None:
    if name == "close-ssh":
        acct.client("ec2").revoke_security_group_ingress(GroupId=acct.ids[f"{WEAK}:sg"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    elif name == "private-endpoint":
        # The whole VPC configuration is sent again: moto replaces it rather than merging the change.
        acct.client("eks").update_cluster_config(name=WEAK, resourcesVpcConfig={
            "subnetIds": json.loads(acct.ids[f"{WEAK}:subnets"]), "securityGroupIds": [acct.ids[f"{WEAK}:sg"]],
            "endpointPublicAccess": False, "endpointPrivateAccess": True})


def _node(name: str, kubelet: str) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": f"uid-node-{name}", "creationTimestamp": CREATED,
                         "labels": {"kubernetes.io/os": "linux"}},
            "status": {"nodeInfo": {"kubeletVersion": kubelet, "osImage": "Amazon Linux 2023",
                                    "containerRuntimeVersion": "containerd://1.7.22"}}}


def k8s_objects() -> dict[str, list[dict]]:
    """Nodes of each cluster: the weak one still on an unsupported kubelet."""
    return {WEAK: [_node("ip-10-10-1-10.ec2.internal", "v1.27.16-eks-a737599")],
            HARDENED: [_node("ip-10-20-1-10.ec2.internal", "v1.31.2-eks-7f9249a")]}

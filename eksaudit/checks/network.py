"""Network access domain checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..collect.faults import describe
from ..frames import Frames
from ..frames.core import ref
from ..frames.kubernetes import WORKLOAD_INPUTS
from . import check
from .common import SYSTEM_NAMESPACES, outside, result, selects

WORLD = {"0.0.0.0/0", "::/0"}


@check("NET-07", domain="network", title="No public access to the EKS API server", severity="high",
       requirements=["R-NET-7"], frames=("clusters",),
       practice="The cluster API endpoint is private: public access is off and private access is on, so it is "
                "reached from inside the VPC, a bastion or a VPN.",
       rationale="A public API endpoint exposes authentication and any API flaw to the internet; restricting it "
                 "to a few CIDRs still leaves it reachable from outside the network the cluster lives in.",
       remediation="aws eks update-cluster-config --resources-vpc-config endpointPublicAccess=false,"
                   "endpointPrivateAccess=true; manage the cluster from a bastion, VPN or Direct Connect.",
       references={"cis_eks": "5.4.1, 5.4.2", "securityhub": "EKS.1",
                   "prowler": "eks_cluster_not_publicly_accessible"})
def net_07(f: Frames, p: dict) -> pd.DataFrame:
    c = f.clusters
    if c.empty:
        return pd.DataFrame()
    public = c["endpoint_public"] == True  # noqa: E712
    private = c["endpoint_private"] == True  # noqa: E712
    world = c["public_cidrs"].map(lambda cidrs: not cidrs or bool(WORLD & set(cidrs)))
    reasons = []
    for pub, priv, w, cidrs in zip(public, private, world, c["public_cidrs"]):
        parts = []
        if pub:
            parts.append("public endpoint open to " + (", ".join(cidrs) or "0.0.0.0/0") if w else
                         "public endpoint enabled (restricted to " + ", ".join(cidrs) + ")")
        if not priv:
            parts.append("private endpoint access is off")
        reasons.append("; ".join(parts) or "public access off, private access on")
    status = np.where(public | ~private, "FAIL", "PASS")
    severity = np.where(public & world, "critical", "high")
    return result(c, status, pd.Series(reasons, index=c.index), "cluster", c["arn"], severity)


@check("NET-09", domain="network", title="ECR repositories encrypted with KMS", severity="medium",
       requirements=["R-NET-9"], frames=("ecr_repositories",),
       practice="Every ECR repository encrypts its images with AWS KMS rather than the default AES-256 "
                "S3-managed keys.",
       rationale="KMS encryption puts image access under key policies and CloudTrail-logged key use, which "
                 "AES-256 server-side encryption does not.",
       remediation="ECR encryption is fixed at creation: create a new repository with encryptionType KMS, "
                   "replicate or re-push the images, and retire the old one.",
       references={"securityhub": "ECR (encryption)", "prowler": "ecr_repositories_encrypted (nearest)"})
def net_09(f: Frames, p: dict) -> pd.DataFrame:
    r = f.ecr_repositories
    if r.empty:
        return pd.DataFrame()
    kms = r["encryption_type"].isin(["KMS", "KMS_DSSE"])
    reason = np.where(kms, "encrypted with KMS (" + r["encryption_type"] + ")",
                      "encrypted with " + r["encryption_type"].replace("", "unknown") + ", not KMS")
    return result(r, np.where(kms, "PASS", "FAIL"), reason, "ecr-repository", r["arn"])


# ---- helpers ------------------------------------------------------------------------------------------

OLD_TLS = ("TLSv1", "TLSv1.1")


def _base(row, **extra) -> dict:
    return {"account_id": row.account_id, "region": row.region, "cluster": row.cluster, **extra}


def _world_open(f: Frames, group_ids: list[str], region: str) -> tuple[list[str], list[str]]:
    """(groups among group_ids with ingress from 0.0.0.0/0 or ::/0, groups not found in the evidence)."""
    sg = f.security_groups
    known = set(sg[sg["region"] == region]["group_id"])
    ing = f.sg_ingress
    open_ = sorted(set(ing[(ing["region"] == region) & ing["group_id"].isin(group_ids) & ing["world"]]["group_id"]))
    return open_, sorted(set(group_ids) - known)


def _outside_vpc(f: Frames, group_ids: list[str], region: str, vpc_id: str) -> tuple[list[str], list[str], str]:
    """Ingress sources of the groups that are not the VPC's own: (problems, sources that cannot be resolved
    from the evidence (prefix lists), why the VPC's CIDRs are unknown or "")."""
    vpcs = f.ec2_vpcs
    cidrs = [x for cs in vpcs[(vpcs["region"] == region) & (vpcs["vpc_id"] == vpc_id)]["cidrs"] for x in cs]
    sg = f.security_groups
    group_vpc = dict(zip(sg[sg["region"] == region]["group_id"], sg[sg["region"] == region]["vpc_id"]))
    ing = f.sg_ingress
    problems, unresolved = [], []
    for r in ing[(ing["region"] == region) & ing["group_id"].isin(group_ids)].itertuples(index=False):
        if r.world:
            continue  # reported as internet-wide
        if r.source_kind == "cidr" and cidrs and not _in_vpc(r.source, cidrs):
            problems.append(f"{r.group_id} admits {r.source}, outside the VPC ({', '.join(cidrs)})")
        elif r.source_kind == "group" and group_vpc.get(r.source, "") not in (vpc_id,):
            problems.append(f"{r.group_id} admits security group {r.source}, which is not in the VPC")
        elif r.source_kind == "prefix-list":
            unresolved.append(f"{r.group_id} admits prefix list {r.source}")
    cidr_sources = (ing["region"] == region) & ing["group_id"].isin(group_ids) & (ing["source_kind"] == "cidr")
    why = "" if cidrs or not cidr_sources.any() else f"the CIDRs of VPC {vpc_id} are not in the DescribeVpcs evidence"
    return sorted(set(problems)), sorted(set(unresolved)), why


LIVE = {"available"}
GONE = {"deleted", "deleting", "rejected", "failed", "expired"}


def _endpoint_rows(f: Frames, c, service: str, kind: str = "Interface", need_private_dns: bool = False,
                   check_groups: bool = True) -> dict:
    """One verdict on one VPC endpoint service in a cluster's VPC: proven for that VPC (an endpoint in another VPC
    of the account proves nothing), available, and guarded by security groups that admit only the VPC's own
    sources."""
    region = c.region
    name = f"com.amazonaws.{region}.{service}"
    ep = f.vpc_endpoints
    found = ep[(ep["region"] == region) & (ep["vpc_id"] == c.vpc_id) & (ep["service"] == service)
               & (ep["type"] == kind) & ~ep["state"].str.lower().isin(GONE)]
    row = _base(c, resource_type="vpc-endpoint", resource_id=f"{c.vpc_id}/{name}")
    if not c.vpc_id:
        return {**row, "resource_id": f"{c.cluster}/{name}", "status": "ERROR", "evidence": c.evidence,
                "reason": c.vpc_error or "the cluster VPC is unknown"}
    if found.empty:
        return {**row, "status": "FAIL", "evidence": c.evidence,
                "reason": f"no {kind.lower()} endpoint {name} in the cluster VPC {c.vpc_id}"}
    live = found[found["state"].str.lower().isin(LIVE)]
    if live.empty:
        e = found.iloc[0]
        return {**row, "status": "FAIL", "evidence": e["evidence"],
                "resource_id": f"{c.vpc_id}/{name} ({e['endpoint_id']})",
                "reason": f"{kind.lower()} endpoint {e['endpoint_id']} is {e['state'] or 'in an unknown state'}, "
                          "not available, so traffic does not use it"}
    found = live
    e = found.iloc[0]
    row.update(evidence=e["evidence"], resource_id=f"{c.vpc_id}/{name} ({e['endpoint_id']})")
    problems = []
    if need_private_dns and not found["private_dns"].any():
        problems.append("private DNS is off, so clients still resolve the public endpoint")
    groups = sorted({g for gs in found["group_ids"] for g in gs})
    unresolved: list[str] = []
    if check_groups:
        open_, unknown = _world_open(f, groups, region)
        if open_:
            problems.append("security group " + ", ".join(open_) + " allows ingress from the whole internet "
                            "(0.0.0.0/0 or ::/0)")
        outside, unresolved, why = _outside_vpc(f, groups, region, c.vpc_id)
        problems += outside
        if (unknown or why) and not problems:
            missing = ("security group " + ", ".join(unknown) + " of the endpoint is not in the "
                       "DescribeSecurityGroups evidence" if unknown else why)
            return {**row, "status": "ERROR", "reason": f"{missing}, so its sources could not be checked"}
    if problems:
        return {**row, "status": "FAIL", "reason": f"{kind.lower()} endpoint {e['endpoint_id']}: " + "; ".join(problems)}
    if unresolved:
        return {**row, "status": "MANUAL", "reason": f"{kind.lower()} endpoint {e['endpoint_id']} available; "
                + "; ".join(unresolved) + ": confirm its entries are inside the VPC"}
    detail = (f"security groups {', '.join(groups)} admit only sources inside the VPC {c.vpc_id}" if check_groups
              else "present")
    return {**row, "status": "PASS", "reason": f"{kind.lower()} endpoint {e['endpoint_id']} available; {detail}"}


# ---- NET-01 -------------------------------------------------------------------------------------------

@check("NET-01", domain="network", title="EKS API endpoints accept only TLS 1.2 or later", severity="high",
       requirements=["R-NET-1"], frames=("clusters", "tls_probes"),
       practice="Every EKS API endpoint the audit reaches (each cluster's Kubernetes API and, in live runs, the "
                "regional EKS API) refuses TLS 1.0 and 1.1 handshakes, so clients can only talk TLS 1.2 or later.",
       rationale="TLS 1.0 and 1.1 have known weaknesses (BEAST, weak MACs, downgrade paths); an endpoint that "
                 "still accepts them lets a misconfigured or old client send credentials over a weak channel.",
       remediation="EKS-managed endpoints already refuse TLS below 1.2; where an old version is accepted the "
                   "endpoint is fronted by something else (proxy, load balancer, custom API gateway): raise its "
                   "minimum TLS version to 1.2 and update clients (AWS SDKs, kubectl) that still use older TLS.",
       references={"securityhub": "none (practice from the AWS EKS best practices)", "prowler": "none"})
def net_01(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    probes = f.tls_probes
    for pr in probes.itertuples(index=False):
        base = {"account_id": pr.account_id, "region": pr.region, "cluster": pr.cluster, "evidence": pr.evidence,
                "resource_type": "api-endpoint", "resource_id": pr.url or (pr.cluster or pr.region or "endpoint")}
        if pr.status == "skipped":
            rows.append({**base, "status": "NOT_APPLICABLE", "reason": f"no endpoint probed: {pr.reason}"})
            continue
        if pr.status == "not-applicable":
            rows.append({**base, "status": "NOT_APPLICABLE", "reason": pr.reason})
            continue
        if pr.status != "ok":
            rows.append({**base, "status": "ERROR", "reason": f"TLS probe (probe:tls) failed: {pr.reason}"})
            continue
        accepted = list(pr.accepted)
        old = [v for v in OLD_TLS if v in accepted]
        if old:
            rows.append({**base, "status": "FAIL", "reason": "accepts " + " and ".join(old) + " handshakes "
                         "(accepted: " + ", ".join(accepted) + ")"})
            continue
        untested = [a for a in pr.attempts if a.get("version") in OLD_TLS and a.get("result") != "rejected"]
        if untested:
            rows.append({**base, "status": "ERROR", "reason": "TLS probe (probe:tls) could not test " + ", ".join(
                f"{a['version']} ({a.get('detail', a.get('result'))})" for a in untested)})
            continue
        rows.append({**base, "status": "PASS", "reason": "refuses TLSv1 and TLSv1.1; accepts "
                     + (", ".join(accepted) or "nothing")})
    probed = set(probes["cluster"]) | {e["cluster"] for e in f.evidence.errors("probe:tls")}
    for c in f.clusters.itertuples(index=False):
        if c.cluster not in probed:
            rows.append(_base(c, resource_type="cluster", resource_id=c.arn, evidence=c.evidence, status="ERROR",
                              reason="no TLS probe evidence (probe:tls) for this cluster (collected without "
                                     "probes)"))
    return pd.DataFrame(rows)


# ---- NET-02 -------------------------------------------------------------------------------------------

CLUSTER_TAG = "elbv2.k8s.aws/cluster"


@check("NET-02", domain="network", title="Load balancers of the clusters use TLS 1.2 or later", severity="high",
       requirements=["R-NET-2"], frames=("cluster_net", "load_balancers", "lb_listeners", "ssl_policies"),
       practice="HTTPS and TLS listeners of the ALBs and NLBs in front of a cluster use a security policy without "
                "TLS 1.0 or 1.1, and plain HTTP listeners only redirect to HTTPS.",
       rationale="The load balancer terminates client TLS: its policy, not the pods', decides which protocol "
                 "versions clients may use; an HTTP listener that forwards traffic sends it in clear text.",
       remediation="aws elbv2 modify-listener --listener-arn ARN --ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06 "
                   "(or the alb.ingress.kubernetes.io/ssl-policy annotation); make HTTP listeners redirect "
                   "(alb.ingress.kubernetes.io/ssl-redirect: '443').",
       references={"securityhub": "ELB.17 (nearest)", "prowler": "elbv2_insecure_ssl_ciphers (nearest)"})
def net_02(f: Frames, p: dict) -> pd.DataFrame:
    lbs, lis, pols = f.load_balancers, f.lb_listeners, f.ssl_policies
    rows = []
    tag_errors = f.evidence.errors("aws:elbv2:DescribeTags")
    for c in f.cluster_net.itertuples(index=False):
        mine = lbs[(lbs["region"] == c.region) & (((lbs["vpc_id"] == c.vpc_id) & (c.vpc_id != ""))
                                                   | (lbs["tags"].map(lambda t, name=c.cluster: t.get(CLUSTER_TAG) == name)))]
        if not c.vpc_id:
            rows.append(_base(c, resource_type="cluster", resource_id=c.arn, evidence=c.evidence, status="ERROR",
                              reason=f"load balancers in the cluster VPC cannot be found: {c.vpc_error}"))
        for lb in mine.itertuples(index=False):
            why = (f"tagged {CLUSTER_TAG}={c.cluster}" if lb.tags.get(CLUSTER_TAG) == c.cluster
                   else f"in the cluster VPC {c.vpc_id}")
            for li in lis[lis["lb_arn"] == lb.arn].itertuples(index=False):
                base = _base(c, resource_type="listener", evidence=li.evidence,
                             resource_id=f"{lb.name}:{li.protocol}:{li.port} ({li.arn})")
                head = f"{lb.type} {lb.name} ({why}) {li.protocol} listener on port {li.port}"
                if li.protocol in ("HTTPS", "TLS"):
                    pol = pols[(pols["region"] == c.region) & (pols["name"] == li.ssl_policy)]
                    if pol.empty:
                        rows.append({**base, "status": "ERROR", "reason": f"{head}: security policy "
                                     f"{li.ssl_policy or '(none)'} was not returned by DescribeSSLPolicies, so its "
                                     "TLS versions are unknown"})
                        continue
                    protos = list(pol.iloc[0]["protocols"])
                    old = [v for v in OLD_TLS if v in protos]
                    rows.append({**base, "status": "FAIL" if old else "PASS",
                                 "reason": f"{head}: policy {li.ssl_policy} allows " + ", ".join(protos)
                                 + (" (TLS below 1.2)" if old else "")})
                elif li.protocol == "HTTP":
                    rows.append({**base, "status": "PASS" if li.redirects_https else "FAIL",
                                 "reason": f"{head}: " + ("redirects to HTTPS" if li.redirects_https else
                                                          "serves plain HTTP without redirecting to HTTPS")})
        if tag_errors and not lbs[lbs["region"] == c.region].empty:
            outside = lbs[(lbs["region"] == c.region) & (lbs["vpc_id"] != c.vpc_id) & ~lbs["tags_read"]]
            if not outside.empty:
                rows.append(_base(c, resource_type="load-balancer", resource_id=", ".join(outside["name"]),
                                  evidence="evidence/manifest.json", status="ERROR",
                                  reason="load balancer tags (aws:elbv2:DescribeTags) could not be read, so load "
                                         "balancers outside the cluster VPC may belong to it"))
    return pd.DataFrame(rows)


# ---- NET-03 -------------------------------------------------------------------------------------------

def _minor(version: str) -> tuple[int, int] | None:
    import re

    m = re.match(r"v?(\d+)\.(\d+)", str(version or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


@check("NET-03", domain="network", title="TLS 1.2 or later between the control plane and the nodes",
       severity="medium", requirements=["R-NET-3"], frames=("clusters",), inputs=("k8s:nodes",),
       params={"min_kubelet_version": "1.30"},
       practice="Kubelets refuse TLS below 1.2 (tlsMinVersion) and nodes run a Kubernetes version that still "
                "gets security fixes.",
       rationale="The API server talks to kubelets for logs, exec and port-forward; a kubelet on an old release "
                 "or configured with a low tlsMinVersion weakens that channel and misses TLS fixes.",
       remediation="Upgrade node groups to a supported Kubernetes version; set tlsMinVersion: VersionTLS12 (or "
                   "VersionTLS13) in the kubelet configuration of self-managed nodes.",
       references={"cis_eks": "3.2.x (kubelet configuration)", "prowler": "none"})
def net_03(f: Frames, p: dict) -> pd.DataFrame:
    floor = _minor(p["min_kubelet_version"]) or (1, 30)
    rows = []
    nodes_by_cluster: dict[str, list] = {}
    for entry, data in f.evidence.responses("k8s:nodes"):
        for n in data.get("items", []):
            nodes_by_cluster.setdefault(entry["cluster"], []).append((entry, n))
    for c in f.clusters.itertuples(index=False):
        for entry, n in nodes_by_cluster.get(c.cluster, []):
            name = (n.get("metadata") or {}).get("name", "")
            kubelet = ((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
            v = _minor(kubelet)
            base = _base(c, resource_type="node", resource_id=f"{c.cluster}/node/{name}",
                         evidence=f"evidence/{entry['path']}#{name}")
            if v is None:
                rows.append({**base, "status": "ERROR", "reason": "the node reports no kubelet version "
                                                               "(k8s:nodes gives no status.nodeInfo.kubeletVersion)"})
            elif v < floor:
                rows.append({**base, "status": "FAIL", "reason": f"kubelet {kubelet} is older than the oldest "
                             f"supported version {p['min_kubelet_version']} (no more TLS and security fixes)"})
            else:
                rows.append({**base, "status": "PASS", "reason": f"kubelet {kubelet} is a supported version"})
        if c.cluster in nodes_by_cluster:
            rows.append(_base(c, resource_type="kubelet-config", resource_id=f"{c.cluster}/kubelet-config",
                              evidence=c.evidence, status="MANUAL",
                              reason="kubelet configuration (configz, tlsMinVersion) is not collected: confirm "
                                     "tlsMinVersion is VersionTLS12 or later on self-managed nodes (EKS-optimized "
                                     "AMIs default to Go's TLS 1.2 minimum)"))
    return pd.DataFrame(rows)


# ---- NET-04 -------------------------------------------------------------------------------------------

@check("NET-04", domain="network", title="EKS interface VPC endpoint guarded by security groups", severity="medium",
       requirements=["R-NET-4"], frames=("cluster_net", "vpc_endpoints", "security_groups", "ec2_vpcs"),
       practice="The cluster VPC reaches the EKS API through an available interface endpoint "
                "(com.amazonaws.<region>.eks) whose security groups admit only the VPC's own sources.",
       rationale="Without the endpoint, calls to the EKS API leave the VPC; an endpoint whose security group is "
                 "open to the internet lets anything that reaches the VPC's network use it.",
       remediation="aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --service-name "
                   "com.amazonaws.REGION.eks --vpc-id VPC --security-group-ids SG (SG: 443 from the VPC CIDR only).",
       references={"securityhub": "EC2.10 (nearest)", "prowler": "none"})
def net_04(f: Frames, p: dict) -> pd.DataFrame:
    return pd.DataFrame([_endpoint_rows(f, c, "eks") for c in f.cluster_net.itertuples(index=False)])


# ---- NET-05 -------------------------------------------------------------------------------------------

def _in_vpc(cidr: str, vpc_cidrs: list[str]) -> bool:
    import ipaddress

    try:
        net = ipaddress.ip_network(cidr, strict=False)
        return any(net.version == ipaddress.ip_network(v).version and net.subnet_of(ipaddress.ip_network(v))
                   for v in vpc_cidrs)
    except ValueError:
        return False


def _cluster_groups(c, sg: pd.DataFrame) -> dict[str, str]:
    """group id -> why it belongs to the cluster (cluster, additional, or tagged node group)."""
    out = {}
    if c.cluster_security_group_id:
        out[c.cluster_security_group_id] = "cluster security group"
    for g in c.security_group_ids:
        out.setdefault(g, "additional security group")
    tagged = sg[(sg["region"] == c.region) & sg["tags"].map(
        lambda t: t.get(f"kubernetes.io/cluster/{c.cluster}") in ("owned", "shared")
        or t.get("aws:eks:cluster-name") == c.cluster or t.get("eks:cluster-name") == c.cluster)]
    for g in tagged["group_id"]:
        out.setdefault(g, "security group tagged for the cluster (nodes)")
    return out


def _remote_access(f: Frames, c) -> list[dict]:
    """Managed node groups with SSH remote access and no source security group: EKS then opens port 22 to
    0.0.0.0/0 on the nodes (read softly from aws:eks:DescribeNodegroup, when it was collected)."""
    rows = []
    for entry, data in f.evidence.responses("aws:eks:DescribeNodegroup"):
        ng = data.get("nodegroup") or {}
        remote = ng.get("remoteAccess") or {}
        if ng.get("clusterName") != c.cluster or not remote.get("ec2SshKey") or remote.get("sourceSecurityGroups"):
            continue
        rows.append(_base(c, resource_type="nodegroup", resource_id=ng.get("nodegroupArn") or ng.get("nodegroupName", ""),
                          evidence=ref(entry), status="FAIL",
                          reason=f"node group {ng.get('nodegroupName', '')} allows SSH with key "
                                 f"{remote['ec2SshKey']} and no source security group, so EKS opens port 22 to "
                                 "0.0.0.0/0 on its nodes"))
    return rows


@check("NET-05", domain="network", title="Cluster and node security groups are restricted", severity="high",
       requirements=["R-NET-5"], frames=("cluster_net", "security_groups", "ec2_vpcs"),
       soft_inputs=("aws:eks:DescribeNodegroup",),
       practice="The cluster security group, the additional control-plane groups and the node groups admit no "
                "source from the whole internet, open no rule to all ports from an address range, and keep SSH "
                "inside the VPC.",
       rationale="These groups carry control-plane to kubelet and node to node traffic; an internet-wide rule "
                 "or SSH from outside the VPC exposes nodes directly.",
       remediation="Remove 0.0.0.0/0 and ::/0 ingress rules; replace all-port CIDR rules with the ports EKS needs "
                   "(443, 10250, and the node port range between groups); allow SSH only from a bastion group "
                   "or use SSM Session Manager.",
       references={"cis_eks": "5.4.x", "securityhub": "EC2.18, EC2.19, EC2.13",
                   "prowler": "ec2_securitygroup_allow_ingress_from_internet_to_any_port"})
def net_05(f: Frames, p: dict) -> pd.DataFrame:
    sg, ing, vpcs = f.security_groups, f.sg_ingress, f.ec2_vpcs
    rows = []
    for c in f.cluster_net.itertuples(index=False):
        if not c.vpc_id:
            rows.append(_base(c, resource_type="cluster", resource_id=c.arn, evidence=c.evidence, status="ERROR",
                              reason=f"SSH sources cannot be compared with the VPC: {c.vpc_error}"))
        vpc_cidrs = [x for cs in vpcs[(vpcs["region"] == c.region) & (vpcs["vpc_id"] == c.vpc_id)]["cidrs"] for x in cs]
        for gid, role in sorted(_cluster_groups(c, sg).items()):
            g = sg[(sg["region"] == c.region) & (sg["group_id"] == gid)]
            base = _base(c, resource_type="security-group", resource_id=gid)
            if g.empty:
                rows.append({**base, "status": "ERROR", "evidence": c.evidence,
                             "reason": f"{role} {gid} is not in the DescribeSecurityGroups evidence"})
                continue
            problems = []
            for r in ing[(ing["region"] == c.region) & (ing["group_id"] == gid)].itertuples(index=False):
                if r.source_kind != "cidr":
                    continue
                ports = "all ports" if r.all_ports else (f"port {r.from_port}" if r.from_port == r.to_port
                                                          else f"ports {r.from_port}-{r.to_port}")
                ssh = r.all_ports or (r.protocol in ("tcp", "6") and r.from_port is not None
                                      and r.from_port <= 22 <= r.to_port)
                if r.world:
                    problems.append(f"{ports} open to {r.source}")
                elif r.all_ports:
                    problems.append(f"all ports open to {r.source}")
                elif ssh and not _in_vpc(r.source, vpc_cidrs):
                    problems.append(f"SSH open to {r.source}, outside the VPC" +
                                    ("" if vpc_cidrs else " (VPC CIDR unknown)"))
            rows.append({**base, "evidence": g.iloc[0]["evidence"], "status": "FAIL" if problems else "PASS",
                         "reason": f"{role}: " + ("; ".join(dict.fromkeys(problems)) if problems else
                                                  "no internet-wide, all-port or outside SSH ingress")})
        rows.extend(_remote_access(f, c))
    return pd.DataFrame(rows)


# ---- NET-06 -------------------------------------------------------------------------------------------

def _ingress_types(spec: dict) -> list[str]:
    """A NetworkPolicy's effective policyTypes (Ingress always, Egress when it has egress rules, unless set)."""
    return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))


def _default_deny(obj: dict) -> bool:
    spec = obj.get("spec") or {}
    selects_all = not (spec.get("podSelector") or {}).get("matchLabels") and \
        not (spec.get("podSelector") or {}).get("matchExpressions")
    return selects_all and "Ingress" in _ingress_types(spec) and not spec.get("ingress")


def _isolates(obj: dict) -> bool:
    """Whether a NetworkPolicy isolates the pods it selects for ingress: it covers Ingress and no rule of it
    admits every source on every port (an empty rule `{}` does)."""
    spec = obj.get("spec") or {}
    rules = spec.get("ingress") or []
    return "Ingress" in _ingress_types(spec) and not any(not r.get("from") and not r.get("ports") for r in rules)


def _name(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "")


@check("NET-06", domain="network", title="Pods protected by network policies or security groups", severity="medium",
       requirements=["R-NET-6"], frames=("clusters", "workloads"), inputs=("k8s:networkpolicies",),
       soft_inputs=("k8s:securitygrouppolicies", "k8s:serviceaccounts"),
       params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Every pod that runs workloads is selected by a NetworkPolicy that isolates it for ingress (a "
                "namespace's default-deny selects all its pods) or by a SecurityGroupPolicy (security groups for "
                "pods); every namespace that runs workloads has a default-deny ingress policy.",
       rationale="By default every pod can reach every other pod; without policies one compromised pod can "
                 "reach databases and internal services across namespaces. A policy in the namespace protects "
                 "only the pods it selects, and a default-deny also isolates pods added later.",
       remediation="Apply a default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress]) in each "
                   "application namespace, then allow the flows each application needs; or attach security "
                   "groups to pods with a SecurityGroupPolicy.",
       references={"cis_eks": "4.3.2", "prowler": "none"})
def net_06(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    netpols = f.evidence.k8s_items("networkpolicies")
    sgp_ok = {e["cluster"] for e, _ in f.evidence.responses("k8s:securitygrouppolicies")}
    sgp_errors = {e["cluster"]: describe(e.get("error") or {}) for e in f.evidence.errors("k8s:securitygrouppolicies")}
    sgps = f.evidence.k8s_items("securitygrouppolicies")
    sa_labels = {(c, (o.get("metadata") or {}).get("namespace", ""), _name(o)): (o.get("metadata") or {}).get("labels") or {}
                 for c, o in f.evidence.k8s_items("serviceaccounts")}
    w = outside(f.workloads, p["exclude_namespaces"])
    np_paths = {e["cluster"]: e["path"] for e, _ in f.evidence.responses("k8s:networkpolicies")}
    for c in f.clusters.itertuples(index=False):
        if c.cluster not in np_paths:
            continue  # policies not read: the engine reports the failed input instead of a guess
        ev = f"evidence/{np_paths[c.cluster]}"
        cnp = [o for cl, o in netpols if cl == c.cluster]
        csg = [o for cl, o in sgps if cl == c.cluster]
        mine = w[w["cluster"] == c.cluster]
        no_deny = []
        for ns in sorted(set(mine["namespace"])):
            base = _base(c, resource_type="namespace", resource_id=f"{c.cluster}/{ns}", evidence=ev)
            pols = [o for o in cnp if (o.get("metadata") or {}).get("namespace") == ns]
            sgs = [o for o in csg if (o.get("metadata") or {}).get("namespace") == ns]
            if not any(_default_deny(o) for o in pols):
                no_deny.append(ns)
            unprotected, by = [], set()
            for r in mine[mine["namespace"] == ns].itertuples(index=False):
                hit = [f"NetworkPolicy {_name(o)}" for o in pols
                       if _isolates(o) and selects((o.get("spec") or {}).get("podSelector"), r.pod_labels)]
                for o in sgs:
                    spec = o.get("spec") or {}
                    by_pod = "podSelector" in spec and selects(spec.get("podSelector"), r.pod_labels)
                    by_sa = "serviceAccountSelector" in spec and selects(
                        spec.get("serviceAccountSelector"), sa_labels.get((c.cluster, ns, r.service_account), {}))
                    if by_pod or by_sa:
                        hit.append(f"SecurityGroupPolicy {_name(o)}")
                if hit:
                    by.update(hit)
                else:
                    unprotected.append(r.workload)
            n = len(mine[mine["namespace"] == ns])
            if not unprotected:
                rows.append({**base, "status": "PASS", "reason": f"every workload ({n}) is selected by "
                             + ", ".join(sorted(by))})
            elif c.cluster not in sgp_ok:
                rows.append({**base, "status": "ERROR", "reason": f"{_few(unprotected)} selected by no isolating "
                             "NetworkPolicy, and SecurityGroupPolicies could not be read (k8s:securitygrouppolicies "
                             f"{sgp_errors.get(c.cluster, 'not collected')}), so security groups for pods are "
                             "unknown"})
            elif not pols and not sgs:
                rows.append({**base, "status": "FAIL",
                             "reason": "runs workloads with neither a NetworkPolicy nor a SecurityGroupPolicy: every "
                                       "pod in it is reachable from any pod in the cluster"})
            else:
                names = ", ".join(sorted({f"NetworkPolicy {_name(o)}" for o in pols}
                                         | {f"SecurityGroupPolicy {_name(o)}" for o in sgs}))
                rows.append({**base, "status": "FAIL",
                             "reason": f"{_few(unprotected)} of {n} workloads selected by no policy that isolates "
                                       f"them ({names} select other pods or admit every source): reachable from "
                                       "any pod in the cluster"})
        deny = sorted(f"{(o.get('metadata') or {}).get('namespace', '')}/{_name(o)}" for o in cnp if _default_deny(o))
        spaces = sorted(set(mine["namespace"]))
        rows.append(_base(c, resource_type="cluster", resource_id=f"{c.cluster}/default-deny", evidence=ev,
                          status="FAIL" if no_deny or not spaces and not deny else "PASS",
                          reason=(f"no default-deny NetworkPolicy in namespace(s) {', '.join(no_deny)}: pods added "
                                  "there are reachable from any pod" if no_deny else
                                  f"default-deny policy {', '.join(deny)} in every namespace running workloads "
                                  f"({', '.join(spaces)})" if spaces else
                                  ("default-deny policy " + ", ".join(deny) + " (no workload namespace audited)")
                                  if deny else "no default-deny NetworkPolicy anywhere in the cluster")))
    return pd.DataFrame(rows)


def _few(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


# ---- NET-08 -------------------------------------------------------------------------------------------

CSI_DRIVER = "secrets-store.csi.k8s.io"


def _uses_secrets_csi(spec: dict) -> bool:
    return any((v.get("csi") or {}).get("driver") == CSI_DRIVER for v in spec.get("volumes") or [])


@check("NET-08", domain="network", title="Secrets Manager reached through a guarded VPC endpoint", severity="medium",
       requirements=["R-NET-8"], frames=("cluster_net", "sm_secrets", "vpc_endpoints", "security_groups", "ec2_vpcs"),
       soft_inputs=WORKLOAD_INPUTS,
       practice="Where the account keeps secrets in Secrets Manager (or pods mount them with the Secrets Store "
                "CSI driver), the cluster VPC has an available secretsmanager interface endpoint with private DNS "
                "whose security groups admit only sources inside the VPC.",
       rationale="Without the endpoint, secret retrieval leaves the VPC over the internet or a NAT gateway; an "
                 "endpoint open to the world lets any network path use it.",
       remediation="aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --service-name "
                   "com.amazonaws.REGION.secretsmanager --private-dns-enabled --vpc-id VPC --security-group-ids SG.",
       references={"securityhub": "none", "prowler": "none"})
def net_08(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    sec = f.sm_secrets
    csi_clusters = set()
    try:
        w = f.workloads
        csi_clusters = set(w[w["spec"].map(_uses_secrets_csi)]["cluster"])
    except Exception:  # Kubernetes objects are optional here: the secrets list alone decides the need
        pass
    for c in f.cluster_net.itertuples(index=False):
        n = int((sec["region"] == c.region).sum())
        needs = []
        if n:
            needs.append(f"{n} secret(s) in Secrets Manager in {c.region}")
        if c.cluster in csi_clusters:
            needs.append("pods mount secrets with the Secrets Store CSI driver")
        if not needs:
            rows.append(_base(c, resource_type="vpc-endpoint", evidence=c.evidence, status="NOT_APPLICABLE",
                              resource_id=f"{c.vpc_id}/com.amazonaws.{c.region}.secretsmanager",
                              reason="no secret in Secrets Manager in the region and no Secrets Store CSI driver use"))
            continue
        r = _endpoint_rows(f, c, "secretsmanager", need_private_dns=True)
        r["reason"] += " (needed: " + "; ".join(needs) + ")"
        rows.append(r)
    return pd.DataFrame(rows)


# ---- NET-10 -------------------------------------------------------------------------------------------

def _is_sensitive(name: str, tags: dict, tag_rules: list[str], patterns: list[str]) -> str:
    """Why a repository counts as sensitive, or ""."""
    import fnmatch

    low = {str(k).lower(): str(v).lower() for k, v in tags.items()}
    for rule in tag_rules:
        key, _, value = str(rule).partition("=")
        key = key.strip().lower()
        if key in low and (low[key] == value.strip().lower() if value else low[key] not in ("false", "no", "0", "")):
            return f"tag {key}={tags.get(next(k for k in tags if str(k).lower() == key))}"
    for pat in patterns:
        if fnmatch.fnmatch(name, pat):
            return f"name matches {pat}"
    return ""


@check("NET-10", domain="network", title="Sensitive ECR repositories use a customer-managed KMS key",
       severity="medium", requirements=["R-NET-10"], frames=("ecr_repository_keys",),
       params={"sensitive_repo_tags": ["sensitive", "sensitivity=high", "sensitivity=sensitive",
                                       "sensitivity=confidential", "data-classification=confidential",
                                       "data-classification=restricted"],
               "sensitive_repo_patterns": []},
       practice="Repositories marked sensitive (by tag or name) encrypt images with a customer-managed KMS key, "
                "not the AWS-managed aws/ecr key or AES-256.",
       rationale="A customer-managed key has a key policy you control, can be disabled or rotated on your "
                 "schedule, and separates who may decrypt sensitive images from who may use ECR at all.",
       remediation="ECR encryption is fixed at creation: create a repository with encryptionType KMS and kmsKey "
                   "set to a customer-managed key, move the images, and delete the old repository.",
       references={"prowler": "ecr_repositories_encrypted_with_cmk (nearest)"})
def net_10(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    for r in f.ecr_repository_keys.itertuples(index=False):
        base = {"account_id": r.account_id, "region": r.region, "cluster": "", "resource_type": "ecr-repository",
                "resource_id": r.arn, "evidence": r.evidence}
        why = _is_sensitive(r.repository, r.tags, p["sensitive_repo_tags"], p["sensitive_repo_patterns"])
        if not why:
            if r.tags_error:
                rows.append({**base, "status": "ERROR", "reason": f"could not tell whether it is sensitive: "
                             f"{r.tags_error}"})
            else:
                rows.append({**base, "status": "NOT_APPLICABLE", "reason": "not marked sensitive (tags, name)"})
            continue
        if r.encryption_type not in ("KMS", "KMS_DSSE"):
            rows.append({**base, "status": "FAIL", "reason": f"sensitive ({why}) but encrypted with "
                         f"{r.encryption_type or 'unknown'}, not a customer-managed KMS key"})
            continue
        aws_alias = [a for a in r.key_aliases if str(a).startswith("alias/aws/")]
        if r.key_manager == "AWS" or aws_alias:
            detail = "KeyManager AWS" if r.key_manager == "AWS" else f"alias {aws_alias[0]}"
            rows.append({**base, "status": "FAIL", "reason": f"sensitive ({why}) but encrypted with an AWS-managed "
                         f"key ({detail}): {r.kms_key}"})
        elif r.key_error:
            rows.append({**base, "status": "ERROR", "reason": f"sensitive ({why}); key {r.kms_key} could not be "
                         f"verified: {r.key_error}"})
        elif r.key_manager == "CUSTOMER":
            rows.append({**base, "status": "PASS", "reason": f"sensitive ({why}); customer-managed key {r.kms_key}"})
        else:
            rows.append({**base, "status": "ERROR", "reason": f"sensitive ({why}); DescribeKey did not say who "
                         f"manages key {r.kms_key}"})
    return pd.DataFrame(rows)


# ---- NET-11 -------------------------------------------------------------------------------------------

@check("NET-11", domain="network", title="ECR reached through guarded interface VPC endpoints", severity="medium",
       requirements=["R-NET-11"], frames=("cluster_net", "vpc_endpoints", "security_groups", "ec2_vpcs"),
       practice="The cluster VPC has the ecr.api and ecr.dkr interface endpoints (and the S3 gateway endpoint "
                "image layers are pulled through), available, and the interface endpoints' security groups admit "
                "only sources inside the VPC.",
       rationale="Without them, image pulls leave the VPC through a NAT or internet gateway; endpoints open to "
                 "the world can be used from any network path.",
       remediation="Create interface endpoints com.amazonaws.REGION.ecr.api and .ecr.dkr (private DNS on, "
                   "security group: 443 from the VPC) and a gateway endpoint com.amazonaws.REGION.s3 on the "
                   "nodes' route tables.",
       references={"securityhub": "none", "prowler": "none"})
def net_11(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    for c in f.cluster_net.itertuples(index=False):
        rows.append(_endpoint_rows(f, c, "ecr.api"))
        rows.append(_endpoint_rows(f, c, "ecr.dkr"))
        rows.append(_endpoint_rows(f, c, "s3", kind="Gateway", check_groups=False))
    return pd.DataFrame(rows)


# ---- NET-12 -------------------------------------------------------------------------------------------

@check("NET-12", domain="network", title="Kubernetes secrets envelope-encrypted with KMS", severity="high",
       requirements=["R-NET-12"], frames=("clusters",),
       practice="The cluster encrypts Kubernetes Secrets with a KMS key (encryptionConfig for the secrets "
                "resource), on top of the default disk encryption of etcd.",
       rationale="Envelope encryption keeps secret values unreadable from etcd backups or storage, and puts "
                 "decryption under a key policy and CloudTrail.",
       remediation="aws eks associate-encryption-config --cluster-name NAME --encryption-config "
                   "'[{\"resources\":[\"secrets\"],\"provider\":{\"keyArn\":\"KMS_KEY_ARN\"}}]'.",
       references={"cis_eks": "5.3.1", "securityhub": "EKS.3", "prowler": "eks_cluster_kms_cmk_encryption_in_secrets_enabled"})
def net_12(f: Frames, p: dict) -> pd.DataFrame:
    c = f.clusters
    if c.empty:
        return pd.DataFrame()
    enc = c["secrets_encrypted"] == True  # noqa: E712
    reason = np.where(enc, "secrets encrypted with KMS key " + c["encryption_key_arn"],
                      "no encryptionConfig for secrets: Kubernetes Secrets are not envelope-encrypted")
    return result(c, np.where(enc, "PASS", "FAIL"), reason, "cluster", c["arn"])

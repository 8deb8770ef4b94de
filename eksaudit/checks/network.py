"""Network access domain checks."""

from __future__ import annotations

import fnmatch
import ipaddress
import re

import numpy as np
import pandas as pd

from ..collect.faults import describe
from ..collect.inputs import TLS_PROBE
from ..collect.kubernetes import NETWORK_POLICIES, NODES, SECURITY_GROUP_POLICIES, SERVICE_ACCOUNTS
from ..collect.steps.iam import DESCRIBE_NODEGROUP
from ..collect.steps.network import DESCRIBE_TAGS
from ..frames import Frames, values
from ..frames.core import ref
from ..frames.kubernetes import WORKLOAD_INPUTS
from ..frames.network import CLUSTER_TAG, WORLD, cluster_load_balancers, service_name, vpc_endpoints_for
from . import check
from .common import SYSTEM_NAMESPACES, finding, findings, outside, selects

# ---- helpers ------------------------------------------------------------------------------------------

OLD_TLS = ("TLSv1", "TLSv1.1")
KMS_TYPES = ("KMS", "KMS_DSSE")


def _records(df: pd.DataFrame) -> list[dict]:
    """A frame's rows as dicts: each carries the scope and evidence `finding` reads."""
    return df.to_dict("records")


def _objects_by_cluster(f: Frames, kind_input: str) -> dict[str, list[tuple[dict, dict]]]:
    """(evidence entry, object) of every collected object of a Kubernetes kind, by cluster (a cluster with none
    has no key)."""
    out: dict[str, list[tuple[dict, dict]]] = {}
    for entry, data in f.evidence.responses(kind_input):
        for obj in data.get("items", []):
            out.setdefault(entry["cluster"], []).append((entry, obj))
    return out


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _name(obj: dict) -> str:
    return _meta(obj).get("name", "")


# ---- NET-01 -------------------------------------------------------------------------------------------

def _probe_verdict(pr: dict) -> tuple[str, str]:
    """(status, reason) for one probed endpoint, or for a probe entry that probed nothing."""
    if pr["status"] == "skipped":
        return "NOT_APPLICABLE", f"no endpoint probed: {pr['reason']}"
    if pr["status"] == "not-applicable":
        return "NOT_APPLICABLE", pr["reason"]
    if pr["status"] != "ok":
        return "ERROR", f"TLS probe ({TLS_PROBE}) failed: {pr['reason']}"
    accepted = list(pr["accepted"])
    old = [v for v in OLD_TLS if v in accepted]
    if old:
        return "FAIL", "accepts " + " and ".join(old) + " handshakes (accepted: " + ", ".join(accepted) + ")"
    untested = [a for a in pr["attempts"] if a.get("version") in OLD_TLS and a.get("result") != "rejected"]
    if untested:
        return "ERROR", f"TLS probe ({TLS_PROBE}) could not test " + ", ".join(
            f"{a['version']} ({a.get('detail', a.get('result'))})" for a in untested)
    return "PASS", "refuses TLSv1 and TLSv1.1; accepts " + (", ".join(accepted) or "nothing")


@check("NET-01", domain="network", title="EKS API endpoints accept only TLS 1.2 or later", severity="high",
       requirements=["R-NET-1"], frames=("clusters", "tls_probes"),
       practice="Every EKS API endpoint the audit reaches (each cluster's Kubernetes API and, in live runs, the "
                "regional EKS API) refuses TLS 1.0 and 1.1 handshakes, so clients can only talk TLS 1.2 or later.",
       rationale="TLS 1.0 and 1.1 have known weaknesses (BEAST, weak MACs, downgrade paths); an endpoint that "
                 "still accepts them lets a misconfigured or old client send credentials over a weak channel.",
       remediation="EKS-managed endpoints already refuse TLS below 1.2; where an old version is accepted the "
                   "endpoint is fronted by something else (proxy, load balancer, custom API gateway): raise its "
                   "minimum TLS version to 1.2 and update clients (AWS SDKs, kubectl) that still use older TLS.",
       references={})
def api_endpoints_refuse_old_tls(f: Frames, p: dict) -> list[dict]:
    probes = f.tls_probes
    rows = []
    for pr in _records(probes):
        status, reason = _probe_verdict(pr)
        rows.append(finding(pr, status, "api-endpoint", pr["url"] or (pr["cluster"] or pr["region"] or "endpoint"),
                            reason))
    probed = set(probes["cluster"]) | {e["cluster"] for e in f.evidence.errors(TLS_PROBE)}
    rows += [finding(c, "ERROR", "cluster", c["arn"], f"no TLS probe evidence ({TLS_PROBE}) for this cluster "
                     "(collected without probes)") for c in _records(f.clusters) if c["cluster"] not in probed]
    return rows


# ---- NET-02 -------------------------------------------------------------------------------------------

def _listener_verdict(li: dict, pols: pd.DataFrame, region: str) -> tuple[str, str] | None:
    """(status, what the listener allows) for an HTTPS, TLS or HTTP listener; None for the others (TCP, UDP:
    any TLS there ends at the targets)."""
    if li["protocol"] in ("HTTPS", "TLS"):
        pol = pols[(pols["region"] == region) & (pols["name"] == li["ssl_policy"])]
        if pol.empty:
            return "ERROR", (f"security policy {li['ssl_policy'] or '(none)'} was not returned by "
                             "DescribeSSLPolicies, so its TLS versions are unknown")
        protos = list(pol.iloc[0]["protocols"])
        old = [v for v in OLD_TLS if v in protos]
        return ("FAIL" if old else "PASS"), (f"policy {li['ssl_policy']} allows " + ", ".join(protos)
                                             + (" (TLS below 1.2)" if old else ""))
    if li["protocol"] == "HTTP":
        return ("PASS", "redirects to HTTPS") if li["redirects_https"] else \
            ("FAIL", "serves plain HTTP without redirecting to HTTPS")
    return None


def _listener_findings(f: Frames, c: dict) -> list[dict]:
    """A verdict on every HTTPS, TLS and HTTP listener of the load balancers of one cluster."""
    lis, rows = f.lb_listeners, []
    for lb in _records(cluster_load_balancers(f.load_balancers, c["cluster"], c["region"], c["vpc_id"])):
        why = (f"tagged {CLUSTER_TAG}={c['cluster']}" if lb["tags"].get(CLUSTER_TAG) == c["cluster"]
               else f"in the cluster VPC {c['vpc_id']}")
        for li in _records(lis[lis["lb_arn"] == lb["arn"]]):
            verdict = _listener_verdict(li, f.ssl_policies, c["region"])
            if verdict is None:
                continue
            head = f"{lb['type']} {lb['name']} ({why}) {li['protocol']} listener on port {li['port']}"
            rows.append(finding(c, verdict[0], "listener", f"{lb['name']}:{li['protocol']}:{li['port']} ({li['arn']})",
                                f"{head}: {verdict[1]}", evidence=li["evidence"]))
    return rows


def _untagged_elsewhere(f: Frames, c: dict, tags_failed: bool) -> list[dict]:
    """Load balancers outside the cluster VPC whose tags could not be read: they may belong to the cluster."""
    lbs = f.load_balancers
    here = lbs[lbs["region"] == c["region"]]
    if not tags_failed or here.empty:
        return []
    unknown = here[(here["vpc_id"] != c["vpc_id"]) & ~here["tags_read"]]
    if unknown.empty:
        return []
    return [finding(c, "ERROR", "load-balancer", ", ".join(unknown["name"]),
                    f"load balancer tags ({DESCRIBE_TAGS}) could not be read, so load balancers outside the cluster "
                    "VPC may belong to it", evidence="evidence/manifest.json")]


@check("NET-02", domain="network", title="Load balancers of the clusters use TLS 1.2 or later", severity="high",
       requirements=["R-NET-2"], frames=("cluster_net", "load_balancers", "lb_listeners", "ssl_policies"),
       practice="HTTPS and TLS listeners of the ALBs and NLBs in front of a cluster use a security policy without "
                "TLS 1.0 or 1.1, and plain HTTP listeners only redirect to HTTPS.",
       rationale="The load balancer terminates client TLS: its policy, not the pods', decides which protocol "
                 "versions clients may use; an HTTP listener that forwards traffic sends it in clear text.",
       remediation="aws elbv2 modify-listener --listener-arn ARN --ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06 "
                   "(or the alb.ingress.kubernetes.io/ssl-policy annotation); make HTTP listeners redirect "
                   "(alb.ingress.kubernetes.io/ssl-redirect: '443').",
       references={})
def load_balancers_use_tls12(f: Frames, p: dict) -> list[dict]:
    tags_failed = bool(f.evidence.errors(DESCRIBE_TAGS))
    rows = []
    for c in _records(f.cluster_net):
        if not c["vpc_id"]:
            rows.append(finding(c, "ERROR", "cluster", c["arn"],
                                f"load balancers in the cluster VPC cannot be found: {c['vpc_error']}"))
        rows += _listener_findings(f, c) + _untagged_elsewhere(f, c, tags_failed)
    return rows


# ---- NET-03 -------------------------------------------------------------------------------------------

def _minor(version: str) -> tuple[int, int] | None:
    m = re.match(r"v?(\d+)\.(\d+)", str(version or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def _kubelet_verdict(kubelet: str, min_version: str) -> tuple[str, str]:
    v = _minor(kubelet)
    if v is None:
        return "ERROR", f"the node reports no kubelet version ({NODES} gives no status.nodeInfo.kubeletVersion)"
    if v < (_minor(min_version) or (1, 30)):
        return "FAIL", (f"kubelet {kubelet} is older than the oldest supported version {min_version} (no more TLS "
                        "and security fixes)")
    return "PASS", f"kubelet {kubelet} is a supported version"


KUBELET_CONFIG_UNSEEN = ("kubelet configuration (configz, tlsMinVersion) is not collected: confirm tlsMinVersion "
                         "is VersionTLS12 or later on self-managed nodes (EKS-optimized AMIs default to Go's TLS 1.2 "
                         "minimum)")


@check("NET-03", domain="network", title="TLS 1.2 or later between the control plane and the nodes",
       severity="medium", requirements=["R-NET-3"], frames=("clusters",), inputs=(NODES,),
       params={"min_kubelet_version": "1.30"},
       practice="Kubelets refuse TLS below 1.2 (tlsMinVersion) and nodes run a Kubernetes version that still "
                "gets security fixes.",
       rationale="The API server talks to kubelets for logs, exec and port-forward; a kubelet on an old release "
                 "or configured with a low tlsMinVersion weakens that channel and misses TLS fixes.",
       remediation="Upgrade node groups to a supported Kubernetes version; set tlsMinVersion: VersionTLS12 (or "
                   "VersionTLS13) in the kubelet configuration of self-managed nodes.",
       references={})
def kubelets_supported_and_tls12(f: Frames, p: dict) -> list[dict]:
    nodes = _objects_by_cluster(f, NODES)
    rows = []
    for c in _records(f.clusters):
        for entry, n in nodes.get(c["cluster"], []):
            name = _name(n)
            status, reason = _kubelet_verdict(((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", ""),
                                              p["min_kubelet_version"])
            rows.append(finding(c, status, "node", f"{c['cluster']}/node/{name}", reason, evidence=ref(entry, name)))
        if c["cluster"] in nodes:
            rows.append(finding(c, "MANUAL", "kubelet-config", f"{c['cluster']}/kubelet-config", KUBELET_CONFIG_UNSEEN))
    return rows


# ---- NET-04 (and the endpoint verdict NET-08 and NET-11 share) -----------------------------------------

LIVE = {"available"}
GONE = {"deleted", "deleting", "rejected", "failed", "expired"}


def _vpc_cidrs(f: Frames, region: str, vpc_id: str) -> list[str]:
    vpcs = f.ec2_vpcs
    return [x for cs in vpcs[(vpcs["region"] == region) & (vpcs["vpc_id"] == vpc_id)]["cidrs"] for x in cs]


def _in_vpc(cidr: str, vpc_cidrs: list[str]) -> bool:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
        return any(net.version == ipaddress.ip_network(v).version and net.subnet_of(ipaddress.ip_network(v))
                   for v in vpc_cidrs)
    except ValueError:
        return False


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
    cidrs = _vpc_cidrs(f, region, vpc_id)
    sg = f.security_groups
    group_vpc = dict(zip(sg[sg["region"] == region]["group_id"], sg[sg["region"] == region]["vpc_id"]))
    ing = f.sg_ingress
    mine = ing[(ing["region"] == region) & ing["group_id"].isin(group_ids)]
    problems, unresolved = [], []
    for r in _records(mine):
        if r["world"]:
            continue  # reported as internet-wide
        if r["source_kind"] == "cidr" and cidrs and not _in_vpc(r["source"], cidrs):
            problems.append(f"{r['group_id']} admits {r['source']}, outside the VPC ({', '.join(cidrs)})")
        elif r["source_kind"] == "group" and group_vpc.get(r["source"], "") != vpc_id:
            problems.append(f"{r['group_id']} admits security group {r['source']}, which is not in the VPC")
        elif r["source_kind"] == "prefix-list":
            unresolved.append(f"{r['group_id']} admits prefix list {r['source']}")
    why = ("" if cidrs or not (mine["source_kind"] == "cidr").any()
           else f"the CIDRs of VPC {vpc_id} are not in the DescribeVpcs evidence")
    return sorted(set(problems)), sorted(set(unresolved)), why


def _guard_verdict(f: Frames, c: dict, live: pd.DataFrame, label: str, need_private_dns: bool,
                   check_groups: bool) -> tuple[str, str]:
    """(status, reason) for the available endpoints of one service: private DNS on where clients need it, and
    security groups that admit only the VPC's own sources."""
    problems = []
    if need_private_dns and not live["private_dns"].any():
        problems.append("private DNS is off, so clients still resolve the public endpoint")
    groups = sorted({g for gs in live["group_ids"] for g in gs})
    unresolved: list[str] = []
    if check_groups:
        open_, unknown = _world_open(f, groups, c["region"])
        if open_:
            problems.append("security group " + ", ".join(open_) + " allows ingress from the whole internet "
                            "(0.0.0.0/0 or ::/0)")
        foreign, unresolved, why = _outside_vpc(f, groups, c["region"], c["vpc_id"])
        problems += foreign
        if (unknown or why) and not problems:
            missing = ("security group " + ", ".join(unknown) + " of the endpoint is not in the "
                       "DescribeSecurityGroups evidence" if unknown else why)
            return "ERROR", f"{missing}, so its sources could not be checked"
    if problems:
        return "FAIL", f"{label}: " + "; ".join(problems)
    if unresolved:
        return "MANUAL", f"{label} available; " + "; ".join(unresolved) + ": confirm its entries are inside the VPC"
    detail = (f"security groups {', '.join(groups)} admit only sources inside the VPC {c['vpc_id']}" if check_groups
              else "present")
    return "PASS", f"{label} available; {detail}"


def _endpoint_finding(f: Frames, c: dict, service: str, kind: str = "Interface", need_private_dns: bool = False,
                      check_groups: bool = True) -> dict:
    """One verdict on one VPC endpoint service in a cluster's VPC: proven for that VPC (an endpoint in another VPC
    of the account proves nothing), available, and guarded by security groups that admit only the VPC's own
    sources."""
    name = service_name(c["region"], service)
    if not c["vpc_id"]:
        return finding(c, "ERROR", "vpc-endpoint", f"{c['cluster']}/{name}",
                       c["vpc_error"] or "the cluster VPC is unknown")
    found = vpc_endpoints_for(f.vpc_endpoints, c["region"], c["vpc_id"], service, kind)
    found = found[~found["state"].str.lower().isin(GONE)]
    if found.empty:
        return finding(c, "FAIL", "vpc-endpoint", f"{c['vpc_id']}/{name}",
                       f"no {kind.lower()} endpoint {name} in the cluster VPC {c['vpc_id']}")
    live = found[found["state"].str.lower().isin(LIVE)]
    e = (found if live.empty else live).iloc[0]
    label = f"{kind.lower()} endpoint {e['endpoint_id']}"
    if live.empty:
        status, reason = "FAIL", (f"{label} is {e['state'] or 'in an unknown state'}, not available, so traffic "
                                  "does not use it")
    else:
        status, reason = _guard_verdict(f, c, live, label, need_private_dns, check_groups)
    return finding(c, status, "vpc-endpoint", f"{c['vpc_id']}/{name} ({e['endpoint_id']})", reason,
                   evidence=e["evidence"])


@check("NET-04", domain="network", title="EKS interface VPC endpoint guarded by security groups", severity="medium",
       requirements=["R-NET-4"], frames=("cluster_net", "vpc_endpoints", "security_groups", "ec2_vpcs"),
       practice="The cluster VPC reaches the EKS API through an available interface endpoint "
                "(com.amazonaws.<region>.eks) whose security groups admit only the VPC's own sources.",
       rationale="Without the endpoint, calls to the EKS API leave the VPC; an endpoint whose security group is "
                 "open to the internet lets anything that reaches the VPC's network use it.",
       remediation="aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --service-name "
                   "com.amazonaws.REGION.eks --vpc-id VPC --security-group-ids SG (SG: 443 from the VPC CIDR only).",
       references={})
def eks_endpoint_guarded(f: Frames, p: dict) -> list[dict]:
    return [_endpoint_finding(f, c, "eks") for c in _records(f.cluster_net)]


# ---- NET-05 -------------------------------------------------------------------------------------------

def _cluster_groups(c: dict, sg: pd.DataFrame) -> dict[str, str]:
    """group id -> why it belongs to the cluster (cluster, additional, or tagged node group)."""
    out = {}
    if c["cluster_security_group_id"]:
        out[c["cluster_security_group_id"]] = "cluster security group"
    for g in c["security_group_ids"]:
        out.setdefault(g, "additional security group")
    tagged = sg[(sg["region"] == c["region"]) & sg["tags"].map(
        lambda t: t.get(f"kubernetes.io/cluster/{c['cluster']}") in ("owned", "shared")
        or t.get("aws:eks:cluster-name") == c["cluster"] or t.get("eks:cluster-name") == c["cluster"])]
    for g in tagged["group_id"]:
        out.setdefault(g, "security group tagged for the cluster (nodes)")
    return out


def _ingress_problems(rules: pd.DataFrame, vpc_cidrs: list[str]) -> list[str]:
    """What is wrong with a group's address-range ingress: internet-wide, all ports, or SSH from outside the VPC."""
    problems = []
    for r in _records(rules[rules["source_kind"] == "cidr"]):
        lo, hi = r["from_port"], r["to_port"]
        ports = "all ports" if r["all_ports"] else (f"port {lo}" if lo == hi else f"ports {lo}-{hi}")
        ssh = r["all_ports"] or (r["protocol"] in ("tcp", "6") and lo is not None and lo <= 22 <= hi)
        if r["world"]:
            problems.append(f"{ports} open to {r['source']}")
        elif r["all_ports"]:
            problems.append(f"all ports open to {r['source']}")
        elif ssh and not _in_vpc(r["source"], vpc_cidrs):
            problems.append(f"SSH open to {r['source']}, outside the VPC" + ("" if vpc_cidrs else " (VPC CIDR unknown)"))
    return list(dict.fromkeys(problems))


def _group_finding(f: Frames, c: dict, gid: str, role: str, vpc_cidrs: list[str]) -> dict:
    sg, ing = f.security_groups, f.sg_ingress
    g = sg[(sg["region"] == c["region"]) & (sg["group_id"] == gid)]
    if g.empty:
        return finding(c, "ERROR", "security-group", gid, f"{role} {gid} is not in the DescribeSecurityGroups evidence")
    problems = _ingress_problems(ing[(ing["region"] == c["region"]) & (ing["group_id"] == gid)], vpc_cidrs)
    return finding(c, "FAIL" if problems else "PASS", "security-group", gid,
                   f"{role}: " + ("; ".join(problems) or "no internet-wide, all-port or outside SSH ingress"),
                   evidence=g.iloc[0]["evidence"])


def _remote_access(f: Frames, c: dict) -> list[dict]:
    """Managed node groups with SSH remote access and no source security group: EKS then opens port 22 to
    0.0.0.0/0 on the nodes (read softly from DescribeNodegroup, when it was collected)."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_NODEGROUP):
        ng = data.get("nodegroup") or {}
        remote = ng.get("remoteAccess") or {}
        if ng.get("clusterName") != c["cluster"] or not remote.get("ec2SshKey") or remote.get("sourceSecurityGroups"):
            continue
        rows.append(finding(c, "FAIL", "nodegroup", ng.get("nodegroupArn") or ng.get("nodegroupName", ""),
                            f"node group {ng.get('nodegroupName', '')} allows SSH with key {remote['ec2SshKey']} and "
                            "no source security group, so EKS opens port 22 to 0.0.0.0/0 on its nodes",
                            evidence=ref(entry)))
    return rows


@check("NET-05", domain="network", title="Cluster and node security groups are restricted", severity="high",
       requirements=["R-NET-5"], frames=("cluster_net", "security_groups", "ec2_vpcs"),
       soft_inputs=(DESCRIBE_NODEGROUP,),
       practice="The cluster security group, the additional control-plane groups and the node groups admit no "
                "source from the whole internet, open no rule to all ports from an address range, and keep SSH "
                "inside the VPC.",
       rationale="These groups carry control-plane to kubelet and node to node traffic; an internet-wide rule "
                 "or SSH from outside the VPC exposes nodes directly.",
       remediation="Remove 0.0.0.0/0 and ::/0 ingress rules; replace all-port CIDR rules with the ports EKS needs "
                   "(443, 10250, and the node port range between groups); allow SSH only from a bastion group "
                   "or use SSM Session Manager.",
       references={"securityhub": ["EC2.18", "EC2.19", "EC2.13"],
                   "prowler": ["ec2_securitygroup_allow_ingress_from_internet_to_any_port"]})
def cluster_security_groups_restricted(f: Frames, p: dict) -> list[dict]:
    rows = []
    for c in _records(f.cluster_net):
        if not c["vpc_id"]:
            rows.append(finding(c, "ERROR", "cluster", c["arn"],
                                f"SSH sources cannot be compared with the VPC: {c['vpc_error']}"))
        vpc_cidrs = _vpc_cidrs(f, c["region"], c["vpc_id"])
        rows += [_group_finding(f, c, gid, role, vpc_cidrs)
                 for gid, role in sorted(_cluster_groups(c, f.security_groups).items())]
        rows += _remote_access(f, c)
    return rows


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


def _few(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _isolating(pod_labels: dict, pols: list[dict], sgps: list[dict], sa_labels: dict) -> list[str]:
    """The policies that isolate a workload's pods (labels pod_labels): NetworkPolicies that select and isolate
    them, and SecurityGroupPolicies that select the pods or their service account (labels sa_labels)."""
    hit = [f"NetworkPolicy {_name(o)}" for o in pols
           if _isolates(o) and selects((o.get("spec") or {}).get("podSelector"), pod_labels)]
    for o in sgps:
        spec = o.get("spec") or {}
        by_pod = "podSelector" in spec and selects(spec.get("podSelector"), pod_labels)
        by_sa = "serviceAccountSelector" in spec and selects(spec.get("serviceAccountSelector"), sa_labels)
        if by_pod or by_sa:
            hit.append(f"SecurityGroupPolicy {_name(o)}")
    return hit


def _namespace_verdict(unprotected: list[str], by: set[str], n: int, pols: list[dict], sgps: list[dict],
                       sgp_error: str | None) -> tuple[str, str]:
    """(status, reason) for a namespace's n workloads, the unprotected ones named; sgp_error: why the cluster's
    SecurityGroupPolicies could not be read, or None."""
    if not unprotected:
        return "PASS", f"every workload ({n}) is selected by " + ", ".join(sorted(by))
    if sgp_error is not None:
        return "ERROR", (f"{_few(unprotected)} selected by no isolating NetworkPolicy, and SecurityGroupPolicies "
                         f"could not be read ({SECURITY_GROUP_POLICIES} {sgp_error}), so security groups for pods "
                         "are unknown")
    if not pols and not sgps:
        return "FAIL", ("runs workloads with neither a NetworkPolicy nor a SecurityGroupPolicy: every pod in it is "
                        "reachable from any pod in the cluster")
    names = ", ".join(sorted({f"NetworkPolicy {_name(o)}" for o in pols} | {f"SecurityGroupPolicy {_name(o)}" for o in sgps}))
    return "FAIL", (f"{_few(unprotected)} of {n} workloads selected by no policy that isolates them ({names} select "
                    "other pods or admit every source): reachable from any pod in the cluster")


def _namespace_finding(where: dict, ns: str, here: list[tuple[str, str, dict]], pols: list[dict], sgps: list[dict],
                       sa_labels: dict, sgp_error: str | None) -> dict:
    """The verdict on one namespace of a cluster (where) from its workloads (here: workload, service account, pod
    labels) and policies."""
    unprotected, by = [], set()
    for workload, sa, pod_labels in here:
        hit = _isolating(pod_labels, pols, sgps, sa_labels.get((where["cluster"], ns, sa), {}))
        by.update(hit)
        if not hit:
            unprotected.append(workload)
    status, reason = _namespace_verdict(unprotected, by, len(here), pols, sgps, sgp_error)
    return finding(where, status, "namespace", f"{where['cluster']}/{ns}", reason)


def _default_deny_verdict(no_deny: list[str], deny: list[str], spaces: list[str]) -> tuple[str, str]:
    """(status, reason) for a cluster's default-deny policies (deny, as namespace/name) over the namespaces that
    run workloads (spaces), no_deny those without one."""
    if no_deny:
        return "FAIL", (f"no default-deny NetworkPolicy in namespace(s) {', '.join(no_deny)}: pods added there are "
                        "reachable from any pod")
    if spaces:
        return "PASS", f"default-deny policy {', '.join(deny)} in every namespace running workloads ({', '.join(spaces)})"
    if deny:
        return "PASS", "default-deny policy " + ", ".join(deny) + " (no workload namespace audited)"
    return "FAIL", "no default-deny NetworkPolicy anywhere in the cluster"


@check("NET-06", domain="network", title="Pods protected by network policies or security groups", severity="medium",
       requirements=["R-NET-6"], frames=("clusters", "workloads"), inputs=(NETWORK_POLICIES,),
       soft_inputs=(SECURITY_GROUP_POLICIES, SERVICE_ACCOUNTS),
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
       references={"cis_eks": ["4.3.2"]})
def pods_isolated_by_policies(f: Frames, p: dict) -> list[dict]:
    netpols = _objects_by_cluster(f, NETWORK_POLICIES)
    sgps = _objects_by_cluster(f, SECURITY_GROUP_POLICIES)
    sgp_read = {e["cluster"] for e, _ in f.evidence.responses(SECURITY_GROUP_POLICIES)}
    sgp_errors = {e["cluster"]: describe(e.get("error") or {}) for e in f.evidence.errors(SECURITY_GROUP_POLICIES)}
    sa_labels = {(cl, _meta(o).get("namespace", ""), _name(o)): _meta(o).get("labels") or {}
                 for cl, objs in _objects_by_cluster(f, SERVICE_ACCOUNTS).items() for _, o in objs}
    w = outside(f.workloads, p["exclude_namespaces"])
    spaces_of: dict[str, dict[str, list[tuple]]] = {}  # cluster -> namespace -> its workloads, in frame order
    for cl, ns, *workload in zip(*(values(w[c]) for c in ("cluster", "namespace", "workload", "service_account",
                                                            "pod_labels"))):
        spaces_of.setdefault(cl, {}).setdefault(ns, []).append(tuple(workload))
    policy_reads = {e["cluster"]: e for e, _ in f.evidence.responses(NETWORK_POLICIES)}
    rows = []
    for c in _records(f.clusters):
        cl = c["cluster"]
        if cl not in policy_reads:
            continue  # policies not read: the engine reports the failed input instead of a guess
        where = {**c, "evidence": ref(policy_reads[cl])}
        cnp = [o for _, o in netpols.get(cl, [])]
        csg = [o for _, o in sgps.get(cl, [])]
        sgp_error = None if cl in sgp_read else sgp_errors.get(cl, "not collected")
        mine = spaces_of.get(cl, {})
        spaces = sorted(mine)
        no_deny = []
        for ns in spaces:
            pols = [o for o in cnp if _meta(o).get("namespace") == ns]
            sgs = [o for o in csg if _meta(o).get("namespace") == ns]
            if not any(_default_deny(o) for o in pols):
                no_deny.append(ns)
            rows.append(_namespace_finding(where, ns, mine[ns], pols, sgs, sa_labels, sgp_error))
        deny = sorted(f"{_meta(o).get('namespace', '')}/{_name(o)}" for o in cnp if _default_deny(o))
        status, reason = _default_deny_verdict(no_deny, deny, spaces)
        rows.append(finding(where, status, "cluster", f"{cl}/default-deny", reason))
    return rows


# ---- NET-07 -------------------------------------------------------------------------------------------

def _exposure(public: bool, private: bool, world: bool, cidrs: list[str]) -> str:
    parts = []
    if public:
        parts.append("public endpoint open to " + (", ".join(cidrs) or "0.0.0.0/0") if world else
                     "public endpoint enabled (restricted to " + ", ".join(cidrs) + ")")
    if not private:
        parts.append("private endpoint access is off")
    return "; ".join(parts) or "public access off, private access on"


@check("NET-07", domain="network", title="No public access to the EKS API server", severity="high",
       requirements=["R-NET-7"], frames=("clusters",),
       practice="The cluster API endpoint is private: public access is off and private access is on, so it is "
                "reached from inside the VPC, a bastion or a VPN.",
       rationale="A public API endpoint exposes authentication and any API flaw to the internet; restricting it "
                 "to a few CIDRs still leaves it reachable from outside the network the cluster lives in.",
       remediation="aws eks update-cluster-config --resources-vpc-config endpointPublicAccess=false,"
                   "endpointPrivateAccess=true; manage the cluster from a bastion, VPN or Direct Connect.",
       references={"cis_eks": ["5.4.1", "5.4.2"], "securityhub": ["EKS.1"],
                   "prowler": ["eks_cluster_not_publicly_accessible"]})
def api_endpoint_not_public(f: Frames, p: dict) -> pd.DataFrame:
    c = f.clusters
    if c.empty:
        return pd.DataFrame()
    public = c["endpoint_public"] == True  # noqa: E712
    private = c["endpoint_private"] == True  # noqa: E712
    world = c["public_cidrs"].map(lambda cidrs: not cidrs or bool(WORLD & set(cidrs)))
    reasons = pd.Series([_exposure(*x) for x in zip(public, private, world, c["public_cidrs"])], index=c.index)
    return findings(c, np.where(public | ~private, "FAIL", "PASS"), reasons, "cluster", c["arn"],
                    np.where(public & world, "critical", "high"))


# ---- NET-08 -------------------------------------------------------------------------------------------

CSI_DRIVER = "secrets-store.csi.k8s.io"


def _uses_secrets_csi(spec: dict) -> bool:
    return any((v.get("csi") or {}).get("driver") == CSI_DRIVER for v in spec.get("volumes") or [])


def _csi_clusters(f: Frames) -> set[str]:
    """Clusters whose pods mount secrets with the Secrets Store CSI driver."""
    try:
        w = f.workloads
        return set(w[w["spec"].map(_uses_secrets_csi)]["cluster"])
    except Exception:  # Kubernetes objects are optional here: the secrets list alone decides the need
        return set()


def _secrets_needs(c: dict, secrets: pd.DataFrame, csi_clusters: set[str]) -> list[str]:
    """Why a cluster needs the Secrets Manager endpoint (nothing: it does not)."""
    n = int((secrets["region"] == c["region"]).sum())
    return ([f"{n} secret(s) in Secrets Manager in {c['region']}"] if n else []) + \
        (["pods mount secrets with the Secrets Store CSI driver"] if c["cluster"] in csi_clusters else [])


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
       references={})
def secrets_manager_endpoint_guarded(f: Frames, p: dict) -> list[dict]:
    secrets, csi = f.sm_secrets, _csi_clusters(f)
    rows = []
    for c in _records(f.cluster_net):
        needs = _secrets_needs(c, secrets, csi)
        if not needs:
            rows.append(finding(c, "NOT_APPLICABLE", "vpc-endpoint",
                                f"{c['vpc_id']}/{service_name(c['region'], 'secretsmanager')}",
                                "no secret in Secrets Manager in the region and no Secrets Store CSI driver use"))
            continue
        row = _endpoint_finding(f, c, "secretsmanager", need_private_dns=True)
        row["reason"] += " (needed: " + "; ".join(needs) + ")"
        rows.append(row)
    return rows


# ---- NET-09 -------------------------------------------------------------------------------------------

@check("NET-09", domain="network", title="ECR repositories encrypted with KMS", severity="medium",
       requirements=["R-NET-9"], frames=("ecr_repositories",),
       practice="Every ECR repository encrypts its images with AWS KMS rather than the default AES-256 "
                "S3-managed keys.",
       rationale="KMS encryption puts image access under key policies and CloudTrail-logged key use, which "
                 "AES-256 server-side encryption does not.",
       remediation="ECR encryption is fixed at creation: create a new repository with encryptionType KMS, "
                   "replicate or re-push the images, and retire the old one.",
       references={})
def ecr_repositories_use_kms(f: Frames, p: dict) -> pd.DataFrame:
    r = f.ecr_repositories
    if r.empty:
        return pd.DataFrame()
    kms = r["encryption_type"].isin(KMS_TYPES)
    reason = np.where(kms, "encrypted with KMS (" + r["encryption_type"] + ")",
                      "encrypted with " + r["encryption_type"].replace("", "unknown") + ", not KMS")
    return findings(r, np.where(kms, "PASS", "FAIL"), reason, "ecr-repository", r["arn"])


# ---- NET-10 -------------------------------------------------------------------------------------------

def _is_sensitive(name: str, tags: dict, tag_rules: list[str], patterns: list[str]) -> str:
    """Why a repository counts as sensitive, or ""."""
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


def _key_verdict(r: dict, why: str) -> tuple[str, str]:
    """(status, reason) for a repository's key, `why` it is sensitive ("" when it is not)."""
    if not why:
        if r["tags_error"]:
            return "ERROR", f"could not tell whether it is sensitive: {r['tags_error']}"
        return "NOT_APPLICABLE", "not marked sensitive (tags, name)"
    if r["encryption_type"] not in KMS_TYPES:
        return "FAIL", (f"sensitive ({why}) but encrypted with {r['encryption_type'] or 'unknown'}, not a "
                        "customer-managed KMS key")
    aws_alias = [a for a in r["key_aliases"] if str(a).startswith("alias/aws/")]
    if r["key_manager"] == "AWS" or aws_alias:
        detail = "KeyManager AWS" if r["key_manager"] == "AWS" else f"alias {aws_alias[0]}"
        return "FAIL", f"sensitive ({why}) but encrypted with an AWS-managed key ({detail}): {r['kms_key']}"
    if r["key_error"]:
        return "ERROR", f"sensitive ({why}); key {r['kms_key']} could not be verified: {r['key_error']}"
    if r["key_manager"] == "CUSTOMER":
        return "PASS", f"sensitive ({why}); customer-managed key {r['kms_key']}"
    return "ERROR", f"sensitive ({why}); DescribeKey did not say who manages key {r['kms_key']}"


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
       references={})  # Prowler 5.46 has no check of the key an ECR repository uses
def sensitive_repositories_use_customer_keys(f: Frames, p: dict) -> list[dict]:
    rows = []
    for r in _records(f.ecr_repository_keys):
        why = _is_sensitive(r["repository"], r["tags"], p["sensitive_repo_tags"], p["sensitive_repo_patterns"])
        status, reason = _key_verdict(r, why)
        rows.append(finding(r, status, "ecr-repository", r["arn"], reason))
    return rows


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
       references={"securityhub": ["EC2.55", "EC2.56"]})
def ecr_endpoints_guarded(f: Frames, p: dict) -> list[dict]:
    return [row for c in _records(f.cluster_net) for row in (
        _endpoint_finding(f, c, "ecr.api"), _endpoint_finding(f, c, "ecr.dkr"),
        _endpoint_finding(f, c, "s3", kind="Gateway", check_groups=False))]


# ---- NET-12 -------------------------------------------------------------------------------------------

@check("NET-12", domain="network", title="Kubernetes secrets envelope-encrypted with KMS", severity="high",
       requirements=["R-NET-12"], frames=("clusters",),
       practice="The cluster encrypts Kubernetes Secrets with a KMS key (encryptionConfig for the secrets "
                "resource), on top of the default disk encryption of etcd.",
       rationale="Envelope encryption keeps secret values unreadable from etcd backups or storage, and puts "
                 "decryption under a key policy and CloudTrail.",
       remediation="aws eks associate-encryption-config --cluster-name NAME --encryption-config "
                   "'[{\"resources\":[\"secrets\"],\"provider\":{\"keyArn\":\"KMS_KEY_ARN\"}}]'.",
       references={"cis_eks": ["5.3.1"], "securityhub": ["EKS.3"],
                   "prowler": ["eks_cluster_kms_cmk_encryption_in_secrets_enabled"]})
def secrets_envelope_encrypted(f: Frames, p: dict) -> pd.DataFrame:
    c = f.clusters
    if c.empty:
        return pd.DataFrame()
    enc = c["secrets_encrypted"] == True  # noqa: E712
    reason = np.where(enc, "secrets encrypted with KMS key " + c["encryption_key_arn"],
                      "no encryptionConfig for secrets: Kubernetes Secrets are not envelope-encrypted")
    return findings(c, np.where(enc, "PASS", "FAIL"), reason, "cluster", c["arn"])

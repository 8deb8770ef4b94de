"""Frames for the network domain: security groups, VPC endpoints, load balancers, TLS policies and probes,
repository keys, and Secrets Manager metadata."""

from __future__ import annotations

import pandas as pd

from ..collect.faults import describe
from ..collect.inputs import TLS_PROBE
from ..collect.steps.core import DESCRIBE_CLUSTER
from ..collect.steps.images import DESCRIBE_REPOSITORIES
from ..collect.steps.network import (
    DESCRIBE_KEY,
    DESCRIBE_LISTENERS,
    DESCRIBE_LOAD_BALANCERS,
    DESCRIBE_SECURITY_GROUPS,
    DESCRIBE_SSL_POLICIES,
    DESCRIBE_SUBNETS,
    DESCRIBE_TAGS,
    DESCRIBE_VPC_ENDPOINTS,
    DESCRIBE_VPCS,
    LIST_ALIASES,
    LIST_SECRETS,
    LIST_TAGS_FOR_RESOURCE,
)
from . import Frames, frame
from .core import ref

WORLD = {"0.0.0.0/0", "::/0"}
CLUSTER_TAG = "elbv2.k8s.aws/cluster"  # the AWS Load Balancer Controller tags what it creates for a cluster


def _tags(items: list[dict] | None) -> dict:
    """An AWS tag list ([{"Key": .., "Value": ..}]) as a dict."""
    return {t.get("Key"): t.get("Value") for t in items or []}


@frame("ec2_vpcs", [DESCRIBE_VPCS])
def ec2_vpcs(f: Frames) -> pd.DataFrame:
    """One row per VPC: account_id, region, vpc_id, cidrs (IPv4 and IPv6 blocks), evidence."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_VPCS):
        for v in data.get("Vpcs", []):
            cidrs = [a.get("CidrBlock") for a in v.get("CidrBlockAssociationSet") or [] if a.get("CidrBlock")]
            cidrs += [a.get("Ipv6CidrBlock") for a in v.get("Ipv6CidrBlockAssociationSet") or []
                      if a.get("Ipv6CidrBlock")]
            if v.get("CidrBlock") and v["CidrBlock"] not in cidrs:
                cidrs.insert(0, v["CidrBlock"])
            rows.append({"account_id": entry["account"], "region": entry["region"], "vpc_id": v.get("VpcId", ""),
                         "cidrs": cidrs, "evidence": ref(entry, v.get("VpcId", ""))})
    return pd.DataFrame(rows, columns=["account_id", "region", "vpc_id", "cidrs", "evidence"])


@frame("security_groups", [DESCRIBE_SECURITY_GROUPS])
def security_groups(f: Frames) -> pd.DataFrame:
    """One row per security group: account_id, region, group_id, group_name, vpc_id, tags (dict), ingress
    (the IpPermissions list as returned), evidence."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_SECURITY_GROUPS):
        for g in data.get("SecurityGroups", []):
            rows.append({"account_id": entry["account"], "region": entry["region"], "group_id": g.get("GroupId", ""),
                         "group_name": g.get("GroupName", ""), "vpc_id": g.get("VpcId", ""),
                         "tags": _tags(g.get("Tags")),
                         "ingress": list(g.get("IpPermissions") or []), "evidence": ref(entry, g.get("GroupId", ""))})
    return pd.DataFrame(rows, columns=["account_id", "region", "group_id", "group_name", "vpc_id", "tags",
                                       "ingress", "evidence"])


@frame("sg_ingress", [DESCRIBE_SECURITY_GROUPS])
def sg_ingress(f: Frames) -> pd.DataFrame:
    """One row per ingress source of every security group rule: account_id, region, group_id, vpc_id,
    protocol ("-1" = all), from_port, to_port (None when all), source (CIDR, prefix list or group id),
    source_kind (cidr|prefix-list|group), world (source is 0.0.0.0/0 or ::/0), all_ports, evidence."""
    rows = []
    for g in f.security_groups.itertuples(index=False):
        for perm in g.ingress:
            proto = str(perm.get("IpProtocol", ""))
            lo, hi = perm.get("FromPort"), perm.get("ToPort")
            # ICMP "all types" is not "all ports": only -1 (every protocol) or a full TCP/UDP range counts
            all_ports = proto == "-1" or (proto in ("tcp", "udp", "6", "17") and lo in (None, 0, -1)
                                          and hi in (None, 65535, -1))
            sources = [(r.get("CidrIp"), "cidr") for r in perm.get("IpRanges") or []]
            sources += [(r.get("CidrIpv6"), "cidr") for r in perm.get("Ipv6Ranges") or []]
            sources += [(r.get("PrefixListId"), "prefix-list") for r in perm.get("PrefixListIds") or []]
            sources += [(r.get("GroupId"), "group") for r in perm.get("UserIdGroupPairs") or []]
            for src, kind in sources:
                rows.append({"account_id": g.account_id, "region": g.region, "group_id": g.group_id,
                             "vpc_id": g.vpc_id, "protocol": proto,
                             "from_port": None if proto == "-1" else lo, "to_port": None if proto == "-1" else hi,
                             "source": src or "", "source_kind": kind, "world": src in WORLD,
                             "all_ports": all_ports, "evidence": g.evidence})
    return pd.DataFrame(rows, columns=["account_id", "region", "group_id", "vpc_id", "protocol", "from_port",
                                       "to_port", "source", "source_kind", "world", "all_ports", "evidence"])


@frame("vpc_endpoints", [DESCRIBE_VPC_ENDPOINTS])
def vpc_endpoints(f: Frames) -> pd.DataFrame:
    """One row per VPC endpoint: account_id, region, vpc_id, endpoint_id, service_name (full), service (the
    part after com.amazonaws.<region>., e.g. "ecr.dkr"), type (Interface|Gateway|...), state, private_dns,
    group_ids, evidence."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_VPC_ENDPOINTS):
        for e in data.get("VpcEndpoints", []):
            name = e.get("ServiceName", "")
            prefix = service_name(entry["region"], "")
            rows.append({"account_id": entry["account"], "region": entry["region"], "vpc_id": e.get("VpcId", ""),
                         "endpoint_id": e.get("VpcEndpointId", ""), "service_name": name,
                         "service": name[len(prefix):] if name.startswith(prefix) else name,
                         "type": e.get("VpcEndpointType", ""), "state": e.get("State", ""),
                         "private_dns": bool(e.get("PrivateDnsEnabled")),
                         "group_ids": [g.get("GroupId") for g in e.get("Groups") or []],
                         "evidence": ref(entry, e.get("VpcEndpointId", ""))})
    return pd.DataFrame(rows, columns=["account_id", "region", "vpc_id", "endpoint_id", "service_name", "service",
                                       "type", "state", "private_dns", "group_ids", "evidence"])


@frame("load_balancers", [DESCRIBE_LOAD_BALANCERS], soft_inputs=[DESCRIBE_TAGS])
def load_balancers(f: Frames) -> pd.DataFrame:
    """One row per ALB/NLB/GWLB: account_id, region, arn, name, type, scheme, vpc_id, tags (dict; empty when
    DescribeTags was not read), tags_read (bool), evidence."""
    tags: dict[str, dict] = {}
    for _, data in f.evidence.responses(DESCRIBE_TAGS):
        for d in data.get("TagDescriptions", []):
            tags[d.get("ResourceArn", "")] = _tags(d.get("Tags"))
    read = set()
    for e, _ in f.evidence.responses(DESCRIBE_TAGS):
        read.update(e["params"].get("ResourceArns") or [])
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_LOAD_BALANCERS):
        for lb in data.get("LoadBalancers", []):
            arn = lb.get("LoadBalancerArn", "")
            rows.append({"account_id": entry["account"], "region": entry["region"], "arn": arn,
                         "name": lb.get("LoadBalancerName", ""), "type": lb.get("Type", ""),
                         "scheme": lb.get("Scheme", ""), "vpc_id": lb.get("VpcId", ""), "tags": tags.get(arn, {}),
                         "tags_read": arn in read, "evidence": ref(entry, lb.get("LoadBalancerName", ""))})
    return pd.DataFrame(rows, columns=["account_id", "region", "arn", "name", "type", "scheme", "vpc_id", "tags",
                                       "tags_read", "evidence"])


def _redirects_to_https(actions: list[dict]) -> bool:
    return any(a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS"
               for a in actions)


@frame("lb_listeners", [DESCRIBE_LISTENERS])
def lb_listeners(f: Frames) -> pd.DataFrame:
    """One row per load balancer listener: account_id, region, lb_arn, arn, port, protocol, ssl_policy,
    redirects_https (default action redirects to HTTPS), actions (default action types), evidence."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_LISTENERS):
        for li in data.get("Listeners", []):
            actions = li.get("DefaultActions") or []
            rows.append({"account_id": entry["account"], "region": entry["region"],
                         "lb_arn": li.get("LoadBalancerArn", ""), "arn": li.get("ListenerArn", ""),
                         "port": li.get("Port"), "protocol": li.get("Protocol", ""), "ssl_policy": li.get("SslPolicy", ""),
                         "redirects_https": _redirects_to_https(actions),
                         "actions": [a.get("Type", "") for a in actions],
                         "evidence": ref(entry, li.get("ListenerArn", "").rsplit("/", 1)[-1])})
    return pd.DataFrame(rows, columns=["account_id", "region", "lb_arn", "arn", "port", "protocol", "ssl_policy",
                                       "redirects_https", "actions", "evidence"])


@frame("ssl_policies", [DESCRIBE_SSL_POLICIES])
def ssl_policies(f: Frames) -> pd.DataFrame:
    """One row per ELB TLS security policy returned by DescribeSSLPolicies: region, name, protocols (list, e.g.
    ["TLSv1.2", "TLSv1.3"]), evidence."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_SSL_POLICIES):
        for pol in data.get("SslPolicies", []):
            rows.append({"region": entry["region"], "name": pol.get("Name", ""),
                         "protocols": list(pol.get("SslProtocols") or []), "evidence": ref(entry, pol.get("Name", ""))})
    return pd.DataFrame(rows, columns=["region", "name", "protocols", "evidence"])


def _param_errors(f: Frames, input_key: str, param: str) -> dict[str, dict]:
    """Failed reads of an input, by the value of the parameter they were made for."""
    out = {}
    for e in f.evidence.errors(input_key):
        value = e["params"].get(param)
        if isinstance(value, str):
            out[value] = e
    return out


def _read_failure(input_key: str, failed: dict | None, what: str = "") -> str:
    """Why a soft read gave nothing: the cause recorded for it, or that it was not made."""
    return f"{input_key} {describe(failed.get('error', {}))}" if failed else f"{input_key} was not collected{what}"


@frame("ecr_repository_keys", [DESCRIBE_REPOSITORIES], soft_inputs=[LIST_TAGS_FOR_RESOURCE, DESCRIBE_KEY, LIST_ALIASES])
def ecr_repository_keys(f: Frames) -> pd.DataFrame:
    """One row per ECR repository with what NET-10 needs: the ecr_repositories columns plus tags (dict),
    tags_error (cause, when ListTagsForResource failed or was not made), key_manager (AWS|CUSTOMER|""),
    key_aliases (aliases pointing at the key), key_error (cause when DescribeKey failed or was not made)."""
    repos = f.ecr_repositories.copy()
    tags = {e["params"].get("resourceArn", ""): _tags(data.get("tags"))
            for e, data in f.evidence.responses(LIST_TAGS_FOR_RESOURCE)}
    tag_err = _param_errors(f, LIST_TAGS_FOR_RESOURCE, "resourceArn")
    keys = {e["params"].get("KeyId", ""): data.get("KeyMetadata") or {} for e, data in f.evidence.responses(DESCRIBE_KEY)}
    key_err = _param_errors(f, DESCRIBE_KEY, "KeyId")
    aliases: dict[str, list[str]] = {}
    aliases_read = set()
    for e, data in f.evidence.responses(LIST_ALIASES):
        aliases_read.add(e["region"])
        for a in data.get("Aliases", []):
            if a.get("TargetKeyId"):
                aliases.setdefault(a["TargetKeyId"], []).append(a.get("AliasName", ""))
    alias_err = {e["region"]: e for e in f.evidence.errors(LIST_ALIASES)}

    def tag_of(arn: str) -> tuple[dict, str]:
        if arn in tags:
            return tags[arn], ""
        return {}, _read_failure(LIST_TAGS_FOR_RESOURCE, tag_err.get(arn), " for this repository")

    def key_of(row) -> tuple[str, list[str], str]:
        if not row.kms_key:
            return "", [], ""
        meta = keys.get(row.kms_key)
        if meta is None:
            return "", [], _read_failure(DESCRIBE_KEY, key_err.get(row.kms_key), " for this key")
        names = aliases.get(meta.get("KeyId", ""), [])
        cause = "" if row.region in aliases_read else _read_failure(LIST_ALIASES, alias_err.get(row.region))
        return meta.get("KeyManager", ""), names, cause

    t = [tag_of(a) for a in repos["arn"]]
    k = [key_of(r) for r in repos.itertuples(index=False)]
    repos["tags"] = [x[0] for x in t]
    repos["tags_error"] = [x[1] for x in t]
    repos["key_manager"] = [x[0] for x in k]
    repos["key_aliases"] = [x[1] for x in k]
    repos["key_error"] = [x[2] for x in k]
    return repos


@frame("sm_secrets", [LIST_SECRETS])
def sm_secrets(f: Frames) -> pd.DataFrame:
    """One row per Secrets Manager secret (metadata only): account_id, region, name, arn, evidence."""
    rows = []
    for entry, data in f.evidence.responses(LIST_SECRETS):
        for s in data.get("SecretList", []):
            rows.append({"account_id": entry["account"], "region": entry["region"], "name": s.get("Name", ""),
                         "arn": s.get("ARN", ""), "evidence": ref(entry, s.get("Name", ""))})
    return pd.DataFrame(rows, columns=["account_id", "region", "name", "arn", "evidence"])


@frame("tls_probes", [TLS_PROBE])
def tls_probes(f: Frames) -> pd.DataFrame:
    """One row per probed endpoint (or per entry that probed nothing): account_id, region, cluster, role
    (kubernetes-client|describe-cluster|eks-regional|""), url, status (ok|not-applicable|error|skipped),
    accepted (versions the server accepted), attempts, reason, evidence."""
    rows = []
    for entry, data in f.evidence.responses(TLS_PROBE):
        base = {"account_id": entry["account"], "region": entry["region"], "cluster": entry["cluster"],
                "evidence": ref(entry)}
        for t in data.get("targets", []):
            rows.append({**base, "region": t.get("region") or entry["region"], "role": t.get("role", ""),
                         "url": t.get("url", ""), "status": t.get("status", ""), "accepted": t.get("accepted", []),
                         "attempts": t.get("attempts", []), "reason": t.get("reason", ""),
                         "evidence": ref(entry, t.get("url", ""))})
        if not data.get("targets"):
            rows.append({**base, "role": "", "url": "", "status": "skipped", "accepted": [], "attempts": [],
                         "reason": data.get("skipped", "") or "nothing was probed"})
    return pd.DataFrame(rows, columns=["account_id", "region", "cluster", "role", "url", "status", "accepted",
                                       "attempts", "reason", "evidence"])


@frame("cluster_net", [DESCRIBE_CLUSTER], soft_inputs=[DESCRIBE_SUBNETS])
def cluster_net(f: Frames) -> pd.DataFrame:
    """The clusters frame with vpc_id always resolved where the evidence allows: from DescribeCluster, else from
    the VPC of the cluster's subnets (aws:ec2:DescribeSubnets; some emulators omit vpcId). Adds vpc_source
    ("cluster"|"subnets"|"") and vpc_error (why the VPC is unknown, or "")."""
    c = f.clusters.copy()
    subnet_vpc: dict[tuple[str, str], str] = {}
    for entry, data in f.evidence.responses(DESCRIBE_SUBNETS):
        for s in data.get("Subnets", []):
            subnet_vpc[(entry["region"], s.get("SubnetId", ""))] = s.get("VpcId", "")
    errs = list(dict.fromkeys(describe(e.get("error") or {}) for e in f.evidence.errors(DESCRIBE_SUBNETS)))
    unknown = ("the cluster VPC is unknown: DescribeCluster gave no vpcId and its subnets "
               + (f"could not be read ({DESCRIBE_SUBNETS} {'; '.join(errs)})" if errs
                  else f"were not found in {DESCRIBE_SUBNETS}"))
    sources, errors, vpcs_ = [], [], []
    for row in c.itertuples(index=False):
        if row.vpc_id:
            vpcs_.append(row.vpc_id)
            sources.append("cluster")
            errors.append("")
            continue
        found = sorted({subnet_vpc[(row.region, s)] for s in row.subnet_ids if subnet_vpc.get((row.region, s))})
        vpcs_.append(found[0] if len(found) == 1 else "")
        sources.append("subnets" if len(found) == 1 else "")
        errors.append("" if len(found) == 1 else unknown)
    c["vpc_id"] = vpcs_
    c["vpc_source"] = sources
    c["vpc_error"] = errors
    return c


# ---- lookups shared by the checks and the network picture ---------------------------------------------

def service_name(region: str, service: str) -> str:
    """The full name of an AWS endpoint service, e.g. com.amazonaws.us-east-1.ecr.dkr."""
    return f"com.amazonaws.{region}.{service}"


def cluster_load_balancers(lbs: pd.DataFrame, cluster: str, region: str, vpc_id: str) -> pd.DataFrame:
    """The load balancers of a cluster: those in its VPC (when known) and those tagged for it by the AWS Load
    Balancer Controller, in its region."""
    return lbs[(lbs["region"] == region) & (((lbs["vpc_id"] == vpc_id) & (vpc_id != ""))
                                           | lbs["tags"].map(lambda t: t.get(CLUSTER_TAG) == cluster))]


def vpc_endpoints_for(ep: pd.DataFrame, region: str, vpc_id: str, service: str, kind: str) -> pd.DataFrame:
    """The endpoints of one service (e.g. "ecr.dkr") and type (Interface|Gateway) in one VPC, whatever their
    state."""
    return ep[(ep["region"] == region) & (ep["vpc_id"] == vpc_id) & (ep["service"] == service) & (ep["type"] == kind)]

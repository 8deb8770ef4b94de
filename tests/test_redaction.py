"""Redaction by allow-list (issue #12): only what checks read is kept verbatim; every other string is hashed.

Three layers: the issue's reproductions one by one; property tests over every Kubernetes kind the collector reads
and every AWS response it receives, generated from the APIs' own models with a planted value in every string
leaf (plus random odd shapes); and guards on the allow-lists themselves (every path exists in the model, no
free-text field is kept, fan-outs still find their parameters in redacted responses).
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksaudit.collect import keep as K
from eksaudit.collect.kubernetes import KINDS
from eksaudit.collect.redact import ODD_SHAPE, REDACTED, Redactor, _segments, is_hash
from eksaudit.collect.steps import plan
from tests.schema_gen import Planter, k8s_schema, output_shape

SECRET = "s3cr3t-PLANTED-value"
R = Redactor(b"fixed test key")


def dump(doc) -> str:
    return json.dumps(doc, default=str, ensure_ascii=False)


def k8s(obj: dict) -> dict:
    return R.k8s(json.loads(json.dumps(obj)))


def _strings(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from _strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _strings(v)
    elif isinstance(doc, str):
        yield doc


def unpacked(doc) -> str:
    """The document's text plus what gzip+base64 strings in it hold (as Rancher stores applied objects)."""
    extra = []
    for s in _strings(doc):
        try:
            extra.append(gzip.decompress(base64.b64decode(s, validate=True)).decode("utf-8", "replace"))
        except Exception:
            continue
    return "\n".join([dump(doc), *extra])


def leaks(out, value: str = SECRET) -> bool:
    return value in unpacked(out)


# ---- reproductions from the issue: each leaked before the allow-list ----------------------------------------

CONTAINER = {"name": "app", "image": "nginx:1.25"}


def pod_with(**container_fields) -> dict:
    return {"kind": "Pod", "metadata": {"name": "p", "namespace": "n"},
            "spec": {"containers": [{**CONTAINER, **container_fields}]}}


def deployment_with(template_meta: dict | None = None, **container_fields) -> dict:
    return {"kind": "Deployment", "metadata": {"name": "d", "namespace": "n"},
            "spec": {"template": {"metadata": template_meta or {},
                                  "spec": {"containers": [{**CONTAINER, **container_fields}]}}}}


def cronjob_with(**container_fields) -> dict:
    return {"kind": "CronJob", "metadata": {"name": "c", "namespace": "n"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{**CONTAINER,
                                                                                    **container_fields}]}}}}}}


RANCHER = base64.b64encode(gzip.compress(json.dumps({"stringData": {"k": SECRET}}).encode())).decode()
K8S_REPRODUCTIONS = {
    "pod args": pod_with(args=[f"--db-password={SECRET}"]),
    "deployment args": deployment_with(args=["--token", SECRET]),
    "cronjob command": cronjob_with(command=["sh", "-c", f"export API_KEY={SECRET}"]),
    "probe httpHeaders": pod_with(readinessProbe={"httpGet": {"path": "/", "port": 80, "httpHeaders": [
        {"name": "Authorization", "value": f"Basic {SECRET}"}]}}),
    "probe exec": deployment_with(livenessProbe={"exec": {"command": ["check", f"--key={SECRET}"]}}),
    "lifecycle hook": pod_with(lifecycle={"preStop": {"exec": {"command": ["sh", "-c", f"echo {SECRET}"]}}}),
    "CSI volumeAttributes": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [CONTAINER], "volumes": [
        {"name": "v", "csi": {"driver": "x.csi.example.com", "volumeAttributes": {"password": SECRET}}}]}},
    "annotation under a secret-looking key": {"kind": "ServiceAccount", "metadata": {
        "name": "sa", "annotations": {"example.com/db-password": SECRET}}},
    "annotation under any key": {"kind": "Namespace", "metadata": {"name": "n", "annotations": {"note": SECRET}}},
    "pod template annotation": deployment_with({"annotations": {"vault.example.com/token": SECRET}}),
    "nested last-applied-configuration": deployment_with({"annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"spec": {"env": [{"value": SECRET}]}})}}),
    "kapp original": {"kind": "Deployment", "metadata": {"name": "d", "annotations": {
        "kapp.k14s.io/original": json.dumps({"data": {"password": SECRET}})}}},
    "rancher applied (gzip+base64)": {"kind": "Deployment", "metadata": {"name": "d", "annotations": {
        "objectset.rio.cattle.io/applied": RANCHER}}},
    "aws-auth extra key": {"kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"},
                           "data": {"mapRoles": "[]", "notes": f"ci token {SECRET}"}},
    "aws-auth extra field in a mapping": {"kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"},
                                          "data": {"mapUsers": f"- userarn: arn:aws:iam::1:user/u\n  password: {SECRET}\n"}},
    "label value": {"kind": "Pod", "metadata": {"name": "p", "labels": {"token": SECRET}}, "spec": {"containers": []}},
    "template label value": deployment_with({"labels": {"cache-key": SECRET}}),
    "selector value": {"kind": "NetworkPolicy", "metadata": {"name": "np"},
                       "spec": {"podSelector": {"matchLabels": {"token": SECRET},
                                                "matchExpressions": [{"key": "k", "operator": "In", "values": [SECRET]}]}}},
    "env value": deployment_with(env=[{"name": "DB_PASSWORD", "value": SECRET}]),
    "managedFields": {"kind": "Pod", "metadata": {"name": "p", "managedFields": [
        {"fieldsV1": {f"v:\"{SECRET}\"": {}}}]}},
    # odd shapes, replaced whole
    "containers as a map": {"kind": "Pod", "metadata": {"name": "p"},
                            "spec": {"containers": {"app": {"args": [SECRET]}}}},
    "env item as a list": pod_with(env=[["DB_PASSWORD", SECRET]]),
    "annotations as a list": {"kind": "Pod", "metadata": {"name": "p", "annotations": [f"k={SECRET}"]}},
    "annotation with an object value": {"kind": "Pod", "metadata": {"name": "p", "annotations": {
        "eks.amazonaws.com/role-arn": {"nested": SECRET}}}},
    "template as a list": {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": [{"spec": {
        "containers": [{"name": "c", "image": SECRET}]}}]}},
    "valueFrom as a string": pod_with(env=[{"name": "A", "valueFrom": SECRET}]),
    "name as an object": {"kind": "Pod", "metadata": {"name": {"x": SECRET}}},
    "secret data": {"kind": "Secret", "metadata": {"name": "s"}, "data": {"password": SECRET}},
    "secret data not a map": {"kind": "Secret", "metadata": {"name": "s"}, "stringData": [SECRET]},
    "configmap data": {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}, "data": [["k", SECRET]]},
    "unknown kind": {"kind": "Widget", "metadata": {"name": "w"}, "spec": {"password": SECRET}},
}


@pytest.mark.parametrize("case", sorted(K8S_REPRODUCTIONS))
def test_k8s_reproduction_is_redacted(case):
    obj = K8S_REPRODUCTIONS[case]
    assert leaks(obj), "control: the planted value is in the object"
    out = k8s(obj)
    assert not leaks(out), dump(out)
    assert not leaks(out, base64.b64encode(SECRET.encode()).decode()[:16])


AWS_REPRODUCTIONS = {
    "IAM role tags (GAAD)": ("iam", "GetAccountAuthorizationDetails", {"RoleDetailList": [
        {"RoleName": "r", "Arn": "arn:aws:iam::1:role/r", "Tags": [{"Key": "password", "Value": SECRET}],
         "Description": SECRET}]}),
    "IAM user tags (GAAD)": ("iam", "GetAccountAuthorizationDetails", {"UserDetailList": [
        {"UserName": "u", "Tags": [{"Key": "db-token", "Value": SECRET}]}]}),
    "VPC tags": ("ec2", "DescribeVpcs", {"Vpcs": [{"VpcId": "vpc-1", "Tags": [{"Key": "password", "Value": SECRET}]}]}),
    "ECR ListTagsForResource": ("ecr", "ListTagsForResource", {"tags": [{"Key": "secret", "Value": SECRET}]}),
    "EKS cluster tags": ("eks", "DescribeCluster", {"cluster": {"name": "c", "tags": {"password": SECRET}}}),
    "EKS node group tags": ("eks", "DescribeNodegroup", {"nodegroup": {"nodegroupName": "n", "tags": {"t": SECRET},
                                                                        "labels": {"k": SECRET}}}),
    "Secrets Manager description and tags": ("secretsmanager", "ListSecrets", {"SecretList": [
        {"Name": "s", "Description": f"password is {SECRET}", "Tags": [{"Key": "old", "Value": SECRET}]}]}),
    "EKS add-on configurationValues": ("eks", "DescribeAddon", {"addon": {
        "addonName": "vpc-cni", "configurationValues": json.dumps({"env": {"TOKEN": SECRET}})}}),
    "security group rule description": ("ec2", "DescribeSecurityGroups", {"SecurityGroups": [{"GroupId": "sg-1",
        "Description": SECRET, "IpPermissions": [{"IpProtocol": "tcp", "IpRanges": [
            {"CidrIp": "10.0.0.0/8", "Description": SECRET}]}]}]}),
    "KMS key description": ("kms", "DescribeKey", {"KeyMetadata": {"KeyId": "k", "Description": SECRET}}),
    "tags of an odd shape": ("ec2", "DescribeVpcs", {"Vpcs": [{"VpcId": "v", "Tags": {"password": SECRET}}]}),
    "tag value of an odd shape": ("elbv2", "DescribeTags", {"TagDescriptions": [{"ResourceArn": "a", "Tags": [
        {"Key": "Name", "Value": {"x": SECRET}}]}]}),
    "image manifest annotations": ("ecr", "BatchGetImage", {"images": [{"imageManifest": json.dumps(
        {"mediaType": "m", "annotations": {"com.example.build-token": SECRET}})}]}),
    "lifecycle rule description": ("ecr", "GetLifecyclePolicy", {"lifecyclePolicyText": json.dumps(
        {"rules": [{"rulePriority": 1, "description": SECRET}]})}),
    "unknown operation": ("eks", "DescribeSomethingNew", {"thing": {"name": SECRET}}),
    "blob": ("eks", "DescribeCluster", {"cluster": {"name": "c", "blob": SECRET.encode()}}),
}


@pytest.mark.parametrize("case", sorted(AWS_REPRODUCTIONS))
def test_aws_reproduction_is_redacted(case):
    service, op, doc = AWS_REPRODUCTIONS[case]
    assert leaks(doc) or SECRET.encode() in dump(doc).encode() or isinstance(doc, dict)
    out = R.aws(service, op, doc)
    assert not leaks(out), dump(out)


def test_addon_configuration_values_through_the_collector(tmp_path):
    """moto has no EKS add-ons: a stubbed DescribeAddon, through the real collector, stores no value of it."""
    from eksaudit.testing import stubbed_evidence

    addon = {"addonName": "vpc-cni", "clusterName": "c1", "status": "ACTIVE", "addonVersion": "v1.18.0-eksbuild.1",
             "serviceAccountRoleArn": "arn:aws:iam::123456789012:role/cni",
             "configurationValues": json.dumps({"env": {"AWS_SECRET": SECRET}}),
             "tags": {"api-key": SECRET, "Name": "cni"}}
    ev = stubbed_evidence(tmp_path, [
        ("eks", "ListClusters", {"clusters": ["c1"]}),
        ("eks", "ListAddons", {"addons": ["vpc-cni"]}, {"clusterName": "c1"}),
        ("eks", "DescribeAddon", {"addon": addon}, {"clusterName": "c1", "addonName": "vpc-cni"}),
    ])
    [(_, data)] = ev.responses("aws:eks:DescribeAddon")
    assert not leaks(data)
    assert data["addon"]["serviceAccountRoleArn"] == addon["serviceAccountRoleArn"]  # what IAM-08 reads
    assert is_hash(data["addon"]["configurationValues"]) and data["addon"]["tags"]["Name"] == "cni"
    for p in (tmp_path / "evidence").rglob("*"):
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), p


# ---- what stays usable ------------------------------------------------------------------------------------


def test_identifiers_and_what_checks_read_are_kept():
    obj = deployment_with({"labels": {"app.kubernetes.io/name": "web", "tier": "front"}},
                          securityContext={"runAsUser": 1000, "capabilities": {"drop": ["ALL"]}},
                          env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}])
    out = k8s(obj)
    c = out["spec"]["template"]["spec"]["containers"][0]
    assert (c["name"], c["image"], c["securityContext"]["runAsUser"]) == ("app", "nginx:1.25", 1000)
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert c["env"][0] == {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}
    labels = out["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "web" and is_hash(labels["tier"])


def test_hashes_keep_equality_within_a_collection_only():
    """A selector still matches the labels it selects (same key, same hash); another collection hashes apart."""
    pod = {"kind": "Pod", "metadata": {"name": "p", "labels": {"tier": "front"}}, "spec": {}}
    pol = {"kind": "NetworkPolicy", "metadata": {"name": "np"}, "spec": {"podSelector": {"matchLabels": {"tier": "front"},
           "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}}}
    a, b = k8s(pod), k8s(pol)
    sel = b["spec"]["podSelector"]
    assert a["metadata"]["labels"]["tier"] == sel["matchLabels"]["tier"] == sel["matchExpressions"][0]["values"][0]
    assert sel["matchExpressions"][0]["values"][1] != sel["matchLabels"]["tier"]
    other = Redactor().k8s(json.loads(json.dumps(pod)))
    assert other["metadata"]["labels"]["tier"] != a["metadata"]["labels"]["tier"]
    assert "fixed test key" not in repr(R) and "key" not in vars(Redactor).get("__repr__")(R)


def test_remembered_hashes_are_the_keyed_hashes():
    """The memo of hashes already computed gives what the HMAC gives, also once it has filled and started again."""
    import hashlib
    import hmac

    r = Redactor(b"memo key")
    r.HASHES_KEPT = 3
    values = [f"value-{i % 5}" for i in range(12)] + ["é", "\ud800"]
    for v in values:
        mac = hmac.new(b"memo key", v.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        assert r.hash(v) == f"[hash:{mac[:12]}]"
        assert len(r._hashes) <= 3
    assert r.hash("") == ""


def test_secret_shaped_values_are_scrubbed_from_kept_fields():
    """One sample per pattern of SECRET_VALUE_RES (a new pattern needs its sample here and its literal in
    scrub_value's shortcut), inside a kept field; text holding none of them is kept as it is."""
    from eksaudit.collect.redact import SECRET_VALUE_RES, scrub_value

    samples = ["AKIAIOSFODNN7EXAMPLE", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl",
               "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
               "GHP_0123456789abcdefghijABCD"]
    assert len(samples) == len(SECRET_VALUE_RES)
    for pattern, sample in zip(SECRET_VALUE_RES, samples):
        assert pattern.search(sample)
        out = k8s({"kind": "Pod", "metadata": {"name": f"before {sample} after"}, "spec": {}})["metadata"]["name"]
        assert sample not in out and REDACTED in out and out.startswith("before ")
    for kept in ("nginx:1.25", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:" + "a" * 64,
                 "AKIA-short", "eyJ only", "ghp_short"):
        assert scrub_value(kept) == kept


def test_documents_inside_strings_keep_what_checks_read():
    aws_auth = {"kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": {
        "mapRoles": "- rolearn: arn:aws:iam::1:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n"
                    "  groups: [system:nodes]\n  note: private\n",
        "mapAccounts": "- '111122223333'\n", "other": "x"}}
    out = k8s(aws_auth)["data"]
    roles = yaml.safe_load(out["mapRoles"])
    assert roles == [{"rolearn": "arn:aws:iam::1:role/node", "username": "system:node:{{EC2PrivateDNSName}}",
                      "groups": ["system:nodes"], "note": roles[0]["note"]}] and is_hash(roles[0]["note"])
    assert yaml.safe_load(out["mapAccounts"]) == ["111122223333"] and is_hash(out["other"])
    broken = k8s({**aws_auth, "data": {"mapRoles": "- rolearn: [unclosed"}})["data"]["mapRoles"]
    with pytest.raises(yaml.YAMLError):  # the frame reports it unparseable, as it would the original
        yaml.safe_load(broken)
    base = "org.opencontainers.image.base.name"
    manifest = json.dumps({"mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [{"digest": "sha256:1"}],
                           "annotations": {base: "docker.io/library/alpine:3.20", "build.secret": SECRET}})
    out = json.loads(R.aws("ecr", "BatchGetImage", {"images": [{"imageManifest": manifest}]})["images"][0]["imageManifest"])
    assert out["annotations"][base] == "docker.io/library/alpine:3.20" and is_hash(out["annotations"]["build.secret"])
    assert out["layers"] == [{"digest": "sha256:1"}]
    lifecycle = json.dumps({"rules": [{"rulePriority": 1, "description": "x"}, {"rulePriority": 2}]})
    out = json.loads(R.aws("ecr", "GetLifecyclePolicy", {"lifecyclePolicyText": lifecycle})["lifecyclePolicyText"])
    assert len(out["rules"]) == 2 and out["rules"][1] == {"rulePriority": 2}


def test_aws_values_checks_read_are_kept():
    doc = {"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::1:role/r", "Path": "/",
                               "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Condition": {
                                   "StringEquals": {"sts:ExternalId": "abc"}}}]},
                               "Tags": [{"Key": "Name", "Value": "r"}, {"Key": "owner", "Value": "bob"}]}]}
    out = R.aws("iam", "GetAccountAuthorizationDetails", doc)["RoleDetailList"][0]
    assert out["AssumeRolePolicyDocument"] == doc["RoleDetailList"][0]["AssumeRolePolicyDocument"]
    assert out["Tags"][0] == {"Key": "Name", "Value": "r"} and is_hash(out["Tags"][1]["Value"])
    keys = R.aws("iam", "ListAccessKeys", {"AccessKeyMetadata": [{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
                                                                  "Status": "Active"}]})
    assert keys["AccessKeyMetadata"][0]["AccessKeyId"] == "AKIAIOSFODNN7EXAMPLE"  # reported by its last four
    # enum values from the AWS model are kept; a value outside the enum is not
    out = R.aws("eks", "DescribeCluster", {"cluster": {"health": {"issues": [{"code": "AccessDenied", "message": "m"},
                                                                            {"code": "not-an-enum-value"}]}}})
    issues = out["cluster"]["health"]["issues"]
    assert issues[0]["code"] == "AccessDenied" and is_hash(issues[0]["message"]) and is_hash(issues[1]["code"])
    assert R.aws("s3", "GetBucketPolicy", {"__absent__": "NoSuchBucketPolicy"}) == {"__absent__": "NoSuchBucketPolicy"}


def test_odd_shapes_are_replaced_whole():
    out = k8s(K8S_REPRODUCTIONS["containers as a map"])
    assert out["spec"]["containers"] == ODD_SHAPE
    assert k8s(K8S_REPRODUCTIONS["secret data"])["data"] == {"password": REDACTED}
    assert k8s(K8S_REPRODUCTIONS["secret data not a map"])["stringData"] == REDACTED


# ---- property tests over every kind and every AWS response shape -------------------------------------------


def _rules(paths: dict) -> list[tuple[list[str], object]]:
    return [(_segments(p), rule) for p, rule in paths.items() if rule is not None]


def _matches(segs: list[str], path: tuple) -> bool:
    return all((s == "[]" and isinstance(c, int)) or (s == "*" and isinstance(c, str)) or s == c
               for s, c in zip(segs, path))


def may_survive(rules, path: tuple) -> bool:
    """A planted string may be kept only on a KEEP path (exactly), inside a kept policy document, or where a
    rule keeps a key (a tag's Key, a selector expression's key and operator, like the keys of any map)."""
    for segs, rule in rules:
        n = len(segs)
        if len(path) < n or not _matches(segs, path[:n]):
            continue
        rest = path[n:]
        if rule == K.KEEP and not rest or rule == K.POLICY:
            return True
        if rule == K.TAGS and len(rest) == 2 and isinstance(rest[0], int) and rest[1] in ("Key", "key"):
            return True
        if rule == K.SELECTOR and len(rest) == 3 and rest[0] == "matchExpressions" and rest[2] in ("key", "operator"):
            return True
    return False


def survivors(planter: Planter, out) -> list[str]:
    text = dump(out)
    return [t for t in planter.paths if t in text]


def assert_only_allowed_survive(planter: Planter, out, rules) -> int:
    found = survivors(planter, out)
    bad = [(t, planter.paths[t]) for t in found if not may_survive(rules, planter.paths[t])]
    assert not bad, f"kept outside the allow-list: {bad[:5]}"
    return len(found)


K8S_KINDS = [k.kind for k in KINDS]
AWS_OPS = [(s.service, s.operation) for s in plan()]


@pytest.mark.parametrize("kind", K8S_KINDS)
def test_every_string_leaf_of_every_kind(kind):
    """Every field of the kind's model, a unique value in each string: only allow-listed ones survive."""
    planter = Planter()
    obj = planter.k8s(k8s_schema(kind))
    obj["kind"] = kind
    assert len(planter.paths) > 20
    kept = assert_only_allowed_survive(planter, R.k8s(obj), _rules(K.K8S[kind]))
    assert kept >= 2, "not vacuous: names survive"


@pytest.mark.parametrize("service,operation", AWS_OPS)
def test_every_string_leaf_of_every_aws_response(service, operation):
    planter = Planter()
    doc = planter.aws(output_shape(service, operation))
    rules = _rules({**K.AWS[(service, operation)], "__absent__": K.KEEP})
    assert_only_allowed_survive(planter, R.aws(service, operation, doc), rules)


def test_the_property_check_can_fail():
    """Control: without redaction (or with a lax rule) the same assertion fails."""
    planter = Planter()
    obj = planter.k8s(k8s_schema("Pod"))
    with pytest.raises(AssertionError, match="kept outside the allow-list"):
        assert_only_allowed_survive(planter, obj, _rules(K.K8S["Pod"]))


PROPERTY = settings(max_examples=4, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("kind", K8S_KINDS)
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), fill=st.floats(0.1, 1.0), odd=st.floats(0.0, 0.25))
def test_random_objects_of_every_kind(kind, seed, fill, odd):
    """Random subsets of the model's fields, random odd shapes anywhere (maps for lists, lists for strings...)."""
    planter = Planter(random.Random(seed), fill=fill, odd=odd, depth=10)
    obj = planter.k8s(k8s_schema(kind))
    if not isinstance(obj, dict):
        obj = {"spec": obj}
    obj["kind"] = kind
    assert_only_allowed_survive(planter, R.k8s(obj), _rules(K.K8S[kind]))


@pytest.mark.parametrize("service,operation", AWS_OPS)
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), fill=st.floats(0.1, 1.0), odd=st.floats(0.0, 0.25))
def test_random_responses_of_every_operation(service, operation, seed, fill, odd):
    planter = Planter(random.Random(seed), fill=fill, odd=odd, depth=10)
    doc = planter.aws(output_shape(service, operation))
    rules = _rules({**K.AWS[(service, operation)], "__absent__": K.KEEP})
    assert_only_allowed_survive(planter, R.aws(service, operation, doc), rules)


# ---- the allow-lists themselves ---------------------------------------------------------------------------


def test_every_kind_and_operation_has_an_allow_list():
    assert set(K8S_KINDS) <= set(K.K8S), set(K8S_KINDS) - set(K.K8S)
    assert set(AWS_OPS) <= set(K.AWS), set(AWS_OPS) - set(K.AWS)
    assert not set(K.AWS) - set(AWS_OPS), "allow-lists for operations the collector does not call"


def _k8s_type_at(type_name, segs: list[str]):
    """Follow a path through the kubernetes client's model; None when it leaves the model."""
    from kubernetes import client

    t = type_name
    for s in segs:
        if isinstance(t, dict):
            if s not in t:
                return None
            t = t[s]
            continue
        t = t.strip()
        m = re.fullmatch(r"(?:List|list)\[(.+)\]", t)
        d = re.fullmatch(r"(?:Dict\[str, *(.+)\]|dict\(str, *(.+)\))", t)
        if s == "[]":
            if not m:
                return None
            t = m.group(1)
        elif s == "*":
            if not d:
                return None
            t = d.group(1) or d.group(2)
        else:
            cls = getattr(client, t, None)
            fields = {cls.attribute_map[a]: typ for a, typ in cls.openapi_types.items()} if cls else {}
            if s not in fields:
                return None
            t = fields[s]
    return t


@pytest.mark.parametrize("kind", K8S_KINDS)
def test_k8s_allow_list_paths_exist_in_the_model(kind):
    missing = [p for p, rule in K.K8S[kind].items()
               if rule is not None and _k8s_type_at(k8s_schema(kind), _segments(p)) is None]
    assert not missing, f"{kind}: paths not in the Kubernetes model (typo?): {missing}"


def _aws_shape_at(shape, segs: list[str]):
    for s in segs:
        if shape is None:
            return None
        if s == "[]":
            shape = shape.member if shape.type_name == "list" else None
        elif s == "*":
            shape = shape.value if shape.type_name == "map" else None
        else:
            shape = shape.members.get(s) if shape.type_name == "structure" else None
    return shape


@pytest.mark.parametrize("service,operation", AWS_OPS)
def test_aws_allow_list_paths_exist_in_the_model(service, operation):
    shape = output_shape(service, operation)
    missing = [p for p, rule in K.AWS[(service, operation)].items()
               if rule is not None and _aws_shape_at(shape, _segments(p)) is None]
    assert not missing, f"{service}:{operation}: paths not in botocore's output shape (typo?): {missing}"


FREE_TEXT = re.compile(r"(^|\.)(args|command|value|values|description|Description|configurationValues|"
                       r"annotations|labels|tags|Tags|message|data|stringData|volumeAttributes|httpHeaders|"
                       r"lifecycle|Value)(\[\])?$")


# Reviewed exceptions: text that AWS itself writes or that names a resource, never an operator's free text.
NOT_FREE_TEXT = {
    (("eks", "DescribeCluster"), "cluster.certificateAuthority.data"),  # the cluster's public CA certificate
    (("ecr", "DescribeImages"), "imageDetails[].imageScanStatus.description"),  # ECR's own scan status text
    (("ecr", "DescribeImageScanFindings"), "imageScanStatus.description"),
    (("cloudwatch", "DescribeAlarms"), "MetricAlarms[].Dimensions[].Value"),  # e.g. ClusterName=prod
    (("cloudwatch", "DescribeAlarms"), "MetricAlarms[].Metrics[].MetricStat.Metric.Dimensions[].Value"),
}


def test_no_free_text_field_is_kept_verbatim():
    """KEEP never names a free-text field: those go through LABELS/ANNOTATIONS/TAGS rules or are hashed."""
    offenders = {(k, p) for k, paths in [*K.K8S.items(), *K.AWS.items()] for p, rule in paths.items()
                 if rule == K.KEEP and FREE_TEXT.search(p)}
    assert offenders == NOT_FREE_TEXT, offenders ^ NOT_FREE_TEXT


def test_fan_outs_find_their_parameters_in_redacted_responses():
    """The collector fans out from redacted responses: every fan-out gives the same calls as from the raw one."""
    by_key = {s.key: s for s in plan()}
    checked = 0
    for s in plan():
        if not s.parent:
            continue
        planter = Planter(depth=8)
        raw = planter.aws(output_shape(*s.parent))
        red = R.aws(*s.parent, json.loads(json.dumps(raw, default=str)))
        params = {"clusterName": "c1"}
        want = s.fanout(json.loads(json.dumps(raw, default=str)), "us-east-1", params)
        got = s.fanout(red, "us-east-1", params)
        assert got == want, (s.input, by_key[s.parent].input, got, want)
        checked += bool(want)
    assert checked >= 10, checked

"""Least privilege, proven: the shipped policies are exactly what the collector reads, and they are enough.

The enforced-IAM audit runs in a subprocess: moto's IAM enforcement is a process-wide setting and would break
the shared demo environment of this test session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest
import yaml

from eksaudit import least_privilege
from eksaudit.collect.kubernetes import KINDS, VERBS
from eksaudit.collect.steps import plan

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_iam_policy_is_generated():
    assert least_privilege.IAM_FILE.is_file(), "run: python -m eksaudit.least_privilege --write"
    assert least_privilege.IAM_FILE.read_text(encoding="utf-8") == least_privilege.iam_text(), (
        "policies/eksaudit-readonly-iam.json is stale: run python -m eksaudit.least_privilege --write")


def test_shipped_rbac_is_generated():
    assert least_privilege.RBAC_FILE.read_text(encoding="utf-8") == least_privilege.rbac_text(), (
        "policies/eksaudit-reader-rbac.yaml is stale: run python -m eksaudit.least_privilege --write")


def test_iam_policy_is_exactly_the_plan_and_only_reads():
    doc = json.loads(least_privilege.IAM_FILE.read_text())
    [stmt] = doc["Statement"]
    assert stmt["Effect"] == "Allow" and stmt["Resource"] == "*"
    actions = stmt["Action"]
    assert actions == sorted(set(actions)), "no duplicates, sorted"
    assert set(actions) == {least_privilege.action_for(*s.key) for s in plan()}
    assert not [a for a in actions if "*" in a], "no wildcards"
    writes = [a for a in actions if not least_privilege.is_read_action(a)]
    assert not writes, f"non-read actions in the policy: {writes}"
    assert "secretsmanager:GetSecretValue" not in actions


def test_every_planned_operation_exists_in_botocore():
    """A typo in a step would make the policy grant a non-existent action and the collector fail."""
    session = botocore.session.get_session()
    for s in plan():
        model = session.get_service_model(s.service)
        assert s.operation in model.operation_names, s
        assert least_privilege.is_read_action(f"x:{s.operation}"), f"{s.input} is not a read"


def test_is_read_action():
    assert least_privilege.is_read_action("eks:DescribeCluster")
    assert least_privilege.action_for("s3", "ListBuckets") == "s3:ListAllMyBuckets"
    assert least_privilege.action_for("cloudwatch", "DescribeAlarms") == "cloudwatch:DescribeAlarms"
    assert least_privilege.action_for("elbv2", "DescribeLoadBalancers") == "elasticloadbalancing:DescribeLoadBalancers"
    assert least_privilege.is_read_action("iam:GetAccountAuthorizationDetails")
    assert not least_privilege.is_read_action("eks:UpdateClusterConfig")
    assert not least_privilege.is_read_action("secretsmanager:GetSecretValue")


def test_shipped_secrets_rbac_is_generated():
    assert least_privilege.SECRETS_RBAC_FILE.read_text(encoding="utf-8") == least_privilege.secrets_rbac_text(), (
        "policies/eksaudit-secrets-rbac.yaml is stale: run python -m eksaudit.least_privilege --write")


def _granted(path) -> tuple[dict, dict[tuple[str, str], set[str]]]:
    docs = list(yaml.safe_load_all(path.read_text()))
    [role] = [d for d in docs if d["kind"] == "ClusterRole"]
    [binding] = [d for d in docs if d["kind"] == "ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": least_privilege.GROUP}]
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}, "no resourceNames/nonResourceURLs"
        for group in rule["apiGroups"]:
            for res in rule["resources"]:
                assert "*" not in (group, res) and "/" not in res, rule
                granted.setdefault((group, res), set()).update(rule["verbs"])
    return role, granted


def test_rbac_default_role_lists_the_kinds_but_not_secrets():
    """Only the verb the collector uses (list: no get, no watch), on every kind it reads except Secrets, whose
    list would hand every Secret's value (service account tokens included) to whoever holds the role."""
    assert VERBS == ("list",)
    _, granted = _granted(least_privilege.RBAC_FILE)
    assert set(granted) == {(k.group, k.plural) for k in KINDS} - {("", "secrets")}
    assert all(v == {"list"} for v in granted.values()), granted


def test_rbac_opt_in_role_adds_only_listing_secrets():
    role, granted = _granted(least_privilege.SECRETS_RBAC_FILE)
    assert granted == {("", "secrets"): {"list"}}
    assert role["metadata"]["name"] != least_privilege.ROLE_NAME
    assert "Trade-off" in least_privilege.SECRETS_RBAC_FILE.read_text(), "the file says what it gives away"


@pytest.fixture(scope="module")
def rbac_runs(demo_env, tmp_path_factory):
    """The demo audited three times: full rights, the default role, and the default plus the opt-in role (the
    demo API server enforcing the roles' rules as RBAC would), with the requests the collector made."""
    from eksaudit.checks import run_checks
    from eksaudit.collect.run import collect
    from eksaudit.evidence import Evidence

    target, source, extra = demo_env
    kube = extra["kube"]
    default = least_privilege.rbac_rules()
    runs = {}
    for name, rules in (("full", None), ("default", default), ("opt-in", default + least_privilege.rbac_rules(opt_in=True))):
        kube.rbac, start = rules, len(kube.requests)
        try:
            ev = Evidence(collect(target, source, tmp_path_factory.mktemp(f"rbac-{name}"),
                                  attachments=extra["attachments"]))
        finally:
            kube.rbac = None
        cols = ["check_id", "cluster", "status", "resource_type", "resource_id", "reason"]
        runs[name] = {"findings": run_checks(ev)[cols], "requests": set(kube.requests[start:]),
                      "errors": {(e["input"], e["cluster"], e["error"]["kind"]) for e in ev.entries
                                 if e["status"] == "error" and e["source"] == "k8s"}}
    return runs


def test_collector_uses_only_the_list_verb(rbac_runs):
    verbs = {verb for run in rbac_runs.values() for verb, _, _ in run["requests"]}
    assert verbs == set(VERBS)


def test_default_role_is_enough_for_everything_but_token_secrets(rbac_runs):
    full, default = rbac_runs["full"], rbac_runs["default"]
    assert default["errors"] - full["errors"] == {("k8s:secrets", c, "access-denied")
                                                  for c in set(full["findings"]["cluster"]) - {""}}
    diff = full["findings"].merge(default["findings"], how="outer", indicator=True).query("_merge != 'both'")
    assert not diff.empty, "control: the role was enforced"
    assert set(diff["check_id"]) == {"IAM-04"}, diff.to_string()
    assert set(diff["resource_type"]) <= {"secret", "cluster"}, diff.to_string()
    f = default["findings"]
    tokens = f[(f["check_id"] == "IAM-04") & f["resource_id"].str.endswith("(token Secrets)")]
    assert not tokens.empty and set(tokens["status"]) == {"MANUAL"}, tokens.to_string()
    assert tokens["reason"].str.contains("Secrets not readable").all()
    found = f[(f["check_id"] == "IAM-04") & (f["resource_id"] == "shop/shared-sa-token-x7k2p")]
    assert list(found["status"]) == ["FAIL"], "the legacy token Secret is still found, through its service account"


def test_opt_in_role_gives_the_full_findings(rbac_runs):
    cols = ["check_id", "cluster", "status", "resource_id", "reason"]
    full = rbac_runs["full"]["findings"][cols].sort_values(cols).reset_index(drop=True)
    opt_in = rbac_runs["opt-in"]["findings"][cols].sort_values(cols).reset_index(drop=True)
    assert full.equals(opt_in)
    assert not rbac_runs["opt-in"]["errors"] - rbac_runs["full"]["errors"]


# ---- the demo audit under enforced IAM ---------------------------------------------------------------------


def _patch_moto_get_signature() -> None:
    """moto bug: for a GET with an empty body it rebuilds the signed request with the parsed query parameters as
    the payload, so every correctly signed REST GET (EKS ListClusters/DescribeCluster...) fails with
    SignatureDoesNotMatch under enforcement. AWS signs an empty payload; rebuild it that way."""
    from moto.iam.access_control import IAMRequest

    original = IAMRequest._create_aws_request

    def create(self):
        if self._method == "GET" and not self._body:
            self._data = ""
        return original(self)

    IAMRequest._create_aws_request = create


def _patch_moto_action_names() -> None:
    """moto names the action it authorises after the signing name and its own routing, not the IAM action:
    CloudWatch calls become monitoring:*, and S3 ?publicAccessBlock / ?object-lock reads fall back to
    s3:ListBucket. Translate to the IAM actions AWS checks, so the shipped policy is tested as AWS would."""
    from urllib.parse import parse_qs, urlsplit

    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase.check_action_permitted
    s3_reads = {"publicAccessBlock": "GetBucketPublicAccessBlock", "object-lock": "GetBucketObjectLockConfiguration"}

    def check(self, resource):
        service, _, op = self._action.partition(":")
        service = {"monitoring": "cloudwatch"}.get(service, service)
        if service == "s3" and self._method == "GET":
            query = parse_qs(urlsplit(self._path).query, keep_blank_values=True)
            op = next((real for key, real in s3_reads.items() if key in query), op)
        self._action = f"{service}:{op}"
        return original(self, resource)

    IAMRequestBase.check_action_permitted = check


def enforced_main(out: str) -> None:
    """Run in a subprocess: demo audit with full rights, then as an IAM user holding only the shipped policy."""
    import boto3
    import requests

    from eksaudit import clock
    from eksaudit.checks import run_checks
    from eksaudit.collect.run import collect
    from eksaudit.demo.run import demo_environment
    from eksaudit.evidence import Evidence
    from eksaudit.target import AwsTarget
    from eksaudit.testing import second_before_midnight

    _patch_moto_get_signature()
    _patch_moto_action_names()
    out_dir = Path(out)
    result: dict = {}
    shipped = json.loads(least_privilege.IAM_FILE.read_text())
    # The three collections are compared: one instant for all, or an age could change between them.
    with clock.frozen(second_before_midnight()), demo_environment() as (target, source, extra):
        acct = extra["account"]
        iam = acct.client("iam")

        def user(name: str, policy: dict) -> AwsTarget:
            iam.create_user(UserName=name)
            iam.put_user_policy(UserName=name, PolicyName="eksaudit", PolicyDocument=json.dumps(policy))
            key = iam.create_access_key(UserName=name)["AccessKey"]
            session = boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                    region_name=target.regions[0])
            return AwsTarget(regions=target.regions, endpoint_url=target.endpoint_url, _session=session)

        def record(t: AwsTarget, called: set) -> None:
            def hook(model, **_):
                called.add(least_privilege.action_for(model.service_model.service_name, model.name))
            t.session().events.register("before-call", hook)

        reader = user("eksaudit-reader", shipped)
        lacking = dict(shipped, Statement=[dict(shipped["Statement"][0],
                                                Action=[a for a in shipped["Statement"][0]["Action"]
                                                        if a != "eks:DescribeCluster"])])
        short = user("eksaudit-short", lacking)

        full_called: set[str] = set()
        record(target, full_called)
        full = collect(target, source, out_dir / "full", attachments=extra["attachments"])
        requests.post(f"{acct.endpoint_url}/moto-api/reset-auth", data=b"0", timeout=10)
        try:
            ro_called: set[str] = set()
            record(reader, ro_called)
            ro = collect(reader, source, out_dir / "reader", attachments=extra["attachments"])
            short_ev = collect(short, source, out_dir / "short", attachments=extra["attachments"])
        finally:
            requests.post(f"{acct.endpoint_url}/moto-api/reset-auth", data=b"inf", timeout=10)
    cols = ["check_id", "cluster", "region", "status", "resource_type", "resource_id", "reason"]
    for name, ev in (("full", full), ("reader", ro), ("short", short_ev)):
        result[name] = {
            "findings": run_checks(Evidence(ev))[cols].sort_values(cols).to_dict(orient="records"),
            "errors": sorted({(e["input"], e["error"]["kind"], e["error"].get("code", ""))
                              for e in json.loads((ev / "manifest.json").read_text())["entries"]
                              if e["status"] == "error"}),
        }
    result["called_full"] = sorted(full_called)
    result["called_reader"] = sorted(ro_called)
    (out_dir / "result.json").write_text(json.dumps(result, indent=1, default=list))


@pytest.fixture(scope="module")
def enforced(tmp_path_factory):
    out = tmp_path_factory.mktemp("enforced")
    code = f"from tests.test_least_privilege import enforced_main; enforced_main({str(out)!r})"
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "result.json").read_text())


def test_demo_calls_only_policy_actions(enforced):
    """Every AWS action the demo audit performs is a read listed in the policy; report what the demo never called."""
    policy = set(json.loads(least_privilege.IAM_FILE.read_text())["Statement"][0]["Action"])
    called = set(enforced["called_full"])
    assert called, "the recording hook saw no call"
    assert all(least_privilege.is_read_action(a) for a in called), called
    assert called <= policy, f"called but not in the policy: {sorted(called - policy)}"
    assert policy <= {least_privilege.action_for(*s.key) for s in plan()}
    never = sorted(policy - called)
    print(f"policy actions the demo never called (nothing to fan out to in moto): {never or 'none'}")
    assert set(enforced["called_reader"]) == called, "the restricted principal made the same calls"


def test_reader_with_only_the_policy_gets_the_same_findings(enforced):
    assert enforced["reader"]["errors"] == enforced["full"]["errors"], (
        "errors the restricted principal hit that full rights did not: "
        f"{sorted(set(map(tuple, enforced['reader']['errors'])) - set(map(tuple, enforced['full']['errors'])))}")
    assert enforced["reader"]["findings"] == enforced["full"]["findings"]


def test_enforcement_is_really_on(enforced):
    """Control: a principal lacking one action of the policy is denied it, and the checks needing it ERROR."""
    denied = [e for e in enforced["short"]["errors"] if e[0] == "aws:eks:DescribeCluster"]
    assert denied and denied[0][1] == "access-denied", enforced["short"]["errors"]
    assert any(f["status"] == "ERROR" and "aws:eks:DescribeCluster" in f["reason"]
               for f in enforced["short"]["findings"])
    assert enforced["short"]["findings"] != enforced["full"]["findings"]

"""Fault injection for every input the collector reads: never a false PASS, unrelated checks unchanged.

The matrix is derived from the collector itself (steps.plan() and kubernetes.KINDS, plus any probe the demo
records), so a new API call or kind is covered automatically. Each (input, fault) pair builds a copy of the demo
evidence in which that input's reads failed with the cause `classify()` gives for a real exception of that fault;
the entries the collector would then never have made (children of a failed parent, a cluster's Kubernetes objects
when it could not be described) are dropped. A few faults are also injected end to end through the collector.
"""

from __future__ import annotations

import copy
import functools
import json

import botocore.exceptions as bex
import pytest
from botocore.parsers import ResponseParserError
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ReadTimeoutError as U3ReadTimeout

from eksaudit.checks import load, run_checks
from eksaudit.collect import kubernetes as k8s
from eksaudit.collect.faults import classify, describe
from eksaudit.collect.steps import plan
from eksaudit.evidence import Evidence


def _client_error(code: str, status: int, message: str = "") -> bex.ClientError:
    return bex.ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
                           "Op")


def _k8s_api(status: int, reason: str) -> ApiException:
    exc = ApiException(status=status, reason=reason)
    exc.body = json.dumps({"kind": "Status", "message": f"{reason} (injected)", "code": status})
    return exc


def _json_error() -> ValueError:
    try:
        json.loads('{"items": [')
    except ValueError as exc:
        return exc
    raise AssertionError("unreachable")


# fault name -> (factory of a real exception, the kind it must be classified as)
AWS_FAULTS = {
    "access-denied": (lambda: _client_error("AccessDeniedException", 403, "User is not authorized to perform"),
                      "access-denied"),
    "http-403-no-code": (lambda: _client_error("", 403), "access-denied"),
    "throttled": (lambda: _client_error("ThrottlingException", 400, "Rate exceeded"), "throttled"),
    "timeout": (lambda: bex.ReadTimeoutError(endpoint_url="https://eks.us-east-1.amazonaws.com/"), "timeout"),
    "connection-reset": (lambda: bex.ConnectionClosedError(endpoint_url="https://eks.us-east-1.amazonaws.com/"),
                         "timeout"),
    "unsupported-404": (lambda: _client_error("404", 404, "Not Found"), "unsupported"),
    "malformed": (lambda: ResponseParserError("Unable to parse response (not well-formed)"), "malformed"),
}
K8S_FAULTS = {
    "access-denied": (lambda: _k8s_api(403, "Forbidden"), "access-denied"),
    "unauthorized-401": (lambda: _k8s_api(401, "Unauthorized"), "access-denied"),
    "throttled": (lambda: _k8s_api(429, "TooManyRequests"), "throttled"),
    "timeout": (lambda: U3ReadTimeout(None, "/api/v1/pods", "Read timed out. (read timeout=30)"), "timeout"),
    "connection-reset": (lambda: ConnectionResetError(104, "Connection reset by peer"), "timeout"),
    "unsupported-404": (lambda: _k8s_api(404, "NotFound"), "unsupported"),
    "malformed": (_json_error, "malformed"),
}
PROBE_FAULTS = {k: AWS_FAULTS[k] for k in ("timeout", "connection-reset", "malformed")}


def matrix_inputs() -> list[str]:
    return [s.input for s in plan()] + [k.input for k in k8s.KINDS]


def cause_of(input_key: str, fault: str) -> dict:
    if input_key.startswith("k8s:"):
        factory, _ = K8S_FAULTS[fault]
        return k8s._k8s_error(factory())
    factory, _ = (PROBE_FAULTS if input_key.startswith("probe:") else AWS_FAULTS)[fault]
    return classify(factory())


def faults_for(input_key: str) -> dict:
    if input_key.startswith("k8s:"):
        return K8S_FAULTS
    return PROBE_FAULTS if input_key.startswith("probe:") else AWS_FAULTS


# ---- faulted evidence ------------------------------------------------------------------------------------


def _descendants(input_key: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for s in plan():
        if s.parent:
            children.setdefault(f"aws:{s.parent[0]}:{s.parent[1]}", []).append(s.input)
    out, todo = set(), [input_key]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def faulted(base: Evidence, input_key: str, cause: dict) -> tuple[Evidence, list[dict]]:
    """A copy of `base` in which every read of input_key failed with `cause`; returns it and the error entries."""
    step = {s.input: s for s in plan()}.get(input_key)
    hit = [e for e in base.entries if e["input"] == input_key]
    if not hit:  # never called in the demo (nothing to fan out to): fail it where it would have run
        region = "" if step is not None and step.scope == "global" else (base.manifest.get("regions") or [""])[0]
        hit = [{"input": input_key, "source": input_key.split(":")[0], "service": input_key.split(":")[1],
                "operation": input_key.split(":")[-1], "params": {}, "account": base.account, "region": region,
                "cluster": "", "time": ""}]
    errors = []
    for e in hit:
        err = {k: v for k, v in e.items() if k not in ("path", "sha256", "bytes")}
        err.update(status="error", error=dict(cause))
        errors.append(err)
    gone = _descendants(input_key)
    cluster_bound = input_key in ("aws:eks:ListClusters", "aws:eks:DescribeCluster")
    entries = []
    for e in base.entries:
        if e["input"] == input_key:
            continue
        if e["input"] in gone and any(e["region"] in (x["region"], "") for x in errors):
            continue
        if cluster_bound and e["source"] in ("k8s", "probe") and any(
                x["region"] == e["region"] and (x["cluster"] in ("", e["cluster"])) for x in errors):
            continue  # Kubernetes and probes run only for clusters that were listed and described
        entries.append(e)
    ev = copy.copy(base)
    ev.__dict__.pop("by_input", None)
    ev.manifest = dict(base.manifest)
    if input_key == "aws:eks:ListClusters":
        ev.manifest["clusters"] = {}
    ev.entries = entries + errors
    ev._cache = base._cache  # responses are read-only: share what was already loaded
    return ev, errors


@functools.lru_cache(maxsize=1)
def _all_inputs() -> dict[str, tuple[str, ...]]:
    return {c.id: tuple(c.all_inputs()) for c in load().values()}


@functools.lru_cache(maxsize=1)
def _soft_inputs() -> dict[str, frozenset[str]]:
    return {c.id: frozenset(c.all_soft_inputs()) for c in load().values()}


def soft_readers(input_key: str) -> set[str]:
    """Checks that declare the input (or one it feeds: children, a cluster's objects) as soft: they may change
    under its fault, but only to non-PASS statuses."""
    affected = {input_key} | _descendants(input_key)
    if input_key in ("aws:eks:ListClusters", "aws:eks:DescribeCluster"):
        affected |= {k.input for k in k8s.KINDS} | {"probe:tls"}
    return {cid for cid, soft in _soft_inputs().items() if soft & affected}


@pytest.fixture(scope="module")
def base(demo_evidence):
    ev = Evidence(demo_evidence)
    return ev, run_checks(ev)


KEY = ["check_id", "account_id", "region", "cluster", "status", "resource_type", "resource_id", "reason"]


def _rows(df) -> set[tuple]:
    return set(df[KEY].itertuples(index=False, name=None))


def _pass_keys(df, status: str = "PASS") -> set[tuple]:
    """PASS verdicts by resource (a PASS whose wording changed is not a new PASS)."""
    cols = ["check_id", "account_id", "region", "cluster", "resource_type", "resource_id"]
    return set(df[df["status"] == status][cols].itertuples(index=False, name=None))


def _in_scope(df, err: dict):
    mask = df["status"].notna()
    if err["region"]:
        mask &= df["region"].isin([err["region"], ""])
    if err["cluster"]:
        mask &= df["cluster"].isin([err["cluster"], ""])
    return mask


SUMMARY: list[str] = []


def test_matrix_covers_every_collected_input(base):
    """The matrix is every planned AWS operation and every Kubernetes kind; every input the demo collection
    recorded is in it (a read made outside the plan would escape the policy and this matrix)."""
    ev, _ = base
    inputs = matrix_inputs()
    assert len(inputs) == len(set(inputs))
    recorded = {e["input"] for e in ev.entries if e["source"] in ("aws", "k8s")}
    assert recorded <= set(inputs), f"collected but not in the matrix: {sorted(recorded - set(inputs))}"
    probes = sorted({e["input"] for e in ev.entries if e["source"] == "probe"})
    assert set(probes) <= set(_probe_inputs()), f"probes missing from the matrix: {set(probes) - set(_probe_inputs())}"
    n_aws, n_k8s = len(plan()), len(k8s.KINDS)
    total = n_aws * len(AWS_FAULTS) + n_k8s * len(K8S_FAULTS) + len(probes) * len(PROBE_FAULTS)
    line = (f"fault matrix: {n_aws} AWS operations x {len(AWS_FAULTS)} faults + {n_k8s} Kubernetes kinds x "
            f"{len(K8S_FAULTS)} faults + {len(probes)} probes x {len(PROBE_FAULTS)} faults = {total} cases")
    print("\n" + line)
    SUMMARY.append(line)  # shown in the run's closing summary by conftest.py


def _probe_inputs() -> list[str]:
    return ["probe:tls"]  # test_matrix_covers_every_collected_input fails when the demo records another probe


@pytest.mark.parametrize("input_key", matrix_inputs() + _probe_inputs())
def test_fault(base, input_key):
    ev, baseline = base
    if input_key.startswith("probe:") and not ev.by_input.get(input_key):
        pytest.skip(f"the demo records no {input_key}")
    dependent = [cid for cid, inputs in _all_inputs().items() if input_key in inputs]
    base_pass = _pass_keys(baseline)
    others_base = baseline[~baseline["check_id"].isin(dependent)]
    seen: set[str] = set()
    for i, (fault, (_factory, want_kind)) in enumerate(faults_for(input_key).items()):
        cause = cause_of(input_key, fault)
        assert cause["kind"] == want_kind, (fault, cause)
        if cause["kind"] in seen:
            continue  # the engine sees only the cause: one run per kind of failure is enough
        seen.add(cause["kind"])
        fev, errors = faulted(ev, input_key, cause)
        # every check once per input; for the other faults only the dependent ones (the rest cannot see a cause)
        got = run_checks(fev) if i == 0 else run_checks(fev, ids=dependent) if dependent else None
        if got is None:
            continue
        new_pass = _pass_keys(got) - base_pass
        assert not new_pass, f"{input_key} {fault}: PASS appeared: {sorted(new_pass)[:3]}"
        words = describe(cause)
        for cid in dependent:
            rows = got[got["check_id"] == cid]
            errs = rows[(rows["status"] == "ERROR") & rows["reason"].str.contains(input_key, regex=False)]
            assert not errs.empty, f"{cid} has no ERROR naming {input_key} under {fault}"
            assert errs["reason"].str.contains(words, regex=False).all(), (cid, fault, errs["reason"].tolist())
            for err in errors:
                bad = rows[_in_scope(rows, err) & rows["status"].isin(["PASS", "NOT_APPLICABLE"])]
                assert bad.empty, f"{cid} {fault}: {bad['status'].tolist()} in the failed scope of {input_key}"
        if i == 0:
            others = got[~got["check_id"].isin(dependent)]
            soft = soft_readers(input_key)  # declared soft: may change, never to PASS or NOT_APPLICABLE
            changed = _rows(others) ^ _rows(others_base)
            unrelated = sorted(r for r in changed if r[0] not in soft)
            assert not unrelated, f"{input_key} {fault}: unrelated findings changed: {unrelated[:3]}"
            soft_na = sorted(_pass_keys(others, "NOT_APPLICABLE") - _pass_keys(others_base, "NOT_APPLICABLE"))
            assert not soft_na, f"{input_key} {fault}: a check reading it softly turned NOT_APPLICABLE: {soft_na[:3]}"


# ---- end to end through the collector ----------------------------------------------------------------


AWS_E2E = [
    ("eks", "DescribeCluster", "access-denied"),
    ("logs", "DescribeLogGroups", "timeout"),
    ("iam", "GetAccountAuthorizationDetails", "malformed"),
    ("cloudtrail", "GetTrailStatus", "throttled"),
    ("ecr", "DescribeRepositories", "http-403-no-code"),
]


@pytest.fixture(scope="module")
def e2e_evidence(demo_env, tmp_path_factory):
    """One live demo collection with one fault injected in several AWS operations and Kubernetes kinds at once."""
    from eksaudit.collect import aws
    from eksaudit.collect.run import collect

    target, source, extra = demo_env
    aws_faults = {(svc, op): fault for svc, op, fault in AWS_E2E}
    k8s_faults = {"/api/v1/pods": "access-denied", "/apis/apps/v1/deployments": "malformed",
                  "/api/v1/nodes": "timeout", "/api/v1/secrets": "unsupported-404", "/api/v1/services": "throttled"}
    real_call, real_get = aws.call, k8s._get

    def call(client, operation, params):
        fault = aws_faults.get((client.meta.service_model.service_name, operation))
        if fault:
            raise AWS_FAULTS[fault][0]()
        return real_call(client, operation, params)

    def get(api_client, path, query):
        fault = k8s_faults.get(path)
        if fault == "malformed":
            return {"items": "not a list"}  # a body that parses but is not a list
        if fault:
            raise K8S_FAULTS[fault][0]()
        return real_get(api_client, path, query)

    mp = pytest.MonkeyPatch()
    mp.setattr(aws, "call", call)
    mp.setattr(k8s, "_get", get)
    try:
        out = tmp_path_factory.mktemp("faulted")
        root = collect(target, source, out, attachments=extra["attachments"])
    finally:
        mp.undo()
    ev = Evidence(root)
    return ev, run_checks(ev), aws_faults, k8s_faults


def test_collector_records_aws_faults(e2e_evidence):
    ev, findings, aws_faults, _ = e2e_evidence
    for (svc, op), fault in aws_faults.items():
        key = f"aws:{svc}:{op}"
        errs = ev.errors(key)
        assert errs, f"{key}: no error recorded"
        assert {e["error"]["kind"] for e in errs} == {AWS_FAULTS[fault][1]}, errs
        assert not ev.responses(key)
        for c in load().values():
            if key in c.all_inputs():
                rows = findings[findings["check_id"] == c.id]
                assert (rows["status"] == "ERROR").any() and rows["reason"].str.contains(key, regex=False).any()
                assert not ((rows["status"] == "PASS") & rows["cluster"].isin(
                    [e["cluster"] for e in errs] + [""] if any(e["cluster"] for e in errs) else rows["cluster"])).any()


def test_collector_records_k8s_faults(e2e_evidence):
    ev, findings, _, k8s_faults = e2e_evidence
    by_path = {k.path: k for k in k8s.KINDS}
    clusters = {e["cluster"] for e in ev.entries if e["source"] == "k8s"}
    for path, fault in k8s_faults.items():
        kind = by_path[path]
        errs = ev.errors(kind.input)
        # DescribeCluster was failed too, so no cluster was read live: every kind is missing for every cluster
        assert errs or not clusters, kind.input
        for e in errs:
            assert e["error"]["kind"] == K8S_FAULTS[fault][1], e
    for c in load().values():
        rows = findings[findings["check_id"] == c.id]
        assert not rows.empty


@pytest.fixture(scope="module")
def k8s_only_faults(demo_env, tmp_path_factory):
    """Kubernetes faults alone (EKS reads intact), so each kind's failure is recorded per cluster."""
    from eksaudit.collect import aws
    from eksaudit.collect.run import collect

    target, source, extra = demo_env
    plan_faults = {"/api/v1/pods": "access-denied", "/apis/apps/v1/deployments": "malformed",
                   "/api/v1/nodes": "timeout", "/api/v1/secrets": "unsupported-404", "/api/v1/services": "throttled",
                   "/api/v1/namespaces": "connection-reset"}
    real_get = k8s._get

    def get(api_client, path, query):
        fault = plan_faults.get(path)
        if fault == "malformed":
            return {"items": "not a list"}
        if fault:
            raise K8S_FAULTS[fault][0]()
        return real_get(api_client, path, query)

    mp = pytest.MonkeyPatch()
    mp.setattr(k8s, "_get", get)
    try:
        root = collect(target, source, tmp_path_factory.mktemp("k8s-faulted"), attachments=extra["attachments"])
    finally:
        mp.undo()
    assert aws.call is not None
    ev = Evidence(root)
    return ev, run_checks(ev), plan_faults


def test_collector_records_each_k8s_fault_per_cluster(k8s_only_faults):
    ev, findings, faults = k8s_only_faults
    by_path = {k.path: k for k in k8s.KINDS}
    clusters = set(ev.clusters)
    assert clusters
    for path, fault in faults.items():
        kind = by_path[path]
        errs = ev.errors(kind.input)
        assert {e["cluster"] for e in errs} == clusters, kind.input
        assert {e["error"]["kind"] for e in errs} == {K8S_FAULTS[fault][1]}, errs
    pods = "k8s:pods"
    for c in load().values():
        if pods in c.all_inputs():
            rows = findings[findings["check_id"] == c.id]
            assert not (rows["status"] == "PASS").any(), c.id
            assert rows["reason"].str.contains("access denied", regex=False).any(), c.id

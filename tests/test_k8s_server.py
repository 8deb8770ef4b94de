"""The demo API server must be indistinguishable, for the official kubernetes client, from a real one:
verified TLS, bearer auth, list shapes, chunking and Status errors."""

from __future__ import annotations

import base64
import http.client
import json
import pathlib
import socket
import ssl
import stat
import threading

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from eksaudit.demo.k8s_server import MALFORMED, DemoKubeServer, _issue_certificates


def _pod(name: str, ns: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}


def _netpol(name: str, ns: str) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


CLUSTERS = {
    "prod": [
        _pod("web-2", "shop"), _pod("web-1", "shop"), _pod("coredns", "kube-system"),
        _pod("agent", "monitoring"), _pod("aws-node", "kube-system"),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
         "spec": {"selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}},
        _netpol("deny-all", "shop"), _netpol("allow-dns", "kube-system"),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
         "metadata": {"name": "db-access", "namespace": "shop"},
         "spec": {"securityGroups": {"groupIds": ["sg-0123"]}}},
    ],
    "staging": [_pod("lonely", "default")],
}
PROD_PODS = [("kube-system", "aws-node"), ("kube-system", "coredns"), ("monitoring", "agent"),
             ("shop", "web-1"), ("shop", "web-2")]


@pytest.fixture(scope="module")
def server():
    with DemoKubeServer(CLUSTERS) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_faults(server):
    yield
    server.faults.clear()


@pytest.fixture(scope="module")
def kubeconfig(server, tmp_path_factory) -> pathlib.Path:
    return server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture
def prod(kubeconfig):
    with config.new_client_from_config(config_file=str(kubeconfig), context="prod") as api:
        yield api


def _raw_get(api: client.ApiClient, path: str, query: list[tuple[str, object]] | None = None):
    """GET through the client's own TLS, auth and host handling, without model deserialisation.

    kubernetes>=37 no longer accepts the old ``call_api(path, method, query_params=...,
    auth_settings=...)`` form; the request is built with ``param_serialize`` first.
    """
    method, url, headers, body, post = api.param_serialize(
        "GET", path, query_params=list(query or []), header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"])
    resp = api.call_api(method, url, header_params=headers, body=body, post_params=post)
    resp.read()
    return resp


def _https(server: DemoKubeServer, method: str, path: str, token: str | None = "demo-reader-token"):
    """A bare request for cases the kubernetes client cannot express (HEAD, unknown cluster)."""
    ctx = ssl.create_default_context(cadata=server.ca_pem.decode())
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=5)
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {token}"} if token else {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _names(items) -> list[tuple[str, str]]:
    return [(i.metadata.namespace, i.metadata.name) for i in items]


# ---- the real client against the fake server ----------------------------------------------------------


def test_kubeconfig_has_one_verified_context_per_cluster(server, kubeconfig):
    doc = yaml.safe_load(kubeconfig.read_text())
    assert [c["name"] for c in doc["contexts"]] == ["prod", "staging"]
    assert doc["current-context"] == "prod"
    for entry in doc["clusters"]:
        assert entry["cluster"]["server"] == server.server_url(entry["name"])
        assert base64.b64decode(entry["cluster"]["certificate-authority-data"]) == server.ca_pem
        assert "insecure-skip-tls-verify" not in entry["cluster"]
    assert doc["users"][0]["user"]["token"] == server.token
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert server.server_url("prod") == f"https://127.0.0.1:{server.port}/clusters/prod"


def test_pods_come_from_the_selected_cluster_only(kubeconfig, prod):
    pods = client.CoreV1Api(prod).list_pod_for_all_namespaces()
    assert pods.kind == "PodList"
    assert _names(pods.items) == PROD_PODS
    with config.new_client_from_config(config_file=str(kubeconfig), context="staging") as staging:
        assert _names(client.CoreV1Api(staging).list_pod_for_all_namespaces().items) == [("default", "lonely")]


def test_group_kinds_and_namespace_filter(prod):
    deployments = client.AppsV1Api(prod).list_deployment_for_all_namespaces()
    assert deployments.kind == "DeploymentList" and deployments.api_version == "apps/v1"
    assert _names(deployments.items) == [("shop", "web")]
    policies = client.NetworkingV1Api(prod).list_namespaced_network_policy("shop")
    assert _names(policies.items) == [("shop", "deny-all")]
    assert client.NetworkingV1Api(prod).list_namespaced_network_policy("nowhere").items == []


def test_list_shape_matches_a_real_api_server(prod):
    doc = json.loads(_raw_get(prod, "/apis/vpcresources.k8s.aws/v1beta1/securitygrouppolicies").data)
    assert doc["kind"] == "SecurityGroupPolicyList"
    assert doc["apiVersion"] == "vpcresources.k8s.aws/v1beta1"
    assert doc["metadata"] == {"resourceVersion": "1"}
    assert [i["metadata"]["name"] for i in doc["items"]] == ["db-access"]
    assert not {"kind", "apiVersion"} & set(doc["items"][0])
    assert CLUSTERS["prod"][-1]["kind"] == "SecurityGroupPolicy"  # the caller's objects are untouched


def test_known_kind_without_objects_is_an_empty_list(prod):
    resp = _raw_get(prod, "/api/v1/secrets")
    assert resp.status == 200
    assert json.loads(resp.data)["items"] == []
    assert json.loads(resp.data)["kind"] == "SecretList"


def test_version(prod):
    assert client.VersionApi(prod).get_code().git_version == "v1.30.0-eks"


def test_chunked_list_returns_every_pod_once(prod):
    first = json.loads(_raw_get(prod, "/api/v1/pods", [("limit", 2)]).data)
    assert len(first["items"]) == 2 and first["metadata"]["continue"]
    seen, token = [], None
    while True:
        query = [("limit", 2)] + ([("continue", token)] if token else [])
        doc = json.loads(_raw_get(prod, "/api/v1/pods", query).data)
        assert len(doc["items"]) <= 2
        seen += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in doc["items"]]
        token = doc["metadata"].get("continue")
        if not token:
            break
    assert seen == PROD_PODS


def test_typed_api_paginates_too(prod):
    core = client.CoreV1Api(prod)
    page = core.list_pod_for_all_namespaces(limit=3)
    rest = core.list_pod_for_all_namespaces(limit=3, _continue=page.metadata._continue)
    assert _names(page.items) + _names(rest.items) == PROD_PODS
    assert rest.metadata._continue is None


def test_bad_continue_token_is_expired(prod):
    resp = _raw_get(prod, "/api/v1/pods", [("limit", 2), ("continue", "not-a-token")])
    assert resp.status == 410
    assert json.loads(resp.data)["reason"] == "Expired"


# ---- refusals -------------------------------------------------------------------------------------------


def test_wrong_token_is_unauthorized(kubeconfig, tmp_path):
    doc = yaml.safe_load(kubeconfig.read_text())
    doc["users"][0]["user"]["token"] = "someone-else"
    wrong = tmp_path / "wrong-token"
    wrong.write_text(yaml.safe_dump(doc))
    with config.new_client_from_config(config_file=str(wrong), context="prod") as api:
        with pytest.raises(ApiException) as err:
            client.CoreV1Api(api).list_pod_for_all_namespaces()
    assert err.value.status == 401
    status = json.loads(err.value.body)
    assert (status["kind"], status["apiVersion"], status["status"], status["reason"], status["code"]) == (
        "Status", "v1", "Failure", "Unauthorized", 401)


def test_writes_are_refused(prod):
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(prod).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="x")))
    assert err.value.status == 405
    assert json.loads(err.value.body)["reason"] == "MethodNotAllowed"
    # the server closed that connection; the client must still work afterwards
    assert client.CoreV1Api(prod).list_namespace().items[0].metadata.name == "shop"


@pytest.mark.parametrize("path", ["/api/v1/widgets", "/apis/apps/v1/namespaces/shop/nodes",
                                  "/api/v1/namespaces/shop/pods/web-1", "/apis/apps", "/healthz"])
def test_unknown_paths_are_not_found(prod, path):
    resp = _raw_get(prod, path)
    assert resp.status == 404
    assert json.loads(resp.data)["reason"] == "NotFound"


def test_cluster_scoped_kind_has_no_namespaced_path(prod):
    assert _raw_get(prod, "/api/v1/namespaces/shop/nodes").status == 404


def test_unknown_cluster_is_not_found(server):
    status, body = _https(server, "GET", "/clusters/nope/api/v1/pods")
    assert status == 404 and json.loads(body)["reason"] == "NotFound"


def test_head_has_no_body_and_missing_token_is_unauthorized(server):
    assert _https(server, "HEAD", "/clusters/prod/api/v1/pods") == (200, b"")
    status, body = _https(server, "GET", "/clusters/prod/api/v1/pods", token=None)
    assert status == 401 and json.loads(body)["code"] == 401


# ---- fault hooks ----------------------------------------------------------------------------------------


def test_fault_hook_forbidden(server, prod):
    server.faults[("prod", "pods")] = 403
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(prod).list_pod_for_all_namespaces()
    assert err.value.status == 403
    assert json.loads(err.value.body)["reason"] == "Forbidden"
    # other kinds and other clusters are unaffected
    assert client.AppsV1Api(prod).list_deployment_for_all_namespaces().items


def test_fault_hook_server_error_and_malformed_body(server, prod):
    server.faults[("prod", "secrets")] = 500
    server.faults[("prod", "configmaps")] = MALFORMED
    assert _raw_get(prod, "/api/v1/secrets").status == 500
    resp = _raw_get(prod, "/api/v1/configmaps")
    assert resp.status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.data)


# ---- transport ------------------------------------------------------------------------------------------


def test_concurrent_reads(prod):
    results, errors = [], []

    def read() -> None:
        try:
            results.append(len(json.loads(_raw_get(prod, "/api/v1/pods").data)["items"]))
        except Exception as exc:  # collected, so the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors and results == [5] * 12


def _memory_handshake(client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext) -> bool:
    """Whether the two contexts can agree on a session, tried in memory without any socket."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    ends = [client_ctx.wrap_bio(c_in, c_out, server_hostname="localhost"),
            server_ctx.wrap_bio(s_in, s_out, server_side=True)]
    done: set[int] = set()
    try:
        for _ in range(10):
            for i, end in enumerate(ends):
                if i not in done:
                    try:
                        end.do_handshake()
                        done.add(i)
                    except ssl.SSLWantReadError:
                        pass
            s_in.write(c_out.read())
            c_in.write(s_out.read())
            if len(done) == 2:
                return True
    except ssl.SSLError:
        return False
    return False


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ssl.TLSVersion.TLSv1_1 is deprecated, on purpose
def test_tls_below_1_2_is_refused(server, tmp_path, capfd):
    def old_client() -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.1 at its default level
        return ctx

    # Control: can this OpenSSL speak TLS 1.1 at all? If not, a refusal would prove nothing.
    _, cert, key = _issue_certificates()
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "k.pem").write_bytes(key)
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    permissive.minimum_version = ssl.TLSVersion.TLSv1_1
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
    permissive.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    try:
        legacy_possible = _memory_handshake(old_client(), permissive)
    except (ssl.SSLError, ValueError):
        legacy_possible = False

    if legacy_possible:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            with pytest.raises(ssl.SSLError):
                old_client().wrap_socket(sock, server_hostname="127.0.0.1")

    modern = ssl.create_default_context(cadata=server.ca_pem.decode())
    modern.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        with modern.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            assert tls.version() == "TLSv1.2"
    # the refused handshake must not have been logged
    assert capfd.readouterr().err == ""
    if not legacy_possible:
        pytest.skip("local OpenSSL cannot offer TLS 1.1; only the TLS 1.2 handshake was checked")


def test_stop_releases_the_port_and_start_again_works():
    srv = DemoKubeServer({"solo": []})
    srv.start()
    port = srv.port
    srv.stop()
    srv.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = srv.port
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    with srv:
        assert _https(srv, "GET", "/clusters/solo/version")[0] == 200


def test_legacy_tls_listener_serves_only_its_clusters_weakly(tmp_path):
    """A cluster named in legacy_tls sits behind a listener that still accepts TLS 1.0 and 1.1; the others keep
    the TLS 1.2 floor, and the kubernetes client reaches both."""
    from eksaudit.collect.tls import probe_url

    with DemoKubeServer(CLUSTERS, legacy_tls={"staging", "not-served"}) as srv:
        weak, strong = probe_url(srv.server_url("staging")), probe_url(srv.server_url("prod"))
        assert strong["accepted"] == ["TLSv1.2", "TLSv1.3"]
        not_tested = [a for a in weak["attempts"] if a["result"] == "not-tested"]
        if not_tested:
            pytest.skip(f"local OpenSSL cannot offer old TLS versions: {not_tested}")
        assert weak["accepted"] == ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        assert srv.server_url("staging").rsplit("/", 2)[0] != srv.server_url("prod").rsplit("/", 2)[0]
        kubeconfig = srv.write_kubeconfig(tmp_path / "config")
        with config.new_client_from_config(config_file=str(kubeconfig), context="staging") as api:
            pods = client.CoreV1Api(api).list_pod_for_all_namespaces()
        assert [p.metadata.name for p in pods.items] == ["lonely"]

"""A local, read-only HTTPS imitation of the Kubernetes API server's LIST endpoints.

The demo and the tests need something the official ``kubernetes`` client can talk to exactly as it
talks to EKS: TLS verified against a CA from the kubeconfig, a bearer token, chunked lists with
``limit``/``continue``. Several demo clusters share one port; each lives under ``/clusters/<name>``,
which is the ``server`` URL written into that cluster's kubeconfig entry.

Only what an auditor's collector needs is imitated: LIST of whole collections (optionally inside a
namespace) and ``/version``. Label and field selectors, watches and single-object GETs are not
supported; selectors are ignored and unknown paths answer 404.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hmac
import http
import ipaddress
import json
import pathlib
import ssl
import sys
import tempfile
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..collect.kubernetes import KINDS

# (apiVersion, kind) -> (plural, namespaced), from the collector's own table so the two cannot disagree. Kinds
# outside it still work: their plural is guessed from the kind name (the demo data may carry extra kinds).
KNOWN_KINDS: dict[tuple[str, str], tuple[str, bool]] = {(k.api_version, k.kind): (k.plural, k.namespaced)
                                                        for k in KINDS}

# All fields are present because kubernetes>=37 validates VersionInfo strictly (pydantic) and rejects
# a document that lacks any of them.
VERSION_INFO = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.0-eks",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-05-01T00:00:00Z",
    "goVersion": "go1.22.2",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# A fault value meaning "answer 200 but with a body that is not valid JSON".
MALFORMED = 0

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def _guess_plural(kind: str) -> str:
    """English-ish plural of a kind name, good enough for kinds missing from KNOWN_KINDS."""
    name = kind.lower()
    if name.endswith(("s", "x", "ch", "sh")):
        return name + "es"
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    return name + "s"


def _sort_key(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def _issue_certificates() -> tuple[bytes, bytes, bytes]:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost, as PEM (ca, cert, key).

    The extensions (key identifiers, critical basic constraints, serverAuth) are the ones strict
    verifiers such as Python 3.13's VERIFY_X509_STRICT insist on.
    """
    # The wall clock, not eksaudit.clock: TLS libraries check validity against the system time, whatever a test
    # has frozen the audit's clock at.
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "eksaudit demo CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                          crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (ca_cert.public_bytes(serialization.Encoding.PEM),
            cert.public_bytes(serialization.Encoding.PEM), key_pem)


def _server_context(cert_pem: bytes, key_pem: bytes, legacy: bool = False) -> ssl.SSLContext:
    """TLS 1.2+ server context, or with `legacy` one that still accepts TLS 1.0 and 1.1 (OpenSSL security
    level 0, which old protocol versions need in OpenSSL 3). load_cert_chain only reads files, so the PEMs pass
    through a private temporary directory that is gone again before the server accepts anything."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if legacy:
        with warnings.catch_warnings():  # TLSv1 is a deprecated name; this listener is weak on purpose
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="eksaudit-demo-tls-") as tmp:
        cert_file, key_file = pathlib.Path(tmp, "server.crt"), pathlib.Path(tmp, "server.key")
        cert_file.write_bytes(cert_pem)
        key_file.write_bytes(key_pem)
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


class _Resource:
    """One collection the fake server knows how to list."""

    __slots__ = ("api_version", "kind", "namespaced")

    def __init__(self, api_version: str, kind: str, namespaced: bool) -> None:
        self.api_version, self.kind, self.namespaced = api_version, kind, namespaced


class _TLSHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: DemoKubeServer, context: ssl.SSLContext, port: int = 0) -> None:
        self.owner = owner
        self.context = context
        try:
            super().__init__(("127.0.0.1", port), _Handler)
        except OSError:  # the preferred port is taken: any free one
            if not port:
                raise
            super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a reverse DNS lookup that can stall
        # for seconds in a sandbox without DNS; nothing here needs the name.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.server_address[1]
        # The handshake is deferred to the handler thread so a slow or broken client cannot hold
        # up the accept loop.
        self.socket = self.context.wrap_socket(self.socket, server_side=True,
                                               do_handshake_on_connect=False)

    def handle_error(self, request, client_address) -> None:
        # Failed handshakes and dropped connections are expected (the TLS 1.1 test makes one);
        # keep them quiet, but let real bugs surface.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as urllib3 pools connections
    timeout = 15  # idle keep-alive connections give their thread back eventually
    disable_nagle_algorithm = True  # headers and body go out as two writes; avoid the 40 ms delayed-ACK stall
    server: _TLSHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.do_handshake()

    def log_message(self, format: str, *args) -> None:
        """Silenced: the demo must not chatter on stderr."""

    def do_GET(self) -> None:
        self._answer(*self.server.owner._respond(self.path, self.headers.get("Authorization", ""), True))

    def do_HEAD(self) -> None:
        status, headers, body = self.server.owner._respond(self.path, self.headers.get("Authorization", ""), True)
        self._answer(status, headers, body, send_body=False)

    def _refuse(self) -> None:
        # The request body is never read, so the connection cannot be reused afterwards.
        self.close_connection = True
        self._answer(*self.server.owner._respond(self.path, self.headers.get("Authorization", ""), False))

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _answer(self, status: int, headers: dict[str, str], body: bytes, send_body: bool = True) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class DemoKubeServer:
    """Serves the objects of several demo clusters over HTTPS, read-only, on 127.0.0.1.

    The objects are copied when the server is built, so later changes to ``clusters`` are not seen.
    ``faults`` maps (cluster, plural) to an HTTP status answered instead of the list (``0`` means a
    200 with a malformed JSON body), so tests can exercise a collector's error paths. ``rbac``, when set, is the
    list of ClusterRole rules the token holds: a request whose verb (``list``, or ``watch`` with ?watch=true)
    they do not grant on the (group, resource) is answered 403 the way the API server does. ``requests`` records
    (verb, group, resource) of every collection request.

    Clusters named in ``legacy_tls`` are served on a second port whose listener still accepts TLS 1.0
    and 1.1 (like an old proxy in front of an API server); the others require TLS 1.2 or later.
    """

    def __init__(self, clusters: dict[str, list[dict]], token: str = "demo-reader-token",
                 legacy_tls: set[str] | frozenset[str] = frozenset(), ports: tuple[int, int] = (0, 0)) -> None:
        self.token = token
        self._ports = ports  # preferred (main, legacy) ports; 0 or a taken one: any free port
        self._legacy = {name for name in clusters if name in legacy_tls}
        self.faults: dict[tuple[str, str], int] = {}
        self.rbac: list[dict] | None = None
        self.requests: list[tuple[str, str, str]] = []
        self._names = list(clusters)
        # (group, version, plural) -> how to list it; group "" is the core API.
        self._resources: dict[tuple[str, str, str], _Resource] = {}
        for (api_version, kind), (plural, namespaced) in KNOWN_KINDS.items():
            self._resources[self._key(api_version, plural)] = _Resource(api_version, kind, namespaced)
        # cluster -> (group, version, plural) -> items ready to serve: sorted, without kind/apiVersion.
        self._items: dict[str, dict[tuple[str, str, str], list[dict]]] = {}
        for cluster, objects in clusters.items():
            per_kind: dict[tuple[str, str, str], list[dict]] = {}
            for obj in objects:
                api_version, kind = obj.get("apiVersion"), obj.get("kind")
                if not api_version or not kind:
                    raise ValueError(f"object in cluster {cluster!r} lacks apiVersion or kind: {obj!r:.200}")
                plural = KNOWN_KINDS.get((api_version, kind), (_guess_plural(kind), True))[0]
                key = self._key(api_version, plural)
                if key not in self._resources:
                    self._resources[key] = _Resource(api_version, kind, True)
                item = copy.deepcopy(obj)
                item.pop("apiVersion", None)
                item.pop("kind", None)
                per_kind.setdefault(key, []).append(item)
            for items in per_kind.values():
                items.sort(key=_sort_key)
            self._items[cluster] = per_kind
        self._ca_pem: bytes | None = None
        self._httpd: _TLSHTTPServer | None = None
        self._legacy_httpd: _TLSHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    @staticmethod
    def _key(api_version: str, plural: str) -> tuple[str, str, str]:
        group, _, version = api_version.rpartition("/")
        return (group, version, plural)

    # ---- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Issue fresh certificates, bind free ports on 127.0.0.1 and serve in daemon threads."""
        if self._httpd is not None:
            raise RuntimeError("DemoKubeServer is already running")
        ca_pem, cert_pem, key_pem = _issue_certificates()
        self._ca_pem = ca_pem
        self._httpd = _TLSHTTPServer(self, _server_context(cert_pem, key_pem), self._ports[0])
        if self._legacy:
            self._legacy_httpd = _TLSHTTPServer(self, _server_context(cert_pem, key_pem, legacy=True),
                                                self._ports[1])
        for httpd in (self._httpd, self._legacy_httpd):
            if httpd is not None:
                thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                          name=f"demo-kube-server-{httpd.server_port}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        """Stop accepting requests and close the listening sockets; a no-op when not running."""
        servers = [s for s in (self._httpd, self._legacy_httpd) if s is not None]
        self._httpd = self._legacy_httpd = None
        for httpd in servers:
            httpd.shutdown()
            httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> DemoKubeServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- what clients need to connect -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port chosen by the OS at start()."""
        if self._httpd is None:
            raise RuntimeError("DemoKubeServer is not running")
        return self._httpd.server_port

    @property
    def ports(self) -> tuple[int, int]:
        """(main, legacy) ports bound at start(); legacy is 0 without a legacy listener. A later server given
        them as `ports` serves at the same URLs."""
        if self._httpd is None:
            raise RuntimeError("DemoKubeServer is not running")
        return self._httpd.server_port, (self._legacy_httpd.server_port if self._legacy_httpd else 0)

    @property
    def ca_pem(self) -> bytes:
        """PEM of the CA that signed the server certificate (changes at every start())."""
        if self._ca_pem is None:
            raise RuntimeError("DemoKubeServer has not been started")
        return self._ca_pem

    def server_url(self, cluster: str) -> str:
        """The API server URL of one demo cluster, e.g. https://127.0.0.1:PORT/clusters/prod."""
        port = self._legacy_httpd.server_port if cluster in self._legacy and self._legacy_httpd else self.port
        return f"https://127.0.0.1:{port}/clusters/{quote(cluster, safe='')}"

    def write_kubeconfig(self, path: pathlib.Path) -> pathlib.Path:
        """Write a kubeconfig with one context per cluster (named after it); the first is current.

        The file holds a bearer token, so it is created readable by its owner only.
        """
        path = pathlib.Path(path)
        ca_data = base64.b64encode(self.ca_pem).decode("ascii")
        user = "demo-reader"
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": name, "cluster": {"server": self.server_url(name),
                                                     "certificate-authority-data": ca_data}}
                         for name in self._names],
            "users": [{"name": user, "user": {"token": self.token}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": user}} for name in self._names],
            "current-context": self._names[0] if self._names else "",
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path

    # ---- request handling (called from handler threads; reads shared state only) ----------------

    def _respond(self, raw_path: str, authorization: str, readable: bool) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one request, checked in the API server's order:
        authentication first, then the method, then the path."""
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), self.token.encode()):
            return _status(401, "Unauthorized")
        if not readable:
            return _status(405, "this demo API server is read-only")

        url = urlsplit(raw_path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        if len(parts) < 3 or parts[0] != "clusters":
            return _status(404, f"the server could not find the requested resource ({url.path})")
        cluster, rest = parts[1], parts[2:]

        if rest == ["version"]:
            fault = self.faults.get((cluster, "version"))
            if fault is not None:
                return _fault(fault)
            if cluster not in self._items:
                return _status(404, f"cluster {cluster!r} not found")
            return 200, {"Content-Type": "application/json"}, json.dumps(VERSION_INFO).encode()

        route = _route(rest)
        if route is None:
            return _status(404, f"the server could not find the requested resource ({url.path})")
        group, version, namespace, plural = route
        query = parse_qs(url.query, keep_blank_values=True)
        verb = "watch" if (query.get("watch") or [""])[0] in ("true", "1") else "list"
        self.requests.append((verb, group, plural))
        if self.rbac is not None and not _granted(self.rbac, verb, group, plural):
            scope = f"in the namespace {namespace!r}" if namespace else "at the cluster scope"
            return _status(403, f'{plural}{"." + group if group else ""} is forbidden: User "demo-reader" cannot '
                                f'{verb} resource "{plural}" in API group "{group}" {scope}')
        fault = self.faults.get((cluster, plural))
        if fault is not None:
            return _fault(fault)
        resource = self._resources.get((group, version, plural))
        if cluster not in self._items or resource is None or (namespace and not resource.namespaced):
            return _status(404, f"the server could not find the requested resource ({url.path})")

        items = self._items[cluster].get((group, version, plural), [])
        if namespace:
            items = [o for o in items if (o.get("metadata") or {}).get("namespace") == namespace]
        return _page(resource, items, query)


def _granted(rules: list[dict], verb: str, group: str, plural: str) -> bool:
    """Whether ClusterRole rules allow a verb on a resource (wildcards as RBAC reads them)."""
    return any(verb in r.get("verbs", []) or "*" in r.get("verbs", [])
               for r in rules
               if (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", []))
               and (plural in r.get("resources", []) or "*" in r.get("resources", [])))


def _route(rest: list[str]) -> tuple[str, str, str, str] | None:
    """(group, version, namespace, plural) of a collection path, or None when it is not one."""
    if rest[:1] == ["api"] and len(rest) >= 2:
        group, version, tail = "", rest[1], rest[2:]
    elif rest[:1] == ["apis"] and len(rest) >= 3:
        group, version, tail = rest[1], rest[2], rest[3:]
    else:
        return None
    if len(tail) == 1:
        return group, version, "", tail[0]
    if len(tail) == 3 and tail[0] == "namespaces":
        return group, version, tail[1], tail[2]
    return None


def _page(resource: _Resource, items: list[dict], query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
    """One chunk of a list, the way the API server chunks: an opaque continue token while more remain."""
    try:
        limit = int((query.get("limit") or ["0"])[0] or 0)
    except ValueError:
        return _status(400, "limit must be an integer")
    start = 0
    token = (query.get("continue") or [""])[0]
    if token:
        try:
            start = int(json.loads(base64.urlsafe_b64decode(token.encode("ascii")))["offset"])
        except (ValueError, KeyError, TypeError, UnicodeError):
            start = -1
        if not 0 <= start <= len(items):
            return _status(410, "the provided continue parameter is too old or invalid")
    end = start + limit if limit > 0 else len(items)
    metadata: dict[str, object] = {"resourceVersion": "1"}
    if end < len(items):
        metadata["continue"] = base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode("ascii")
        metadata["remainingItemCount"] = len(items) - end
    doc = {"kind": f"{resource.kind}List", "apiVersion": resource.api_version, "metadata": metadata,
           "items": items[start:end]}
    return 200, {"Content-Type": "application/json"}, json.dumps(doc, default=str).encode()


def _status(code: int, message: str) -> tuple[int, dict[str, str], bytes]:
    """A Kubernetes ``Status`` failure body, which is what clients parse error messages from."""
    reason = _REASONS.get(code) or http.HTTPStatus(code).phrase.replace(" ", "")
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    headers = {"Content-Type": "application/json"}
    if code == 429:
        headers["Retry-After"] = "1"
    return code, headers, json.dumps(body).encode()


def _fault(code: int) -> tuple[int, dict[str, str], bytes]:
    if code == MALFORMED:
        return 200, {"Content-Type": "application/json"}, b'{"kind": "List", "items": [{"metadata": '
    return _status(code, f"injected fault: HTTP {code}")

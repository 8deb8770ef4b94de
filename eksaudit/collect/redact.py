"""Redaction applied to every response before it is written: no secret reaches a pack.

Allow-list, not deny-list: a string is kept verbatim only where keep.py lists its field path for that
Kubernetes kind or AWS operation (identifiers, enum values, what the checks read). Every other string becomes
a keyed hash "[hash:0123456789ab]" (HMAC-SHA256 under a random key made for one collection and never written
anywhere), so checks still see that a value exists and whether two values are equal within the collection,
but nobody can recover it or test a guess. Values that are secret by nature (Secret and ConfigMap data) become
"[REDACTED]"; anything not of the shape the allow-list expects is replaced whole.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import yaml

from . import keep as K

REDACTED = "[REDACTED]"
ODD_SHAPE = "[REDACTED: unexpected shape]"
# Text where a YAML document was expected but none could be parsed: itself not valid YAML, so a reader that
# parses it reports "unparseable" instead of mistaking a marker for data.
UNPARSEABLE_YAML = "[REDACTED: unparseable YAML"
HASH_RE = re.compile(r"^\[hash:[0-9a-f]{12}\]$")
# Values that are secrets whatever field holds them: scrubbed even from kept fields (defence in depth).
# scrub_value skips a value holding none of the literals these patterns start from: a new pattern adds its own there.
SECRET_VALUE_RES = [
    re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)"),
    re.compile(r"(?i)(gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]{10,})"),
]
# Identifiers shaped like a secret pattern by design: an access key id is reported (last four characters).
NO_SCRUB = {("iam", "ListAccessKeys")}
SCALARS = (bool, int, float, dt.datetime, dt.date, type(None))


_LAST = SECRET_VALUE_RES[-1]


def scrub_value(value: str) -> str:
    # Each of the first three patterns needs its literal; the last is searched as it is. A value none can match is
    # returned as it is (most kept values are names and image references), without four substitutions.
    if not ("AKIA" in value or "ASIA" in value or "eyJ" in value or "-----BEGIN " in value
            or _LAST.search(value)):
        return value
    for pattern in SECRET_VALUE_RES:
        value = pattern.sub(REDACTED, value)
    return value


def is_hash(value: object) -> bool:
    return isinstance(value, str) and bool(HASH_RE.match(value))


# ---- allow-list trees -----------------------------------------------------------------------------------------


class Node:
    """One step of an allow-list: a rule (leaf), or the children of a map (keys, any) or of a list (items)."""

    __slots__ = ("rule", "keys", "any", "items")

    def __init__(self) -> None:
        self.rule: object = None
        self.keys: dict[str, Node] = {}
        self.any: Node | None = None
        self.items: Node | None = None

    def key(self, name: str) -> Node:
        if name == "*":
            self.any = self.any or Node()
            return self.any
        return self.keys.setdefault(name, Node())

    def item(self) -> Node:
        self.items = self.items or Node()
        return self.items


class Enum:
    """A string field with a closed set of values (from the AWS model): kept when it is one of them."""

    __slots__ = ("values",)

    def __init__(self, values) -> None:
        self.values = frozenset(values)


def _segments(path: str) -> list[str]:
    """Split a path on dots not escaped with a backslash; "a[]" becomes "a", "[]"."""
    out: list[str] = []
    for seg in re.split(r"(?<!\\)\.", path):
        seg = seg.replace("\\.", ".")
        if seg.endswith("[]"):
            if seg[:-2]:
                out.append(seg[:-2])
            out.append("[]")
        else:
            out.append(seg)
    return out


def _descend(node: Node, seg: str) -> Node:
    return node.item() if seg == "[]" else node.key(seg)


def compile_paths(paths) -> Node:
    root = Node()
    for path, rule in (paths.items() if isinstance(paths, dict) else paths):
        if rule is None:
            continue
        node = root
        for seg in _segments(path):
            if node.rule is not None:
                raise ValueError(f"allow-list path {path!r} goes below a rule")
            node = _descend(node, seg)
        if node.keys or node.any or node.items:
            raise ValueError(f"allow-list path {path!r} ends above other paths")
        node.rule = rule
    _check(root, "")
    return root


def _check(node: Node, where: str) -> None:
    if (node.keys or node.any) and node.items:
        raise ValueError(f"allow-list node {where!r} is both a map and a list")
    for k, child in node.keys.items():
        _check(child, f"{where}.{k}")
    for child in (node.any, node.items):
        if child is not None:
            _check(child, where + ".*")


@cache
def k8s_tree(kind: str, aws_auth: bool = False) -> Node:
    return compile_paths(K.AWS_AUTH if aws_auth else K.K8S.get(kind, K.COMMON))


@cache
def aws_tree(service: str, operation: str) -> Node:
    """The operation's allow-list, plus every enum-valued string of its output shape (closed value sets)."""
    root = compile_paths({**K.AWS.get((service, operation), {}), "__absent__": K.KEEP})
    for path, values in enum_paths(service, operation):
        node = root
        for seg in _segments(path):
            if node.rule is not None:
                break
            if (seg == "[]" and (node.keys or node.any)) or (seg != "[]" and node.items):
                break  # the explicit list says another shape: it wins
            node = _descend(node, seg)
        else:
            if node.rule is None and not (node.keys or node.any or node.items):
                node.rule = Enum(values)
    return root


@cache
def enum_paths(service: str, operation: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(path, allowed values) of every enum string in an operation's output shape (botocore's model)."""
    try:
        shape = _service_model(service).operation_model(operation).output_shape
    except Exception:  # an operation the model lacks: no enum shortcut, explicit paths only
        return ()
    out: list[tuple[str, tuple[str, ...]]] = []

    def visit(s, path: str, seen: tuple[str, ...]) -> None:
        if s is None or s.name in seen or len(seen) > 12:
            return
        seen = (*seen, s.name)
        if s.type_name == "structure":
            for name, member in s.members.items():
                visit(member, f"{path}.{name}" if path else name, seen)
        elif s.type_name == "list":
            visit(s.member, f"{path}[]" if path else "[]", seen)
        elif s.type_name == "map":
            visit(s.value, f"{path}.*" if path else "*", seen)
        elif s.type_name == "string" and s.enum:
            out.append((path, tuple(s.enum)))

    visit(shape, "", ())
    return tuple(out)


@cache
def _service_model(service: str):
    return _botocore_session().get_service_model(service)


@lru_cache(maxsize=1)
def _botocore_session():
    import botocore.session

    return botocore.session.get_session()


@cache
def _doc_tree(doc: K.Doc) -> Node:
    return compile_paths(doc.paths)


# ---- the redactor ---------------------------------------------------------------------------------------------


class Redactor:
    """Applies the allow-lists with one collection's hashing key (random unless a test injects one).

    Each allow-list tree is turned once into nested functions (`_plan`), so an object is redacted without asking
    at every field which rule applies. Hashes of values already seen are remembered (in memory only, like the
    key): an estate repeats the same values across thousands of objects.
    """

    HASHES_KEPT = 1 << 16  # remembered hashes; the memo starts afresh when full

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._hmac = hmac.new(self._key, digestmod=hashlib.sha256)  # copied per value: the key is set up once
        self._hashes: dict[str, str] = {}
        self._plans: dict[tuple[Node | None, bool], Callable[[Any], Any]] = {}

    def __repr__(self) -> str:  # never show the key
        return "Redactor()"

    def hash(self, value: str) -> str:
        out = self._hashes.get(value)
        if out is None:
            if value == "":
                return ""
            mac = self._hmac.copy()
            mac.update(value.encode("utf-8", "surrogatepass"))
            out = f"[hash:{mac.hexdigest()[:12]}]"
            if len(self._hashes) >= self.HASHES_KEPT:
                self._hashes.clear()
            self._hashes[value] = out
        return out

    # -- entry points --

    def k8s(self, obj: Any) -> Any:
        """A redacted copy of one Kubernetes object."""
        if not isinstance(obj, dict):
            return ODD_SHAPE
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        aws_auth = obj.get("kind") == "ConfigMap" and (meta.get("namespace"), meta.get("name")) == (
            "kube-system", "aws-auth")
        return self._walk(obj, k8s_tree(str(obj.get("kind", "")), aws_auth), True)

    def aws(self, service: str, operation: str, doc: Any) -> Any:
        """A redacted copy of one AWS response (every page merged)."""
        return self._walk(doc, aws_tree(service, operation), (service, operation) not in NO_SCRUB)

    # -- walking --

    def _walk(self, value: Any, node: Node | None, scrub: bool) -> Any:
        plan = self._plans.get((node, scrub))
        if plan is None:
            plan = self._plans[(node, scrub)] = self._plan(node, scrub)
        return plan(value)

    def _plan(self, node: Node | None, scrub: bool) -> Callable[[Any], Any]:
        """A function redacting a value found at `node` (None: off the allow-list)."""
        if node is None:
            return self._generic
        if node.rule is not None:
            return self._rule_plan(node.rule, scrub)
        odd = self._odd
        if node.items is not None:
            item = self._plan(node.items, scrub)

            def each(value: Any) -> Any:
                return [item(v) for v in value] if isinstance(value, list) else odd(value)

            return each
        plans = {k: self._plan(child, scrub) for k, child in node.keys.items()}
        other = self._plan(node.any, scrub)
        pick = plans.get

        def fields(value: Any) -> Any:
            return {k: pick(k, other)(v) for k, v in value.items()} if isinstance(value, dict) else odd(value)

        return fields

    def _rule_plan(self, rule: object, scrub: bool) -> Callable[[Any], Any]:
        """KEEP (the commonest rule) and Enum as functions of their own; every other rule through `_rule`."""
        if rule == K.KEEP:
            kept = self._kept
            if not scrub:
                return lambda value: kept(value, False)

            def keep(value: Any) -> Any:
                return scrub_value(value) if type(value) is str else kept(value, True)

            return keep
        if isinstance(rule, Enum):
            values, generic = rule.values, self._generic
            return lambda value: value if isinstance(value, str) and value in values else generic(value)
        return lambda value: self._rule(rule, value, scrub)

    def _generic(self, value: Any) -> Any:
        """Nothing here is on the allow-list: keep the structure and the keys, hash every string."""
        kind = type(value)  # the exact JSON types first, then anything derived from them
        if kind is str:
            return self.hash(value)
        if kind is dict:
            return {k: self._generic(v) for k, v in value.items()}
        if kind is list:
            return [self._generic(v) for v in value]
        if isinstance(value, dict):
            return {k: self._generic(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._generic(v) for v in value]
        if isinstance(value, str):
            return self.hash(value)
        if isinstance(value, SCALARS):
            return value
        return REDACTED  # bytes, streams, anything else

    @staticmethod
    def _odd(value: Any) -> Any:
        return None if value is None else ODD_SHAPE

    def _kept(self, value: Any, scrub: bool) -> Any:
        if isinstance(value, str):
            return scrub_value(value) if scrub else value
        if isinstance(value, SCALARS):
            return value
        return REDACTED if isinstance(value, (bytes, bytearray)) else self._odd(value)

    def _map(self, value: Any, kept) -> Any:
        if not isinstance(value, dict):
            return self._odd(value)
        out = {}
        for k, v in value.items():
            if isinstance(v, str):
                out[k] = scrub_value(v) if kept(k) else self.hash(v)
            else:
                out[k] = self._odd(v)
        return out

    def _rule(self, rule: object, value: Any, scrub: bool) -> Any:
        """The rules other than KEEP and Enum (`_rule_plan` makes those into functions of their own)."""
        if rule == K.LABELS:
            return self._map(value, K.label_kept)
        if rule == K.ANNOTATIONS:
            return self._map(value, K.annotation_kept)
        if rule == K.TAG_MAP:
            return self._map(value, K.tag_kept)
        if rule == K.SELECTOR:
            return self._selector(value)
        if rule == K.TAGS:
            return self._tags(value)
        if rule == K.POLICY:
            return self._policy(value)
        if rule == K.SECRET_DATA:
            if value is None:
                return None
            return {k: REDACTED for k in value} if isinstance(value, dict) else REDACTED
        if rule == K.MARKER:
            return None if value is None else REDACTED
        if isinstance(rule, K.Doc):
            return self._doc(rule, value)
        raise ValueError(f"unknown allow-list rule {rule!r}")

    def _selector(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return self._odd(value)
        out = {}
        for k, v in value.items():
            if k == "matchLabels":
                out[k] = self._map(v, K.label_kept)
            elif k == "matchExpressions":
                out[k] = self._expressions(v)
            else:
                out[k] = self._generic(v)
        return out

    def _objects(self, value: Any, item: Callable[[dict], dict]) -> Any:
        """A list of objects, each redacted by `item`; anything of another shape is replaced whole."""
        if not isinstance(value, list):
            return self._odd(value)
        return [item(e) if isinstance(e, dict) else self._odd(e) for e in value]

    def _expressions(self, value: Any) -> Any:
        def expression(e: dict) -> dict:
            key, item = e.get("key"), {}
            for k, v in e.items():
                if k in ("key", "operator"):
                    item[k] = self._kept(v, True)
                elif k == "values" and isinstance(v, list):
                    item[k] = [(scrub_value(x) if K.label_kept(key) else self.hash(x)) if isinstance(x, str)
                               else self._odd(x) for x in v]
                elif k == "values":
                    item[k] = self._odd(v)
                else:
                    item[k] = self._generic(v)
            return item

        return self._objects(value, expression)

    def _tags(self, value: Any) -> Any:
        def tag(t: dict) -> dict:
            key, item = t.get("Key", t.get("key")), {}
            for k, v in t.items():
                if k in ("Key", "key"):
                    item[k] = self._kept(v, True)
                elif k in ("Value", "value") and isinstance(v, str):
                    item[k] = scrub_value(v) if K.tag_kept(key) else self.hash(v)
                else:
                    item[k] = self._generic(v) if k not in ("Value", "value") else self._odd(v)
            return item

        return self._objects(value, tag)

    def _policy(self, value: Any) -> Any:
        """Policy documents are evaluated by the checks: kept whole (secret-shaped values still scrubbed)."""
        if isinstance(value, (dict, list)):
            return _scrub_all(copy.deepcopy(value))
        return self._kept(value, True)

    def _doc(self, rule: K.Doc, value: Any) -> Any:
        if not isinstance(value, str):
            return self._odd(value)
        try:
            parsed = json.loads(value) if rule.fmt == "json" else yaml.safe_load(value)
        except (ValueError, yaml.YAMLError, RecursionError):
            return self.hash(value) if rule.fmt == "json" else UNPARSEABLE_YAML
        if parsed is None:
            return value if not value.strip() else self.hash(value)
        out = self._walk(parsed, _doc_tree(rule), True)
        if rule.fmt == "json":
            return json.dumps(out, default=str)
        return yaml.safe_dump(out, sort_keys=False, default_flow_style=False)


def _scrub_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_all(v) for v in value]
    return scrub_value(value) if isinstance(value, str) else value


# ---- module-level helpers -------------------------------------------------------------------------------------

_default: Redactor | None = None
_default_lock = threading.Lock()


def default_redactor() -> Redactor:
    """A process-wide redactor for callers without a collection of their own (tests, one-off tools)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Redactor()
        return _default


def redact_k8s(obj: Any, redactor: Redactor | None = None) -> Any:
    """A redacted copy of one Kubernetes object."""
    return (redactor or default_redactor()).k8s(obj)


def redact_aws(doc: Any, service: str = "", operation: str = "", redactor: Redactor | None = None) -> Any:
    """A redacted copy of one AWS response of service:operation (an unknown operation keeps nothing verbatim)."""
    return (redactor or default_redactor()).aws(service, operation, doc)

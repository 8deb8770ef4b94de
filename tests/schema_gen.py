"""Objects of every Kubernetes kind the collector reads and every AWS response it receives, from the APIs' own
models (the kubernetes client's OpenAPI types, botocore's output shapes), with a unique planted string in every
string leaf. Used by tests/test_redaction.py."""

from __future__ import annotations

import datetime as dt
import functools
import random
import re

import botocore.session

# The one kind the kubernetes client has no model for (a CRD of the VPC resource controller).
SECURITY_GROUP_POLICY = {
    "apiVersion": "str", "kind": "str", "metadata": "V1ObjectMeta",
    "spec": {"podSelector": "V1LabelSelector", "serviceAccountSelector": "V1LabelSelector",
             "securityGroups": {"groupIds": "list[str]"}},
}
ODD = ("str", "list", "dict", "int")


class Planter:
    """Builds instances; every string leaf gets a unique token, whose path is remembered."""

    def __init__(self, rnd: random.Random | None = None, fill: float = 1.0, odd: float = 0.0, depth: int = 16):
        self.rnd, self.fill, self.odd, self.depth = rnd or random.Random(0), fill, odd, depth
        self.paths: dict[str, tuple] = {}

    def token(self, path: tuple) -> str:
        t = f"PLANT{len(self.paths):05d}x{self.rnd.randrange(16**6):06x}"
        self.paths[t] = path
        return t

    def _include(self) -> bool:
        return self.fill >= 1.0 or self.rnd.random() < self.fill

    def _odd(self, path: tuple):
        """A value of a shape the schema does not allow there, with planted strings inside."""
        kind = self.rnd.choice(ODD)
        if kind == "str":
            return self.token(path)
        if kind == "list":
            return [self.token((*path, 0)), {"k": self.token((*path, 1, "k"))}]
        if kind == "dict":
            return {"odd": self.token((*path, "odd")), "nested": [self.token((*path, "nested", 0))]}
        return 7

    def _n(self) -> int:
        return 1 if self.fill >= 1.0 else self.rnd.randint(0, 2)

    # ---- Kubernetes (kubernetes client models) ----

    def k8s(self, type_name, path: tuple = ()):
        if self.odd and path and self.rnd.random() < self.odd:
            return self._odd(path)
        if isinstance(type_name, dict):
            return self._k8s_fields(type_name, path)
        t = type_name.strip()
        m = re.fullmatch(r"(?:List|list)\[(.+)\]", t)
        if m:
            return [self.k8s(m.group(1), (*path, i)) for i in range(self._n())] if len(path) < self.depth else []
        m = re.fullmatch(r"(?:Dict\[str, *(.+)\]|dict\(str, *(.+)\))", t)
        if m:
            inner = m.group(1) or m.group(2)
            return {f"key-{len(self.paths)}-{i}": self.k8s(inner, (*path, f"key-{len(self.paths)}-{i}"))
                    for i in range(self._n())} if len(path) < self.depth else {}
        if t in ("str", "object", "bytes"):
            return self.token(path)
        if t == "int":
            return 3
        if t == "float":
            return 1.5
        if t == "bool":
            return True
        if t in ("datetime", "date"):
            return self.token(path)  # serialised as text on the wire
        from kubernetes import client

        cls = getattr(client, t)
        if len(path) >= self.depth:
            return {}
        fields = {cls.attribute_map[a]: typ for a, typ in cls.openapi_types.items()}
        return self._k8s_fields(fields, path)

    def _k8s_fields(self, fields: dict, path: tuple) -> dict:
        return {name: self.k8s(typ, (*path, name)) for name, typ in fields.items() if self._include()}

    # ---- AWS (botocore output shapes) ----

    def aws(self, shape, path: tuple = (), seen: tuple = ()):
        if self.odd and path and self.rnd.random() < self.odd:
            return self._odd(path)
        kind = shape.type_name
        if kind == "structure":
            if shape.name in seen or len(path) >= self.depth:
                return {}
            return {name: self.aws(m, (*path, name), (*seen, shape.name))
                    for name, m in shape.members.items() if self._include()}
        if kind == "list":
            return [self.aws(shape.member, (*path, i), seen) for i in range(self._n())]
        if kind == "map":
            out = {}
            for i in range(self._n()):
                key = f"key-{len(self.paths)}-{i}"
                out[key] = self.aws(shape.value, (*path, key), seen)
            return out
        if kind == "string":
            return self.token(path)
        if kind in ("integer", "long"):
            return 3
        if kind in ("float", "double"):
            return 1.5
        if kind == "boolean":
            return True
        if kind == "timestamp":
            return dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        if kind == "blob":
            return b"blob"
        return None


def k8s_schema(kind: str):
    return SECURITY_GROUP_POLICY if kind == "SecurityGroupPolicy" else f"V1{kind}"


@functools.cache
def service_model(service: str):
    return _SESSION.get_service_model(service)


def output_shape(service: str, operation: str):
    return service_model(service).operation_model(operation).output_shape


_SESSION = botocore.session.get_session()

"""The targets file of a fleet audit: read, checked and resolved before anything runs.

```yaml
defaults:                      # every target starts from these; a target's own keys replace them
  regions: [us-east-1, eu-west-1]
  external_id: acme-audit
  eks_auth: true
targets:
  - name: payments-prod        # the folder of its pack (default: the role's account ID, or the profile)
    role_arn: arn:aws:iam::111122223333:role/EksAuditor
    clusters: [payments]       # or "all" (the default)
  - profile: sandbox
    kubeconfig: kube/sandbox.yaml   # relative paths are read from the targets file's folder
```

A target's Kubernetes source keys (kubeconfig/context, eks_auth, k8s_snapshot) replace the defaults' as a
whole, so a target can switch from `eks_auth` to a snapshot without undoing the default; `params` merge by name.
Every problem is one line naming the file, the line and the field (`fleet.yaml:7: targets[1].role_arn: ...`).
The resolved targets are plain data (names, ARNs, paths): what a Dask task carries, never a credential.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from ..safe_files import Refused, read_file, shown
from ..target import REGION_RE

ROLE_ARN_RE = re.compile(r"^arn:aws(-cn|-us-gov|-iso|-iso-[a-z])?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# ExternalId as STS accepts it.
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
# A target's name is its pack's folder: a plain file name that cannot start with a dot (staging folders do).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ENDPOINT_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
MAX_TARGETS_FILE = 4 << 20  # bytes; thousands of targets fit in far less
DEFAULT_TIMEOUT = 3600  # seconds a target may take, collection and pack together

K8S_KEYS = ("kubeconfig", "context", "eks_auth", "k8s_snapshot")
# key -> what it must be; "path"/"paths" are files or folders resolved against the targets file's folder.
KEYS: dict[str, str] = {
    "name": "name", "profile": "text", "role_arn": "role ARN", "external_id": "external ID",
    "regions": "regions", "clusters": "clusters", "endpoint_url": "URL",
    "kubeconfig": "path", "context": "text", "eks_auth": "boolean", "k8s_snapshot": "snapshots",
    "attach": "attachments", "waivers": "path", "params": "params", "timeout": "seconds",
}
DEFAULT_KEYS = [k for k in KEYS if k != "name"]


@dataclass
class Target:
    """One resolved target: plain, JSON-ready data (`spec`) and where each key was written (`lines`)."""

    spec: dict[str, Any]
    line: int
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec["name"]


@dataclass
class Fleet:
    path: Path
    targets: list[Target]
    sha256: str = ""


class _Node:
    """A YAML value with the line it starts on (1-based), for error messages."""

    def __init__(self, value: Any, line: int):
        self.value = value
        self.line = line


def _plain(node: yaml.Node, where: str, fail) -> _Node:
    """Compose-tree to _Node values: mappings keep each key's line; duplicate keys are an error, not a silent
    overwrite (PyYAML keeps the last one)."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, _Node] = {}
        for k, v in node.value:
            key = _scalar(k) if isinstance(k, yaml.ScalarNode) else None
            if not isinstance(key, str):
                fail(k.start_mark.line + 1, where, "keys must be plain names")
            if key in out:
                fail(k.start_mark.line + 1, f"{where}.{key}" if where else key, "given twice")
            out[key] = _plain(v, f"{where}.{key}" if where else key, fail)
            out[key].line = k.start_mark.line + 1
        return _Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_plain(v, f"{where}[{i}]", fail) for i, v in enumerate(node.value)], line)
    return _Node(_scalar(node), line)


def _scalar(node: yaml.Node) -> Any:
    """A scalar's value as yaml.safe_load gives it (strings, numbers, booleans, null, dates)."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _unwrap(node: _Node) -> Any:
    if isinstance(node.value, dict):
        return {k: _unwrap(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [_unwrap(v) for v in node.value]
    return node.value


def load(path: str | Path, params_defaults: dict[str, Any] | None = None) -> Fleet:
    """Read and check a targets file; UserError (one line: file, line, field) on the first problem.

    `params_defaults`: the catalog's parameters ({name: default}) that `params` may set.
    """
    import hashlib

    path = Path(path)
    label = shown(path.name)

    def fail(line: int, where: str, message: str):
        raise UserError(f"{label}:{line}: {where}: {message}" if where else f"{label}:{line}: {message}")

    try:
        raw = read_file(path, "targets file", follow=True, limit=MAX_TARGETS_FILE)
    except Refused as exc:
        raise UserError(str(exc)) from None
    try:
        text = raw.decode("utf-8")
        # Aliases are refused before anything is built: a few of them nested expand into billions of values,
        # and `defaults:` already says what they would.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                fail(event.start_mark.line + 1, "", f"YAML aliases (*{shown(event.anchor)}) are not supported: "
                                                    "put shared values in `defaults:`")
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise UserError(f"{label}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = " ".join(str(getattr(exc, "problem", "") or exc).split())
        raise UserError(f"{label}:{mark.line + 1 if mark else 1}: not valid YAML: {problem}") from None
    if tree is None:
        fail(1, "", "empty: expected `targets:` (and optionally `defaults:`)")
    top = _plain(tree, "", fail)
    if not isinstance(top.value, dict):
        fail(top.line, "", "expected a mapping with `targets:` (and optionally `defaults:`)")
    for key, node in top.value.items():
        if key not in ("defaults", "targets"):
            fail(node.line, key, "unknown key (expected defaults or targets)")
    base = path.resolve().parent
    defaults: dict[str, Any] = {}
    default_lines: dict[str, int] = {}
    if "defaults" in top.value:
        node = top.value["defaults"]
        if not isinstance(node.value, dict):
            fail(node.line, "defaults", "expected a mapping of target keys")
        for key, v in node.value.items():
            if key not in DEFAULT_KEYS:
                fail(v.line, f"defaults.{key}", _unknown(key, DEFAULT_KEYS))
            defaults[key] = _value(key, v, f"defaults.{key}", base, params_defaults, fail)
            default_lines[key] = v.line
    if "targets" not in top.value:
        fail(top.line, "", "no `targets:` list")
    items = top.value["targets"]
    if not isinstance(items.value, list) or not items.value:
        fail(items.line, "targets", "expected a non-empty list of targets")
    targets = []
    for i, item in enumerate(items.value):
        where = f"targets[{i}]"
        if not isinstance(item.value, dict):
            fail(item.line, where, "expected a mapping (role_arn or profile, regions, clusters, ...)")
        own = {}
        lines = dict(default_lines)
        for key, v in item.value.items():
            if key not in KEYS:
                fail(v.line, f"{where}.{key}", _unknown(key, list(KEYS)))
            own[key] = _value(key, v, f"{where}.{key}", base, params_defaults, fail)
            lines[key] = v.line
        spec = _merge(defaults, own)
        if any(k in own for k in K8S_KEYS):
            for k in K8S_KEYS:
                if k not in own:
                    lines.pop(k, None)
        targets.append(_resolve(spec, item.line, lines, where, fail, set(own)))
    _no_duplicates(targets, fail)
    return Fleet(path=path.resolve(), targets=targets, sha256=hashlib.sha256(raw).hexdigest())


def _unknown(key: str, allowed: list[str]) -> str:
    import difflib

    near = difflib.get_close_matches(key, allowed, n=1)
    return f"unknown key{f' (did you mean {near[0]}?)' if near else ''}; allowed: {', '.join(allowed)}"


def _merge(defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    spec = dict(defaults)
    if any(k in own for k in K8S_KEYS):
        for k in K8S_KEYS:
            spec.pop(k, None)
    params = {**defaults.get("params", {}), **own.get("params", {})}
    spec.update(own)
    if params:
        spec["params"] = params
    return spec


def _strings(node: _Node, where: str, fail, what: str) -> list[str]:
    """A list of non-empty strings; a single string is a list of one."""
    items = node.value if isinstance(node.value, list) else [node]
    out = []
    for n in items:
        if not isinstance(n.value, str) or not n.value.strip():
            fail(n.line, where, f"expected {what}, got {n.value!r}")
        out.append(n.value.strip())
    return out


def _path(text: str, base: Path) -> str:
    return str((base / Path(text).expanduser()).resolve())


def _value(key: str, node: _Node, where: str, base: Path, params_defaults, fail) -> Any:
    """One key's value, checked and normalised (paths made absolute against the targets file's folder)."""
    kind = KEYS[key]
    v = node.value
    if kind in ("text", "name", "role ARN", "external ID", "URL", "path"):
        if not isinstance(v, str) or not v.strip():
            fail(node.line, where, f"expected {'a ' + kind if kind != 'external ID' else 'an external ID'}, "
                                   f"got {_short(v)}")
        v = v.strip()
        if kind == "name" and not NAME_RE.match(v):
            fail(node.line, where, f"{_short(v)} is not a usable folder name (letters, digits, '.', '_', '-'; "
                                   "at most 63; not starting with '.', '_' or '-')")
        if kind == "role ARN" and not ROLE_ARN_RE.match(v):
            fail(node.line, where, f"{_short(v)} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)")
        if kind == "external ID" and not EXTERNAL_ID_RE.match(v):
            fail(node.line, where, "not a valid external ID (2 to 1224 of letters, digits and +=,.@:/-_)")
        if kind == "URL" and not ENDPOINT_RE.match(v):
            fail(node.line, where, f"{_short(v)} is not an http(s) URL")
        if kind == "path":
            v = _path(v, base)
            if not Path(v).exists():
                fail(node.line, where, f"not found: {shown(v)}")
        return v
    if kind == "boolean":
        if not isinstance(v, bool):
            fail(node.line, where, f"expected true or false, got {_short(v)}")
        return v
    if kind == "seconds":
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            fail(node.line, where, f"expected a number of seconds above 0, got {_short(v)}")
        return v
    if kind == "regions":
        regions = _strings(node, where, fail, "region names")
        for r in regions:
            if not REGION_RE.match(r):
                fail(node.line, where, f"unknown region {_short(r)}: expected a name like us-east-1")
        return sorted(set(regions), key=regions.index)
    if kind == "clusters":
        if v == "all":
            return "all"
        names = _strings(node, where, fail, '"all" or cluster names')
        if "all" in names:
            fail(node.line, where, '"all" cannot be mixed with cluster names')
        return sorted(set(names), key=names.index)
    if kind == "snapshots":
        out = []
        for spec in _strings(node, where, fail, "[CLUSTER=]PATH"):
            name, sep, p = spec.rpartition("=")
            resolved = _path(p, base)
            if not Path(resolved).exists():
                fail(node.line, where, f"snapshot not found: {shown(resolved)}")
            out.append(f"{name}{sep}{resolved}")
        return out
    if kind == "attachments":
        from ..collect.attachments import parse_specs

        out = []
        for spec in _strings(node, where, fail, "KIND[:CLUSTER]=PATH"):
            key, sep, paths = spec.partition("=")
            resolved = f"{key}{sep}" + ",".join(_path(p, base) for p in paths.split(",")) if sep else spec
            try:
                parse_specs([resolved])
            except UserError as exc:
                fail(node.line, where, str(exc).replace("--attach ", ""))
            out.append(resolved)
        return out
    if kind == "params":
        if not isinstance(v, dict):
            fail(node.line, where, "expected a mapping of check parameters (NAME: VALUE)")
        out = {}
        for name, n in v.items():
            out[name] = _param(name, n, f"{where}.{name}", params_defaults, fail)
        return out
    raise AssertionError(kind)  # pragma: no cover - every kind is handled above


def _param(name: str, node: _Node, where: str, defaults: dict[str, Any] | None, fail) -> Any:
    value = _unwrap(node)
    if defaults is None:
        return value
    if name not in defaults:
        fail(node.line, where, "unknown check parameter; see `eksaudit checks --params`")
    want = type(defaults[name])
    if want is list and isinstance(value, str):
        value = [x for x in value.split(",") if x]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (want is int and isinstance(value, bool)) or not isinstance(value, want):
        fail(node.line, where, f"expected {want.__name__}, got {_short(value)}")
    return value


def _short(v: Any) -> str:
    text = repr(v)
    return shown(text if len(text) <= 80 else text[:77] + "...")


def _resolve(spec: dict[str, Any], line: int, lines: dict[str, int], where: str, fail, own: set[str]) -> Target:
    """Defaults filled in, the Kubernetes source checked, the name chosen. A default external ID goes with the
    targets that assume a role; a target's own external ID without a role is a mistake."""
    at = lines.get
    if spec.get("external_id") and not spec.get("role_arn"):
        if "external_id" in own:
            fail(at("external_id", line), f"{where}.external_id", "needs a role_arn to go with it")
        del spec["external_id"]
    chosen = [k for k, on in (("kubeconfig/context", spec.get("kubeconfig") or spec.get("context")),
                              ("eks_auth", spec.get("eks_auth")), ("k8s_snapshot", spec.get("k8s_snapshot"))) if on]
    if len(chosen) > 1:
        fail(line, where, f"choose one Kubernetes source, not {' and '.join(chosen)}")
    spec.setdefault("regions", ["us-east-1"])
    spec.setdefault("clusters", "all")
    if "name" not in spec:
        arn = spec.get("role_arn", "")
        spec["name"] = arn.split(":")[4] if arn else spec.get("profile") or "default"
        if not NAME_RE.match(spec["name"]):
            fail(line, f"{where}.name", f"give the target a name: its profile {_short(spec['name'])} is not a "
                                        "usable folder name")
    return Target(spec=spec, line=line, lines=lines)


def identity(spec: dict[str, Any]) -> tuple:
    """What a target audits: the same identity, endpoint, regions and clusters twice is a duplicate."""
    clusters = spec.get("clusters", "all")
    return (spec.get("role_arn") or "", spec.get("profile") or "", spec.get("endpoint_url") or "",
            tuple(sorted(spec.get("regions", []))), clusters if clusters == "all" else tuple(sorted(clusters)))


def _no_duplicates(targets: list[Target], fail) -> None:
    names: dict[str, Target] = {}
    seen: dict[tuple, Target] = {}
    for i, t in enumerate(targets):
        first = names.get(t.name.lower())
        if first is not None:
            fail(t.lines.get("name", t.line), f"targets[{i}].name",
                 f"duplicate target name {shown(t.name)} (also the target at line {first.line}); names must "
                 "differ, letter case aside")
        names[t.name.lower()] = t
        key = identity(t.spec)
        first = seen.get(key)
        if first is not None:
            fail(t.line, f"targets[{i}]", f"duplicate target: the same account, regions and clusters as the "
                                          f"target at line {first.line}")
        seen[key] = t

"""Redaction applied to every response before it is written: no secret reaches a pack."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
# Keys whose string values are secrets wherever they appear in an AWS or Kubernetes document.
SECRET_KEY_RE = re.compile(r"(secret|password|passwd|token|credential|private.?key|api.?key)", re.I)
# Keys that look secret by name but hold identifiers the checks need.
KEY_ALLOW = {"AccessKeyId", "NextToken", "nextToken", "KmsKeyId", "SecretsManagerArn", "ARN", "Name", "type",
             "automountServiceAccountToken", "serviceAccountToken", "secretName", "secretRef"}
# Values that are secrets whatever key holds them.
SECRET_VALUE_RES = [
    re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)"),
    re.compile(r"(?i)(gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]{10,})"),
]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# ConfigMaps whose data the checks read and which carry no secrets by design.
CONFIGMAP_KEEP = {("kube-system", "aws-auth")}


def scrub_value(value: str, key: str = "") -> str:
    for pattern in SECRET_VALUE_RES:
        value = pattern.sub(REDACTED, value)
    return value


def redact_aws(doc: Any) -> Any:
    """Redact secret-named keys and secret-looking values in an AWS response."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            if isinstance(v, (str, bytes)) and SECRET_KEY_RE.search(k) and k not in KEY_ALLOW:
                out[k] = REDACTED
            elif k == "AccessKeyId" and isinstance(v, str):
                out[k] = v  # an identifier, reported by IAM checks
            else:
                out[k] = redact_aws(v)
        return out
    if isinstance(doc, list):
        return [redact_aws(v) for v in doc]
    if isinstance(doc, str):
        return scrub_value(doc)
    if isinstance(doc, bytes):
        return REDACTED
    return doc


def _redact_pod_spec(spec: dict) -> None:
    for group in ("containers", "initContainers", "ephemeralContainers"):
        containers = spec.get(group)
        if not isinstance(containers, list):
            continue
        for container in containers:
            if not isinstance(container, dict):
                continue
            env = container.get("env")
            if env is not None and not isinstance(env, list):
                container["env"] = REDACTED  # not the shape Kubernetes writes: keep nothing of it
                env = []
            for item in env or []:
                if isinstance(item, dict) and "value" in item:
                    item["value"] = REDACTED
            for field in ("args", "command"):
                if isinstance(container.get(field), list):
                    container[field] = [scrub_value(str(a)) for a in container[field]]
                elif isinstance(container.get(field), str):
                    container[field] = scrub_value(container[field])


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def redact_k8s(obj: dict) -> dict:
    """Redact one Kubernetes object in place: Secret data, ConfigMap data, env values, last-applied.

    Objects come from clusters and snapshots we do not control: odd shapes are redacted whole, never skipped.
    """
    if not isinstance(obj, dict):
        return obj
    meta = _dict(obj.get("metadata"))
    annotations = _dict(meta.get("annotations"))
    if LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = REDACTED
    for k, v in list(annotations.items()):
        if isinstance(v, str):
            annotations[k] = scrub_value(v)
    kind = obj.get("kind")
    keep = kind == "ConfigMap" and (meta.get("namespace"), meta.get("name")) in CONFIGMAP_KEEP
    if kind in ("Secret", "ConfigMap") and not keep:
        for field in ("data", "stringData", "binaryData"):
            if field not in obj:
                continue
            value = obj[field]
            obj[field] = {k: REDACTED for k in value} if isinstance(value, dict) else REDACTED
    spec = _dict(obj.get("spec"))
    if "containers" in spec:
        _redact_pod_spec(spec)
    template = _dict(_dict(spec.get("template")).get("spec"))
    if template:
        _redact_pod_spec(template)
    job_template = _dict(_dict(_dict(_dict(spec.get("jobTemplate")).get("spec")).get("template")).get("spec"))
    if job_template:
        _redact_pod_spec(job_template)
    return obj

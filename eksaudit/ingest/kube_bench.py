"""kube-bench `--json` results (CIS Kubernetes / EKS benchmark).

Shapes accepted: `{"Controls": [...], "Totals": {...}}`, a bare array of Controls (`--nototals`), and several
such documents concatenated (one per target, as older versions print). Extra keys (Go field names such as
`AuditEnv`) are ignored. kube-bench writes no run time; eksaudit reads an optional top-level `"timestamp"`
(RFC 3339 or epoch) when whoever saved the result added one, e.g.
`kube-bench run --json | jq --arg t "$(date -u +%FT%TZ)" '. + {timestamp: $t}'`.
"""

from __future__ import annotations

from . import Parsed, decode, json_error, load_json, parse_time

STATUSES = ("PASS", "FAIL", "WARN", "INFO")
TIME_KEYS = ("timestamp", "Timestamp", "run_at", "time")


def parse(body: bytes) -> Parsed:
    """Every result of every control as a flat record; ok=False with the reason when the file is not one."""
    try:
        docs = load_json(decode(body))
    except Exception as exc:  # truncated, empty or not JSON at all
        return Parsed(False, error=json_error(exc))
    controls, run_at = [], None
    for part in docs:
        if isinstance(part, dict) and "Controls" in part:
            run_at = run_at or next((t for k in TIME_KEYS if (t := parse_time(part.get(k)))), None)
            part = part["Controls"]
        if isinstance(part, dict) and "tests" in part:
            part = [part]
        if not isinstance(part, list):
            return Parsed(False, error="not a kube-bench result: expected an object with \"Controls\" or an "
                                       "array of controls")
        controls.extend(part)
    if not controls:
        return Parsed(False, error="not a kube-bench result: no controls in the file")
    results = []
    for ci, control in enumerate(controls):
        if not isinstance(control, dict) or not isinstance(control.get("tests"), list):
            return Parsed(False, error=f"not a kube-bench result: control #{ci + 1} has no \"tests\" list")
        for test in control["tests"]:
            if not isinstance(test, dict) or not isinstance(test.get("results") or [], list):
                return Parsed(False, error=f"malformed kube-bench control {control.get('id', ci + 1)}: a test "
                                           "section is not an object with a \"results\" list")
            for r in test.get("results") or []:
                if not isinstance(r, dict) or not r.get("test_number") or not r.get("status"):
                    return Parsed(False, error=f"malformed kube-bench section {test.get('section', '?')}: a result "
                                               "lacks test_number or status")
                status = str(r["status"]).upper()
                results.append({
                    "control_id": str(control.get("id", "")), "control": str(control.get("text", "")),
                    "benchmark": str(control.get("version", "")), "node_type": str(control.get("node_type", "")),
                    "section": str(test.get("section", "")), "section_desc": str(test.get("desc", "")),
                    "test_number": str(r["test_number"]), "test_desc": str(r.get("test_desc", "")),
                    "status": status if status in STATUSES else f"UNKNOWN:{status}",
                    "scored": bool(r.get("scored")), "remediation": str(r.get("remediation", "")),
                    "actual_value": str(r.get("actual_value", "")), "expected_result": str(r.get("expected_result", "")),
                    "reason": str(r.get("reason", "")),
                })
    versions = sorted({str(c.get("version", "")) for c in controls if c.get("version")})
    return Parsed(True, results=results, run_at=run_at, meta={"benchmark": ", ".join(versions)})

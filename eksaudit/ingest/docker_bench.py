"""Docker Bench for Security results: the `<log>.json` file, or the text log beside it.

JSON: `{"dockerbenchsecurity": version, "start": epoch, "tests": [{"id", "desc", "results": [{"id", "desc",
"result", "details", "items", "remediation", "remediation-impact"}]}], "checks": N, "score": N, "end": epoch}`.
Real JSON files are sometimes broken (raw control characters or quotes in details): raw control characters are
accepted; anything worse falls back to the text log's `[WARN] 4.1 - ...` lines when the log is given.
"""

from __future__ import annotations

import re

from . import Parsed, decode, json_error, load_json, parse_time

RESULTS = ("PASS", "WARN", "INFO", "NOTE")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
LINE = re.compile(r"^\[(PASS|WARN|INFO|NOTE)\]\s+(\d+(?:\.\d+)*)\s+-\s+(.*?)\s*$")
DETAIL = re.compile(r"^\[(PASS|WARN|INFO|NOTE)\]\s+\*\s+(.*?)\s*$")
STARTED = re.compile(r"^Initializing\s+(.+?)\s*$")


def looks_like_json(body: bytes) -> bool:
    return decode(body).lstrip()[:1] in ("{", "[")


def parse_json(body: bytes) -> Parsed:
    text = decode(body)
    note = ""
    try:
        docs = load_json(text)
    except Exception as exc:
        try:
            docs = load_json(text, lenient=True)
            note = "raw control characters inside strings were accepted"
        except Exception:
            return Parsed(False, error=json_error(exc))
    doc = docs[0]
    if len(docs) != 1 or not isinstance(doc, dict) or not isinstance(doc.get("tests"), list):
        return Parsed(False, error="not a Docker Bench result: expected one object with a \"tests\" list")
    results = []
    for section in doc["tests"]:
        if not isinstance(section, dict) or not isinstance(section.get("results") or [], list):
            return Parsed(False, error="malformed Docker Bench result: a section is not an object with a "
                                       "\"results\" list")
        for r in section.get("results") or []:
            if not isinstance(r, dict) or not r.get("id") or not r.get("result"):
                return Parsed(False, error=f"malformed Docker Bench section {section.get('id', '?')}: a result "
                                           "lacks id or result")
            items = r.get("items") or []
            results.append({"section": str(section.get("id", "")), "section_desc": str(section.get("desc", "")),
                            "id": str(r["id"]), "desc": str(r.get("desc", "")), "result": str(r["result"]).upper(),
                            "details": str(r.get("details", "")),
                            "items": [str(i) for i in items] if isinstance(items, list) else [str(items)],
                            "remediation": str(r.get("remediation", ""))})
    run_at = parse_time(doc.get("end")) or parse_time(doc.get("start"))
    return Parsed(True, results=results, run_at=run_at, note=note,
                  meta={"version": str(doc.get("dockerbenchsecurity", "")), "score": doc.get("score")})


def parse_text(body: bytes) -> Parsed:
    """The text log: one `[RESULT] ID - description` line per check, `[RESULT]      * item` lines under it."""
    results: list[dict] = []
    run_at = None
    version = ""
    for raw in decode(body).splitlines():
        line = ANSI.sub("", raw).rstrip()
        if m := STARTED.match(line):
            run_at = run_at or parse_time(m.group(1))
        elif line.startswith("# Docker Bench for Security"):
            version = line.rsplit(" ", 1)[-1]
        elif (m := LINE.match(line)) and "." in m.group(2):  # "[INFO] 4 - Container Images" heads a section
            results.append({"section": m.group(2).split(".")[0], "section_desc": "", "id": m.group(2),
                            "desc": m.group(3), "result": m.group(1), "details": "", "items": [],
                            "remediation": ""})
        elif (m := DETAIL.match(line)) and results:
            results[-1]["items"].append(m.group(2))
    for r in results:
        r["details"] = "; ".join(r["items"])
    if not results:
        return Parsed(False, error="no Docker Bench result lines ([PASS|WARN|INFO|NOTE] ID - ...) in the file")
    return Parsed(True, results=results, run_at=run_at, meta={"version": version})


def parse(body: bytes, text_log: bytes | None = None) -> Parsed:
    """A Docker Bench file (JSON or text); a broken JSON file falls back to its text log when given."""
    if not looks_like_json(body):
        return parse_text(body)
    parsed = parse_json(body)
    if parsed.ok or text_log is None:
        return parsed
    fallback = parse_text(text_log)
    if fallback.ok:
        fallback.note = f"the JSON file is unreadable ({parsed.error}); results read from the text log"
        return fallback
    return Parsed(False, error=f"{parsed.error}; the text log is unreadable too ({fallback.error})")

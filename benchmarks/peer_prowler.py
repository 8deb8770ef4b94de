"""Prowler and eksaudit on the same demo account, one after the other (issue #16): run by peer_prowler.sh.

The seeded demo account (moto on 127.0.0.1) is started once and kept up while both tools read it. For each
tool: its wall time (the whole process, start-up included), the AWS API calls the moto server received (moto's
own request recorder, reset before each tool), and the practices of eksaudit/requirements.py it flags.
eksaudit's practices come from its checks' `requirements`; Prowler's from the eksaudit checks whose
`references["prowler"]` name a Prowler check that failed, so a Prowler check no eksaudit check cites counts
for no practice (those are listed apart).

Both tools run with HTTP(S)_PROXY set to a loopback proxy that refuses every request and notes where it was
going (NO_PROXY lets the moto endpoint through): anything that tries to reach the internet is reported.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import json
import logging
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATUS_VERDICTS = {"PASS", "FAIL", "WAIVED"}  # an eksaudit finding that says something about a resource


class Failed(Exception):
    """A step of the comparison could not be done: one line for the user."""


# ---- outbound watch -----------------------------------------------------------------------------------

class _Refuse(BaseHTTPRequestHandler):
    seen: list[str]

    def _refuse(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        self.send_error(403, "blocked by peer_prowler: no internet here")

    do_CONNECT = do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _refuse

    def log_message(self, *args) -> None:  # the refusals are reported at the end, not as they happen
        pass


@contextlib.contextmanager
def refusing_proxy() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP proxy that answers 403 to everything; yields its URL and the requests it refused."""
    seen: list[str] = []
    handler = type("Refuse", (_Refuse,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


# ---- moto's own errors -------------------------------------------------------------------------------

class ServerErrors(logging.Handler):
    """Collects the exceptions moto's server logs (each answered HTTP 500, mostly actions moto does not
    implement) instead of printing their tracebacks; other records still go to stderr."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Error on request"):  # werkzeug: the traceback as text, the exception last
            self.errors.append(message.strip().splitlines()[-1])
        elif record.exc_info and message.startswith("Exception on"):  # Flask, where it logs instead
            exc = record.exc_info[1]
            self.errors.append(f"{type(exc).__name__}: {exc}")
        else:
            sys.stderr.write(self.format(record) + "\n")


# ---- moto's recorder ----------------------------------------------------------------------------------

def _moto_api(endpoint: str, action: str) -> bytes:
    method = "GET" if action == "download-recording" else "POST"
    req = urllib.request.Request(f"{endpoint}/moto-api/recorder/{action}", data=None if method == "GET" else b"",
                                 method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310  (the loopback moto server)
        return resp.read()


def _operation(entry: dict) -> tuple[str, str]:
    """(service, operation) of one recorded request: the service from the SigV4 credential scope, the
    operation from X-Amz-Target (JSON protocols), Action= (query protocols) or method and path (REST)."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    scope = re.search(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/", headers.get("authorization", ""))
    service = scope.group(1) if scope else "unsigned"
    if headers.get("x-amz-target"):
        return service, headers["x-amz-target"].rsplit(".", 1)[-1]
    url = urllib.parse.urlsplit(entry.get("url", ""))
    action = urllib.parse.parse_qs(url.query).get("Action")
    if not action:
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        action = urllib.parse.parse_qs(body).get("Action")
    if action:
        return service, action[0]
    return service, f"{entry.get('method', '?')} {re.sub(r'/[^/]*[0-9][^/]*', '/{id}', url.path) or '/'}"


def api_calls(recording: bytes) -> dict:
    """Count a download of moto's recorder: total, by service, by operation; moto's own API left out."""
    ops: collections.Counter = collections.Counter()
    unreadable = 0
    for line in recording.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:  # two threads' lines run together (the recorder appends without a lock)
            unreadable += 1
            continue
        if urllib.parse.urlsplit(entry.get("url", "")).path.startswith("/moto-api/"):
            continue
        ops[_operation(entry)] += 1
    services: collections.Counter = collections.Counter()
    for (svc, _), n in ops.items():
        services[svc] += n
    return {"total": sum(ops.values()) + unreadable, "unreadable": unreadable, "services": dict(services.most_common()),
            "operations": {f"{s}:{o}": n for (s, o), n in sorted(ops.items())}}


# ---- the two tools ------------------------------------------------------------------------------------

def _stop(proc: subprocess.Popen, first: signal.Signals) -> None:
    """Interrupted: send the tool `first`, then kill its process group if it is still there. A second TERM or
    Ctrl-C (the shell's trap follows a Ctrl-C with a TERM) must not cut this short: the tool runs in a session
    of its own and would be left running."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for sig, grace in ((first, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _timed(cmd: list[str], env: dict, log: Path, ok_codes: tuple[int, ...], name: str,
           stop: signal.Signals = signal.SIGTERM) -> tuple[float, int]:
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=log.parent, start_new_session=True)
        try:
            code = proc.wait()
        finally:
            if proc.poll() is None:
                _stop(proc, stop)
    elapsed = time.perf_counter() - t0
    if code not in ok_codes:
        tail = " | ".join(log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:])
        raise Failed(f"{name} exited {code} (log {log}): {tail}")
    return elapsed, code


def run_eksaudit(endpoint: str, region: str, work: Path, env: dict) -> tuple[float, int, Path]:
    pack = work / "eksaudit-pack"
    cmd = [sys.executable, "-c", "import sys; from eksaudit.cli import main; sys.exit(main())",
           "run", "--endpoint-url", endpoint, "--region", region, "--out", str(pack), "--accept-incomplete"]
    # 0 clean, 1 FAIL findings at or above --fail-on, 3 incomplete: all are a finished pack
    # stopped as Ctrl-C would: eksaudit then shuts its notebook kernels down (they run in sessions of their own)
    elapsed, code = _timed(cmd, env, work / "eksaudit.log", (0, 1, 3), "eksaudit run", stop=signal.SIGINT)
    if not (pack / "findings.json").is_file():
        raise Failed(f"eksaudit run wrote no findings.json in {pack}")
    return elapsed, code, pack


def run_prowler(prowler: Path, region: str, services: list[str], work: Path, env: dict) -> tuple[float, int, Path]:
    out = work / "prowler-out"
    cmd = [str(prowler), "aws", "-f", region, "--services", *services, "-M", "json-ocsf", "-o", str(out),
           "-F", "prowler", "--no-banner", "--log-level", "ERROR"]
    # 3: the scan finished with failed checks
    elapsed, code = _timed(cmd, env, work / "prowler.log", (0, 3), "prowler")
    result = out / "prowler.ocsf.json"
    if not result.is_file():
        raise Failed(f"prowler wrote no {result.name} in {out} (log {work / 'prowler.log'})")
    return elapsed, code, result


# ---- practices ----------------------------------------------------------------------------------------

def eksaudit_practices(pack: Path, catalog: dict) -> tuple[set[str], set[str]]:
    """(flagged, covered): practices of checks with a FAIL finding / with any verdict on a resource."""
    rows = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    flagged, covered = set(), set()
    for row in rows:
        check = catalog.get(row.get("check_id"))
        if check is None:
            continue
        if row.get("status") == "FAIL":
            flagged.update(check.requirements)
        if row.get("status") in STATUS_VERDICTS:
            covered.update(check.requirements)
    return flagged, covered


def eksaudit_statuses(pack: Path) -> dict[str, dict[str, int]]:
    """eksaudit check ID -> its findings' statuses with their counts."""
    out: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in json.loads((pack / "findings.json").read_text(encoding="utf-8")):
        out[row["check_id"]][row["status"]] += 1
    return {cid: dict(c) for cid, c in sorted(out.items())}


def prowler_crashed(log: Path) -> list[str]:
    """Prowler checks that raised (Prowler logs them and goes on)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return sorted(set(re.findall(r"Something went wrong in (\w+)", text)))


def prowler_statuses(result: Path) -> dict[str, collections.Counter]:
    """Prowler check ID -> Counter of its findings' statuses (PASS, FAIL, MANUAL...)."""
    out: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for f in json.loads(result.read_text(encoding="utf-8") or "[]"):
        out[f["metadata"]["event_code"]][str(f.get("status_code", "")).upper()] += 1
    return out


def prowler_practices(statuses: dict[str, collections.Counter], catalog: dict) -> tuple[set[str], set[str]]:
    """(flagged, covered) through eksaudit's references: practices of the checks citing a failed / run Prowler
    check."""
    cited = by_prowler_check(catalog)
    flagged, covered = set(), set()
    for pid, counts in statuses.items():
        for check in cited.get(pid, []):
            if counts["FAIL"]:
                flagged.update(check.requirements)
            if counts["FAIL"] or counts["PASS"]:
                covered.update(check.requirements)
    return flagged, covered


def by_prowler_check(catalog: dict) -> dict[str, list]:
    """The references map inverted: Prowler check ID -> the eksaudit checks that cite it."""
    cited: dict[str, list] = collections.defaultdict(list)
    for check in catalog.values():
        for pid in check.references.get("prowler", []):
            cited[pid].append(check)
    return cited


def known_prowler_checks(venv: Path) -> dict[str, str]:
    """Prowler's AWS checks as installed: check ID -> service (from its checks' metadata files)."""
    found = venv.glob("lib/python*/site-packages/prowler/providers/aws/services/*/*/*.metadata.json")
    return {p.name.removesuffix(".metadata.json"): p.parent.parent.name for p in found}


# ---- report -------------------------------------------------------------------------------------------

def _with(statuses: dict, status: str) -> int:
    return sum(bool(c.get(status)) for c in statuses.values())


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"


def report(res: dict) -> str:
    from eksaudit.requirements import PRACTICES

    e, p = res["eksaudit"], res["prowler"]
    lines = [
        f"machine: {res['machine']}, python {res['python']}, prowler {res['prowler_version']}",
        f"account: demo (moto {res['moto_version']} on 127.0.0.1), region {res['region']}, "
        f"Prowler services: {' '.join(res['services'])}",
        "",
        f"wall time   eksaudit run {e['seconds']:.1f} s (exit {e['exit']}), prowler {p['seconds']:.1f} s "
        f"(exit {p['exit']}): prowler/eksaudit = {p['seconds'] / e['seconds']:.2f} (load average "
        f"{res['load_before']} before, {e['load_after']} after eksaudit, {p['load_after']} after prowler)",
        f"AWS calls   (moto's recorder) eksaudit {e['calls']['total']}, prowler {p['calls']['total']}",
    ]
    for name, r in (("eksaudit", e), ("prowler", p)):
        svc = ", ".join(f"{s} {n}" for s, n in r["calls"]["services"].items())
        lines.append(f"  {name:9} by service: {svc}"
                     + (f" ({r['calls']['unreadable']} unreadable lines)" if r["calls"]["unreadable"] else ""))
    for name, r in (("eksaudit", e), ("prowler", p)):
        if r["moto_errors"]:
            lines.append(f"  {name:9} answered HTTP 500 by moto: {sum(r['moto_errors'].values())} ("
                         + "; ".join(f"{m} x{n}" for m, n in r["moto_errors"].items()) + ")")
    lines.append("outbound    " + ("none attempted" if not res["outbound"] else
                                  "refused: " + "; ".join(sorted(set(res["outbound"])))))
    lines += ["", "practice   eksaudit-flags  prowler-flags  eksaudit-checks  prowler-checks"]
    for pid, _group, _text in PRACTICES:
        lines.append(f"{pid:10} {_yn(pid in e['flagged']):15} {_yn(pid in p['flagged']):14} "
                     f"{_yn(pid in e['covered']):16} {_yn(pid in p['covered'])}")
    lines += [
        "",
        f"flagged by eksaudit: {len(e['flagged'])}, by prowler: {len(p['flagged'])}, by both: "
        f"{len(set(e['flagged']) & set(p['flagged']))}",
        f"covered by eksaudit: {len(e['covered'])}, by prowler (through eksaudit's references): {len(p['covered'])}",
        f"eksaudit checks: {len(e['statuses'])}, with a FAIL: {_with(e['statuses'], 'FAIL')}, only ERROR: "
        f"{sum(set(c) == {'ERROR'} for c in e['statuses'].values())} (no Kubernetes source: Kubernetes checks "
        "are ERROR)",
        f"prowler checks run: {p['checks_run']}, with a FAIL: {len(p['failing'])}, raised: "
        f"{', '.join(p['crashed']) or 'none'}",
        f"prowler checks failing that no eksaudit check cites ({len(p['failing_unmapped'])}): "
        f"{', '.join(p['failing_unmapped']) or 'none'}",
    ]
    if res["references_unknown"]:
        lines.append("eksaudit references naming no check of this Prowler: " + ", ".join(res["references_unknown"]))
    if res["references_silent"]:
        lines.append("cited Prowler checks that ran but gave no finding: " + ", ".join(res["references_silent"]))
    if res["references_not_run"]:
        lines.append("cited Prowler checks not run (service outside --services): "
                     + ", ".join(res["references_not_run"]))
    return "\n".join(lines)


# ---- main ---------------------------------------------------------------------------------------------

def _env(endpoint: str, region: str, proxy: str, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=region, AWS_REGION=region, AWS_CONFIG_FILE=str(work / "no-aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(work / "no-aws-credentials"), AWS_EC2_METADATA_DISABLED="true",
               HTTP_PROXY=proxy, HTTPS_PROXY=proxy, http_proxy=proxy, https_proxy=proxy,
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


def _load() -> str:
    """The 1-minute load average: the machine is shared, so each time is given with it."""
    return f"{os.getloadavg()[0]:.1f}"


def compare(prowler_venv: Path, work: Path, services: list[str]) -> dict:
    # moto's recorder reads where to write when moto is imported: before the demo account starts
    os.environ["MOTO_RECORDER_FILEPATH"] = str(work / "moto-recording.jsonl")
    from importlib.metadata import version

    from eksaudit.checks import load
    from eksaudit.demo.account import REGION, DemoAccount

    prowler = prowler_venv / "bin" / "prowler"
    pv = subprocess.run([str(prowler_venv / "bin" / "python"), "-c",
                         "import importlib.metadata as m; print(m.version('prowler'))"],
                        capture_output=True, text=True, check=False).stdout.strip()
    if not pv:
        raise Failed(f"prowler is not installed in {prowler_venv}")
    catalog = load()
    res: dict = {"machine": f"{os.cpu_count()}-core {platform.machine()}", "python": platform.python_version(),
                 "prowler_version": pv, "moto_version": version("moto"), "region": REGION, "services": services}
    load_before = _load()
    server_errors = ServerErrors()
    logging.getLogger().addHandler(server_errors)  # before moto's Flask app logs: it then adds no handler
    with refusing_proxy() as (proxy, refused), DemoAccount() as acct:
        env = _env(acct.endpoint_url, REGION, proxy, work)
        runs = {}
        for name in ("eksaudit", "prowler"):
            _moto_api(acct.endpoint_url, "reset-recording")
            _moto_api(acct.endpoint_url, "start-recording")
            server_errors.errors.clear()
            if name == "eksaudit":
                runs[name] = run_eksaudit(acct.endpoint_url, REGION, work, env)
            else:
                runs[name] = run_prowler(prowler, REGION, services, work, env)
            _moto_api(acct.endpoint_url, "stop-recording")
            recording = _moto_api(acct.endpoint_url, "download-recording")
            (work / f"moto-recording-{name}.jsonl").write_bytes(recording)
            res[name] = {"calls": api_calls(recording), "load_after": _load(),
                         "moto_errors": dict(collections.Counter(server_errors.errors).most_common())}
        res["outbound"] = list(refused)
        res["load_before"] = load_before

    seconds, code, pack = runs["eksaudit"]
    flagged, covered = eksaudit_practices(pack, catalog)
    res["eksaudit"].update(seconds=seconds, exit=code, flagged=sorted(flagged), covered=sorted(covered),
                           statuses=eksaudit_statuses(pack))

    seconds, code, result = runs["prowler"]
    statuses = prowler_statuses(result)
    flagged, covered = prowler_practices(statuses, catalog)
    cited = by_prowler_check(catalog)
    failing = sorted(pid for pid, c in statuses.items() if c["FAIL"])
    res["prowler"].update(seconds=seconds, exit=code, flagged=sorted(flagged), covered=sorted(covered),
                          checks_run=len(statuses), failing=failing,
                          failing_unmapped=[pid for pid in failing if pid not in cited],
                          crashed=prowler_crashed(work / "prowler.log"),
                          statuses={pid: dict(c) for pid, c in sorted(statuses.items())})
    known = known_prowler_checks(prowler_venv)
    res["references_unknown"] = sorted(pid for pid in cited if pid not in known)
    res["references_not_run"] = sorted(pid for pid in cited if pid in known and known[pid] not in services)
    res["references_silent"] = sorted(pid for pid in cited if pid in known and known[pid] in services
                                      and pid not in statuses)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prowler-venv", type=Path, required=True, help="virtualenv with Prowler installed")
    ap.add_argument("--work", type=Path, required=True, help="scratch folder for the pack, outputs and logs")
    ap.add_argument("--services", nargs="+", default=["eks", "ecr", "iam", "cloudtrail"],
                    help="Prowler services to scan (default: eks ecr iam cloudtrail)")
    ap.add_argument("--json", type=Path, help="also write every number to this JSON file")
    a = ap.parse_args()
    # the shell's trap sends TERM: unwind so the moto server and a running tool are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # started in the background by the shell, this process ignores SIGINT, and so would the tools (an ignored
    # signal stays ignored across exec): give Ctrl-C back its meaning, which eksaudit's clean stop relies on
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, str(ROOT))
    a.work.mkdir(parents=True, exist_ok=True)
    try:
        res = compare(a.prowler_venv.resolve(), a.work.resolve(), a.services)
    except Failed as exc:
        print(f"peer_prowler: {exc}", file=sys.stderr)
        return 1
    print(report(res))
    if a.json:
        a.json.write_text(json.dumps(res, indent=1, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

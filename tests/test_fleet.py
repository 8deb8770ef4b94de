"""Fleet audits (issue #17): the targets file, the Dask run, the roll-up and the fleet folder's manifest."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from eksaudit.cli import main
from eksaudit.errors import UserError
from eksaudit.fleet import report
from eksaudit.fleet import targets as tf
from eksaudit.fleet.engine import local_workers
from eksaudit.pack import verify

ROLE = "arn:aws:iam::{}:role/Auditor"


def _load(tmp_path: Path, text: str, params: dict | None = None) -> tf.Fleet:
    path = tmp_path / "fleet.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return tf.load(path, params)


def _error(tmp_path: Path, text: str, params: dict | None = None) -> str:
    with pytest.raises(UserError) as exc:
        _load(tmp_path, text, params)
    message = str(exc.value)
    assert "\n" not in message
    return message


# ---- the targets file ------------------------------------------------------------------------------------


def test_defaults_are_overridden_per_target_and_paths_resolved(tmp_path):
    (tmp_path / "kube").mkdir()
    (tmp_path / "kube" / "config").write_text("{}")
    (tmp_path / "snap").mkdir()
    fleet = _load(tmp_path, f"""
        defaults:
          regions: [us-east-1, eu-west-1]
          external_id: acme-audit
          eks_auth: true
          params: {{log_retention_days: 400, max_access_key_age_days: 60}}
        targets:
          - role_arn: {ROLE.format("111122223333")}
          - name: sandbox
            role_arn: {ROLE.format("444455556666")}
            regions: eu-central-1
            clusters: [payments, batch]
            kubeconfig: kube/config
            params: {{log_retention_days: 90}}
          - name: snap
            profile: legacy
            k8s_snapshot: ["legacy=snap"]
    """, {"log_retention_days": 365, "max_access_key_age_days": 90})
    first, second, third = (t.spec for t in fleet.targets)
    assert first == {"regions": ["us-east-1", "eu-west-1"], "external_id": "acme-audit", "eks_auth": True,
                     "params": {"log_retention_days": 400, "max_access_key_age_days": 60},
                     "role_arn": ROLE.format("111122223333"), "clusters": "all", "name": "111122223333"}
    # A target's Kubernetes source replaces the default's as a whole; params merge by name.
    assert second["kubeconfig"] == str((tmp_path / "kube" / "config").resolve()) and "eks_auth" not in second
    assert second["regions"] == ["eu-central-1"] and second["clusters"] == ["payments", "batch"]
    assert second["params"] == {"log_retention_days": 90, "max_access_key_age_days": 60}
    assert third["k8s_snapshot"] == [f"legacy={(tmp_path / 'snap').resolve()}"] and "eks_auth" not in third
    assert fleet.targets[1].line == 8 and len(fleet.sha256) == 64
    json.dumps([t.spec for t in fleet.targets])  # plain data: what a Dask task carries


@pytest.mark.parametrize("text, expected", [
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            region: [us-east-1]
     """, "fleet.yaml:3: targets[0].region: unknown key (did you mean regions?)"),
    ("""
        targets:
          - name: a
            role_arn: arn:aws:iam::1234:role/Auditor
     """, "fleet.yaml:3: targets[0].role_arn: 'arn:aws:iam::1234:role/Auditor' is not an IAM role ARN"),
    ("""
        targets:
          - role_arn: arn:aws:iam::111122223333:user/alice
     """, "fleet.yaml:2: targets[0].role_arn: 'arn:aws:iam::111122223333:user/alice' is not an IAM role ARN"),
    (f"""
        defaults:
          regions: [us-east-1]
        targets:
          - role_arn: {ROLE.format("111122223333")}
          - name: again
            role_arn: {ROLE.format("111122223333")}
     """, "fleet.yaml:5: targets[1]: duplicate target: the same account, regions and clusters as the target at "
          "line 4"),
    (f"""
        targets:
          - name: prod
            role_arn: {ROLE.format("111122223333")}
          - name: PROD
            role_arn: {ROLE.format("444455556666")}
     """, "fleet.yaml:4: targets[1].name: duplicate target name PROD (also the target at line 2)"),
    (f"""
        defaults:
          regions: [mars-north-1]
        targets:
          - role_arn: {ROLE.format("111122223333")}
     """, "fleet.yaml:2: defaults.regions: unknown region 'mars-north-1'"),
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            eks_auth: yes please
     """, "fleet.yaml:3: targets[0].eks_auth: expected true or false, got 'yes please'"),
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            kubeconfig: missing/config
     """, "fleet.yaml:3: targets[0].kubeconfig: not found: "),
    (f"""
        defaults:
          eks_auth: true
          k8s_snapshot: snaps
        targets:
          - role_arn: {ROLE.format("111122223333")}
     """, "fleet.yaml:3: defaults.k8s_snapshot: snapshot not found"),
    ("""
        targets:
          - profile: dev
            external_id: abc123
     """, "fleet.yaml:3: targets[0].external_id: needs a role_arn to go with it"),
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            timeout: 0
     """, "fleet.yaml:3: targets[0].timeout: expected a number of seconds above 0, got 0"),
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            name: ../escape
     """, "fleet.yaml:3: targets[0].name: '../escape' is not a usable folder name"),
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            attach: ["kube-bench:prod=nowhere.json"]
     """, "fleet.yaml:3: targets[0].attach: attachment not found"),
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            params: {{log_retention_days: forever}}
     """, "fleet.yaml:3: targets[0].params.log_retention_days: expected int, got 'forever'"),
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            params: {{no_such_param: 1}}
     """, "fleet.yaml:3: targets[0].params.no_such_param: unknown check parameter"),
    (f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            role_arn: {ROLE.format("444455556666")}
     """, "fleet.yaml:3: targets[0].role_arn: given twice"),
    (f"""
        target:
          - role_arn: {ROLE.format("111122223333")}
     """, "fleet.yaml:1: target: unknown key (expected defaults or targets)"),
    ("""
        targets: []
     """, "fleet.yaml:1: targets: expected a non-empty list of targets"),
    ("""
        targets:
          - role_arn: [unclosed
     """, "fleet.yaml:3: not valid YAML"),
    ("""
        defaults: &d {regions: [us-east-1]}
        targets:
          - *d
     """, "fleet.yaml:3: YAML aliases (*d) are not supported"),
])
def test_targets_file_problems_are_one_line_with_line_and_field(tmp_path, text, expected):
    assert _error(tmp_path, text, {"log_retention_days": 365}).startswith(expected)


def test_conflicting_kubernetes_sources_in_one_target(tmp_path):
    (tmp_path / "config").write_text("{}")
    message = _error(tmp_path, f"""
        targets:
          - role_arn: {ROLE.format("111122223333")}
            kubeconfig: config
            eks_auth: true
    """)
    assert message == ("fleet.yaml:2: targets[0]: choose one Kubernetes source, not kubeconfig/context and "
                       "eks_auth")


def test_cli_refuses_a_bad_targets_file_and_single_target_options(tmp_path, capsys):
    bad = tmp_path / "fleet.yaml"
    bad.write_text(f"targets:\n  - role_arn: {ROLE.format('111122223333')}\n    clusterz: all\n")
    assert main(["run", "--targets", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("eksaudit: error: fleet.yaml:3: targets[0].clusterz: unknown key (did you mean clusters?)")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert main(["run", "--targets", str(bad), "--profile", "x", "--region", "us-east-1"]) == 2
    assert "drop --profile, --region" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text(f"targets:\n  - role_arn: {ROLE.format('111122223333')}\n")
    assert main(["run", "--targets", str(good), "--scheduler", "http://x:1", "--out", str(tmp_path / "out")]) == 2
    assert "--scheduler http://x:1: expected tcp://HOST:PORT" in capsys.readouterr().err
    assert main(["run", "--targets", str(good), "--workers", "2", "--scheduler", "tcp://x:1"]) == 2
    assert "--workers takes a number above 0, and only for the local cluster" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ---- pieces ------------------------------------------------------------------------------------------------


def test_local_cluster_is_sized_to_the_machine_and_the_fleet():
    gib = 1 << 30
    assert local_workers(20, cpus=8, memory=64 * gib) == 8  # cores
    assert local_workers(20, cpus=8, memory=7 * gib) == 3  # memory, at a target's peak
    assert local_workers(2, cpus=8, memory=64 * gib) == 2  # no idle workers
    assert local_workers(5, cpus=2, memory=gib) == 1  # always one


@pytest.mark.parametrize("exits, expected", [
    ([0, 0], 0), ([0, 3], 3), ([3, 1], 1), ([0, None], 3), ([1, None], 1), ([None, None], 2),
])
def test_fleet_exit_code(exits, expected):
    summaries = [{"status": "failed" if e is None else "audited", "exit": e} for e in exits]
    assert report.exit_code(summaries) == expected


def test_a_target_is_stopped_at_its_timeout_or_when_the_fleet_folder_is_gone(tmp_path):
    """The worker interrupts the target's process (the runner's Ctrl-C path) and says why."""
    import subprocess
    import sys

    from eksaudit.fleet.work import _wait

    forever = [sys.executable, "-c", "import time; time.sleep(600)"]
    child = subprocess.Popen(forever)
    assert _wait(child, 0, tmp_path) == "timed out after 0 s (the target's timeout); stopped"
    assert child.returncode is not None
    child = subprocess.Popen(forever)
    assert _wait(child, 600, tmp_path / "removed") == "the fleet run was stopped"
    assert child.returncode is not None
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    assert _wait(done, 600, tmp_path) == "" and done.returncode == 0


def _finding(**kw) -> dict:
    row = {"run_id": "r", "account_id": "111122223333", "region": "us-east-1", "cluster": "c", "domain": "network",
           "check_id": "NET-07", "title": "t", "severity": "high", "status": "FAIL", "resource_type": "cluster",
           "resource_id": "x", "reason": "why", "remediation": "", "evidence": "", "target": "a"}
    return {**row, **kw}


def test_checks_failing_in_the_most_places_count_places_not_rows():
    findings = pd.DataFrame([
        _finding(check_id="IAM-01", cluster="", resource_id=f"user/{i}") for i in range(5)  # 5 rows, 1 place
    ] + [
        _finding(check_id="NET-07", target="a", cluster="c1"), _finding(check_id="NET-07", target="b", cluster="c1",
                                                                       account_id="444455556666"),
        _finding(check_id="NET-07", target="a", cluster="c2"), _finding(check_id="NET-07", status="PASS",
                                                                       cluster="c3"),
    ])
    html = report._most_failing(findings)
    rows = re.findall(r"<tr><td[^>]*>([A-Z]+-\d+)</td>.*?</tr>", html)
    assert rows == ["NET-07", "IAM-01"]
    net = re.search(r"<tr><td[^>]*>NET-07</td>(.*?)</tr>", html).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", net)
    assert cells[-4:] == ["3", "2", "2", "3"]  # places, accounts, targets, findings


def test_roll_up_page_escapes_names_and_causes():
    hostile = '<script>alert(1)</script>"\u202e'
    findings = pd.DataFrame([_finding(cluster=hostile, reason=hostile, resource_id=hostile)])
    doc = {"fleet_run_id": "f", "targets_file": {"name": "<b>f.yaml"}, "started": "s", "finished": "e",
           "where": "here", "version": "0", "targets": [
               {"target": "a", "status": "audited", "account": "111122223333", "regions": ["us-east-1"],
                "clusters": [hostile], "pack": "targets/a", "exit": 1, "counts": {"FAIL": 1}},
               {"target": "b", "status": "failed", "account": "", "regions": [], "error": f"boom {hostile}",
                "pack": "", "exit": None, "counts": {}}]}
    html = report.page(doc, findings)
    assert "<script>alert" not in html and "<b>f.yaml" not in html and "\u202e" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'Content-Security-Policy" content="default-src \'none\'' in html
    assert '<a href="targets/a/index.html">a</a>' in html and 'href="targets/b' not in html
    assert html.count("<script>") == 1  # the sortable tables' one static script


# ---- a fleet on Dask: three moto accounts, one unreachable target, one hanging ------------------------------


@pytest.fixture(scope="module")
def fleet_run(demo_env, tmp_path_factory):
    """Audit the demo account, a member account seeded with the demo's core, an empty member account, a target
    whose endpoint refuses connections and one whose endpoint never answers, on a local cluster of 2 workers.
    Every task submitted is recorded as it would be serialized."""
    import distributed
    from distributed.protocol import pickle as dask_pickle

    from eksaudit.checks import default_params
    from eksaudit.demo.members import seed_member
    from eksaudit.fleet.engine import run_fleet

    target, _, extra = demo_env
    seed_member(target.endpoint_url, "111111111111")
    seed_member(target.endpoint_url, "222222222222", clusters=False)
    root = tmp_path_factory.mktemp("fleet")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = closed.getsockname()[1]
    closed.close()
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    atts = extra["attachments"]
    attach = [f"{k}={','.join(str(p) for p in v)}" for k, v in atts.items()]
    (root / "fleet.yaml").write_text(textwrap.dedent(f"""
        defaults:
          endpoint_url: {target.endpoint_url}
          regions: [us-east-1]
        targets:
          - name: demo
            role_arn: {ROLE.format("123456789012")}
            kubeconfig: {extra["kubeconfig"]}
            attach: {json.dumps(attach)}
          - name: member-one
            role_arn: {ROLE.format("111111111111")}
          - name: member-two
            role_arn: {ROLE.format("222222222222")}
          - name: unreachable
            role_arn: {ROLE.format("333333333333")}
            endpoint_url: http://127.0.0.1:{refused}
          - name: hanging
            role_arn: {ROLE.format("444444444444")}
            endpoint_url: http://127.0.0.1:{silent.getsockname()[1]}
            timeout: 5
    """))
    fleet = tf.load(root / "fleet.yaml", default_params())
    key_file = root / "sign.key"
    sign_key = f"fleet-sign-key-{secrets.token_hex(8)}".encode()
    key_file.write_bytes(sign_key)
    base = {"AWS_ACCESS_KEY_ID": "AKIAFLEETBASE" + secrets.token_hex(4).upper()[:7],
            "AWS_SECRET_ACCESS_KEY": "fleet-base-secret-" + secrets.token_hex(12)}
    payloads: list[bytes] = []
    tasks: list[tuple] = []
    submit = distributed.Client.submit

    def recording_submit(self, fn, *args, **kwargs):
        tasks.append((fn, args, kwargs))
        payloads.append(dask_pickle.dumps((fn, args, kwargs)))
        return submit(self, fn, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        for k, v in base.items():  # the base credentials of the workers (inherited by their processes)
            mp.setenv(k, v)
        mp.setattr(distributed.Client, "submit", recording_submit)
        lines: list[str] = []
        folder, doc = run_fleet(fleet, root / "out", {"notebooks": ["summary"], "sign_key_file": str(key_file)},
                                workers=2, sign_key=sign_key, say=lines.append)
    silent.close()
    return {"folder": folder, "doc": doc, "payloads": payloads, "tasks": tasks, "lines": lines,
            "secrets": [*base.values(), sign_key.decode()], "sign_key": sign_key}


def _summary(run, name: str) -> dict:
    return next(s for s in run["doc"]["targets"] if s["target"] == name)


def test_fleet_audits_each_account_into_its_own_pack(fleet_run):
    folder = fleet_run["folder"]
    assert sorted(p.name for p in (folder / "targets").iterdir()) == ["demo", "member-one", "member-two"]
    for name, account, exit_code in (("demo", "123456789012", 1), ("member-one", "111111111111", 1),
                                     ("member-two", "222222222222", 0)):
        s = _summary(fleet_run, name)
        assert (s["status"], s["account"], s["exit"]) == ("audited", account, exit_code)
        pack = folder / "targets" / name
        assert verify(pack, fleet_run["sign_key"]) == []  # each pack is whole and signed on its worker
        run = json.loads((pack / "run.json").read_text())
        # The session was made on the worker by AssumeRole into the target's account.
        assert run["account"] == account
        assert run["caller"] == f"arn:aws:sts::{account}:assumed-role/Auditor/eksaudit"
        assert {"findings.csv", "findings.json", "findings.ocsf.json", "index.html", "evidence"} <= {
            p.name for p in pack.iterdir()}
    assert _summary(fleet_run, "demo")["clusters"] == ["legacy-batch", "legacy-weak", "prod-hardened"]
    assert _summary(fleet_run, "member-two")["clusters"] == []
    assert fleet_run["doc"]["exit"] == 1  # the demo's high FAILs outrank the two gaps


def test_failing_and_hanging_targets_are_reported_with_their_cause(fleet_run):
    unreachable = _summary(fleet_run, "unreachable")
    assert unreachable["status"] == "failed" and unreachable["pack"] == ""
    assert unreachable["error"].startswith(f"cannot assume role {ROLE.format('333333333333')}: Could not connect "
                                           "to the endpoint URL")
    hanging = _summary(fleet_run, "hanging")
    assert hanging["status"] == "failed"
    assert hanging["error"] == "timed out after 5 s (the target's timeout); stopped"
    leftovers = [p.name for p in (fleet_run["folder"] / "targets").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    lines = fleet_run["lines"]
    assert lines[-1].startswith("fleet: 5/5 done, 0 running, 2 failed")
    assert any(re.match(r"fleet: \d/5 done, \d running, \d failed · FAILED unreachable: cannot assume role", ln)
               for ln in lines)
    assert any(re.match(r"fleet: \d/5 done, [12] running, \d failed · started demo", ln) for ln in lines)


def test_fleet_findings_concatenate_every_target(fleet_run):
    folder = fleet_run["folder"]
    expected = []
    for name in ("demo", "member-one", "member-two"):  # the targets file's order
        rows = json.loads((folder / "targets" / name / "findings.json").read_text())
        expected += [{"target": name, **r} for r in rows]
    assert json.loads((folder / "findings.json").read_text()) == expected
    csv = pd.read_csv(folder / "findings.csv", dtype=str, keep_default_na=False)
    assert list(csv.columns) == report.FLEET_COLUMNS and len(csv) == len(expected)
    events = json.loads((folder / "findings.ocsf.json").read_text())
    assert len(events) == len(expected)
    assert [e["unmapped"]["target"] for e in events] == [r["target"] for r in expected]


def test_roll_up_page(fleet_run):
    folder = fleet_run["folder"]
    html = (folder / "index.html").read_text()
    findings = pd.DataFrame(json.loads((folder / "findings.json").read_text()))
    assert "2 of 5 targets could not be audited" in html
    for name in ("demo", "member-one", "member-two"):
        assert f'<a href="targets/{name}/index.html">{name}</a>' in html
    not_audited = html.split('id="not-audited"', 1)[1]
    assert "unreachable" in not_audited and "Could not connect to the endpoint URL" in not_audited
    assert "timed out after 5 s" in not_audited
    # Accounts x clusters x domains: one row per target and cluster, account-wide rows included.
    matrix = html.split("Accounts × clusters × domains", 1)[1].split("<h2>", 1)[0]
    places = re.findall(r"<tr><td>(\d{12})</td><td>([\w-]+)</td><td>([^<]+)</td>", matrix)
    expected = sorted({(a, t, c or "(account-wide)") for a, t, c in
                       findings[["account_id", "target", "cluster"]].itertuples(index=False)})
    assert sorted(places) == expected
    assert ("111111111111", "member-one", "legacy-weak") in places
    # Worst findings: the most severe first.
    worst = html.split("Worst findings across the fleet", 1)[1].split("<h2>", 1)[0]
    severities = re.findall(r'class="ek-badge"[^>]*>(critical|high|medium|low|info)</span>', worst)
    ranks = [report.SEVERITY_RANK[s] for s in severities]
    assert ranks == sorted(ranks, reverse=True) and severities[0] == "critical"
    # The check failing in the most places heads its table, and NET-07 (a public endpoint on legacy-weak in two
    # accounts) is counted in both.
    fails = findings[findings["status"] == "FAIL"]
    places_per_check = fails.drop_duplicates(["check_id", "target", "account_id", "region", "cluster"]).groupby(
        "check_id").size()
    most = html.split("Checks failing in the most places", 1)[1].split("<h2", 1)[0]
    first = re.search(r"<tr><td[^>]*>([A-Z]+-\d+)</td>", most).group(1)
    assert places_per_check[first] == places_per_check.max()
    net07 = re.search(r"<tr><td[^>]*>NET-07</td>(.*?)</tr>", most).group(1)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", net07)[-3] == "2"  # accounts


def test_fleet_folder_verifies_as_one_pack(fleet_run, tmp_path, capsys):
    folder = fleet_run["folder"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "targets/member-one/evidence/manifest.json" in manifest["files"]
    assert manifest["run"]["fleet_run_id"] == fleet_run["doc"]["fleet_run_id"]
    assert main(["verify", str(folder)]) == 0
    assert "intact" in capsys.readouterr().out
    assert verify(folder, fleet_run["sign_key"]) == []
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "targets" / "member-two" / "findings.json").write_text("[]")
    assert main(["verify", str(copy)]) == 1
    assert "changed: targets/member-two/findings.json" in capsys.readouterr().out


def test_no_secret_travels_in_a_task(fleet_run):
    """The tasks carry the target's spec (names, ARNs, paths) and the options: never the base credentials, an
    assumed role's credentials or the signing key, which stay on the workers."""
    assert len(fleet_run["payloads"]) == 5
    for payload, (fn, args, kwargs) in zip(fleet_run["payloads"], fleet_run["tasks"]):
        for secret in fleet_run["secrets"]:
            assert secret.encode() not in payload
        assert fn.__module__ == "eksaudit.fleet.work" and b"eksaudit.fleet.work" in payload  # by reference
        json.dumps([args, {k: v for k, v in kwargs.items() if k != "key"}])  # plain data, nothing else
        spec = args[0]
        assert not {k.lower() for k in spec} & {"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                                                 "credentials", "sign_key"}
        assert len(payload) < 10_000


def test_cli_submits_to_an_existing_scheduler_and_reports_a_target_it_could_not_audit(tmp_path, capsys,
                                                                                      monkeypatch):
    import logging

    from distributed import LocalCluster

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    targets = tmp_path / "fleet.yaml"
    targets.write_text(f"targets:\n  - name: gone\n    role_arn: {ROLE.format('999999999999')}\n"
                       f"    endpoint_url: http://127.0.0.1:{port}\n")
    out = tmp_path / "out"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # the workers' own credentials
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        code = main(["run", "--targets", str(targets), "--out", str(out), "--scheduler", cluster.scheduler_address])
    assert code == 2  # nothing could be audited
    captured = capsys.readouterr()
    assert "fleet: 0 of 1 targets audited" in captured.out
    assert f"on Dask scheduler {cluster.scheduler_address} (1 worker)" in captured.err
    assert "eksaudit: target gone could not be audited: cannot assume role" in captured.err
    assert json.loads((out / "fleet.json").read_text())["targets"][0]["status"] == "failed"
    assert verify(out) == [] and not (out / "targets" / "gone").exists()


def test_fleet_folder_holds_no_planted_secret(fleet_run):
    """The demo account's planted secrets stay out of the roll-up as they stay out of each pack."""
    from eksaudit.demo.account import PLANTED_SECRETS

    folder = fleet_run["folder"]
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) > 50
    leaks = [(p.relative_to(folder).as_posix(), name) for p in files for name, value in PLANTED_SECRETS.items()
             if value.encode() in p.read_bytes()]
    assert leaks == []


def test_a_matrix_cell_headlines_its_most_telling_status():
    cell = report._counts_cell
    assert cell(pd.Series(["PASS", "NOT_APPLICABLE", "FAIL", "ERROR"])).startswith(
        '<span class="ek-badge" style="background:#b00020')  # FAIL
    assert ">PASS</span> PASS 4" in cell(pd.Series(["PASS"] * 4 + ["NOT_APPLICABLE"]))
    assert ">NOT_APPLICABLE</span>" in cell(pd.Series(["NOT_APPLICABLE"]))
    assert ">ERROR</span> ERROR 1 · PASS 2" in cell(pd.Series(["PASS", "ERROR", "PASS"]))

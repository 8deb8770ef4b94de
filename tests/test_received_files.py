"""Files eksaudit receives (evidence folders, attachments, snapshots) are untrusted: no link is followed, no path
leaves its folder, only regular files are read and only up to a size limit; a changed evidence folder is refused;
writing a pack fails with one line and leaves nothing behind.

Runs here stub the notebooks out (`fast_notebooks`): what is tested is what happens to files, not the pages.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from eksaudit import safe_files
from eksaudit.cli import main
from eksaudit.collect.attachments import collect_attachments
from eksaudit.pack import verify
from eksaudit.progress import is_progress
from eksaudit.testing import ACCOUNT, EvidenceBuilder, pod

SECRET = "aws_secret_access_key = planted-credential-4f1c"
OUTSIDE_MARK = "outside-file-mark-77a1"


def _one_line_error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not is_progress(line)]
    errors = [line for line in err if line.startswith("eksaudit: error: ")]
    assert len(errors) == 1 and len(err) == 1, err
    assert "Traceback" not in errors[0] and len(errors[0]) < 800, errors[0][:1000]
    return errors[0]


def _no_pack(parent: Path, name: str = "pack") -> None:
    assert not (parent / name).exists(), "no pack folder may exist"
    assert not list(parent.glob(f".{name}.partial*")), "no half pack may be left"


@pytest.fixture
def fast_notebooks(monkeypatch):
    """Replace the kernels and papermill by a stub that writes each notebook and page: no kernel starts."""
    import eksaudit.runner as runner

    def fake(kernel, name, pack, parameters, subtitle="", header="", prelude="", timed=None):
        (pack / "notebooks" / f"{name}.ipynb").write_text("{}")
        page = pack / runner.page_name(name)
        page.write_text(f"<p>{name}</p>")
        return page

    class NoKernels:
        def __init__(self, *_args, **_kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *_exc):
            return None

        def share_findings(self, table, pack, tables=None):
            return ""

        def run(self, jobs):
            for job in jobs:
                job(None)

    monkeypatch.setattr(runner, "render_notebook", fake)
    monkeypatch.setattr(runner, "NotebookPool", NoKernels)


def _attachment(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "given" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def build_evidence(tmp_path: Path, sign_key: bytes | None = None, pods: list[dict] | None = None) -> Path:
    """A small evidence folder: one cluster, a few pods, a Docker Bench log attached."""
    b = EvidenceBuilder(tmp_path / "src")
    b.cluster("c1", k8s={"pods": pods if pods is not None else [pod("web")]})
    log = _attachment(tmp_path, "docker-bench.log", "Initializing 2025-01-01T00:00:00+00:00\n"
                                                    "[WARN] 4.1 - Ensure a user for the container has been created\n")
    collect_attachments(b.store, ACCOUNT, {"docker-bench": [log]})
    b.build(sign_key=sign_key) if sign_key else b.build()
    return b.store.root


def _manifest(ev: Path) -> dict:
    return json.loads((ev / "manifest.json").read_text())


def _entry(ev: Path, input_key: str) -> dict:
    return next(e for e in _manifest(ev)["entries"] if e["input"] == input_key and e["status"] == "ok")


def _run(ev: Path, out: Path, *extra: str) -> int:
    return main(["run", "--evidence", str(ev), "--out", str(out), "--fail-on", "critical", *extra])


def _pack_text(pack: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in pack.rglob("*") if p.is_file())


# ---- run --evidence: what is copied --------------------------------------------------------------------------


def test_evidence_copy_holds_only_listed_regular_files(tmp_path, fast_notebooks, capsys):
    """`ln -s ~/.aws/credentials evidence/notes.txt` must not put the credentials in the pack."""
    ev = build_evidence(tmp_path)
    creds = tmp_path / "credentials"
    creds.write_text(SECRET)
    (ev / "notes.txt").symlink_to(creds)
    (ev / "aws" / "linked-dir").symlink_to(tmp_path / "given", target_is_directory=True)
    (ev / "stray.json").write_text("{}")  # a regular file the manifest does not list
    assert _run(ev, tmp_path / "pack") in (0, 1, 3)
    pack = tmp_path / "pack"
    copied = {p.relative_to(pack / "evidence").as_posix() for p in (pack / "evidence").rglob("*") if p.is_file()}
    listed = {e["path"] for e in _manifest(ev)["entries"] if e["status"] == "ok"} | {"manifest.json"}
    assert copied == listed
    assert SECRET not in _pack_text(pack)
    assert not [p for p in pack.rglob("*") if p.is_symlink()]
    assert verify(pack) == []
    err = capsys.readouterr().err
    assert "not in the evidence manifest" in err and "notes.txt" in err


@pytest.mark.parametrize("kind", ["symlink-to-secret", "symlink-to-dev-zero", "fifo", "folder"])
def test_listed_evidence_file_that_is_not_a_regular_file_is_refused(kind, tmp_path, fast_notebooks, capsys):
    ev = build_evidence(tmp_path)
    target = ev / _entry(ev, "aws:eks:DescribeCluster")["path"]
    target.unlink()
    if kind == "symlink-to-secret":
        creds = tmp_path / "credentials"
        creds.write_text(SECRET)
        target.symlink_to(creds)
    elif kind == "symlink-to-dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)  # opening it for reading would block: it must never be opened
    else:
        target.mkdir()
    assert _run(ev, tmp_path / "pack") == 2
    line = _one_line_error(capsys)
    assert "not a regular file" in line and "DescribeCluster" in line
    _no_pack(tmp_path)


def test_unlisted_fifo_and_device_links_are_not_opened(tmp_path, fast_notebooks, capsys):
    ev = build_evidence(tmp_path)
    os.mkfifo(ev / "pipe.json")
    (ev / "zero.json").symlink_to("/dev/zero")
    assert _run(ev, tmp_path / "pack") in (0, 1, 3)
    assert not (tmp_path / "pack" / "evidence" / "pipe.json").exists()
    assert not (tmp_path / "pack" / "evidence" / "zero.json").exists()
    assert "pipe.json" in capsys.readouterr().err


def test_edited_evidence_is_refused(tmp_path, fast_notebooks, capsys):
    """An edited DescribeCluster file would change the findings silently: its hash no longer matches."""
    ev = build_evidence(tmp_path)
    path = ev / _entry(ev, "aws:eks:DescribeCluster")["path"]
    doc = json.loads(path.read_text())
    doc["cluster"]["resourcesVpcConfig"]["endpointPublicAccess"] = True
    path.write_text(json.dumps(doc))
    assert _run(ev, tmp_path / "pack") == 2
    line = _one_line_error(capsys)
    assert "changed" in line and _entry(ev, "aws:eks:DescribeCluster")["path"] in line
    _no_pack(tmp_path)


def test_missing_evidence_file_is_refused(tmp_path, fast_notebooks, capsys):
    ev = build_evidence(tmp_path)
    (ev / _entry(ev, "k8s:pods")["path"]).unlink()
    assert _run(ev, tmp_path / "pack") == 2
    assert "missing: k8s/c1/pods.json" in _one_line_error(capsys)


@pytest.mark.parametrize("path", ["../outside.json", "/etc/hostname", "aws/../../outside.json", ""])
def test_evidence_path_leaving_the_folder_is_refused(path, tmp_path, fast_notebooks, capsys):
    ev = build_evidence(tmp_path)
    (tmp_path / "outside.json").write_text("{}")
    doc = _manifest(ev)
    entry = next(e for e in doc["entries"] if e["input"] == "aws:eks:DescribeCluster")
    entry["path"] = path
    (ev / "manifest.json").write_text(json.dumps(doc))
    assert _run(ev, tmp_path / "pack") == 2
    line = _one_line_error(capsys)
    assert "aws:eks:DescribeCluster" in line and "inside the evidence folder" in line
    _no_pack(tmp_path)


def test_oversized_evidence_file_is_refused(tmp_path, fast_notebooks, capsys, monkeypatch):
    ev = build_evidence(tmp_path, pods=[pod(f"p{i}") for i in range(200)])
    limit = (ev / "k8s" / "c1" / "pods.json").stat().st_size - 1
    assert (ev / "manifest.json").stat().st_size < limit
    monkeypatch.setattr(safe_files, "MAX_FILE_BYTES", limit)
    assert _run(ev, tmp_path / "pack") == 2
    line = _one_line_error(capsys)
    assert "k8s/c1/pods.json" in line and "larger than" in line
    _no_pack(tmp_path)


def _large_cluster(root: Path, monkeypatch, sign_key: bytes | None = None) -> Path:
    """Evidence of a cluster whose pods.json passes the per-file limit for received files (lowered to just below
    its size; the manifest stays under it), as a cluster of some 50,000 pods would at the default limit."""
    b = EvidenceBuilder(root)
    b.cluster("c1", k8s={"pods": [pod(f"p{i}") for i in range(200)]})
    b.build(sign_key=sign_key)
    ev = b.store.root
    limit = (ev / "k8s" / "c1" / "pods.json").stat().st_size - 1
    assert (ev / "manifest.json").stat().st_size < limit
    monkeypatch.setattr(safe_files, "MAX_FILE_BYTES", limit)
    return ev


def test_evidence_a_run_collects_is_read_back_whatever_its_size(tmp_path, fast_notebooks, monkeypatch):
    """The run that wrote an evidence file reads it back bounded by its own manifest, not refused as too large;
    the same folder handed to another run is a received folder again: the per-file limit applies."""
    from eksaudit.evidence import Evidence
    from eksaudit.runner import run_pack

    pack, findings = run_pack(tmp_path / "pack", collect=lambda tmp: _large_cluster(tmp, monkeypatch),
                              fail_on="critical")
    pods = findings[findings["resource_id"].str.contains("/p199", regex=False)]
    assert len(pods) and "ERROR" not in set(pods["status"])
    assert not findings["reason"].str.contains("larger than", regex=False).any()
    with pytest.raises(safe_files.Refused, match="larger than"):
        Evidence(pack / "evidence").check_readable()
    Evidence(pack / "evidence", own=True).check_readable()


def test_signed_evidence_checked_with_its_key_is_bounded_by_its_manifest(tmp_path, fast_notebooks, capsys,
                                                                           monkeypatch):
    """A received folder is refused past the per-file limit, unless its manifest is signed and checked with the key:
    then the sizes the key holder recorded bound the files (a file grown since is still refused)."""
    ev = _large_cluster(tmp_path / "src", monkeypatch, sign_key=b"k1")
    assert _run(ev, tmp_path / "pack") == 2
    assert "larger than" in _one_line_error(capsys)
    _no_pack(tmp_path)
    key = str(_key(tmp_path, "k1"))
    assert _run(ev, tmp_path / "pack", "--sign-key", key) in (0, 1, 3)
    run = json.loads((tmp_path / "pack" / "run.json").read_text())
    assert run["evidence_check"] == "hashes and signature"
    capsys.readouterr()
    with open(ev / "k8s" / "c1" / "pods.json", "ab") as grown:
        grown.write(b" ")
    assert _run(ev, tmp_path / "pack2", "--sign-key", key) == 2
    assert "larger than" in _one_line_error(capsys)


# ---- signed evidence ------------------------------------------------------------------------------------------


def _key(tmp_path: Path, value: str, name: str = "key") -> Path:
    path = tmp_path / name
    path.write_text(value + "\n")
    return path


def test_signed_evidence_is_checked(tmp_path, fast_notebooks, capsys):
    ev = build_evidence(tmp_path, sign_key=b"k1")
    assert "hmac_sha256" in _manifest(ev)
    assert _run(ev, tmp_path / "pack", "--sign-key", str(_key(tmp_path, "k1"))) in (0, 1, 3)
    capsys.readouterr()  # that run's own lines (e.g. the incomplete-audit note)
    run = json.loads((tmp_path / "pack" / "run.json").read_text())
    assert run["evidence_check"] == "hashes and signature"
    assert _run(ev, tmp_path / "pack2", "--sign-key", str(_key(tmp_path, "other", "k2"))) == 2
    assert "signature" in _one_line_error(capsys)
    _no_pack(tmp_path, "pack2")


def test_forged_evidence_with_recomputed_hashes_fails_the_signature(tmp_path, fast_notebooks, capsys):
    """Someone who edits a file and rewrites its sha256 in the manifest cannot forge the HMAC."""
    ev = build_evidence(tmp_path, sign_key=b"k1")
    doc = _manifest(ev)
    entry = next(e for e in doc["entries"] if e["input"] == "aws:eks:DescribeCluster")
    original = (ev / entry["path"]).read_bytes()
    body = original.replace(b'"endpointPublicAccess":false', b'"endpointPublicAccess":true')
    assert body != original
    (ev / entry["path"]).write_bytes(body)
    entry["sha256"], entry["bytes"] = hashlib.sha256(body).hexdigest(), len(body)
    (ev / "manifest.json").write_text(json.dumps(doc))
    assert _run(ev, tmp_path / "pack") in (0, 1, 3)  # without the key only the (recomputed) hashes can be checked
    run = json.loads((tmp_path / "pack" / "run.json").read_text())
    assert run["evidence_check"].startswith("hashes only")
    assert "pass --sign-key FILE to check its signature" in capsys.readouterr().err
    assert _run(ev, tmp_path / "pack2", "--sign-key", str(_key(tmp_path, "k1"))) == 2
    assert "signature" in _one_line_error(capsys)


def test_collect_signs_the_evidence_manifest(tmp_path):
    from eksaudit.evidence import check_evidence_folder

    ev = build_evidence(tmp_path, sign_key=b"k1")
    assert check_evidence_folder(ev, b"k1").signed
    with pytest.raises(safe_files.UserError, match="signature"):
        check_evidence_folder(ev, b"k2")


# ---- --out -------------------------------------------------------------------------------------------------


def test_out_inside_evidence_is_refused(tmp_path, fast_notebooks, capsys):
    ev = build_evidence(tmp_path)
    before = sorted(p.name for p in ev.iterdir())
    assert _run(ev, ev / "pack") == 2
    assert "inside" in _one_line_error(capsys)
    assert sorted(p.name for p in ev.iterdir()) == before


def test_second_run_into_the_same_out_gets_one_line(tmp_path, fast_notebooks, capsys, monkeypatch):
    """Two runs with the same --out: the one that renames second finds the pack there and says so."""
    import eksaudit.runner as runner

    ev = build_evidence(tmp_path)
    out = tmp_path / "pack"
    real = runner.write_manifest

    def other_run_wins(pack, run, sign_key=None):
        out.mkdir()
        (out / "index.html").write_text("the other run's pack")
        return real(pack, run, sign_key)

    monkeypatch.setattr(runner, "write_manifest", other_run_wins)
    assert _run(ev, out) == 2
    assert "already exists" in _one_line_error(capsys)
    assert (out / "index.html").read_text() == "the other run's pack"
    assert not list(tmp_path.glob(".pack.partial*"))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_disk_full_while_writing_gets_one_line_and_no_leftovers(code, tmp_path, fast_notebooks, capsys,
                                                                monkeypatch):
    import eksaudit.exports as exports

    ev = build_evidence(tmp_path)

    def full(*_a, **_k):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(exports, "write_json", full)
    assert _run(ev, tmp_path / "pack") == 2
    assert os.strerror(code) in _one_line_error(capsys)
    _no_pack(tmp_path)


# ---- stale temporary folders -------------------------------------------------------------------------------


def _age(path: Path, days: float) -> None:
    t = time.time() - days * 86400
    os.utime(path, (t, t))


def test_stale_partial_folders_and_kernel_folders_are_cleaned(tmp_path, fast_notebooks, capsys, monkeypatch):
    import tempfile

    from eksaudit import staging

    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    ev = build_evidence(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    dead = reports / ".old.partial-999999-abc123"  # kill -9: no process, no lock, a day old
    (dead / "evidence").mkdir(parents=True)
    (dead / "evidence" / "x.json").write_text("{}")
    fresh = reports / ".new.partial-999998-abc123"  # recent: perhaps a run on another machine
    fresh.mkdir()
    held = reports / ".live.partial-999997-abc123"  # old but its lock is held: a run still going
    held.mkdir()
    lock = staging.hold_lock(held)
    kernels = tmpdir / "eksaudit-kernels-zz9"
    (kernels / "k1").mkdir(parents=True)
    unrelated = reports / ".notes.partial"
    unrelated.mkdir()
    for p in (dead, held, kernels, unrelated):
        _age(p, 2)
    try:
        assert _run(ev, reports / "pack") in (0, 1, 3)
    finally:
        lock.close()
    assert not dead.exists() and not kernels.exists()
    assert fresh.exists() and held.exists() and unrelated.exists()
    err = capsys.readouterr().err
    assert "removed 2 stale temporary folders" in err and ".old.partial-999999-abc123" in err


def test_a_running_pack_holds_its_lock(tmp_path, fast_notebooks, monkeypatch):
    """While a run writes its temporary folder, a sweep by another run must leave it alone."""
    import eksaudit.exports as exports
    from eksaudit import staging

    ev = build_evidence(tmp_path)
    seen = []
    real = exports.write_csv

    def look(findings, path):
        tmp = Path(path).parent
        _age(tmp, 2)
        seen.append(staging.sweep(tmp.parent))
        assert tmp.exists()
        return real(findings, path)

    monkeypatch.setattr(exports, "write_csv", look)
    assert _run(ev, tmp_path / "pack") in (0, 1, 3)
    assert seen == [[]]
    assert not list((tmp_path / "pack").rglob(".lock"))


# ---- attachments ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["absolute", "dotdot", "symlink"])
def test_attachment_entries_are_read_only_inside_the_evidence_folder(where, tmp_path):
    """An attachment entry naming /etc/passwd or ../../x must not bring that file's lines into the findings."""
    from eksaudit.checks import run_checks
    from eksaudit.evidence import Evidence
    from eksaudit.frames import Frames

    ev = build_evidence(tmp_path)
    outside = tmp_path / "outside.log"
    outside.write_text(f"Initializing 2025-01-01T00:00:00+00:00\n[WARN] 9.9 - {OUTSIDE_MARK} root:x:0:0\n")
    doc = _manifest(ev)
    entry = next(e for e in doc["entries"] if e["input"] == "file:docker-bench")
    if where == "absolute":
        entry["path"] = str(outside)
    elif where == "dotdot":
        entry["path"] = "files/docker-bench/../../../../outside.log"
    else:
        (ev / entry["path"]).unlink()
        (ev / entry["path"]).symlink_to(outside)
    (ev / "manifest.json").write_text(json.dumps(doc))
    evidence = Evidence(ev)
    frames = Frames(evidence)
    shown = frames.docker_bench_runs.to_string() + frames.docker_bench_results.to_string()
    findings = run_checks(evidence, ids=["IMG-03"])
    assert OUTSIDE_MARK not in shown + findings.to_string()
    assert "ERROR" in set(findings["status"]) and "PASS" not in set(findings["status"])
    assert findings["reason"].str.contains("file:docker-bench").any()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_attachment_entry_that_is_not_a_regular_file_is_never_opened(kind, tmp_path):
    from eksaudit.checks import run_checks
    from eksaudit.evidence import Evidence

    ev = build_evidence(tmp_path)
    target = ev / _entry(ev, "file:docker-bench")["path"]
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("/dev/zero")
    findings = run_checks(Evidence(ev), ids=["IMG-03"])
    assert "ERROR" in set(findings["status"]) and "PASS" not in set(findings["status"])
    assert findings["reason"].str.contains("not a regular file").any()


@pytest.mark.parametrize("kind", ["symlink", "fifo", "too-large"])
def test_attach_refuses_what_is_not_a_regular_file_within_the_limit(kind, tmp_path, capsys, monkeypatch):
    from eksaudit.collect.attachments import parse_specs
    from eksaudit.collect.store import EvidenceStore
    from eksaudit.errors import UserError

    given = tmp_path / "kube-bench.json"
    if kind == "symlink":
        creds = tmp_path / "credentials"
        creds.write_text(SECRET)
        given.symlink_to(creds)
    elif kind == "fifo":
        os.mkfifo(given)
    else:
        given.write_text("x" * 5000)
        monkeypatch.setattr(safe_files, "MAX_FILE_BYTES", 4096)
    with pytest.raises(UserError) as info:
        parse_specs([f"kube-bench={given}"])
    assert str(given) in str(info.value)
    # Also when the file is swapped after the arguments were checked.
    store = EvidenceStore(tmp_path / "ev")
    with pytest.raises(UserError):
        collect_attachments(store, ACCOUNT, {"kube-bench": [given]})
    assert not store.entries and not list((tmp_path / "ev").rglob("*.json"))


# ---- snapshots ---------------------------------------------------------------------------------------------


def _pods_list(n: int = 1) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": [pod(f"p{i}") for i in range(n)]}


def _snapshot_error(capsys, tmp_path, spec: str, demo_env) -> str:
    target, _, _ = demo_env
    rc = main(["run", "--endpoint-url", target.endpoint_url, "--k8s-snapshot", spec, "--cluster", "prod-hardened",
               "--out", str(tmp_path / "pack")])
    assert rc == 2
    _no_pack(tmp_path)
    return _one_line_error(capsys)


def test_snapshot_folder_links_and_pipes_are_refused(tmp_path, capsys, demo_env):
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "namespaces.json").write_text(json.dumps({"kind": "List", "items": []}))
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(_pods_list()))
    (snap / "pods.json").symlink_to(outside)
    assert "pods.json" in _snapshot_error(capsys, tmp_path, f"prod-hardened={snap}", demo_env)
    (snap / "pods.json").unlink()
    os.mkfifo(snap / "pods.json")
    line = _snapshot_error(capsys, tmp_path, f"prod-hardened={snap}", demo_env)
    assert "pods.json" in line and "not a regular file" in line


def test_deeply_nested_snapshot_is_one_line(tmp_path, capsys, demo_env):
    snap = tmp_path / "pods.json"
    deep = "[" * 10_000 + "]" * 10_000
    snap.write_text('{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": '
                    + deep + "}}]}")
    line = _snapshot_error(capsys, tmp_path, f"prod-hardened={snap}", demo_env)
    assert "snapshot" in line and "nested" in line


def test_snapshot_limits_are_one_line(tmp_path, capsys, demo_env, monkeypatch):
    snap = tmp_path / "pods.json"
    snap.write_text(json.dumps(_pods_list(20)))
    monkeypatch.setattr(safe_files, "MAX_OBJECTS", 10)
    line = _snapshot_error(capsys, tmp_path, f"prod-hardened={snap}", demo_env)
    assert "20 objects" in line and "limit" in line
    monkeypatch.setattr(safe_files, "MAX_OBJECTS", 1000)
    monkeypatch.setattr(safe_files, "MAX_FILE_BYTES", 1024)
    line = _snapshot_error(capsys, tmp_path, f"prod-hardened={snap}", demo_env)
    assert "larger than" in line and "EKSAUDIT_MAX_FILE_MB" in line


# ---- the safe reader itself ---------------------------------------------------------------------------------


def test_safe_reader(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.json").write_text('{"a": 1}')
    (root / "link").symlink_to(root / "sub", target_is_directory=True)
    assert safe_files.read_inside(root, "sub/ok.json") == b'{"a": 1}'
    for bad in ("link/ok.json", "../root/sub/ok.json", "/etc/hostname", "sub/./ok.json", "sub//ok.json", "",
                "sub/ok.json\x00"):
        with pytest.raises(safe_files.Refused):
            safe_files.read_inside(root, bad)
    with pytest.raises(safe_files.Refused, match="nested"):
        safe_files.load_json(b"[" * 5000 + b"]" * 5000, "x")
    with pytest.raises(safe_files.Refused, match="nested"):
        safe_files.load_json(b"[" * 150 + b"]" * 150, "x")
    assert safe_files.load_json(b"[" * 50 + b"]" * 50, "x") == json.loads("[" * 50 + "]" * 50)


def test_depth_limit_is_exact_whether_or_not_the_document_is_walked():
    """Text with at most MAX_DEPTH brackets cannot nest deeper and is not walked; with more, the parsed document
    is walked. Either way the limit is the same, for bytes and for text."""
    limit = safe_files.MAX_DEPTH
    for body in ("[" * limit + "]" * limit, '{"a": ' * limit + "1" + "}" * limit,
                 json.dumps([["[" * 500], {"k": "{" * 500}])):  # brackets inside strings do not nest
        assert safe_files.load_json(body, "x") == json.loads(body)
        assert safe_files.load_json(body.encode(), "x") == json.loads(body)
    deep = "[" * (limit + 1) + "]" * (limit + 1)
    wide_then_deep = "[" + "[]," * 200 + deep + "]"
    for body in (deep, wide_then_deep, '{"a": ' * (limit + 1) + "1" + "}" * (limit + 1)):
        for given in (body, body.encode()):
            with pytest.raises(safe_files.Refused, match="nested"):
                safe_files.load_json(given, "x")
    assert safe_files.load_json(b"null", "x") is None and safe_files.load_json(b"3", "x") == 3


def test_depth_limit_is_exact_on_every_branch():
    """MAX_DEPTH levels of dicts and lists are read, one more is refused: whichever branch goes deep (first or
    last child, under a dict or a list), and the walk does not stop at a shallow sibling."""
    limit = safe_files.MAX_DEPTH

    def chain(levels: int):  # `levels` nested containers, dicts and lists alternating, beside shallow siblings
        node: object = "leaf"
        for i in range(levels):
            if i == 0:  # the innermost: scalars only
                node = ["leaf", 1]
            else:
                node = {"a": [1], "b": node, "c": {}} if i % 2 else [{"x": "y"}, [], node]
        return node

    for levels in (limit, limit + 1):
        for doc in (chain(levels), {"first": [[]], "last": chain(levels - 1)}, [chain(levels - 1), 1]):
            text = json.dumps(doc)
            if levels <= limit:
                assert safe_files.load_json(text, "x") == doc
            else:
                with pytest.raises(safe_files.Refused, match=f"nested more than {limit} levels"):
                    safe_files.load_json(text, "x")


def test_names_are_shown_escaped():
    assert safe_files.shown("a\rb\x1b[2K\u202e.txt") == "a\\rb\\x1b[2K\\u202e.txt"
    assert safe_files.shown("plain/é.json") == "plain/é.json"
    assert safe_files.shown("back\\slash") == "back\\\\slash"


# ---- collect ----------------------------------------------------------------------------------------------


def test_collect_signs_and_writes_evidence_all_at_once(tmp_path, demo_env, capsys):
    """`collect --sign-key` signs evidence/manifest.json; a failed collection leaves no evidence folder."""
    from eksaudit.evidence import check_evidence_folder

    target, _, _ = demo_env
    key = _key(tmp_path, "collector-key")
    out = tmp_path / "out"
    assert main(["collect", "--endpoint-url", target.endpoint_url, "--cluster", "prod-hardened",
                 "--out", str(out), "--sign-key", str(key)]) == 0
    assert check_evidence_folder(out / "evidence", b"collector-key").how == "hashes and signature"
    assert sorted(p.name for p in out.iterdir()) == ["evidence"]
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert main(["collect", "--endpoint-url", target.endpoint_url, "--cluster", "no-such-cluster",
                 "--out", str(bad)]) == 2
    assert "unknown cluster" in _one_line_error(capsys)
    assert not (bad / "evidence").exists() and not list(bad.glob(".evidence.partial*"))


def test_runs_in_one_process_do_not_inherit_papermill_working_directory(tmp_path):
    """papermill keeps one working directory per process for its file reads and writes, set and restored by each
    call; with notebooks in threads a run can leave it on its own temporary folder (gone once renamed), and a
    thread of the next run that finishes first restores that stale value under the feet of the others, whose
    writes then fail. A run starts and ends with papermill's directory cleared and the process's put back."""
    from papermill.iorw import papermill_io

    from eksaudit.runner import run_pack

    ev = build_evidence(tmp_path)
    cwd = os.getcwd()
    papermill_io.get_handler("local").cwd(str(tmp_path / ".gone.partial-1-abcdef"))  # what a race leaves
    pack, _ = run_pack(tmp_path / "pack", evidence_dir=ev, notebooks=["summary"])
    assert (pack / "index.html").is_file()
    assert os.getcwd() == cwd and papermill_io.get_handler("local")._cwd is None

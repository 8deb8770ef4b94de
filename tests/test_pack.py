"""The manifest makes a pack tamper-evident: `verify` passes an intact pack and names every file that changed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from eksaudit.cli import main
from eksaudit.errors import UserError
from eksaudit.pack import MANIFEST, verify, write_manifest


def flip(path: Path, at: int | None = None) -> None:
    """Change one byte (the middle one unless told) by one bit."""
    body = bytearray(path.read_bytes())
    i = len(body) // 2 if at is None else at
    body[i] ^= 0x01
    path.write_bytes(bytes(body))


@pytest.fixture
def small_pack(tmp_path) -> Path:
    pack = tmp_path / "pack"
    (pack / "evidence" / "aws").mkdir(parents=True)
    (pack / "index.html").write_text("<p>summary</p>")
    (pack / "evidence" / "aws" / "r.json").write_text('{"Clusters": ["a"]}')
    (pack / "findings.csv").write_text("run_id,status\nr,PASS\n")
    write_manifest(pack, {"run_id": "r1", "account": "111122223333"})
    return pack


@pytest.fixture
def demo_copy(demo_pack, tmp_path) -> Path:
    """A private copy of the session's demo pack: these tests damage it."""
    pack, _ = demo_pack
    return Path(shutil.copytree(pack, tmp_path / "pack"))


def test_manifest_lists_every_file_with_hash_size_and_run(demo_pack):
    pack, findings = demo_pack
    doc = json.loads((pack / MANIFEST).read_text())
    on_disk = {p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file()} - {MANIFEST}
    assert set(doc["files"]) == on_disk
    assert {"findings.ocsf.json", "evidence/manifest.json", "notebooks/summary.ipynb", "index.html"} <= on_disk
    for name, entry in doc["files"].items():
        assert len(entry["sha256"]) == 64 and entry["bytes"] == (pack / name).stat().st_size
    assert doc["run"]["run_id"] == findings["run_id"].iloc[0]
    assert doc["run"]["account"] and doc["run"]["finished"]


def test_intact_demo_pack_verifies(demo_pack, capsys):
    pack, _ = demo_pack
    assert verify(pack) == []
    assert main(["verify", str(pack)]) == 0
    assert "intact" in capsys.readouterr().out


def _evidence_json(pack: Path) -> str:
    return next(p.relative_to(pack).as_posix() for p in sorted((pack / "evidence" / "aws").rglob("*.json")))


@pytest.mark.parametrize("kind", ["index.html", "iam.html", "evidence json", "evidence/manifest.json",
                                  "findings.csv", "findings.json", "findings.ocsf.json", "notebooks/iam.ipynb",
                                  "run.json"])
def test_one_changed_byte_in_any_file_is_named(demo_copy, kind, capsys):
    name = _evidence_json(demo_copy) if kind == "evidence json" else kind
    flip(demo_copy / name)
    assert verify(demo_copy) == [f"changed: {name}"]
    assert main(["verify", str(demo_copy)]) == 1
    assert f"changed: {name}" in capsys.readouterr().out


def test_changed_manifest_is_named(demo_copy):
    flip(demo_copy / MANIFEST)
    problems = verify(demo_copy)
    # The manifest is named first; a flip inside a listed hash also (rightly) names that file.
    assert problems and problems[0].startswith(f"changed: {MANIFEST}"), problems


def test_every_single_byte_change_of_the_manifest_is_caught(small_pack):
    """Not only the hashes: a flipped byte anywhere in manifest.json (run metadata, spacing) is reported."""
    path = small_pack / MANIFEST
    original = path.read_bytes()
    for i in range(len(original)):
        flip(path, i)
        assert verify(small_pack), f"byte {i} ({original[i:i + 1]!r}) changed unnoticed"
        path.write_bytes(original)
    assert verify(small_pack) == []


def test_added_missing_and_changed_files_are_all_named(small_pack):
    (small_pack / "evidence" / "aws" / "r.json").unlink()
    (small_pack / "extra.html").write_text("<p>planted</p>")
    (small_pack / "evidence" / "k8s").mkdir()
    (small_pack / "evidence" / "k8s" / "pods.json").write_text("{}")
    (small_pack / "findings.csv").write_text("run_id,status\nr,FAIL\n")
    assert verify(small_pack) == ["missing: evidence/aws/r.json", "added: evidence/k8s/pods.json",
                                  "added: extra.html", "changed: findings.csv"]


def test_truncated_or_missing_manifest(small_pack):
    (small_pack / MANIFEST).write_text('{"files": ')
    assert verify(small_pack)[0].startswith(f"changed: {MANIFEST} (unreadable")
    (small_pack / MANIFEST).unlink()
    with pytest.raises(UserError, match="no manifest.json"):
        verify(small_pack)


def test_signed_manifest(tmp_path, small_pack, capsys):
    key, other = tmp_path / "key", tmp_path / "other"
    key.write_text("s3cret-key\n")
    other.write_text("another-key")
    write_manifest(small_pack, {"run_id": "r1"}, sign_key=b"s3cret-key")
    assert main(["verify", str(small_pack), "--sign-key", str(key)]) == 0
    assert "signature checked" in capsys.readouterr().out
    assert main(["verify", str(small_pack), "--sign-key", str(other)]) == 1
    assert "signature" in capsys.readouterr().out
    assert main(["verify", str(small_pack)]) == 0  # hashes alone still check out without the key
    assert "signed" in capsys.readouterr().out


def test_resigned_after_tampering_fails_without_the_key(tmp_path, small_pack):
    """Someone who edits a file and rewrites the manifest cannot forge the HMAC."""
    write_manifest(small_pack, {"run_id": "r1"}, sign_key=b"k1")
    (small_pack / "findings.csv").write_text("run_id,status\nr,PASS\nforged,PASS\n")
    write_manifest(small_pack, {"run_id": "r1"})  # hashes recomputed by the forger, no key
    assert verify(small_pack) == []
    assert verify(small_pack, b"k1") == [f"signature: {MANIFEST} is not signed"]
    write_manifest(small_pack, {"run_id": "r1"}, sign_key=b"guess")
    assert "signature" in verify(small_pack, b"k1")[0]


def test_unsigned_pack_fails_when_a_key_is_given(tmp_path, small_pack):
    key = tmp_path / "key"
    key.write_text("k")
    assert main(["verify", str(small_pack), "--sign-key", str(key)]) == 1


def test_verify_not_a_pack(tmp_path, capsys):
    """A path that is no pack is bad input (exit 2, one line), not a damaged pack (exit 1)."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    for path, message in ((tmp_path / "nope", "not a folder"), (tmp_path / "file", "not a folder"),
                          (tmp_path / "empty", "no manifest.json")):
        assert main(["verify", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("eksaudit: error: ") and message in err[0], err


@pytest.mark.parametrize("kind", ["symlinked-folder", "symlinked-file", "fifo", "device-link", "listed-becomes-link"])
def test_anything_but_a_regular_file_is_a_problem(kind, small_pack, tmp_path, capsys):
    """verify walks the pack without following links and never opens what is not a regular file."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "planted.html").write_text("<p>planted</p>")
    if kind == "symlinked-folder":
        (small_pack / "evidence" / "more").symlink_to(elsewhere, target_is_directory=True)
        name = "evidence/more"
    elif kind == "symlinked-file":
        (small_pack / "extra.html").symlink_to(elsewhere / "planted.html")
        name = "extra.html"
    elif kind == "fifo":
        os.mkfifo(small_pack / "evidence" / "pipe.json")
        name = "evidence/pipe.json"
    elif kind == "device-link":
        (small_pack / "zero.bin").symlink_to("/dev/zero")
        name = "zero.bin"
    else:
        (small_pack / "findings.csv").unlink()
        (small_pack / "findings.csv").symlink_to(elsewhere / "planted.html")
        name = "findings.csv"
    problems = verify(small_pack)
    assert any(p.startswith("not a regular file: " + name) for p in problems), problems
    assert main(["verify", str(small_pack)]) == 1
    assert "not a regular file: " + name in capsys.readouterr().out


def test_manifest_that_is_not_a_regular_file(small_pack, tmp_path):
    (small_pack / MANIFEST).rename(tmp_path / "real.json")
    (small_pack / MANIFEST).symlink_to(tmp_path / "real.json")
    assert verify(small_pack) == [f"not a regular file: {MANIFEST} (symbolic link)"]
    (small_pack / MANIFEST).unlink()
    os.mkfifo(small_pack / MANIFEST)
    assert verify(small_pack) == [f"not a regular file: {MANIFEST} (named pipe)"]


def test_names_are_printed_escaped(small_pack, capsys):
    """A file name with a carriage return or an escape sequence cannot repaint the terminal line."""
    (small_pack / "a\rintact: all good\x1b[2K.html").write_text("x")
    assert main(["verify", str(small_pack)]) == 1
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    assert "added: a\\rintact: all good\\x1b[2K.html" in out


def test_evidence_drill_down_stays_in_the_evidence_folder(demo_pack):
    from eksaudit import notebook as nb

    pack, findings = demo_pack
    ctx = nb.open_domain("iam", run_dir=str(pack))
    ref = next(r for r in ctx.findings["evidence"] if r)
    assert isinstance(nb.evidence_of(ctx, ref), (dict, list))
    with pytest.raises(ValueError, match="outside"):
        nb.evidence_of(ctx, "evidence/../run.json")


def test_pages_escape_names_and_link_only_inside_the_pack():
    import pandas as pd

    from eksaudit import render

    df = pd.DataFrame({"status": ["<b>FAIL</b>"], "severity": ["high"], "resource_id": ['"><script>x()</script>'],
                       "check_id": ["javascript:alert(1)"]})
    html = render.table(df, links={"check_id": lambda r: r["check_id"]})
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;FAIL&lt;/b&gt;" in html
    assert "href" not in html
    assert render.link("iam.html#IAM-07", "x") == '<a href="iam.html#IAM-07">x</a>'
    for bad in ("https://example.invalid/", "//x/iam.html", "iam.html#a\"onmouseover=1", "../iam.html"):
        assert "<a" not in render.link(bad, "x"), bad
    page = render.page("<t>", "<p>body</p>")
    assert "<title>&lt;t&gt;</title>" in page and "default-src 'none'" in page and "script-src" not in page
    # default-src does not cover these two: without them a planted <base> or <form> could still act.
    assert "base-uri 'none'" in page and "form-action 'none'" in page


def test_unreadable_sign_key_is_a_one_line_error(tmp_path, capsys):
    assert main(["verify", str(tmp_path), "--sign-key", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("eksaudit: error: cannot read --sign-key")


def test_sign_key_may_be_a_link_but_must_be_a_file(tmp_path, small_pack, capsys):
    """Key files are often mounted through links (Kubernetes secrets): followed; a pipe or a device is refused."""
    write_manifest(small_pack, {"run_id": "r1"}, sign_key=b"k1")
    (tmp_path / "real-key").write_text("k1\n")
    (tmp_path / "key").symlink_to(tmp_path / "real-key")
    assert main(["verify", str(small_pack), "--sign-key", str(tmp_path / "key")]) == 0
    capsys.readouterr()
    os.mkfifo(tmp_path / "pipe")
    for bad in (tmp_path / "pipe", Path("/dev/zero")):
        assert main(["verify", str(small_pack), "--sign-key", str(bad)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "not a regular file" in err[0], err

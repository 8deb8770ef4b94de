"""What a run says of itself while it works, and the phase timings it keeps."""

from __future__ import annotations

import io
import json

from eksaudit.progress import Progress, is_progress, process_age


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_phase_and_the_timings_are_kept():
    out = io.StringIO()
    p = Progress(out)
    with p.phase("checks"):
        p.update("IAM-01")  # not a terminal: nothing until the phase ends
    p.record("  iam run", 0.5)
    p.record("notebooks", 1.5)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and is_progress(lines[0]) and lines[0].startswith("eksaudit: checks done in ")
    assert [t["phase"] for t in p.timings] == ["checks", "  iam run", "notebooks"]
    table = p.table().splitlines()
    assert table[0].split() == ["phase", "seconds", "share"]
    assert table[2].split() == ["iam", "run", "0.50"] and table[3].split()[:2] == ["notebooks", "1.50"]
    assert table[-1].split()[0] == "total" and 1.5 <= float(table[-1].split()[1]) < 1.6  # not 2.0


def test_a_terminal_gets_one_line_rewritten_in_place_and_quiet_gets_nothing():
    tty = Tty()
    p = Progress(tty)
    with p.phase("collect"):
        p.update("412 reads, last aws:iam:GetRole")
        p.say("eksaudit: a warning")  # on a line of its own, the status line cleared first
    text = tty.getvalue()
    assert "\r\x1b[K" in text and "412 reads" in text and "\neksaudit: a warning\n" in text.replace("\r\x1b[K", "\n")
    assert text.rstrip("\n").endswith("collect done in 0.0 s")
    quiet = io.StringIO()
    q = Progress(quiet, quiet=True)
    with q.phase("checks"):
        q.update("x")
    assert quiet.getvalue() == "" and [t["phase"] for t in q.timings] == ["checks"]


def test_a_failed_phase_prints_no_done_line():
    out = io.StringIO()
    p = Progress(out)
    try:
        with p.phase("checks"):
            raise ValueError("boom")
    except ValueError:
        pass
    assert out.getvalue() == "" and p.timings == []


def test_phase_lines_are_told_apart_from_errors():
    assert is_progress("eksaudit: evidence viewer done in 0.3 s")
    assert not is_progress("eksaudit: error: evidence check done in 0.3 s")
    assert not is_progress("eksaudit: incomplete audit: 2 of 35 checks could not be verified")


def test_process_age_is_small_and_positive():
    age = process_age()
    assert age is None or 0 <= age < 3600


def test_cli_run_records_timings_in_run_json_and_prints_the_table(tmp_path, capsys):
    from eksaudit.cli import main
    from eksaudit.testing import EvidenceBuilder, pod

    b = EvidenceBuilder(tmp_path / "src")
    b.cluster("c1", k8s={"pods": [pod("web")]})
    b.build()
    code = main(["run", "--evidence", str(b.store.root), "--out", str(tmp_path / "pack"), "--timings", "--quiet",
                 "--accept-incomplete"])
    assert code in (0, 1)
    err = capsys.readouterr().err
    assert not [line for line in err.splitlines() if is_progress(line)], "--quiet prints no phase line"
    assert "phase" in err and "notebooks" in err and "  iam run" in err and "  summary html" in err
    run = json.loads((tmp_path / "pack" / "run.json").read_text())
    phases = [t["phase"] for t in run["timings"]]
    assert {"evidence check", "checks", "findings", "notebooks", "evidence viewer", "ocsf"} <= set(phases)
    assert all(t["seconds"] >= 0 for t in run["timings"])

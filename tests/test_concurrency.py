"""Two runs at once into the same reports/ folder: both complete, neither clobbers the other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from eksaudit.pack import verify


def test_two_runs_at_once_into_reports(tmp_path, demo_evidence):
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    cmd = [sys.executable, "-m", "eksaudit.cli", "run", "--evidence", str(demo_evidence), "--fail-on", "critical"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    for p, (_out, err) in zip(procs, results):
        assert p.returncode in (0, 1, 3), err[-2000:]
    reports = tmp_path / "reports"
    packs = sorted(p for p in reports.iterdir())
    assert len(packs) == 2, [p.name for p in packs]
    assert not [p for p in packs if p.name.startswith(".")], "no temporary folder left behind"
    printed = sorted(Path(out.split("pack: ", 1)[1].strip()).parent.name for out, _ in results)
    assert printed == [p.name for p in packs], "each run reports its own pack"
    run_ids = set()
    for pack in packs:
        assert verify(pack) == [], pack
        run = json.loads((pack / "run.json").read_text())
        assert run["run_id"] == pack.name
        run_ids.add(run["run_id"])
        findings = json.loads((pack / "findings.json").read_text())
        assert findings and {f["run_id"] for f in findings} == {pack.name}
        assert (pack / "index.html").is_file()
    assert len(run_ids) == 2

"""Set-up contract: pip and conda environments agree; notebooks are committed clean and parameterised."""

from __future__ import annotations

import json
import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d): d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str)}
    pip_lines = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    for dep in project["dependencies"]:
        assert _name(dep) in conda, f"{dep} missing from environment.yml"
        assert conda[_name(dep)] == dep.replace(" ", ""), f"{dep} differs in environment.yml"
    extras = set(project["optional-dependencies"])
    editable = next(line for line in pip_lines if line.startswith("-e"))
    assert set(re.search(r"\[(.*)\]", editable).group(1).split(",")) == extras
    assert "python>=" + project["requires-python"].removeprefix(">=") in conda.values()


def test_lab_extra_in_environment_yml():
    """The explorer's needs (`make lab`) are the same for conda users: the lab extra is listed as it is."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d): d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str)}
    lab = project["optional-dependencies"]["lab"]
    assert {_name(d) for d in lab} >= {"jupyterlab", "anywidget"}
    assert "itables" in {_name(d) for d in project["dependencies"]}  # the pages' tables and the explorer's grid
    for dep in lab:
        assert conda.get(_name(dep)) == dep.replace(" ", ""), f"{dep} differs in environment.yml"
    assert "ipywidgets>=8" in ",".join(project["dependencies"])


def test_notebooks_clean_and_parameterised():
    books = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert {b.stem for b in books} >= {"iam", "network", "logging", "images", "summary"}
    for book in books:
        nb = json.loads(book.read_text())
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{book.name}: exactly one cell tagged parameters"
        for cell in nb["cells"]:
            assert not cell.get("outputs") and not cell.get("execution_count"), f"{book.name} has outputs"


def test_make_targets_and_ci():
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", make, re.M) and re.search(r"^test:", make, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make demo") < readme.index("make test") < 2000


def test_readme_lists_every_check():
    from eksaudit.checks import load

    readme = (ROOT / "README.md").read_text()
    missing = [cid for cid in load() if f"| {cid} |" not in readme]
    assert not missing, f"README's check table lacks {missing}"

# Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint lab bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,demo]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/eksaudit demo

lint: setup
	$(VENV)/bin/ruff check eksaudit tests benchmarks

test: setup lint
	$(PY) -m pytest -q

lab: setup
	$(PY) -m pip install -q -e '.[lab]'
	$(VENV)/bin/jupyter lab notebooks/

bench: setup
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) reports/*/ reports/.*partial*

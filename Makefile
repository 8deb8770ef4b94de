# Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup system-deps demo test lint lab bench bench-peer bench-scale clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,demo,lab]'
	touch $(STAMP)

setup: $(STAMP)

# Flags for the demo go in ARGS (make reads `make demo --pdf` as an option of its own):
#   make demo ARGS="--pdf --param log_retention_days=400"
ARGS ?=

demo: setup
	$(VENV)/bin/eksaudit demo $(ARGS)

lint: setup
	$(VENV)/bin/ruff check eksaudit tests benchmarks

# The browser and PDF tests need Debian's chromium and poppler's pdftoppm. Installed only when missing and we
# are root (CI is); elsewhere say what to install. Playwright drives the system chromium: never `playwright install`.
system-deps:
	@if [ -x /usr/bin/chromium ] && command -v pdftoppm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium and poppler-utils (browser and PDF tests)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium poppler-utils \
			fonts-dejavu-core >/dev/null; \
	else echo "note: install chromium and poppler-utils for the browser and PDF tests (sudo apt-get install chromium poppler-utils)"; fi

test: setup system-deps lint
	$(PY) -m pytest -q

# JupyterLab 4 with ipywidgets 8 and the explorer's grid (the lab extra, installed by setup: its tests need it).
# Start with notebooks/explore.ipynb: it opens the newest pack in reports/.
# Rewrites docs/explore.png (the README's screenshot) from the explorer's browser test.
screenshots: setup system-deps
	EKSAUDIT_SCREENSHOTS=docs $(PY) -m pytest -q tests/test_explore_browser.py

lab: setup
	$(VENV)/bin/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# Speed goals (results in benchmarks/RESULTS.md): offline 50k pods and the demo pack phase by phase; Prowler on the
# same demo account (installs Prowler into benchmarks/.prowler-venv); synthetic estates at 1x, 10x, 100x.
bench: setup
	$(PY) benchmarks/run.py --skip-demo
	$(PY) benchmarks/pack.py

bench-peer: setup
	benchmarks/peer_prowler.sh

bench-scale: setup
	$(PY) benchmarks/scale.py

clean:
	rm -rf $(VENV) reports/*/ reports/.*partial*

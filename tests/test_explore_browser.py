"""The explorer as an auditor uses it: JupyterLab 4 in Debian's Chromium (driven by Playwright), the start page
notebooks/explore.ipynb run in a live kernel, a filter changed, a finding opened down to its raw evidence.

One Jupyter server on 127.0.0.1 (a free port, a token handed to the browser) serves a copy of the notebook beside
a `reports/` folder holding the demo pack, so the notebook opens it as it would open the newest pack of a checkout.
The test takes a screenshot of the explorer (`make screenshots` writes it to docs/explore.png for the README). Without /usr/bin/chromium it is skipped (failed in CI).
The waits are hang guards, never timing assertions.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from eksaudit.evidence import Evidence
from eksaudit.views import explore as ex
from tests.browsers import BROWSER_ARGS, CHROMIUM, need

ROOT = Path(__file__).resolve().parent.parent
# The README's screenshot is rewritten when EKSAUDIT_SCREENSHOTS=docs (`make screenshots`); otherwise the test
# takes it into its temporary folder, so that `make test` leaves the work tree as it found it.
DOCS_SCREENSHOT = ROOT / "docs" / "explore.png"
WAIT = 180_000  # ms: a hang guard for a kernel start and a first import on a loaded machine
# JupyterLab's own settings for this server: no news prompt over the page.
QUIET = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                            "checkForUpdates": False,
                                                                            "doNotDisturbMode": True}}



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status


@pytest.fixture(scope="module")
def lab(demo_pack, tmp_path_factory):
    """(base URL, token, pack): JupyterLab serving notebooks/explore.ipynb with the demo pack in ../reports."""
    need(os.access(CHROMIUM, os.X_OK), CHROMIUM)
    try:
        import itables.widget  # noqa: F401
        import jupyterlab  # noqa: F401
    except ImportError as exc:
        need(False, f"the lab extra ({exc.name})")
    pack, _ = demo_pack
    work = tmp_path_factory.mktemp("lab")
    (work / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "explore.ipynb", work / "notebooks" / "explore.ipynb")
    shutil.copytree(pack, work / "reports" / pack.name)
    home = work / "jupyter"
    for name, body in QUIET.items():
        (home / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / name).write_text(json.dumps(body))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "IPYTHONDIR": str(home / "ipython")}
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--ServerApp.allow_root=True", "--ServerApp.terminals_enabled=False", "--LabApp.news_url=None",
         "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):  # up to about two minutes for the server to answer
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(work / 'server.log').read_text()[-2000:]}")
            try:
                if _get(f"{base}/api/status?token={token}") == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"jupyter lab did not answer: {(work / 'server.log').read_text()[-2000:]}")
        yield base, token, work / "reports" / pack.name
    finally:
        try:  # the server shuts its kernels down on its way out
            req = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                         headers={"Authorization": f"token {token}"})
            urllib.request.urlopen(req, timeout=10).close()
            server.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            server.kill()
            server.wait(10)
        log.close()


KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle'; }"""


# True once the grid's rows start with the expected (status, check, resource) triples, in order.
TABLE_SHOWS = """want => { const rows = [...document.querySelectorAll('.ek-explorer table.dataTable tbody tr')];
  const got = rows.map(r => [...r.cells].map(c => c.innerText.trim()));
  return got.length === want.length && want.every((w, i) => got[i][0] === w[0] && got[i][2] === w[1]
    && got[i][6] === w[2]); }"""


def _first_page(view) -> list[list[str]]:
    return [[r["status"], r["check_id"], r["resource_id"].strip()] for _, r in view.head(10).iterrows()]


def test_explore_notebook_filters_and_opens_raw_evidence(lab, tmp_path):
    base, token, pack = lab
    from playwright.sync_api import sync_playwright

    src = ex.load_source(pack)
    everything = src.findings
    fails = ex.filter_findings(everything, {"status": ["FAIL"]})
    # A failure about a Kubernetes object whose resource, searched, leaves a page of a few short rows (the
    # screenshot's subject); the first of them is opened.
    k8s = fails[fails["evidence"].str.startswith("evidence/k8s/") & fails["evidence"].str.contains("#")]

    def plain(rid: str) -> tuple:
        v = ex.filter_findings(everything, {"status": ["FAIL"]}, rid)
        return not 3 <= len(v) <= 10, int(v["reason"].str.len().sum()), rid

    target = min(set(k8s["resource_id"]), key=plain)
    narrowed = ex.filter_findings(everything, {"status": ["FAIL"]}, target)
    first = narrowed.iloc[0]
    detail = ex.evidence_detail(Evidence(pack / "evidence"), first["evidence"], first)
    assert detail.matches and detail.located_at  # what the page must show, worked out without it

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            page.set_default_timeout(WAIT)
            page.goto(f"{base}/lab/tree/notebooks/explore.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook")
            page.wait_for_function(KERNEL_IDLE)
            page.evaluate("window.jupyterapp.shell.collapseLeft()")  # the notebook gets the page's width
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            rows = page.locator(".ek-explorer table.dataTable tbody tr")
            rows.first.wait_for()
            counts = page.locator(".ek-counts")
            assert counts.inner_text().startswith(f"{len(everything)} of {len(everything)} findings")
            before = rows.all_inner_texts()
            assert before[0].split("\t")[0] == "FAIL"  # what needs attention comes first

            # A filter: only passes. The counts and the table follow.
            passes = ex.filter_findings(everything, {"status": ["PASS"]})
            page.locator(".ek-filter-status select").select_option(["PASS"])
            page.wait_for_function(TABLE_SHOWS, arg=_first_page(passes))
            page.wait_for_function("n => document.querySelector('.ek-counts').innerText.startsWith(n + ' of')",
                                   arg=str(len(passes)))
            after = rows.all_inner_texts()
            assert after != before and all(r.split("\t")[0] == "PASS" for r in after)

            # Failures, and words in the search box: the first row opens down to its raw evidence.
            page.locator(".ek-filter-status select").select_option(["FAIL"])
            page.wait_for_function(TABLE_SHOWS, arg=_first_page(fails))
            page.locator(".ek-search input").fill(target)
            page.locator(".ek-search input").press("Enter")
            page.wait_for_function(TABLE_SHOWS, arg=_first_page(narrowed))
            page.wait_for_function("n => document.querySelector('.ek-counts').innerText.startsWith(n + ' of')",
                                   arg=str(len(narrowed)))
            rows.first.click()
            page.wait_for_selector(".ek-evidence pre.ek-json")
            panel = page.locator(".ek-evidence").inner_text()
            assert first["evidence"] in panel and "sha256 matches the evidence manifest" in panel
            assert detail.recorded_sha256 in panel and f"showing {detail.located_at}" in panel
            raw = page.locator(".ek-evidence pre.ek-json").inner_text()
            assert json.loads(raw) == detail.focus  # the object the reference names, whole, as collected
            assert first["check_id"] in page.locator(".ek-detail").inner_text()
            assert "Remediation." in page.locator(".ek-detail").inner_text()

            for box in page.locator(".ek-explorer select").all():  # a chosen value shows in its box
                box.evaluate("e => { const o = e.querySelector('option:checked'); e.scrollTop = o ? o.offsetTop - "
                             "e.offsetTop : 0; }")
            explorer = page.locator(".ek-explorer")
            explorer.scroll_into_view_if_needed()
            shot = DOCS_SCREENSHOT if os.environ.get("EKSAUDIT_SCREENSHOTS") == "docs" else tmp_path / "explore.png"
            explorer.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            browser.close()

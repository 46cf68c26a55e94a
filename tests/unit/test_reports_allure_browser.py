"""The offline Allure HTML in headless Chromium: the app renders the results, logs no console error.

``allure-single.html`` opens from disk; the multi-file ``allure/index.html`` fetches its data, so it is
served over HTTP on 127.0.0.1. --virtual-time-budget lets the JavaScript app finish rendering before
Chromium dumps the DOM or takes the screenshot.
"""

import functools
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from browser_support import console_messages, png_size, requires_chromium, run_chromium, visible_text
from svc_conformance.reports import allure_html

pytestmark = [requires_chromium,
              pytest.mark.skipif(shutil.which("npm") is None,
                                 reason="npm not found (Node.js >= 20 builds the Allure HTML)")]

# Titles the suite's plugin gives the two check items (check [family]: statement).
TESTS = ("DNS-03 [ipv4]: A record = the ClusterIP", "REACH-01 [ipv4]: each pod answers as itself")
SAMPLE = """import allure

def test_passes_quietly():
    pass

def test_fails_with_evidence():
    allure.attach("expected A 10.96.0.10", name="evidence", attachment_type=allure.attachment_type.TEXT)
    assert 0
"""
# Labels the items as conformance/conftest.py does, so reports.plugin groups them area > scenario > check.
CONFTEST = """
PROPS = {"test_passes_quietly": ("DNS-03", "DNS", "A record = the ClusterIP"),
         "test_fails_with_evidence": ("REACH-01", "REACH", "each pod answers as itself")}

def pytest_collection_modifyitems(items):
    for item in items:
        check, area, statement = PROPS[item.name]
        item.user_properties += [("check", check), ("scenario", "clusterip-deployment"), ("ip_family", "ipv4"),
                                 ("level", "core"), ("area", area), ("statement", statement)]
"""
AREAS = ("DNS", "REACH")
RENDER = "--virtual-time-budget=5000"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """(multi-file index, single file) generated from one passing and one failing test."""
    root = tmp_path_factory.mktemp("allure")
    (root / "test_sample.py").write_text(SAMPLE)
    (root / "conftest.py").write_text(CONFTEST)
    results = root / "out" / "allure-results"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "svc_conformance.reports.plugin",
                          "--report-dir", str(root / "out"), f"--alluredir={results}", "test_sample.py"],
                         cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout, run.stdout[-2000:]
    assert list(results.glob("*-attachment.txt")), "the failing test's attachment was not recorded"
    return allure_html.generate_allure_html(results, root / "out")


@pytest.fixture
def served_report(report):
    """Base URL of the multi-file report served from 127.0.0.1 on an ephemeral port."""
    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(report[0].parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def assert_rendered_results(run: subprocess.CompletedProcess) -> None:
    assert run.returncode == 0, run.stderr[-2000:]
    text = visible_text(run.stdout)  # rendered elements only: the inlined report data does not count
    # The tree opens on failures: the failing check's whole path is shown, the passing one's area group.
    path = ["REACH", "clusterip-deployment", "REACH-01", TESTS[1]]
    positions = [text.find(part) for part in path]
    assert -1 not in positions and positions == sorted(positions), f"no area > scenario > check path: {text[:2000]}"
    assert all(area in text.split() for area in AREAS), f"the tree lacks an area group: {text[:2000]}"
    assert console_messages(run.stderr) == []


def test_single_file_renders_both_results_without_console_errors(tmp_path, report):
    assert_rendered_results(run_chromium(tmp_path, report[1].as_uri(), RENDER, "--dump-dom"))


def test_single_file_screenshot_is_not_blank(tmp_path, report):
    shot = tmp_path / "allure.png"
    run = run_chromium(tmp_path, report[1].as_uri(), RENDER, f"--screenshot={shot}", "--window-size=1280,1600")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    data = shot.read_bytes()
    # A blank 1280x1600 page is ~9 kB; the rendered report (charts, tree, icons) is several times that.
    assert png_size(data) == (1280, 1600) and len(data) > 25_000, len(data)


def test_served_multi_file_report_renders_both_results_without_console_errors(tmp_path, served_report):
    assert_rendered_results(run_chromium(tmp_path, served_report + "index.html", RENDER, "--dump-dom"))


def test_each_run_appends_once_to_its_history_and_a_previous_history_continues(tmp_path, report):
    out = report[0].parent.parent
    first = (out / allure_html.HISTORY_FILE).read_text().splitlines()
    assert len(first) == 1, first             # the multi-file and single-file reports add this run once
    later = tmp_path / "later"
    allure_html.generate_allure_html(out / "allure-results", later, previous_history=out / allure_html.HISTORY_FILE)
    lines = (later / allure_html.HISTORY_FILE).read_text().splitlines()
    assert len(lines) == 2 and lines[0] == first[0], lines
    with pytest.raises(allure_html.AllureError, match="no Allure history"):
        allure_html.generate_allure_html(out / "allure-results", tmp_path / "x", previous_history=tmp_path / "none")

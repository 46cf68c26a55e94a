"""svc-conformance report (svc_conformance.reports.__main__): summary re-rendering, Allure HTML generation and its offline clean-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from svc_conformance.reports import allure_html
from svc_conformance.reports.__main__ import main
from reports_samples import result, sample_doc

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_summary_command_rerenders_with_a_diff(tmp_path, capsys):
    current, previous = tmp_path / "conformance.json", tmp_path / "old.json"
    current.write_text(json.dumps(sample_doc()))
    previous.write_text(json.dumps(sample_doc(results=[result("DNS-09", "clusterip-deployment", outcome="failed")],
                                              run_id="old")))
    assert main(["summary", "--results", str(current), "--previous", str(previous)]) == 0
    html = (tmp_path / "summary.html").read_text()
    assert html.count('class="cell') == len(sample_doc()["results"]) and "Compared with run old" in html


def test_summary_command_fails_in_one_line_on_a_bad_file(tmp_path, capsys):
    assert main(["summary", "--results", str(tmp_path / "missing.json")]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_allure_command_without_results_fails_in_one_line(tmp_path, capsys):
    assert main(["allure", "--out", str(tmp_path), "--no-install"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reports allure: no Allure results in")


ANALYTICS = ('<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>\n    <script>\n'
             "        window.dataLayer = window.dataLayer || [];\n        function gtag(){dataLayer.push(arguments);}\n"
             "        gtag('js', new Date());\n    </script>")


def test_make_offline_removes_the_analytics_snippet(tmp_path):
    index = tmp_path / "index.html"
    index.write_text(f"<html><body><div id='app'></div>{ANALYTICS}<script>window.x=1</script></body></html>")
    allure_html.make_offline(index)
    html = index.read_text()
    assert "googletagmanager" not in html and "gtag" not in html and "window.x=1" in html


def test_make_offline_refuses_other_remote_assets(tmp_path):
    index = tmp_path / "index.html"
    index.write_text('<html><head><link rel="stylesheet" href="https://cdn.example/x.css"></head></html>')
    with pytest.raises(allure_html.AllureError, match="remote assets"):
        allure_html.make_offline(index)


@pytest.mark.skipif(not allure_html.ALLURE_BIN.exists(),
                    reason="Allure CLI not installed (run `npm ci` in reports/)")
def test_allure_html_is_generated_offline(tmp_path):
    (tmp_path / "test_sample.py").write_text("def test_ok():\n    pass\n\ndef test_bad():\n    assert 0\n")
    results = tmp_path / "out" / "allure-results"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--alluredir={results}",
                    "test_sample.py"], cwd=tmp_path, capture_output=True, env={**os.environ, "PYTHONPATH": ""})
    multi, single = allure_html.generate_allure_html(results, tmp_path / "out", install=False)
    assert multi == tmp_path / "out" / "allure" / "index.html" and single == tmp_path / "out" / "allure-single.html"
    for page in (multi, single):
        html = page.read_text()
        assert "googletagmanager" not in html and not allure_html._REMOTE_ASSET.search(html)
    assert single.stat().st_size > 100_000  # the app and the data are inlined
    assert not list(REPO_ROOT.glob("allure-report*")), "the CLI must not write into the repository"


def test_run_continues_the_allure_history_of_the_previous_results(tmp_path):
    from svc_conformance.__main__ import _previous_history
    old = tmp_path / "old"
    old.mkdir()
    (old / "conformance.json").write_text("{}")
    assert _previous_history(["--previous-results", str(old / "conformance.json")]) == []   # no history there
    (old / "allure-history.jsonl").write_text("{}\n")
    want = ["--history", str(old / "allure-history.jsonl")]
    assert _previous_history(["-k", "x", "--previous-results", str(old / "conformance.json")]) == want
    assert _previous_history([f"--previous-results={old / 'conformance.json'}"]) == want
    assert _previous_history(["-k", "x"]) == []

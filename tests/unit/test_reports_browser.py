"""summary.html in headless Chromium: it renders, shows one cell per result, logs no console error."""

from html.parser import HTMLParser

import pytest

from browser_support import console_messages, png_size, requires_chromium, run_chromium
from svc_conformance.reports.summary_html import render_summary
from reports_samples import sample_doc

pytestmark = requires_chromium


class _Cells(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.outcomes = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "cell" in (attrs.get("class") or "").split():
            self.outcomes.append(attrs.get("data-outcome"))


@pytest.fixture
def summary_page(tmp_path):
    doc = sample_doc()
    page = tmp_path / "summary.html"
    page.write_text(render_summary(doc, sample_doc(run_id="previous")), encoding="utf-8")
    return doc, page


def test_rendered_dom_has_one_cell_per_result_and_no_console_errors(tmp_path, summary_page):
    doc, page = summary_page
    run = run_chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(_Cells(run.stdout).outcomes) == sorted(r["outcome"] for r in doc["results"])
    assert console_messages(run.stderr) == []


def test_screenshot_is_a_png(tmp_path, summary_page):
    _, page = summary_page
    shot = tmp_path / "summary.png"
    run = run_chromium(tmp_path, page.as_uri(), f"--screenshot={shot}", "--window-size=1280,1600")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    data = shot.read_bytes()
    assert png_size(data) == (1280, 1600) and len(data) > 5000


def test_console_error_detection_catches_a_broken_page(tmp_path):
    # Positive control for the check above: a page that throws must be caught.
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('bad');"
                    "throw new Error('boom');</script></body></html>")
    run = run_chromium(tmp_path, page.as_uri(), "--dump-dom")
    messages = console_messages(run.stderr)
    assert any("bad" in m for m in messages) and any("boom" in m for m in messages), run.stderr[-2000:]

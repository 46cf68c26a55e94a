"""Report writing: where Allure's results go, the reports written at session end, their terminal summary.

Outputs, written by the controller (or the only process) into ``--report-dir`` when the run had
at least one check or recorded facts/metrics: ``conformance.json``, ``conformance.yaml``,
``junit.xml``, ``summary.html``. When ``--report-dir`` is given explicitly and ``--alluredir`` is
not, Allure results go to ``<report-dir>/allure-results`` (cleared at the start of the run) for
``svc-conformance report allure``; ``--no-allure-results`` turns that off.
"""

from __future__ import annotations

import shutil

from svc_conformance.reports.recording import _FEATURES, _TOOL, _now, _State
from svc_conformance.reports.writers import load_previous, write_outputs


def default_allure_dir(config, state: _State) -> None:
    """``--alluredir`` defaults to ``<report-dir>/allure-results`` when ``--report-dir`` was given."""
    wants_allure = config.getoption("report_dir") and not config.getoption("no_allure_results")
    if wants_allure and hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        allure_dir = state.report_dir / "allure-results"
        if not state.is_worker:  # clear stale results once, before workers start
            shutil.rmtree(allure_dir, ignore_errors=True)
        config.option.allure_report_dir = str(allure_dir)


def write_reports(config, state: _State) -> bool:
    """The document of what was recorded, written as every output; False when nothing was recorded."""
    if not state.recorder.has_content():
        return False
    state.document = state.recorder.document(_now(), config.stash.get(_FEATURES, {}), config.stash.get(_TOOL, {}))
    previous = load_previous(config.getoption("previous_results"))
    state.written = write_outputs(state.document, state.report_dir, previous)
    return True


def summarise(state: _State, terminalreporter) -> bool:
    """The results' counts and where the reports went; False when none were written."""
    if not state.written:
        return False
    counts = state.document["summary"]
    terminalreporter.write_sep("-", "conformance reports")
    terminalreporter.write_line(
        f"{counts['total']} results: passed={counts['passed']} failed={counts['failed']} "
        f"skipped={counts['skipped']} not-supported={counts['not-supported']} blocked={counts['blocked']}"
        f" -> {state.report_dir}")
    return True

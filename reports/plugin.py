"""pytest plugin: one conformance result per check item, written as reports at session end.

Public API (docs/DESIGN.md):

- ``attach_evidence(node, name, content)``: evidence for the running check (str or JSON-able).
- ``record_cluster_facts(config, facts)``: server version, DNS implementation, proxy mode, families.
- ``record_metric(node, name, value, **labels)``: a measurement, e.g. ``dns_convergence_s``.
- ``get_run_id(config)``: the run id written into conformance.json; the same on every xdist worker.
- ``report_dir(config)``: the report directory (logs bundles go below it).
- ``declare_supported_features(config, {name: check IDs})``: the extended features the user declared
  supported (fixtures/options.py, from ``--supported-feature`` / ``--all-features``).
- ``declare_tool(config, {name, version, catalogue})``: what produced the report (fixtures/cluster.py).

The hooks here stay thin; what they do lives beside them:

- ``reports.recording``: the run's state, the public API above (re-exported here), what each item records
  (results under pytest-xdist included);
- ``reports.writing``: the reports written at session end (and the default Allure results directory);
- ``reports.exit_status``: the verdict's exit status in place of pytest's.
"""

from __future__ import annotations

import pytest

from svc_conformance.reports import exit_status, recording, writing
# The public API, where the suite and its users import it from (docs/DESIGN.md).
from svc_conformance.reports.exit_status import suite_exit_status
from svc_conformance.reports.recording import (DEFAULT_REPORT_DIR, RUN_ID_ENV, _State, attach_evidence,
                                               declare_supported_features, declare_tool, get_run_id,
                                               record_cluster_facts, record_metric, report_dir)

__all__ = ["DEFAULT_REPORT_DIR", "RUN_ID_ENV", "attach_evidence", "declare_supported_features", "declare_tool",
           "get_run_id", "record_cluster_facts", "record_metric", "report_dir", "suite_exit_status"]


# ---------------------------------------------------------------- options and setup

def pytest_addoption(parser):
    group = parser.getgroup("conformance reports")
    group.addoption("--report-dir", default=None, metavar="DIR",
                    help=f"where conformance.json/.yaml, junit.xml, summary.html go (default {DEFAULT_REPORT_DIR})")
    group.addoption("--previous-results", default=None, metavar="PATH",
                    help="a previous conformance.json; summary.html then lists newly failed, fixed, flipped")
    group.addoption("--no-allure-results", action="store_true", default=False,
                    help="do not default --alluredir to <report-dir>/allure-results")


@pytest.hookimpl(tryfirst=True)  # before allure-pytest reads --alluredir
def pytest_configure(config):
    state = recording.start_run(config)
    writing.default_allure_dir(config, state)
    config.pluginmanager.register(_RunHooks(config), "svc-reports-run-hooks")


def pytest_unconfigure(config):
    hooks = config.pluginmanager.get_plugin("svc-reports-run-hooks")
    if hooks is not None:
        config.pluginmanager.unregister(hooks)


# ---------------------------------------------------------------- per test

class _RunHooks:
    """Hooks bound to one config (so nested pytester runs do not share state)."""

    def __init__(self, config):
        self.config = config

    @property
    def state(self) -> _State:
        return recording._state(self.config)

    @pytest.hookimpl(trylast=True)      # after the suite's conftest labelled the items
    def pytest_collection_modifyitems(self, items):
        recording.mark_suites(self.config, items)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        recording.track_phase(self.config, item, "setup")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        recording.track_phase(self.config, item, "call")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item):
        recording.track_phase(self.config, item, "teardown")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        recording.item_report(self.config, item, report)
        return report

    def pytest_runtest_logreport(self, report):
        # On the controller for every worker report; in the only process without xdist.
        recording.receive_report(self.config, report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        recording.send_run_id(self.config, node)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        recording.worker_down(self.config, node)

    def pytest_collection_finish(self, session):
        recording.record_collection(self.config, session)

    @pytest.hookimpl(trylast=True)  # after session fixtures were torn down (they may record facts)
    def pytest_sessionfinish(self, session):
        state = self.state
        if state.is_worker:
            recording.send_outbox(self.config)
            return
        if writing.write_reports(self.config, state):
            exit_status.apply_verdict(session, state)

    def pytest_terminal_summary(self, terminalreporter):
        if writing.summarise(self.state, terminalreporter):
            exit_status.summarise(self.config, self.state, terminalreporter)

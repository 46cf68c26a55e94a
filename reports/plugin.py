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

Results: every item whose ``user_properties`` has a ``check`` becomes one result (see
``reports.outcomes`` for the outcome rules). Under pytest-xdist the controller records them from
the reports the workers send; facts and metrics travel as described in ``reports.transport``.

Outputs, written by the controller (or the only process) into ``--report-dir`` when the run had
at least one check or recorded facts/metrics: ``conformance.json``, ``conformance.yaml``,
``junit.xml``, ``summary.html``. When ``--report-dir`` is given explicitly and ``--alluredir`` is
not, Allure results go to ``<report-dir>/allure-results`` (cleared at the start of the run) for
``svc-conformance report allure``; ``--no-allure-results`` turns that off.

Exit status: for a run of the conformance suite (at least one item with a ``check`` user property)
the controller replaces pytest's 0/1 by the verdict's (``suite_exit_status``): 0 conformant,
1 non-conformant, 8 incomplete. Any other status pytest or the suite set (2 interrupted, 3 internal
error, 4 usage error, 10-15 bad input) is kept, and a run without check items keeps pytest's status.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from svc_conformance.reports import transport
from svc_conformance.reports.allure_labels import allure_active, label_item, suite_marks
from svc_conformance.reports.document import EXIT_CONFORMANT, VERDICT_EXIT_STATUS, supported_checks, verdict_reasons
from svc_conformance.reports.outcomes import BLOCKED_PREFIX, EVIDENCE_KEY_PREFIX, skip_reason
from svc_conformance.reports.recorder import RunRecorder
from svc_conformance.reports.writers import load_previous, write_outputs

DEFAULT_REPORT_DIR = "reports/out"
RUN_ID_ENV = "SVC_CONFORMANCE_RUN_ID"


@dataclass
class _State:
    report_dir: Path
    run_id: str
    is_worker: bool
    recorder: RunRecorder | None  # controller / single process only
    outbox: list[dict] = field(default_factory=list)  # worker only
    current_item: pytest.Item | None = None
    phase: str = "setup"
    written: list[Path] = field(default_factory=list)
    document: dict | None = None
    pytest_status: int | None = None  # pytest's own status, when a verdict was computed
    session: pytest.Session | None = None


_STATE = pytest.StashKey[_State]()
_FEATURES = pytest.StashKey[dict]()
_TOOL = pytest.StashKey[dict]()
_BLOCKED = pytest.StashKey[bool]()  # on an item: its setup or call was blocked by the environment
# pytest's own statuses the verdict may replace; anything else (2 interrupted, 3 internal error,
# 4 usage error, 5 no tests, 10-15 bad input) is kept.
_REPLACEABLE = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _new_run_id() -> str:
    # Lower-case letters, digits and '-' only, so it can be part of a namespace name.
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def _state(config) -> _State:
    try:
        return config.stash[_STATE]
    except KeyError:
        raise RuntimeError("reports.plugin is not active: list it in pytest_plugins") from None


def _deliver(config, message: dict) -> None:
    state = _state(config)
    if state.is_worker:
        state.outbox.append(message)
    else:
        state.recorder.receive(message)


def _item_for(node) -> pytest.Item | None:
    """The item a record belongs to: the node itself, or the item whose setup is running now."""
    if isinstance(node, pytest.Item):
        return node
    return _state(node.config).current_item


# ---------------------------------------------------------------- public API

def get_run_id(config) -> str:
    return _state(config).run_id


def report_dir(config) -> Path:
    """Where this run's reports go (the same directory on every xdist worker)."""
    return _state(config).report_dir


def declare_supported_features(config, features: dict) -> None:
    """The extended features the user declares supported: {feature name: check IDs}. Their failures
    then make the run non-conformant; they are listed as ``supported_features`` in conformance.json."""
    config.stash[_FEATURES] = {str(name): [str(c) for c in ids] for name, ids in features.items()}


def declare_tool(config, tool: dict) -> None:
    """What produces the report (name, version, catalogue digest): the ``tool`` of conformance.json."""
    config.stash[_TOOL] = json.loads(json.dumps(tool, default=str))


def suite_exit_status(pytest_status: int, verdict: str, other_failures: int = 0) -> int:
    """The exit status of a conformance run: the verdict's (0, 1, 8) in place of pytest's 0/1.

    pytest's other statuses and the suite's bad-input statuses (>= 10) win; a failed item that is
    no check keeps a conformant run from exiting 0."""
    if pytest_status not in _REPLACEABLE:
        return int(pytest_status)
    status = VERDICT_EXIT_STATUS[verdict]
    if status == EXIT_CONFORMANT and other_failures:
        return int(pytest_status)
    return status


def attach_evidence(node, name: str, content) -> None:
    """Store evidence as report section ``evidence: <name>`` of the item, and attach it to Allure.

    ``node`` is the test item (``request.node``); for a module/session node the item whose setup is
    running gets it. Outside any item the evidence goes to Allure only.
    """
    text = content if isinstance(content, str) else json.dumps(content, indent=2, sort_keys=True, default=str)
    item = _item_for(node)
    if item is not None:
        state = _state(item.config)
        when = state.phase if state.current_item is item else "call"
        item.add_report_section(when, EVIDENCE_KEY_PREFIX + name, text)
    if allure_active(node.config):
        import allure

        kind = allure.attachment_type.TEXT if isinstance(content, str) else allure.attachment_type.JSON
        allure.attach(text, name=name, attachment_type=kind)


def record_cluster_facts(config, facts: dict) -> None:
    """Facts about the cluster under test; later calls merge into earlier ones."""
    _deliver(config, {"kind": "facts", "facts": json.loads(json.dumps(facts, default=str))})


def record_metric(node, name: str, value: float, **labels) -> None:
    """A measurement; scenario / ip_family / check default to the item's user_properties."""
    item = _item_for(node)
    props = dict(item.user_properties) if item is not None else {}
    message = {
        "kind": "metric",
        "name": name,
        "scenario": props.get("scenario", "-"),
        "ip_family": props.get("ip_family", "-"),
        "check": props.get("check"),
        "nodeid": item.nodeid if item is not None else None,
        "value": float(value),
    }
    message.update(labels)
    _deliver(node.config, message)


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
    explicit_dir = config.getoption("report_dir")
    report_dir = Path(config.invocation_params.dir, explicit_dir or DEFAULT_REPORT_DIR).resolve()
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run_id = workerinput.get(transport.RUN_ID_KEY) or os.environ.get(RUN_ID_ENV) or _new_run_id()
        recorder = None
    else:
        run_id = os.environ.get(RUN_ID_ENV) or _new_run_id()
        recorder = RunRecorder(run_id, _now())
    config.stash[_STATE] = _State(report_dir, run_id, workerinput is not None, recorder)

    wants_allure = explicit_dir and not config.getoption("no_allure_results")
    if wants_allure and hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        allure_dir = report_dir / "allure-results"
        if workerinput is None:  # clear stale results once, before workers start
            shutil.rmtree(allure_dir, ignore_errors=True)
        config.option.allure_report_dir = str(allure_dir)
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
        return _state(self.config)

    def _track_phase(self, item, phase: str) -> None:
        self.state.current_item, self.state.phase = item, phase

    @pytest.hookimpl(trylast=True)      # after the suite's conftest labelled the items
    def pytest_collection_modifyitems(self, items):
        if allure_active(self.config):
            for item in items:
                for mark in suite_marks(dict(item.user_properties)):
                    item.add_marker(mark)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        self._track_phase(item, "setup")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        self._track_phase(item, "call")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item):
        self._track_phase(item, "teardown")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if report.skipped and skip_reason(report.longrepr).startswith(BLOCKED_PREFIX):
            item.stash[_BLOCKED] = True
        if report.when == "teardown":
            # Labels last: fixtures and the test body may have added user_properties until now.
            if allure_active(self.config):
                label_item(dict(item.user_properties), blocked=item.stash.get(_BLOCKED, False))
            self.state.current_item = None
        if self.state.is_worker:
            transport.attach_to_report(report, self.state.outbox)
        return report

    def pytest_runtest_logreport(self, report):
        # On the controller for every worker report; in the only process without xdist.
        recorder = self.state.recorder
        if recorder is None:
            return
        for message in transport.messages_in_report(report):
            recorder.receive(message)
        result = recorder.add_report(report)
        line = recorder.progress_line(result) if result.is_check else None
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if line and reporter is not None and self.config.get_verbosity() >= -1:
            dots_pending = getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0)
            if dots_pending and not reporter.currentfspath:  # xdist and -q progress dots
                reporter.write("\n")
            reporter.write_line(line)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        node.workerinput[transport.RUN_ID_KEY] = self.state.run_id

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        payload = getattr(node, "workeroutput", {}).get(transport.WORKEROUTPUT_KEY)
        if payload and self.state.recorder is not None:
            for message in transport.decode(payload):
                self.state.recorder.receive(message)

    def pytest_collection_finish(self, session):
        # Per-scenario totals for the progress lines; needs user_properties set at collection time.
        # Every check item, so that one that never runs (-x, a stopped run) still gets a result.
        scenarios: dict[str, list[str]] = {}
        checks: dict[str, dict] = {}
        for item in session.items:
            props = dict(item.user_properties)
            if props.get("check"):
                checks[item.nodeid] = {str(k): str(v) for k, v in props.items()}
                if props.get("scenario"):
                    scenarios.setdefault(str(props["scenario"]), []).append(item.nodeid)
        if checks:
            _deliver(self.config, {"kind": "collection", "scenarios": scenarios, "checks": checks})

    @pytest.hookimpl(trylast=True)  # after session fixtures were torn down (they may record facts)
    def pytest_sessionfinish(self, session):
        state = self.state
        if state.is_worker:
            if state.outbox:
                self.config.workeroutput[transport.WORKEROUTPUT_KEY] = transport.encode(state.outbox)
                state.outbox.clear()
            return
        if not state.recorder.has_content():
            return
        state.document = state.recorder.document(_now(), self.config.stash.get(_FEATURES, {}),
                                                 self.config.stash.get(_TOOL, {}))
        previous = load_previous(self.config.getoption("previous_results"))
        state.written = write_outputs(state.document, state.report_dir, previous)
        if state.document["results"]:  # a run of the conformance suite: the verdict is the exit status
            state.session, state.pytest_status = session, int(session.exitstatus)
            session.exitstatus = suite_exit_status(state.pytest_status, state.document["verdict"],
                                                   state.recorder.other_failures())

    def pytest_terminal_summary(self, terminalreporter):
        state = self.state
        if not state.written:
            return
        doc = state.document
        counts = doc["summary"]
        terminalreporter.write_sep("-", "conformance reports")
        terminalreporter.write_line(
            f"{counts['total']} results: passed={counts['passed']} failed={counts['failed']} "
            f"skipped={counts['skipped']} not-supported={counts['not-supported']} blocked={counts['blocked']}"
            f" -> {state.report_dir}")
        if state.session is None:
            return
        features = ", ".join(doc["supported_features"]) or "none"
        # Read now: a later sessionfinish hook (a bad-input exit file) may have set another status.
        verdict, after = doc["verdict"], int(state.session.exitstatus)
        colour = {"conformant": {"green": True}, "non-conformant": {"red": True}}.get(verdict, {"yellow": True})
        if after == VERDICT_EXIT_STATUS[verdict]:
            status = f"exit {after}"
        else:
            status = f"exit {after}, not the verdict's (pytest's status was {state.pytest_status})"
        terminalreporter.write_line(f"verdict: {verdict}, {status}; declared features: {features}", bold=True,
                                    **colour)
        for line in verdict_reasons(doc["results"], supported_checks(self.config.stash.get(_FEATURES, {}))):
            terminalreporter.write_line(f"  {line}")

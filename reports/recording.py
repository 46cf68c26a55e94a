"""Recording results: the run's state on each process, the public API the suite calls (re-exported by
``reports.plugin``, listed there), and what the plugin's hooks record per item.

Results: every item whose ``user_properties`` has a ``check`` becomes one result (see
``reports.outcomes`` for the outcome rules). Under pytest-xdist the controller records them from
the reports the workers send; facts and metrics travel as described in ``reports.transport``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from svc_conformance.reports import transport
from svc_conformance.reports.allure_labels import allure_active, label_item, suite_marks
from svc_conformance.reports.outcomes import BLOCKED_PREFIX, EVIDENCE_KEY_PREFIX, skip_reason
from svc_conformance.reports.recorder import RunRecorder

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


# ---------------------------------------------------------------- what the hooks record

def start_run(config) -> _State:
    """This process's state: the report directory, the run id (the controller's, on a worker) and, on
    the controller or the only process, the recorder."""
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
    return config.stash[_STATE]


def mark_suites(config, items) -> None:
    """Allure's suite marks, from the user_properties the suite's conftest gave the items."""
    if allure_active(config):
        for item in items:
            for mark in suite_marks(dict(item.user_properties)):
                item.add_marker(mark)


def track_phase(config, item, phase: str) -> None:
    state = _state(config)
    state.current_item, state.phase = item, phase


def item_report(config, item, report) -> None:
    """One of the item's setup/call/teardown reports: blocked or not, Allure labels after teardown, and
    on a worker the facts and metrics recorded meanwhile, carried on the report."""
    state = _state(config)
    if report.skipped and skip_reason(report.longrepr).startswith(BLOCKED_PREFIX):
        item.stash[_BLOCKED] = True
    if report.when == "teardown":
        # Labels last: fixtures and the test body may have added user_properties until now.
        if allure_active(config):
            label_item(dict(item.user_properties), blocked=item.stash.get(_BLOCKED, False))
        state.current_item = None
    if state.is_worker:
        transport.attach_to_report(report, state.outbox)


def receive_report(config, report) -> None:
    """A report on the controller (from a worker) or in the only process: recorded, and the scenario's
    progress line written when it completes a check."""
    recorder = _state(config).recorder
    if recorder is None:
        return
    for message in transport.messages_in_report(report):
        recorder.receive(message)
    result = recorder.add_report(report)
    line = recorder.progress_line(result) if result.is_check else None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if line and reporter is not None and config.get_verbosity() >= -1:
        dots_pending = getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0)
        if dots_pending and not reporter.currentfspath:  # xdist and -q progress dots
            reporter.write("\n")
        reporter.write_line(line)


def send_run_id(config, node) -> None:
    node.workerinput[transport.RUN_ID_KEY] = _state(config).run_id


def worker_down(config, node) -> None:
    """What a worker recorded after its last report (its session fixtures' teardown)."""
    state = _state(config)
    payload = getattr(node, "workeroutput", {}).get(transport.WORKEROUTPUT_KEY)
    if payload and state.recorder is not None:
        for message in transport.decode(payload):
            state.recorder.receive(message)


def record_collection(config, session) -> None:
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
        _deliver(config, {"kind": "collection", "scenarios": scenarios, "checks": checks})


def send_outbox(config) -> None:
    """On a worker at session end: what is still in the outbox goes to the controller (workeroutput)."""
    state = _state(config)
    if state.outbox:
        config.workeroutput[transport.WORKEROUTPUT_KEY] = transport.encode(state.outbox)
        state.outbox.clear()

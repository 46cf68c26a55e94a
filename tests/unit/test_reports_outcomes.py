"""Folding phase reports into one result: the cases a small pytest session cannot easily produce."""

from types import SimpleNamespace

from svc_conformance.reports.outcomes import ItemResult, failure_summary, skip_reason
from svc_conformance.reports.transport import PAYLOAD_KEY, attach_to_report, messages_in_report


def _report(when, outcome, longrepr=None, props=(("check", "DNS-03"),), sections=(), duration=0.1):
    return SimpleNamespace(when=when, passed=outcome == "passed", failed=outcome == "failed",
                           skipped=outcome == "skipped", longrepr=longrepr, longreprtext=str(longrepr or ""),
                           user_properties=list(props), sections=list(sections), duration=duration,
                           nodeid="t.py::test")


def test_skip_reason_from_tuple_or_xdist_list():
    assert skip_reason(("t.py", 3, "Skipped: not supported: x")) == "not supported: x"
    assert skip_reason(["t.py", 3, "Skipped: blocked by environment: y"]) == "blocked by environment: y"


def test_failure_summary_without_crash_entry_uses_the_last_line():
    report = _report("call", "failed", longrepr="Traceback...\n  line\nE   ValueError: bad answer\n")
    assert failure_summary(report) == "E   ValueError: bad answer"


def test_crashed_worker_item_is_failed():
    item = ItemResult("t.py::test")
    item.add_phase(_report("setup", "passed"))
    item.add_phase(_report("???", "failed", longrepr="worker 'gw0' crashed while running 't.py::test'"))
    assert item.finished and item.to_dict()["outcome"] == "failed"
    assert item.to_dict()["reason"] == "crashed: worker 'gw0' crashed while running 't.py::test'"


def test_properties_merge_across_phases_and_evidence_is_kept_once():
    section = ("Captured evidence: observed call", "A 10.0.0.1")
    item = ItemResult("t.py::test")
    item.add_phase(_report("setup", "passed", props=()))
    item.add_phase(_report("call", "passed", props=(("check", "DNS-09"), ("scenario", "s")), sections=[section]))
    item.add_phase(_report("teardown", "passed", props=(("check", "DNS-09"), ("scenario", "s")),
                           sections=[section, ("Captured stdout teardown", "noise")]))
    result = item.to_dict()
    assert (result["check"], result["scenario"], result["area"], result["level"]) == ("DNS-09", "s", "DNS", "unknown")
    assert result["evidence"] == [{"name": "observed", "content": "A 10.0.0.1"}]
    assert result["duration_s"] == 0.3


def test_transport_entries_are_not_result_properties():
    report = _report("call", "passed")
    outbox = [{"kind": "metric", "name": "m", "value": 1.0}]
    attach_to_report(report, outbox)
    assert outbox == [] and report.user_properties[-1][0] == PAYLOAD_KEY
    assert messages_in_report(report) == [{"kind": "metric", "name": "m", "value": 1.0}]
    item = ItemResult("t.py::test")
    item.add_phase(report)
    assert set(item.props) == {"check"}


def test_interrupted_item_without_outcome_reports_failed_with_reason():
    item = ItemResult("t.py::test")
    item.add_phase(_report("setup", "passed"))
    assert item.to_dict()["outcome"] == "failed"
    assert "interrupted" in item.to_dict()["reason"]

"""The exit status of a conformance run, and the terminal's line saying it.

For a run of the conformance suite (at least one item with a ``check`` user property) the
controller replaces pytest's 0/1 by the verdict's (``suite_exit_status``): 0 conformant,
1 non-conformant, 8 incomplete. Any other status pytest or the suite set (2 interrupted, 3 internal
error, 4 usage error, 10-15 bad input) is kept, and a run without check items keeps pytest's status.
"""

from __future__ import annotations

import pytest

from svc_conformance.reports.document import EXIT_CONFORMANT, VERDICT_EXIT_STATUS, supported_checks, verdict_reasons
from svc_conformance.reports.recording import _FEATURES, _State

# pytest's own statuses the verdict may replace; anything else (2 interrupted, 3 internal error,
# 4 usage error, 5 no tests, 10-15 bad input) is kept.
_REPLACEABLE = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


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


def apply_verdict(session, state: _State) -> None:
    """A run of the conformance suite (its document has results): the verdict is the exit status."""
    if state.document["results"]:
        state.session, state.pytest_status = session, int(session.exitstatus)
        session.exitstatus = suite_exit_status(state.pytest_status, state.document["verdict"],
                                               state.recorder.other_failures())


def summarise(config, state: _State, terminalreporter) -> None:
    """The verdict, the exit status (and pytest's, when another hook changed it), the verdict's reasons."""
    if state.session is None:
        return
    doc = state.document
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
    for line in verdict_reasons(doc["results"], supported_checks(config.stash.get(_FEATURES, {}))):
        terminalreporter.write_line(f"  {line}")

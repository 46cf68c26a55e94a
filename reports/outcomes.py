"""Fold the setup/call/teardown reports of one test item into one conformance result.

Outcome rules (docs/DESIGN.md):
- setup failed            -> ``failed``, reason ``setup error: <one line>`` (the check could not run)
- call passed             -> ``passed`` (an xpass too)
- call failed             -> ``failed``, reason = the one-line failure message
- skip (setup or call)    -> ``not-supported`` when the reason starts with ``not supported:``,
                             ``blocked`` when it starts with ``blocked by environment:``, else ``skipped``
- xfail                   -> ``failed`` with reason ``xfail: ...`` (an expected failure is still a failure)
- teardown failed         -> outcome unchanged; the error is kept as evidence ``teardown error``
- worker crash (xdist)    -> ``failed`` with reason ``crashed: ...``
- no outcome (interrupted)-> ``failed`` with reason ``no outcome recorded (interrupted?)``
- collected, never run    -> ``skipped`` with reason ``not run: ...`` (the session stopped first)
- could not observe       -> ``failed`` with reason ``could not run: ...`` (API errors past a deadline)

A setup error, a crash, a missing outcome and "could not run" are *errored* results (``is_errored``): the check could
not run, so for the verdict they make a run incomplete, not non-conformant (reports.document).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NOT_SUPPORTED_PREFIX = "not supported:"
BLOCKED_PREFIX = "blocked by environment:"
OUTCOMES = ("passed", "failed", "skipped", "not-supported", "blocked")
SETUP_ERROR_PREFIX = "setup error: "
CRASHED_PREFIX = "crashed: "
NO_OUTCOME_REASON = "no outcome recorded (interrupted?)"
NOT_RUN_REASON = "not run: the session stopped before this check ran"
# A check whose observations the API server kept from it past the deadline (conformance.core.outcomes.CouldNotRun).
COULD_NOT_RUN_PREFIX = "could not run: "
# Reasons of a ``failed`` result that mean "could not run", not "does not hold".
ERRORED_REASON_PREFIXES = (SETUP_ERROR_PREFIX, CRASHED_PREFIX, NO_OUTCOME_REASON, COULD_NOT_RUN_PREFIX)

# Item.add_report_section(when, key, ...) titles a section "Captured <key> <when>".
EVIDENCE_KEY_PREFIX = "evidence: "
_EVIDENCE_TITLE = re.compile(r"^Captured evidence: (?P<name>.+) (?P<when>setup|call|teardown)$")
# Keys the plugin puts into report.user_properties for transport; never result properties.
INTERNAL_KEY_PREFIX = "svc-reports:"
_MAX_REASON = 300


def one_line(text: str) -> str:
    """First non-empty line, trimmed to a readable length."""
    for line in str(text).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"
    return ""


def skip_reason(longrepr) -> str:
    """The reason of a skip report; longrepr is (path, lineno, "Skipped: reason") or a list after xdist."""
    if isinstance(longrepr, (tuple, list)) and len(longrepr) == 3:
        text = str(longrepr[2])
    else:
        text = str(longrepr or "")
    return text.removeprefix("Skipped: ").strip()


_CHECK_FAILED = re.compile(r"^(?:\w+\.)*(?:CheckFailed|CouldNotRun): ")


def failure_summary(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if message:
        # A failed statement reads as the statement, not as a Python class path.
        return one_line(_CHECK_FAILED.sub("", message))
    text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
    # Without a crash entry the last line is the most specific ("E   AssertionError...").
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return one_line(lines[-1]) if lines else "failed"


def outcome_of_skip(reason: str) -> str:
    if reason.startswith(NOT_SUPPORTED_PREFIX):
        return "not-supported"
    if reason.startswith(BLOCKED_PREFIX):
        return "blocked"
    return "skipped"


def is_errored(result: dict) -> bool:
    """A ``failed`` result whose check could not run (setup error, crash, interrupted)."""
    return result.get("outcome") == "failed" and str(result.get("reason", "")).startswith(ERRORED_REASON_PREFIXES)


def report_properties(report) -> dict:
    """The item's declared properties (check, scenario, ...), without transport entries."""
    props = {}
    for entry in getattr(report, "user_properties", None) or ():
        if len(entry) != 2:
            continue
        key, value = entry
        if isinstance(key, str) and not key.startswith(INTERNAL_KEY_PREFIX):
            props[key] = value
    return props


def report_evidence(report) -> list[tuple[str, str]]:
    evidence = []
    for title, content in getattr(report, "sections", None) or ():
        match = _EVIDENCE_TITLE.match(title)
        if match:
            evidence.append((match["name"], content))
    return evidence


@dataclass
class ItemResult:
    """Everything known so far about one test item; ``finished`` once its teardown was reported."""

    nodeid: str
    props: dict = field(default_factory=dict)
    outcome: str | None = None
    reason: str = ""
    duration_s: float = 0.0
    evidence: list[tuple[str, str]] = field(default_factory=list)
    finished: bool = False

    def add_phase(self, report) -> None:
        self.props.update(report_properties(report))
        self.duration_s += float(getattr(report, "duration", 0.0) or 0.0)
        for entry in report_evidence(report):
            # Later phases repeat earlier sections; keep each once, in order.
            if entry not in self.evidence:
                self.evidence.append(entry)
        when = report.when
        if when == "setup":
            if report.failed:
                self._set("failed", SETUP_ERROR_PREFIX + failure_summary(report))
            elif report.skipped:
                self._set_skip(report)
        elif when == "call":
            if hasattr(report, "wasxfail") and report.skipped:
                self._set("failed", one_line("xfail: " + str(report.wasxfail)))
            elif report.skipped:
                self._set_skip(report)
            elif report.failed:
                self._set("failed", failure_summary(report))
            else:
                self._set("passed", "")
        elif when == "teardown":
            if report.failed:
                self.evidence.append(("teardown error", failure_summary(report)))
            self.finished = True
        else:  # xdist reports a crashed worker's item with when="???"
            self._set("failed", CRASHED_PREFIX + failure_summary(report))
            self.finished = True

    def _set(self, outcome: str, reason: str) -> None:
        self.outcome, self.reason = outcome, reason

    def _set_skip(self, report) -> None:
        reason = skip_reason(report.longrepr)
        self._set(outcome_of_skip(reason), reason)

    @property
    def is_check(self) -> bool:
        return bool(self.props.get("check"))

    def to_dict(self) -> dict:
        """The ``results[]`` entry of conformance.json."""
        props = self.props
        check = str(props["check"])
        return {
            "check": check,
            "scenario": str(props.get("scenario", "-")),
            "ip_family": str(props.get("ip_family", "-")),
            "level": str(props.get("level", "unknown")),
            # The ID prefix names the area (DNS-03 -> DNS) when the item did not say.
            "area": str(props.get("area") or check.split("-", 1)[0]),
            "feature": str(props.get("feature", "")),
            "proxy_mode": str(props.get("proxy_mode", "unknown")),
            "outcome": self.outcome or "failed",
            "reason": self.reason if self.outcome else NO_OUTCOME_REASON,
            "duration_s": round(self.duration_s, 3),
            "nodeid": self.nodeid,
            "evidence": [{"name": name, "content": content} for name, content in self.evidence],
        }


def not_run_result(nodeid: str, props: dict) -> dict:
    """The ``results[]`` entry of a check item that was collected but never reported (e.g. ``-x``)."""
    item = ItemResult(nodeid, props=dict(props), outcome="skipped", reason=NOT_RUN_REASON)
    return item.to_dict()

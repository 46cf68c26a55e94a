"""How a check ends other than pass: failure with evidence, not supported, blocked by environment."""

import pytest


class CheckFailed(AssertionError):
    """A normative statement does not hold; carries what was expected and what was seen."""

    def __init__(self, statement: str, expected: str, observed: str, evidence: dict | None = None):
        self.statement, self.expected, self.observed = statement, expected, observed
        self.evidence = evidence or {}
        super().__init__(f"{statement}\n  expected: {expected}\n  observed: {observed}")


COULD_NOT_RUN_PREFIX = "could not run: "


class CouldNotRun(Exception):
    """The check could not observe: the API server kept failing past the wait's deadline. Reported as
    an errored result (the run is incomplete), never as a failed statement."""

    def __init__(self, reason: str):
        super().__init__(f"{COULD_NOT_RUN_PREFIX}{reason}")


def not_supported(reason: str):
    pytest.skip(f"not supported: {reason}")


BLOCKED_PREFIX = "blocked by environment: "


def blocked(reason: str):
    pytest.skip(f"{BLOCKED_PREFIX}{reason}")

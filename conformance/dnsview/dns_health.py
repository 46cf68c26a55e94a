"""Cluster DNS as a shared dependency: when it answers nothing at all, find that once, then let every
later DNS check fail with that cause after a short confirmation instead of each waiting its deadline.

"Nothing at all" means no DNS message over UDP or TCP for any question (timeouts, refused, resets). A
resolver that answers - even wrongly, even SERVFAIL - is never silent: its checks poll to their deadline.
The fact lives in this process (one per xdist worker) and is forgotten as soon as an answer arrives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from svc_conformance.core import waits


@dataclass
class Silence:
    established_by: str      # the statement whose full wait saw nothing
    waited_s: float
    attempts: int
    at: float                # time.time() when established


_silence: Silence | None = None


def silent(answers) -> bool:
    """No DNS message at all came back for any question of this round. A probe that failed to ask
    (batch error, garbled output) is not silence of the resolver: it never counts."""
    return bool(answers) and all(answer.message is None and (answer.error or "").startswith("no answer")
                                 for answer in answers)


def established() -> Silence | None:
    return _silence


def record_round(answers) -> None:
    """Any message from the resolver ends an established silence."""
    global _silence
    if not silent(answers):
        _silence = None


def record_full_wait(statement: str, outcome: waits.Outcome, every_round_silent: bool) -> None:
    """A whole deadline without one message establishes the silence (with this wait as its evidence)."""
    global _silence
    if not outcome.ok and not outcome.gave_up and every_round_silent:
        _silence = Silence(statement, outcome.elapsed_s, outcome.attempts, time.time())


def give_up(every_round_silent: Callable[[], bool]) -> Callable[[object, float], bool]:
    """For waits.poll: stop once silence is established and this check saw only silence for the confirm time."""
    def decide(_observation, elapsed_s: float) -> bool:
        return (_silence is not None and every_round_silent()
                and elapsed_s >= waits.deadline_s("dns-silence-confirm"))
    return decide


def describe(silence: Silence) -> str:
    when = time.strftime("%H:%M:%S", time.gmtime(silence.at))
    return (f"cluster DNS answered nothing at all (no message over UDP or TCP): established at {when} UTC "
            f"by '{silence.established_by}' after {silence.waited_s:.0f}s, {silence.attempts} attempts")

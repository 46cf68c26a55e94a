"""Cluster DNS silence: established by one full silent wait, then later silent waits end after the
confirmation time; an answer (even a wrong one) ends the silence and keeps the full deadline."""

import dns.message
import pytest

from svc_conformance.core import waits
from svc_conformance.dnsview import dns_health, dnswire

Q = dnswire.Question("web.ns1.svc.cluster.local.", "A")


def _silent():
    return [dnswire.Answer(Q, None, "no answer (timeout)", False, None)]


def _answered():
    reply = dns.message.make_response(dns.message.make_query(Q.name, "A"))
    return [dnswire.Answer(Q, reply, None, False, "NOERROR")]      # an answer, though not the wanted one


@pytest.fixture(autouse=True)
def fast_clock(monkeypatch):
    monkeypatch.setitem(waits.TIMEOUTS, "dns", 0.6)
    monkeypatch.setitem(waits.TIMEOUTS, "dns-silence-confirm", 0.15)
    monkeypatch.setattr(dns_health, "_silence", None)


def _wait(statement, rounds):
    """A DNS wait as ScenarioContext.poll_dns runs it; `rounds` yields each round's answers."""
    heard = {"any": False}

    def attempt():
        answers = next(rounds)
        heard["any"] |= not dns_health.silent(answers)
        dns_health.record_round(answers)
        return False, answers
    outcome = waits.poll("dns", attempt, interval_s=0.05, give_up=dns_health.give_up(lambda: not heard["any"]))
    dns_health.record_full_wait(statement, outcome, not heard["any"])
    return outcome


def _forever(make):
    while True:
        yield make()


def test_first_silent_wait_runs_its_whole_deadline_and_establishes_silence():
    outcome = _wait("DNS-03", _forever(_silent))
    assert not outcome.gave_up and outcome.elapsed_s >= 0.5
    assert dns_health.established().established_by == "DNS-03"
    assert "answered nothing at all" in dns_health.describe(dns_health.established())


def test_later_silent_wait_ends_after_the_confirmation():
    _wait("DNS-03", _forever(_silent))
    outcome = _wait("DNS-05", _forever(_silent))
    assert outcome.gave_up and 0.15 <= outcome.elapsed_s < 0.5
    assert dns_health.established().established_by == "DNS-03"      # the first wait stays the evidence


def test_a_wrong_answer_is_waited_out_and_ends_the_silence():
    _wait("DNS-03", _forever(_silent))
    outcome = _wait("DNS-11", _forever(_answered))
    assert not outcome.gave_up and outcome.elapsed_s >= 0.5
    assert dns_health.established() is None


def test_a_wait_that_heard_anything_is_never_cut_short():
    _wait("DNS-03", _forever(_silent))
    rounds = iter([_answered()] + [_silent()] * 1000)
    outcome = _wait("DNS-12", rounds)
    assert not outcome.gave_up and outcome.elapsed_s >= 0.5


def test_a_probe_that_could_not_ask_is_not_silence():
    broken = [dnswire.Answer(Q, None, "batch failed: nc: not found", False, None)]
    assert dns_health.silent(_silent()) and not dns_health.silent(broken)

"""API trouble is no observation: a wait retries through it, and when it outlasts the deadline the
check *could not run* (errored, the run incomplete), never failed (issue 17, item 4). The errors here
are real: a refused connection, the client's own ApiException as the API server's 429/503 make it."""

import socket

import pytest
import urllib3
from kubernetes.client.rest import ApiException

from svc_conformance.core import transient, waits
from svc_conformance.core.outcomes import CouldNotRun
from svc_conformance.reports.outcomes import ERRORED_REASON_PREFIXES, failure_summary, is_errored


@pytest.fixture(autouse=True)
def short_deadlines():
    waits.set_scale(0.02)       # "dns" 75 s -> 1.5 s
    yield
    waits.set_scale(1.0)


def refused_connection() -> Exception:
    """What the client raises while the API server is down: a real refused connection."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]       # bound, not listening: connections are refused
        pool = urllib3.PoolManager(retries=urllib3.Retry(total=0))
        try:
            pool.request("GET", f"http://127.0.0.1:{port}/version", timeout=2)
        except urllib3.exceptions.HTTPError as err:
            return err
    raise AssertionError("the connection was not refused")


@pytest.mark.parametrize("err", [ApiException(status=429, reason="Too Many Requests"),
                                 ApiException(status=503, reason="Service Unavailable"),
                                 ApiException(status=0, reason="[Errno 111] Connection refused"),
                                 ApiException(status=0, reason="Handshake status 503 Service Unavailable"),
                                 ConnectionResetError(104, "Connection reset by peer"),
                                 TimeoutError("timed out")])
def test_transient_api_errors(err):
    assert transient.is_transient(err), transient.describe(err)


def test_a_refused_connection_is_transient():
    err = refused_connection()
    assert transient.is_transient(err) and "refused" in transient.describe(err).lower()


@pytest.mark.parametrize("err", [ApiException(status=403, reason="Forbidden"),
                                 ApiException(status=404, reason="Not Found"),
                                 ApiException(status=422, reason="Unprocessable Entity"),
                                 ApiException(status=0, reason="Handshake status 403 Forbidden"),
                                 ValueError("a bug"), KeyError("x")])
def test_verdicts_and_bugs_are_not_transient(err):
    assert not transient.is_transient(err)


def test_a_wait_retries_through_api_trouble_and_succeeds():
    errors = [ApiException(status=503, reason="Service Unavailable"), refused_connection()]

    def attempt():
        if errors:
            raise errors.pop(0)
        return True, "answer"
    outcome = waits.poll("dns", attempt, consecutive=2, interval_s=0.05)
    assert outcome.ok and outcome.last == "answer" and outcome.attempts == 4


def test_api_trouble_breaks_the_streak():
    script = [True, ApiException(status=429, reason="Too Many Requests"), True, True]

    def attempt():
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step, "ok"
    outcome = waits.poll("dns", attempt, consecutive=2, interval_s=0.05)
    assert outcome.ok and outcome.attempts == 4


def test_api_trouble_past_the_deadline_could_not_run():
    def attempt():
        raise ApiException(status=429, reason="Too Many Requests")
    with pytest.raises(CouldNotRun) as caught:
        waits.poll("dns", attempt, interval_s=0.1)
    assert str(caught.value).startswith("could not run: the API server kept failing the 'dns' wait")
    assert "429 Too Many Requests" in str(caught.value)


def test_wrong_answers_then_trouble_at_the_end_could_not_run():
    """The last look failed: the wait cannot say the statement does not hold now."""
    calls = {"n": 0}

    def attempt():
        calls["n"] += 1
        if calls["n"] < 5:
            return False, "wrong"
        raise refused_connection()
    with pytest.raises(CouldNotRun):
        waits.poll("dns", attempt, interval_s=0.1)


def test_wrong_answers_to_the_deadline_still_fail():
    outcome = waits.poll("dns", lambda: (False, "wrong"), interval_s=0.1)
    assert not outcome.ok and outcome.last == "wrong"


def test_other_errors_are_raised_at_once():
    def attempt():
        raise ApiException(status=403, reason="Forbidden")
    with pytest.raises(ApiException):
        waits.poll("dns", attempt, interval_s=0.05)


def test_give_up_is_not_asked_about_api_trouble():
    asked = []

    def attempt():
        raise ApiException(status=503, reason="Service Unavailable")
    with pytest.raises(CouldNotRun):
        waits.poll("dns", attempt, interval_s=0.1, give_up=lambda obs, s: asked.append(obs) or True)
    assert asked == []


class _Report:
    """The shape of a pytest call report's crash entry, as the reports plugin reads it."""
    def __init__(self, message):
        self.longrepr = type("R", (), {"reprcrash": type("C", (), {"message": message})()})()


def test_could_not_run_is_an_errored_result_with_a_plain_reason():
    message = f"svc_conformance.core.outcomes.CouldNotRun: {CouldNotRun('the API server kept failing')}"
    reason = failure_summary(_Report(message))
    assert reason == "could not run: the API server kept failing"
    assert reason.startswith(ERRORED_REASON_PREFIXES)
    assert is_errored({"outcome": "failed", "reason": reason})


def test_a_failed_exec_upgrade_is_the_error_it_was():
    """With the API server down, the client's websocket call fails and the client itself then trips
    over the missing body ("'NoneType' object has no attribute 'decode'"); bound_requests gives back
    the real error: a transient one, retried by the waits instead of blocking the check."""
    from kubernetes import client
    from kubernetes.stream import stream

    from svc_conformance.cluster import kube
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]       # bound, not listening: connections are refused
        configuration = client.Configuration(host=f"https://127.0.0.1:{port}")
        configuration.verify_ssl = False
        api = client.ApiClient(configuration)
        kube.bound_requests(api)
        with pytest.raises(ApiException) as caught:
            stream(client.CoreV1Api(api).connect_get_namespaced_pod_exec, "pod", "ns",
                   **kube.exec_kwargs(["true"], "client"))
    assert caught.value.status == 0 and "refused" in str(caught.value.reason).lower()
    assert transient.is_transient(caught.value)

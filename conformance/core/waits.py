"""Named deadlines and polling with consecutive successes (never a bare sleep).

Each timeout has a documented maximum; `--timeout-scale` multiplies them all for slow clusters.
"""

import time
from dataclasses import dataclass

from svc_conformance.core import phases, transient
from svc_conformance.core.outcomes import CouldNotRun

# name -> seconds (maximum the suite waits for that kind of convergence at scale 1.0)
TIMEOUTS = {
    # Namespace created and its default ServiceAccount present. Its controller may lag a minute or
    # more after an API server restart (its informers back off while RBAC is not yet synced: 75-90 s
    # measured on the local cluster); upstream e2e waits 2 minutes, we allow the pods-ready deadline.
    "namespace-ready": 180,
    "pods-ready": 180,          # scenario pods Running and Ready (image pulls on real clusters)
    # A pod the scheduler found no node for is failed at once (conformance/cluster/deploy.py) after staying
    # Unschedulable this long: the scheduler retries a pod within its maximum backoff (10 s by
    # default) after a node turns Ready, a taint is lifted or a terminating pod frees room. Capacity
    # a cluster autoscaler is adding takes minutes; its event on the pod keeps the pods-ready deadline.
    "unschedulable-grace": 10,
    "endpoints": 60,            # EndpointSlices reflect pod readiness
    "dns": 75,                  # DNS answer converges (CoreDNS cache TTL 30 s + informer lag)
    "proxy-rules": 60,          # kube-proxy programs/removes rules (default sync period 30 s)
    "reach": 60,                # data path converges after rules appear
    "namespace-deletion": 180,  # namespaces of the run are gone
    # Once cluster DNS answered nothing at all for a whole "dns" deadline, later DNS checks confirm the
    # silence for this long, then fail with that cause (conformance/dnsview/dns_health.py). An answer resets it.
    # Confirmation is checked after each round (every question of the check, each ending at nc's 1 s
    # idle timeout or refused at once): one or two whole silent rounds of the check's own questions.
    "dns-silence-confirm": 2,
    # Likewise for a node whose kube-proxy programmed nothing for the run during a whole "proxy-rules"
    # or "reach" deadline (conformance/proxyview/proxy_health.py): later waits on that node confirm for this long.
    "proxy-silence-confirm": 8,
    # After a whole "proxy-rules" deadline in which no node programmed anything of the run: do the
    # Service's ClusterIPs answer from the client anyway (a kube-proxy replacement serves them)?
    "replacement-probe": 6,
}
CONSECUTIVE = {"dns": 2, "proxy-rules": 2, "reach": 1, "endpoints": 2, "pods-ready": 1}
POLL_INTERVAL_S = 1.0

_scale = 1.0


def set_scale(scale: float) -> None:
    global _scale
    _scale = scale


def deadline_s(name: str) -> float:
    return TIMEOUTS[name] * _scale


@dataclass
class Outcome:
    ok: bool
    last: object        # the last observation, shown on timeout
    elapsed_s: float
    attempts: int
    gave_up: bool = False   # stopped before the deadline because give_up() said waiting is pointless
    started_at: float = 0.0          # time.monotonic() when the wait began
    first_ok_s: float | None = None  # seconds from the start to the first success of the final streak


def poll(name: str, attempt, consecutive: int | None = None, interval_s: float = POLL_INTERVAL_S,
         give_up=None) -> Outcome:
    """Call attempt() -> (ok, observation) until ok `consecutive` times in a row or the deadline passes.

    give_up(observation, elapsed_s) -> bool may end a failing wait early: only for a shared dependency
    already established dead (never for one that answers wrong).

    An attempt that raises a transient API error (conformance/core/transient.py) observed nothing: it breaks
    the streak and the wait goes on. When the wait's last attempt was such an error at the deadline,
    the check could not look: CouldNotRun (errored), never a failure built on a stale observation."""
    need = consecutive or CONSECUTIVE.get(name, 1)
    start = time.monotonic()
    end = start + deadline_s(name)
    streak = attempts = errors = 0
    last = streak_start = trouble = None
    while True:
        attempts += 1
        before = time.monotonic()
        try:
            ok, last = attempt()
            trouble = None
        except Exception as err:  # noqa: BLE001 - only transient API trouble is retried
            if not transient.is_transient(err):
                raise
            ok, trouble, errors = False, transient.describe(err), errors + 1
        streak = streak + 1 if ok else 0
        if streak == 1:
            streak_start = before - start
        if streak >= need:
            return Outcome(True, last, time.monotonic() - start, attempts, started_at=start, first_ok_s=streak_start)
        if not ok and trouble is None and give_up is not None and give_up(last, time.monotonic() - start):
            return Outcome(False, last, time.monotonic() - start, attempts, gave_up=True)
        if time.monotonic() + interval_s > end:
            if trouble is not None:
                raise CouldNotRun(f"the API server kept failing the '{name}' wait ({errors} of {attempts} "
                                  f"attempts in {time.monotonic() - start:.0f}s, the last one too): {trouble}")
            return Outcome(False, last, time.monotonic() - start, attempts)
        time.sleep(interval_s)
        phases.add("poll-sleep", interval_s)
        phases.add(f"poll-sleep {name}", interval_s)

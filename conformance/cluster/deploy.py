"""Deploying a scenario: its namespace, client pod, manifests; then waiting until it is ready.

A pod the scheduler cannot place fails the scenario (errored, like the pods-ready timeout) once it stayed
Unschedulable for `unschedulable-grace`, with the scheduler's reason: never a run-wide stop, since
placement is per pod (one scenario's spread or size may not fit where the others do), and every
scenario waits concurrently, so a cluster where nothing fits still ends within about one grace.
"""

import time

from svc_conformance.cluster import kube, manifests, podspec
from svc_conformance.core import phases, waits
from svc_conformance.core.outcomes import CheckFailed

EXPECT_READY = "svc-conformance.io/expect-ready"
IMAGE_ERRORS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
# Pod events saying capacity is on its way (cluster-autoscaler; Karpenter): the pod may yet be placed,
# so it gets the whole pods-ready deadline.
SCALE_UP_REASONS = ("TriggeredScaleUp", "Nominated")


# A refusal that is no admission verdict: the namespace's default ServiceAccount is not there yet.
NO_SERVICE_ACCOUNT_YET = "error looking up service account"


@phases.timed("apply")
def apply(cluster: kube.Cluster, namespace: str, docs: list[dict]) -> None:
    for doc in docs:
        try:
            _create(cluster, doc, namespace)
        except kube.ApiException as err:
            kind, name = doc["kind"], doc["metadata"]["name"]
            if err.status in (400, 403, 422):
                raise kube.SetupError(f"{kind} {namespace}/{name} was rejected: {api_message(err)}",
                                      kube.EXIT_ADMISSION) from None
            raise


def _create(cluster: kube.Cluster, doc: dict, namespace: str) -> None:
    def attempt():
        try:
            kube.create_object(cluster, doc, namespace)
            return True, None
        except kube.ApiException as err:
            if err.status == 403 and NO_SERVICE_ACCOUNT_YET in api_message(err):
                return False, err       # its controller lags (e.g. after an API server restart)
            raise
    outcome = waits.poll("namespace-ready", attempt, interval_s=0.5)
    if not outcome.ok:
        raise outcome.last


def api_message(err) -> str:
    import json
    try:
        return json.loads(err.body).get("message", err.reason)
    except (TypeError, ValueError):
        return str(err.reason)


def pull_errors(pods) -> list[str]:
    found = []
    for pod in pods:
        for status in pod.status.container_statuses or []:
            waiting = status.state.waiting if status.state else None
            if waiting and waiting.reason in IMAGE_ERRORS:
                found.append(f"{pod.metadata.name}: {status.image} {waiting.reason}")
    return found


def unschedulable(pod) -> str | None:
    """The scheduler's reason when it found no node for the pod (PodScheduled False, Unschedulable).
    A pod with a nominated node is being placed by preemption: not stuck."""
    if pod.metadata.deletion_timestamp is not None or (pod.spec and pod.spec.node_name):
        return None
    if pod.status and pod.status.nominated_node_name:
        return None
    for c in (pod.status.conditions if pod.status else None) or []:
        if c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable":
            return " ".join((c.message or "").split())
    return None


class Placement:
    """Which pods stayed Unschedulable for the grace (first seen per pod, on this process's clock: no
    skew with the API server's); a pod placed or gone meanwhile starts over."""

    def __init__(self, grace_s: float):
        self.grace_s = grace_s
        self.since: dict[str, float] = {}
        self.scaling: set[str] = set()      # pod names whose events say a scale-up is coming

    def stuck(self, pods, now: float) -> list[tuple[str, str]]:
        """[(pod name, scheduler's message)] of the pods Unschedulable for at least the grace."""
        since, found = {}, []
        for pod in pods:
            why = unschedulable(pod)
            if why is None:
                continue
            key = pod.metadata.uid or pod.metadata.name
            since[key] = self.since.get(key, now)
            if now - since[key] >= self.grace_s and pod.metadata.name not in self.scaling:
                found.append((pod.metadata.name, why))
        self.since = since
        return found


def scale_up_coming(events) -> bool:
    return any(e.reason in SCALE_UP_REASONS for e in events)


def scheduling_message(events) -> str:
    """The newest FailedScheduling event's message (when the condition carries none)."""
    failed = [e for e in events if e.reason == "FailedScheduling" and e.message]
    return " ".join(failed[-1].message.split()) if failed else ""


def _pod_events(cluster: kube.Cluster, namespace: str, pod: str) -> list:
    selector = f"involvedObject.kind=Pod,involvedObject.name={pod}"
    return cluster.core.list_namespaced_event(namespace, field_selector=selector).items


def _not_ready(cluster: kube.Cluster, namespace: str) -> list[str]:
    pending = []
    for d in cluster.apps.list_namespaced_deployment(namespace).items:
        if (d.metadata.annotations or {}).get(EXPECT_READY) == "false":
            continue
        if (d.status.ready_replicas or 0) < d.spec.replicas:
            pending.append(f"deployment/{d.metadata.name} {d.status.ready_replicas or 0}/{d.spec.replicas}")
    for s in cluster.apps.list_namespaced_stateful_set(namespace).items:
        if (s.status.ready_replicas or 0) < s.spec.replicas:
            pending.append(f"statefulset/{s.metadata.name} {s.status.ready_replicas or 0}/{s.spec.replicas}")
    for p in cluster.core.list_namespaced_pod(namespace).items:
        if p.metadata.owner_references:
            continue
        if not any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or [])):
            pending.append(f"pod/{p.metadata.name} {p.status.phase}")
    return pending


def _fail_unschedulable(cluster: kube.Cluster, namespace: str, placement: Placement, stuck) -> None:
    """Fail the scenario with the scheduler's reason, unless a scale-up is coming for that pod."""
    for name, why in stuck:
        events = _pod_events(cluster, namespace, name)
        if scale_up_coming(events):
            placement.scaling.add(name)
            continue
        why = why or scheduling_message(events) or "no reason given"
        others = f" ({len(stuck) - 1} more pods unschedulable)" if len(stuck) > 1 else ""
        raise CheckFailed(f"scenario pods in {namespace} are scheduled", "every pod placed on a node",
                          f"pod/{name} cannot be scheduled: {why}{others} "
                          "(see --node-selector and --toleration)")


def wait_ready(cluster: kube.Cluster, namespace: str) -> float:
    placement = Placement(waits.deadline_s("unschedulable-grace"))

    def attempt():
        pods = cluster.core.list_namespaced_pod(namespace).items
        errors = pull_errors(pods)
        if errors:
            raise kube.SetupError(f"image cannot be pulled: {errors[0]} (use --image-registry or --image; "
                                  "--list-images lists them)", kube.EXIT_IMAGE)
        stuck = placement.stuck(pods, time.monotonic())
        if stuck:
            _fail_unschedulable(cluster, namespace, placement, stuck)
        pending = _not_ready(cluster, namespace)
        return not pending, pending
    with phases.phase("pods-ready"):
        outcome = waits.poll("pods-ready", attempt)
    if not outcome.ok:
        events = cluster.core.list_namespaced_event(namespace).items[-10:]
        raise CheckFailed(f"scenario pods in {namespace} become Ready", "all workloads ready",
                          f"{outcome.last}; recent events: {[e.message for e in events]}")
    return outcome.elapsed_s


def scenario_docs(name: str, images: dict, run_id: str, policy: podspec.PodPolicy = podspec.PodPolicy()) -> list[dict]:
    return manifests.load("_client", images, run_id, policy) + manifests.load(name, images, run_id, policy)

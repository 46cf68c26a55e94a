"""Deploying a scenario: its namespace, client pod, manifests; then waiting until it is ready."""

from svc_conformance import kube, manifests, phases, podspec, waits
from svc_conformance.outcomes import CheckFailed

EXPECT_READY = "svc-conformance.io/expect-ready"
IMAGE_ERRORS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")


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


def wait_ready(cluster: kube.Cluster, namespace: str) -> float:
    def attempt():
        pods = cluster.core.list_namespaced_pod(namespace).items
        errors = pull_errors(pods)
        if errors:
            raise kube.SetupError(f"image cannot be pulled: {errors[0]} (use --image-registry or --image; "
                                  "--list-images lists them)", kube.EXIT_IMAGE)
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

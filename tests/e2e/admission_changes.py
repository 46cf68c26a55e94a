"""Mutating and validating admission on the local cluster, real and undone on exit: the webhook of
admission_webhook.py registered with a MutatingWebhookConfiguration, OpenShift's UID range as a
ValidatingAdmissionPolicy, and the suite's pods as the API server stored them. Used by
test_admission_mutations.py."""

from __future__ import annotations

import base64
import contextlib
import time

from kubernetes import client

import admission_webhook
from cluster_changes import admission_denied
from production_conditions import repeating

NAME = "svcconf-test-pod-mutation"
PROBE_NS = "svcconf-test-admission-probe"
MANAGED = ("app.kubernetes.io/managed-by", "svc-conformance")
PURPOSE = "svc-conformance.io/purpose"
# The inspector's namespaces (fixtures/scenarios.py: inspector, inspector-<xdist worker>): a label
# selector cannot say "starts with", so the workers a run may have are listed.
INSPECTOR_PURPOSES = ["inspector"] + [f"inspector-gw{i}" for i in range(64)]
UID_MESSAGE = "must be in the ranges: [{}, {}]".format(*admission_webhook.UID_RANGE)


def suite_namespaces_selector(inspector: bool = False) -> dict:
    """The suite's namespaces: the test pods' (default), or the node inspector's."""
    return {"matchExpressions": [{"key": MANAGED[0], "operator": "In", "values": [MANAGED[1]]},
                                 {"key": PURPOSE, "operator": "In" if inspector else "NotIn",
                                  "values": INSPECTOR_PURPOSES}]}


def webhook_configuration(hook: admission_webhook.Webhook, inspector: bool = False) -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": NAME},
            "webhooks": [{"name": "pods.svcconf-test.example", "admissionReviewVersions": ["v1"],
                          "clientConfig": {"url": hook.url, "caBundle": base64.b64encode(hook.ca_pem).decode()},
                          "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                     "resources": ["pods"], "scope": "Namespaced"}],
                          "namespaceSelector": suite_namespaces_selector(inspector),
                          "failurePolicy": "Fail", "sideEffects": "None", "timeoutSeconds": 5,
                          "reinvocationPolicy": "Never"}]}


def _probe_pod(run_as_user: int | None = None) -> dict:
    ctx = {"runAsNonRoot": True, **({"runAsUser": run_as_user} if run_as_user else {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "admission-probe"},
            "spec": {"securityContext": ctx, "containers": [{"name": "c", "image": "x"}]}}


def _dry_run(core: client.CoreV1Api, pod: dict):
    """The pod as admission would store it (a dict), or the refusal (ApiException)."""
    try:
        created = core.create_namespaced_pod(PROBE_NS, pod, dry_run="All", _request_timeout=15)
        return core.api_client.sanitize_for_serialization(created)
    except client.ApiException as err:
        return err


def _mesh_took_effect(core: client.CoreV1Api) -> bool:
    pod = _dry_run(core, _probe_pod(65534))
    return isinstance(pod, dict) and admission_webhook.SIDECAR in [c["name"] for c in pod["spec"]["containers"]]


def _host_network_stripped(core: client.CoreV1Api) -> bool:
    pod = _probe_pod()
    pod["spec"]["hostNetwork"] = True
    stored = _dry_run(core, pod)
    return isinstance(stored, dict) and not stored["spec"].get("hostNetwork")


def _uid_took_effect(core: client.CoreV1Api) -> bool:
    pod = _dry_run(core, _probe_pod())
    return isinstance(pod, dict) and pod["spec"]["securityContext"].get("runAsUser") == admission_webhook.UID_RANGE[0]


def _uid_refused(api_client) -> bool:
    refused = _dry_run(client.CoreV1Api(api_client), _probe_pod(65534))
    return isinstance(refused, client.ApiException) and UID_MESSAGE in (refused.body or "")


def _has_default_service_account(core: client.CoreV1Api) -> bool:
    """Until its controller makes it, every pod create is refused before any webhook is called."""
    try:
        core.read_namespaced_service_account("default", PROBE_NS, _request_timeout=10)
        return True
    except client.ApiException:
        return False


@contextlib.contextmanager
def probe_namespace(core: client.CoreV1Api, purpose: str = "admission-probe"):
    """A namespace labelled as the suite's, for the dry runs; gone again before the block's run."""
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=PROBE_NS, labels={MANAGED[0]: MANAGED[1], PURPOSE: purpose})))
    try:
        _streak(lambda: _has_default_service_account(core), f"the default ServiceAccount of {PROBE_NS}")
        yield
    finally:
        with contextlib.suppress(client.ApiException):
            core.delete_namespace(PROBE_NS, grace_period_seconds=0)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                core.read_namespace(PROBE_NS)
            except client.ApiException as err:
                if err.status == 404:
                    return
            time.sleep(1)
        raise AssertionError(f"the probe namespace {PROBE_NS} was not deleted within 120 s")


def _streak(check, what: str, deadline_s: float = 60) -> None:
    """Admission configuration takes effect asynchronously: `check` holds 3 times in a row."""
    streak, deadline = 0, time.monotonic() + deadline_s
    while streak < 3 and time.monotonic() < deadline:
        streak = streak + 1 if check() else 0
        time.sleep(1)
    assert streak >= 3, f"{what} did not take effect within {deadline_s} s"


@contextlib.contextmanager
def mutating_webhook(api_client, mode: str):
    """The webhook server running and registered for the suite's test pods (strip-host-network: for the
    node inspector's pods only). Yields the admission_webhook.Webhook (its `mutated` list). Nothing is left
    on exit, also after a failure."""
    core, adm = client.CoreV1Api(api_client), client.AdmissionregistrationV1Api(api_client)
    inspector = mode == "strip-host-network"
    took_effect = {"mesh": _mesh_took_effect, "strip-host-network": _host_network_stripped}.get(mode, _uid_took_effect)
    with admission_webhook.serving(mode) as hook:
        adm.create_mutating_webhook_configuration(webhook_configuration(hook, inspector))
        try:
            with probe_namespace(core, INSPECTOR_PURPOSES[0] if inspector else "admission-probe"):
                _streak(lambda: took_effect(core), f"the {mode} webhook")
            yield hook
        finally:
            adm.delete_mutating_webhook_configuration(NAME)


def uid_range_enforced(api_client):
    """A ValidatingAdmissionPolicy refusing, in the suite's non-inspector namespaces, any pod- or
    container-level runAsUser outside the range (OpenShift's restricted SCC). Runs after mutation.
    Effect is proven by mutating_webhook's probe namespace: call this inside a probe_namespace."""
    lo, hi = admission_webhook.UID_RANGE

    def ok(ctx: str) -> str:
        return (f"(!has({ctx}.securityContext) || !has({ctx}.securityContext.runAsUser) || "
                f"({ctx}.securityContext.runAsUser >= {lo} && {ctx}.securityContext.runAsUser <= {hi}))")
    expression = (f"{ok('object.spec')} && object.spec.containers.all(c, {ok('c')}) && "
                  f"(!has(object.spec.initContainers) || object.spec.initContainers.all(c, {ok('c')}))")
    return admission_denied(api_client, "uid-range", "", "pods", expression, f"runAsUser {UID_MESSAGE}",
                            _uid_refused, namespace_selector=suite_namespaces_selector())


@contextlib.contextmanager
def openshift_admission(api_client):
    """The openshift-uid webhook and the UID-range policy together (validation sees the mutated pod);
    the policy goes first on exit."""
    core = client.CoreV1Api(api_client)
    with contextlib.ExitStack() as stack:
        hook = stack.enter_context(mutating_webhook(api_client, "openshift-uid"))
        with probe_namespace(core):     # only for the policy's dry runs: gone before the suite runs
            stack.enter_context(uid_range_enforced(api_client))
        yield hook


@contextlib.contextmanager
def pods_of_run(core: client.CoreV1Api, namespace_prefix: str, every_s: float = 1.0):
    """Every pod seen in the run's namespaces while the block runs, as stored: {namespace/name: spec dict}."""
    seen: dict[str, dict] = {}

    def look() -> None:
        for p in core.list_pod_for_all_namespaces(_request_timeout=10).items:
            if p.metadata.namespace.startswith(namespace_prefix):
                seen[f"{p.metadata.namespace}/{p.metadata.name}"] = core.api_client.sanitize_for_serialization(p.spec)
    with repeating(look, every_s):
        yield seen

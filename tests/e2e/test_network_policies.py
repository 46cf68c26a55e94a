"""NetworkPolicy enforced (kube-network-policies, `localcluster up --network-policy`): a default-deny
policy created in every namespace of the run as it appears, as policy engines do, changes no verdict:
the suite's own policy allows exactly its traffic. The positive control shows the cluster enforces:
the same default-deny in a namespace without the suite's policy drops a pod's DNS."""

import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

import production_conditions as conditions
from e2e_support import poll, pod_ready
from healthy_runs import assert_healthy_run, record
from suite_runs import run_suite, suite_seconds

pytestmark = pytest.mark.e2e

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"
CONTROL_DEADLINE_S = 60


@pytest.fixture
def enforcing(local_cluster):
    if not local_cluster.network_policy:
        pytest.skip("the local cluster enforces no NetworkPolicy (up --network-policy; "
                    "LOCALCLUSTER_NETWORK_POLICY=1 for these tests)")
    return local_cluster


def dns_dropped_by_default_deny(kube_api, domain: str) -> str:
    """In a namespace of its own with only the default-deny: a pod's DNS query gets no answer (polled:
    the implementation learns the policy and the pod a moment after they exist). Returns the evidence."""
    core, net = client.CoreV1Api(kube_api), client.NetworkingV1Api(kube_api)
    ns = f"np-control-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    try:
        net.create_namespaced_network_policy(ns, client.V1NetworkPolicy(
            metadata=client.V1ObjectMeta(name=conditions.DENY), spec=client.V1NetworkPolicySpec(
                pod_selector=client.V1LabelSelector(), policy_types=["Ingress", "Egress"])))
        core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name="probe"), spec=client.V1PodSpec(
            containers=[client.V1Container(name="probe", image=AGNHOST, args=["pause"])])))
        # Exec into a pod that is not running yet fails inside the client (no body to decode): wait first.
        poll(f"control pod {ns}/probe Ready", lambda: (pod_ready(core.read_namespaced_pod("probe", ns)), "probe"),
             expected="Ready", timeout_s=CONTROL_DEADLINE_S)
        deadline, last, streak = time.monotonic() + CONTROL_DEADLINE_S, "", 0
        while time.monotonic() < deadline and streak < 2:
            try:
                out = _exec(kube_api, ns, ["dig", "+time=2", "+tries=1", f"kubernetes.default.svc.{domain}"])
            except ApiException as err:
                out = f"exec not possible yet ({err.status})"
            last = out.strip().splitlines()[-1] if out.strip() else "(no output)"
            streak = streak + 1 if "timed out" in out or "no servers could be reached" in out else 0
            time.sleep(1)
        assert streak >= 2, f"a default-deny did not drop DNS within {CONTROL_DEADLINE_S}s: {last}"
        return last
    finally:
        core.delete_namespace(ns)


def _exec(kube_api, ns: str, argv: list[str]) -> str:
    from kubernetes.stream import stream
    return stream(client.CoreV1Api(kube_api).connect_get_namespaced_pod_exec, "probe", ns, command=argv,
                  container="probe", stderr=True, stdout=True, stdin=False, tty=False, _request_timeout=30)


def test_default_deny_in_every_run_namespace_changes_no_verdict(enforcing, tmp_path, kube_api):
    with conditions.default_deny_in_run_namespaces(kube_api) as denied:
        start = time.monotonic()
        code, doc, output = run_suite(enforcing.kubeconfig, tmp_path)
        wall_s = time.monotonic() - start
    record("default-deny-network-policy", wall_s=round(wall_s, 1), suite_s=suite_seconds(doc), exit=code,
           namespaces_denied=len(denied), nodes=enforcing.nodes)
    assert denied, "no namespace of the run got the default-deny (the condition did not happen)"
    assert_healthy_run(enforcing, kube_api, code, doc, output, "a default-deny NetworkPolicy in every run namespace")
    evidence = dns_dropped_by_default_deny(kube_api, enforcing.cluster_domain)
    record("default-deny-control", dropped=evidence)

"""Healthy configurations the spec allows to differ: each must give exactly the healthy outcome map
(0 core failures, 0 wrong not-supported). Runs the real suite against the local cluster."""

import pytest
from kubernetes import client

import expected_outcomes
from cluster_changes import corefile_edits, corefile_option, host_network_daemonsets_denied, host_network_pods_denied
from localcluster import state
from localcluster.topology import Topology
from suite_runs import outcomes, run_suite

pytestmark = pytest.mark.e2e

# name -> Corefile edits [(old, new)]: all allowed by the DNS spec.
COREFILE_VARIANTS = {
    "coredns-short-ttl-and-cache": [("       ttl 30\n", "       ttl 5\n")],
    "coredns-pod-records-disabled": [("       pods insecure\n", "       pods disabled\n")],
    "coredns-endpoint-pod-names": None,          # endpoints without hostname named after their pods (DNS-14)
    # A common CoreDNS tuning: the search path walked server-side, pod records only for existing pods.
    # Needs every plugin (upstream's build) and a `forward` for the walk's last step (the kubeadm shape).
    "coredns-autopath-pods-verified": [("    ready\n", "    ready\n    autopath @kubernetes\n"),
                                       ("       pods insecure\n", "       pods verified\n")],
}


def _topology() -> Topology:
    doc = state.load()
    return Topology.of_record(doc)


def _assert_outcomes(local_cluster, doc, output, overrides=None):
    expected = expected_outcomes.healthy(local_cluster.ip_family, expected_outcomes.collected_items())
    expected.update(overrides or {})
    wrong = expected_outcomes.diff(expected, outcomes(doc))
    assert not wrong, "outcomes differ from the expected map:\n" + "\n".join(wrong) + f"\n{output[-3000:]}"


@pytest.mark.parametrize("variant", sorted(COREFILE_VARIANTS))
def test_corefile_variant_is_conformant(variant, local_cluster, tmp_path, kube_api):
    core = client.CoreV1Api(kube_api)
    edit = COREFILE_VARIANTS[variant]
    if variant == "coredns-autopath-pods-verified" and "forward . " not in \
            core.read_namespaced_config_map("coredns", "kube-system").data["Corefile"]:
        pytest.skip("autopath needs a Corefile with `forward` (python -m localcluster up --shape kubeadm; "
                    "LOCALCLUSTER_SHAPE=kubeadm for these tests)")
    change = corefile_option(core, _topology(), "endpoint_pod_names") if edit is None else \
        corefile_edits(core, _topology(), edit)
    with change:
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path)
    _assert_outcomes(local_cluster, doc, output)
    assert code == 0, f"a conformant run exits 0, got {code}\n{output[-2000:]}"


# A refused node inspector blocks the PROXY checks only, at once, with the refusal's own words: the
# DaemonSet itself refused, or (SCC, quota, a pod policy) the DaemonSet accepted and its pods refused
# (their FailedCreate event), never after the pods-ready deadline.
INSPECTOR_REFUSALS = {
    "daemonset-refused": (host_network_daemonsets_denied, ("not allowed", "host-network DaemonSets are not allowed here")),
    "pods-refused": (host_network_pods_denied, ("pods are refused", "host-network pods are not allowed here")),
}


@pytest.mark.parametrize("refusal", sorted(INSPECTOR_REFUSALS))
def test_forbidden_node_inspector_blocks_proxy_checks_only(refusal, local_cluster, tmp_path, kube_api):
    deny, said = INSPECTOR_REFUSALS[refusal]
    with deny(kube_api):
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path)
    blocked = {("clusterip-deployment", "PROXY-01", "-"): "blocked", ("clusterip-deployment", "PROXY-02", "-"): "blocked"}
    _assert_outcomes(local_cluster, doc, output, blocked)
    reasons = {r["reason"] for r in doc["results"] if r["outcome"] == "blocked"}
    assert all(all(text in r for text in said) for r in reasons), reasons
    assert doc.get("verdict") == "incomplete" and code == 8, f"exit {code}, verdict {doc.get('verdict')}"

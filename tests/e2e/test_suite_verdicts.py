"""The suite's verdicts are true: healthy cluster -> every core check passes; each injected fault
fails exactly the checks it breaks, and no others. Runs the real suite against the local cluster."""

import json
import time

import pytest
from kubernetes import client

from localcluster import state
from localcluster.topology import Topology
import expected_outcomes
from cluster_changes import corefile_option, headless_rule, kube_proxy_stopped
from suite_runs import outcomes, run_suite

pytestmark = pytest.mark.e2e

FAULT_TIMEOUT_SCALE = "0.6"     # failing checks wait out their deadlines; 0.6 keeps DNS above the cache TTL


def test_healthy_cluster_passes_every_core_check(local_cluster, tmp_path, kube_api):
    code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path)
    assert doc.get("results"), f"the suite produced no results:\n{output}"
    expected = expected_outcomes.healthy(local_cluster.ip_family, expected_outcomes.collected_items())
    wrong = expected_outcomes.diff(expected, outcomes(doc))
    assert not wrong, "outcomes differ from the healthy cluster's:\n" + "\n".join(wrong) + f"\n{output}"
    assert code == 0, f"a conformant run exits 0, got {code}\n{output}"
    for name in ("summary.html", "conformance.json", "conformance.yaml", "junit.xml"):
        assert (tmp_path / name).is_file(), f"{name} missing"
    assert doc["cluster"].get("cluster_domain") == local_cluster.cluster_domain
    assert "kubeconfig" not in json.dumps(doc["cluster"]), "a local path leaked into the report"
    left = client.CoreV1Api(kube_api).list_namespace(label_selector="app.kubernetes.io/managed-by=svc-conformance").items
    assert not left, f"namespaces left behind: {[n.metadata.name for n in left]}"


# -- faults ---------------------------------------------------------------------------------------
# What each fault breaks, from the statements the checks make (the fault's documented effect).
NOENDPOINTS_BREAKS = {
    ("clusterip-deployment", "DNS-11"), ("clusterip-deployment", "DNS-14"), ("clusterip-deployment", "REACH-05"),
    ("statefulset-headless", "POD-01"), ("statefulset-headless", "DNS-13"), ("statefulset-headless", "DNS-15"),
    ("statefulset-headless", "DNS-16"), ("statefulset-headless", "REACH-02"), ("statefulset-headless", "POD-02"),
    ("bare-pod-hostname", "POD-03"), ("bare-pod-hostname", "POD-04"), ("bare-pod-hostname", "DNS-11"),
    ("selectorless-endpointslice", "EPS-04"), ("endpoints-legacy", "EPS-05"), ("endpoints-legacy", "EPS-06"),
    ("readiness", "DNS-18"), ("readiness", "POD-05"), ("scaled-to-zero", "DNS-12"), ("ports", "DNS-11"),
    ("large-headless", "EPS-07"),
}
EMPTY_SERVICE_BREAKS = {("scaled-to-zero", "DNS-05"), ("endpoints-legacy", "EPS-06")}
HEADLESS_RULE_BREAKS = {("clusterip-deployment", "PROXY-01")}
# DNS keeps working (kube-dns was programmed before the stop); the scenarios' VIPs are never programmed.
KUBE_PROXY_STOPPED_BREAKS = {
    ("clusterip-deployment", "PROXY-02"), ("clusterip-deployment", "PROXY-01"), ("clusterip-deployment", "REACH-03"),
    ("statefulset-headless", "REACH-03"), ("readiness", "REACH-06"), ("selectorless-endpointslice", "EPS-04"),
    ("session-affinity", "REACH-04"), ("scaled-to-zero", "PROXY-03"),
}


@pytest.mark.parametrize("fault", ["coredns-noendpoints", "coredns-ignore-empty-service", "headless-rule",
                                   "kube-proxy-stopped"])
def test_fault_fails_exactly_its_checks(fault, local_cluster, tmp_path, kube_api):
    core = client.CoreV1Api(kube_api)
    cluster = state.load()
    topology = Topology(cluster["ip_family"], cluster.get("cluster_domain", "cluster.local"))
    run_id = time.strftime("%Y%m%d-%H%M%S-") + "fa0175"
    if fault == "coredns-noendpoints":
        ctx, expected = corefile_option(core, topology, "noendpoints"), NOENDPOINTS_BREAKS
    elif fault == "coredns-ignore-empty-service":
        ctx, expected = corefile_option(core, topology, "ignore empty_service"), EMPTY_SERVICE_BREAKS
    elif fault == "kube-proxy-stopped":
        ctx, expected = kube_proxy_stopped(cluster), set(KUBE_PROXY_STOPPED_BREAKS)
        if cluster["ip_family"] != "ipv4":       # REACH-07 (IPv6 VIPs) is judged only where IPv6 exists
            expected.add(("clusterip-deployment", "REACH-07"))
    else:
        if cluster["proxy_mode"] != "iptables":
            pytest.skip("the injected rule is an iptables rule; this fault runs on the iptables cluster")
        namespace = f"svcconf-{run_id.split('-', 1)[1]}-clusterip-deployment"
        ctx, expected = headless_rule(namespace, "myapp-headless"), HEADLESS_RULE_BREAKS
    with ctx:
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path, "--timeout-scale",
                                      FAULT_TIMEOUT_SCALE, run_id=run_id)
    expected_map = expected_outcomes.with_faults(
        expected_outcomes.healthy(cluster["ip_family"], expected_outcomes.collected_items()), expected)
    wrong = expected_outcomes.diff(expected_map, outcomes(doc))
    assert not wrong, f"fault {fault}: outcomes differ from the expected map:\n" + "\n".join(wrong) \
        + f"\n{output[-3000:]}"
    assert code == 1, f"a run with core failures exits 1, got {code}"
    left = core.list_namespace(label_selector="app.kubernetes.io/managed-by=svc-conformance").items
    assert not left, f"a failing run left namespaces behind: {[n.metadata.name for n in left]}"
    # The failure names the broken statement and carries evidence.
    for r in doc["results"]:
        if r["outcome"] == "failed":
            assert r["reason"] and r.get("evidence"), f"failure without reason/evidence: {r['check']}"

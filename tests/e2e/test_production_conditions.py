"""A healthy cluster under conditions production clusters have every day still gets exactly the healthy
outcome map and exit 0: a slower kube-proxy, a dead node's Node object, an API server restart, API
Priority and Fairness throttling the suite. Each condition is real (production_conditions.py)."""

import json
import time

import pytest
from kubernetes import client

import production_conditions as conditions
import expected_outcomes
from healthy_runs import assert_healthy_run, record
from localcluster import state
from suite_runs import outcomes, run_suite, suite_seconds

pytestmark = pytest.mark.e2e


def test_slow_kube_proxy_sync_is_waited_for(local_cluster, tmp_path, kube_api):
    """kube-proxy with minSyncPeriod 10 s (large clusters use it): rules appear up to 10 s after a
    change. Every observation is polled, so a just-created endpoint-less VIP that answers "no route"
    before its REJECT rule exists (PROXY-03) is waited for, not failed."""
    mode = local_cluster.proxy_mode
    with conditions.kube_proxy_reconfigured(state.load(), {mode: {"minSyncPeriod": "10s", "syncPeriod": "30s"}}):
        time.sleep(3)       # kube-proxy's first sync after its restart
        start = time.monotonic()
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path)
    record("slow-kube-proxy", wall_s=round(time.monotonic() - start, 1), suite_s=suite_seconds(doc), exit=code)
    assert_healthy_run(local_cluster, kube_api, code, doc, output, "kube-proxy minSyncPeriod 10s")


@pytest.mark.on_demand
def test_ghost_node_is_left_out_and_named(local_cluster, tmp_path, kube_api):
    """A Node object whose kubelet is gone (NotReady, unreachable taints): the inspector leaves it out
    at once and names it in the facts and in every PROXY evidence; its inspector pod, which can never
    confirm its deletion, is force-deleted at the end so the run's namespaces go."""
    core = client.CoreV1Api(kube_api)
    with conditions.ghost_node(core) as ghost, conditions.pods_bound_to(core, ghost) as on_ghost:
        start = time.monotonic()
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path)
        wall_s = time.monotonic() - start
        # The suite's own pods only: a DaemonSet of the cluster (kube-network-policies) stays bound to it.
        still = [p for p in core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={ghost}").items
                 if p.metadata.namespace.startswith("svcconf-")]
    record("ghost-node", wall_s=round(wall_s, 1), suite_s=suite_seconds(doc), exit=code)
    assert_healthy_run(local_cluster, kube_api, code, doc, output, "a ghost node")
    facts = doc["cluster"]
    assert ghost in facts.get("nodes_not_inspected", {}), f"the ghost node is not named in the facts: {facts}"
    assert "NotReady" in facts["nodes_not_inspected"][ghost]
    proxy = [r for r in doc["results"] if r["check"] in ("PROXY-01", "PROXY-02") and r["outcome"] == "passed"]
    assert len(proxy) == 2, "PROXY-01/02 (the rule checks) did not both pass"
    for r in proxy:
        shown = {e["name"]: e["content"] for e in r["evidence"]}
        assert f"{ghost}: NotReady" in shown.get("nodes inspected", ""), \
            f"{r['scenario']}/{r['check']}: the PROXY evidence does not name the ghost node: {sorted(shown)}"
    # The inspector pod bound to the ghost can never be confirmed deleted by a kubelet: that the run's
    # namespaces are gone (above) shows it was force-deleted.
    assert any("inspector" in name for name in on_ghost), f"no inspector pod was bound to the ghost: {on_ghost}"
    assert not still, f"pods still bound to the ghost: {[p.metadata.name for p in still]}"


def test_api_server_restart_mid_run(local_cluster, tmp_path, kube_api):
    """kube-apiserver down for 5 s, 20 s into the run: no check fails, nothing is left behind.

    Unless the cluster's DNS itself lost the restart's watch events (seen with Kubernetes 1.37 and CoreDNS
    1.14.6, 1 run in 2: a Service created 17 s after the restart answered NXDOMAIN for the whole DNS
    deadline, CoreDNS logging nothing): the run keeps its namespaces, and a failed DNS check whose name
    cluster DNS still answers NXDOMAIN minutes later, its Service there, was a true FAIL of the cluster;
    the test cannot judge the healthy path then and says so (blocked by environment)."""
    with conditions.apiserver_restarted_after(state.load(), delay_s=20) as when:
        start = time.monotonic()
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path, "--keep-namespaces")
    assert "stopped" in when and when["stopped"] - start < 60, f"the API server was not restarted mid-run: {when}"
    topology = conditions.topology_of(state.load())
    try:
        stale = conditions.stale_dns_names(doc, topology.dns_ips)
    finally:
        conditions.delete_kept_namespaces(client.CoreV1Api(kube_api))
    record("apiserver-restart", wall_s=round(time.monotonic() - start, 1), suite_s=suite_seconds(doc),
            exit=code, down_s=round(when.get("started", 0) - when["stopped"], 1), cluster_dns_stale=stale)
    wrong = set(expected_outcomes.diff(expected_outcomes.healthy(local_cluster.ip_family,
                                                                 expected_outcomes.collected_items()), outcomes(doc)))
    if stale and {w.split(":")[0] for w in wrong} == set(stale):
        pytest.skip(f"blocked by environment: cluster DNS lost watch events across the API server restart; "
                    f"still NXDOMAIN with their Services present: {stale} (the suite's FAILs were true)")
    assert_healthy_run(local_cluster, kube_api, code, doc, output, "the API server restarted mid-run")


@pytest.mark.on_demand
def test_api_priority_and_fairness_throttling(local_cluster, tmp_path, kube_api):
    """The suite's user gets a priority level of the least share, no queue, and other clients of the
    same user keep its seats busy: requests beyond them are answered 429 at once. The client retries
    them with backoff, waits retry through them; the verdict is unchanged."""
    with conditions.throttled_user_kubeconfig(kube_api, local_cluster.kubeconfig) as (kubeconfig, rejected):
        before = rejected()
        start = time.monotonic()
        with conditions.competing_load(kubeconfig):
            code, doc, output = run_suite(kubeconfig, tmp_path)
        wall_s = time.monotonic() - start
        throttled = rejected() - before
    record("apf-throttled", wall_s=round(wall_s, 1), suite_s=suite_seconds(doc), exit=code, rejected_429=throttled)
    assert_healthy_run(local_cluster, kube_api, code, doc, output, "API Priority and Fairness throttling")
    assert throttled > 0, "the priority level rejected nothing: the condition was not reproduced"


@pytest.mark.on_demand
def test_tainted_nodes_are_reported_at_once_and_tolerated_on_request(local_cluster, tmp_path, kube_api):
    """Every node tainted: each scenario fails at once (errored, the run incomplete) with the
    scheduler's reason instead of waiting out pods-ready; with --toleration the run is conformant."""
    core = client.CoreV1Api(kube_api)
    with conditions.every_node_tainted(core) as taint:
        start = time.monotonic()
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path / "untolerated")
        untolerated_s = time.monotonic() - start
        start = time.monotonic()
        tolerated = run_suite(local_cluster.kubeconfig, tmp_path / "tolerated", "--toleration", taint)
        tolerated_s = time.monotonic() - start
    record("tainted-nodes", untolerated_wall_s=round(untolerated_s, 1), untolerated_exit=code,
            tolerated_wall_s=round(tolerated_s, 1), tolerated_exit=tolerated[0])
    results = doc.get("results", [])
    assert results and all(r["outcome"] == "failed" and r["reason"].startswith("setup error:") for r in results), \
        f"every check is a setup error when no pod can be placed:\n{output[-3000:]}"
    assert all("untolerated taint" in r["reason"] + json.dumps(r["evidence"]) for r in results), \
        f"the scheduler's reason is not shown: {results[0]['reason']}"
    assert code == 8 and doc.get("verdict") == "incomplete", f"exit {code}, verdict {doc.get('verdict')}"
    assert_healthy_run(local_cluster, kube_api, *tolerated, "tainted nodes, tolerated")

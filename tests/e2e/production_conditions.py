"""Conditions production clusters have every day, made real on the local cluster, each undone on exit:
a slower kube-proxy, a dead node's leftover Node object, an API server restart, API Priority and
Fairness throttling the suite's user, mutating/validating admission. Used by test_production_conditions.py."""

import contextlib
import tempfile
import threading
import time
from pathlib import Path

import yaml
from kubernetes import client

from localcluster import components, configs, paths, processes
from localcluster.topology import Topology

GHOST = "ghost-node"
THROTTLED_SA = ("kube-system", "svcconf-throttled")
FLOW = "svcconf-throttled"


def topology_of(cluster_doc: dict) -> Topology:
    return Topology.of_record(cluster_doc)


@contextlib.contextmanager
def kube_proxy_reconfigured(cluster_doc: dict, overrides: dict):
    """Every node's kube-proxy restarted with KubeProxyConfiguration overrides (the same settings
    `python -m localcluster up --kube-proxy-config` takes), restored to the cluster's own on exit."""
    topology, bins = topology_of(cluster_doc), Path(cluster_doc["bins"])
    own = cluster_doc.get("kube_proxy_overrides") or {}

    def restart(settings: dict) -> None:
        for node in topology.node_list:
            processes.stop(node.component("kube-proxy"))
            configs.kube_proxy_config(topology, cluster_doc["proxy_mode"], node, settings)
            processes.start(node.component("kube-proxy"), components.kube_proxy(bins, node))
    restart(configs.merge(own, overrides))
    try:
        yield
    finally:
        restart(own)


@contextlib.contextmanager
def ghost_node(core: client.CoreV1Api):
    """A Node object whose kubelet is gone, as the node lifecycle controller leaves a node that died
    before anyone deleted it: Ready Unknown, the unreachable taints (DaemonSet pods tolerate them)."""
    core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=GHOST, labels={
        "kubernetes.io/os": "linux", "kubernetes.io/hostname": GHOST}), spec=client.V1NodeSpec(taints=[
            client.V1Taint(key="node.kubernetes.io/unreachable", effect="NoSchedule"),
            client.V1Taint(key="node.kubernetes.io/unreachable", effect="NoExecute")])))
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        # It had room once (pods were bound to it), so the inspector's DaemonSet pod is bound to it.
        room = {"cpu": "2", "memory": "4Gi", "pods": "110"}
        core.patch_node_status(GHOST, {"status": {"capacity": room, "allocatable": room, "conditions": [{
            "type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.", "lastHeartbeatTime": now,
            "lastTransitionTime": now}]}})
        yield GHOST
    finally:
        core.delete_node(GHOST)


@contextlib.contextmanager
def repeating(step, every_s: float, threads: int = 1):
    """step() again and again in `threads` background threads until the block ends (an error in a
    step only loses that sample); bounded: the threads stop and are joined on exit."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                step()
            except Exception:  # noqa: BLE001 - a failed step (a 429, a missed listing) is one lost sample
                pass
            stop.wait(every_s)
    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=15)


@contextlib.contextmanager
def pods_bound_to(core: client.CoreV1Api, node: str, every_s: float = 2.0):
    """Every pod seen bound to `node` while the block runs (namespace/name), listed every few seconds."""
    seen: set[str] = set()

    def look() -> None:
        pods = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}", _request_timeout=10)
        seen.update(f"{p.metadata.namespace}/{p.metadata.name}" for p in pods.items)
    with repeating(look, every_s):
        yield seen


@contextlib.contextmanager
def apiserver_restarted_after(cluster_doc: dict, delay_s: float, down_s: float = 5.0):
    """kube-apiserver stopped `delay_s` into the block, started again `down_s` later (a rolling
    control-plane upgrade, an OOM kill). Yields a dict with when it was down."""
    topology, bins = topology_of(cluster_doc), Path(cluster_doc["bins"])
    when: dict = {}

    def bounce() -> None:
        time.sleep(delay_s)
        when["stopped"] = time.monotonic()
        processes.stop("kube-apiserver", grace_s=5)
        time.sleep(down_s)
        processes.start("kube-apiserver", components.kube_apiserver(bins, topology))
        when["started"] = time.monotonic()
    thread = threading.Thread(target=bounce, daemon=True)
    thread.start()
    try:
        yield when
    finally:
        thread.join()
        processes.start("kube-apiserver", components.kube_apiserver(bins, topology))  # no-op when running


@contextlib.contextmanager
def throttled_user_kubeconfig(api_client, admin_kubeconfig: Path):
    """A kubeconfig for a cluster-admin ServiceAccount whose every request API Priority and Fairness
    puts in a priority level of its own with the least share there is and no queue: beyond a seat or
    two in flight it answers 429 at once. Yields (kubeconfig path, rejected-requests reader)."""
    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    flow = client.FlowcontrolApiserverV1Api(api_client)
    ns, name = THROTTLED_SA
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))
    made = []
    try:
        rbac.create_cluster_role_binding(client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=FLOW), role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name=name, namespace=ns)]))
        made.append(lambda: rbac.delete_cluster_role_binding(FLOW))
        flow.create_priority_level_configuration({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration",
            "metadata": {"name": FLOW}, "spec": {"type": "Limited", "limited": {
                "nominalConcurrencyShares": 1, "lendablePercent": 0, "borrowingLimitPercent": 0,
                "limitResponse": {"type": "Reject"}}}})
        made.append(lambda: flow.delete_priority_level_configuration(FLOW))
        flow.create_flow_schema({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema",
            "metadata": {"name": FLOW}, "spec": {
                "priorityLevelConfiguration": {"name": FLOW}, "matchingPrecedence": 100,
                "distinguisherMethod": {"type": "ByUser"},
                "rules": [{"subjects": [{"kind": "ServiceAccount", "serviceAccount": {"name": name, "namespace": ns}}],
                           "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
                                              "clusterScope": True, "namespaces": ["*"]}],
                           "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}})
        made.append(lambda: flow.delete_flow_schema(FLOW))
        token = core.create_namespaced_service_account_token(name, ns, client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=7200))).status.token
        admin = yaml.safe_load(admin_kubeconfig.read_text())
        cluster = admin["clusters"][0]["cluster"]
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "throttled",
               "clusters": [{"name": "local", "cluster": cluster}],
               "users": [{"name": name, "user": {"token": token}}],
               "contexts": [{"name": "throttled", "context": {"cluster": "local", "user": name}}]}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "throttled.kubeconfig"
            path.write_text(yaml.safe_dump(doc))
            yield path, lambda: rejected_requests(api_client)
    finally:
        for undo in reversed(made):
            undo()
        core.delete_namespaced_service_account(name, ns)


@contextlib.contextmanager
def competing_load(kubeconfig: Path, threads: int = 4, pause_s: float = 0.0):
    """Other clients of the same user keep the priority level's seats busy (cluster-wide pod lists),
    so the suite's own requests meet 429s as on a loaded API server. Bounded: stops on exit."""
    from kubernetes import config
    api = config.new_client_from_config(config_file=str(kubeconfig))
    core = client.CoreV1Api(api)
    try:
        with repeating(lambda: core.list_pod_for_all_namespaces(_request_timeout=10), pause_s, threads):
            yield
    finally:
        api.close()


def rejected_requests(api_client) -> int:
    """apiserver_flowcontrol_rejected_requests_total for the throttling priority level (its /metrics)."""
    response = api_client.call_api("/metrics", "GET", auth_settings=["BearerToken"], _preload_content=False)
    text = (response[0] if isinstance(response, tuple) else response).data.decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("apiserver_flowcontrol_rejected_requests_total{") and f'priority_level="{FLOW}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def apiserver_log_tail(lines: int = 20) -> str:
    log = paths.log_file("kube-apiserver")
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


TAINT = {"key": "svcconf-test/dedicated", "value": "suite", "effect": "NoSchedule"}


@contextlib.contextmanager
def every_node_tainted(core: client.CoreV1Api):
    """Every node carries a NoSchedule taint (dedicated node pools): running pods stay, new pods need
    a toleration. The taints are removed on exit."""
    names = [n.metadata.name for n in core.list_node().items]

    def set_taints(add: bool) -> None:
        for name in names:
            taints = [t for t in (core.read_node(name).spec.taints or []) if t.key != TAINT["key"]]
            body = [{"key": t.key, "value": t.value, "effect": t.effect} for t in taints] + ([TAINT] if add else [])
            core.patch_node(name, {"spec": {"taints": body}})
    set_taints(True)
    try:
        yield f"{TAINT['key']}={TAINT['value']}:{TAINT['effect']}"
    finally:
        set_taints(False)


DENY = "default-deny-all"


@contextlib.contextmanager
def default_deny_in_run_namespaces(api_client, every_s: float = 0.3):
    """A default-deny NetworkPolicy (all pods, Ingress and Egress, no rule) created in every namespace of
    a suite run as it appears, as policy engines do for new namespaces. Yields the namespaces it denied."""
    core, net = client.CoreV1Api(api_client), client.NetworkingV1Api(api_client)
    denied: set[str] = set()
    body = client.V1NetworkPolicy(metadata=client.V1ObjectMeta(name=DENY), spec=client.V1NetworkPolicySpec(
        pod_selector=client.V1LabelSelector(), policy_types=["Ingress", "Egress"]))

    def deny_new() -> None:
        for ns in core.list_namespace(label_selector="svc-conformance.io/run-id", _request_timeout=10).items:
            name = ns.metadata.name
            if name not in denied and ns.status.phase == "Active":
                try:
                    net.create_namespaced_network_policy(name, body, _request_timeout=10)
                except client.ApiException as err:
                    if err.status != 409:
                        raise
                denied.add(name)
    with repeating(deny_new, every_s):
        yield denied


def stale_dns_names(doc: dict, dns_ips: list[str]) -> dict[str, str]:
    """The failed checks' DNS questions that cluster DNS still answers NXDOMAIN now, minutes later, for a
    name whose Service exists (the run kept its namespaces): {check: qname}. Such a cluster lost watch
    events (CoreDNS logs nothing and never re-lists; e.g. lf-edge/eve#6113): its FAIL was the truth."""
    import json

    import dns.message
    import dns.query
    import dns.rcode
    stale = {}
    for r in doc.get("results", []):
        if r["outcome"] != "failed":
            continue
        failure = next((e["content"] for e in r.get("evidence", []) if e["name"] == "failure"), None)
        if not failure:
            continue
        expected = json.loads(failure).get("expected", "")
        qname, _, rest = expected.partition(" ")
        rdtype = rest.split(":")[0].strip()
        if "rcode NXDOMAIN" not in json.loads(failure).get("observed", "") or not qname.endswith("."):
            continue
        replies = [dns.query.udp(dns.message.make_query(qname, rdtype), ip, timeout=2) for ip in dns_ips]
        if all(reply.rcode() == dns.rcode.NXDOMAIN for reply in replies):
            stale[f"{r['scenario']}/{r['check']}/{r['ip_family']}"] = qname
    return stale


def delete_kept_namespaces(core: client.CoreV1Api, deadline_s: float = 240) -> None:
    """A run with --keep-namespaces left its namespaces: delete them and wait until they are gone."""
    selector = "app.kubernetes.io/managed-by=svc-conformance"
    for ns in core.list_namespace(label_selector=selector).items:
        core.delete_namespace(ns.metadata.name)
    end = time.monotonic() + deadline_s
    while core.list_namespace(label_selector=selector).items and time.monotonic() < end:
        time.sleep(2)

"""Real changes to the local cluster, each undone on exit: CoreDNS Corefile edits, iptables rules,
kube-proxy stopped, an admission policy. Used by the fault and healthy-variant tests."""

import contextlib
import subprocess
import threading
import time

from kubernetes import client

from localcluster.topology import Topology
from localcluster.addons import dns_answers


def restart_coredns(core: client.CoreV1Api, topology: Topology) -> None:
    for pod in core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items:
        core.delete_namespaced_pod(pod.metadata.name, "kube-system", grace_period_seconds=0)
    wait_dns_answers(topology, 120, "after the Corefile change")


def wait_dns_answers(topology: Topology, deadline_s: float, after: str) -> None:
    """Cluster DNS answers 3 times in a row (the local cluster's own probe) within the deadline."""
    deadline = time.monotonic() + deadline_s
    streak = 0
    while time.monotonic() < deadline and streak < 3:
        streak = streak + 1 if dns_answers(topology) else 0
        time.sleep(1)
    assert streak >= 3, f"CoreDNS did not come back {after}"


def corefile_option(core: client.CoreV1Api, topology: Topology, option: str):
    """One more option in the Corefile's kubernetes block."""
    return corefile_edit(core, topology, "       pods insecure\n", f"       pods insecure\n       {option}\n")


def corefile_edit(core: client.CoreV1Api, topology: Topology, old: str, new: str):
    return corefile_edits(core, topology, [(old, new)])


@contextlib.contextmanager
def corefile_edits(core: client.CoreV1Api, topology: Topology, edits: list[tuple[str, str]]):
    """The cluster's Corefile with each (old, new) replaced, CoreDNS restarted; undone on exit."""
    cm = core.read_namespaced_config_map("coredns", "kube-system")
    original = faulted = cm.data["Corefile"]
    for old, new in edits:
        assert old in faulted, f"{old!r} is not in the Corefile"
        faulted = faulted.replace(old, new)
    core.patch_namespaced_config_map("coredns", "kube-system", {"data": {"Corefile": faulted}})
    try:
        restart_coredns(core, topology)
        yield
    finally:
        core.patch_namespaced_config_map("coredns", "kube-system", {"data": {"Corefile": original}})
        restart_coredns(core, topology)


@contextlib.contextmanager
def dns_scaled_to_zero(api_client, topology: Topology):
    """The cluster DNS Deployment scaled to 0: the kube-dns Service stays, nothing answers behind it."""
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    replicas = apps.read_namespaced_deployment("coredns", "kube-system").spec.replicas
    apps.patch_namespaced_deployment_scale("coredns", "kube-system", {"spec": {"replicas": 0}})
    try:
        deadline = time.monotonic() + 120
        while core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items:
            assert time.monotonic() < deadline, "CoreDNS pods did not go away"
            time.sleep(1)
        yield
    finally:
        apps.patch_namespaced_deployment_scale("coredns", "kube-system", {"spec": {"replicas": replicas}})
        wait_dns_answers(topology, 180, "after being scaled to 0")


@contextlib.contextmanager
def headless_rule(namespace: str, service: str, netns: str | None = None):
    """A kube-proxy-style rule naming a headless Service, in a chain of our own (kube-proxy rewrites its own);
    on node 0, or only in the network namespace of one further node."""
    chain = "SVCCONF-FAULT"
    iptables = (["nsenter", f"--net=/run/netns/{netns}", "--"] if netns else []) + ["iptables", "-w", "-t", "nat"]
    subprocess.run([*iptables, "-N", chain], check=True)
    try:
        subprocess.run([*iptables, "-A", chain, "-m", "comment", "--comment",
                        f"{namespace}/{service}:http cluster IP", "-j", "RETURN"], check=True)
        yield
    finally:
        subprocess.run([*iptables, "-F", chain])
        subprocess.run([*iptables, "-X", chain])


@contextlib.contextmanager
def kube_proxy_stopped(cluster_doc: dict):
    """kube-proxy stopped (its existing rules stay, as after a crash): Services created now get no rules.

    The local cluster routes its Service CIDRs to its port-less node bridge: VIP traffic never leaves the machine.
    """
    from pathlib import Path

    from localcluster import components, processes
    processes.stop("kube-proxy")
    try:
        yield
    finally:
        processes.start("kube-proxy", components.kube_proxy(Path(cluster_doc["bins"])))


def host_network_daemonsets_denied(api_client):
    """Host-network DaemonSets refused, as locked-down clusters' policy engines do: the suite's node
    inspector is then forbidden."""
    return admission_denied(api_client, "deny-host-network-daemonsets", "apps", "daemonsets",
                            "!has(object.spec.template.spec.hostNetwork) || !object.spec.template.spec.hostNetwork",
                            "host-network DaemonSets are not allowed here", _host_network_daemonset_refused)


def host_network_pods_denied(api_client):
    """Host-network pods refused while DaemonSets are accepted (an SCC, a pod policy): the inspector's
    DaemonSet is created, its pods never are."""
    return admission_denied(api_client, "deny-host-network-pods", "", "pods",
                            "!has(object.spec.hostNetwork) || !object.spec.hostNetwork",
                            "host-network pods are not allowed here", _host_network_pod_refused)


def family_probe_denied(api_client):
    """The suite's dry-run Service that learns the IP families is refused (e.g. by a naming policy)."""
    return admission_denied(api_client, "deny-family-probe", "", "services",
                            "object.metadata.name != 'family-probe'", "no Service may be called family-probe",
                            _family_probe_refused)


@contextlib.contextmanager
def admission_denied(api_client, name: str, group: str, resource: str, expression: str, message: str, refused,
                     namespace_selector: dict | None = None):
    """A real ValidatingAdmissionPolicy (and binding) denying CREATE of `resource` unless `expression`
    (only in the namespaces `namespace_selector` matches, when given)."""
    constraints = {"resourceRules": [{"apiGroups": [group], "apiVersions": ["v1"],
                                      "operations": ["CREATE"], "resources": [resource]}]}
    if namespace_selector:
        constraints["namespaceSelector"] = namespace_selector
    adm = client.AdmissionregistrationV1Api(api_client)
    name = f"svcconf-test-{name}"
    adm.create_validating_admission_policy({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": constraints,
                 "validations": [{"expression": expression, "message": message}]}})
    try:
        adm.create_validating_admission_policy_binding({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name}, "spec": {"policyName": name, "validationActions": ["Deny"]}})
        try:
            # Policies take effect asynchronously: wait until a dry run is refused 3 times in a row.
            streak, deadline = 0, time.monotonic() + 60
            while streak < 3 and time.monotonic() < deadline:
                streak = streak + 1 if refused(api_client) else 0
                time.sleep(1)
            assert streak >= 3, f"the admission policy {name} did not take effect within 60 s"
            yield
        finally:
            adm.delete_validating_admission_policy_binding(name)
    finally:
        adm.delete_validating_admission_policy(name)


def _refused(create) -> bool:
    try:
        create()
        return False
    except client.ApiException as err:
        return err.status in (400, 403, 422)


def _host_network_daemonset_refused(api_client) -> bool:
    body = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "policy-probe"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "x"}]}}}}
    return _refused(lambda: client.AppsV1Api(api_client).create_namespaced_daemon_set("default", body, dry_run="All"))


def _host_network_pod_refused(api_client) -> bool:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "policy-probe"},
            "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "x"}]}}
    return _refused(lambda: client.CoreV1Api(api_client).create_namespaced_pod("default", body, dry_run="All"))


def _family_probe_refused(api_client) -> bool:
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "family-probe"},
            "spec": {"ports": [{"port": 80}]}}
    return _refused(lambda: client.CoreV1Api(api_client).create_namespaced_service("default", body, dry_run="All"))


def corefile_block(core: client.CoreV1Api, topology: Topology, block: str):
    """A server-block plugin (template, rewrite) placed before the kubernetes plugin."""
    zone = topology.cluster_domain
    text = block.replace("${zone_re}", zone.replace(".", "\\.")).replace("${zone}", zone)
    anchor = f"    kubernetes {zone} "
    indented = "".join(f"    {line}\n" for line in text.rstrip("\n").splitlines())
    return corefile_edit(core, topology, anchor, indented + anchor)


@contextlib.contextmanager
def nft_table(ruleset: str):
    """An nftables table of our own on the node (`table inet svcconf_fault`); deleted afterwards."""
    subprocess.run(["nft", "-f", "-"], input=ruleset, text=True, check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["nft", "delete", "table", "inet", "svcconf_fault"], capture_output=True)


def suite_namespace(run_id: str, scenario: str) -> str:
    """The namespace the suite gives a scenario in the run `run_id` (see fixtures/namespaces.py)."""
    return f"svcconf-{run_id.split('-', 1)[1]}-{scenario}"


@contextlib.contextmanager
def slice_tamper(api_client, namespace: str, service: str, action: str):
    """Edit EndpointSlices behind the controller's back, again and again while the suite runs (the
    controller may repair them on its next sync of the Service)."""
    discovery = client.DiscoveryV1Api(api_client)
    stop = threading.Event()

    def tamper_once() -> None:
        selector = f"kubernetes.io/service-name={service}"
        slices = discovery.list_namespaced_endpoint_slice(namespace, label_selector=selector).items
        if action == "strip-headless-label":
            for s in slices:
                if "service.kubernetes.io/headless" in (s.metadata.labels or {}):
                    discovery.patch_namespaced_endpoint_slice(s.metadata.name, namespace, {
                        "metadata": {"labels": {"service.kubernetes.io/headless": None}}})
        elif action == "create-managed":
            if not any(s.metadata.name == f"{service}-tampered" for s in slices):
                # An FQDN slice: kube-proxy and CoreDNS ignore it, so only the checks that read the
                # slices themselves (EPS-01/03/08) can see it - the outcome does not depend on timing.
                discovery.create_namespaced_endpoint_slice(namespace, {
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "FQDN",
                    "metadata": {"name": f"{service}-tampered", "labels": {
                        "kubernetes.io/service-name": service,
                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
                    "endpoints": [{"addresses": ["stranger.example"], "conditions": {"ready": True}}],
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]})
        else:
            raise ValueError(f"unknown slice-tamper action {action!r}")

    def loop() -> None:
        while not stop.wait(0.5):
            try:
                tamper_once()
            except client.ApiException:
                pass            # the namespace is not there yet, or is going away

    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(10)

"""Real changes to the local cluster, each undone on exit: CoreDNS Corefile edits, iptables rules,
kube-proxy stopped, an admission policy. Used by the fault and healthy-variant tests."""

import contextlib
import subprocess
import time

from kubernetes import client

from localcluster.topology import Topology
from localcluster.up import dns_answers


def restart_coredns(core: client.CoreV1Api, topology: Topology) -> None:
    for pod in core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items:
        core.delete_namespaced_pod(pod.metadata.name, "kube-system", grace_period_seconds=0)
    deadline = time.monotonic() + 120
    streak = 0
    while time.monotonic() < deadline and streak < 3:
        streak = streak + 1 if dns_answers(topology) else 0
        time.sleep(1)
    assert streak >= 3, "CoreDNS did not come back after the Corefile change"


def corefile_option(core: client.CoreV1Api, topology: Topology, option: str):
    """One more option in the Corefile's kubernetes block."""
    return corefile_edit(core, topology, "       pods insecure\n", f"       pods insecure\n       {option}\n")


@contextlib.contextmanager
def corefile_edit(core: client.CoreV1Api, topology: Topology, old: str, new: str):
    cm = core.read_namespaced_config_map("coredns", "kube-system")
    original = cm.data["Corefile"]
    faulted = original.replace(old, new)
    assert faulted != original, f"{old!r} is not in the Corefile"
    core.patch_namespaced_config_map("coredns", "kube-system", {"data": {"Corefile": faulted}})
    restart_coredns(core, topology)
    try:
        yield
    finally:
        core.patch_namespaced_config_map("coredns", "kube-system", {"data": {"Corefile": original}})
        restart_coredns(core, topology)


@contextlib.contextmanager
def headless_rule(namespace: str, service: str):
    """A kube-proxy-style rule naming a headless Service, in a chain of our own (kube-proxy rewrites its own)."""
    chain = "SVCCONF-FAULT"
    subprocess.run(["iptables", "-w", "-t", "nat", "-N", chain], check=True)
    try:
        subprocess.run(["iptables", "-w", "-t", "nat", "-A", chain, "-m", "comment", "--comment",
                        f"{namespace}/{service}:http cluster IP", "-j", "RETURN"], check=True)
        yield
    finally:
        subprocess.run(["iptables", "-w", "-t", "nat", "-F", chain])
        subprocess.run(["iptables", "-w", "-t", "nat", "-X", chain])


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


@contextlib.contextmanager
def host_network_daemonsets_denied(api_client):
    """A real admission policy (ValidatingAdmissionPolicy) rejecting host-network DaemonSets, as locked-down
    clusters' policy engines do: the suite's node inspector is then forbidden."""
    adm = client.AdmissionregistrationV1Api(api_client)
    name = "svcconf-test-deny-host-network-daemonsets"
    adm.create_validating_admission_policy({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                         "operations": ["CREATE"], "resources": ["daemonsets"]}]},
                 "validations": [{"expression": "!has(object.spec.template.spec.hostNetwork) || "
                                                "!object.spec.template.spec.hostNetwork",
                                  "message": "host-network DaemonSets are not allowed here"}]}})
    try:
        adm.create_validating_admission_policy_binding({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name}, "spec": {"policyName": name, "validationActions": ["Deny"]}})
        try:
            _wait_policy_active(api_client)
            yield
        finally:
            adm.delete_validating_admission_policy_binding(name)
    finally:
        adm.delete_validating_admission_policy(name)


def _wait_policy_active(api_client) -> None:
    """Policies take effect asynchronously: dry-run a host-network DaemonSet until it is refused 3 times."""
    apps = client.AppsV1Api(api_client)
    body = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "policy-probe"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "x"}]}}}}
    streak, deadline = 0, time.monotonic() + 60
    while streak < 3 and time.monotonic() < deadline:
        try:
            apps.create_namespaced_daemon_set("default", body, dry_run="All")
            streak = 0
        except client.ApiException as err:
            streak = streak + 1 if err.status in (400, 403, 422) else 0
        time.sleep(1)
    assert streak >= 3, "the admission policy did not take effect within 60 s"

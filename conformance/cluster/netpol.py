"""The run's own NetworkPolicy, and what to say when policies still drop its traffic.

Policy engines create a default-deny NetworkPolicy in every new namespace; with it the probes' DNS and
HTTP would be dropped and a healthy cluster would fail. So every namespace of the run carries one policy
that allows exactly the suite's traffic: from and to pods of the run's namespaces (namespaceSelector on
the run label) and DNS egress (port 53 and the cluster DNS Service's target ports, to any address: the
DNS pods' namespace and labels differ between distributions, and node-local caches are no pods).
NetworkPolicies are additive, so an added default-deny then changes no verdict. Where traffic is still
dropped (a cluster-wide policy, an admin policy) the failed check names the policies it found.
"""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.rest import ApiException

from svc_conformance.cluster import discovery, manifests

POLICY_NAME = "svc-conformance-own-traffic"
DNS_PORT = 53


def dns_target_ports(services: list) -> list[int]:
    """53 and the numeric target ports behind port 53 of the cluster DNS Service (e.g. 5353)."""
    ports = {DNS_PORT}
    svc = discovery.dns_service(services)
    for port in (svc.spec.ports or []) if svc is not None else []:
        if port.port == DNS_PORT and isinstance(port.target_port, int):
            ports.add(port.target_port)
    return sorted(ports)


def own_traffic_policy(run_id: str, dns_ports: list[int]) -> dict:
    run_namespaces = {"namespaceSelector": {"matchLabels": {manifests.LABEL_RUN: run_id}}}
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": POLICY_NAME,
                     "labels": {manifests.LABEL_RUN: run_id, manifests.LABEL_MANAGED: manifests.MANAGED_BY}},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [run_namespaces]}],
            "egress": [{"to": [run_namespaces]},
                       {"ports": [{"protocol": proto, "port": port} for port in dns_ports
                                  for proto in ("UDP", "TCP")]}],
        },
    }


def _summary(policy) -> str:
    spec = policy.spec
    selects = "all pods" if not (spec.pod_selector and (spec.pod_selector.match_labels
                                                         or spec.pod_selector.match_expressions)) else "some pods"
    types = "+".join(spec.policy_types or ["Ingress"])
    rules = f"{len(spec.ingress or [])} ingress / {len(spec.egress or [])} egress rules"
    return f"{policy.metadata.name} ({selects}; {types}; {rules})"


def describe(api: client.ApiClient, namespace: str) -> str | None:
    """One line naming the NetworkPolicies of the namespace, or None when there are none but ours."""
    try:
        found = client.NetworkingV1Api(api).list_namespaced_network_policy(namespace).items
    except ApiException as err:
        return f"NetworkPolicies of {namespace} could not be listed ({err.status})"
    except Exception as err:  # noqa: BLE001 - evidence only: an API outage must not turn into the verdict
        return f"NetworkPolicies of {namespace} could not be listed ({type(err).__name__})"
    return describe_found(found, namespace)


def describe_found(found: list, namespace: str) -> str | None:
    others = [p for p in found if p.metadata.name != POLICY_NAME]
    if not others:
        return None
    if len(others) < len(found):
        why = (f"the run's {POLICY_NAME} allows its own traffic, so a drop comes from beyond these policies "
               "(cluster-wide or admin policies, or the implementation)")
    else:
        why = f"the run's {POLICY_NAME} is absent (its creation was refused), so these apply alone"
    return f"NetworkPolicies in {namespace}: {', '.join(_summary(p) for p in found)}; {why}"

"""The run's own NetworkPolicy and the evidence naming the policies found (conformance/cluster/netpol.py), fed with
objects captured from the local cluster (kube-system Services; a namespace holding a default-deny and the
suite's policy)."""

from pathlib import Path

from kubernetes import client

from svc_conformance.cluster import manifests, netpol

DATA = Path(__file__).parent / "data"


def _load(name: str, kind: str) -> list:
    class Response:          # ApiClient.deserialize reads .data, as from an HTTP response
        data = (DATA / name).read_text()
    return client.ApiClient().deserialize(Response, kind).items


def test_dns_ports_are_53_and_the_dns_services_target_ports():
    services = _load("kube_system_services.json", "V1ServiceList")
    assert netpol.dns_target_ports(services) == [53]
    services[0].spec.ports[0].target_port = 5353         # OpenShift's dns-default: 53 -> 5353
    assert netpol.dns_target_ports(services) == [53, 5353]
    services[0].spec.ports[0].target_port = "dns"        # a named port cannot be resolved here
    assert netpol.dns_target_ports(services) == [53]
    assert netpol.dns_target_ports([]) == [53]


def test_own_policy_allows_the_run_namespaces_and_dns_only():
    doc = netpol.own_traffic_policy("20261204-2200-abcdef", [53, 5353])
    assert doc["metadata"]["labels"][manifests.LABEL_RUN] == "20261204-2200-abcdef"
    spec = doc["spec"]
    assert spec["podSelector"] == {} and spec["policyTypes"] == ["Ingress", "Egress"]
    run = {"namespaceSelector": {"matchLabels": {manifests.LABEL_RUN: "20261204-2200-abcdef"}}}
    assert spec["ingress"] == [{"from": [run]}]
    assert spec["egress"][0] == {"to": [run]}
    assert spec["egress"][1] == {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53},
                                           {"protocol": "UDP", "port": 5353}, {"protocol": "TCP", "port": 5353}]}


def test_evidence_names_every_policy_and_says_ours_is_there():
    found = _load("network_policies_default_deny_and_own.json", "V1NetworkPolicyList")
    line = netpol.describe_found(found, "ns1")
    assert line.startswith("NetworkPolicies in ns1: default-deny-all (all pods; Ingress+Egress; "
                           "0 ingress / 0 egress rules), svc-conformance-own-traffic (all pods; Ingress+Egress; "
                           "1 ingress / 2 egress rules)")
    assert "allows its own traffic" in line


def test_evidence_when_our_policy_is_missing_and_when_only_ours_exists():
    found = _load("network_policies_default_deny_and_own.json", "V1NetworkPolicyList")
    deny = [p for p in found if p.metadata.name != netpol.POLICY_NAME]
    ours = [p for p in found if p.metadata.name == netpol.POLICY_NAME]
    assert "is absent (its creation was refused)" in netpol.describe_found(deny, "ns1")
    assert netpol.describe_found(ours, "ns1") is None
    assert netpol.describe_found([], "ns1") is None

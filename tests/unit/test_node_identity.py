"""A node inspector's dump is believed to be the node's only with proof (conformance/proxyview/node_identity.py):
kubelet's chains, kube-proxy's state, or one of the Node's addresses local in it. Real captures: the
local cluster's node; DUMP_SCRIPT run on this machine in an empty network namespace (`ip netns add`),
in a pod-like one (a veth with 10.244.1.7 and fd00:10:244:1::7) and in the host's own (no kubelet)."""

import ipaddress
from pathlib import Path

import pytest
from kubernetes import client

from svc_conformance.proxyview import node_identity, proxyrules
from svc_conformance.proxyview.inspector import NodeState

DATA = Path(__file__).parent / "data"
HOST_IP = ipaddress.ip_address("192.0.2.2")     # this machine's address when the host capture was taken


def state(name: str) -> NodeState:
    return NodeState("node-a", proxyrules.split_inspector_output((DATA / name).read_text()))


def never_called():
    raise AssertionError("the Node's addresses are read only when no chain proves the dump")


def test_an_empty_network_namespace_is_a_complete_dump_that_proves_nothing():
    s = state("inspector_output_empty_netns.txt")
    # What made it "a kube-proxy replacement" before: complete, non-empty (nft's metainfo), mode none.
    assert s.problems() == [] and s.nft.strip() == (DATA / "nft_json_empty_netns.json").read_text().strip()
    assert s.mode == "none"
    why = node_identity.unproven(s, lambda: {HOST_IP})
    assert "not the node's network namespace" in why and "local addresses: none but loopback" in why


def test_a_pod_network_namespace_has_addresses_but_not_the_nodes():
    s = state("inspector_output_pod_netns.txt")
    assert node_identity.local_addresses(s.sections["fib_trie"], s.sections["if_inet6"]) == {
        ipaddress.ip_address("10.244.1.7"), ipaddress.ip_address("fd00:10:244:1::7")}
    why = node_identity.unproven(s, lambda: {HOST_IP})
    assert "10.244.1.7, fd00:10:244:1::7" in why and "192.0.2.2" in why


def test_the_hosts_namespace_without_kubelet_chains_is_proven_by_the_nodes_address():
    s = state("inspector_output_host_netns_no_kubelet.txt")
    assert node_identity.markers(s) == [] and s.mode == "none"
    assert node_identity.unproven(s, lambda: {HOST_IP}) is None
    assert node_identity.unproven(s, lambda: {ipaddress.ip_address("fd00::2")}) is None     # if_inet6
    assert "not the node's" in node_identity.unproven(s, lambda: {ipaddress.ip_address("10.0.0.9")})


def test_the_nodes_addresses_that_cannot_be_read_prove_nothing():
    def forbidden():
        raise RuntimeError("(403) nodes \"node-a\" is forbidden")
    why = node_identity.unproven(state("inspector_output_empty_netns.txt"), forbidden)
    assert "could not be read" in why and "forbidden" in why


@pytest.mark.parametrize(("name", "section", "expected"), [
    # The local cluster's node, DUMP_SCRIPT output: kubelet's and kube-proxy's chains (iptables + nft JSON).
    ("inspector_output_iptables_v4.txt", None,
     ["kubelet chain KUBE-IPTABLES-HINT", "kubelet chain KUBE-KUBELET-CANARY",
      "kube-proxy chain KUBE-SERVICES", "kube-proxy chain KUBE-PROXY-CANARY"]),
    ("proxyrules_iptables_save.txt", "iptables-save",
     ["kubelet chain KUBE-IPTABLES-HINT", "kubelet chain KUBE-KUBELET-CANARY",
      "kube-proxy chain KUBE-SERVICES", "kube-proxy chain KUBE-PROXY-CANARY"]),
    # An IPVS-mode capture of the filter and nat tables only: kube-proxy's state proves it.
    ("proxyrules_inspector_output.txt", None, ["kube-proxy chain KUBE-SERVICES", "IPVS virtual servers"]),
    ("proxyrules_nft_ruleset_ip6.json", "nft-json", ["kube-proxy nftables table"]),
])
def test_real_node_dumps_are_proven_by_their_chains(name, section, expected):
    s = state(name) if section is None else NodeState("node-a", {section: (DATA / name).read_text()})
    assert node_identity.markers(s) == expected
    assert node_identity.unproven(s, never_called) is None


def test_node_addresses_are_internal_and_external_ips():
    node = client.V1Node(status=client.V1NodeStatus(addresses=[
        client.V1NodeAddress(type="InternalIP", address="192.0.2.2"),
        client.V1NodeAddress(type="InternalIP", address="fd00::2"),
        client.V1NodeAddress(type="Hostname", address="node-a"),
        client.V1NodeAddress(type="ExternalIP", address="203.0.113.9")]))
    assert node_identity.node_addresses(node) == {ipaddress.ip_address(a) for a in
                                                  ("192.0.2.2", "fd00::2", "203.0.113.9")}


def test_a_node_without_kube_proxy_is_proven_by_kubelets_chains_alone():
    # The local node's nft JSON reduced to what kubelet made (a kube-proxy-free node, e.g. under an eBPF
    # replacement): still the node's, and "none" is then a finding, not a blind spot.
    import json
    doc = json.loads(state("inspector_output_iptables_v4.txt").nft)
    kept = [o for o in doc["nftables"] if "metainfo" in o or o.get("table", {}).get("name") == "mangle"
            or o.get("chain", {}).get("name") in node_identity.KUBELET_CHAINS]
    s = NodeState("node-a", {"nft-json": json.dumps({"nftables": kept}), "nft-json.status": "0\n", "end": ""})
    assert node_identity.markers(s) == ["kubelet chain KUBE-IPTABLES-HINT", "kubelet chain KUBE-KUBELET-CANARY"]
    assert s.mode == "none" and node_identity.unproven(s, never_called) is None

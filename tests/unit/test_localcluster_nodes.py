"""Several nodes on one machine: addresses, pod ranges, per-node files and command lines.

Pure logic only (no host changes); the e2e lifecycle test brings a 3-node cluster up and down.
"""

import ipaddress
import tomllib

import pytest
import yaml

from localcluster import components, configs, paths, pki
from localcluster.processes import _in_pod_cgroup
from localcluster.topology import IP_FAMILIES, NODE_NAME, Topology
from test_localcluster_config import state  # noqa: F401 - the fixture redirecting state/run paths


@pytest.mark.parametrize("family", IP_FAMILIES)
def test_nodes_have_distinct_addresses_and_pod_ranges_inside_the_cluster_ranges(family):
    topo = Topology(family, nodes=3)
    nodes = topo.node_list
    assert [n.name for n in nodes] == [NODE_NAME, f"{NODE_NAME}-worker1", f"{NODE_NAME}-worker2"]
    assert [n.netns for n in nodes] == [None, f"{NODE_NAME}-worker1", f"{NODE_NAME}-worker2"]
    assert nodes[0].ips == topo.node_ips.split(",") and nodes[0].pod_ranges == topo.node_pod_ranges
    ranges = [ipaddress.ip_network(r) for n in nodes for r in n.pod_ranges]
    assert len(set(ranges)) == len(ranges)
    cluster = [ipaddress.ip_network(c) for c in topo.pod_cidrs.split(",")]
    assert all(any(r.subnet_of(c) for c in cluster if c.version == r.version) for r in ranges)
    for node in nodes:
        assert [str(ipaddress.ip_network(r)) for r in node.pod_ranges] == node.pod_ranges   # canonical text
        for addr, fam in zip(node.addresses, topo.families):
            iface = ipaddress.ip_interface(addr)
            assert iface.network == ipaddress.ip_interface(f"{fam['node']}/{fam['node_prefix']}").network


def test_daemon_names_are_per_node_and_node_zero_keeps_the_plain_ones():
    assert components.names(1) == components.ORDER
    three = components.names(3)
    assert three[:len(components.ORDER)] == components.ORDER
    assert f"kubelet-{NODE_NAME}-worker2" in three and f"containerd-{NODE_NAME}-worker1" in three
    assert len(set(three)) == len(three)


def test_worker_configs_are_their_own(state):  # noqa: F811
    topo = Topology("dual", nodes=2)
    worker = topo.node_list[1]
    kubelet = yaml.safe_load(configs.kubelet_config(topo, worker).read_text())
    files = paths.node_files(worker.index, worker.name)
    assert kubelet["cgroupRoot"] == f"/{worker.name}" and kubelet["podLogsDir"] == str(files.pod_logs)
    assert kubelet["address"] == worker.ips[0]
    assert kubelet["containerRuntimeEndpoint"] == f"unix://{files.containerd_sock}"
    node0 = yaml.safe_load(configs.kubelet_config(topo).read_text())
    assert "cgroupRoot" not in node0 and node0["containerRuntimeEndpoint"] != kubelet["containerRuntimeEndpoint"]
    proxy = yaml.safe_load(configs.kube_proxy_config(topo, "nftables", worker).read_text())
    assert proxy["hostnameOverride"] == worker.name and proxy["bindAddress"] == worker.ips[0]
    cni = yaml.safe_load(configs.cni_conflist(topo, worker).read_text())
    assert cni["plugins"][0]["ipam"]["ranges"] == [[{"subnet": r}] for r in worker.pod_ranges]
    toml = tomllib.loads(configs.containerd_config(worker).read_text())
    assert toml["grpc"]["address"] == str(files.containerd_sock) and toml["root"] == str(files.containerd_root)
    assert files.containerd_sock != paths.CONTAINERD_SOCK


def test_worker_daemons_run_in_the_node_network_namespace_only(state):  # noqa: F811
    topo = Topology("ipv4", nodes=2)
    worker = topo.node_list[1]
    argv = components.kubelet(paths.STATE / "bin", topo, worker)
    assert argv[1:3] == [f"--net=/run/netns/{worker.netns}", "--"]       # nsenter: no mount namespace
    assert f"--hostname-override={worker.name}" in argv and f"--node-ip={worker.ips[0]}" in argv
    assert components.kube_proxy(paths.STATE / "bin")[0].endswith("kube-proxy")   # node 0: plain


def test_every_node_has_its_own_kubelet_identity(state):  # noqa: F811
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    pki.ensure(Topology("ipv4", nodes=3))
    for name in (f"{NODE_NAME}-worker1", f"{NODE_NAME}-worker2"):
        cert = x509.load_pem_x509_certificate((paths.PKI / f"{pki.kubelet_client(name)}.crt").read_bytes())
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"system:node:{name}"


@pytest.mark.parametrize(("path", "is_pod"), [
    ("/kubepods/besteffort/pod1/abc", True), ("/localcluster-worker1/kubepods/burstable/pod2/x", True),
    ("/kubepods", False), ("/", False), ("/process_api/x", False), ("/a/b/kubepods/x", False)])
def test_pod_processes_are_found_under_every_kubelets_cgroup_root(path, is_pod):
    assert _in_pod_cgroup(path) is is_pod

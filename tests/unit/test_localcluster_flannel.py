"""`up --cni flannel`: flanneld's configuration per node, the conflist it implies, and who runs."""

import json

import yaml

from localcluster import components, configs, flannel, paths
from localcluster.topology import Topology
from test_localcluster_config import state  # noqa: F401 - the fixture redirecting state/run paths


def test_net_conf_follows_the_families():
    assert flannel.net_conf(Topology("ipv4", nodes=3)) == {
        "EnableIPv4": True, "EnableIPv6": False, "Backend": {"Type": "vxlan"},
        "Network": "10.244.0.0/16", "SubnetLen": 24}
    dual = flannel.net_conf(Topology("dual", nodes=3))
    assert dual["EnableIPv4"] and dual["EnableIPv6"] and dual["IPv6Network"] == "fd00:10:244::/56"
    assert dual["IPv6SubnetLen"] == 64
    six = flannel.net_conf(Topology("ipv6", nodes=2))
    assert not six["EnableIPv4"] and "Network" not in six


def test_each_node_runs_its_flanneld_in_its_namespace(state):  # noqa: F811
    topo = Topology("dual", nodes=3, cni="flannel")
    argv, env = flannel.flanneld(paths.CACHE, topo, topo.node_list[2])
    assert argv[0].endswith("nsenter") and argv[1:3] == ["--net=/run/netns/localcluster-worker2", "--"]
    assert "--kube-subnet-mgr" in argv and "--iface=eth0" in argv and env == {"NODE_NAME": "localcluster-worker2"}
    node0, _ = flannel.flanneld(paths.CACHE, topo, topo.node_list[0])
    assert "--iface=lcnet0" in node0 and node0[0].endswith("flanneld")
    subnet_files = {a for n in topo.node_list for a in flannel.flanneld(paths.CACHE, topo, n)[0]
                    if a.startswith("--subnet-file=")}
    assert len(subnet_files) == 3            # one subnet.env per node: they share the filesystem


def test_pod_ranges_are_set_as_node_ipam_would():
    worker = Topology("dual", nodes=2).node_list[1]
    assert flannel.pod_cidr_patch(worker) == {"spec": {"podCIDR": "10.244.1.0/24",
                                                        "podCIDRs": ["10.244.1.0/24", "fd00:10:244:1::/64"]}}


def test_the_bridge_gets_flannels_mtu(state):  # noqa: F811
    for cni, mtu in (("flannel", 1450), ("routes", None)):
        topo = Topology("ipv4", nodes=2, cni=cni)
        bridge = yaml.safe_load(configs.cni_conflist(topo).read_text())["plugins"][0]
        assert bridge.get("mtu") == mtu


def test_flanneld_is_a_daemon_of_every_node_only_with_flannel():
    names = components.names(2, cni="flannel")
    assert "flanneld" in names and "flanneld-localcluster-worker1" in names
    assert not any("flanneld" in n for n in components.names(2))
    assert components.of_record({"nodes": 2, "cni": "flannel", "shape": "kubeadm"}) == \
        components.names(2, "kubeadm", "flannel")


def test_rbac_is_kube_flannels_role_bound_to_its_certificate():
    role, binding = (json.loads(d) for d in flannel.rbac_manifest().split("\n---\n"))
    assert {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]} in role["rules"]
    assert binding["subjects"][0]["name"] == "localcluster-flannel"

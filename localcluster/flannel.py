"""`up --cni flannel`: flannel's VXLAN overlay between the nodes instead of plain routes, run as k3s runs
it (a flanneld per node beside the kubelet, not a DaemonSet), with the kube subnet manager.

flanneld takes each node's pod ranges from `spec.podCIDRs` (set by `up` as the node-ipam controller would:
the ranges are fixed per node), writes them as node annotations and programs `flannel.1` (IPv4) /
`flannel-v6.1` (IPv6) VXLAN devices with a route, neighbour and FDB entry per other node. Pods are wired
by the same bridge + host-local conflist the flannel CNI plugin delegates to (flannel-io/cni-plugin is
refused by the Go module proxy), with flannel's MTU (the link's minus the 50 bytes of VXLAN).
"""

import json
import subprocess

from localcluster import paths
from localcluster.topology import NODE_BRIDGE, Node, Topology

VXLAN_DEVICES = {"ipv4": "flannel.1", "ipv6": "flannel-v6.1"}
MTU = 1450
CLIENT = "flannel"     # its client certificate (pki.CLIENTS) and kubeconfig


def net_conf(topology: Topology) -> dict:
    """kube-flannel's net-conf.json for the cluster's families (the nodes' ranges are /24 and /64)."""
    doc = {"EnableIPv4": False, "EnableIPv6": False, "Backend": {"Type": "vxlan"}}
    for fam in topology.families:
        if "." in fam["pods"]:
            doc.update({"EnableIPv4": True, "Network": fam["pods"], "SubnetLen": 24})
        else:
            doc.update({"EnableIPv6": True, "IPv6Network": fam["pods"], "IPv6SubnetLen": 64})
    return doc


def rbac_manifest() -> str:
    """kube-flannel.yml's ClusterRole, bound to flanneld's client certificate user."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "flannel"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                      {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
                      {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "flannel"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "flannel"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "localcluster-flannel"}]}
    return json.dumps(role) + "\n---\n" + json.dumps(binding)


def pod_cidr_patch(node: Node) -> dict:
    return {"spec": {"podCIDR": node.pod_ranges[0], "podCIDRs": list(node.pod_ranges)}}


def flanneld(flannel_bin, topology: Topology, node: Node) -> tuple[list[str], dict]:
    """argv (in the node's network namespace) and environment of one node's flanneld."""
    from localcluster.components import in_node
    files = paths.for_node(node)
    argv = [str(flannel_bin / "flanneld"), "--kube-subnet-mgr", "--ip-masq",
            f"--kubeconfig-file={paths.CONFIG / f'{CLIENT}.kubeconfig'}",
            f"--iface={NODE_BRIDGE if node.netns is None else 'eth0'}",
            f"--net-config-path={paths.CONFIG / 'flannel-net-conf.json'}",
            f"--subnet-file={files.config / 'flannel-subnet.env'}"]
    return in_node(node, argv), {"NODE_NAME": node.name}


def missing_routes(topology: Topology) -> list[str]:
    """Each node's routes to every other node's pod ranges through its VXLAN device; empty when the
    overlay is complete. A route missing or through another device is named."""
    missing = []
    for here in topology.node_list:
        devices = {r.get("dst"): r.get("dev") for six in (False, True) for r in _routes(here, six)}
        for there in topology.node_list:
            if there.index == here.index:
                continue
            for pod_range in there.pod_ranges:
                want = VXLAN_DEVICES["ipv6" if ":" in pod_range else "ipv4"]
                if devices.get(pod_range) != want:
                    missing.append(f"{here.name}: {pod_range} via {devices.get(pod_range) or 'nothing'} "
                                   f"(want {want})")
    return missing


def _routes(node: Node, six: bool) -> list[dict]:
    cmd = ["ip", *(["-n", node.netns] if node.netns else []), *(["-6"] if six else []), "-j", "route", "show"]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True).stdout or "[]")

"""Addresses and names of the cluster and its nodes, per IP family.

Node 0 (the control-plane node) lives in the machine's own network namespace, its address on a bridge of
its own (`lcnet0`) rather than on the machine's uplink, so the cluster does not depend on the host's
network. Every further node is a network namespace of its own, attached to that bridge by a veth pair,
with its own address and pod range (`10.244.<i>.0/24`, `fd00:10:244:<i>::/64`); nodes reach each other's
pods by routes through their node addresses.
"""

import ipaddress
from dataclasses import dataclass

NODE_NAME = "localcluster"
WORKER_NAME = NODE_NAME + "-worker"       # + index: localcluster-worker1, localcluster-worker2, ...
NODE_BRIDGE = "lcnet0"
NODE_VETH = "lcveth"                      # + index: the bridge's end of a worker node's veth pair
MAX_NODES = 8
POD_BRIDGE = "lccni0"
CNI_NETWORK = "localcluster"
CLUSTER_DOMAIN = "cluster.local"
APISERVER_PORT = 6443
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380

_V4 = {"node": "10.250.0.1", "node_prefix": 24, "pods": "10.244.0.0/16", "node_pods": "10.244.0.0/24",
       "services": "10.96.0.0/16", "kubernetes_svc": "10.96.0.1", "dns": "10.96.0.10"}
_V6 = {"node": "fd00:250::1", "node_prefix": 64, "pods": "fd00:10:244::/56", "node_pods": "fd00:10:244::/64",
       "services": "fd00:10:96::/112", "kubernetes_svc": "fd00:10:96::1", "dns": "fd00:10:96::a"}

def _v4_node(index: int) -> str:
    return f"10.250.0.{index + 1}"


def _v6_node(index: int) -> str:
    return f"fd00:250::{index + 1:x}"


def _v4_pods(index: int) -> str:
    return f"10.244.{index}.0/24"


def _v6_pods(index: int) -> str:
    return str(ipaddress.ip_network(f"fd00:10:244:{index:x}::/64"))


_PER_NODE = {"node": (_v4_node, _v6_node), "node_pods": (_v4_pods, _v6_pods)}

IP_FAMILIES = ("ipv4", "ipv6", "dual")
PROXY_MODES = ("iptables", "nftables")


@dataclass(frozen=True)
class Node:
    """One node: its name, network namespace (None: the machine's own), addresses and pod ranges."""
    index: int
    families: tuple

    @property
    def name(self) -> str:
        return NODE_NAME if self.index == 0 else f"{WORKER_NAME}{self.index}"

    @property
    def netns(self) -> str | None:
        return None if self.index == 0 else self.name

    @property
    def veth(self) -> str:
        return f"{NODE_VETH}{self.index}"

    def _per_family(self, key: str) -> list[str]:
        return [_PER_NODE[key][0 if "." in f["node"] else 1](self.index) for f in self.families]

    @property
    def ips(self) -> list[str]:
        return self._per_family("node")

    @property
    def addresses(self) -> list[str]:
        return [f"{ip}/{f['node_prefix']}" for ip, f in zip(self.ips, self.families)]

    @property
    def pod_ranges(self) -> list[str]:
        return self._per_family("node_pods")

    def component(self, base: str) -> str:
        """Process name of a per-node daemon (pid and log file): node 0 keeps the plain name."""
        return base if self.index == 0 else f"{base}-{self.name}"


@dataclass(frozen=True)
class Topology:
    ip_family: str
    cluster_domain: str = CLUSTER_DOMAIN      # kubelet clusterDomain and the Corefile's zone
    nodes: int = 1                            # node 0 is the control-plane node
    shape: str = "local"                      # "kubeadm": kube-proxy and CoreDNS as kubeadm deploys them
    cni: str = "routes"                       # "flannel": a VXLAN overlay between the nodes (localcluster.flannel)

    @classmethod
    def of_record(cls, doc: dict) -> "Topology":
        """The topology of a running cluster, from its record (localcluster.state)."""
        return cls(doc["ip_family"], doc.get("cluster_domain", CLUSTER_DOMAIN), doc.get("nodes", 1),
                   doc.get("shape", "local"), doc.get("cni", "routes"))

    @property
    def node_list(self) -> list[Node]:
        return [Node(i, tuple(self.families)) for i in range(self.nodes)]

    @property
    def families(self) -> list[dict]:
        # Primary family first: it decides the family of single-stack Services.
        return {"ipv4": [_V4], "ipv6": [_V6], "dual": [_V4, _V6]}[self.ip_family]

    def _join(self, key: str) -> str:
        return ",".join(f[key] for f in self.families)

    @property
    def node_ips(self) -> str:
        return self._join("node")

    @property
    def primary_node_ip(self) -> str:
        return self.families[0]["node"]

    @property
    def pod_cidrs(self) -> str:
        return self._join("pods")

    @property
    def service_cidrs(self) -> str:
        return self._join("services")

    @property
    def dns_ips(self) -> list[str]:
        # kubeadm's kube-dns Service has one clusterIP (its primary family), also on dual-stack clusters.
        return [f["dns"] for f in self.families][:1 if self.shape == "kubeadm" else None]

    @property
    def kubernetes_service_ips(self) -> list[str]:
        return [f["kubernetes_svc"] for f in self.families]

    @property
    def node_addresses(self) -> list[str]:
        return [f"{f['node']}/{f['node_prefix']}" for f in self.families]

    @property
    def node_pod_ranges(self) -> list[str]:
        return [f["node_pods"] for f in self.families]

    @property
    def apiserver_url(self) -> str:
        host = self.primary_node_ip
        return f"https://[{host}]:{APISERVER_PORT}" if ":" in host else f"https://{host}:{APISERVER_PORT}"

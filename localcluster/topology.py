"""Addresses and names of the cluster, per IP family.

The node's address lives on a bridge of its own (`lcnet0`) rather than on the machine's uplink, so the
cluster does not depend on the host's network and a second node (a kubelet in its own network namespace,
attached to the same bridge) can join later.
"""

from dataclasses import dataclass

NODE_NAME = "localcluster"
NODE_BRIDGE = "lcnet0"
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

IP_FAMILIES = ("ipv4", "ipv6", "dual")
PROXY_MODES = ("iptables", "nftables")


@dataclass(frozen=True)
class Topology:
    ip_family: str
    cluster_domain: str = CLUSTER_DOMAIN      # kubelet clusterDomain and the Corefile's zone

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
        return [f["dns"] for f in self.families]

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

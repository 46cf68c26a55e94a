"""Command lines of the cluster's daemons."""

import shutil
from pathlib import Path

from localcluster import paths, versions
from localcluster.topology import (APISERVER_PORT, ETCD_CLIENT_PORT, ETCD_PEER_PORT,
                                   NODE_NAME, Node, Topology)

ETCD_URL = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"
# Start order; down stops them in reverse.
ORDER = ["containerd", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
         "kube-proxy"]
NODE_DAEMONS = ("containerd", "kubelet", "kube-proxy")     # every node runs its own


def names(nodes: int, shape: str = "local", cni: str = "routes") -> list[str]:
    """Every daemon of a cluster of `nodes` nodes: node 0's in ORDER, then each further node's. The
    kubeadm shape runs kube-proxy as a DaemonSet instead, and the nodes' resolver; flannel adds a
    flanneld per node."""
    topology = Topology("ipv4", nodes=nodes)
    per_node = [d for d in NODE_DAEMONS if shape != "kubeadm" or d != "kube-proxy"]
    per_node += ["flanneld"] if cni == "flannel" else []
    node0 = [d for d in ORDER if d in per_node or d not in NODE_DAEMONS]
    node0 += (["node-resolver"] if shape == "kubeadm" else []) + (["flanneld"] if cni == "flannel" else [])
    return node0 + [node.component(d) for node in topology.node_list[1:] for d in per_node]


def of_record(doc: dict) -> list[str]:
    """The daemons of the cluster a record (localcluster.state) describes."""
    return names(doc.get("nodes", 1), doc.get("shape", "local"), doc.get("cni", "routes"))


def node_resolver(bins: Path, corefile: Path) -> list[str]:
    """The nodes' upstream resolver (kubeadm shape): CoreDNS's binary with localcluster.kubeadm's Corefile."""
    return [str(bins / "coredns"), "-conf", str(corefile)]


def in_node(node: Node | None, argv: list[str]) -> list[str]:
    """Run argv in the node's network namespace (only that: the mounts stay shared, so the kubelet's
    volume mounts are seen by its containerd)."""
    if node is None or node.netns is None:
        return argv
    return [shutil.which("nsenter") or "nsenter", f"--net=/run/netns/{node.netns}", "--", *argv]


def _pki(name: str) -> str:
    return str(paths.PKI / name)


def containerd(config: Path, node: Node | None = None) -> list[str]:
    return in_node(node, [shutil.which("containerd") or "containerd", "--config", str(config)])


def etcd() -> list[str]:
    peer = f"http://127.0.0.1:{ETCD_PEER_PORT}"
    return [shutil.which("etcd") or "etcd", "--name", NODE_NAME, "--data-dir", str(paths.ETCD_DATA),
            "--listen-client-urls", ETCD_URL, "--advertise-client-urls", ETCD_URL,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"{NODE_NAME}={peer}", "--initial-cluster-state", "new",
            "--listen-metrics-urls", "http://127.0.0.1:2381", "--quota-backend-bytes", str(2 * 1024 ** 3)]


def kube_apiserver(bins: Path, topology: Topology) -> list[str]:
    return [str(bins / "kube-apiserver"),
            f"--etcd-servers={ETCD_URL}",
            f"--advertise-address={topology.primary_node_ip}",
            "--bind-address=::" if ":" in topology.primary_node_ip else "--bind-address=0.0.0.0",
            f"--secure-port={APISERVER_PORT}",
            f"--service-cluster-ip-range={topology.service_cidrs}",
            f"--client-ca-file={_pki('ca.crt')}",
            f"--tls-cert-file={_pki('apiserver.crt')}", f"--tls-private-key-file={_pki('apiserver.key')}",
            f"--kubelet-client-certificate={_pki('apiserver-kubelet-client.crt')}",
            f"--kubelet-client-key={_pki('apiserver-kubelet-client.key')}",
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            f"--service-account-issuer=https://kubernetes.default.svc.{topology.cluster_domain}",
            f"--service-account-key-file={_pki('sa.pub')}",
            f"--service-account-signing-key-file={_pki('sa.key')}",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            "--enable-admission-plugins=NodeRestriction",
            "--profiling=false",
            "--endpoint-reconciler-type=lease",
            "--event-ttl=30m"]


def kube_controller_manager(bins: Path, topology: Topology) -> list[str]:
    return [str(bins / "kube-controller-manager"),
            f"--kubeconfig={paths.CONFIG / 'kube-controller-manager.kubeconfig'}",
            f"--authentication-kubeconfig={paths.CONFIG / 'kube-controller-manager.kubeconfig'}",
            f"--authorization-kubeconfig={paths.CONFIG / 'kube-controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1",
            f"--service-cluster-ip-range={topology.service_cidrs}",
            f"--cluster-cidr={topology.pod_cidrs}",
            f"--root-ca-file={_pki('ca.crt')}",
            f"--service-account-private-key-file={_pki('sa.key')}",
            "--use-service-account-credentials=true",
            # Pod ranges are fixed per node (topology); 1.37 dropped cloud-node-lifecycle from the list.
            "--controllers=*,-nodeipam" + (",-cloud-node-lifecycle" if versions.RELEASE.minor_number < (1, 37) else ""),
            "--leader-elect=false",
            "--profiling=false"]


def kube_scheduler(bins: Path) -> list[str]:
    kubeconfig = paths.CONFIG / "kube-scheduler.kubeconfig"
    return [str(bins / "kube-scheduler"), f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false"]


def kubelet(bins: Path, topology: Topology, node: Node | None = None) -> list[str]:
    node = node or topology.node_list[0]
    files = paths.for_node(node)
    return in_node(node, [str(bins / "kubelet"),
                          f"--config={files.config / 'kubelet.yaml'}",
                          f"--kubeconfig={files.config / 'kubelet.kubeconfig'}",
                          f"--root-dir={files.kubelet_root}",
                          f"--cert-dir={files.kubelet_root / 'pki'}",
                          f"--hostname-override={node.name}",
                          f"--node-ip={','.join(node.ips)}",
                          "--v=1"])


def kube_proxy(bins: Path, node: Node | None = None) -> list[str]:
    files = paths.for_node(node)
    return in_node(node, [str(bins / "kube-proxy"), f"--config={files.config / 'kube-proxy.yaml'}", "--v=1"])

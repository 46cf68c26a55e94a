"""What `up` checks before it changes anything: each failure names its cause and what to do."""

import os
import shutil
import socket
from pathlib import Path

from localcluster.errors import EXIT_PREFLIGHT, ClusterError
from localcluster.topology import APISERVER_PORT, ETCD_CLIENT_PORT, ETCD_PEER_PORT

# command -> Debian package that provides it
COMMANDS = {"containerd": "containerd", "ctr": "containerd", "runc": "runc", "etcd": "etcd-server",
            "iptables": "iptables", "nft": "nftables", "conntrack": "conntrack", "ip": "iproute2",
            "nc.openbsd": "netcat-openbsd", "curl": "curl", "busybox": "busybox", "gcc": "gcc"}
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap")
KERNEL_PATHS = {
    "/proc/sys/net/bridge/bridge-nf-call-iptables": "br_netfilter (modprobe br_netfilter)",
    "/sys/fs/cgroup/memory": "the cgroup v1 memory controller",
    "/proc/sys/net/netfilter": "netfilter conntrack (nf_conntrack)",
}
PORTS = (APISERVER_PORT, ETCD_CLIENT_PORT, ETCD_PEER_PORT, 10250, 10256, 10257, 10259)


def _fail(message: str) -> None:
    raise ClusterError(message, EXIT_PREFLIGHT)


def check_root() -> None:
    if os.geteuid() != 0:
        _fail("localcluster must run as root (it starts containerd, the kubelet and kube-proxy)")


def check_commands() -> None:
    missing = sorted({pkg for cmd, pkg in COMMANDS.items() if not shutil.which(cmd)})
    if missing:
        _fail(f"missing Debian packages: {' '.join(missing)} (apt-get install -y {' '.join(missing)}, "
              "or run `python -m localcluster install-deps`)")
    absent = [p for p in CNI_PLUGINS if not Path("/usr/lib/cni", p).exists()]
    if absent:
        _fail(f"missing CNI plugins {absent} in /usr/lib/cni (apt-get install -y containernetworking-plugins)")


def check_kernel(ip_family: str) -> None:
    for path, feature in KERNEL_PATHS.items():
        if not Path(path).exists():
            _fail(f"missing kernel feature: {feature} ({path} does not exist)")
    if ip_family != "ipv4" and not Path("/proc/sys/net/ipv6").exists():
        _fail("missing kernel feature: IPv6 (needed for --ip-family ipv6/dual)")


def check_ports() -> None:
    for port in PORTS:
        for family, host in ((socket.AF_INET, "127.0.0.1"),):
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((host, port))
                except OSError:
                    _fail(f"port {port} is already in use (another cluster or service?); free it and retry")


def run_all(ip_family: str) -> None:
    check_root()
    check_commands()
    check_kernel(ip_family)
    check_ports()

"""What makes a further node a node of its own on this one machine: its network namespace (veth to the
node bridge, its address, routes to every other node's pods) and its kubelet's cgroup root.

Pod networking across nodes is plain routing, the way the kubenet / host-gw setups work: every node
routes each other node's pod range to that node's address on the shared bridge. No overlay is needed
because all nodes share one L2 segment, and no extra daemon (and no module the Go proxy may refuse) is
involved; each node's own bridge CNI plugin serves its own pods.
"""

import subprocess
from pathlib import Path

from localcluster.topology import NODE_BRIDGE, Node, Topology

CGROUP_ROOT = Path("/sys/fs/cgroup")
NODE_SYSCTLS = {"net/ipv4/ip_forward": "1", "net/ipv6/conf/all/forwarding": "1",
                "net/bridge/bridge-nf-call-iptables": "1", "net/bridge/bridge-nf-call-ip6tables": "1"}


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()}")
    return proc


def _sysctl_in(netns: str, key: str, value: str) -> None:
    # /proc/sys/net is per network namespace: write it from inside the node's namespace.
    subprocess.run(["nsenter", f"--net=/run/netns/{netns}", "--", "sh", "-c",
                    f"echo {value} > /proc/sys/{key}"], check=True, capture_output=True)


def setup(topology: Topology, node: Node) -> None:
    """Create a worker node's namespace, wire it to the node bridge and give it its addresses."""
    netns = node.netns
    if _ip("netns", "pids", netns, check=False).returncode != 0:
        _ip("netns", "add", netns)
    if _ip("link", "show", node.veth, check=False).returncode != 0:
        _ip("link", "add", node.veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
    _ip("link", "set", node.veth, "master", NODE_BRIDGE, "up")
    for addr in node.addresses:
        _ip("addr", "replace", addr, "dev", "eth0", *(["nodad"] if ":" in addr else []), netns=netns)
    _ip("link", "set", "lo", "up", netns=netns)
    _ip("link", "set", "eth0", "up", netns=netns)
    # As on node 0: Service addresses stay on the node's link, never a default route elsewhere.
    for cidr in topology.service_cidrs.split(","):
        _ip("route", "replace", cidr, "dev", "eth0", netns=netns)
    for key, value in NODE_SYSCTLS.items():
        _sysctl_in(netns, key, value)


def routes(topology: Topology) -> None:
    """Every node (node 0 in the machine's namespace) routes each other node's pod ranges to it."""
    for here in topology.node_list:
        dev = NODE_BRIDGE if here.netns is None else "eth0"
        for there in topology.node_list:
            if there.index == here.index:
                continue
            for pod_range, via in zip(there.pod_ranges, there.ips):
                _ip("route", "replace", pod_range, "via", via, "dev", dev, netns=here.netns)


def _hierarchies() -> list[Path]:
    return [p for p in CGROUP_ROOT.iterdir() if p.is_dir() and not p.is_symlink()] if CGROUP_ROOT.exists() else []


def create_cgroup_root(node: Node) -> None:
    """The kubelet refuses a cgroupRoot that does not exist in every hierarchy."""
    for hierarchy in _hierarchies():
        path = hierarchy / node.name
        path.mkdir(exist_ok=True)
        for knob in ("cpuset.cpus", "cpuset.mems"):    # a v1 cpuset child starts empty: inherit
            if (hierarchy / knob).exists() and not (path / knob).read_text().strip():
                (path / knob).write_text((hierarchy / knob).read_text())


def cluster_cgroups() -> list[str]:
    """Top-level cgroups of the cluster's kubelets, as 'hierarchy/name'."""
    found = []
    for hierarchy in _hierarchies():
        for child in hierarchy.iterdir():
            if child.is_dir() and (child.name == "kubepods" or child.name.startswith("localcluster")):
                found.append(f"{hierarchy.name}/{child.name}")
    return sorted(found)


def remove_cgroups(entries: list[str]) -> None:
    """Remove cgroup trees (deepest first); a cgroup with a process left in it stays and is reported."""
    for entry in entries:
        top = CGROUP_ROOT / entry
        if not top.exists():
            continue
        for path in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            try:
                path.rmdir()
            except OSError:
                pass
        try:
            top.rmdir()
        except OSError:
            pass

"""Host networking the cluster needs (node bridge, sysctls) and the inventory `down` must leave clean.

`inventory()` lists what of the cluster can be seen on the host: processes are handled elsewhere; here
are network namespaces (one per further node), interfaces, iptables chains, nft tables, mounts and the
kubelets' cgroups. `up` stores the inventory
before it starts as the baseline, `down` removes what is new, and the project's test checks the same.
"""

import json
import subprocess
from pathlib import Path

from localcluster import nodes, paths
from localcluster.topology import NODE_BRIDGE, NODE_VETH, POD_BRIDGE, Topology

CHAIN_PREFIXES = ("KUBE-", "CNI-", "FLANNEL-")
IPT_TABLES = ("filter", "nat", "mangle", "raw")
SYSCTLS = {"net/ipv4/ip_forward": "1", "net/bridge/bridge-nf-call-iptables": "1",
           "net/bridge/bridge-nf-call-ip6tables": "1", "net/ipv6/conf/all/forwarding": "1"}


def run(*cmd: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def setup(topology: Topology) -> None:
    if run("ip", "link", "show", NODE_BRIDGE).returncode != 0:
        run("ip", "link", "add", NODE_BRIDGE, "type", "bridge", check=True)
    for addr in topology.node_addresses:
        # nodad: the node address must be usable at once, not after duplicate address detection.
        extra = ["nodad"] if ":" in addr else []
        run("ip", "addr", "replace", addr, "dev", NODE_BRIDGE, *extra)
    run("ip", "link", "set", NODE_BRIDGE, "up", check=True)
    # Service addresses never leave the machine, even while kube-proxy is stopped (fault tests):
    # they are routed to the node bridge, which has no ports, instead of the default route. (An
    # `unreachable` route would not do: local traffic is routed before the OUTPUT DNAT sees it.)
    for cidr in topology.service_cidrs.split(","):
        run("ip", "route", "replace", cidr, "dev", NODE_BRIDGE)
    for key, value in SYSCTLS.items():
        Path("/proc/sys", key).write_text(value)


def netns_names() -> list[str]:
    out = run("ip", "-j", "netns", "list").stdout.strip()
    return sorted(n["name"] for n in json.loads(out or "[]"))


def interfaces() -> list[str]:
    return sorted(link["ifname"] for link in json.loads(run("ip", "-j", "link", "show").stdout or "[]"))


def iptables_chains() -> list[str]:
    """Cluster-prefixed chains as 'family/table/chain', in both iptables backends."""
    found = []
    for family in ("iptables", "ip6tables"):
        for backend in ("nft", "legacy"):
            for table in IPT_TABLES:
                out = run(f"{family}-{backend}", "-w", "-t", table, "-S").stdout
                for line in out.splitlines():
                    parts = line.split()
                    if len(parts) >= 2 and parts[0] == "-N" and parts[1].startswith(CHAIN_PREFIXES):
                        found.append(f"{family}-{backend}/{table}/{parts[1]}")
    return sorted(found)


def nft_tables() -> list[str]:
    out = run("nft", "-j", "list", "tables").stdout or "{}"
    return sorted(f"{t['table']['family']} {t['table']['name']}"
                  for t in json.loads(out).get("nftables", []) if "table" in t)


def mounts() -> list[str]:
    prefixes = (str(paths.STATE), str(paths.RUN), "/run/netns/cni-", "/var/run/netns/cni-")
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mountpoint = line.split()[4]
        if mountpoint.startswith(prefixes):
            found.append(mountpoint)
    return found


def inventory() -> dict:
    return {"netns": netns_names(), "interfaces": interfaces(), "iptables_chains": iptables_chains(),
            "nft_tables": nft_tables(), "mounts": mounts(), "cgroups": nodes.cluster_cgroups()}


def leftovers(baseline: dict) -> dict:
    """What the cluster left: everything in the inventory now that was not there before up."""
    now = inventory()
    return {k: sorted(set(v) - set(baseline.get(k, []))) for k, v in now.items() if set(v) - set(baseline.get(k, []))}


def remove_iptables_chains() -> None:
    for entry in iptables_chains():
        tool_backend, table, chain = entry.split("/")
        # Drop the jumps into the chain from every chain first, then flush and delete it.
        rules = run(tool_backend, "-w", "-t", table, "-S").stdout.splitlines()
        for rule in rules:
            parts = rule.split()
            if parts and parts[0] == "-A" and ("-j" in parts and parts[parts.index("-j") + 1] == chain
                                              or "-g" in parts and parts[parts.index("-g") + 1] == chain):
                run(tool_backend, "-w", "-t", table, "-D", *parts[1:])
    for entry in iptables_chains():
        tool_backend, table, chain = entry.split("/")
        run(tool_backend, "-w", "-t", table, "-F", chain)
    for entry in iptables_chains():
        tool_backend, table, chain = entry.split("/")
        run(tool_backend, "-w", "-t", table, "-X", chain)


def remove_new_nft_tables(baseline: dict) -> None:
    for table in set(nft_tables()) - set(baseline.get("nft_tables", [])):
        family, name = table.split()
        run("nft", "delete", "table", family, name)


def remove_new_netns(baseline: dict) -> None:
    for name in set(netns_names()) - set(baseline.get("netns", [])):
        run("ip", "netns", "delete", name)


def remove_new_cgroups(baseline: dict) -> None:
    nodes.remove_cgroups(sorted(set(nodes.cluster_cgroups()) - set(baseline.get("cgroups", []))))


def remove_interfaces() -> None:
    veths = [name for name in interfaces() if name.startswith(NODE_VETH)]
    for name in (POD_BRIDGE, *veths, NODE_BRIDGE, "kube-ipvs0", "flannel.1", "flannel-v6.1"):
        if run("ip", "link", "show", name).returncode == 0:
            run("ip", "link", "delete", name)


def unmount_all() -> None:
    # Deepest first, lazily: a mount still busy for a moment must not keep down from finishing.
    for mountpoint in sorted(set(mounts()), key=len, reverse=True):
        run("umount", "-l", mountpoint)

"""Whose network namespace a node inspector's dump shows: the node's, or an empty or sandboxed one.

`nft -j list ruleset` prints a metainfo object even in an empty network namespace, so "no kube-proxy
rules" proves nothing until the dump is known to be the node's: a sandboxed runtime (gVisor, Kata) or a
policy that strips `hostNetwork` gives the inspector a namespace where no kube-proxy could be seen.
Proof, in this order:
- kubelet's own chains: kubelet creates `KUBE-IPTABLES-HINT` (mangle) and `KUBE-KUBELET-CANARY`
  (mangle, nat, filter) in the node's namespace whether or not kube-proxy runs (1.33:
  pkg/kubelet/kubelet_network_linux.go; not with `makeIPTablesUtilChains: false` or no iptables);
- kube-proxy's own state (`KUBE-SERVICES`, `KUBE-PROXY-CANARY`, the `kube-proxy` nft table, IPVS
  virtual servers): nothing else makes it;
- one of the Node object's InternalIP/ExternalIP addresses is a local address of the namespace
  (`/proc/net/fib_trie` "/32 host LOCAL", `/proc/net/if_inet6`), as on the host.
"""
from __future__ import annotations

import ipaddress
import json
import re

from svc_conformance.core import transient
from svc_conformance.proxyview.proxyrules_ipvs import ipvs_virtual_servers

KUBELET_CHAINS = ("KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY")
KUBE_PROXY_CHAINS = ("KUBE-SERVICES", "KUBE-PROXY-CANARY")
_DECLARED_RE = re.compile(r"^:(KUBE-[A-Z0-9-]+)\s", re.M)
_FIB_ADDR_RE = re.compile(r"^\s*\|--\s+(\S+)\s*$")


def _nft_chains(nft: str | None) -> tuple[set[str], set[str]]:
    """(chain names, table names) of `nft -j list ruleset`; empty when it is no JSON."""
    try:
        doc = json.loads(nft or "")
    except ValueError:
        return set(), set()
    chains, tables = set(), set()
    for item in doc.get("nftables", []) if isinstance(doc, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("chain"), dict):
            chains.add(str(item["chain"].get("name")))
        if isinstance(item, dict) and isinstance(item.get("table"), dict):
            tables.add(str(item["table"].get("name")))
    return chains, tables


def markers(state) -> list[str]:
    """What in the dump only the node's own namespace holds: kubelet's and kube-proxy's chains."""
    chains, tables = _nft_chains(state.nft)
    chains |= set(_DECLARED_RE.findall(state.iptables))
    found = [f"kubelet chain {c}" for c in KUBELET_CHAINS if c in chains]
    found += [f"kube-proxy chain {c}" for c in KUBE_PROXY_CHAINS if c in chains]
    if "kube-proxy" in tables:
        found.append("kube-proxy nftables table")
    if ipvs_virtual_servers(state.ipvs):
        found.append("IPVS virtual servers")
    return found


def local_addresses(fib_trie: str | None, if_inet6: str | None) -> set:
    """The namespace's own addresses: fib_trie entries with a "/32 host LOCAL" line, if_inet6 rows."""
    found = set()
    last = None
    for line in (fib_trie or "").splitlines():
        m = _FIB_ADDR_RE.match(line)
        if m:
            last = m.group(1)
        elif last and line.split()[:3] == ["/32", "host", "LOCAL"]:
            found.add(ipaddress.ip_address(last))
    for line in (if_inet6 or "").splitlines():
        hexaddr = line.split()[0] if line.split() else ""
        if re.fullmatch(r"[0-9a-fA-F]{32}", hexaddr):
            found.add(ipaddress.IPv6Address(int(hexaddr, 16)))
    return {a for a in found if not a.is_loopback}


def node_addresses(node_object) -> set:
    """InternalIP and ExternalIP addresses from a Node object's status."""
    found = set()
    for addr in (getattr(node_object.status, "addresses", None) or []):
        if addr.type in ("InternalIP", "ExternalIP"):
            try:
                found.add(ipaddress.ip_address(addr.address))
            except ValueError:
                continue
    return found


def unproven(state, addresses_of_node) -> str | None:
    """None when the dump is the node's network namespace, else why it cannot be trusted.
    `addresses_of_node()` gives the Node's addresses; it is called only when no chain proves it."""
    if markers(state):
        return None
    local = local_addresses(state.sections.get("fib_trie"), state.sections.get("if_inet6"))
    try:
        wanted = addresses_of_node()
    except Exception as err:  # noqa: BLE001 - without the Node's addresses nothing is proven
        if transient.is_transient(err):
            raise               # API trouble: the wait around the dump tries again (waits.poll)
        return f"it shows no kubelet or kube-proxy chain, and the Node's addresses could not be read: " \
               f"{' '.join(str(err).split())[:200]}"
    if wanted & local:
        return None
    seen = ", ".join(sorted(map(str, local))) or "none but loopback"
    return ("it is not the node's network namespace: no kubelet chain (KUBE-IPTABLES-HINT, "
            "KUBE-KUBELET-CANARY), no kube-proxy state, and none of the Node's addresses "
            f"({', '.join(sorted(map(str, wanted))) or 'none'}) is local there (local addresses: {seen}); "
            "a sandboxed runtime or a policy that removed hostNetwork?")

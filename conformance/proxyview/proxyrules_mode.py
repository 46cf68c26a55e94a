"""Which kube-proxy mode a node's dumps show: node-wide (anything of kube-proxy, stale rules included) and
for this run's own Services only. kube-proxy does not clean up when it is replaced (an eBPF dataplane
takes over; the old `default/kubernetes` rules stay), so a leftover `KUBE-SVC-` jump or a foreign IPVS
virtual server says nothing about who serves the run: the run's mode is read from artifacts that name
its namespaces (every one starts with the run marker) or sit on its ClusterIPs (IPVS names nothing).
Split from proxyrules.py, which re-exports the public functions."""
from __future__ import annotations

import re

from svc_conformance.proxyview.proxyrules_ipvs import ipvs_virtual_servers
from svc_conformance.proxyview.proxyrules_nft import _load_nft_json, _nft_has_kube_proxy_table, _nft_json_objects

# "ns/svc:port cluster IP", ns/svc:port, "masquerade traffic for ns/svc:port external destinations".
_NS_SVC_RE = re.compile(r"(?:^|\s)([a-z0-9][a-z0-9.-]*)/([a-z0-9][a-z0-9.-]*)(?=$|[:\s])")
_COMMENT_RE = re.compile(r'--comment\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))')
# nftables chain <kind>-<HASH8>-ns/svc/proto/port
_NFT_CHAIN_RE = re.compile(r"^[a-z]+-[A-Z2-7]{8}-([a-z0-9][a-z0-9.-]*)/([a-z0-9][a-z0-9.-]*)/")
_NFT_TEXT_RE = re.compile(r'(?:[a-z]+-[A-Z2-7]{8}-|comment ")([a-z0-9][a-z0-9.-]*)/([a-z0-9][a-z0-9.-]*)[/:"]')


def _nat_services_rules(iptables_dump: str | None) -> list[str]:
    rules, table = [], None
    for line in (iptables_dump or "").splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif table == "nat" and line.startswith("-A KUBE-SERVICES "):
            rules.append(line)
    return rules


def detect_proxy_mode(iptables_dump: str | None, nft_dump: str | None, ipvs_dump: str | None) -> str:
    """iptables | nftables | ipvs | none, from one node's dumps (any may be None or empty), whoever's
    rules they are (stale ones too): what kube-proxy state the node holds at all.

    iptables: nat KUBE-SERVICES jumps to KUBE-SVC-* chains (no other mode makes them);
    nftables: a kube-proxy table; ipvs: nat KUBE-SERVICES matching ipset KUBE-CLUSTER-IP,
    or IPVS virtual servers; none: nothing of kube-proxy (e.g. an eBPF replacement).
    """
    nat_services = _nat_services_rules(iptables_dump)
    if any("-j KUBE-SVC-" in r for r in nat_services):
        return "iptables"
    if _nft_has_kube_proxy_table(nft_dump):
        return "nftables"
    if any("--match-set KUBE-CLUSTER-IP " in r for r in nat_services) or ipvs_virtual_servers(ipvs_dump):
        return "ipvs"
    return "none"


def iptables_services(iptables_dump: str | None) -> set[str]:
    """"ns/svc" named by the comments of kube-proxy's rules (chains KUBE-*), any table."""
    found = set()
    for line in (iptables_dump or "").splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] not in ("-A", "-I") or not parts[1].startswith("KUBE-"):
            continue
        for m in _COMMENT_RE.finditer(line):
            comment = m.group(1) if m.group(1) is not None else m.group(2)
            found.update(f"{ns}/{svc}" for ns, svc in _NS_SVC_RE.findall(comment))
    return found


def nft_services(nft_dump: str | None) -> set[str]:
    """"ns/svc" named by chains and element comments of the `ip|ip6 kube-proxy` tables."""
    if not nft_dump or not nft_dump.strip():
        return set()
    doc = _load_nft_json(nft_dump)
    if doc is None:
        return _nft_text_services(nft_dump)
    found = set()
    for kind, obj in _nft_json_objects(doc):
        if obj.get("table") != "kube-proxy" or kind not in ("chain", "map", "set"):
            continue
        m = _NFT_CHAIN_RE.match(str(obj.get("name", "")))
        if m:
            found.add(f"{m.group(1)}/{m.group(2)}")
        for elem in obj.get("elem", []) if kind != "chain" else []:
            key = elem[0] if isinstance(elem, list) and elem else elem
            comment = key["elem"].get("comment", "") if isinstance(key, dict) and "elem" in key else ""
            found.update(f"{ns}/{svc}" for ns, svc in _NS_SVC_RE.findall(comment))
    return found


def _nft_text_services(text: str) -> set[str]:
    found, in_kube_proxy = set(), False
    for line in text.splitlines():
        m = re.match(r"^table\s+(\S+)\s+(\S+)\s*\{", line.strip())
        if m:
            in_kube_proxy = m.group(2) == "kube-proxy"
        elif in_kube_proxy:
            found.update(f"{ns}/{svc}" for ns, svc in _NFT_TEXT_RE.findall(line))
    return found


def _of_run(services: set[str], marker: str) -> list[str]:
    return sorted(s for s in services if marker and s.startswith(marker))


def run_proxy_mode(iptables_dump: str | None, nft_dump: str | None, ipvs_dump: str | None,
                   marker: str, vips=()) -> str | None:
    """The mode kube-proxy programs this run's Services in on one node: iptables when kube-proxy's
    iptables rules name a namespace starting with `marker`, nftables when its nft table does, ipvs when
    a virtual server sits on one of the run's ClusterIPs `vips`; None when nothing of the run is there
    (yet: kube-proxy may not have synced; or kube-proxy is stopped, or replaced and its rules stale)."""
    if _of_run(iptables_services(iptables_dump), marker):
        return "iptables"
    if _of_run(nft_services(nft_dump), marker):
        return "nftables"
    if vips and ipvs_virtual_servers(ipvs_dump, list(vips)):
        return "ipvs"
    return None


def stale_services(iptables_dump: str | None, nft_dump: str | None, ipvs_dump: str | None,
                   marker: str, vips=()) -> list[str]:
    """kube-proxy state on a node that is not this run's: the Services its rules name, and IPVS
    virtual servers on other addresses (evidence when nothing of the run is programmed)."""
    named = (iptables_services(iptables_dump) | nft_services(nft_dump)) - set(_of_run(
        iptables_services(iptables_dump) | nft_services(nft_dump), marker))
    run_vips = set(ipvs_virtual_servers(ipvs_dump, list(vips))) if vips else set()
    return sorted(named) + [f"ipvs {vs}" for vs in ipvs_virtual_servers(ipvs_dump) if vs not in run_vips]

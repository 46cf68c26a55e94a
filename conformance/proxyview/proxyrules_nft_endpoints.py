"""The endpoints kube-proxy's nftables chains of one Service DNAT to, as "ip:port" ("[ip6]:port").

Releases differ in where the DNAT is: up to 1.36 each endpoint has its own chain
(`endpoint-…-ns/svc/tcp/http__10.244.0.5/8080 { … dnat to 10.244.0.5:8080 }`) that the service chain
picks with `numgen … vmap`; 1.37 keeps endpoint chains only for session affinity and DNATs in the
service chain itself (`dnat to 10.244.1.2:53`, or `dnat ip to numgen random mod 2 map { 0 : 10.244.0.4
. 8080, … }`). Reading the DNAT of every chain named after the Service covers both.
"""
from __future__ import annotations

import re

from svc_conformance.proxyview.proxyrules_names import _nft_chain_re
from svc_conformance.proxyview.proxyrules_nft import _BLOCK_RE, _load_nft_json, _nft_json_objects

_TEXT_SINGLE = re.compile(r"\bdnat (?:ip6? )?to (\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)")
_TEXT_CONCAT = re.compile(r"([0-9a-fA-F:.]+) \. (\d+)\b")


def _endpoint(addr: str, port) -> str:
    addr = addr.strip("[]")
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def _text_dnat_targets(rule: str) -> list[str]:
    if "dnat" not in rule:
        return []
    single = _TEXT_SINGLE.search(rule)
    if single:
        return [_endpoint(single.group(1), single.group(2))]
    tail = rule[rule.index("dnat"):]
    return [_endpoint(a, p) for a, p in _TEXT_CONCAT.findall(tail)]


def _json_dnat_targets(node) -> list[str]:
    """Every (addr, port) a JSON `dnat` statement can send to: a plain addr/port, an addr . port concat,
    or the data of a numgen map of such concats."""
    if isinstance(node, list):
        return [t for n in node for t in _json_dnat_targets(n)]
    if not isinstance(node, dict):
        return []
    if "dnat" in node and isinstance(node["dnat"], dict):
        dnat = node["dnat"]
        addr = dnat.get("addr")
        if isinstance(addr, str) and "port" in dnat:
            return [_endpoint(addr, dnat["port"])]
        return _json_concats(addr)
    return [t for v in node.values() for t in _json_dnat_targets(v)]


def _json_concats(node) -> list[str]:
    if isinstance(node, list):
        return [t for n in node for t in _json_concats(n)]
    if not isinstance(node, dict):
        return []
    concat = node.get("concat")
    if isinstance(concat, list) and len(concat) == 2 and isinstance(concat[0], str):
        return [_endpoint(concat[0], concat[1])]
    return [t for v in node.values() for t in _json_concats(v)]


def nft_service_endpoints(ruleset: str | None, namespace: str, service: str) -> list[str]:
    """Sorted "ip:port" DNAT targets of the kube-proxy chains named after ns/svc (any table family)."""
    if not ruleset or not ruleset.strip():
        return []
    chain_re = _nft_chain_re(namespace, service)
    found: set[str] = set()
    doc = _load_nft_json(ruleset)
    if doc is not None:
        for kind, obj in _nft_json_objects(doc):
            if kind == "rule" and chain_re.match(obj.get("chain", "")):
                found.update(_json_dnat_targets(obj.get("expr", [])))
        return sorted(found)
    chain = None
    for raw in ruleset.splitlines():
        line = raw.strip()
        m = _BLOCK_RE.match(line)
        if m:
            chain = m.group(2) if m.group(1) == "chain" and chain_re.match(m.group(2)) else None
        elif line == "}":
            chain = None
        elif chain:
            found.update(_text_dnat_targets(line))
    return sorted(found)


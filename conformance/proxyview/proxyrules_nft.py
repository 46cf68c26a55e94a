"""kube-proxy's nftables state (`nft -j list ruleset` JSON or `nft list ruleset` text) for one Service:
every artifact naming it (PROXY-01) and the forwarding element of one ClusterIP (PROXY-02).
Split from proxyrules.py, which re-exports the public functions."""
from __future__ import annotations

import json
import re

from svc_conformance.proxyview.proxyrules_names import _comment_names, _ip, _nft_chain_re, _same_ip

# --- nftables --------------------------------------------------------------------------------


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside quotes and braces."""
    parts, depth, quote, cur = [], 0, False, []
    for ch in text:
        if ch == '"':
            quote = not quote
        elif not quote and ch == "{":
            depth += 1
        elif not quote and ch == "}":
            depth -= 1
        if ch == sep and depth == 0 and not quote:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _braces_closed(text: str) -> bool:
    depth, quote = 0, False
    for ch in text:
        if ch == '"':
            quote = not quote
        elif not quote:
            depth += (ch == "{") - (ch == "}")
    return depth <= 0


_BLOCK_RE = re.compile(r"^(chain|set|map|flowtable|counter|quota|limit|secmark|synproxy|ct \w+)\s+(\S+)\s*\{$")
_TARGET_RE = re.compile(r"\b(?:goto|jump)\s+([^\s,}]+)")
_SETREF_RE = re.compile(r"@([^\s,}]+)")
_NFT_COMMENT_RE = re.compile(r'comment\s+"((?:[^"\\]|\\.)*)"')


def _nft_text_artifacts(text: str, namespace: str, service: str) -> list[str]:
    chain_re = _nft_chain_re(namespace, service)
    found: list[str] = []
    table = None
    block: tuple[str, str] | None = None  # (kind, name)
    pending = None  # an `elements = { ...` spanning several lines

    def element_hits(kind: str, name: str, body: str) -> None:
        inner = body[body.index("{") + 1: body.rindex("}")]
        for elem in _split_top(inner):
            comments = _NFT_COMMENT_RE.findall(elem)
            targets = _TARGET_RE.findall(elem)
            if any(_comment_names(c, namespace, service) for c in comments) or \
                    any(chain_re.match(t) for t in targets):
                found.append(f"{table} {kind} {name} element {elem}")

    for raw in text.splitlines():
        line = raw.strip()
        if pending is not None:
            pending += " " + line
            if _braces_closed(pending):
                element_hits(block[0], block[1], pending)
                pending = None
            continue
        m = re.match(r"^table\s+(\S+)\s+(\S+)\s*\{$", line)
        if m:
            table, block = f"{m.group(1)} {m.group(2)}", None
            continue
        m = _BLOCK_RE.match(line)
        if m:
            block = (m.group(1), m.group(2))
            if block[0] in ("chain", "set", "map") and chain_re.match(block[1]):
                found.append(f"{table} {block[0]} {block[1]}")
            continue
        if line == "}":
            if block is not None:
                block = None
            else:
                table = None
            continue
        if block is None or chain_re.match(block[1]):
            continue  # a matching chain/set is reported once, not rule by rule
        kind, name = block
        if kind in ("set", "map") and line.startswith("elements = {"):
            if _braces_closed(line):
                element_hits(kind, name, line)
            else:
                pending = line
        elif kind == "chain":
            refs = _TARGET_RE.findall(line) + _SETREF_RE.findall(line)
            comments = _NFT_COMMENT_RE.findall(line)
            if any(chain_re.match(r) for r in refs) or \
                    any(_comment_names(c, namespace, service) for c in comments):
                found.append(f"{table} chain {name} rule: {line}")
    return found


def _json_value_text(value) -> str:
    """nft JSON element key -> the text nft would print."""
    if isinstance(value, dict):
        if "concat" in value:
            return " . ".join(_json_value_text(v) for v in value["concat"])
        if "prefix" in value:
            return f"{value['prefix']['addr']}/{value['prefix']['len']}"
        if "range" in value:
            return "-".join(_json_value_text(v) for v in value["range"])
        if "elem" in value:
            return _json_value_text(value["elem"].get("val"))
        for verdict in ("goto", "jump"):
            if verdict in value:
                return f"{verdict} {value[verdict].get('target')}"
        return json.dumps(value, sort_keys=True)
    return str(value)


def _json_refs(node) -> list[str]:
    """Every jump/goto target and @set reference anywhere in a JSON rule or element."""
    refs: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("jump", "goto") and isinstance(v, dict) and "target" in v:
                refs.append(v["target"])
            else:
                refs.extend(_json_refs(v))
    elif isinstance(node, list):
        for v in node:
            refs.extend(_json_refs(v))
    elif isinstance(node, str) and node.startswith("@"):
        refs.append(node[1:])
    return refs


def _nft_json_objects(doc: dict):
    """(kind, object) of each well-formed entry of `nft -j list ruleset` ({"table": {...}} and so on)."""
    for item in doc.get("nftables", []):
        if isinstance(item, dict) and len(item) == 1:
            ((kind, obj),) = item.items()
            if isinstance(obj, dict):
                yield kind, obj


def _nft_json_artifacts(doc: dict, namespace: str, service: str) -> list[str]:
    chain_re = _nft_chain_re(namespace, service)
    found: list[str] = []
    for kind, obj in _nft_json_objects(doc):
        table = f"{obj.get('family')} {obj.get('table')}"
        name = obj.get("name", "")
        if kind in ("chain", "set", "map"):
            if chain_re.match(name):
                found.append(f"{table} {kind} {name}")
                continue
            for elem in obj.get("elem", []) if kind != "chain" else []:
                key, value = (elem[0], elem[1]) if kind == "map" and isinstance(elem, list) else (elem, None)
                comment = key["elem"].get("comment", "") if isinstance(key, dict) and "elem" in key else ""
                if _comment_names(comment, namespace, service) or \
                        any(chain_re.match(r) for r in _json_refs(value)):
                    text = _json_value_text(key)
                    if comment:
                        text += f' comment "{comment}"'
                    if value is not None:
                        text += f" : {_json_value_text(value)}"
                    found.append(f"{table} {kind} {name} element {text}")
        elif kind == "rule":
            chain = obj.get("chain", "")
            if chain_re.match(chain):
                continue
            refs = [r for r in _json_refs(obj.get("expr", [])) if chain_re.match(r)]
            if refs or _comment_names(obj.get("comment", ""), namespace, service):
                found.append(f"{table} chain {chain} rule handle {obj.get('handle')}: "
                             + (", ".join(refs) or f'comment "{obj.get("comment")}"'))
    return found


def _load_nft_json(ruleset: str):
    text = ruleset.strip()
    if not text.startswith("{"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"nft ruleset looks like JSON but does not parse: {exc}") from exc


def nft_artifacts(ruleset: str | None, namespace: str, service: str) -> list[str]:
    """kube-proxy nftables objects for ns/svc, from `nft list ruleset` or `nft -j list ruleset`:
    chains (and affinity sets) named `…-ns/svc/…`, map/set elements whose comment or verdict
    names them, and rules elsewhere that jump to them."""
    if not ruleset or not ruleset.strip():
        return []
    doc = _load_nft_json(ruleset)
    if doc is not None:
        return _nft_json_artifacts(doc, namespace, service)
    return _nft_text_artifacts(ruleset, namespace, service)


# Forwarding (PROXY-02): the `service-ips` verdict-map element for one VIP that sends it to the
# Service's chain (service-… for Cluster, local-… for internalTrafficPolicy Local), in a table
# that exists as a whole, to a chain that exists there and has rules. A no-endpoints Service has
# its element in `no-endpoint-services` (goto reject-chain / drop) instead, which never matches.

_NFT_L4 = {"tcp": "tcp", "udp": "udp", "sctp": "sctp", "6": "tcp", "17": "udp", "132": "sctp"}
_NFT_CHAIN_LINE_DECL = ("type ", "comment ", "policy ", "devices ")


def _nft_service_chain_re(namespace: str, service: str) -> re.Pattern:
    return re.compile(rf"^(?:service|local)-[A-Z2-7]{{8}}-{re.escape(namespace)}/{re.escape(service)}"
                      r"/(tcp|udp|sctp)/")


def _nft_text_tables(text: str) -> dict[tuple[str, str], dict]:
    """(family, table) -> {"maps": {name: [element text]}, "chains": {name: [rule line]}} for each
    table of `nft list ruleset` text whose closing brace was seen (a truncated dump is dropped)."""
    tables: dict[tuple[str, str], dict] = {}
    table = block = pending = None
    for raw in text.splitlines():
        line = raw.strip()
        if pending is not None:  # an `elements = { …` spanning several lines
            pending += " " + line
            if _braces_closed(pending):
                table["maps"][block[1]] += _split_top(pending[pending.index("{") + 1: pending.rindex("}")])
                pending = None
            continue
        m = re.match(r"^table\s+(\S+)\s+(\S+)\s*\{$", line)
        if m:
            key, table, block = (m.group(1), m.group(2)), {"maps": {}, "chains": {}}, None
            continue
        if table is None or not line:
            continue
        m = _BLOCK_RE.match(line)
        if m:
            block = (m.group(1), m.group(2))
            if block[0] in ("map", "chain"):
                table[block[0] + "s"][block[1]] = []
        elif line == "}":
            if block is not None:
                block = None
            else:
                tables[key], table = table, None
        elif block and block[0] == "map" and line.startswith("elements = {"):
            pending = line
            if _braces_closed(line):
                table["maps"][block[1]] += _split_top(line[line.index("{") + 1: line.rindex("}")])
                pending = None
        elif block and block[0] == "chain" and not line.startswith(_NFT_CHAIN_LINE_DECL):
            table["chains"][block[1]].append(line)
    return tables


def _nft_text_element(elem: str) -> tuple[list[str], str] | None:
    """'10.96.0.1 . tcp . 443 [comment "…"] : goto chain' -> (["10.96.0.1", "tcp", "443"], "goto chain")."""
    key, sep, verdict = elem.rpartition(" : ")  # IPv6 keys have ':' but never ' : '
    if not sep:
        return None
    return [part.split()[0] for part in key.split(" . ") if part.split()], " ".join(verdict.split())


def _nft_json_tables(doc: dict) -> dict[tuple[str, str], dict]:
    """The same shape as _nft_text_tables from `nft -j list ruleset`: element text is
    `key : verdict` as nft would print it; a chain's "rules" are their handles."""
    tables: dict[tuple[str, str], dict] = {}
    for kind, obj in _nft_json_objects(doc):
        if kind == "table":
            tables.setdefault((obj.get("family"), obj.get("name")), {"maps": {}, "chains": {}})
            continue
        table = tables.setdefault((obj.get("family"), obj.get("table")), {"maps": {}, "chains": {}})
        if kind == "map":
            elems = table["maps"].setdefault(obj.get("name"), [])
            for elem in obj.get("elem", []):
                if isinstance(elem, list) and len(elem) == 2:
                    elems.append(f"{_json_value_text(elem[0])} : {_json_value_text(elem[1])}")
        elif kind == "chain":
            table["chains"].setdefault(obj.get("name"), [])
        elif kind == "rule":
            table["chains"].setdefault(obj.get("chain"), []).append(f"handle {obj.get('handle')}")
    return tables


def nft_forwarding(ruleset: str | None, namespace: str, service: str, vip: str) -> list[str]:
    """The kube-proxy `service-ips` map elements that forward `vip` for ns/svc, from `nft -j list
    ruleset` (what the inspector dumps) or `nft list ruleset` text: table `ip|ip6 kube-proxy`,
    key `<vip> . tcp|udp|sctp . <port>`, verdict `goto service-<HASH>-ns/svc/<proto>/<port>`
    (or `local-…`), whose chain exists in that table with at least one rule. Each hit reads
    "ip kube-proxy map service-ips element 10.96.120.15 . tcp . 80 : goto service-…
    (chain has 2 rules)". An element in `no-endpoint-services` never matches."""
    want = _ip(vip)
    if not ruleset or not ruleset.strip():
        return []
    doc = _load_nft_json(ruleset)
    tables = _nft_json_tables(doc) if doc is not None else _nft_text_tables(ruleset)
    chain_re = _nft_service_chain_re(namespace, service)
    found = []
    for (family, name), table in tables.items():
        if family not in ("ip", "ip6") or name != "kube-proxy":
            continue
        for elem in table["maps"].get("service-ips", []):
            parsed = _nft_text_element(elem)
            if parsed is None or len(parsed[0]) != 3:
                continue
            (addr, proto, _port), verdict = parsed
            action, _, target = verdict.partition(" ")
            m = chain_re.match(target) if action in ("goto", "jump") else None
            if not m or _NFT_L4.get(proto) != m.group(1) or not _same_ip(addr, want):
                continue
            rules = table["chains"].get(target, [])
            if rules:
                found.append(f"{family} {name} map service-ips element {elem} "
                             f"(chain has {len(rules)} rule{'s' * (len(rules) != 1)})")
    return found


def _nft_has_kube_proxy_table(ruleset: str | None) -> bool:
    if not ruleset or not ruleset.strip():
        return False
    doc = _load_nft_json(ruleset)
    if doc is not None:
        return any(isinstance(i, dict) and isinstance(i.get("table"), dict)
                   and i["table"].get("name") == "kube-proxy" for i in doc.get("nftables", []))
    return re.search(r"^table\s+(ip|ip6|inet)\s+kube-proxy\s*\{", ruleset, re.M) is not None

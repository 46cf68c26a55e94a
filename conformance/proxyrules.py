"""Reading kube-proxy state dumps taken on a node (PROXY-01/02/04/05).

Each function answers one question about one service, `<namespace>/<service>`, and must never
confuse it with a service whose name merely starts the same way (`ns1/web` vs `ns1/web-hl`,
`ns1/webx`, `app-ns1/web`). A returned artifact is the text a failing check shows as evidence.

Formats (kube-proxy 1.33):
- iptables: rule comments `"ns/svc:port cluster IP"`, `"ns/svc cluster IP"` (unnamed port),
  `ns/svc:port` (KUBE-SEP, unquoted), `"ns/svc:port -> ip:port"`, `"ns/svc:port has no
  endpoints"`, `"masquerade traffic for ns/svc:port external destinations"`.
- nftables: table `ip|ip6 kube-proxy`; chains `<kind>-<HASH8>-ns/svc/proto/port[__ep]`; map
  elements whose comment (`"ns/svc:port"`) or verdict (`goto service-…-ns/svc/…`) names them.
- IPVS: virtual servers from `ipvsadm -Ln`, `ipvsadm-save -n` or `/proc/net/ip_vs` (hex).
"""
from __future__ import annotations

import ipaddress
import json
import re

# --- shared name matching --------------------------------------------------------------------


def _comment_names(comment: str, namespace: str, service: str) -> bool:
    """True if `ns/svc` appears in the comment as a whole word: start or space before it,
    end, ':' or space after it. So "ns1/web:http" and "masquerade traffic for ns1/web:http"
    match, "ns1/web-hl", "ns1/webx" and "app-ns1/web" do not."""
    token = re.escape(f"{namespace}/{service}")
    return re.search(rf"(?:^|\s){token}(?=$|[:\s])", comment) is not None


def _nft_chain_re(namespace: str, service: str) -> re.Pattern:
    # <kind>-<8 base32 chars>-ns/svc/... ; anchoring at the hash keeps "app-ns1/web/" out.
    return re.compile(rf"^[a-z]+-[A-Z2-7]{{8}}-{re.escape(namespace)}/{re.escape(service)}/")


# --- iptables --------------------------------------------------------------------------------

_COMMENT_RE = re.compile(r'--comment\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def iptables_artifacts(dump: str | None, namespace: str, service: str) -> list[str]:
    """Rule lines (iptables-save / ip6tables-save text, any tables) whose comment names ns/svc."""
    found = []
    for line in (dump or "").splitlines():
        line = line.strip()
        if not line.startswith(("-A ", "-I ")):
            continue
        for m in _COMMENT_RE.finditer(line):
            comment = m.group(1) if m.group(1) is not None else m.group(2)
            if _comment_names(comment.replace('\\"', '"'), namespace, service):
                found.append(line)
                break
    return found


def _iptables_nat_services_rules(dump: str | None) -> list[str]:
    rules, table = [], None
    for line in (dump or "").splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif table == "nat" and line.startswith("-A KUBE-SERVICES "):
            rules.append(line)
    return rules


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


def _nft_json_artifacts(doc: dict, namespace: str, service: str) -> list[str]:
    chain_re = _nft_chain_re(namespace, service)
    found: list[str] = []
    for item in doc.get("nftables", []):
        if not isinstance(item, dict) or len(item) != 1:
            continue
        ((kind, obj),) = item.items()
        if not isinstance(obj, dict):
            continue
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


def _nft_has_kube_proxy_table(ruleset: str | None) -> bool:
    if not ruleset or not ruleset.strip():
        return False
    doc = _load_nft_json(ruleset)
    if doc is not None:
        return any(isinstance(i, dict) and isinstance(i.get("table"), dict)
                   and i["table"].get("name") == "kube-proxy" for i in doc.get("nftables", []))
    return re.search(r"^table\s+(ip|ip6|inet)\s+kube-proxy\s*\{", ruleset, re.M) is not None


# --- IPVS ------------------------------------------------------------------------------------

_PROC_V4 = re.compile(r"^[0-9A-Fa-f]{8}:[0-9A-Fa-f]{4}$")
_PROC_V6 = re.compile(r"^\[[0-9A-Fa-f]{4}(?::[0-9A-Fa-f]{4}){7}\]:[0-9A-Fa-f]{4}$")
_SAVE_PROTO = {"-t": "TCP", "--tcp-service": "TCP", "-u": "UDP", "--udp-service": "UDP",
               "--sctp-service": "SCTP"}


def _ipvs_lines(text: str):
    """(protocol, address:port as printed) of every virtual server line."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("TCP", "UDP", "SCTP"):
            yield parts[0], parts[1]
        elif len(parts) >= 3 and parts[0] == "-A" and parts[1] in _SAVE_PROTO:
            yield _SAVE_PROTO[parts[1]], parts[2]


def _decode(addr_port: str, proc: bool) -> tuple[ipaddress._BaseAddress, int]:
    addr, _, port = addr_port.rpartition(":")
    addr = addr.strip("[]")
    if proc:  # /proc/net/ip_vs: hex IPv4 and hex port; IPv6 in full form
        ip = ipaddress.ip_address(int(addr, 16)) if ":" not in addr else ipaddress.ip_address(addr)
        return ip, int(port, 16)
    return ipaddress.ip_address(addr), int(port)


def ipvs_virtual_servers(text: str | None, addresses=None) -> list[str]:
    """Virtual servers ("TCP 10.96.0.10:80", "TCP [fd00::a]:80") whose address is one of
    `addresses` (all when None), from ipvsadm -Ln, ipvsadm-save -n or /proc/net/ip_vs text."""
    lines = list(_ipvs_lines(text or ""))
    # /proc prints hex; decide once per document (a decimal dump never has 8-hex IPv4 forms).
    proc = any(_PROC_V4.match(a) or _PROC_V6.match(a) for _, a in lines)
    wanted = None if addresses is None else {ipaddress.ip_address(str(a).strip("[]")) for a in addresses}
    found: list[str] = []
    for proto, addr_port in lines:
        try:
            ip, port = _decode(addr_port, proc)
        except ValueError:
            continue
        if wanted is not None and ip not in wanted:
            continue
        text_ = f"{proto} [{ip}]:{port}" if ip.version == 6 else f"{proto} {ip}:{port}"
        if text_ not in found:
            found.append(text_)
    return found


# --- mode and inspector output ---------------------------------------------------------------


def detect_proxy_mode(iptables_dump: str | None, nft_dump: str | None, ipvs_dump: str | None) -> str:
    """iptables | nftables | ipvs | none, from one node's dumps (any may be None or empty).

    iptables: nat KUBE-SERVICES jumps to KUBE-SVC-* chains (no other mode makes them);
    nftables: a kube-proxy table; ipvs: nat KUBE-SERVICES matching ipset KUBE-CLUSTER-IP,
    or IPVS virtual servers; none: nothing of kube-proxy (e.g. an eBPF replacement).
    """
    nat_services = _iptables_nat_services_rules(iptables_dump)
    if any("-j KUBE-SVC-" in r for r in nat_services):
        return "iptables"
    if _nft_has_kube_proxy_table(nft_dump):
        return "nftables"
    if any("--match-set KUBE-CLUSTER-IP " in r for r in nat_services) or ipvs_virtual_servers(ipvs_dump):
        return "ipvs"
    return "none"


_SECTION_RE = re.compile(r"^==== (.+?) ====\s*$")


def split_inspector_output(text: str) -> dict[str, str]:
    """Sections of the node inspector's output (`==== <name> ====` lines) as name -> body.
    Text before the first header is dropped; a repeated name has its bodies concatenated."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = _SECTION_RE.match(line)
        if m:
            current = m.group(1).strip()
            sections.setdefault(current, [])
        elif current is not None:
            sections[current].append(line)
    return {name: ("\n".join(lines) + "\n" if lines else "") for name, lines in sections.items()}

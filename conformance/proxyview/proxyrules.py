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
- IPVS: virtual servers from `ipvsadm -Ln`, `ipvsadm-save -n` or `/proc/net/ip_vs` (hex);
  parsed in `conformance.proxyview.proxyrules_ipvs`, re-exported here.
- The mode, node-wide and for this run's own Services: `conformance.proxyview.proxyrules_mode`, re-exported.

PROXY-01 asks "is there anything of kube-proxy for ns/svc" (`*_artifacts`); PROXY-02 asks the
stricter "does this node forward this ClusterIP" (`*_forwarding`, `forwarding_artifacts`): a
"has no endpoints" reject names the Service too but forwards nothing.
"""
from __future__ import annotations

import ipaddress
import re
import shlex

from svc_conformance.proxyview.proxyrules_ipvs import (
    ipvs_forwarding,
    ipvs_virtual_servers,
    ipvs_virtual_servers_with_real_servers,
)
from svc_conformance.proxyview.proxyrules_mode import detect_proxy_mode, run_proxy_mode, stale_services
from svc_conformance.proxyview.proxyrules_names import _comment_names, _ip
from svc_conformance.proxyview.proxyrules_nft import nft_artifacts, nft_forwarding
from svc_conformance.proxyview.proxyrules_nft_endpoints import nft_service_endpoints

__all__ = [
    "iptables_artifacts", "nft_artifacts", "nft_service_endpoints", "ipvs_virtual_servers",
    "ipvs_virtual_servers_with_real_servers",
    "iptables_forwarding", "nft_forwarding", "ipvs_forwarding", "forwarding_artifacts",
    "detect_proxy_mode", "run_proxy_mode", "stale_services", "split_inspector_output",
]


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
    # The dump holds one table twice when two save commands read the same backend: list a rule once.
    return list(dict.fromkeys(found))


def _iptables_tables(dump: str | None) -> list[tuple[str, set[str], list[str]]]:
    """(table, declared chains, rule lines) of each complete `*table ... COMMIT` block of
    iptables-save text (several tables, iptables and ip6tables output may be concatenated).
    A block cut off before its COMMIT (a truncated dump) is dropped: it proves nothing."""
    tables, block = [], None
    for line in (dump or "").splitlines():
        line = line.strip()
        if line.startswith("*"):
            block = (line[1:].strip(), set(), [])  # an unfinished block before it is dropped
        elif block is None:
            continue
        elif line == "COMMIT":
            tables.append(block)
            block = None
        elif line.startswith(":"):
            block[1].update(line[1:].split()[:1])
        elif line.startswith(("-A ", "-I ")):
            block[2].append(line)
    return tables


def _iptables_rule_options(rule: str) -> dict[str, str] | None:
    """Options of one rule line as {"-d": "10.96.0.1/32", "--comment": "…", "-j": "KUBE-SVC-…"};
    a negated option ("! -d …") is stored under "!-d". None if the line does not tokenize."""
    try:
        tokens = shlex.split(rule)
    except ValueError:
        return None
    options, negate, i = {}, False, 2  # skip "-A CHAIN"
    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            negate = True
        elif tok.startswith("-") and i + 1 < len(tokens) and not tokens[i + 1].startswith("-"):
            options.setdefault(("!" if negate else "") + tok, tokens[i + 1])
            negate, i = False, i + 1
        else:
            negate = False
        i += 1
    return options


def iptables_forwarding(dump: str | None, namespace: str, service: str, vip: str) -> list[str]:
    """The nat KUBE-SERVICES rule lines that forward `vip` for ns/svc: destination exactly
    `vip`/32 (or /128), a comment naming ns/svc ("ns/svc:port cluster IP"), and a jump to a
    KUBE-SVC-/KUBE-SVL- chain that is declared in the same nat table and holds at least one rule.

    Never matched: the filter-table "ns/svc:port has no endpoints" REJECT, the KUBE-MARK-MASQ
    rule inside the KUBE-SVC chain, another Service's rule, a nat table cut off before COMMIT."""
    want = _ip(vip)
    found = []
    for table, chains, rules in _iptables_tables(dump):
        if table != "nat":
            continue
        for rule in rules:
            if rule.split()[1] != "KUBE-SERVICES":
                continue
            opts = _iptables_rule_options(rule)
            if not opts or not {"-d", "--comment", "-j"} <= opts.keys():
                continue
            try:
                dest = ipaddress.ip_interface(opts["-d"])
            except ValueError:
                continue
            target = opts["-j"]
            if dest.ip == want and dest.network.prefixlen == dest.max_prefixlen \
                    and _comment_names(opts["--comment"], namespace, service) \
                    and target.startswith(("KUBE-SVC-", "KUBE-SVL-")) and target in chains \
                    and any(r.split()[1] == target for r in rules):
                found.append(rule)
    return list(dict.fromkeys(found))


# --- forwarding, all modes (PROXY-02) ---------------------------------------------------------


def forwarding_artifacts(iptables_dump: str | None, nft_ruleset: str | None, ipvs_text: str | None,
                         namespace: str, service: str, vip: str) -> list[str]:
    """Everything on one node that forwards ClusterIP `vip` of ns/svc, whatever the proxy mode:
    iptables_forwarding + nft_forwarding + ipvs_forwarding (those prefixed "ipvs "). Empty means
    the node does not forward the VIP; a "has no endpoints" reject never counts."""
    return (iptables_forwarding(iptables_dump, namespace, service, vip)
            + nft_forwarding(nft_ruleset, namespace, service, vip)
            + [f"ipvs {vs}" for vs in ipvs_forwarding(ipvs_text, vip)])


# --- mode and inspector output ---------------------------------------------------------------


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

"""IPVS state from `ipvsadm -Ln`, `ipvsadm-save -n` or `/proc/net/ip_vs` (PROXY-01/02 under IPVS).

Re-exported by `conformance.proxyview.proxyrules`; import from there. IPVS names no Service, so these
functions match on addresses: the ClusterIP (virtual server) or the endpoint IPs (real servers).
A virtual server is shown as "TCP 10.96.0.10:53" / "TCP [fd00::a]:80".
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

_PROC_V4 = re.compile(r"^[0-9A-Fa-f]{8}:[0-9A-Fa-f]{4}$")
_PROC_V6 = re.compile(r"^\[[0-9A-Fa-f]{4}(?::[0-9A-Fa-f]{4}){7}\]:[0-9A-Fa-f]{4}$")
_PROTOS = ("TCP", "UDP", "SCTP")
_SAVE_PROTO = {"-t": "TCP", "--tcp-service": "TCP", "-u": "UDP", "--udp-service": "UDP",
               "--sctp-service": "SCTP"}


@dataclass
class _VirtualServer:
    proto: str
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int
    reals: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int, int]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.proto} {_host_port(self.ip, self.port)}"


def _host_port(ip, port: int) -> str:
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def _decode(addr_port: str, proc: bool) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    addr, _, port = addr_port.rpartition(":")
    addr = addr.strip("[]")
    if proc:  # /proc/net/ip_vs: hex IPv4 and hex port; IPv6 in full form
        ip = ipaddress.ip_address(int(addr, 16)) if ":" not in addr else ipaddress.ip_address(addr)
        return ip, int(port, 16)
    return ipaddress.ip_address(addr), int(port)


def _option(parts: list[str], *names: str) -> str | None:
    for i, p in enumerate(parts[:-1]):
        if p in names:
            return parts[i + 1]
    return None


def _parse(text: str | None) -> list[_VirtualServer]:
    """Every TCP/UDP/SCTP virtual server with its real servers (ip, port, weight), in order.

    `ipvsadm -Ln` and /proc/net/ip_vs list real servers as `  -> ip:port Masq weight ...` lines
    under their virtual server; `ipvsadm-save -n` has `-A -t vip:port` and `-a -t vip:port -r
    ip:port -w weight` lines. Fwmark services (FWM / -f) are skipped, with their real servers."""
    lines = [line.split() for line in (text or "").splitlines()]
    # /proc prints hex; decide once per document (a decimal dump never has 8-hex IPv4 forms).
    proc = any(len(p) >= 2 and p[0] in _PROTOS and (_PROC_V4.match(p[1]) or _PROC_V6.match(p[1]))
               for p in lines)
    servers: dict[tuple, _VirtualServer] = {}
    current: _VirtualServer | None = None
    for parts in lines:
        if not parts:
            continue
        try:
            if parts[0] in _PROTOS and len(parts) >= 2:
                ip, port = _decode(parts[1], proc)
                current = servers.setdefault((parts[0], ip, port), _VirtualServer(parts[0], ip, port))
            elif parts[0] == "->" and len(parts) >= 2:
                if current is not None:
                    ip, port = _decode(parts[1], proc)
                    weight = int(parts[3]) if len(parts) >= 4 and parts[3].isdigit() else 1
                    current.reals.append((ip, port, weight))
            elif parts[0] in ("-A", "-a") and len(parts) >= 3 and parts[1] in _SAVE_PROTO:
                current = None
                proto = _SAVE_PROTO[parts[1]]
                ip, port = _decode(parts[2], False)
                if parts[0] == "-A":
                    servers.setdefault((proto, ip, port), _VirtualServer(proto, ip, port))
                elif (proto, ip, port) in servers and _option(parts, "-r", "--real-server"):
                    rip, rport = _decode(_option(parts, "-r", "--real-server"), False)
                    weight = _option(parts, "-w", "--weight")
                    servers[(proto, ip, port)].reals.append(
                        (rip, rport, int(weight) if weight and weight.isdigit() else 1))
            else:
                current = None  # headers, FWM services, anything else ends a virtual server
        except ValueError:
            # A header such as "-> RemoteAddress:Port" or an unreadable address: not a server.
            # An unreadable virtual server must not lend its real servers to the previous one.
            if parts[0] != "->":
                current = None
    return list(servers.values())


def _addresses(values) -> set:
    return {ipaddress.ip_address(str(a).strip().strip("[]")) for a in values}


def ipvs_virtual_servers(text: str | None, addresses=None) -> list[str]:
    """Virtual servers ("TCP 10.96.0.10:80", "TCP [fd00::a]:80") whose address is one of
    `addresses` (all when None), from ipvsadm -Ln, ipvsadm-save -n or /proc/net/ip_vs text."""
    wanted = None if addresses is None else _addresses(addresses)
    return [vs.text for vs in _parse(text) if wanted is None or vs.ip in wanted]


def ipvs_forwarding(text: str | None, vip: str) -> list[str]:
    """The virtual servers on `vip` (any port) that forward: each has at least one real server
    with a weight above 0 (kube-proxy sets weight 0 on a terminating endpoint, which takes no
    new connections). Shown as "TCP 10.96.120.15:80 -> 10.244.0.5:8080, 10.244.0.6:8080".
    A virtual server without real servers (a Service with no endpoints) does not match."""
    (want,) = _addresses([vip])
    found = []
    for vs in _parse(text):
        live = [_host_port(ip, port) for ip, port, weight in vs.reals if weight > 0]
        if vs.ip == want and live:
            found.append(f"{vs.text} -> {', '.join(live)}")
    return found


def ipvs_virtual_servers_with_real_servers(text: str | None, endpoint_ips) -> list[str]:
    """Virtual servers ("TCP 10.96.120.15:80") any of whose real servers (any weight) has one of
    `endpoint_ips` as address: what IPVS made of a Service over those pods. For PROXY-01 a
    headless Service's pod IPs must give none (bar other Services selecting the same pods)."""
    wanted = _addresses(endpoint_ips)
    return [vs.text for vs in _parse(text) if any(ip in wanted for ip, _, _ in vs.reals)]

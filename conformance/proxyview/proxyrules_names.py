"""Name and address matching shared by the kube-proxy dump readers: `ns/svc` must never match
`ns/svc-hl`, `ns/svcx` or `app-ns/svc`."""
from __future__ import annotations

import ipaddress
import re


def _comment_names(comment: str, namespace: str, service: str) -> bool:
    """True if `ns/svc` appears in the comment as a whole word: start or space before it,
    end, ':' or space after it. So "ns1/web:http" and "masquerade traffic for ns1/web:http"
    match, "ns1/web-hl", "ns1/webx" and "app-ns1/web" do not."""
    token = re.escape(f"{namespace}/{service}")
    return re.search(rf"(?:^|\s){token}(?=$|[:\s])", comment) is not None


def _nft_chain_re(namespace: str, service: str) -> re.Pattern:
    # <kind>-<8 base32 chars>-ns/svc/... ; anchoring at the hash keeps "app-ns1/web/" out.
    return re.compile(rf"^[a-z]+-[A-Z2-7]{{8}}-{re.escape(namespace)}/{re.escape(service)}/")


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as given by a caller ("10.96.0.1", "fd00::a", "[fd00::a]"); ValueError if none."""
    return ipaddress.ip_address(str(value).strip().strip("[]"))


def _same_ip(text: str, want) -> bool:
    try:
        return ipaddress.ip_address(text) == want
    except ValueError:
        return False

"""The endpoints a Service's nftables chains DNAT to, in the layouts of 1.33 (a chain per endpoint) and
1.37 (DNAT in the service chain; endpoint chains only for session affinity), from real node dumps."""
from pathlib import Path

import pytest

from svc_conformance.proxyview import proxyrules as pr

DATA = Path(__file__).with_name("data")
WEB_137 = ["10.244.0.4:8080", "10.244.2.3:8080", "[fd00:10:244:2::3]:8080", "[fd00:10:244::4]:8080"]


def data(name: str) -> str:
    return (DATA / name).read_text()


@pytest.mark.parametrize("dump", ["proxyrules_nft_ruleset_1_37_dual.json", "proxyrules_nft_ruleset_1_37_dual.txt"])
def test_1_37_dnat_in_the_service_chain(dump):
    ruleset = data(dump)
    assert pr.nft_service_endpoints(ruleset, "dbg", "web") == WEB_137        # numgen map, both families
    assert pr.nft_service_endpoints(ruleset, "dbg", "web-aff") == WEB_137[:2]  # affinity: endpoint chains
    assert pr.nft_service_endpoints(ruleset, "kube-system", "kube-dns") == [   # one endpoint: plain dnat
        "10.244.1.2:53", "10.244.1.2:9153", "[fd00:10:244:1::2]:53", "[fd00:10:244:1::2]:9153"]
    assert pr.nft_service_endpoints(ruleset, "dbg", "we") == []
    assert pr.nft_service_endpoints(ruleset, "db", "web") == []


def test_1_33_endpoint_chains():
    assert pr.nft_service_endpoints(data("proxyrules_nft_ruleset.txt"), "ns1", "web") == [
        "10.244.0.5:8080", "10.244.0.6:8080"]
    assert pr.nft_service_endpoints(data("proxyrules_nft_ruleset_ip6.json"), "ns1", "web") == [
        "[fd00:10:244::5]:8080", "[fd00:10:244::6]:8080"]


def test_no_endpoints_and_no_dump():
    assert pr.nft_service_endpoints(data("proxyrules_nft_ruleset_web_no_endpoints.txt"), "ns1", "web") == []
    assert pr.nft_service_endpoints(None, "ns1", "web") == []
    assert pr.nft_service_endpoints("", "ns1", "web") == []


def test_1_37_forwarding_is_judged_as_before():
    ruleset = data("proxyrules_nft_ruleset_1_37_dual.json")
    assert pr.nft_forwarding(ruleset, "dbg", "web", "10.96.246.231") == [
        "ip kube-proxy map service-ips element 10.96.246.231 . tcp . 80 : goto service-CKYGTKWN-dbg/web/tcp/"
        " (chain has 1 rule)"]
    assert pr.nft_forwarding(ruleset, "dbg", "web", "fd00:10:96::7900")[0].startswith("ip6 kube-proxy map")

import json
from pathlib import Path

import pytest

from conformance import proxyrules as pr

DATA = Path(__file__).with_name("data")


def data(name: str) -> str:
    return (DATA / name).read_text()


IPT = data("proxyrules_iptables_save.txt")
IP6T = data("proxyrules_ip6tables_save.txt")
NFT = data("proxyrules_nft_ruleset.txt")
NFT_JSON = data("proxyrules_nft_ruleset_ip6.json")


# --- iptables --------------------------------------------------------------------------------

def test_iptables_named_port_service_all_rules():
    rules = pr.iptables_artifacts(IPT, "ns1", "web")
    assert len(rules) == 8  # KUBE-SERVICES, 3 in KUBE-SVC, 2x2 in KUBE-SEP
    assert '-A KUBE-SERVICES -d 10.96.120.15/32 -p tcp -m comment --comment "ns1/web:http cluster IP" ' \
           '-m tcp --dport 80 -j KUBE-SVC-4LVCYZMTA5CQO6SX' in rules
    # unquoted KUBE-SEP comment form
    assert "-A KUBE-SEP-KUQYPTOKTZAERVSK -p tcp -m comment --comment ns1/web:http -m tcp " \
           "-j DNAT --to-destination 10.244.0.5:8080" in rules
    assert all("web-other" not in r and "webx" not in r and "app-ns1" not in r for r in rules)


def test_iptables_prefix_confusion():
    assert pr.iptables_artifacts(IPT, "ns1", "web-hl") == []  # headless: nothing
    assert pr.iptables_artifacts(IPT, "ns1", "we") == []
    assert pr.iptables_artifacts(IPT, "ns", "web") == []
    assert pr.iptables_artifacts(IPT, "s1", "web") == []
    assert len(pr.iptables_artifacts(IPT, "ns1", "webx")) == 5
    assert len(pr.iptables_artifacts(IPT, "app-ns1", "web")) == 5


def test_iptables_unnamed_port_and_nodeport_and_no_endpoints():
    plain = pr.iptables_artifacts(IPT, "ns1", "plain")
    assert any('"ns1/plain cluster IP"' in r for r in plain)
    assert any("--comment ns1/plain -m tcp -j DNAT" in r for r in plain)
    assert len(plain) == 5
    other = pr.iptables_artifacts(IPT, "ns1", "web-other")
    assert any(r.startswith("-A KUBE-EXT-") and "masquerade traffic for ns1/web-other:http" in r for r in other)
    assert any(r.startswith("-A KUBE-NODEPORTS ") for r in other)
    empty = pr.iptables_artifacts(IPT, "ns1", "empty")
    assert empty == ['-A KUBE-SERVICES -d 10.96.77.7/32 -p tcp -m comment --comment "ns1/empty:http has no '
                     'endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable']


def test_iptables_ipv6_and_both_families():
    v6 = pr.iptables_artifacts(IP6T, "ns1", "web")
    assert any("fd00:96::a/128" in r for r in v6)
    assert any("[fd00:10:244::5]:8080" in r for r in v6)
    both = pr.iptables_artifacts(IPT + IP6T, "ns1", "web")
    assert len(both) == len(v6) + 8


def test_iptables_chain_declarations_and_empty_input():
    assert pr.iptables_artifacts(":KUBE-SVC-X - [0:0]\n", "ns1", "web") == []
    assert pr.iptables_artifacts(None, "ns1", "web") == []
    assert pr.iptables_artifacts("", "ns1", "web") == []


# --- nftables text ---------------------------------------------------------------------------

def test_nft_text_service_chains_and_map_elements():
    arts = pr.nft_artifacts(NFT, "ns1", "web")
    assert "ip kube-proxy chain service-DK7ABAZC-ns1/web/tcp/http" in arts
    assert "ip kube-proxy chain endpoint-CDKGID2H-ns1/web/tcp/http__10.244.0.5/8080" in arts
    assert "ip kube-proxy chain endpoint-R46TMWZ6-ns1/web/tcp/http__10.244.0.6/8080" in arts
    assert ("ip kube-proxy map service-ips element 10.96.120.15 . tcp . 80 : "
            "goto service-DK7ABAZC-ns1/web/tcp/http") in arts
    assert len(arts) == 4
    assert all("web-other" not in a and "webx" not in a and "app-ns1" not in a for a in arts)


def test_nft_text_prefix_confusion_and_headless():
    assert pr.nft_artifacts(NFT, "ns1", "web-hl") == []
    assert pr.nft_artifacts(NFT, "ns1", "we") == []
    assert pr.nft_artifacts(NFT, "ns", "web") == []
    app = pr.nft_artifacts(NFT, "app-ns1", "web")
    assert len(app) == 3 and all("app-ns1/web/" in a for a in app)


def test_nft_text_nodeport_external_chain_and_no_endpoints_comment():
    other = pr.nft_artifacts(NFT, "ns1", "web-other")
    assert "ip kube-proxy chain external-RVNHAPBA-ns1/web-other/tcp/http" in other
    assert ("ip kube-proxy map service-nodeports element tcp . 30080 : "
            "goto external-RVNHAPBA-ns1/web-other/tcp/http") in other
    empty = pr.nft_artifacts(NFT, "ns1", "empty")
    assert empty == ['ip kube-proxy map no-endpoint-services element 10.96.77.7 . tcp . 80 '
                     'comment "ns1/empty:http" : goto reject-chain']


def test_nft_text_affinity_set_and_unnamed_port():
    sticky = pr.nft_artifacts(NFT, "ns1", "sticky")
    assert "ip kube-proxy set affinity-M54HU7P6-ns1/sticky/tcp/http__10.244.0.8/8080" in sticky
    plain = pr.nft_artifacts(NFT, "ns1", "plain")
    assert "ip kube-proxy chain service-XNYMIN5C-ns1/plain/tcp/" in plain


def test_nft_text_rule_in_foreign_chain_referencing_service():
    ruleset = ("table inet custom {\n\tchain c {\n\t\tip daddr 10.0.0.1 goto "
               "service-DK7ABAZC-ns1/web/tcp/http\n\t\tip daddr 10.0.0.2 accept comment \"ns1/web:http\"\n\t}\n}\n")
    arts = pr.nft_artifacts(ruleset, "ns1", "web")
    assert len(arts) == 2 and all(a.startswith("inet custom chain c rule: ") for a in arts)


# --- nftables JSON ---------------------------------------------------------------------------

def test_nft_json_service_chains_and_elements():
    arts = pr.nft_artifacts(NFT_JSON, "ns1", "web")
    assert "ip6 kube-proxy chain service-DK7ABAZC-ns1/web/tcp/http" in arts
    assert "ip6 kube-proxy chain endpoint-MTPDA26T-ns1/web/tcp/http__fd00.10.244..5/8080" in arts
    assert "ip6 kube-proxy chain endpoint-A5COOSCB-ns1/web/tcp/http__fd00.10.244..6/8080" in arts
    assert ("ip6 kube-proxy map service-ips element fd00:96::a . tcp . 80 : "
            "goto service-DK7ABAZC-ns1/web/tcp/http") in arts
    assert len(arts) == 4
    assert all("webx" not in a for a in arts)


def test_nft_json_prefix_confusion_comment_elements():
    assert pr.nft_artifacts(NFT_JSON, "ns1", "web-hl") == []
    assert pr.nft_artifacts(NFT_JSON, "ns1", "empty") == [
        'ip6 kube-proxy map no-endpoint-services element fd00:96::4d07 . tcp . 80 comment "ns1/empty:http" : '
        'goto reject-chain']
    assert len(pr.nft_artifacts(NFT_JSON, "ns1", "webx")) == 3


def test_nft_json_foreign_rule_and_bad_json():
    doc = {"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 4,
                                  "expr": [{"jump": {"target": "service-DK7ABAZC-ns1/web/tcp/http"}}]}}]}
    assert pr.nft_artifacts(json.dumps(doc), "ns1", "web") == [
        "inet t chain c rule handle 4: service-DK7ABAZC-ns1/web/tcp/http"]
    with pytest.raises(ValueError, match="JSON"):
        pr.nft_artifacts('{"nftables": [', "ns1", "web")
    assert pr.nft_artifacts("", "ns1", "web") == []
    assert pr.nft_artifacts(None, "ns1", "web") == []


# --- IPVS ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["proxyrules_ipvsadm_Ln.txt", "proxyrules_ipvsadm_save.txt",
                                     "proxyrules_proc_ip_vs.txt"])
def test_ipvs_formats_agree(fixture):
    text = data(fixture)
    assert pr.ipvs_virtual_servers(text, ["10.96.120.15"]) == ["TCP 10.96.120.15:80"]
    assert pr.ipvs_virtual_servers(text, ["fd00:96::a"]) == ["TCP [fd00:96::a]:80"]
    assert pr.ipvs_virtual_servers(text, ["10.96.0.10"]) == [
        "TCP 10.96.0.10:53", "TCP 10.96.0.10:9153", "UDP 10.96.0.10:53"]
    assert pr.ipvs_virtual_servers(text, ["10.96.44.4"]) == ["TCP 10.96.44.4:80"]  # persistent
    assert pr.ipvs_virtual_servers(text, ["10.96.77.7"]) == ["TCP 10.96.77.7:80"]  # no real servers
    # a headless service has no address; real servers (pod IPs) are not virtual servers
    assert pr.ipvs_virtual_servers(text, ["10.244.0.5", "fd00:10:244::5"]) == []
    assert len(pr.ipvs_virtual_servers(text)) == 13


def test_ipvs_proc_hex_decoding():
    proc = "TCP  0A60780F:0050 rr \n  -> 0AF40005:1F90      Masq    1      0          0\n" \
           "UDP  [fd00:0096:0000:0000:0000:0000:0000:000a]:0035 rr \n"
    assert pr.ipvs_virtual_servers(proc) == ["TCP 10.96.120.15:80", "UDP [fd00:96::a]:53"]
    assert pr.ipvs_virtual_servers(proc, ["[FD00:96::A]"]) == ["UDP [fd00:96::a]:53"]
    assert pr.ipvs_virtual_servers("", ["10.0.0.1"]) == []
    assert pr.ipvs_virtual_servers(None) == []


# --- mode detection and inspector sections ---------------------------------------------------

def test_detect_proxy_mode():
    assert pr.detect_proxy_mode(IPT + IP6T, "", "") == "iptables"
    nft_node_iptables = "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n"
    assert pr.detect_proxy_mode(nft_node_iptables, NFT, None) == "nftables"
    assert pr.detect_proxy_mode(None, NFT_JSON, None) == "nftables"
    ipvs_ipt = data("proxyrules_iptables_save_ipvs_mode.txt")
    assert pr.detect_proxy_mode(ipvs_ipt, "", "") == "ipvs"
    assert pr.detect_proxy_mode("", "", data("proxyrules_ipvsadm_Ln.txt")) == "ipvs"
    assert pr.detect_proxy_mode(nft_node_iptables, '{"nftables": [{"metainfo": {}}]}',
                                "IP Virtual Server version 1.2.1 (size=4096)\n") == "none"
    assert pr.detect_proxy_mode(None, None, None) == "none"


def test_detect_ignores_kube_svc_outside_nat():
    ipt = "*filter\n-A KUBE-SERVICES -d 10.0.0.1/32 -j KUBE-SVC-AAAAAAAAAAAAAAAA\nCOMMIT\n"
    assert pr.detect_proxy_mode(ipt, "", "") == "none"


def test_split_inspector_output_and_detect_from_it():
    sections = pr.split_inspector_output(data("proxyrules_inspector_output.txt"))
    assert list(sections) == ["iptables-save", "ip6tables-save", "iptables-legacy-save",
                              "ip6tables-legacy-save", "nft-json", "ip_vs"]
    assert sections["ip6tables-save"] == ""
    assert sections["iptables-save"].startswith("# Generated by iptables-save")
    assert json.loads(sections["nft-json"])["nftables"][0]["metainfo"]["version"] == "1.0.9"
    mode = pr.detect_proxy_mode(sections["iptables-save"] + sections["ip6tables-save"],
                                sections["nft-json"], sections["ip_vs"])
    assert mode == "ipvs"
    assert pr.ipvs_virtual_servers(sections["ip_vs"], ["10.96.120.15"]) == ["TCP 10.96.120.15:80"]


def test_split_inspector_output_edge_cases():
    text = "noise before\n==== a ====\nx\n==== b ====\n==== a ====\ny\n"
    assert pr.split_inspector_output(text) == {"a": "x\ny\n", "b": ""}
    assert pr.split_inspector_output("") == {}

import json
from pathlib import Path

import pytest

from svc_conformance.proxyview import proxyrules as pr

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


# --- forwarding artifacts (PROXY-02) ---------------------------------------------------------
# Derived variants of the real dumps are made by minimal edits, either here (each says what it
# removes) or in the data files proxyrules_*_web_no_endpoints.txt (their header says how).

IPT_WEB_NO_EP = data("proxyrules_iptables_save_web_no_endpoints.txt")
NFT_WEB_NO_EP = data("proxyrules_nft_ruleset_web_no_endpoints.txt")
IPVS_LN = data("proxyrules_ipvsadm_Ln.txt")
WEB_V4_RULE = ('-A KUBE-SERVICES -d 10.96.120.15/32 -p tcp -m comment --comment "ns1/web:http cluster IP" '
               '-m tcp --dport 80 -j KUBE-SVC-4LVCYZMTA5CQO6SX')
WEB_V6_RULE = ('-A KUBE-SERVICES -d fd00:96::a/128 -p tcp -m comment --comment "ns1/web:http cluster IP" '
               '-m tcp --dport 80 -j KUBE-SVC-4LVCYZMTA5CQO6SX')


def _drop_lines(text: str, *starts: str) -> str:
    """The dump without the lines starting with any of `starts` (each must occur)."""
    assert all(any(line.startswith(s) for line in text.splitlines()) for s in starts)
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(starts))


def test_iptables_forwarding_per_family_in_concatenated_dump():
    both = IPT + IP6T
    assert pr.iptables_forwarding(both, "ns1", "web", "10.96.120.15") == [WEB_V4_RULE]
    assert pr.iptables_forwarding(both, "ns1", "web", "fd00:96::a") == [WEB_V6_RULE]
    # ip6tables-save prints compressed addresses; the caller's form does not matter
    assert pr.iptables_forwarding(both, "ns1", "web", "fd00:0096:0:0::000A") == [WEB_V6_RULE]
    assert pr.iptables_forwarding(both, "ns1", "web", "[fd00:96::a]") == [WEB_V6_RULE]
    assert pr.iptables_forwarding(both, "ns1", "plain", "10.96.33.3") == [
        '-A KUBE-SERVICES -d 10.96.33.3/32 -p tcp -m comment --comment "ns1/plain cluster IP" '
        '-m tcp --dport 80 -j KUBE-SVC-HPPDPYXHNTEDOAOO']  # unnamed port
    dns = pr.iptables_forwarding(both, "kube-system", "kube-dns", "10.96.0.10")
    assert [r.split("--comment ")[1].split('"')[1] for r in dns] == [
        "kube-system/kube-dns:dns cluster IP", "kube-system/kube-dns:dns-tcp cluster IP",
        "kube-system/kube-dns:metrics cluster IP"]


def test_iptables_forwarding_ignores_no_endpoints_reject_and_masq_rule():
    # the real dumps: ns1/empty has only the filter REJECT, which iptables_artifacts does report
    assert len(pr.iptables_artifacts(IPT, "ns1", "empty")) == 1
    assert pr.iptables_forwarding(IPT + IP6T, "ns1", "empty", "10.96.77.7") == []
    assert pr.iptables_forwarding(IPT + IP6T, "ns1", "empty", "fd00:96::4d07") == []
    # derived: ns1/web after losing its endpoints -- the old PROXY-02 check passed on this
    assert pr.iptables_artifacts(IPT_WEB_NO_EP, "ns1", "web") == [
        '-A KUBE-SERVICES -d 10.96.120.15/32 -p tcp -m comment --comment "ns1/web:http has no endpoints" '
        '-m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable']
    assert pr.iptables_forwarding(IPT_WEB_NO_EP, "ns1", "web", "10.96.120.15") == []
    # the KUBE-MARK-MASQ rule (nat KUBE-SVC chain, same -d and comment) alone is not forwarding
    only_masq = _drop_lines(IPT, "-A KUBE-SERVICES -d 10.96.120.15/32")
    assert pr.iptables_forwarding(only_masq, "ns1", "web", "10.96.120.15") == []


def test_iptables_forwarding_prefix_confusion_and_wrong_vip():
    assert pr.iptables_forwarding(IPT, "ns1", "web-hl", "10.96.120.15") == []
    assert pr.iptables_forwarding(IPT, "ns1", "we", "10.96.120.15") == []
    assert pr.iptables_forwarding(IPT, "ns", "web", "10.96.120.15") == []
    assert pr.iptables_forwarding(IPT, "ns1", "web", "10.96.131.20") == []  # ns1/web-other's VIP
    assert pr.iptables_forwarding(IPT, "ns1", "web", "10.96.140.2") == []   # ns1/webx's VIP
    assert pr.iptables_forwarding(IPT, "ns1", "web", "10.96.150.9") == []   # app-ns1/web's VIP
    assert len(pr.iptables_forwarding(IPT, "ns1", "web-other", "10.96.131.20")) == 1
    assert len(pr.iptables_forwarding(IPT, "ns1", "webx", "10.96.140.2")) == 1
    assert len(pr.iptables_forwarding(IPT, "app-ns1", "web", "10.96.150.9")) == 1
    for vip in ("10.96.120.1", "10.96.120.150", "10.96.12.15", "fd00:96::a"):
        assert pr.iptables_forwarding(IPT, "ns1", "web", vip) == []
    assert pr.iptables_forwarding(IP6T, "ns1", "web", "fd00:96::a0") == []
    with pytest.raises(ValueError):
        pr.iptables_forwarding(IPT, "ns1", "web", "None")


def test_iptables_forwarding_needs_complete_nat_table_and_declared_nonempty_chain():
    # truncated: the dump ends before the nat table's COMMIT
    truncated = IPT[:IPT.rindex("COMMIT")]
    assert "KUBE-SVC-4LVCYZMTA5CQO6SX" in truncated
    assert pr.iptables_forwarding(truncated, "ns1", "web", "10.96.120.15") == []
    # truncated ip6tables part followed by a complete iptables dump: only the complete one counts
    assert pr.iptables_forwarding(IP6T[:IP6T.rindex("COMMIT")] + IPT, "ns1", "web", "fd00:96::a") == []
    assert pr.iptables_forwarding(IP6T[:IP6T.rindex("COMMIT")] + IPT, "ns1", "web", "10.96.120.15") == [WEB_V4_RULE]
    # the KUBE-SVC chain's declaration is missing
    undeclared = _drop_lines(IPT, ":KUBE-SVC-4LVCYZMTA5CQO6SX ")
    assert pr.iptables_forwarding(undeclared, "ns1", "web", "10.96.120.15") == []
    # declared only in the ip6tables nat table, not in the iptables one holding the rule
    assert pr.iptables_forwarding(undeclared + IP6T, "ns1", "web", "10.96.120.15") == []
    # declared but empty: the jump would fall through
    empty_chain = _drop_lines(IPT, "-A KUBE-SVC-4LVCYZMTA5CQO6SX ")
    assert pr.iptables_forwarding(empty_chain, "ns1", "web", "10.96.120.15") == []
    # the same rule outside the nat table is not forwarding
    in_filter = "*filter\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-4LVCYZMTA5CQO6SX - [0:0]\n" + WEB_V4_RULE + \
                "\n-A KUBE-SVC-4LVCYZMTA5CQO6SX -j ACCEPT\nCOMMIT\n"
    assert pr.iptables_forwarding(in_filter, "ns1", "web", "10.96.120.15") == []
    # not a host destination
    wide = IPT.replace("-A KUBE-SERVICES -d 10.96.120.15/32", "-A KUBE-SERVICES -d 10.96.120.15/24")
    assert pr.iptables_forwarding(wide, "ns1", "web", "10.96.120.15") == []
    # negated destination
    negated = IPT.replace("-A KUBE-SERVICES -d 10.96.120.15/32", "-A KUBE-SERVICES ! -d 10.96.120.15/32")
    assert pr.iptables_forwarding(negated, "ns1", "web", "10.96.120.15") == []
    ipvs_node = data("proxyrules_iptables_save_ipvs_mode.txt")
    assert pr.iptables_forwarding(ipvs_node, "ns1", "web", "10.96.120.15") == []
    assert pr.iptables_forwarding(None, "ns1", "web", "10.96.120.15") == []
    assert pr.iptables_forwarding("", "ns1", "web", "10.96.120.15") == []


def test_nft_forwarding_text_and_json():
    assert pr.nft_forwarding(NFT, "ns1", "web", "10.96.120.15") == [
        "ip kube-proxy map service-ips element 10.96.120.15 . tcp . 80 : goto service-DK7ABAZC-ns1/web/tcp/http "
        "(chain has 2 rules)"]
    assert pr.nft_forwarding(NFT_JSON, "ns1", "web", "fd00:0096::000a") == [
        "ip6 kube-proxy map service-ips element fd00:96::a . tcp . 80 : goto service-DK7ABAZC-ns1/web/tcp/http "
        "(chain has 2 rules)"]
    assert len(pr.nft_forwarding(NFT, "ns1", "plain", "10.96.33.3")) == 1      # unnamed port: ".../tcp/"
    assert len(pr.nft_forwarding(NFT, "ns1", "sticky", "10.96.44.4")) == 1     # affinity: 3 rules
    dns = pr.nft_forwarding(NFT, "kube-system", "kube-dns", "10.96.0.10")
    assert [d.split(" element ")[1].split(" :")[0] for d in dns] == [
        "10.96.0.10 . udp . 53", "10.96.0.10 . tcp . 53", "10.96.0.10 . tcp . 9153"]
    assert len(pr.nft_forwarding(NFT_JSON, "kube-system", "kube-dns", "fd00:96::10")) == 1  # udp, JSON


def test_nft_forwarding_no_endpoints_prefix_confusion_wrong_vip():
    assert pr.nft_forwarding(NFT, "ns1", "empty", "10.96.77.7") == []
    assert pr.nft_forwarding(NFT_JSON, "ns1", "empty", "fd00:96::4d07") == []
    # derived: ns1/web's element moved to no-endpoint-services, its chains gone
    assert pr.nft_artifacts(NFT_WEB_NO_EP, "ns1", "web") == [
        'ip kube-proxy map no-endpoint-services element 10.96.120.15 . tcp . 80 comment "ns1/web:http" : '
        'goto reject-chain']
    assert pr.nft_forwarding(NFT_WEB_NO_EP, "ns1", "web", "10.96.120.15") == []
    assert len(pr.nft_forwarding(NFT_WEB_NO_EP, "ns1", "webx", "10.96.140.2")) == 1
    for ruleset, vip in ((NFT, "10.96.120.15"), (NFT_JSON, "fd00:96::a")):
        assert pr.nft_forwarding(ruleset, "ns1", "web-hl", vip) == []
        assert pr.nft_forwarding(ruleset, "ns1", "we", vip) == []
        assert pr.nft_forwarding(ruleset, "ns", "web", vip) == []
    assert pr.nft_forwarding(NFT, "ns1", "web", "10.96.140.2") == []   # ns1/webx's VIP
    assert pr.nft_forwarding(NFT, "ns1", "web", "10.96.150.9") == []   # app-ns1/web's VIP
    assert pr.nft_forwarding(NFT_JSON, "ns1", "web", "fd00:96::8c02") == []
    assert len(pr.nft_forwarding(NFT, "app-ns1", "web", "10.96.150.9")) == 1
    for vip in ("10.96.120.1", "10.96.120.150", "fd00:96::a"):
        assert pr.nft_forwarding(NFT, "ns1", "web", vip) == []
    assert pr.nft_forwarding(NFT_JSON, "ns1", "web", "10.96.120.15") == []


def _nft_text_without_chain(name: str, keep_header: bool) -> str:
    """The real text ruleset with chain `name` removed (keep_header: only its rules removed)."""
    start = NFT.index(f"\tchain {name} {{\n")
    end = NFT.index("\t}\n", start) + len("\t}\n")
    return NFT[:start] + (f"\tchain {name} {{\n\t}}\n" if keep_header else "") + NFT[end:]


def _nft_json_without_chain(name: str, keep_header: bool) -> str:
    """The real JSON ruleset without chain `name`'s rules (and without the chain unless keep_header)."""
    items = json.loads(NFT_JSON)["nftables"]
    kept = [i for i in items if not ("rule" in i and i["rule"]["chain"] == name)
            and (keep_header or not ("chain" in i and i["chain"]["name"] == name))]
    assert len(kept) < len(items) - (0 if keep_header else 1)
    return json.dumps({"nftables": kept})


@pytest.mark.parametrize("keep_header", [False, True], ids=["missing-chain", "empty-chain"])
def test_nft_forwarding_element_to_missing_or_empty_chain(keep_header):
    text = _nft_text_without_chain("service-DK7ABAZC-ns1/web/tcp/http", keep_header)
    assert pr.nft_artifacts(text, "ns1", "web")  # the element is still there
    assert pr.nft_forwarding(text, "ns1", "web", "10.96.120.15") == []
    assert len(pr.nft_forwarding(text, "ns1", "webx", "10.96.140.2")) == 1
    doc = _nft_json_without_chain("service-DK7ABAZC-ns1/web/tcp/http", keep_header)
    assert pr.nft_forwarding(doc, "ns1", "web", "fd00:96::a") == []
    assert len(pr.nft_forwarding(doc, "ns1", "webx", "fd00:96::8c02")) == 1


def test_nft_forwarding_truncated_and_foreign_tables():
    unclosed = NFT.rstrip()[:-1]  # the kube-proxy table's closing brace is missing
    assert pr.nft_forwarding(unclosed, "ns1", "web", "10.96.120.15") == []
    with pytest.raises(ValueError, match="JSON"):
        pr.nft_forwarding(NFT_JSON[:len(NFT_JSON) // 2], "ns1", "web", "fd00:96::a")
    # the same map and chain in another table are not kube-proxy's
    foreign = NFT.replace("table ip kube-proxy {", "table ip not-kube-proxy {")
    assert pr.nft_forwarding(foreign, "ns1", "web", "10.96.120.15") == []
    other_map = NFT.replace("map service-ips {", "map other-ips {")
    assert pr.nft_forwarding(other_map, "ns1", "web", "10.96.120.15") == []
    # protocol of the key and of the chain name must agree
    udp = NFT.replace("10.96.120.15 . tcp . 80 :", "10.96.120.15 . udp . 80 :")
    assert pr.nft_forwarding(udp, "ns1", "web", "10.96.120.15") == []
    assert pr.nft_forwarding(None, "ns1", "web", "10.96.120.15") == []
    assert pr.nft_forwarding("", "ns1", "web", "10.96.120.15") == []


@pytest.mark.parametrize("fixture", ["proxyrules_ipvsadm_Ln.txt", "proxyrules_ipvsadm_save.txt",
                                     "proxyrules_proc_ip_vs.txt"])
def test_ipvs_forwarding_formats_agree(fixture):
    text = data(fixture)
    assert pr.ipvs_forwarding(text, "10.96.120.15") == ["TCP 10.96.120.15:80 -> 10.244.0.5:8080, 10.244.0.6:8080"]
    assert pr.ipvs_forwarding(text, "fd00:96:0::A") == [
        "TCP [fd00:96::a]:80 -> [fd00:10:244::5]:8080, [fd00:10:244::6]:8080"]
    assert pr.ipvs_forwarding(text, "10.96.0.10") == [
        "TCP 10.96.0.10:53 -> 10.244.0.2:53", "TCP 10.96.0.10:9153 -> 10.244.0.2:9153",
        "UDP 10.96.0.10:53 -> 10.244.0.2:53"]
    assert pr.ipvs_forwarding(text, "10.96.77.7") == []     # virtual server without real servers
    assert pr.ipvs_virtual_servers(text, ["10.96.77.7"]) == ["TCP 10.96.77.7:80"]  # ...though it exists
    assert pr.ipvs_forwarding(text, "10.244.0.5") == []     # a real server is no virtual server
    assert pr.ipvs_forwarding(text, "10.96.120.1") == []


def test_ipvs_forwarding_edge_cases():
    # derived from proxyrules_ipvsadm_Ln.txt: both real servers of 10.96.120.15 at weight 0
    # (terminating endpoints), then only one of them
    lines = IPVS_LN.splitlines(keepends=True)
    i = lines.index("TCP  10.96.120.15:80 rr\n")
    zero = [line.replace("Masq    1", "Masq    0") if i < n <= i + 2 else line for n, line in enumerate(lines)]
    assert pr.ipvs_forwarding("".join(zero), "10.96.120.15") == []
    assert pr.ipvs_virtual_servers_with_real_servers("".join(zero), ["10.244.0.5"]) == ["TCP 10.96.120.15:80"]
    one = [line.replace("Masq    1", "Masq    0") if n == i + 1 else line for n, line in enumerate(lines)]
    assert pr.ipvs_forwarding("".join(one), "10.96.120.15") == ["TCP 10.96.120.15:80 -> 10.244.0.6:8080"]
    # real servers under a fwmark service, or after an unreadable line, belong to no virtual server
    fwm = "TCP  10.96.77.7:80 rr\nFWM  1 rr\n  -> 10.244.0.5:8080  Masq 1 0 0\n"
    assert pr.ipvs_forwarding(fwm, "10.96.77.7") == []
    # ipvsadm-save: a real server for a virtual server never declared with -A is ignored
    assert pr.ipvs_forwarding("-a -t 10.96.77.7:80 -r 10.244.0.5:8080 -m -w 1\n", "10.96.77.7") == []
    assert pr.ipvs_forwarding(None, "10.96.77.7") == []
    assert pr.ipvs_forwarding("", "10.96.77.7") == []


@pytest.mark.parametrize("fixture", ["proxyrules_ipvsadm_Ln.txt", "proxyrules_ipvsadm_save.txt",
                                     "proxyrules_proc_ip_vs.txt"])
def test_ipvs_virtual_servers_with_real_servers(fixture):
    text = data(fixture)
    # pods of ns1/web, as a headless Service over them would have: both families
    assert pr.ipvs_virtual_servers_with_real_servers(text, ["10.244.0.5", "fd00:10:244::5"]) == [
        "TCP 10.96.120.15:80", "TCP [fd00:96::a]:80"]
    # ns1/web-other's pod: its ClusterIP and its NodePort
    assert pr.ipvs_virtual_servers_with_real_servers(text, ["10.244.0.9"]) == [
        "TCP 10.96.131.20:80", "TCP 172.18.0.2:30080"]
    assert pr.ipvs_virtual_servers_with_real_servers(text, ["[FD00:10:244::2]"]) == ["UDP [fd00:96::10]:53"]
    # pod IPs no virtual server forwards to (a headless Service's pods): nothing
    assert pr.ipvs_virtual_servers_with_real_servers(text, ["10.244.0.50", "10.244.0.55", "fd00:10:244::50"]) == []
    # virtual server addresses are not real servers
    assert pr.ipvs_virtual_servers_with_real_servers(text, ["10.96.120.15", "10.96.77.7"]) == []
    assert pr.ipvs_virtual_servers_with_real_servers(text, []) == []


def test_forwarding_artifacts_union_per_mode():
    # iptables node (dual-stack dumps), no nft table, no IPVS
    assert pr.forwarding_artifacts(IPT + IP6T, None, None, "ns1", "web", "10.96.120.15") == [WEB_V4_RULE]
    assert pr.forwarding_artifacts(IPT + IP6T, "", "", "ns1", "web", "fd00:96::a") == [WEB_V6_RULE]
    assert pr.forwarding_artifacts(IPT + IP6T, None, None, "ns1", "empty", "10.96.77.7") == []
    # nftables node
    nft_node_ipt = "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n"
    assert len(pr.forwarding_artifacts(nft_node_ipt, NFT_JSON, None, "ns1", "web", "fd00:96::a")) == 1
    assert pr.forwarding_artifacts(nft_node_ipt, NFT_WEB_NO_EP, None, "ns1", "web", "10.96.120.15") == []
    # IPVS node, straight from the inspector's output
    sections = pr.split_inspector_output(data("proxyrules_inspector_output.txt"))
    ipt = sections["iptables-save"] + sections["ip6tables-save"]
    assert pr.forwarding_artifacts(ipt, sections["nft-json"], sections["ip_vs"], "ns1", "web", "10.96.120.15") == [
        "ipvs TCP 10.96.120.15:80 -> 10.244.0.5:8080, 10.244.0.6:8080"]
    assert pr.forwarding_artifacts(ipt, sections["nft-json"], sections["ip_vs"], "ns1", "empty", "10.96.77.7") == []
    # everything at once: one hit per mode
    both = pr.forwarding_artifacts(IPT + IP6T, NFT_JSON, IPVS_LN, "ns1", "web", "fd00:96::a")
    assert [b.split()[0] for b in both] == ["-A", "ip6", "ipvs"]
    assert pr.forwarding_artifacts(None, None, None, "ns1", "web", "10.96.120.15") == []

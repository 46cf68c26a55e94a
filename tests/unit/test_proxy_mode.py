"""The proxy mode is read from what is programmed for this run's own Services, never from stale rules
(conformance/proxyview/proxyrules_mode.py). Stale variants are made from real captured dumps: only other
Services' rules kept (what stays when kube-proxy is stopped or replaced), a foreign IPVS virtual server."""

import json
import re
from pathlib import Path

from svc_conformance.proxyview import proxyrules as pr
from svc_conformance.proxyview.inspector import NodeState

DATA = Path(__file__).with_name("data")


def data(name: str) -> str:
    return (DATA / name).read_text()


IPT = data("proxyrules_iptables_save.txt")              # iptables mode: ns1/*, app-ns1/web, default, kube-system
NFT_JSON = data("proxyrules_nft_ruleset_ip6.json")     # nftables mode: ns1/web, ns1/webx, ns1/empty, kube-dns
NFT_TEXT = data("proxyrules_nft_ruleset.txt")
IPVS_IPT = data("proxyrules_iptables_save_ipvs_mode.txt")
IPVS = data("proxyrules_ipvsadm_Ln.txt")
RUN_VIP = "10.96.120.15"                                # ns1/web in the IPVS capture
LOCAL_NODE = data("inspector_output_iptables_v4.txt")   # the local node, no Service of any run yet


def without_namespace(iptables: str, namespace: str) -> str:
    """The dump with every rule naming a Service of `namespace` gone (their chains declared, empty)."""
    names = re.compile(rf'(?:^|[\s"]){re.escape(namespace)}/')
    return "\n".join(line for line in iptables.splitlines()
                     if not (line.startswith("-A ") and names.search(line))) + "\n"


def nft_without_namespace(ruleset: str, namespace: str) -> str:
    doc = json.loads(ruleset)
    kept = []
    for item in doc["nftables"]:
        ((kind, obj),) = item.items()
        if kind in ("map", "set") and "elem" in obj:
            obj = dict(obj, elem=[e for e in obj["elem"] if f"{namespace}/" not in json.dumps(e)])
        elif f"-{namespace}/" in json.dumps(obj):
            continue
        kept.append({kind: obj})
    return json.dumps({"nftables": kept})


def test_the_runs_own_rules_give_the_mode():
    assert pr.run_proxy_mode(IPT, "", "", "ns1") == "iptables"
    assert pr.run_proxy_mode(None, NFT_JSON, None, "ns1") == "nftables"
    assert pr.run_proxy_mode(None, NFT_TEXT, None, "ns1") == "nftables"
    assert pr.run_proxy_mode(IPVS_IPT, "", IPVS, "ns1", [RUN_VIP]) == "ipvs"
    assert pr.run_proxy_mode(IPVS_IPT, "", IPVS, "ns1", ["fd00:96::a"]) == "ipvs"


def test_stale_iptables_rules_of_other_services_decide_nothing_for_the_run():
    # kube-proxy gone (stopped or replaced): default/kubernetes and kube-dns rules stay; a run's namespace
    # appears in none of them.
    stale = without_namespace(without_namespace(IPT, "ns1"), "app-ns1")
    assert pr.detect_proxy_mode(stale, "", "") == "iptables"           # the old, node-wide answer
    assert pr.run_proxy_mode(stale, "", "", "ns1") is None
    assert pr.stale_services(stale, "", "", "ns1") == ["default/kubernetes", "kube-system/kube-dns"]
    # The real local node before any run: the same, read from DUMP_SCRIPT output.
    s = NodeState("node-a", pr.split_inspector_output(LOCAL_NODE))
    assert s.mode == "iptables" and s.run_mode("svcconf-062715-a1b2c3-") is None
    assert s.stale("svcconf-062715-a1b2c3-") == ["default/kubernetes", "kube-system/kube-dns"]


def test_a_run_marker_is_a_namespace_prefix_never_a_substring():
    only_app = without_namespace(IPT, "ns1")
    assert "app-ns1/web" in only_app
    assert pr.run_proxy_mode(only_app, "", "", "ns1") is None           # app-ns1 does not start with ns1
    assert pr.run_proxy_mode(IPT, "", "", "app-ns1") == "iptables"
    assert pr.run_proxy_mode(IPT, "", "", "") is None


def test_a_stray_rule_outside_kube_proxys_chains_decides_no_mode():
    # The headless-rule fault's chain: a kube-proxy-style comment naming the run, in a chain of its own.
    stray = "*nat\n:SVCCONF-FAULT - [0:0]\n" \
            '-A SVCCONF-FAULT -m comment --comment "ns1/web-hl:http cluster IP" -j RETURN\nCOMMIT\n'
    assert pr.run_proxy_mode(stray, "", "", "ns1") is None


def test_stale_nftables_state_of_other_services_decides_nothing_for_the_run():
    stale = nft_without_namespace(NFT_JSON, "ns1")
    assert pr.detect_proxy_mode(None, stale, None) == "nftables"
    assert pr.run_proxy_mode(None, stale, None, "ns1") is None
    assert pr.stale_services(None, stale, None, "ns1") == ["kube-system/kube-dns"]
    assert pr.stale_services(None, NFT_JSON, None, "ns1") == ["kube-system/kube-dns"]


def test_a_foreign_ipvs_virtual_server_is_not_the_runs_mode():
    # Only the API server's virtual server left (another Service, another owner), none on the run's VIPs.
    foreign = "\n".join(IPVS.splitlines()[:5]) + "\n"
    assert "10.96.0.1:443" in foreign and RUN_VIP not in foreign
    assert pr.detect_proxy_mode("", "", foreign) == "ipvs"
    assert pr.run_proxy_mode("", "", foreign, "ns1", [RUN_VIP]) is None
    assert pr.run_proxy_mode("", "", IPVS, "ns1") is None             # IPVS names nothing: VIPs needed
    assert pr.stale_services("", "", foreign, "ns1", [RUN_VIP]) == ["ipvs TCP 10.96.0.1:443"]
    # An iptables-mode node with a leftover IPVS virtual server is iptables for the run.
    assert pr.run_proxy_mode(IPT, "", foreign, "ns1", [RUN_VIP]) == "iptables"


def test_forwarding_follows_the_mode_it_is_given():
    s = NodeState("node-a", {"iptables-save": IPT})
    assert s.forwarding("ns1", "web", RUN_VIP, s.run_mode("ns1"))
    assert s.forwarding("ns1", "web", RUN_VIP, None) == []              # nothing of the run: nothing forwards

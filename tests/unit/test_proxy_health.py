"""kube-proxy silence on a node (conformance/proxyview/proxy_health.py), fed with real captured dumps: a node
whose dump names no namespace of the run is quiet; a whole failed wait establishes its silence, later
waits on it give up after the confirmation; the node naming the run, or a VIP answer, ends it."""

from pathlib import Path

import pytest

from svc_conformance.core import waits
from svc_conformance.proxyview import proxy_health, proxyrules
from svc_conformance.proxyview.inspector import NodeState

DATA = Path(__file__).parent / "data"
# kube-proxy iptables mode on the local cluster: rules name default/kubernetes and kube-system/kube-dns.
IPTABLES_DUMP = (DATA / "inspector_output_iptables_v4.txt").read_text()
RUN = "svcconf-062715-a1b2c3-"


def node(name: str, text: str = IPTABLES_DUMP) -> NodeState:
    return NodeState(name, proxyrules.split_inspector_output(text))


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(proxy_health, "_silent", {})
    monkeypatch.setitem(waits.TIMEOUTS, "proxy-rules", 0.4)
    monkeypatch.setitem(waits.TIMEOUTS, "proxy-silence-confirm", 0.1)


def test_a_dump_without_the_runs_namespaces_is_quiet():
    assert proxy_health.names_run(node("a"), RUN) is False
    assert proxy_health.names_run(node("a"), "kube-system/") is True     # any rule naming it counts
    assert proxy_health.names_run(node("a"), "") is None                  # no marker: no judgement
    assert proxy_health.observe([node("a"), node("b")], RUN) == {"a", "b"}


def test_ipvs_names_no_service_so_nothing_is_ever_quiet():
    ipvs = NodeState("a", {"iptables-save": (DATA / "proxyrules_iptables_save_ipvs_mode.txt").read_text(),
                           "ip_vs": (DATA / "proxyrules_proc_ip_vs.txt").read_text(), "end": ""})
    assert ipvs.mode == "ipvs"
    assert proxy_health.names_run(ipvs, RUN) is None and proxy_health.observe([ipvs], RUN) == set()


def _wait(nodes):
    return waits.poll("proxy-rules", lambda: (False, None), interval_s=0.05,
                      give_up=lambda _obs, elapsed: proxy_health.may_give_up(nodes, elapsed))


def test_one_whole_failed_wait_establishes_then_later_waits_confirm_briefly():
    first = _wait({"a"})
    assert not first.gave_up and proxy_health.established("a") is None
    proxy_health.establish("a", "ClusterIP ns/web: kube-proxy forwards ...", first)
    later = _wait({"a"})
    assert later.gave_up and 0.1 <= later.elapsed_s < 0.4
    assert not _wait({"a", "b"}).gave_up          # b is not established: the full deadline
    text = proxy_health.describe(proxy_health.established("a"))
    assert text.startswith("kube-proxy on a programmed nothing for this run") and "'ClusterIP ns/web" in text


def test_naming_the_run_or_a_vip_answer_ends_the_silence():
    outcome = _wait({"a"})
    proxy_health.establish("a", "s", outcome)
    proxy_health.establish("b", "s", outcome)
    named = IPTABLES_DUMP.replace("kube-system/kube-dns:dns cluster IP", f"{RUN}web/web:http cluster IP")
    assert proxy_health.observe([node("a", named), node("b")], RUN) == {"b"}
    assert proxy_health.established("a") is None and proxy_health.established("b") is not None
    proxy_health.heard_from("b")
    assert proxy_health.established("b") is None

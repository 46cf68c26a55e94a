"""PROXY-02's verdict when nothing of the run is programmed (conformance/checks/assertions_proxy.py), fed with
the real dump of the local node, whose only kube-proxy rules are default/kubernetes and kube-dns (what
stays when kube-proxy is stopped, or replaced without clean-up). The context is given its Service's
ClusterIP and a client whose replies are fixed: no Kubernetes API is involved.

- rules that come late (a slow kube-proxy) pass: "nothing yet" is never concluded early;
- nothing of the run for the whole deadline and the ClusterIP answers: not supported (a replacement),
  naming the stale rules; and no answer: failed, naming kube-proxy programming nothing for the run."""

import functools
from pathlib import Path

import pytest
from kubernetes import client

from svc_conformance.checks import assertions_proxy
from svc_conformance.checks.context import ScenarioContext
from svc_conformance.cluster.probe import Reply
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.proxyview import proxy_health, proxyrules
from svc_conformance.proxyview.inspector import NodeState

DATA = Path(__file__).parent / "data"
STALE = (DATA / "inspector_output_iptables_v4.txt").read_text()
RUN = "svcconf-062715-a1b2c3-"
NS = f"{RUN}clusterip-deployment"
# The same node once kube-proxy programmed the run's Service: the API server's rules renamed into it.
PROGRAMMED = STALE.replace("default/kubernetes", f"{NS}/myapp")
VIP = "10.96.0.1"


class Dumps:
    def __init__(self, *texts):
        self.texts, self.pods, self.left_out = list(texts), {"node-a": "inspector-x"}, {}

    def dump(self):
        text = self.texts.pop(0) if len(self.texts) > 1 else self.texts[0]
        return [NodeState("node-a", proxyrules.split_inspector_output(text))]


class Client:
    def __init__(self, answer: bool):
        self.answer, self.asked = answer, 0

    def http_get(self, urls):
        self.asked += 1
        return [Reply(u, "myapp-7d9f" if self.answer else None, "" if self.answer else "timed out") for u in urls]


class Context(ScenarioContext):
    """Its one Service `myapp` has ClusterIP 10.96.0.1 (port 80) and runs on node-a."""

    def cluster_ips(self, service, family=None):
        return [VIP]

    def service(self, name):
        return client.V1Service(spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)]))

    def client_node(self):
        return "node-a"


def context(dumps, answer):
    evidence, facts = {}, {}
    ctx = Context(name="clusterip-deployment", cluster=None, namespace=NS, client=Client(answer), families=["ipv4"],
                  zone="cluster.local", inspector=lambda: dumps, attach=evidence.__setitem__, run_marker=RUN,
                  facts=facts.update)
    return ctx, evidence, facts


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(proxy_health, "_silent", {})
    monkeypatch.setattr(proxy_health, "_replaced", [])
    monkeypatch.setitem(waits.TIMEOUTS, "proxy-rules", 0.6)
    monkeypatch.setitem(waits.TIMEOUTS, "proxy-silence-confirm", 0.15)
    monkeypatch.setitem(waits.TIMEOUTS, "replacement-probe", 0.1)
    monkeypatch.setattr(waits, "poll", functools.partial(waits.poll, interval_s=0.05))


def test_rules_that_come_late_pass_and_record_the_runs_mode():
    ctx, evidence, facts = context(Dumps(STALE, STALE, STALE, PROGRAMMED), answer=False)
    assertions_proxy.proxy_forwarding_present(ctx, "myapp")
    assert facts == {"proxy_mode": "iptables"} and ctx.client.asked == 0
    assert evidence["proxy modes for this run"] == {"node-a": "iptables (node-wide: iptables)"}


def test_stale_rules_and_an_answering_clusterip_are_a_replacement_never_concluded_early():
    ctx, evidence, facts = context(Dumps(STALE), answer=True)
    started = waits.time.monotonic()
    with pytest.raises(pytest.skip.Exception, match="not supported: kube-proxy programs nothing for this run") as err:
        assertions_proxy.proxy_forwarding_present(ctx, "myapp")
    assert waits.time.monotonic() - started >= 0.5                    # about the whole proxy-rules deadline
    assert "default/kubernetes, kube-system/kube-dns" in str(err.value) and facts == {"proxy_mode": "none"}
    assert evidence["kube-proxy state of other Services (stale)"] == {"node-a": ["default/kubernetes",
                                                                                  "kube-system/kube-dns"]}
    assert proxy_health.established("node-a") is None
    # The next proxy-rules wait that again sees nothing of the run confirms briefly.
    started = waits.time.monotonic()
    with pytest.raises(pytest.skip.Exception, match="not supported"):
        assertions_proxy.proxy_forwarding_present(ctx, "myapp")
    assert waits.time.monotonic() - started < 0.6


def test_stale_rules_and_a_silent_clusterip_fail_naming_kube_proxy():
    ctx, evidence, facts = context(Dumps(STALE), answer=False)
    with pytest.raises(CheckFailed) as err:
        assertions_proxy.proxy_forwarding_present(ctx, "myapp")
    assert "kube-proxy programs nothing for this run; rules found are other Services' (stale): " \
           "node-a: default/kubernetes, kube-system/kube-dns" in err.value.observed
    assert facts == {"proxy_mode": "unknown"}
    assert proxy_health.established("node-a") is not None         # later waits on node-a confirm briefly
    with pytest.raises(CheckFailed, match="not waited out"):
        assertions_proxy.proxy_forwarding_present(ctx, "myapp")

"""What a check sees of its scenario: namespace, live objects, the client probe, evidence, DNS polling."""

import ipaddress
from dataclasses import dataclass, field
from typing import Callable

import pytest

from svc_conformance.cluster import netpol
from svc_conformance.cluster.kube import Cluster
from svc_conformance.cluster.probe import ClientPod
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview import dns_health, dnswire, records
from svc_conformance.proxyview import proxy_health

RDTYPE = {"ipv4": "A", "ipv6": "AAAA"}


def family_of(ip: str) -> str:
    return "ipv6" if ipaddress.ip_address(ip).version == 6 else "ipv4"


@dataclass
class ScenarioContext:
    name: str
    cluster: Cluster
    namespace: str
    client: ClientPod
    families: list[str]                       # the families the cluster serves, primary first
    zone: str                                 # learned from the client pod's search list, never assumed
    inspector: Callable | None = None         # () -> Inspector, or skips "blocked by environment"
    attach: Callable = lambda name, content: None   # evidence sink of the running test
    attached: set = field(default_factory=set)      # evidence names the running test attached so far
    metric: Callable = lambda name, value: None
    troubled: Callable = lambda: None         # a check failed or was blocked: keep a logs bundle
    state: dict = field(default_factory=dict)  # facts a setup hook learned (e.g. slice addresses)
    run_id: str = ""
    ready_at: float | None = None             # time.monotonic() when the scenario's pods were Ready
    run_marker: str = ""                      # the prefix of every namespace of the run (names its rules)
    facts: Callable = lambda facts: None      # cluster facts learned by a check (the run's proxy mode)

    def create(self, doc: dict) -> None:
        """Create a run-time object (e.g. a hand-made EndpointSlice) labelled with the run."""
        from svc_conformance.cluster import kube, manifests
        kube.create_object(self.cluster, manifests.label(doc, self.run_id), self.namespace)

    # -- names and objects -------------------------------------------------------------------
    def fqdn(self, service: str, namespace: str | None = None) -> str:
        return f"{service}.{namespace or self.namespace}.svc.{self.zone}."

    def service(self, name: str):
        return self.cluster.core.read_namespaced_service(name, self.namespace)

    def cluster_ips(self, service: str, family: str | None = None) -> list[str]:
        spec = self.service(service).spec
        ips = [ip for ip in (spec.cluster_ips or []) if ip != "None"]
        return [ip for ip in ips if family is None or family_of(ip) == family]

    def pods(self, selector: str, ready: bool | None = True) -> list:
        items = self.cluster.core.list_namespaced_pod(self.namespace, label_selector=selector).items
        items = [p for p in items if p.metadata.deletion_timestamp is None and p.status.pod_ips]
        if ready is None:
            return items
        return [p for p in items if _is_ready(p) == ready]

    def placement(self, pods) -> dict:
        """Which node runs the client and each pod: REACH evidence says what crossed nodes."""
        client = self.cluster.core.read_namespaced_pod(self.client.name, self.namespace).spec.node_name
        nodes = {p.spec.hostname or p.metadata.name: p.spec.node_name for p in pods}
        return {"client node": client, "endpoint nodes": nodes,
                "endpoints on another node": sorted(n for n, node in nodes.items() if node != client)}

    @staticmethod
    def pod_ips(pods, family: str) -> set[str]:
        return {ip.ip for p in pods for ip in (p.status.pod_ips or []) if family_of(ip.ip) == family}

    def slices(self, service: str) -> list:
        return self.cluster.discovery.list_namespaced_endpoint_slice(
            self.namespace, label_selector=f"kubernetes.io/service-name={service}").items

    # -- DNS -----------------------------------------------------------------------------------
    def expect_dns(self, statement: str, expectations, transports=("udp", "tcp"), timeout: str = "dns",
                   consecutive: int | None = None) -> waits.Outcome:
        """Poll until every expectation holds over every transport; else fail with expected vs observed.

        `expectations` is a list of records.Expectation or a callable returning one (recomputed each
        round, because the expected pod IPs follow the live pods).
        """
        def attempt():
            wanted = expectations() if callable(expectations) else expectations
            questions = [dnswire.Question(e.name, e.rdtype, tcp=(t == "tcp")) for e in wanted for t in transports]
            answers = dnswire.ask(self.client, questions)
            verdicts = [records.verify(wanted[i // len(transports)], a) for i, a in enumerate(answers)]
            return all(v.ok for v in verdicts), (wanted, questions, answers, verdicts), answers

        outcome, cause = self.poll_dns(statement, attempt, timeout, consecutive)
        wanted, questions, answers, verdicts = outcome.last
        self.attach("dns questions", "\n".join(f"{q} via {q.transport}" for q in questions))
        self.attach("expected", "\n".join(e.describe() for e in wanted))
        self.attach("observed", "\n\n".join(f"{q} ({q.transport}):\n{records.describe_answer(a)}"
                                            for q, a in zip(questions, answers)))
        if not outcome.ok:
            bad = [(q, v) for q, v in zip(questions, verdicts) if not v.ok]
            raise CheckFailed(statement,
                              expected="; ".join(sorted({v.expected for _, v in bad})),
                              observed="; ".join(f"[{q.transport}] {v.observed}" for q, v in bad[:4])
                              + f" (after {outcome.elapsed_s:.0f}s, {outcome.attempts} attempts{cause})")
        self._record_convergence(wanted, outcome)
        return outcome

    def _record_convergence(self, wanted, outcome: waits.Outcome) -> None:
        """The scenario's DNS convergence per family: pods Ready -> the first of the consecutive correct
        answers of its first DNS expectation of that family (once per scenario and family)."""
        family = next((f for f, rdtype in RDTYPE.items() if any(e.rdtype == rdtype for e in wanted)), None)
        done = self.state.setdefault("dns_converged", set())
        if self.ready_at is None or family is None or family in done or outcome.first_ok_s is None:
            return
        done.add(family)
        self.metric("dns_convergence_s", round(outcome.started_at + outcome.first_ok_s - self.ready_at, 3))

    def poll_dns(self, statement: str, attempt, timeout: str = "dns", consecutive: int | None = None):
        """waits.poll for DNS: attempt() -> (ok, observation, answers). Returns (outcome, cause): when
        cluster DNS is established silent (conformance/dnsview/dns_health.py), a wait that hears nothing either
        ends after a short confirmation and cause says why; otherwise cause is ""."""
        heard = {"any": False}      # did the resolver send any message during this wait?

        def tracked():
            ok, observation, answers = attempt()
            heard["any"] |= not dns_health.silent(answers)
            dns_health.record_round(answers)
            return ok, observation

        outcome = waits.poll(timeout, tracked, consecutive, give_up=dns_health.give_up(lambda: not heard["any"]))
        silence = dns_health.established()
        dns_health.record_full_wait(statement, outcome, not heard["any"])
        policies = "" if outcome.ok or heard["any"] else self.policies_seen()
        if not (outcome.gave_up and silence):
            return outcome, policies
        self.attach("shared dependency", dns_health.describe(silence))
        return outcome, f"; not waited out: {dns_health.describe(silence)}{policies}"

    def policies_seen(self) -> str:
        """When nothing answered: the NetworkPolicies of the namespace, if any but the run's own."""
        if "policies_seen" not in self.state:
            found = netpol.describe(self.cluster.api, self.namespace)
            self.state["policies_seen"] = f"; {found}" if found else ""
            if found:
                self.attach("network policies", found)
        return self.state["policies_seen"]

    # -- traffic through a VIP ---------------------------------------------------------------
    def client_node(self) -> str:
        if "client_node" not in self.state:
            self.state["client_node"] = self.cluster.core.read_namespaced_pod(
                self.client.name, self.namespace).spec.node_name
        return self.state["client_node"]

    def poll_vip(self, statement: str, attempt, answered, consecutive: int | None = None):
        """waits.poll("reach") for traffic through a VIP from the client pod; answered(observation)
        says whether anything answered. Returns (outcome, cause) like poll_dns: when the client's node
        is established to program nothing for this run (conformance/proxyview/proxy_health.py), a wait that gets
        no answer ends after a short confirmation and cause says why; a wait that failed over its whole
        deadline without an answer looks at the client's node once to establish that."""
        node = self.client_node()
        heard = {"any": False}

        def tracked():
            ok, observation = attempt()
            if ok or answered(observation):
                heard["any"] = True
                proxy_health.heard_from(node)
            return ok, observation

        def give_up(_observation, elapsed_s):
            return not heard["any"] and proxy_health.may_give_up({node}, elapsed_s)

        outcome = waits.poll("reach", tracked, consecutive, give_up=give_up)
        if outcome.ok or heard["any"]:
            return outcome, ""
        policies = self.policies_seen()
        if not outcome.gave_up:
            self._look_at_node(node, statement, outcome)
            return outcome, policies
        silence = proxy_health.established(node)
        self.attach("shared dependency", proxy_health.describe(silence))
        return outcome, f"; not waited out: {proxy_health.describe(silence)}{policies}"

    def _look_at_node(self, node: str, statement: str, outcome: waits.Outcome) -> None:
        """After a whole deadline without an answer through a VIP: does the client's node name the run?"""
        from svc_conformance.proxyview.inspector import InspectionBlocked
        try:
            inspector = self.inspector() if self.inspector else None
            pod = inspector.pods.get(node) if inspector else None
            state = inspector.dump_node(node, pod) if pod else None
        except (InspectionBlocked, pytest.skip.Exception):
            return          # could not look: establishes nothing
        if state is not None and node in proxy_health.observe([state], self.run_marker):
            proxy_health.establish(node, statement, outcome)

    def ask_once(self, name: str, rdtype: str, tcp: bool = False) -> dnswire.Answer:
        return dnswire.ask(self.client, [dnswire.Question(name, rdtype, tcp=tcp)])[0]


def _is_ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))

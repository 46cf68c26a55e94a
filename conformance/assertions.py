"""Reusable checks over a ScenarioContext: DNS record sets, kube-proxy artifacts, reachability.

Each function states the normative sentence it checks, so a failure names it; absence checks carry
their positive control in the same call.
"""

from conformance import dnswire, waits
from conformance.context import RDTYPE, ScenarioContext, family_of
from conformance.outcomes import CheckFailed, not_supported
from conformance.probe import url
from conformance.records import Expectation, describe_answer

SERVER_PORT = 8080


def require_family(ctx: ScenarioContext, family: str) -> None:
    if family not in ctx.families:
        not_supported(f"the cluster does not serve {family} (it serves {', '.join(ctx.families)})")


def require_service_family(ctx: ScenarioContext, service: str, family: str) -> list[str]:
    require_family(ctx, family)
    ips = ctx.cluster_ips(service, family)
    if not ips:
        not_supported(f"Service {service} got no {family} ClusterIP (ipFamilies "
                      f"{ctx.service(service).spec.ip_families})")
    return ips


# -- DNS --------------------------------------------------------------------------------------
def clusterip_record(ctx: ScenarioContext, service: str, family: str, name: str | None = None) -> None:
    ips = require_service_family(ctx, service, family)
    ctx.expect_dns(f"{service}: {RDTYPE[family]} record = the ClusterIP, never pod IPs",
                   [Expectation(name or ctx.fqdn(service), RDTYPE[family], frozenset(ips), "exact")])


def headless_records(ctx: ScenarioContext, service: str, selector: str, family: str, ready=True) -> None:
    require_family(ctx, family)
    served = [f.lower() for f in (ctx.service(service).spec.ip_families or [])]
    if family not in served:
        not_supported(f"Service {service} serves {served} (ipFamilyPolicy "
                      f"{ctx.service(service).spec.ip_family_policy}), not {family}")
    if not ctx.pod_ips(ctx.pods(selector, ready=None), family):
        not_supported(f"pods of {service} have no {family} address")

    def expected():
        ips = ctx.pod_ips(ctx.pods(selector, ready=ready), family)
        if not ips:
            return [Expectation(ctx.fqdn(service), RDTYPE[family], mode="nxdomain")]
        return [Expectation(ctx.fqdn(service), RDTYPE[family], frozenset(ips), "exact")]
    ctx.expect_dns(f"headless {service}: one {RDTYPE[family]} per ready endpoint, nothing else", expected)


def srv_records(ctx: ScenarioContext, service: str, port_name: str, proto: str = "tcp") -> None:
    svc = ctx.service(service)
    port = next(p.port for p in svc.spec.ports if p.name == port_name)
    name = f"_{port_name}._{proto}.{service}.{ctx.namespace}.svc.{ctx.zone}."
    ctx.expect_dns(f"named port {port_name}: SRV with target the service name and the service port",
                   [Expectation(name, "SRV", frozenset({f"{port} {ctx.fqdn(service)}"}), "contains")])


def endpoint_names_from_srv(ctx: ScenarioContext, service: str, port_name: str, selector: str,
                            family: str) -> dict[str, str]:
    """Learn each endpoint's DNS name from the headless SRV targets (format is implementation-chosen)."""
    name = f"_{port_name}._tcp.{service}.{ctx.namespace}.svc.{ctx.zone}."
    # One endpoint per ready address: on dual-stack clusters a pod is an endpoint in each family.
    served = [f.lower() for f in (ctx.service(service).spec.ip_families or [])]
    want = sum(len(ctx.pod_ips(ctx.pods(selector), f)) for f in served)

    def attempt():
        answer = ctx.ask_once(name, "SRV", tcp=True)
        targets = {v.split()[1] for v in dnswire.rrset_values(answer.message, name, "SRV")}
        return len(targets) == want, (answer, targets)
    outcome = waits.poll("dns", attempt)
    answer, targets = outcome.last
    ctx.attach(f"SRV {name}", describe_answer(answer))
    if not outcome.ok:
        raise CheckFailed(f"headless {service}: one SRV per ready endpoint x named port",
                          f"{want} distinct SRV targets", f"{sorted(targets)}")
    names = {}
    for target in targets:
        for a in ctx.client.ask([dnswire.Question(target, RDTYPE[family], tcp=True)]):
            for ip in dnswire.rrset_values(a.message, target, RDTYPE[family]):
                names[ip] = target
    return names


# -- kube-proxy ---------------------------------------------------------------------------------
def _inspect(ctx: ScenarioContext):
    inspector = ctx.inspector()
    states = inspector.dump()
    broken = {s.node: s.errors for s in states if s.errors}
    if broken:
        ctx.attach("inspector errors", broken)
        raise CheckFailed("the node inspector reads kube-proxy state completely",
                          "every rule dump tool exits 0", f"{broken}")
    modes = {s.node: s.mode for s in states}
    if all(m == "none" for m in modes.values()):
        not_supported("no kube-proxy rules on any node (PROXY-05: a kube-proxy replacement or none); "
                      f"modes read: {modes}")
    return states


def proxy_artifacts_present(ctx: ScenarioContext, service: str) -> None:
    def attempt():
        states = _inspect(ctx)
        ips = ctx.cluster_ips(service)
        found = {s.node: s.artifacts(ctx.namespace, service, ips) for s in states}
        return all(found.values()), (states, found)
    outcome = waits.poll("proxy-rules", attempt)
    states, found = outcome.last
    ctx.attach("rules per node", {n: lines for n, lines in found.items()})
    ctx.attach("proxy modes", {s.node: s.mode for s in states})
    missing = [n for n, lines in found.items() if not lines]
    if missing:
        raise CheckFailed(f"ClusterIP {ctx.namespace}/{service}: kube-proxy artifacts on every node",
                          "rules naming the service on every node", f"none on {missing}")


def proxy_artifacts_absent(ctx: ScenarioContext, headless: str, control: str) -> None:
    """No artifacts for the headless service, trusted only after the control's artifacts were seen."""
    proxy_artifacts_present(ctx, control)     # positive control, same probe, same run

    def attempt():
        states = _inspect(ctx)
        found = {s.node: s.artifacts(ctx.namespace, headless, []) for s in states}
        return not any(found.values()), found
    outcome = waits.poll("proxy-rules", attempt)
    ctx.attach("headless rules per node", outcome.last)
    if not outcome.ok:
        raise CheckFailed(f"headless {ctx.namespace}/{headless}: no kube-proxy artifacts on any node",
                          "no rule, chain, map element or virtual server naming it",
                          "; ".join(f"{n}: {lines[:5]}" for n, lines in outcome.last.items() if lines))


# -- reachability -------------------------------------------------------------------------------
def pods_answer_as_themselves(ctx: ScenarioContext, selector: str, family: str) -> None:
    require_family(ctx, family)
    pods = ctx.pods(selector)
    targets = [(p, ip) for p in pods for ip in ctx.pod_ips([p], family)]
    if not targets:
        not_supported(f"no {family} pod addresses for {selector}")

    def attempt():
        replies = ctx.client.http_get([url(ip, SERVER_PORT) for _, ip in targets])
        wrong = [(p.metadata.name, ip, r.body or r.error) for (p, ip), r in zip(targets, replies)
                 if r.body != (p.spec.hostname or p.metadata.name)]
        return not wrong, (replies, wrong)
    outcome = waits.poll("reach", attempt)
    replies, wrong = outcome.last
    ctx.attach("replies", {r.target: r.body or r.error for r in replies})
    if wrong:
        raise CheckFailed("every endpoint IP answers directly, as itself",
                          "each pod IP answers with its own pod name", f"{wrong}")


def vip_spreads(ctx: ScenarioContext, service: str, selector: str, family: str, requests: int = 30,
                port: int = 80) -> set[str]:
    ips = require_service_family(ctx, service, family)
    backends = {p.spec.hostname or p.metadata.name for p in ctx.pods(selector)}

    def attempt():
        replies = ctx.client.http_get([url(ips[0], port)] * requests)
        seen = {r.body for r in replies if r.body}
        return seen == backends, (replies, seen)
    outcome = waits.poll("reach", attempt)
    replies, seen = outcome.last
    ctx.attach("backends seen through the VIP", sorted(seen))
    if seen != backends:
        raise CheckFailed(f"VIP {ips[0]}:{port} spreads across all ready backends",
                          f"{sorted(backends)} within {requests} requests",
                          f"{sorted(seen)}; errors: {sorted({r.error for r in replies if r.error})[:3]}")
    return seen


def ready_and_family(ips: list[str], family: str) -> list[str]:
    return [ip for ip in ips if family_of(ip) == family]

"""Reusable checks over a ScenarioContext: DNS record sets, kube-proxy artifacts, reachability.

Each function states the normative sentence it checks, so a failure names it; absence checks carry
their positive control in the same call.
"""

import ipaddress

from svc_conformance.core import waits
from svc_conformance.dnsview import dnswire
# kube-proxy checks (PROXY-01/02/05) live in assertions_proxy.py; scenarios call them through here.
from svc_conformance.checks.assertions_proxy import proxy_artifacts_absent, proxy_forwarding_present  # noqa: F401
from svc_conformance.checks.context import RDTYPE, ScenarioContext, family_of
from svc_conformance.cluster.probe import url
from svc_conformance.core.outcomes import CheckFailed, not_supported
from svc_conformance.dnsview.records import Expectation, describe_answer

SERVER_PORT = 8080


def require_family(ctx: ScenarioContext, family: str) -> None:
    if family not in ctx.families:
        not_supported(f"the cluster does not serve {family} (it serves {', '.join(ctx.families)})")


def require_service_family(ctx: ScenarioContext, service: str, family: str) -> list[str]:
    require_family(ctx, family)
    ips = ctx.cluster_ips(service, family)
    if not ips:
        spec = ctx.service(service).spec
        if spec.ip_family_policy in ("PreferDualStack", "RequireDualStack"):
            # The cluster serves this family: a dual-stack policy must get it.
            raise CheckFailed(f"{spec.ip_family_policy} Service {service} gets a ClusterIP of every family "
                              "the cluster serves", f"a {family} ClusterIP ({ctx.families} served)",
                              f"clusterIPs {spec.cluster_ips}, ipFamilies {spec.ip_families}")
        not_supported(f"Service {service} got no {family} ClusterIP (ipFamilyPolicy {spec.ip_family_policy}, "
                      f"ipFamilies {spec.ip_families})")
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
    """Learn each endpoint's DNS name from the headless SRV targets (format is implementation-chosen).

    The targets must together resolve to exactly the ready endpoint addresses of every served family.
    Their number is not the endpoint count: a pod's two addresses on a dual-stack cluster share one name
    when the name comes from the pod (hostname, CoreDNS endpoint_pod_names), and identical SRV records
    are one record. Returns {address of `family`: target}."""
    name = f"_{port_name}._tcp.{service}.{ctx.namespace}.svc.{ctx.zone}."
    served = [f.lower() for f in (ctx.service(service).spec.ip_families or [])]

    def attempt():
        want = {_canonical(ip) for f in served for ip in ctx.pod_ips(ctx.pods(selector), f)}
        answer = ctx.ask_once(name, "SRV", tcp=True)
        targets = sorted({v.split()[1] for v in dnswire.rrset_values(answer.message, name, "SRV")})
        questions = [dnswire.Question(t, RDTYPE[f], tcp=True) for t in targets for f in served]
        answers = dnswire.ask(ctx.client, questions) if questions else []
        resolved = {_canonical(ip): q.name for q, a in zip(questions, answers)
                    for ip in dnswire.rrset_values(a.message, q.name, q.rdtype)}
        return set(resolved) == want, (answer, targets, resolved, want), [answer, *answers]
    statement = f"headless {service}: one SRV per ready endpoint x named port"
    outcome, cause = ctx.poll_dns(statement, attempt)
    answer, targets, resolved, want = outcome.last
    ctx.attach(f"SRV {name}", describe_answer(answer))
    ctx.attach("SRV targets resolved", "\n".join(f"{t} -> {sorted(ip for ip, n in resolved.items() if n == t)}"
                                                  for t in targets) or "(no SRV target)")
    if not outcome.ok:
        raise CheckFailed(statement, f"SRV targets that resolve to exactly the ready endpoint addresses "
                                     f"{sorted(want)}",
                          f"targets {targets} resolve to {sorted(resolved)}{cause}")
    return {ip: target for ip, target in resolved.items() if family_of(ip) == family}


def _canonical(ip: str) -> str:
    return str(ipaddress.ip_address(ip))


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
    placement = ctx.placement(pods)
    answered = {r.body for r in replies}
    placement["answered directly from another node"] = [n for n in placement["endpoints on another node"]
                                                         if n in answered]
    ctx.attach("placement (pod -> endpoint on another node)", placement)
    if wrong:
        silent = not any(r.body for r in replies)       # nothing answered: say which policies are there
        raise CheckFailed("every endpoint IP answers directly, as itself",
                          "each pod IP answers with its own pod name",
                          f"{wrong}{ctx.policies_seen() if silent else ''}")


def vip_spreads(ctx: ScenarioContext, service: str, selector: str, family: str, per_backend: int = 10,
                port: int = 80) -> set[str]:
    """Every ready backend answers through the VIP within N = per_backend x k requests (k backends),
    and every request is answered by a backend: an error or a stranger's answer fails the round."""
    ips = require_service_family(ctx, service, family)
    backends = {p.spec.hostname or p.metadata.name for p in ctx.pods(selector)}
    requests = max(per_backend * len(backends), 10)

    statement = f"VIP {ips[0]}:{port} spreads across all ready backends"

    def attempt():
        replies = ctx.client.http_get([url(ips[0], port)] * requests)
        seen = {r.body for r in replies if r.body}
        bad = [r.error or f"answered by {r.body}" for r in replies if r.body not in backends]
        return seen == backends and not bad, (replies, seen, bad)
    outcome, cause = ctx.poll_vip(statement, attempt, answered=lambda observation: bool(observation[1]))
    replies, seen, bad = outcome.last
    counts = {b: sum(r.body == b for r in replies) for b in sorted(seen)}
    ctx.attach("VIP requests", {"bound": f"{requests} requests for {len(backends)} backends",
                                "answers per backend": counts, "failed or foreign": len(bad)})
    placement = ctx.placement(ctx.pods(selector))
    placement["VIP answers from another node"] = {b: n for b, n in counts.items()
                                                  if b in placement["endpoints on another node"]}
    ctx.attach("placement (VIP -> endpoint on another node)", placement)
    if seen != backends or bad:
        raise CheckFailed(statement,
                          f"each of {sorted(backends)} answers, and every request is answered, "
                          f"within {requests} requests for {len(backends)} backends",
                          f"answers per backend {counts}; {len(bad)}/{requests} requests failed or answered "
                          f"by another: {sorted(set(bad))[:3]}{cause}")
    return seen


def headless_addresses_are_endpoints(ctx: ScenarioContext, headless: str, selector: str) -> None:
    """REACH-05: a headless Service has no VIP; every address DNS gives for its name is an endpoint
    address (no Service IP) and answers, as the pod that owns it."""
    svc = ctx.service(headless)
    vips = [ip for ip in (svc.spec.cluster_ips or []) if ip != "None"]
    if svc.spec.cluster_ip != "None" or vips:
        raise CheckFailed("a headless Service has no VIP", "spec.clusterIP(s) None", f"{svc.spec.cluster_ips}")
    families = [f for f in ctx.families if f in [x.lower() for x in (svc.spec.ip_families or [])]]
    service_ips = {ip for s in ctx.cluster.core.list_namespaced_service(ctx.namespace).items
                   for ip in (s.spec.cluster_ips or []) if ip != "None"}
    service_ips |= {ip for ip in ctx.cluster.core.read_namespaced_service("kubernetes", "default").spec.cluster_ips}

    def attempt():
        # The data path as a client sees it: what DNS returns, not what the API says.
        answers = dnswire.ask(ctx.client, [dnswire.Question(ctx.fqdn(headless), RDTYPE[f], tcp=True) for f in families])
        returned = sorted({ip for ans in answers for f in families
                           for ip in dnswire.rrset_values(ans.message, ctx.fqdn(headless), RDTYPE[f])})
        owners = {ip: p.spec.hostname or p.metadata.name for p in ctx.pods(selector, ready=None)
                  for f in families for ip in ctx.pod_ips([p], f)}
        slice_ips = {addr for s in ctx.slices(headless) for e in (s.endpoints or []) for addr in e.addresses}
        replies = ctx.client.http_get([url(ip, SERVER_PORT) for ip in returned]) if returned else []
        wrong = []
        for ip, reply in zip(returned, replies):
            if ip in service_ips:
                wrong.append(f"{ip} is a Service IP")
            elif ip not in slice_ips:
                wrong.append(f"{ip} is no endpoint of {headless}")
            elif reply.body != owners.get(ip):
                wrong.append(f"{ip} answered {reply.body or reply.error!r}, not as its pod {owners.get(ip)}")
        return bool(returned) and not wrong, (returned, replies, wrong, answers), answers
    statement = f"headless {headless}: every address DNS returns is an endpoint that answers as its pod"
    # The addresses come from cluster DNS: a silent cluster DNS is the cause, confirmed briefly.
    outcome, cause = ctx.poll_dns(statement, attempt, timeout="reach", consecutive=2)
    returned, replies, wrong, answers = outcome.last
    ctx.attach("addresses DNS returned", returned)
    ctx.attach("replies", {r.target: r.body or r.error for r in replies})
    ctx.attach("observed DNS", "\n\n".join(describe_answer(x) for x in answers))
    if not returned or wrong:
        raise CheckFailed(statement, "endpoint addresses only (no Service IP), each answering with its own pod name",
                          ("; ".join(wrong) if wrong else "DNS returned no address") + cause)


def ready_and_family(ips: list[str], family: str) -> list[str]:
    return [ip for ip in ips if family_of(ip) == family]

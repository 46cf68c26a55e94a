"""A bare Pod with hostname h1 + subdomain web-hl, and a Pod with the subdomain but no hostname."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.dnsview.records import Expectation


@check("POD-03", per_family=True)
def hostname_subdomain(ctx, family):
    a.require_family(ctx, family)
    ctx.expect_dns("hostname h1 + subdomain web-hl gets h1.web-hl.<ns>.svc.<zone>", lambda: [
        Expectation(f"h1.web-hl.{ctx.namespace}.svc.{ctx.zone}.", RDTYPE[family],
                    frozenset(ctx.pod_ips(ctx.pods("app=bare"), family) & ctx.pod_ips(
                        [ctx.cluster.core.read_namespaced_pod("h1-pod", ctx.namespace)], family)), "exact")])


@check("POD-04", per_family=True)
def subdomain_without_hostname(ctx, family):
    a.require_family(ctx, family)
    h1 = ctx.pod_ips([ctx.cluster.core.read_namespaced_pod("h1-pod", ctx.namespace)], family)
    nohost_ips = ctx.pod_ips([ctx.cluster.core.read_namespaced_pod("nohost", ctx.namespace)], family)
    claimed = f"nohost.web-hl.{ctx.namespace}.svc.{ctx.zone}."
    # The implementation names endpoints without hostname as it likes (DNS-14): learn its names from
    # the SRV targets. If it chose the pod's name, that record is its own endpoint name, allowed.
    learned = a.endpoint_names_from_srv(ctx, "web-hl", "http", "app=bare", family)
    ctx.attach("endpoint names learned from SRV", learned)
    chosen = any(learned.get(ip, "").lower() == claimed.lower() for ip in nohost_ips)
    ctx.attach("verdict basis", f"{claimed} is " + ("the implementation's endpoint name for nohost (allowed)"
                                                    if chosen else "no endpoint name: it must not exist"))
    # Positive control in the same question batch: h1's name (same service, same probe) resolves.
    ctx.expect_dns("subdomain without hostname: no record claims <pod-hostname>.<subdomain> from the Pod spec", [
        Expectation(f"h1.web-hl.{ctx.namespace}.svc.{ctx.zone}.", RDTYPE[family], frozenset(h1), "exact"),
        Expectation(claimed, RDTYPE[family], frozenset(nohost_ips), "exact") if chosen
        else Expectation(claimed, RDTYPE[family], mode="absent"),
    ])


@check("DNS-11", per_family=True)
def headless_a(ctx, family):
    a.headless_records(ctx, "web-hl", "app=bare", family)


@check("REACH-01", per_family=True)
def direct(ctx, family):
    a.pods_answer_as_themselves(ctx, "app=bare", family)


SCENARIO = Scenario(
    name="bare-pod-hostname",
    description="Bare Pods with hostname/subdomain under a headless Service",
    features=("pod-hostname", "headless"),
    checks=(hostname_subdomain, subdomain_without_hostname, headless_a, direct),
)

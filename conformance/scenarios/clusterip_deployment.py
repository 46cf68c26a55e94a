"""Seeds 000-002: Deployment `myapp` behind ClusterIP `myapp` and headless `myapp-headless`."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks import catalogue
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview.records import Expectation, mixed_case

SEL = "app=myapp"


@check("DNS-01")
def schema_version(ctx, family):
    ctx.expect_dns("dns-version.<zone> TXT carries the schema version",
                   [Expectation(f"dns-version.{ctx.zone}.", "TXT", frozenset({catalogue.DNS_SPEC_SCHEMA}), "exact")])


@check("DNS-02", per_family=True)
def case_insensitive(ctx, family):
    # The question goes on the wire in mixed case (the evidence shows it); answers match without case.
    a.clusterip_record(ctx, "myapp", family, name=mixed_case(ctx.fqdn("myapp")))


@check("DNS-03", per_family=True)
def clusterip_a(ctx, family):
    a.clusterip_record(ctx, "myapp", family)


@check("DNS-06")
def srv(ctx, family):
    a.srv_records(ctx, "myapp", "http")


@check("DNS-09", per_family=True)
def ptr(ctx, family):
    ips = a.require_service_family(ctx, "myapp", family)
    from svc_conformance.dnsview.dnswire import reverse_name
    ctx.expect_dns("the ClusterIP has a PTR to the service name",
                   [Expectation(reverse_name(ip), "PTR", frozenset({ctx.fqdn("myapp")}), "exact") for ip in ips])


@check("DNS-11", per_family=True)
def headless_a(ctx, family):
    a.headless_records(ctx, "myapp-headless", SEL, family)


@check("DNS-14", per_family=True)
def endpoint_names(ctx, family):
    a.require_family(ctx, family)
    names = a.endpoint_names_from_srv(ctx, "myapp-headless", "http", SEL, family)
    ctx.attach("endpoint names learned from SRV", names)
    want = ctx.pod_ips(ctx.pods(SEL), family)
    if set(names) != want or len(set(names.values())) != len(want):
        raise CheckFailed("each endpoint without hostname gets a unique name",
                          f"one distinct name per ready pod IP {sorted(want)}", f"{names}")


@check("EPS-01")
def managed_slices(ctx, family):
    want = set().union(*(ctx.pod_ips(ctx.pods(SEL), f) for f in ctx.families))
    for svc in ("myapp", "myapp-headless"):
        slices = ctx.slices(svc)
        managed = [s for s in slices if (s.metadata.labels or {}).get(
            "endpointslice.kubernetes.io/managed-by") == "endpointslice-controller.k8s.io"]
        ready = {addr for s in managed for e in (s.endpoints or [])
                 if e.conditions is None or e.conditions.ready is not False for addr in e.addresses}
        ctx.attach(f"slices of {svc}", [s.metadata.name for s in slices])
        if ready != want:
            raise CheckFailed(f"{svc}: controller-managed EndpointSlices list exactly the ready pods",
                              f"{sorted(want)}", f"{sorted(ready)} in {[s.metadata.name for s in managed]}")


@check("EPS-02")
def headless_marks(ctx, family):
    svc = ctx.service("myapp-headless")
    labelled = [s.metadata.name for s in ctx.slices("myapp-headless")
                if "service.kubernetes.io/headless" in (s.metadata.labels or {})]
    if svc.spec.cluster_ip != "None" or not labelled:
        raise CheckFailed("headless: spec.clusterIP is None and slices carry service.kubernetes.io/headless",
                          "clusterIP None, labelled slices", f"clusterIP {svc.spec.cluster_ip}, labelled {labelled}")


@check("PROXY-02")
def proxy_present(ctx, family):
    a.proxy_forwarding_present(ctx, "myapp")


@check("PROXY-01")
def proxy_absent(ctx, family):
    a.proxy_artifacts_absent(ctx, "myapp-headless", control="myapp", selector=SEL)


@check("REACH-01", per_family=True)
def direct(ctx, family):
    a.pods_answer_as_themselves(ctx, SEL, family)


@check("REACH-03", per_family=True)
def spread(ctx, family):
    a.vip_spreads(ctx, "myapp", SEL, family)


@check("REACH-05")
def headless_no_vip(ctx, family):
    a.headless_addresses_are_endpoints(ctx, "myapp-headless", SEL)


@check("REACH-07")
def ipv6_reach(ctx, family):
    a.require_family(ctx, "ipv6")
    a.pods_answer_as_themselves(ctx, SEL, "ipv6")
    a.vip_spreads(ctx, "myapp", SEL, "ipv6")


@check("DNS-04")
def aaaa(ctx, family):
    a.require_service_family(ctx, "myapp", "ipv6")
    for fam in ctx.families:
        a.clusterip_record(ctx, "myapp", fam)


@check("DNS-10")
def ptr6(ctx, family):
    ptr.run(ctx, "ipv6")


@check("POD-06")
def search_path(ctx, family):
    conf = ctx.client.resolv_conf()
    ctx.attach("resolv.conf", conf)
    search = next((line.split()[1:] for line in conf.splitlines() if line.startswith("search")), [])
    want = [f"{ctx.namespace}.svc.{ctx.zone}", f"svc.{ctx.zone}", ctx.zone]
    if search[:3] != want or "ndots:5" not in conf:
        raise CheckFailed("ClusterFirst pods get the cluster search list and ndots:5",
                          f"search {' '.join(want)} ...; options ndots:5", conf.strip())
    fam = ctx.families[0]
    own = a.require_service_family(ctx, "myapp", fam)
    kube = ctx.cluster.core.read_namespaced_service("kubernetes", "default").spec.cluster_ips
    # Expand bare and two-label names through the search list, as the pod's resolver does.
    ctx.expect_dns("bare names resolve in the pod's own namespace only; <svc>.<ns> from any namespace", [
        Expectation(f"myapp.{search[0]}.", RDTYPE[fam], frozenset(own), "exact"),
        Expectation(f"kubernetes.{search[0]}.", "A", mode="nxdomain"),
        Expectation(f"kubernetes.default.{search[1]}.", RDTYPE[a.family_of(kube[0])], frozenset(kube[:1]),
                    "contains"),
    ])


SCENARIO = Scenario(
    name="clusterip-deployment",
    description="Deployment behind a ClusterIP Service and a headless Service over the same pods",
    features=("clusterip", "headless", "deployment"),
    seeds=("000", "001", "002"),
    checks=(schema_version, case_insensitive, clusterip_a, aaaa, srv, ptr, ptr6, headless_a, endpoint_names,
            managed_slices, headless_marks, proxy_present, proxy_absent, direct, spread,
            headless_no_vip, ipv6_reach, search_path),
)

"""Seeds 000/002/003: StatefulSet `web` with serviceName `nginx-headless`; seed 002's read Service.

POD-02 (a replaced pod keeps its name) is the scenario statefulset-identity."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview.dnswire import reverse_name
from svc_conformance.dnsview.records import Expectation

SEL = "app=nginx"
READ_SEL = "app=nginx,role=replica"


def label_replicas(ctx):
    # Seed 002: web-0 takes writes, the others are read replicas behind the ClusterIP `web-read`.
    for pod in ctx.pods(SEL, ready=None):
        if pod.metadata.name != "web-0":
            ctx.cluster.core.patch_namespaced_pod(pod.metadata.name, ctx.namespace,
                                                  {"metadata": {"labels": {"role": "replica"}}})


def pod_name_records(ctx, family, statement):
    def expected():
        return [Expectation(f"{p.metadata.name}.nginx-headless.{ctx.namespace}.svc.{ctx.zone}.", RDTYPE[family],
                            frozenset(ctx.pod_ips([p], family)), "exact") for p in ctx.pods(SEL)]
    ctx.expect_dns(statement, expected)


@check("POD-01", per_family=True)
def per_pod_names(ctx, family):
    a.require_family(ctx, family)
    pod_name_records(ctx, family, "<sts>-<n>.<serviceName>.<ns>.svc.<zone> resolves to that pod once Ready")


@check("DNS-13", per_family=True)
def hostname_records(ctx, family):
    a.require_family(ctx, family)
    pod_name_records(ctx, family, "each ready headless endpoint with a hostname has <hostname>.<svc> records")


@check("DNS-15")
def headless_srv(ctx, family):
    def expected():
        return [Expectation(f"_web._tcp.nginx-headless.{ctx.namespace}.svc.{ctx.zone}.", "SRV",
                            frozenset(f"8080 {p.metadata.name}.nginx-headless.{ctx.namespace}.svc.{ctx.zone}."
                                      for p in ctx.pods(SEL)), "exact")]
    # For headless Services the SRV port is the endpoint's port (spec 2.4.2), here targetPort 8080.
    ctx.expect_dns("headless SRV: one record per ready endpoint x named port, target the endpoint name",
                   expected, transports=("tcp",))


@check("DNS-16", per_family=True)
def pod_ptr(ctx, family):
    a.require_family(ctx, family)
    ctx.expect_dns("each ready headless endpoint IP has a PTR to its endpoint name", lambda: [
        Expectation(reverse_name(ip), "PTR",
                    frozenset({f"{p.metadata.name}.nginx-headless.{ctx.namespace}.svc.{ctx.zone}."}), "contains")
        for p in ctx.pods(SEL) for ip in ctx.pod_ips([p], family)])


@check("REACH-02", per_family=True)
def per_pod_reach(ctx, family):
    a.require_family(ctx, family)
    pods = ctx.pods(SEL)
    # Resolve each per-pod name through DNS and connect to what it returned: that pod must answer.
    for p in pods:
        name = f"{p.metadata.name}.nginx-headless.{ctx.namespace}.svc.{ctx.zone}."
        ctx.expect_dns(f"{name} resolves", [Expectation(name, RDTYPE[family], frozenset(ctx.pod_ips([p], family)))])
    targets = [(p.metadata.name, ip) for p in pods for ip in ctx.pod_ips([p], family)]

    def attempt():
        replies = ctx.client.http_get([a.url(ip, 8080) for _, ip in targets])
        wrong = [(r.target, r.body or r.error) for r, (name, _) in zip(replies, targets) if r.body != name]
        return not wrong, (replies, wrong)
    outcome = waits.poll("reach", attempt)
    replies, wrong = outcome.last
    ctx.attach("replies", {r.target: r.body or r.error for r in replies})
    if wrong:
        raise CheckFailed("each per-pod DNS name reaches exactly that pod", "each pod answers as itself",
                          f"{wrong} (after {outcome.elapsed_s:.0f}s, {outcome.attempts} attempts)")


@check("REACH-03", per_family=True)
def read_service_spreads(ctx, family):
    seen = a.vip_spreads(ctx, "web-read", READ_SEL, family)
    if "web-0" in seen:
        raise CheckFailed("the read Service reaches only role=replica pods", "never web-0", f"{sorted(seen)}")


SCENARIO = Scenario(
    name="statefulset-headless",
    description="StatefulSet with serviceName pointing at a headless Service; read Service over replicas",
    features=("statefulset", "headless", "clusterip"),
    seeds=("000", "002", "003"),
    setup=label_replicas,
    # POD-02 (deleting web-0) is the scenario statefulset-identity: it waits on the cluster replacing a
    # pod, and in its own namespace that wait runs beside these checks instead of after them.
    checks=(per_pod_names, hostname_records, headless_srv, pod_ptr, per_pod_reach, read_service_spreads),
)

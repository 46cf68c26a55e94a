"""ExternalName Services: an in-cluster target and an external one (only the CNAME is checked)."""

from conformance.outcomes import CheckFailed
from conformance.records import Expectation
from conformance.scenario import Scenario, check


@check("DNS-17")
def cname(ctx, family):
    ctx.expect_dns("ExternalName: CNAME to spec.externalName", [
        Expectation(ctx.fqdn("ext-in"), "CNAME", frozenset({"kubernetes.default.svc.cluster.local."}), "exact"),
        Expectation(ctx.fqdn("ext-out"), "CNAME", frozenset({"www.example.com."}), "exact")])


@check("EPS-08")
def no_ip_no_slices(ctx, family):
    for name in ("ext-in", "ext-out"):
        svc = ctx.service(name)
        slices = ctx.slices(name)
        if svc.spec.cluster_ip or slices:
            raise CheckFailed("ExternalName has no ClusterIP and no slices", "no clusterIP, no slices",
                              f"{name}: clusterIP {svc.spec.cluster_ip}, slices {[s.metadata.name for s in slices]}")


SCENARIO = Scenario(
    name="externalname",
    description="ExternalName to an in-cluster name and to an external name",
    features=("externalname",),
    checks=(cname, no_ip_no_slices),
)

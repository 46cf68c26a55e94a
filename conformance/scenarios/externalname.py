"""ExternalName Services: an in-cluster target and an external one (only the CNAME is checked)."""

from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview.records import Expectation


def create_in_cluster_target(ctx):
    ctx.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext-in"},
                "spec": {"type": "ExternalName", "externalName": f"kubernetes.default.svc.{ctx.zone}"}})


@check("DNS-17")
def cname(ctx, family):
    ctx.expect_dns("ExternalName: CNAME to spec.externalName", [
        Expectation(ctx.fqdn(name), "CNAME", frozenset({ctx.service(name).spec.external_name + "."}), "exact")
        for name in ("ext-in", "ext-out")])


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
    setup=create_in_cluster_target,
    checks=(cname, no_ip_no_slices),
)

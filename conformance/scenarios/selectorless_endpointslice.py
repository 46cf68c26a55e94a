"""Selectorless headless and ClusterIP Services fed by hand-made EndpointSlices."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.cluster.slices import endpoint_slice
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview.records import Expectation

SEL = "app=backend"


def create_slices(ctx):
    outcome = waits.poll("pods-ready", lambda: (len(ctx.pods(SEL)) == 2, None))
    if not outcome.ok:
        raise CheckFailed("backend pods Ready", "2 ready pods", f"{len(ctx.pods(SEL))}")
    for family in ctx.families:
        ips = sorted(ctx.pod_ips(ctx.pods(SEL), family))
        for svc in ("sl-hl", "sl-cip"):
            ctx.create(endpoint_slice(f"{svc}-{family}", svc, family, ips, port_name="http", port=8080))


@check("EPS-03")
def no_controller_slices(ctx, family):
    managed = [s.metadata.name for svc in ("sl-hl", "sl-cip") for s in ctx.slices(svc)
               if (s.metadata.labels or {}).get("endpointslice.kubernetes.io/managed-by")
               == "endpointslice-controller.k8s.io"]
    hand_made = [s.metadata.name for svc in ("sl-hl", "sl-cip") for s in ctx.slices(svc)]
    ctx.attach("slices", hand_made)
    if managed:
        raise CheckFailed("selectorless Service: the control plane creates no slices", "no managed slices",
                          f"{managed}")
    if not hand_made:
        raise CheckFailed("positive control: the hand-made slices are listed", "hand-made slices", "none")


@check("EPS-04", per_family=True)
def dns_and_traffic(ctx, family):
    a.require_family(ctx, family)
    ips = ctx.pod_ips(ctx.pods(SEL), family)
    cip = a.require_service_family(ctx, "sl-cip", family)
    ctx.expect_dns("hand-made slice: DNS serves its addresses (headless: the IPs; ClusterIP: the ClusterIP)", [
        Expectation(ctx.fqdn("sl-hl"), RDTYPE[family], frozenset(ips), "exact"),
        Expectation(ctx.fqdn("sl-cip"), RDTYPE[family], frozenset(cip), "exact")])
    a.vip_spreads(ctx, "sl-cip", SEL, family)


SCENARIO = Scenario(
    name="selectorless-endpointslice",
    description="Selectorless headless and ClusterIP Services with hand-made EndpointSlices",
    features=("selectorless", "endpointslice"),
    setup=create_slices,
    checks=(no_controller_slices, dns_and_traffic),
)

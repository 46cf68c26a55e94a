"""Readiness: two ready pods and one never ready, behind headless, publishNotReadyAddresses and ClusterIP."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview.records import Expectation

SEL = "app=rd"


@check("DNS-18", per_family=True)
def only_ready(ctx, family):
    a.headless_records(ctx, "rd-hl", SEL, family)
    unready = ctx.pod_ips(ctx.pods(SEL, ready=False), family)
    if not unready:
        raise CheckFailed("positive control: a not-ready pod exists", "1 not-ready pod", "none")


@check("POD-05", per_family=True)
def publish_not_ready(ctx, family):
    a.require_family(ctx, family)
    ctx.expect_dns("publishNotReadyAddresses publishes not-ready pods; without it they are absent", lambda: [
        Expectation(ctx.fqdn("rd-pub"), RDTYPE[family], frozenset(ctx.pod_ips(ctx.pods(SEL, ready=None), family))),
        Expectation(ctx.fqdn("rd-hl"), RDTYPE[family], frozenset(ctx.pod_ips(ctx.pods(SEL, ready=True), family)))])


@check("REACH-06", per_family=True)
def no_traffic_to_unready(ctx, family):
    seen = a.vip_spreads(ctx, "rd-cip", f"{SEL},tier=ready", family)
    unready = {p.metadata.name for p in ctx.pods(SEL, ready=False)}
    if seen & unready:
        raise CheckFailed("not-ready pods receive no traffic through the VIP", "only ready pods",
                          f"{sorted(seen)} includes {sorted(seen & unready)}")


def wait_unready_running(ctx):
    # The never-ready pod must exist (Running, not Ready) before the checks judge it.
    outcome = waits.poll("pods-ready", lambda: (bool(ctx.pods(SEL, ready=False)), None))
    if not outcome.ok:
        raise CheckFailed("the not-ready pod is running", "1 running, not-ready pod", "none")


SCENARIO = Scenario(
    name="readiness",
    description="Some pods not ready; publishNotReadyAddresses; VIP only to ready pods",
    features=("readiness", "headless", "clusterip"),
    setup=wait_unready_running,
    checks=(only_ready, publish_not_ready, no_traffic_to_unready),
)

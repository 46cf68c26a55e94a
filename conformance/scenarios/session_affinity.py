"""Seed 002: sessionAffinity ClientIP keeps a client on one backend; without it the VIP spreads."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.cluster.probe import url
from svc_conformance.core.outcomes import CheckFailed

SEL = "app=affinity"


@check("REACH-04", per_family=True)
def sticks(ctx, family):
    # Positive control: the same backends are all reachable through the Service without affinity.
    a.vip_spreads(ctx, "noaff", SEL, family)
    ip = a.require_service_family(ctx, "aff", family)[0]

    statement = "sessionAffinity ClientIP: every request from one client lands on one backend"

    def attempt():
        replies = ctx.client.http_get([url(ip, 80)] * 20)
        seen = {r.body for r in replies}
        return len(seen) == 1 and None not in seen, seen
    outcome, cause = ctx.poll_vip(statement, attempt, answered=lambda seen: bool(seen - {None}))
    ctx.attach("backends seen through the affinity VIP", sorted(map(str, outcome.last)))
    if not outcome.ok:
        raise CheckFailed(statement, "one backend for 20 requests", f"{sorted(map(str, outcome.last))}{cause}")


SCENARIO = Scenario(
    name="session-affinity",
    description="ClusterIP Services with and without sessionAffinity ClientIP",
    features=("session-affinity", "clusterip"),
    checks=(sticks,),
)

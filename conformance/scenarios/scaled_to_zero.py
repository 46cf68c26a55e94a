"""Scaled to zero: the ClusterIP name still resolves, the headless name does not, the VIP rejects."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview.records import Expectation


@check("DNS-05", per_family=True)
def clusterip_without_endpoints(ctx, family):
    a.clusterip_record(ctx, "zero-cip", family)


@check("DNS-12", per_family=True)
def headless_nxdomain(ctx, family):
    a.require_family(ctx, family)
    one = ctx.pod_ips(ctx.pods("app=one"), family)
    # Positive control in the same batch: a headless Service with one ready pod resolves.
    ctx.expect_dns("headless with no ready endpoints answers NXDOMAIN", [
        Expectation(ctx.fqdn("one-hl"), RDTYPE[family], frozenset(one), "exact"),
        Expectation(ctx.fqdn("zero-hl"), RDTYPE[family], mode="nxdomain")])


@check("PROXY-03", per_family=True)
def rejected_promptly(ctx, family):
    ips = a.require_service_family(ctx, "zero-cip", family)
    statement = "ClusterIP with no endpoints: connections are rejected promptly, not hung"
    seen = []
    # Polled: kube-proxy writes the REJECT rule within its sync period (minSyncPeriod may be 10 s or
    # more); before that a just-created VIP may answer "no route to host" or time out.

    def attempt():
        seen.append(ctx.client.tcp_connect(ips[0], 80))
        return seen[-1] == "refused", seen[-1]
    # A refusal is kube-proxy's REJECT answering: it ends a node's established silence (proxy_health).
    outcome, cause = ctx.poll_vip(statement, attempt, answered=lambda state: state == "refused", consecutive=2)
    ctx.attach("connects to the VIP", {"last": outcome.last, "attempts": outcome.attempts, "seen": seen[-10:]})
    if not outcome.ok:
        raise CheckFailed(statement, "connection refused (twice in a row)",
                          f"{outcome.last} (after {outcome.elapsed_s:.0f}s, {outcome.attempts} attempts{cause})")


SCENARIO = Scenario(
    name="scaled-to-zero",
    description="Deployment scaled to zero behind ClusterIP and headless Services",
    features=("readiness", "clusterip", "headless"),
    checks=(clusterip_without_endpoints, headless_nxdomain, rejected_promptly),
)

"""More than 100 endpoints in several hand-made slices: UDP answer truncated, TCP answer complete."""

import ipaddress

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.cluster.slices import endpoint_slice
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview import dnswire
from svc_conformance.dnsview.records import Expectation

COUNT, PER_SLICE = 120, 50
# Documentation ranges (RFC 5737 / RFC 3849): DNS data only, never contacted.
BASE = {"ipv4": ipaddress.ip_address("198.51.100.1"), "ipv6": ipaddress.ip_address("2001:db8::1")}


def addresses(family):
    return [str(BASE[family] + i) for i in range(COUNT)]


def create_slices(ctx):
    for family in ctx.families:
        ips = addresses(family)
        for n, start in enumerate(range(0, COUNT, PER_SLICE)):
            ctx.create(endpoint_slice(f"big-{family}-{n}", "big", family, ips[start:start + PER_SLICE],
                                      port_name="http", port=8080))


@check("EPS-07", per_family=True)
def all_over_tcp(ctx, family):
    a.require_family(ctx, family)
    ctx.expect_dns(f"{COUNT} endpoints in several slices: TCP returns all of them",
                   [Expectation(ctx.fqdn("big"), RDTYPE[family], frozenset(addresses(family)), "exact")],
                   transports=("tcp",))
    def attempt():
        answers = dnswire.ask(ctx.client, [dnswire.Question(ctx.fqdn("big"), RDTYPE[family])])
        return answers[0].message is not None and answers[0].truncated, answers[0], answers
    outcome, cause = ctx.poll_dns("over UDP the answer is truncated", attempt)
    udp = outcome.last
    ctx.attach("udp answer", f"truncated={udp.truncated} rcode={udp.rcode}")
    if udp.message is None or not udp.truncated:
        raise CheckFailed("over UDP (no EDNS, 512 bytes) the answer is truncated", "TC flag set",
                          f"truncated={udp.truncated}, error={udp.error} (after {outcome.elapsed_s:.0f}s, "
                          f"{outcome.attempts} attempts{cause})")


SCENARIO = Scenario(
    name="large-headless",
    description="Headless Service with more than 100 endpoints spread over several EndpointSlices",
    features=("large", "headless", "endpointslice"),
    setup=create_slices,
    slow=True,
    checks=(all_over_tcp,),
)

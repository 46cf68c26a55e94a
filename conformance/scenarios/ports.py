"""Ports: several named ports, a single unnamed port, a headless Service without ports."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.dnsview.records import Expectation


@check("DNS-06")
def srv_per_named_port(ctx, family):
    ctx.expect_dns("each named port has an SRV record with the service port", [
        Expectation(f"_http._tcp.multi.{ctx.namespace}.svc.{ctx.zone}.", "SRV",
                    frozenset({f"80 {ctx.fqdn('multi')}"}), "contains"),
        Expectation(f"_alt-http._tcp.multi.{ctx.namespace}.svc.{ctx.zone}.", "SRV",
                    frozenset({f"8000 {ctx.fqdn('multi')}"}), "contains"),
        Expectation(f"_udp._udp.multi.{ctx.namespace}.svc.{ctx.zone}.", "SRV",
                    frozenset({f"5353 {ctx.fqdn('multi')}"}), "contains")])


@check("DNS-08")
def no_srv_for_unnamed(ctx, family):
    # Positive control in the same batch: the named port of `multi` has its SRV.
    ctx.expect_dns("unnamed ports have no SRV record", [
        Expectation(f"_http._tcp.multi.{ctx.namespace}.svc.{ctx.zone}.", "SRV",
                    frozenset({f"80 {ctx.fqdn('multi')}"}), "contains"),
        Expectation(f"_http._tcp.unnamed.{ctx.namespace}.svc.{ctx.zone}.", "SRV", mode="absent")])


@check("DNS-11", per_family=True)
def headless_without_ports(ctx, family):
    a.headless_records(ctx, "noports-hl", "app=ports", family)


SCENARIO = Scenario(
    name="ports",
    description="Named, unnamed and several ports; a headless Service without ports",
    features=("ports", "srv"),
    checks=(srv_per_named_port, no_srv_for_unnamed, headless_without_ports),
)

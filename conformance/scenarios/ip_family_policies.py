"""ipFamilyPolicy SingleStack / PreferDualStack / RequireDualStack (both orders) over one Deployment."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE, family_of
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.cluster.kube import ApiException
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview.records import Expectation

# Service name -> (policy, ipFamilies or None)
POLICIES = {
    "single": ("SingleStack", None),
    "single-v4": ("SingleStack", ["IPv4"]),
    "single-v6": ("SingleStack", ["IPv6"]),
    "prefer-dual": ("PreferDualStack", None),
    "require-v4-v6": ("RequireDualStack", ["IPv4", "IPv6"]),
    "require-v6-v4": ("RequireDualStack", ["IPv6", "IPv4"]),
}


def create_services(ctx):
    accepted, rejected = {}, {}
    for name, (policy, families) in POLICIES.items():
        spec = {"ipFamilyPolicy": policy, "selector": {"app": "fam"},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        if families:
            spec["ipFamilies"] = families
        try:
            ctx.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
            accepted[name] = ctx.cluster_ips(name)
        except ApiException as err:
            if err.status != 422:
                raise
            rejected[name] = err.reason
    ctx.state.update(accepted=accepted, rejected=rejected)


@check("DNS-04")
def each_family_its_type(ctx, family):
    accepted, rejected = ctx.state["accepted"], ctx.state["rejected"]
    ctx.attach("Services by policy", {"accepted (clusterIPs)": accepted, "rejected": rejected})
    if len(ctx.families) < 2:
        a.not_supported(f"single-stack cluster ({ctx.families[0]}): RequireDualStack rejected {sorted(rejected)}")
    for name in ("require-v4-v6", "require-v6-v4"):
        want_first = "ipv6" if name.endswith("v6-v4") else "ipv4"
        ips = accepted.get(name, [])
        if len(ips) != 2 or family_of(ips[0]) != want_first:
            raise CheckFailed(f"{name}: RequireDualStack gets one ClusterIP per family, in the asked order",
                              f"2 ClusterIPs, {want_first} first", f"{ips or rejected.get(name)}")
    expectations = []
    for name, ips in accepted.items():
        for fam in ("ipv4", "ipv6"):
            mine = [ip for ip in ips if family_of(ip) == fam]
            expectations.append(Expectation(ctx.fqdn(name), RDTYPE[fam], frozenset(mine), "exact") if mine
                                else Expectation(ctx.fqdn(name), RDTYPE[fam], mode="absent"))
    ctx.expect_dns("each ClusterIP family is served under its own record type, and no other", expectations)


@check("DNS-03")
def single_stack_primary(ctx, family):
    fam = ctx.families[0]
    ips = ctx.state["accepted"]["single"]
    if [family_of(ip) for ip in ips] != [fam]:
        raise CheckFailed("SingleStack without ipFamilies gets the primary family", f"one {fam} ClusterIP", f"{ips}")
    a.clusterip_record(ctx, "single", fam)


SCENARIO = Scenario(
    name="ip-family-policies",
    description="Services of every ipFamilyPolicy (both dual-stack orders) over one Deployment",
    features=("dual-stack", "clusterip"),
    setup=create_services,
    checks=(each_family_its_type, single_stack_primary),
)

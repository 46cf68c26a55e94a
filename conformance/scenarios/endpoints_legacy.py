"""Legacy Endpoints: same name as the Service (mirrored) vs a different name (seed 004's mistake, EPS-06)."""

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview.records import Expectation

SEL = "app=backend"
MIRROR_LABEL = "endpointslice.kubernetes.io/managed-by"
MIRRORING = "endpointslicemirroring-controller.k8s.io"


def create_endpoints(ctx):
    outcome = waits.poll("pods-ready", lambda: (len(ctx.pods(SEL)) == 1, None))
    if not outcome.ok:
        raise CheckFailed("backend pod Ready", "1 ready pod", "0")
    ip = sorted(ctx.pod_ips(ctx.pods(SEL), ctx.families[0]))[0]
    for name in ("mysql-ok", "mysql-cip-ok"):
        ctx.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name},
                    "subsets": [{"addresses": [{"ip": ip}],
                                 "ports": [{"name": "default-ep", "port": 8080, "protocol": "TCP"}]}]})
    ctx.state["backend_ip"] = ip


@check("EPS-05")
def mirrored(ctx, family):
    ip = ctx.state["backend_ip"]
    outcome = waits.poll("endpoints", lambda: (bool(_mirrored(ctx, "mysql-ok")), _mirrored(ctx, "mysql-ok")))
    ctx.attach("mirrored slices", outcome.last)
    if not outcome.ok:
        raise CheckFailed("Endpoints of the same name are mirrored to an EndpointSlice",
                          f"a slice managed by {MIRRORING}", "none")
    ctx.expect_dns("mirrored Endpoints: DNS serves its addresses",
                   [Expectation(ctx.fqdn("mysql-ok"), RDTYPE[a.family_of(ip)], frozenset({ip}), "exact")])


def _mirrored(ctx, service):
    return [s.metadata.name for s in ctx.slices(service) if (s.metadata.labels or {}).get(MIRROR_LABEL) == MIRRORING]


@check("EPS-06")
def name_mismatch(ctx, family):
    """Seed 004 names its Endpoints `mysql-ep` for Service `mysql-svc`: Kubernetes ignores them."""
    ok_ip = ctx.state["backend_ip"]
    cip = ctx.cluster_ips("mysql-cip")
    diagnosis = ("Endpoints 'mysql-ep' matches no Service (Endpoints must have the Service's name, "
                 "here 'mysql-svc'); so nothing is mirrored, the headless name does not resolve and the "
                 "ClusterIP 'mysql-cip' has no backends. Fix: rename the Endpoints to the Service's name.")
    ctx.attach("diagnosis", diagnosis)
    mirrored = _mirrored(ctx, "mysql-svc") + _mirrored(ctx, "mysql-cip")
    if mirrored:
        raise CheckFailed("Endpoints with another name are not mirrored", "no slices for mysql-svc/mysql-cip",
                          f"{mirrored}")
    # Positive control in the same batch: the correctly named Endpoints resolve.
    ctx.expect_dns("Endpoints named differently from the Service: headless NXDOMAIN, ClusterIP still resolves", [
        Expectation(ctx.fqdn("mysql-ok"), RDTYPE[a.family_of(ok_ip)], frozenset({ok_ip}), "exact"),
        Expectation(ctx.fqdn("mysql-svc"), "A", mode="nxdomain"),
        Expectation(ctx.fqdn("mysql-cip"), RDTYPE[a.family_of(cip[0])], frozenset(cip[:1]), "exact")])
    # Positive control, same client: a VIP whose Endpoints are named right carries traffic. Without
    # it a broken probe ("other", empty output) would read as "no traffic".
    ok_vip = ctx.cluster_ips("mysql-cip-ok")[0]
    control, cause = ctx.poll_vip("the control VIP mysql-cip-ok (Endpoints of the same name) carries traffic",
                                  lambda: (ctx.client.tcp_connect(ok_vip, 3306) == "open", None),
                                  answered=lambda _: False)
    if not control.ok:
        raise CheckFailed("the control VIP mysql-cip-ok (Endpoints of the same name) carries traffic",
                          "open", f"{ctx.client.tcp_connect(ok_vip, 3306)} (after {control.elapsed_s:.0f}s{cause})")
    # An absence: consecutive observations of no traffic; a connection that opens once fails it.
    states = []

    def attempt():
        states.append(ctx.client.tcp_connect(cip[0], 3306))
        return states[-1] in ("refused", "timeout"), states[-1]
    waits.poll("reach", attempt, consecutive=2)
    ctx.attach("connects", {f"mysql-cip-ok {ok_vip}:3306 (control)": "open",
                            f"mysql-cip {cip[0]}:3306": states})
    if "open" in states or states[-1] not in ("refused", "timeout"):
        raise CheckFailed("the ClusterIP of the mistake carries no traffic", "refused or timeout, every time",
                          f"{states}")


SCENARIO = Scenario(
    name="endpoints-legacy",
    description="Selectorless Services with legacy Endpoints, named right and (seed 004) wrong",
    features=("selectorless", "endpoints"),
    seeds=("004",),
    setup=create_endpoints,
    checks=(mirrored, name_mismatch),
)

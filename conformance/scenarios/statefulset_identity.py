"""Seed 000: StatefulSet identity - delete `web-0`, the same name resolves to (and reaches) the
replacement. Its own namespace and StatefulSet: the state change touches no other check, and the wait
for the cluster to replace the pod runs beside statefulset-headless's checks."""

import json

from svc_conformance.checks import assertions as a
from svc_conformance.checks.context import RDTYPE
from svc_conformance.checks.scenario import Scenario, check
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.dnsview import dnswire
from svc_conformance.dnsview.records import Expectation

SEL = "app=nginx"


@check("POD-02")
def stable_identity(ctx, family):
    # Deleting web-0 is a state change: done once, judged on the primary family.
    family = ctx.families[0]
    old = ctx.cluster.core.read_namespaced_pod("web-0", ctx.namespace)
    old_uid = old.metadata.uid
    ctx.cluster.core.delete_namespaced_pod("web-0", ctx.namespace, grace_period_seconds=0)

    def replaced():
        pods = [p for p in ctx.pods(SEL) if p.metadata.name == "web-0" and p.metadata.uid != old_uid]
        return bool(pods), pods
    outcome = waits.poll("pods-ready", replaced)
    if not outcome.ok:
        raise CheckFailed("the StatefulSet replaces web-0 under the same name", "a new Ready web-0", "none")
    new = outcome.last[0]
    old_ips, new_ips = ctx.pod_ips([old], family), ctx.pod_ips([new], family)
    reused = bool(old_ips & new_ips)
    ctx.attach("web-0 before and after", {
        "before": {"uid": old_uid, "ips": sorted(old_ips)}, "after": {"uid": new.metadata.uid, "ips": sorted(new_ips)},
        "ip reused": reused and "yes: the address alone cannot tell a stale record; the pod's UID decides"})
    name = f"web-0.nginx-headless.{ctx.namespace}.svc.{ctx.zone}."
    converged = ctx.expect_dns("after deletion, web-0's name resolves to the replacement pod's IP",
                               [Expectation(name, RDTYPE[family], frozenset(new_ips), "exact")], consecutive=1)
    # Endpoint change -> DNS answer change, measured from the moment the replacement was Ready.
    ctx.metric("dns_convergence_s", round(converged.elapsed_s, 3))
    # Second signal, needed when the IP was reused: what the name resolves to answers as the new pod.
    def attempt():
        resolved = sorted(dnswire.rrset_values(ctx.ask_once(name, RDTYPE[family], tcp=True).message, name,
                                               RDTYPE[family]))
        replies = ctx.client.http_get([a.url(ip, 8080, "/shell?cmd=echo%20%24POD_UID") for ip in resolved])
        uids = {r.target: _shell_output(r.body) or r.error for r in replies}
        return bool(resolved) and all(uid == new.metadata.uid for uid in uids.values()), (resolved, uids)
    resolved, uids = waits.poll("reach", attempt).last
    ctx.attach("UID reported behind the name", uids)
    if not resolved or any(uid != new.metadata.uid for uid in uids.values()):
        raise CheckFailed("web-0's name reaches the replacement pod", f"UID {new.metadata.uid} (old {old_uid})",
                          f"{uids or 'no address'}")


def _shell_output(body: str | None) -> str:
    """netexec /shell answers {"output": "..."}."""
    try:
        return json.loads(body or "").get("output", "").strip()
    except ValueError:
        return ""


SCENARIO = Scenario(
    name="statefulset-identity",
    description="StatefulSet pod deleted: its name follows the replacement",
    features=("statefulset", "headless"),
    seeds=("000",),
    checks=(stable_identity,),
)

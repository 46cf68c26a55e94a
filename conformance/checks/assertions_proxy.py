"""kube-proxy checks over a ScenarioContext (PROXY-01/02/05), re-exported by conformance.checks.assertions.

The mode is the one kube-proxy programs this run's own Services in (NodeState.run_mode), never a stale
rule's. "Nothing of the run programmed" is concluded only after the whole `proxy-rules` deadline, and
then the data path decides who serves the run: a ClusterIP that answers from the client pod is served by
something other than kube-proxy (PROXY-05, not supported); one that does not fails the check.
"""

from svc_conformance.checks.context import ScenarioContext
from svc_conformance.cluster.probe import url
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed, blocked, not_supported
from svc_conformance.proxyview import proxy_health


def _inspect(ctx: ScenarioContext):
    """Every node's complete dump; a dump that could not be had blocks the check (never "no rules")."""
    from svc_conformance.proxyview.inspector import InspectionBlocked
    try:
        inspector = ctx.inspector()
        states = inspector.dump()
        modes = {s.node: s.mode for s in states}
    except InspectionBlocked as err:
        ctx.attach("inspector", str(err))
        blocked(str(err))
    if inspector.left_out and "nodes inspected" not in ctx.attached:
        ctx.attach("nodes inspected", inspector.coverage())
    if all(m == "none" for m in modes.values()):
        # No kube-proxy state at all, not even default/kubernetes, in dumps proven to be the nodes'
        # (conformance/proxyview/node_identity.py): kube-proxy programs those at start, long before a run.
        ctx.facts({"proxy_mode": "none"})
        not_supported("no kube-proxy rules on any node (PROXY-05: a kube-proxy replacement or none); "
                      f"modes read: {modes}")
    return states


def run_marker(ctx: ScenarioContext) -> str:
    return ctx.run_marker or ctx.namespace


def stale_summary(stale: dict[str, list[str]]) -> str:
    return "; ".join(f"{node}: {', '.join(found[:4]) or 'none'}" + (" ..." if len(found) > 4 else "")
                     for node, found in sorted(stale.items()))


def _vips_answer(ctx: ScenarioContext, service: str, ips: list[str]):
    """Whether every ClusterIP of the Service answers from the client pod (any answer: something serves
    it), polled briefly: this comes after a whole proxy-rules deadline with ready endpoints."""
    port = ctx.service(service).spec.ports[0].port

    def attempt():
        replies = ctx.client.http_get([url(ip, port) for ip in ips])
        return all(r.body for r in replies), replies
    outcome = waits.poll("replacement-probe", attempt)
    ctx.attach("ClusterIPs through the data path", {r.target: r.body or r.error for r in outcome.last})
    return outcome.ok


def _nothing_programmed(ctx: ScenarioContext, statement: str, service: str, states, ips) -> str:
    """No node programmed anything of the run during the wait: not supported when the ClusterIPs answer
    anyway, else the failure's cause (kube-proxy programs nothing; its rules are other Services')."""
    stale = {s.node: s.stale(run_marker(ctx), ips) for s in states}
    ctx.attach("kube-proxy state of other Services (stale)", stale)
    if _vips_answer(ctx, service, ips):
        blind = sorted(s.node for s in states if s.nft_missing)
        if blind:
            blocked(f"nothing of kube-proxy for this run in iptables or IPVS on any node, and the inspector "
                    f"image has no nft on {blind}: an nftables kube-proxy cannot be ruled out "
                    "(use --image inspector=REF)")
        proxy_health.heard_from(ctx.client_node())
        evidence = f"rules found are other Services' (stale): {stale_summary(stale)}"
        proxy_health.replacement_seen(statement, evidence)
        ctx.facts({"proxy_mode": "none"})
        not_supported(f"kube-proxy programs nothing for this run on any node, yet {ips} answer from the "
                      f"client pod: something else serves Services (PROXY-05, a kube-proxy replacement); "
                      f"{evidence}")
    ctx.facts({"proxy_mode": "unknown"})
    return f"; kube-proxy programs nothing for this run; rules found are other Services' (stale): " \
           f"{stale_summary(stale)}; the ClusterIPs do not answer from the client pod either"


def proxy_forwarding_present(ctx: ScenarioContext, service: str) -> None:
    """Every ClusterIP of every family has the run's mode's forwarding artifact on every node. A node
    that is established to program nothing for the run (proxy_health) is confirmed briefly, not waited out."""
    statement = f"ClusterIP {ctx.namespace}/{service}: kube-proxy forwards every ClusterIP on every node"
    quiet: dict[str, set] = {}      # "nodes": nodes whose every dump in this wait named nothing of the run
    programmed: set[str] = set()    # nodes where some dump of this wait held something of the run

    def attempt():
        states = _inspect(ctx)
        now_quiet = proxy_health.observe(states, ctx.run_marker)
        quiet["nodes"] = now_quiet & quiet.get("nodes", now_quiet)
        ips = ctx.cluster_ips(service)
        modes = {s.node: s.run_mode(run_marker(ctx), ips) for s in states}
        programmed.update(node for node, mode in modes.items() if mode)
        found = {s.node: {ip: s.forwarding(ctx.namespace, service, ip, modes[s.node]) for ip in ips}
                 for s in states}
        return bool(ips) and all(all(per_ip.values()) for per_ip in found.values()), (states, ips, found, modes)

    def give_up(observation, elapsed_s):
        if not programmed and proxy_health.may_conclude_replaced(elapsed_s):
            return True
        missing_nodes = _missing_nodes(observation[2])
        return missing_nodes <= quiet.get("nodes", set()) and proxy_health.may_give_up(missing_nodes, elapsed_s)

    outcome = waits.poll("proxy-rules", attempt, give_up=give_up)
    states, ips, found, modes = outcome.last
    ctx.attach("proxy modes for this run", {s.node: f"{modes[s.node] or 'nothing of the run'} "
                                                    f"(node-wide: {s.mode})" for s in states})
    ctx.attach("forwarding rules per node and ClusterIP", found)
    if outcome.ok:
        ctx.facts({"proxy_mode": ",".join(sorted(set(modes.values())))})
        return
    cause = _nothing_programmed(ctx, statement, service, states, ips) if not programmed and ips else ""
    if not outcome.gave_up:
        for node in _missing_nodes(found) & quiet.get("nodes", set()):
            proxy_health.establish(node, statement, outcome)
    else:
        silences = [proxy_health.describe(proxy_health.established(n)) for n in sorted(_missing_nodes(found))
                    if proxy_health.established(n)]
        if silences:
            ctx.attach("shared dependency", "\n".join(silences))
            cause += f" (not waited out: {'; '.join(silences)})"
    missing = [f"{node}: {ip}" for node, per_ip in found.items() for ip, lines in per_ip.items() if not lines]
    others = {s.node: s.artifacts(ctx.namespace, service)[:5] for s in states}
    ctx.attach("other rules naming the service", others)
    raise CheckFailed(statement, f"the mode's forwarding rule for each of {ips} on each of {sorted(found)}",
                      f"missing on {missing or 'every node (no ClusterIP)'}; rules naming it: {others}{cause}")


def _missing_nodes(found: dict) -> set[str]:
    return {node for node, per_ip in found.items() if not all(per_ip.values())}


def proxy_artifacts_absent(ctx: ScenarioContext, headless: str, control: str, selector: str) -> None:
    """No artifacts for the headless service on any node, in any dump taken during the wait;
    trusted only after the control's forwarding rules were seen with the same inspector."""
    proxy_forwarding_present(ctx, control)     # positive control, same probe, same run
    endpoint_ips = sorted(set().union(*(ctx.pod_ips(ctx.pods(selector), f) for f in ctx.families)))
    other_vips = [ip for svc in ctx.cluster.core.list_namespaced_service(ctx.namespace).items
                  for ip in (svc.spec.cluster_ips or []) if ip != "None"]
    seen: dict[str, list[str]] = {}

    def attempt():
        hits = {s.node: s.artifacts(ctx.namespace, headless, endpoint_ips, other_vips) for s in _inspect(ctx)}
        for node, lines in hits.items():
            seen.setdefault(node, [])
            seen[node] += [line for line in lines if line not in seen[node]]
        return True, hits
    waits.poll("proxy-rules", attempt)          # consecutive complete dumps of every node
    ctx.attach("headless artifacts seen per node (all dumps)", seen)
    if any(seen.values()):
        raise CheckFailed(f"headless {ctx.namespace}/{headless}: no kube-proxy artifacts on any node",
                          "no rule, chain, map element or virtual server naming it or its endpoints",
                          "; ".join(f"{n}: {lines[:5]}" for n, lines in seen.items() if lines))

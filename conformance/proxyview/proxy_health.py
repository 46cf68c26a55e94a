"""kube-proxy on a node as a shared dependency: when a node programs nothing at all for this run, find
that once, then let later waits that depend on that node fail with that cause after a short
confirmation instead of each waiting its deadline.

"Nothing at all" means: no rule, chain or map element in the node's iptables or nftables dump names
any namespace of this run, at the end of a wait that failed over its whole deadline (a `proxy-rules`
wait for that node's forwarding, or a `reach` wait through a VIP from a client on that node). A node
whose dump names the run - even with wrong rules - is alive, and its checks poll to their deadlines.
IPVS dumps name no Service, so under IPVS (or no kube-proxy) nothing is ever established. The fact
lives in this process (one per xdist worker) and is forgotten as soon as the node names the run or a
VIP answers from it. Its counterpart, "a replacement serves the run" (no node programs anything of the
run, yet its ClusterIPs answer), lets later proxy-rules waits conclude after the same confirmation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from svc_conformance.core import waits

NAMING_MODES = ("iptables", "nftables")


@dataclass
class Silence:
    node: str
    established_by: str      # the statement whose full wait ended with nothing of the run on the node
    waited_s: float
    attempts: int
    at: float                # time.time() when established


_silent: dict[str, Silence] = {}


@dataclass
class Replacement:
    established_by: str      # the statement whose full wait saw nothing of the run, yet its VIPs answered
    evidence: str            # the stale kube-proxy rules it found
    at: float


# Nothing of the run programmed on any node after a whole wait, yet the run's VIPs answered: something
# other than kube-proxy serves Services. Later proxy-rules waits that again see nothing of the run confirm
# that briefly instead of waiting out their deadline; the data path is asked again each time.
_replaced: list[Replacement] = []


def names_run(state, marker: str) -> bool | None:
    """Whether a node's dump names any namespace of the run; None when its mode names nothing."""
    if not marker or state.mode not in NAMING_MODES:
        return None
    return marker in state.iptables or marker in (state.nft or "")


def observe(states, marker: str) -> set[str]:
    """Forget the silence of every node that names the run; return the nodes that name nothing of it."""
    quiet = set()
    for state in states:
        named = names_run(state, marker)
        if named:
            _silent.pop(state.node, None)
        elif named is False:
            quiet.add(state.node)
    return quiet


def heard_from(node: str) -> None:
    """Traffic through a VIP was answered from a client on this node: its kube-proxy works."""
    _silent.pop(node, None)


def established(node: str) -> Silence | None:
    return _silent.get(node)


def establish(node: str, statement: str, outcome: waits.Outcome) -> None:
    _silent[node] = Silence(node, statement, outcome.elapsed_s, outcome.attempts, time.time())


def may_give_up(nodes, elapsed_s: float) -> bool:
    """Every node the wait depends on is established silent, and it confirmed that for a while."""
    nodes = set(nodes)
    return bool(nodes) and all(n in _silent for n in nodes) and elapsed_s >= waits.deadline_s("proxy-silence-confirm")


def replacement_seen(statement: str, evidence: str) -> None:
    _replaced[:] = [Replacement(statement, evidence, time.time())]


def may_conclude_replaced(elapsed_s: float) -> bool:
    return bool(_replaced) and elapsed_s >= waits.deadline_s("proxy-silence-confirm")


def describe(silence: Silence) -> str:
    when = time.strftime("%H:%M:%S", time.gmtime(silence.at))
    return (f"kube-proxy on {silence.node} programmed nothing for this run (no rule naming any of its "
            f"namespaces in the node's dump): established at {when} UTC by '{silence.established_by}' "
            f"after {silence.waited_s:.0f}s, {silence.attempts} attempts")

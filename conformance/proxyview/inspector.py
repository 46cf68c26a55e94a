"""The node inspector: a privileged host-network pod per node that reads kube-proxy's state.

It runs the kube-proxy image of the cluster's version (it carries iptables, nft and a shell); on clusters
that forbid privileged pods the PROXY checks report "blocked by environment".
"""

import ipaddress
import time
from dataclasses import dataclass, field

from svc_conformance.cluster import kube, podspec
from svc_conformance.core import phases, transient
from svc_conformance.proxyview import node_identity, proxyrules

CONTAINER = "inspector"      # named in every exec: a sidecar injected beside it makes an unnamed exec fail

# Only sh builtins and the dump tools: the real kube-proxy image (distroless-iptables) has a shell,
# iptables/nft/conntrack and almost nothing else (no cat, tr, head, mktemp). Each tool's own exit
# status and stderr are kept (`err=$(tool 2>&1 >&3)` captures stderr while stdout flows on), and the
# end marker proves the script ran to its end: a dump that stopped half-way is never "no rules".
DUMP_SCRIPT = r"""
dump() {
  name=$1; shift
  echo "==== $name ===="
  { err=$("$@" 2>&1 >&3 3>&-); rc=$?; } 3>&1
  echo "==== $name.status ===="
  echo "$rc"
  [ -z "$err" ] || printf '%s\n' "$err"
}
read_file() { while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; done <"$1"; }
for t in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save iptables-save ip6tables-save; do
  if command -v $t >/dev/null 2>&1; then dump $t $t; fi
done
if command -v nft >/dev/null 2>&1; then dump nft-json nft -j list ruleset; else echo "==== nft-missing ===="; fi
if [ -e /proc/net/ip_vs ]; then dump ip_vs read_file /proc/net/ip_vs; fi
for f in fib_trie if_inet6; do if [ -e /proc/net/$f ]; then dump $f read_file /proc/net/$f; fi; done
echo "==== end ===="
"""


def daemonset(name: str, image: str) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "hostNetwork": True, "terminationGracePeriodSeconds": 1,
                    # Every Linux node, whatever its taints; never --node-selector: PROXY checks judge
                    # every node. Other OSes run no kube-proxy image (and no iptables).
                    "nodeSelector": {podspec.OS_LABEL: podspec.OS},
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{
                        "name": CONTAINER, "image": image,
                        "command": ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait; done"],
                        "securityContext": {"privileged": True},
                        "resources": {"requests": {"cpu": "5m", "memory": "16Mi"}},
                    }],
                },
            },
        },
    }


def _vip_of(virtual_server: str):
    """"TCP 10.96.0.10:80" / "TCP [fd00::a]:80" -> the address."""
    addr = virtual_server.split()[-1].rsplit(":", 1)[0].strip("[]")
    return ipaddress.ip_address(addr)


class InspectionBlocked(Exception):
    """The inspector could not look: never evidence of absence, never "no kube-proxy"."""


@dataclass
class NodeState:
    node: str
    sections: dict[str, str] = field(default_factory=dict)

    @property
    def iptables(self) -> str:
        return "\n".join(v for k, v in self.sections.items()
                         if "tables" in k and k.endswith("save"))

    @property
    def errors(self) -> dict[str, str]:
        """Tools that failed (non-zero status), with their stderr: their dumps are incomplete."""
        failed = {}
        for key, body in self.sections.items():
            if key.endswith(".status"):
                rc, _, err = body.strip().partition("\n")
                if rc.strip() != "0":
                    failed[key[:-len(".status")]] = f"exit {rc.strip() or '?'}: {' '.join(err.split())[:400]}"
        return failed

    def problems(self) -> list[str]:
        """Why this dump cannot be trusted (empty when it is complete)."""
        found = [f"{tool} {why}" for tool, why in self.errors.items()]
        if "end" not in self.sections:
            found.append("the dump is truncated (no end marker)")
        dumped = [k for k in self.sections if k.endswith("save") or k in ("nft-json", "ip_vs")]
        if not dumped:
            found.append("no iptables-save, ip6tables-save or nft in the inspector image")
        elif not any(self.sections[k].strip() for k in dumped):
            found.append("every dump is empty")
        missing_status = [k for k in dumped if f"{k}.status" not in self.sections]
        if missing_status:
            found.append(f"no exit status for {missing_status}")
        return found

    @property
    def nft(self) -> str | None:
        return self.sections.get("nft-json")

    @property
    def ipvs(self) -> str | None:
        return self.sections.get("ip_vs")

    @property
    def mode(self) -> str:
        """The node-wide mode: kube-proxy state of any Service, stale rules included."""
        mode = proxyrules.detect_proxy_mode(self.iptables, self.nft, self.ipvs)
        if mode == "none" and self.nft_missing:
            # Without nft an nftables-mode kube-proxy is invisible: "none" would be a guess.
            raise InspectionBlocked(f"{self.node}: no kube-proxy rules in iptables and the inspector image "
                                    "has no nft to read nftables (use --image inspector=REF)")
        return mode

    def run_mode(self, marker: str, vips=()) -> str | None:
        """The mode kube-proxy programs this run's Services in here (rules naming the run's namespaces,
        IPVS virtual servers on its ClusterIPs `vips`); None when nothing of the run is programmed (that
        may be an nftables kube-proxy the image cannot read: `nft_missing`)."""
        return proxyrules.run_proxy_mode(self.iptables, self.nft, self.ipvs, marker, vips)

    @property
    def nft_missing(self) -> bool:
        return "nft-missing" in self.sections

    def stale(self, marker: str, vips=()) -> list[str]:
        """kube-proxy state here that is other Services' (what stays when kube-proxy stopped or was replaced)."""
        return proxyrules.stale_services(self.iptables, self.nft, self.ipvs, marker, vips)

    def artifacts(self, namespace: str, service: str, endpoint_ips=(), other_vips=()) -> list[str]:
        """Anything of kube-proxy naming ns/svc: rules, chains, map elements; under IPVS (which names
        nothing), virtual servers whose real servers are the given endpoints, except the VIPs of other
        Services over the same pods (`other_vips`)."""
        found = proxyrules.iptables_artifacts(self.iptables, namespace, service)
        if self.nft:
            found += proxyrules.nft_artifacts(self.nft, namespace, service)
        if self.ipvs and endpoint_ips:
            others = {ipaddress.ip_address(v) for v in other_vips}
            for vs in proxyrules.ipvs_virtual_servers_with_real_servers(self.ipvs, list(endpoint_ips)):
                if _vip_of(vs) not in others:
                    found.append(f"ipvs {vs}")
        return found

    def forwarding(self, namespace: str, service: str, vip: str, mode: str | None = "node") -> list[str]:
        """The forwarding artifact of one mode (the run's, given by the caller; by default the node-wide
        one) for one ClusterIP (never a 'has no endpoints' reject, nor a stale rule another mode left)."""
        mode = self.mode if mode == "node" else mode
        if mode == "iptables":
            return proxyrules.iptables_forwarding(self.iptables, namespace, service, vip)
        if mode == "nftables":
            return proxyrules.nft_forwarding(self.nft, namespace, service, vip)
        if mode == "ipvs":
            return [f"ipvs {v}" for v in proxyrules.ipvs_forwarding(self.ipvs, vip)]
        return []


# Nodes are listed again at most this often during a run (joined nodes inspected, removed ones dropped).
NODE_REFRESH_S = 5.0


def not_inspectable(node) -> str | None:
    """Why the inspector cannot look at this node, or None. A node that is not Ready (a dead kubelet:
    its pods never start, execs never answer), not Linux, or without a kubelet of its own (virtual
    kubelet, Fargate: no kube-proxy either) is left out and named, never waited for."""
    labels = node.metadata.labels or {}
    os_name = labels.get("kubernetes.io/os", "linux")
    if os_name != "linux":
        return f"{os_name} node"
    if labels.get("type") == "virtual-kubelet":
        return "virtual kubelet (no node to inspect)"
    if labels.get("eks.amazonaws.com/compute-type") == "fargate":
        return "Fargate node (no kube-proxy, no host network)"
    ready = next((c for c in node.status.conditions or [] if c.type == "Ready"), None)
    if ready is None or ready.status != "True":
        return f"NotReady ({ready.reason if ready and ready.reason else 'no Ready condition'})"
    return None


def pod_ready(pod) -> bool:
    return pod.metadata.deletion_timestamp is None and any(
        c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def node_map(nodes, pods) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(node -> ready inspector pod, node -> why it is left out, inspectable nodes with no ready pod)."""
    ready_pods = {p.spec.node_name: p.metadata.name for p in pods if p.spec.node_name and pod_ready(p)}
    inspected, left_out, waiting = {}, {}, []
    for node in sorted(nodes, key=lambda n: n.metadata.name):
        name, why = node.metadata.name, not_inspectable(node)
        if why:
            left_out[name] = why
        elif name in ready_pods:
            inspected[name] = ready_pods[name]
        else:
            waiting.append(name)
    return inspected, left_out, waiting


@dataclass
class Inspector:
    cluster: kube.Cluster
    namespace: str
    pods: dict[str, str]        # node name -> inspector pod name
    left_out: dict[str, str] = field(default_factory=dict)     # node -> why it is not inspected
    listed_at: float = field(default_factory=time.monotonic)

    def coverage(self) -> str:
        """What a PROXY verdict was judged on: "judged on 2 of 3 nodes; ghost: NotReady, not inspected"."""
        total = len(self.pods) + len(self.left_out)
        text = f"judged on {len(self.pods)} of {total} nodes"
        return text + "".join(f"; {n}: {why}, not inspected" for n, why in sorted(self.left_out.items()))

    def follow_nodes(self, force: bool = False) -> None:
        """Follow nodes that join, leave or die during the run (at most every NODE_REFRESH_S)."""
        if not force and time.monotonic() - self.listed_at < NODE_REFRESH_S:
            return
        nodes = self.cluster.core.list_node().items
        pods = self.cluster.core.list_namespaced_pod(self.namespace, label_selector="app=node-inspector").items
        inspected, left_out, waiting = node_map(nodes, pods)
        for name in waiting:        # joined during the run: named until its inspector pod is Ready
            left_out[name] = "joined during the run, its inspector pod not Ready yet"
        self.pods, self.left_out, self.listed_at = inspected, left_out, time.monotonic()
    _addresses: dict = field(default_factory=dict, repr=False)   # node -> its Node addresses (read once)

    def dump_node(self, node: str, pod: str, attempts: int = 2) -> NodeState:
        """One node's complete dump, or InspectionBlocked naming why it could not be had. A transient
        API error on every attempt is raised as such: the wait around it tries again (waits.poll)."""
        why: list[str] = []
        trouble = None
        for _ in range(attempts):
            try:
                result = kube.exec_with_status(self.cluster, self.namespace, pod, ["/bin/sh", "-c", DUMP_SCRIPT], 60,
                                               container=CONTAINER)
            except Exception as err:  # noqa: BLE001 - any exec failure means: could not look
                trouble = err if transient.is_transient(err) else None
                why = [f"exec failed: {' '.join(str(err).split())[:300]}"]
                continue
            trouble = None
            state = NodeState(node, proxyrules.split_inspector_output(result.stdout))
            why = state.problems()
            if result.returncode != 0:
                why.append("the dump did not finish within 60 s" if result.returncode is None else
                           f"the dump script exited {result.returncode}: {' '.join(result.stderr.split())[:300]}")
            if not why:
                foreign = node_identity.unproven(state, lambda: self.node_addresses(node))
                if foreign is None:
                    return state
                # Another look sees the same namespace: no retry.
                raise InspectionBlocked(f"the node inspector on {node} cannot prove its dump is the node's: {foreign}")
        if trouble is not None:
            raise trouble
        raise InspectionBlocked(f"the node inspector on {node} could not read kube-proxy state: {'; '.join(why)}")

    def node_addresses(self, node: str) -> set:
        if node not in self._addresses:
            self._addresses[node] = node_identity.node_addresses(self.cluster.core.read_node(node))
        return self._addresses[node]

    def dump(self) -> list[NodeState]:
        """Every inspected node's dump. A node that stopped being Ready since it was listed is left
        out and named (its kubelet is gone), not taken as a reason to block."""
        with phases.phase("inspector-dump"):
            self.follow_nodes()
            states = []
            for node, pod in sorted(self.pods.items()):
                try:
                    states.append(self.dump_node(node, pod))
                except InspectionBlocked:
                    self.follow_nodes(force=True)
                    if node in self.pods:
                        raise
            return states

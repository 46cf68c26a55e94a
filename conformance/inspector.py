"""The node inspector: a privileged host-network pod per node that reads kube-proxy's state.

It runs the kube-proxy image of the cluster's version (it carries iptables, nft and a shell); on clusters
that forbid privileged pods the PROXY checks report "blocked by environment".
"""

from dataclasses import dataclass, field

from conformance import kube, proxyrules

# Each tool's exit status and stderr are kept: a dump that stopped half-way (e.g. a rule the tool
# cannot parse) must never be read as "no rules".
DUMP_SCRIPT = r"""
E=$(mktemp)
dump() { echo "==== $1 ===="; "$@" 2>"$E"; rc=$?; echo "==== $1.status ===="; echo "$rc $(tr '\n' ' ' <"$E" | head -c 400)"; }
for t in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save iptables-save ip6tables-save; do
  if command -v $t >/dev/null 2>&1; then dump $t; fi
done
if command -v nft >/dev/null 2>&1; then echo "==== nft-json ===="; nft -j list ruleset 2>"$E"; echo "==== nft-json.status ===="; echo "$? $(head -c 400 "$E")"; fi
if [ -r /proc/net/ip_vs ]; then echo "==== ip_vs ===="; cat /proc/net/ip_vs; fi
rm -f "$E"
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
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{
                        "name": "inspector", "image": image,
                        "command": ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait; done"],
                        "securityContext": {"privileged": True},
                        "resources": {"requests": {"cpu": "5m", "memory": "16Mi"}},
                    }],
                },
            },
        },
    }


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
                rc, _, err = body.strip().partition(" ")
                if rc not in ("0", ""):
                    failed[key[:-len(".status")]] = f"exit {rc}: {err.strip()}"
        return failed

    @property
    def nft(self) -> str | None:
        return self.sections.get("nft-json")

    @property
    def ipvs(self) -> str | None:
        return self.sections.get("ip_vs")

    @property
    def mode(self) -> str:
        return proxyrules.detect_proxy_mode(self.iptables, self.nft, self.ipvs)

    def artifacts(self, namespace: str, service: str, cluster_ips: list[str]) -> list[str]:
        found = proxyrules.iptables_artifacts(self.iptables, namespace, service)
        if self.nft:
            found += proxyrules.nft_artifacts(self.nft, namespace, service)
        if self.ipvs and cluster_ips:
            found += [f"ipvs {v}" for v in proxyrules.ipvs_virtual_servers(self.ipvs, cluster_ips)]
        return found


@dataclass
class Inspector:
    cluster: kube.Cluster
    namespace: str
    pods: dict[str, str]        # node name -> inspector pod name

    def dump(self) -> list[NodeState]:
        states = []
        for node, pod in sorted(self.pods.items()):
            out = kube.exec_in_pod(self.cluster, self.namespace, pod, ["/bin/sh", "-c", DUMP_SCRIPT], 60)
            states.append(NodeState(node, proxyrules.split_inspector_output(out)))
        return states

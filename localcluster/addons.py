"""What `up` and `status` ask of the cluster's addons: their manifests (the local shape's CoreDNS,
kube-network-policies) and whether they are ready (DaemonSets on every node, CoreDNS replicas, DNS
answering on the kube-dns ClusterIPs)."""

from string import Template

from localcluster import api, configs, versions
from localcluster.topology import Topology


def coredns_manifest(topology: Topology) -> str:
    corefile = Template((configs.TEMPLATES / "Corefile").read_text()).substitute(
        cluster_domain=topology.cluster_domain)
    ips = topology.dns_ips
    return Template((configs.TEMPLATES / "coredns.yaml").read_text()).substitute(
        corefile="\n".join("    " + line for line in corefile.splitlines()),
        image=versions.IMAGES["coredns"], dns_ip=ips[0], dns_ips="[" + ", ".join(ips) + "]",
        family_policy="RequireDualStack" if len(ips) > 1 else "SingleStack")


def network_policy_manifest() -> str:
    return Template((configs.TEMPLATES / "kube-network-policies.yaml").read_text()).substitute(
        image=versions.OPTIONAL_IMAGES["kube-network-policies"])


def daemonset_ready(topology: Topology, name: str) -> bool:
    """kube-system's DaemonSet `name` runs an up-to-date Ready pod on every node."""
    ds = api.get_json(topology.apiserver_url, f"/apis/apps/v1/namespaces/kube-system/daemonsets/{name}") or {}
    st = ds.get("status", {})
    return st.get("desiredNumberScheduled") == topology.nodes == st.get("numberReady") == st.get("updatedNumberScheduled")


def coredns_replicas_ready(topology: Topology, want: int) -> bool:
    dep = api.get_json(topology.apiserver_url, "/apis/apps/v1/namespaces/kube-system/deployments/coredns") or {}
    return dep.get("status", {}).get("readyReplicas") == want == dep.get("spec", {}).get("replicas")


def network_policy_ready(topology: Topology) -> bool:
    """kube-network-policies runs a Ready pod on every node (it enforces from then on)."""
    return daemonset_ready(topology, "kube-network-policies")


def dns_answers(topology: Topology) -> bool:
    """From the node: every kube-dns address answers kubernetes.default with the kubernetes ClusterIP.

    The `kubernetes` Service is single-stack in the primary family, also on dual-stack clusters.
    """
    import dns.message
    import dns.query

    want = topology.kubernetes_service_ips[0]
    rdtype = "AAAA" if ":" in want else "A"
    query = dns.message.make_query(f"kubernetes.default.svc.{topology.cluster_domain}.", rdtype)
    for server in topology.dns_ips:
        try:
            reply = dns.query.udp(query, server, timeout=1.0)
        except Exception:  # noqa: BLE001 - any failure means "not answering yet"
            return False
        if {r.to_text() for rrset in reply.answer for r in rrset} != {want}:
            return False
    return True

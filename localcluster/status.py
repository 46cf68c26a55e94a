"""`status`: components, versions, health. Healthy means every check below holds."""

import subprocess

from localcluster import api, components, flannel, kubeadm, paths, processes, state, versions
from localcluster.topology import CLUSTER_DOMAIN, Topology
from localcluster.addons import coredns_replicas_ready, daemonset_ready, dns_answers, network_policy_ready


def checks() -> list[tuple[str, bool, str]]:
    doc = state.load()
    if doc is None:
        return [("cluster", False, "not up (run `python -m localcluster up`)")]
    topology = Topology.of_record(doc)
    versions.use(doc.get("kubernetes_version"))
    rows = [("mode", True, f"Kubernetes {versions.KUBERNETES}, kube-proxy {doc['proxy_mode']}, ip family {doc['ip_family']}, "
                           f"{topology.nodes} node(s), domain {topology.cluster_domain}"
                           f"{', NetworkPolicy enforced' if doc.get('network_policy') else ''}"
                           f"{', kubeadm shape' if topology.shape == 'kubeadm' else ''}"
                           f"{', flannel VXLAN' if topology.cni == 'flannel' else ''}")]
    for name in components.of_record(doc):
        pid = processes.pid_of(name)
        rows.append((name, pid is not None, f"pid {pid}" if pid else f"not running (log: {paths.log_file(name)})"))
    code, body = api.get(topology.apiserver_url, "/version")
    server = api.get_json(topology.apiserver_url, "/version") or {}
    rows.append(("server version", server.get("gitVersion") == versions.KUBERNETES,
                 server.get("gitVersion", f"unreachable ({code})")))
    readyz, _ = api.get(topology.apiserver_url, "/readyz")
    rows.append(("apiserver /readyz", readyz == 200, str(readyz)))
    for node in topology.node_list:
        where = "the machine's network namespace" if node.netns is None else f"netns {node.netns}"
        rows.append((f"node {node.name}", api.node_ready(topology.apiserver_url, node.name),
                     f"Ready, {','.join(node.ips)} in {where}, pods {','.join(node.pod_ranges)}"))
    if topology.shape == "kubeadm":
        rows.append(("kube-proxy DaemonSet", daemonset_ready(topology, "kube-proxy"),
                     f"kube-system/kube-proxy ({versions.IMAGES['kube-proxy']}) Ready on every node"))
        rows.append(("CoreDNS replicas", coredns_replicas_ready(topology, kubeadm.COREDNS_REPLICAS),
                     f"kube-system/coredns: {kubeadm.COREDNS_REPLICAS} Ready (kubeadm's Deployment)"))
    if topology.cni == "flannel" and topology.nodes > 1:
        missing = flannel.missing_routes(topology)
        rows.append(("flannel overlay", not missing, "; ".join(missing) or
                     f"flannel {versions.FLANNEL}: every node routes the others' pods through its VXLAN device"))
    if doc.get("network_policy"):
        rows.append(("NetworkPolicy", network_policy_ready(topology),
                     f"kube-network-policies {versions.KUBE_NETWORK_POLICIES} Ready on every node"))
    rows.append(("CoreDNS", dns_answers(topology), f"kube-dns {','.join(topology.dns_ips)} answers "
                 f"kubernetes.default.svc.{topology.cluster_domain}"))
    return rows


def status(say=print) -> bool:
    rows = checks()
    for name, ok, detail in rows:
        say(f"{'ok  ' if ok else 'FAIL'} {name:<26} {detail}")
    return all(ok for _, ok, _ in rows)

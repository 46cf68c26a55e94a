"""Configuration files of the components, rendered from the topology and the chosen modes."""

import json
from pathlib import Path
from string import Template

from localcluster import paths, versions
from localcluster.topology import CNI_NETWORK, POD_BRIDGE, Node, Topology

TEMPLATES = Path(__file__).parent / "templates"
CNI_BIN_DIR = "/usr/lib/cni"


def _write_json(path: Path, doc: dict) -> Path:
    # JSON is YAML: the components' config loaders read it as such.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def kubeconfig(path: Path, topology: Topology, client: str) -> Path:
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "localcluster",
        "clusters": [{"name": "localcluster", "cluster": {
            "server": topology.apiserver_url, "certificate-authority": str(paths.PKI / "ca.crt")}}],
        "users": [{"name": client, "user": {
            "client-certificate": str(paths.PKI / f"{client}.crt"),
            "client-key": str(paths.PKI / f"{client}.key")}}],
        "contexts": [{"name": "localcluster", "context": {"cluster": "localcluster", "user": client}}],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    path.chmod(0o600)
    return path


def containerd_config(node: Node | None = None) -> Path:
    files = paths.for_node(node)
    text = Template((TEMPLATES / "containerd.toml").read_text()).substitute(
        root=files.containerd_root, state=files.containerd_state, socket=files.containerd_sock,
        pause_image=versions.IMAGES["pause"], cni_bin_dir=CNI_BIN_DIR, cni_conf_dir=files.cni_conf_dir)
    out = files.config / "containerd.toml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out


def cni_conflist(topology: Topology, node: Node | None = None) -> Path:
    node = node or topology.node_list[0]
    files = paths.for_node(node)
    ranges = [[{"subnet": r}] for r in node.pod_ranges]
    doc = {
        "cniVersion": "0.4.0", "name": CNI_NETWORK,
        "plugins": [
            # hairpinMode lets a pod reach itself through its Service VIP; no CNI masquerade is needed
            # because nothing leaves the machine (kube-proxy masquerades what it must).
            {"type": "bridge", "bridge": POD_BRIDGE, "isGateway": True, "ipMasq": False,
             "hairpinMode": True,
             "ipam": {"type": "host-local", "ranges": ranges, "dataDir": str(files.cni_ipam_dir),
                      "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    if topology.cni == "flannel":
        from localcluster.flannel import MTU
        doc["plugins"][0]["mtu"] = MTU         # what flannel's CNI plugin gives its bridge delegate
    # Routes must match the families that exist, or the bridge plugin refuses the config.
    fams = [r["subnet"] for rr in ranges for r in rr]
    doc["plugins"][0]["ipam"]["routes"] = ([{"dst": "0.0.0.0/0"}] if any("." in s for s in fams) else []) + \
                                         ([{"dst": "::/0"}] if any(":" in s for s in fams) else [])
    return _write_json(files.cni_conf_dir / "10-localcluster.conflist", doc)


def resolv_conf(text: str | None = None) -> Path:
    """The nodes' resolv.conf (kubelet resolvConf: what dnsPolicy Default pods get). The local shape has
    no upstream resolver (an offline machine); the kubeadm shape gives the node resolver's text."""
    out = paths.CONFIG / "resolv.conf"
    out.write_text(text or "# localcluster: no upstream resolver (offline machine)\n")
    return out


def kubelet_config(topology: Topology, node: Node | None = None) -> Path:
    node = node or topology.node_list[0]
    files = paths.for_node(node)
    doc = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "cgroupDriver": "cgroupfs",          # no systemd on these machines; cgroup v1 (hybrid)
        "failSwapOn": False,
        "failCgroupV1": False,
        "containerRuntimeEndpoint": f"unix://{files.containerd_sock}",
        "clusterDomain": topology.cluster_domain,
        "clusterDNS": topology.dns_ips,
        "resolvConf": str(paths.CONFIG / "resolv.conf"),
        "address": node.ips[0],
        "healthzBindAddress": "127.0.0.1",
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(paths.PKI / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        # Preloaded images have no registry to come back from: the kubelet must never collect them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "serializeImagePulls": False,
        "podPidsLimit": -1,
        "maxPods": 250,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "staticPodPath": "",
        "volumeStatsAggPeriod": "0s",
    }
    if topology.shape == "kubeadm" and node.index == 0 and topology.nodes > 1:
        # kubeadm taints the control-plane node when it has workers to run the workloads.
        doc["registerWithTaints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    if node.index:
        # Several kubelets share this machine: each keeps its pods' cgroups and logs apart, or one
        # would garbage-collect the others'. (Node 0 keeps the defaults, as a lone node has them.)
        doc["cgroupRoot"] = f"/{node.name}"
        doc["podLogsDir"] = str(files.pod_logs)
    return _write_json(files.config / "kubelet.yaml", doc)


def kube_proxy_config(topology: Topology, mode: str, node: Node | None = None,
                      overrides: dict | None = None) -> Path:
    node = node or topology.node_list[0]
    files = paths.for_node(node)
    doc = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "mode": mode,
        "clusterCIDR": topology.pod_cidrs,
        "hostnameOverride": node.name,
        "clientConnection": {"kubeconfig": str(paths.CONFIG / "kube-proxy.kubeconfig")},
        "bindAddress": node.ips[0],
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        # Do not touch the host's conntrack sysctls: a VM may refuse them and they outlive the cluster.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    return _write_json(files.config / "kube-proxy.yaml", merge(doc, overrides or {}))


def merge(doc: dict, overrides: dict) -> dict:
    """overrides laid over doc, nested mappings merged key by key (a KubeProxyConfiguration patch)."""
    out = dict(doc)
    for key, value in overrides.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def parse_setting(text: str) -> dict:
    """`iptables.minSyncPeriod=10s` -> {"iptables": {"minSyncPeriod": "10s"}}; values as YAML scalars
    (10 -> int, true -> bool, 10s -> str)."""
    import yaml
    key, sep, value = text.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not sep or not parts:
        raise ValueError(f"{text!r} is not KEY=VALUE (a dotted KubeProxyConfiguration field, e.g. "
                         "iptables.minSyncPeriod=10s)")
    parsed = yaml.safe_load(value) if value.strip() else ""
    if isinstance(parsed, (dict, list)):
        raise ValueError(f"{text!r}: the value must be a scalar")
    for part in reversed(parts):
        parsed = {part: parsed}
    return parsed

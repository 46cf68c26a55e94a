"""`up --shape kubeadm`: kube-proxy and CoreDNS as kubeadm deploys them, from kubeadm's own manifests.

The manifests are the Go templates of the selected release's kubeadm
(cmd/kubeadm/app/phases/addons/{proxy,dns}/manifests.go in the k8s.io/kubernetes module the
components are built from), filled in as `kubeadm init` fills them; the kube-proxy RBAC is what
proxy.go creates. What differs from a kubeadm cluster, and why:
- the control plane stays host processes (not static pods under the kubelet): the suite sees it only
  through the API, and `down` can stop and verify every process it started;
- the nodes' resolver (`node-resolver`, CoreDNS's binary on node 0's addresses) knows nothing outside
  the cluster and answers NXDOMAIN for every name, as an offline machine's upstream would: the cluster
  CoreDNS forwards to it (`forward . /etc/resolv.conf`) and its `loop` check has something to ask.
"""

import json
import os
import re
import subprocess
from pathlib import Path

from localcluster import versions
from localcluster.errors import EXIT_BUILD, ClusterError
from localcluster.topology import Topology

SHAPES = ("local", "kubeadm")
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"
COREDNS_REPLICAS = 2            # kubeadm's CoreDNS Deployment
ADDONS = "cmd/kubeadm/app/phases/addons"
_GO_CONST = re.compile(r"^\t(\w+) = `(.*?)`", re.M | re.S)


def module_dir() -> Path:
    """The selected release's k8s.io/kubernetes module in Go's module cache (downloaded if gone)."""
    env = {k: v for k, v in os.environ.items() if k != "GOFLAGS"}
    try:
        out = subprocess.run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{versions.KUBERNETES}"],
                             capture_output=True, text=True, timeout=600, env=env, cwd="/")
        found = json.loads(out.stdout or "{}").get("Dir")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as err:
        raise ClusterError(f"reading kubeadm's addon manifests: go mod download failed: {err}", EXIT_BUILD) from None
    if not found:
        raise ClusterError(f"reading kubeadm's addon manifests: go mod download k8s.io/kubernetes@"
                           f"{versions.KUBERNETES} gave no module: {out.stderr.strip()[-300:]}", EXIT_BUILD)
    return Path(found)


def go_templates(source: str) -> dict[str, str]:
    """The raw-string constants of a manifests.go: name -> template text."""
    return {name: text for name, text in _GO_CONST.findall(source)}


def fill(template: str, values: dict[str, str]) -> str:
    """Go's text/template as kubeadm's manifests use it: `{{ .Key }}` fields, and `{{- if .DNSDomain }}`
    blocks that are always taken here (the domain is never empty); `{{-` trims the space before it."""
    text = re.sub(r"\s*\{\{-\s*if \.\w+\s*\}\}", "", template)
    text = re.sub(r"\s*\{\{-\s*end\s*\}\}", "", text)

    def field(m: re.Match) -> str:
        if m.group(1) not in values:
            raise KeyError(f"kubeadm template field .{m.group(1)} has no value")
        return values[m.group(1)]
    return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", field, text)


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


def kube_proxy_manifest(topology: Topology, proxy_config: dict, module: Path) -> str:
    """ServiceAccount, RBAC, ConfigMap `kube-proxy` and DaemonSet `kube-proxy`, as kubeadm creates them."""
    import yaml
    t = go_templates((module / ADDONS / "proxy" / "manifests.go").read_text())
    values = {"ProxyConfigMap": "kube-proxy", "ProxyConfigMapKey": "config.conf",
              "ControlPlaneEndpoint": topology.apiserver_url, "Image": versions.IMAGES["kube-proxy"],
              "ProxyConfig": _indent(yaml.safe_dump(proxy_config, sort_keys=False).rstrip(), 4)}
    rbac = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "kubeadm:node-proxier"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node-proxier"},
         "subjects": [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
         "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kube-proxy"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kube-proxy"},
         "subjects": [{"kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}]},
    ]
    docs = [json.dumps(d) for d in rbac] + [fill(t["KubeProxyConfigMap19"], values),
                                            fill(t["KubeProxyDaemonSet19"], values)]
    return "\n---\n".join(docs)


def kube_proxy_config(topology: Topology, mode: str, overrides: dict) -> dict:
    """config.conf of the kube-proxy ConfigMap: one for every node (kubeadm's), the node's name from the
    DaemonSet's --hostname-override. Conntrack sysctls stay untouched, as on the local shape."""
    from localcluster.configs import merge
    doc = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "mode": mode, "clusterCIDR": topology.pod_cidrs,
        "bindAddress": "::" if ":" in topology.primary_node_ip else "0.0.0.0",
        "clientConnection": {"kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf"},
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    return merge(doc, overrides)


def coredns_manifest(topology: Topology, module: Path) -> str:
    t = go_templates((module / ADDONS / "dns" / "manifests.go").read_text())
    values = {"DeploymentName": "coredns", "Replicas": str(COREDNS_REPLICAS), "Image": versions.IMAGES["coredns"],
              "ControlPlaneTaintKey": CONTROL_PLANE_TAINT, "DNSDomain": topology.cluster_domain,
              "DNSIP": topology.dns_ips[0]}
    names = ["CoreDNSServiceAccount", "CoreDNSClusterRole", "CoreDNSClusterRoleBinding", "CoreDNSConfigMap",
             "CoreDNSDeployment", "CoreDNSService"]
    return "\n---\n".join(fill(t[n], values) for n in names)


def node_resolver_corefile(topology: Topology) -> str:
    """The nodes' upstream resolver: every name NXDOMAIN (an offline machine's resolver knows none)."""
    binds = " ".join(f["node"] for f in topology.families)
    return f".:53 {{\n    bind {binds}\n    errors\n    template ANY ANY {{\n        rcode NXDOMAIN\n    }}\n}}\n"


def resolv_conf(topology: Topology) -> str:
    return "".join(f"nameserver {f['node']}\n" for f in topology.families)

"""`up --shape kubeadm`: kubeadm's own addon templates (captured from k8s.io/kubernetes v1.37.2's
cmd/kubeadm/app/phases/addons) filled in as `kubeadm init` fills them, and what the shape changes."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from localcluster import components, configs, kubeadm, versions
from localcluster.topology import Topology
from test_localcluster_config import state  # noqa: F401 - the fixture redirecting state/run paths

DATA = Path(__file__).with_name("data")


@pytest.fixture
def module(tmp_path):
    for part in ("proxy", "dns"):
        (tmp_path / kubeadm.ADDONS / part).mkdir(parents=True)
        shutil.copyfile(DATA / f"kubeadm_1_37_{part}_manifests.go.txt", tmp_path / kubeadm.ADDONS / part / "manifests.go")
    return tmp_path


def _docs(text: str) -> dict:
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(text) if d}


def test_go_templates_are_read_whole():
    t = kubeadm.go_templates((DATA / "kubeadm_1_37_dns_manifests.go.txt").read_text())
    assert sorted(t) == ["CoreDNSClusterRole", "CoreDNSClusterRoleBinding", "CoreDNSConfigMap",
                         "CoreDNSDeployment", "CoreDNSService", "CoreDNSServiceAccount"]


def test_fill_takes_the_domain_block_and_refuses_a_missing_field():
    text = "cache 30\n        {{- if .DNSDomain }} {\n   disable success {{ .DNSDomain }}\n}\n        {{- end }}\nloop"
    assert kubeadm.fill(text, {"DNSDomain": "conformance.test"}) == \
        "cache 30 {\n   disable success conformance.test\n}\nloop"
    with pytest.raises(KeyError, match=r"\.Image"):
        kubeadm.fill("image: {{ .Image }}", {})


def test_kube_proxy_is_kubeadms_daemonset_with_its_configmap(module):
    topo = Topology("dual", "cluster.local", 3, "kubeadm")
    config = kubeadm.kube_proxy_config(topo, "nftables", {"nftables": {"minSyncPeriod": "10s"}})
    docs = _docs(kubeadm.kube_proxy_manifest(topo, config, module))
    ds = docs[("DaemonSet", "kube-proxy")]
    assert ds["metadata"]["labels"] == {"k8s-app": "kube-proxy"}
    pod = ds["spec"]["template"]["spec"]
    assert pod["hostNetwork"] and pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["containers"][0]["image"] == versions.IMAGES["kube-proxy"]
    assert pod["containers"][0]["command"] == ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                               "--hostname-override=$(NODE_NAME)"]
    cm = docs[("ConfigMap", "kube-proxy")]["data"]
    proxy = yaml.safe_load(cm["config.conf"])
    assert (proxy["mode"], proxy["clusterCIDR"], proxy["nftables"]) == (
        "nftables", "10.244.0.0/16,fd00:10:244::/56", {"minSyncPeriod": "10s"})
    assert yaml.safe_load(cm["kubeconfig.conf"])["clusters"][0]["cluster"]["server"] == "https://10.250.0.1:6443"
    crb = docs[("ClusterRoleBinding", "kubeadm:node-proxier")]
    assert crb["roleRef"]["name"] == "system:node-proxier"


def test_coredns_is_kubeadms_addon(module):
    topo = Topology("dual", "conformance.test", 3, "kubeadm")
    docs = _docs(kubeadm.coredns_manifest(topo, module))
    assert docs[("Deployment", "coredns")]["spec"]["replicas"] == 2
    corefile = docs[("ConfigMap", "coredns")]["data"]["Corefile"]
    for line in ("kubernetes conformance.test in-addr.arpa ip6.arpa {", "forward . /etc/resolv.conf {", "loop",
                 "cache 30 {", "disable success conformance.test"):
        assert line in corefile
    svc = docs[("Service", "kube-dns")]["spec"]
    assert svc["clusterIP"] == "10.96.0.10" and "clusterIPs" not in svc     # single-stack, as kubeadm's
    assert topo.dns_ips == ["10.96.0.10"] and Topology("dual", nodes=3).dns_ips == ["10.96.0.10", "fd00:10:96::a"]


def test_the_nodes_resolver_knows_nothing():
    topo = Topology("dual", nodes=3, shape="kubeadm")
    assert kubeadm.resolv_conf(topo) == "nameserver 10.250.0.1\nnameserver fd00:250::1\n"
    corefile = kubeadm.node_resolver_corefile(topo)
    assert "bind 10.250.0.1 fd00:250::1" in corefile and "rcode NXDOMAIN" in corefile and "forward" not in corefile


def test_kubeadm_shape_daemons():
    assert "kube-proxy" not in " ".join(components.names(3, "kubeadm"))
    assert "node-resolver" in components.names(3, "kubeadm")
    assert components.names(3) == components.names(3, "local") and "kube-proxy-localcluster-worker2" in components.names(3)


def test_the_control_plane_node_is_tainted_only_with_workers(state):  # noqa: F811
    for nodes, shape, tainted in ((3, "kubeadm", True), (1, "kubeadm", False), (3, "local", False)):
        topo = Topology("ipv4", nodes=nodes, shape=shape)
        doc = json.loads(configs.kubelet_config(topo, topo.node_list[0]).read_text())
        assert ("registerWithTaints" in doc) == tainted, (nodes, shape)
        if tainted:
            assert doc["registerWithTaints"] == [{"key": kubeadm.CONTROL_PLANE_TAINT, "effect": "NoSchedule"}]


def test_of_record_reads_the_shape():
    assert Topology.of_record({"ip_family": "ipv6", "nodes": 2, "shape": "kubeadm"}) == Topology("ipv6", nodes=2,
                                                                                                 shape="kubeadm")
    assert Topology.of_record({"ip_family": "ipv4"}).shape == "local"

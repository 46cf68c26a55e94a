"""Pure logic of localcluster: addresses per IP family, rendered configs, command lines, PKI.

Nothing here touches the host or a cluster: every path of localcluster.paths under the state and
runtime directories is redirected to a tmp dir (a live cluster may use the real ones).
"""

import ipaddress
import json
import stat
import tomllib
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from localcluster import components, configs, paths, pki, versions
from localcluster.topology import (APISERVER_PORT, CLUSTER_DOMAIN, CNI_NETWORK, IP_FAMILIES, NODE_NAME,
                                   POD_BRIDGE, Topology)
from localcluster.addons import coredns_manifest, network_policy_manifest

REAL_STATE, REAL_RUN = paths.STATE, paths.RUN


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    """LOCALCLUSTER_STATE / _RUN in tmp_path: every derived path of localcluster.paths follows."""
    new_state, new_run = tmp_path / "state", tmp_path / "run"
    monkeypatch.setenv("LOCALCLUSTER_STATE", str(new_state))
    monkeypatch.setenv("LOCALCLUSTER_RUN", str(new_run))
    for name, value in list(vars(paths).items()):
        if not isinstance(value, Path):
            continue
        for old, new in ((REAL_STATE, new_state), (REAL_RUN, new_run)):
            if value == old or old in value.parents:
                monkeypatch.setattr(paths, name, new / value.relative_to(old))
    return new_state


def test_state_fixture_redirects_every_state_and_runtime_path(state):
    for name, value in vars(paths).items():
        if isinstance(value, Path):
            assert value != REAL_STATE and REAL_STATE not in value.parents, name
            assert value != REAL_RUN and REAL_RUN not in value.parents, name
    assert paths.CLUSTER_FILE == state / "cluster.json"
    assert paths.CONTAINERD_SOCK.parent == state.parent / "run"


# --- topology ---------------------------------------------------------------------------------------

V4 = {"node": "10.250.0.1", "pods": "10.244.0.0/16", "node_pods": "10.244.0.0/24", "services": "10.96.0.0/16",
      "kubernetes": "10.96.0.1", "dns": "10.96.0.10"}
V6 = {"node": "fd00:250::1", "pods": "fd00:10:244::/56", "node_pods": "fd00:10:244::/64",
      "services": "fd00:10:96::/112", "kubernetes": "fd00:10:96::1", "dns": "fd00:10:96::a"}
BY_FAMILY = {"ipv4": [V4], "ipv6": [V6], "dual": [V4, V6]}


@pytest.mark.parametrize("family", IP_FAMILIES)
def test_topology_addresses_per_family(family):
    topo, fams = Topology(family), BY_FAMILY[family]
    assert topo.node_ips == ",".join(f["node"] for f in fams)
    assert topo.primary_node_ip == fams[0]["node"]
    assert topo.pod_cidrs == ",".join(f["pods"] for f in fams)
    assert topo.service_cidrs == ",".join(f["services"] for f in fams)
    assert topo.dns_ips == [f["dns"] for f in fams]
    assert topo.kubernetes_service_ips == [f["kubernetes"] for f in fams]
    assert topo.node_pod_ranges == [f["node_pods"] for f in fams]
    assert topo.node_addresses == [f"{f['node']}/{24 if '.' in f['node'] else 64}" for f in fams]


@pytest.mark.parametrize(("family", "url"), [("ipv4", f"https://10.250.0.1:{APISERVER_PORT}"),
                                             ("ipv6", f"https://[fd00:250::1]:{APISERVER_PORT}"),
                                             ("dual", f"https://10.250.0.1:{APISERVER_PORT}")])
def test_apiserver_url_brackets_ipv6(family, url):
    assert Topology(family).apiserver_url == url


@pytest.mark.parametrize("family", IP_FAMILIES)
def test_topology_ranges_are_consistent(family):
    topo = Topology(family)
    services = [ipaddress.ip_network(c) for c in topo.service_cidrs.split(",")]
    pods = [ipaddress.ip_network(c) for c in topo.pod_cidrs.split(",")]
    node_nets = [ipaddress.ip_interface(a).network for a in topo.node_addresses]
    # One range per family, primary family first, in the same order everywhere.
    expected_versions = {"ipv4": [4], "ipv6": [6], "dual": [4, 6]}[family]
    for ranges in (services, pods, node_nets):
        assert [r.version for r in ranges] == expected_versions
    for svc_range, ip in zip(services, topo.dns_ips):
        assert ipaddress.ip_address(ip) in svc_range
    for svc_range, ip in zip(services, topo.kubernetes_service_ips):
        assert ipaddress.ip_address(ip) in svc_range
    for pod_range, node_range in zip(pods, topo.node_pod_ranges):
        assert ipaddress.ip_network(node_range).subnet_of(pod_range)
    # Node, pod and service ranges do not overlap.
    for a in services + pods + node_nets:
        for b in services + pods + node_nets:
            if a is not b and a.version == b.version:
                assert not a.overlaps(b), (a, b)


# --- configs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("family", IP_FAMILIES)
def test_kubelet_config(state, family):
    topo = Topology(family)
    path = configs.kubelet_config(topo)
    assert path == paths.CONFIG / "kubelet.yaml" and state in path.parents
    doc = json.loads(path.read_text())
    assert (doc["apiVersion"], doc["kind"]) == ("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration")
    assert doc["clusterDNS"] == topo.dns_ips
    assert doc["clusterDomain"] == CLUSTER_DOMAIN
    assert doc["address"] == topo.primary_node_ip
    assert doc["containerRuntimeEndpoint"] == f"unix://{paths.CONTAINERD_SOCK}"
    assert doc["resolvConf"] == str(paths.CONFIG / "resolv.conf")
    assert doc["authentication"]["x509"]["clientCAFile"] == str(paths.PKI / "ca.crt")
    assert doc["authentication"]["anonymous"]["enabled"] is False
    assert doc["cgroupDriver"] == "cgroupfs"
    # Preloaded images have no registry to come back from.
    assert doc["imageGCHighThresholdPercent"] == 100


@pytest.mark.parametrize("family", IP_FAMILIES)
@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_kube_proxy_config(state, family, mode):
    topo = Topology(family)
    doc = json.loads(configs.kube_proxy_config(topo, mode).read_text())
    assert (doc["apiVersion"], doc["kind"]) == ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration")
    assert doc["mode"] == mode
    assert doc["clusterCIDR"] == topo.pod_cidrs
    assert doc["hostnameOverride"] == NODE_NAME
    assert doc["bindAddress"] == topo.primary_node_ip
    assert doc["clientConnection"]["kubeconfig"] == str(paths.CONFIG / "kube-proxy.kubeconfig")
    assert doc["conntrack"]["maxPerCore"] == 0          # leaves the host's conntrack sysctls alone


@pytest.mark.parametrize(("family", "routes"), [("ipv4", ["0.0.0.0/0"]), ("ipv6", ["::/0"]),
                                                ("dual", ["0.0.0.0/0", "::/0"])])
def test_cni_conflist(state, family, routes):
    topo = Topology(family)
    path = configs.cni_conflist(topo)
    assert path.parent == paths.CNI_CONF_DIR and path.name.endswith(".conflist")
    doc = json.loads(path.read_text())
    assert doc["name"] == CNI_NETWORK
    bridge, portmap = doc["plugins"]
    assert bridge["type"] == "bridge" and bridge["bridge"] == POD_BRIDGE and bridge["isGateway"] is True
    assert bridge["hairpinMode"] is True
    ipam = bridge["ipam"]
    assert ipam["type"] == "host-local"
    assert ipam["ranges"] == [[{"subnet": r}] for r in topo.node_pod_ranges]
    assert [r["dst"] for r in ipam["routes"]] == routes
    assert state in Path(ipam["dataDir"]).parents
    assert portmap == {"type": "portmap", "capabilities": {"portMappings": True}}


@pytest.mark.parametrize("family", IP_FAMILIES)
def test_kubeconfig(state, family):
    topo = Topology(family)
    target = paths.CONFIG / "kube-proxy.kubeconfig"
    target.parent.mkdir(parents=True)
    doc = json.loads(configs.kubeconfig(target, topo, "kube-proxy").read_text())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    (cluster,) = doc["clusters"]
    assert cluster["cluster"] == {"server": topo.apiserver_url, "certificate-authority": str(paths.PKI / "ca.crt")}
    (user,) = doc["users"]
    assert user == {"name": "kube-proxy", "user": {"client-certificate": str(paths.PKI / "kube-proxy.crt"),
                                                   "client-key": str(paths.PKI / "kube-proxy.key")}}
    (context,) = doc["contexts"]
    assert doc["current-context"] == context["name"]
    assert context["context"] == {"cluster": cluster["name"], "user": "kube-proxy"}


def test_resolv_conf_has_no_upstream(state):
    paths.CONFIG.mkdir(parents=True)
    text = configs.resolv_conf().read_text()
    assert not [line for line in text.splitlines() if line.split()[:1] == ["nameserver"]]


def test_containerd_config_is_valid_toml(state):
    paths.CONFIG.mkdir(parents=True)
    doc = tomllib.loads(configs.containerd_config().read_text())
    assert doc["root"] == str(paths.STATE / "containerd")
    assert doc["state"] == str(paths.RUN / "containerd")
    assert doc["grpc"]["address"] == str(paths.CONTAINERD_SOCK)
    cri = doc["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == versions.IMAGES["pause"]
    assert cri["cni"]["conf_dir"] == str(paths.CNI_CONF_DIR)
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False


@pytest.mark.parametrize("family", IP_FAMILIES)
def test_coredns_manifest_service_addresses(family):
    topo = Topology(family)
    docs = [d for d in yaml.safe_load_all(coredns_manifest(topo)) if d]
    (svc,) = [d for d in docs if d["kind"] == "Service"]
    assert svc["metadata"] == {"name": "kube-dns", "namespace": "kube-system",
                               "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}}
    assert svc["spec"]["clusterIP"] == topo.dns_ips[0]
    assert svc["spec"]["clusterIPs"] == topo.dns_ips
    assert svc["spec"]["ipFamilyPolicy"] == ("RequireDualStack" if family == "dual" else "SingleStack")
    (deploy,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    assert container["image"] == versions.IMAGES["coredns"]
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert f"kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa" in cm["data"]["Corefile"]


def test_network_policy_manifest_is_upstream_install_yaml_with_the_pinned_image():
    docs = [d for d in yaml.safe_load_all(network_policy_manifest()) if d]
    assert [d["kind"] for d in docs] == ["ClusterRole", "ClusterRoleBinding", "ServiceAccount", "DaemonSet"]
    ds = docs[-1]
    assert ds["metadata"]["namespace"] == "kube-system" and ds["metadata"]["labels"]["k8s-app"] == "kube-network-policies"
    pod = ds["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["serviceAccountName"] == "kube-network-policies"
    assert pod["tolerations"] == [{"operator": "Exists", "effect": "NoSchedule"}]
    (container,) = pod["containers"]
    assert container["image"] == versions.OPTIONAL_IMAGES["kube-network-policies"]
    assert container["image"].endswith(":" + versions.KUBE_NETWORK_POLICIES)
    assert container["args"][:2] == ["/bin/netpol", "--hostname-override=$(MY_NODE_NAME)"]
    assert container["securityContext"]["privileged"] is True
    rules = {r["apiGroups"][0]: r["resources"] for r in docs[0]["rules"]}
    assert rules == {"": ["pods", "namespaces"], "networking.k8s.io": ["networkpolicies"]}


def test_failed_up_logs_are_kept_where_down_does_not_remove_them(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "LOGS", tmp_path / "state" / "logs")
    monkeypatch.setattr(paths, "CACHE", tmp_path / "cache")
    paths.LOGS.mkdir(parents=True)
    (paths.LOGS / "kubelet-localcluster-worker1.log").write_text("E1204 failed to run Kubelet\n")
    kept = paths.preserve_logs(str(paths.LOGS / "kubelet-localcluster-worker1.log"))
    assert Path(kept).read_text() == "E1204 failed to run Kubelet\n"
    assert Path(kept).is_relative_to(tmp_path / "cache" / "failed-up-logs")
    assert paths.preserve_logs(None) is None


# --- command lines ----------------------------------------------------------------------------------

def _flags(argv: list[str]) -> dict[str, str]:
    return dict(a[2:].split("=", 1) for a in argv[1:] if a.startswith("--") and "=" in a)


@pytest.mark.parametrize("family", IP_FAMILIES)
def test_component_command_lines_follow_the_topology(state, family):
    topo, bins = Topology(family), Path("/opt/bins")
    api = _flags(components.kube_apiserver(bins, topo))
    assert api["service-cluster-ip-range"] == topo.service_cidrs
    assert api["advertise-address"] == topo.primary_node_ip
    assert api["bind-address"] == ("::" if family == "ipv6" else "0.0.0.0")
    assert api["secure-port"] == str(APISERVER_PORT)
    assert api["tls-cert-file"] == str(paths.PKI / "apiserver.crt")
    kcm = _flags(components.kube_controller_manager(bins, topo))
    assert kcm["service-cluster-ip-range"] == topo.service_cidrs
    assert kcm["cluster-cidr"] == topo.pod_cidrs
    kubelet = _flags(components.kubelet(bins, topo))
    assert kubelet["node-ip"] == topo.node_ips
    assert kubelet["hostname-override"] == NODE_NAME
    assert kubelet["config"] == str(paths.CONFIG / "kubelet.yaml")
    assert _flags(components.kube_proxy(bins))["config"] == str(paths.CONFIG / "kube-proxy.yaml")


# --- PKI --------------------------------------------------------------------------------------------

def _sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ({str(ip) for ip in ext.get_values_for_type(x509.IPAddress)},
            set(ext.get_values_for_type(x509.DNSName)))


def _load(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((paths.PKI / f"{name}.crt").read_bytes())


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    return cert.issuer == ca.subject


@pytest.mark.parametrize("family", IP_FAMILIES)
def test_apiserver_sans_include_the_service_and_node_ips(family):
    topo = Topology(family)
    ext = x509.SubjectAlternativeName(pki.apiserver_sans(topo))
    ips = {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)}
    names = set(ext.get_values_for_type(x509.DNSName))
    assert set(topo.kubernetes_service_ips) <= ips
    assert set(topo.node_ips.split(",")) <= ips
    assert {"127.0.0.1", "::1"} <= ips
    assert {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
            f"kubernetes.default.svc.{CLUSTER_DOMAIN}", "localhost"} <= names


def test_pki_ensure_issues_every_certificate_from_one_ca(state):
    topo = Topology("dual")
    pki.ensure(topo)
    ca = _load("ca")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    server = _load("apiserver")
    assert _issued_by(server, ca)
    ips, names = _sans(server)
    assert set(topo.kubernetes_service_ips) <= ips            # 10.96.0.1 and fd00:10:96::1
    assert set(topo.node_ips.split(",")) <= ips
    assert f"kubernetes.default.svc.{CLUSTER_DOMAIN}" in names
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    for stem, (cn, org) in pki.CLIENTS.items():
        cert = _load(stem)
        assert _issued_by(cert, ca), stem
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == cn
        orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        assert orgs == ([org] if org else [])
        assert ExtendedKeyUsageOID.CLIENT_AUTH in cert.extensions.get_extension_for_class(
            x509.ExtendedKeyUsage).value
    for key in [*paths.PKI.glob("*.key")]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key.name
    assert (paths.PKI / "sa.key").exists() and (paths.PKI / "sa.pub").exists()
    kubelet = _load("kubelet").subject
    assert kubelet.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"system:node:{NODE_NAME}"


def test_pki_ensure_keeps_the_ca_and_follows_the_ip_family(state):
    pki.ensure(Topology("ipv4"))
    ca_before = (paths.PKI / "ca.crt").read_bytes()
    admin_before = (paths.PKI / "admin.crt").read_bytes()
    assert "fd00:10:96::1" not in _sans(_load("apiserver"))[0]
    pki.ensure(Topology("ipv6"))
    assert (paths.PKI / "ca.crt").read_bytes() == ca_before
    assert (paths.PKI / "admin.crt").read_bytes() == admin_before
    ips, _ = _sans(_load("apiserver"))
    assert "fd00:10:96::1" in ips and "fd00:250::1" in ips
    assert "10.96.0.1" not in ips
    assert _issued_by(_load("apiserver"), _load("ca"))


@pytest.mark.parametrize("text,parsed", [
    ("iptables.minSyncPeriod=10s", {"iptables": {"minSyncPeriod": "10s"}}),
    ("nftables.syncPeriod=30s", {"nftables": {"syncPeriod": "30s"}}),
    ("conntrack.maxPerCore=0", {"conntrack": {"maxPerCore": 0}}),
    ("ipvs.strictARP=true", {"ipvs": {"strictARP": True}}),
])
def test_kube_proxy_setting_parses_dotted_fields(text, parsed):
    assert configs.parse_setting(text) == parsed


@pytest.mark.parametrize("text", ["minSyncPeriod", "=10s", "a.b={x: 1}"])
def test_kube_proxy_setting_refuses_what_is_not_key_value(text):
    with pytest.raises(ValueError):
        configs.parse_setting(text)


def test_kube_proxy_overrides_are_laid_over_the_config(state):
    """`up --kube-proxy-config iptables.minSyncPeriod=10s`: the field is set, the rest is the cluster's."""
    topology = Topology("ipv4")
    overrides = configs.merge(configs.parse_setting("iptables.minSyncPeriod=10s"),
                              configs.parse_setting("conntrack.min=5"))
    doc = json.loads(configs.kube_proxy_config(topology, "iptables", overrides=overrides).read_text())
    assert doc["iptables"] == {"minSyncPeriod": "10s"}
    assert doc["conntrack"] == {"maxPerCore": 0, "min": 5, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"}
    assert doc["mode"] == "iptables" and doc["hostnameOverride"] == NODE_NAME

"""DNS and kube-proxy pods found as real clusters label them, and image refs read as they are written:
the objects are the Kubernetes client's own models, shaped like those of kubeadm, k3s, GKE and EKS."""

import pytest
from kubernetes import client

from svc_conformance.cluster import discovery


def service(name, cluster_ip, ports, selector):
    return client.V1Service(metadata=client.V1ObjectMeta(name=name, namespace="kube-system"),
                            spec=client.V1ServiceSpec(cluster_ip=cluster_ip, cluster_ips=[cluster_ip],
                                                      selector=selector,
                                                      ports=[client.V1ServicePort(port=p, name=str(p)) for p in ports]))


def pod(name, containers, phase="Running", labels=None):
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, namespace="kube-system", labels=labels or {}),
                        spec=client.V1PodSpec(containers=containers), status=client.V1PodStatus(phase=phase))


def container(name, image, ports=()):
    return client.V1Container(name=name, image=image,
                              ports=[client.V1ContainerPort(container_port=p, protocol="UDP") for p in ports] or None)


@pytest.mark.parametrize(("ref", "expected"), [
    ("registry.k8s.io/coredns/coredns:v1.12.0", ("registry.k8s.io/coredns/coredns", "v1.12.0")),
    ("registry.k8s.io/coredns/coredns:v1.11.3@sha256:9caabbf6238b189a65d0d6e6ac138de60d6a1c419e5a341fbbb7c78382559c6e",
     ("registry.k8s.io/coredns/coredns", "v1.11.3")),
    ("rancher/mirrored-coredns-coredns@sha256:82979ddf442c593027a57239ad90616deb874e90c365d1a96ad508c2104bdea5",
     ("rancher/mirrored-coredns-coredns", "")),            # a digest names content, not a version
    ("localhost:5000/kube-proxy:v1.33.1", ("localhost:5000/kube-proxy", "v1.33.1")),
    ("localhost:5000/kube-proxy", ("localhost:5000/kube-proxy", "")),  # the port is no tag
    ("coredns", ("coredns", "")),
])
def test_image_version(ref, expected):
    assert discovery.image_version(ref) == expected


KUBEADM = [service("kube-dns", "10.96.0.10", [53, 9153], {"k8s-app": "kube-dns"}),
           service("metrics-server", "10.96.0.20", [443], {"k8s-app": "metrics-server"})]


def test_the_dns_service_is_the_one_serving_port_53():
    assert discovery.dns_service(KUBEADM).metadata.name == "kube-dns"
    # Another distribution names and labels it otherwise: its selector is what finds the pods.
    other = [service("dns-default", "172.30.0.10", [53], {"dns.operator.openshift.io/daemonset-dns": "default"}),
             service("metrics-server", "172.30.0.20", [443], {"k8s-app": "metrics-server"})]
    svc = discovery.dns_service(other)
    assert discovery.selector_string(svc.spec.selector) == "dns.operator.openshift.io/daemonset-dns=default"


def test_the_pods_nameserver_decides_between_two_dns_services():
    both = [service("kube-dns", "10.96.0.10", [53], {"k8s-app": "kube-dns"}),
            service("node-local-dns", "10.96.0.11", [53], {"k8s-app": "node-local-dns"})]
    assert discovery.dns_service(both).metadata.name == "kube-dns"
    assert discovery.dns_service(both, nameserver="10.96.0.11").metadata.name == "node-local-dns"
    assert discovery.dns_service([service("metrics-server", "10.96.0.20", [443], {})]) is None


def test_dns_implementation_reads_the_container_serving_port_53_and_its_tag_not_its_digest():
    k3s = pod("coredns-ccb96694c-x", [container("coredns", "rancher/mirrored-coredns-coredns:1.12.0@sha256:"
                                                + "8" * 64, ports=[53])])
    assert discovery.dns_implementation([k3s]) == {"implementation": "CoreDNS", "version": "1.12.0"}
    sidecar = pod("coredns-1", [container("istio-proxy", "docker.io/istio/proxyv2:1.22.0"),
                                container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", ports=[53])])
    assert discovery.dns_implementation([sidecar]) == {"implementation": "CoreDNS", "version": "1.11.1"}
    pinned = pod("coredns-2", [container("coredns", "registry.k8s.io/coredns/coredns@sha256:" + "a" * 64)])
    assert discovery.dns_implementation([pinned]) == {"implementation": "CoreDNS", "version": ""}
    assert discovery.dns_implementation([]) == {"implementation": "unknown", "version": ""}


def test_k3s_coredns_custom_configmap_goes_into_bundles():
    cms = [client.V1ConfigMap(metadata=client.V1ObjectMeta(name="coredns"), data={"Corefile": ".:53 {}"}),
           client.V1ConfigMap(metadata=client.V1ObjectMeta(name="coredns-custom"),
                              data={"example.server": "example.org:53 { forward . 8.8.8.8 }"}),
           client.V1ConfigMap(metadata=client.V1ObjectMeta(name="kube-root-ca.crt"), data={"ca.crt": "x"})]
    assert [cm.metadata.name for cm in cms if discovery.is_dns_configmap(cm)] == ["coredns", "coredns-custom"]


def test_kube_proxy_pods_are_looked_up_by_both_labels():
    assert set(discovery.PROXY_SELECTORS) == {"k8s-app=kube-proxy", "component=kube-proxy"}


def test_the_cluster_kube_proxy_image_from_daemonset_and_static_pods():
    kind = [pod(f"kube-proxy-{i}", [container("kube-proxy", "registry.k8s.io/kube-proxy:v1.33.0-beta.0.123_abcdef")])
            for i in range(2)]
    assert discovery.proxy_image(kind) == "registry.k8s.io/kube-proxy:v1.33.0-beta.0.123_abcdef"
    gke = [pod("kube-proxy-gke-pool-1-abc", [container("kube-proxy", "gke.gcr.io/kube-proxy-amd64:v1.29.8-gke.1211000")],
               labels={"component": "kube-proxy"})]
    assert discovery.proxy_image(gke) == "gke.gcr.io/kube-proxy-amd64:v1.29.8-gke.1211000"
    # Mid-upgrade: the running pods' image, not the one a pending pod waits for; sidecars are not kube-proxy.
    mixed = [pod("kube-proxy-a", [container("kube-proxy", "registry.k8s.io/kube-proxy:v1.32.3"),
                                  container("metrics", "quay.io/prometheus/node-exporter:v1.8.0")]),
             pod("kube-proxy-b", [container("kube-proxy", "registry.k8s.io/kube-proxy:v1.33.1")], phase="Pending")]
    assert discovery.proxy_image(mixed) == "registry.k8s.io/kube-proxy:v1.32.3"
    assert discovery.proxy_image([]) is None

"""Every pinned version of the local cluster, in one place: one Release per supported Kubernetes minor.

`use(minor)` selects a release for this process (up takes --kubernetes-version; status, down and the
tests take the one the running cluster records); the module-level names below are the selected one's.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    """What k8s.io/kubernetes at `kubernetes` pins, read from that module's own files."""
    kubernetes: str            # the newest patch of the minor served by the Go module proxy
    coredns: str               # cmd/kubeadm/app/constants/constants.go: CoreDNSVersion
    pause: str                 # the same file: PauseVersion
    agnhost: str               # test/utils/image/manifest.go: configs[Agnhost]
    jessie_dnsutils: str | None    # the same file: configs[JessieDnsutils] (gone in 1.36)
    distroless_iptables: str   # build/common.sh: __default_distroless_iptables_version (kube-proxy's base)
    go: str                    # the go directive of k8s.io/kubernetes's go.mod (the wrapper module's)

    @property
    def minor(self) -> str:
        return ".".join(self.kubernetes[1:].split(".")[:2])

    @property
    def minor_number(self) -> tuple[int, int]:
        major, minor = self.minor.split(".")
        return int(major), int(minor)


RELEASES = {r.minor: r for r in (
    Release("v1.33.13", "v1.12.0", "3.10", "2.53", "1.7", "v0.8.11", "1.24.0"),
    Release("v1.35.4", "v1.13.1", "3.10.1", "2.59", "1.7", "v0.8.9", "1.25.0"),
    Release("v1.36.3", "v1.14.2", "3.10.2", "2.63.0", None, "v0.9.6", "1.26.0"),
    Release("v1.37.2", "v1.14.6", "3.10.2", "2.66.1", None, "v0.9.9", "1.26.0"),
)}
DEFAULT_RELEASE = "1.37"          # the newest supported release
# image_contents.yaml quotes the upstream image definitions of this release; the images of other releases
# are assembled from the same lists with their own binaries (differences noted in that file).
CONTENTS_RELEASE = "1.33"
# The suite pins its agnhost (svc_conformance.manifests.DEFAULT_IMAGES); every local release carries it,
# built from the release that defines that tag.
SUITE_AGNHOST_TAG = "2.53"
SUITE_AGNHOST_RELEASE = "1.33"
AGNHOST_BASEIMAGE = "alpine:3.19"     # test/images/agnhost/BASEIMAGE of SUITE_AGNHOST_TAG


def use(minor: str | None) -> Release:
    """Select the release of this process; the names below follow it."""
    global RELEASE, KUBERNETES, STAGING, COREDNS, PAUSE_TAG, AGNHOST_TAG, JESSIE_DNSUTILS_TAG
    global DISTROLESS_IPTABLES_TAG, IMAGES
    minor = minor or DEFAULT_RELEASE
    if minor not in RELEASES:
        raise KeyError(f"Kubernetes {minor} is not a release of the local cluster "
                       f"(one of {', '.join(sorted(RELEASES))})")
    RELEASE = RELEASES[minor]
    KUBERNETES = RELEASE.kubernetes
    # Staging modules (k8s.io/api, client-go, ...) are published as v0.<minor>.<patch>.
    STAGING = "v0." + KUBERNETES[len("v1."):]
    COREDNS, PAUSE_TAG, AGNHOST_TAG = RELEASE.coredns, RELEASE.pause, RELEASE.agnhost
    JESSIE_DNSUTILS_TAG, DISTROLESS_IPTABLES_TAG = RELEASE.jessie_dnsutils, RELEASE.distroless_iptables
    # Image names are the ones real clusters use, so the suite's manifests are identical everywhere.
    IMAGES = {
        "pause": f"registry.k8s.io/pause:{PAUSE_TAG}",
        "agnhost": f"registry.k8s.io/e2e-test-images/agnhost:{AGNHOST_TAG}",
        "coredns": f"registry.k8s.io/coredns/coredns:{COREDNS}",
        "kube-proxy": f"registry.k8s.io/kube-proxy:{KUBERNETES}",
    }
    if JESSIE_DNSUTILS_TAG:
        # Not used by the suite: upstream e2e's DNS specs run it (benchmarks/upstream_e2e.py).
        IMAGES["jessie-dnsutils"] = f"registry.k8s.io/e2e-test-images/jessie-dnsutils:{JESSIE_DNSUTILS_TAG}"
    return RELEASE


def suite_agnhost_image() -> str | None:
    """The suite's agnhost, when the selected release's own agnhost is another tag."""
    if AGNHOST_TAG == SUITE_AGNHOST_TAG:
        return None
    return f"registry.k8s.io/e2e-test-images/agnhost:{SUITE_AGNHOST_TAG}"


use(DEFAULT_RELEASE)

# NetworkPolicy implementation of `up --network-policy` (the one kindnet embeds), its upstream image name.
KUBE_NETWORK_POLICIES = "v0.8.0"
# Overlay CNI of `up --cni flannel` (VXLAN), run per node as k3s embeds it.
FLANNEL = "v0.28.10"
OPTIONAL_IMAGES = {
    "kube-network-policies": f"registry.k8s.io/networking/kube-network-policies:{KUBE_NETWORK_POLICIES}",
}

# Kubernetes commands built from the k8s.io/kubernetes module.
K8S_COMMANDS = {
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
    "kubelet": "k8s.io/kubernetes/cmd/kubelet",
    "kube-proxy": "k8s.io/kubernetes/cmd/kube-proxy",
    "kubectl": "k8s.io/kubernetes/cmd/kubectl",
    "agnhost": "k8s.io/kubernetes/test/images/agnhost",
}

# Debian packages the cluster runs on (installed by .ci/run or `python -m localcluster install-deps`).
# The images take their programs from them too (image_contents.yaml: debian_packages of each image).
DEBIAN_PACKAGES = [
    "containerd", "runc", "containernetworking-plugins", "iptables", "nftables", "conntrack",
    "busybox", "netcat-openbsd", "curl", "iproute2", "etcd-server", "gcc", "libc6-dev", "patch",
    # kube-proxy image (distroless-iptables) and agnhost image (alpine + bind-tools, iperf, bash):
    "dash", "coreutils", "grep", "kmod", "ipset", "netbase", "bash", "bind9-dnsutils", "bind9-host",
    "iperf", "libc-bin",
    # jessie-dnsutils image (debian:jessie + dnsutils; essential packages, listed for the image's record):
    "sed", "findutils", "mawk", "hostname",
]

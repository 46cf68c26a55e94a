"""Every pinned version of the local cluster, in one place."""

KUBERNETES = "v1.33.13"
# Staging modules (k8s.io/api, client-go, ...) are published as v0.<minor>.<patch>.
STAGING = "v0." + KUBERNETES[len("v1."):]
COREDNS = "v1.12.0"          # the version kubeadm 1.33 deploys
PAUSE_TAG = "3.10"
AGNHOST_TAG = "2.53"         # k8s.io/kubernetes test/utils/image/manifest.go for 1.33
JESSIE_DNSUTILS_TAG = "1.7"  # the same manifest (JessieDnsutils)
# What the upstream images are built on (localcluster/image_contents.yaml lists their contents):
DISTROLESS_IPTABLES_TAG = "v0.8.11"   # kube-proxy's base: build/common.sh of KUBERNETES
AGNHOST_BASEIMAGE = "alpine:3.19"     # test/images/agnhost/BASEIMAGE of AGNHOST_TAG

# Image names are the ones real clusters use, so the suite's manifests are identical everywhere.
IMAGES = {
    "pause": f"registry.k8s.io/pause:{PAUSE_TAG}",
    "agnhost": f"registry.k8s.io/e2e-test-images/agnhost:{AGNHOST_TAG}",
    "coredns": f"registry.k8s.io/coredns/coredns:{COREDNS}",
    "kube-proxy": f"registry.k8s.io/kube-proxy:{KUBERNETES}",
    # Not used by the suite: upstream e2e's DNS specs run it (benchmarks/upstream_e2e.py).
    "jessie-dnsutils": f"registry.k8s.io/e2e-test-images/jessie-dnsutils:{JESSIE_DNSUTILS_TAG}",
}

# NetworkPolicy implementation of `up --network-policy` (the one kindnet embeds), its upstream image name.
KUBE_NETWORK_POLICIES = "v0.8.0"
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

"""Finding the cluster's DNS and kube-proxy pods as clusters really label them, and reading image refs.

Pure functions over client model objects (V1Service, V1Pod, V1ConfigMap), plus thin listings that take
a CoreV1Api. No label is assumed: cluster DNS is whatever the DNS Service in kube-system selects;
kube-proxy pods carry `k8s-app=kube-proxy` (kubeadm, kind, EKS) or `component=kube-proxy` (GKE's static
pods).
"""

from __future__ import annotations

from collections import Counter

SYSTEM_NS = "kube-system"
DNS_SERVICE_NAMES = ("kube-dns", "coredns", "rke2-coredns-rke2-coredns")   # preferred, in order
DNS_FALLBACK_SELECTOR = "k8s-app=kube-dns"         # when no Service serves port 53 (or it has no selector)
PROXY_SELECTORS = ("k8s-app=kube-proxy", "component=kube-proxy")
DNS_CONFIGMAP_NAMES = ("coredns-custom",)           # k3s: imported by its Corefile, holds the user's overrides


def image_version(ref: str) -> tuple[str, str]:
    """(repository, tag) of `[registry[:port]/]path/name[:tag][@sha256:...]`; no tag -> "" (a digest
    names content, not a version)."""
    name = ref.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    repo, sep, tag = last.partition(":")
    return (f"{head}/{repo}" if head else repo), (tag if sep else "")


def dns_service(services: list, nameserver: str | None = None):
    """The kube-system Service serving DNS (port 53): the one whose ClusterIP is the pods' nameserver
    when that is known, else a well-known name, else the first; None when there is none."""
    serving = [s for s in services
               if any(p.port == 53 for p in (s.spec.ports or [])) and s.spec.cluster_ip not in (None, "", "None")]
    if nameserver:
        for svc in serving:
            if nameserver in (svc.spec.cluster_ips or [svc.spec.cluster_ip]):
                return svc
    for name in DNS_SERVICE_NAMES:
        for svc in serving:
            if svc.metadata.name == name:
                return svc
    return serving[0] if serving else None


def selector_string(selector: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))


def dns_pod_selector(core, nameserver: str | None = None) -> str:
    """The label selector of the cluster DNS pods, from the DNS Service."""
    svc = dns_service(core.list_namespaced_service(SYSTEM_NS).items, nameserver)
    return selector_string(svc.spec.selector) if svc is not None and svc.spec.selector else DNS_FALLBACK_SELECTOR


def dns_implementation(pods: list) -> dict:
    """{"implementation", "version"} of the first DNS pod: its container that serves port 53 (else the first)."""
    for pod in pods:
        containers = pod.spec.containers or []
        serving = [c for c in containers if any(p.container_port == 53 for p in (c.ports or []))]
        if not (serving or containers):
            continue
        repo, tag = image_version((serving or containers)[0].image)
        base = repo.rsplit("/", 1)[-1]
        return {"implementation": "CoreDNS" if "coredns" in repo.lower() else base, "version": tag.lstrip("v")}
    return {"implementation": "unknown", "version": ""}


def is_dns_configmap(cm) -> bool:
    return "Corefile" in (cm.data or {}) or cm.metadata.name in DNS_CONFIGMAP_NAMES


def kube_proxy_pods(core) -> list:
    """kube-proxy pods under either label, each once."""
    seen, pods = set(), []
    for selector in PROXY_SELECTORS:
        for pod in core.list_namespaced_pod(SYSTEM_NS, label_selector=selector).items:
            if pod.metadata.name not in seen:
                seen.add(pod.metadata.name)
                pods.append(pod)
    return pods


def _is_proxy_container(container) -> bool:
    repo = image_version(container.image or "")[0].rsplit("/", 1)[-1]
    return container.name.endswith("kube-proxy") or repo.startswith("kube-proxy")


def proxy_image(pods: list) -> str | None:
    """The image the cluster's kube-proxy pods run (the most common among running ones); None if none."""
    running = [p for p in pods if (p.status and p.status.phase) == "Running"] or pods
    images = Counter(c.image for p in running for c in (p.spec.containers or []) if c.image and _is_proxy_container(c))
    return images.most_common(1)[0][0] if images else None

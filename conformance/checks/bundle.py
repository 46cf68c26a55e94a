"""The logs bundle of a scenario with a failed or blocked check: what a person needs to see why, as one
archive under the report dir (``bundles/<scenario>.tar.gz``), linked from each such check.

Contents: the namespace's events, its pods (spec and status) with their containers' logs, its Services,
EndpointSlices and Endpoints; the cluster DNS Corefile and logs; kube-proxy's pod logs (or a note when
kube-proxy runs outside pods); each node's rule dump from the node inspector when one runs. Every part
that cannot be read says why inside the archive - collecting never fails the run.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

from kubernetes.client.rest import ApiException

from svc_conformance.cluster import discovery
from svc_conformance.cluster.kube import Cluster

LOG_LINES = 500                    # per container: the recent past is what explains a failure
BUNDLE_DIR = "bundles"
CONTENTS = ("namespace events, pod descriptions and logs, Services/EndpointSlices/Endpoints, the cluster DNS "
            "Corefile and logs, kube-proxy logs, node rule dumps")


def relative_path(scenario: str) -> str:
    return f"{BUNDLE_DIR}/{scenario}.tar.gz"


def _yaml_dump(api_client, objects) -> str:
    import yaml
    return yaml.safe_dump_all([api_client.sanitize_for_serialization(o) for o in objects], sort_keys=False)


def _try(parts: dict, name: str, read) -> None:
    try:
        parts[name] = read()
    except ApiException as err:
        parts[name] = f"could not read: {err.status} {err.reason}\n"
    except Exception as err:  # noqa: BLE001 - a bundle says what it could not collect, never fails the run
        parts[name] = f"could not read: {type(err).__name__}: {err}\n"


def _events(cluster: Cluster, namespace: str) -> str:
    events = cluster.core.list_namespaced_event(namespace).items
    events.sort(key=lambda e: str(e.last_timestamp or e.event_time or e.metadata.creation_timestamp))
    return "".join(f"{e.last_timestamp or e.event_time} {e.type} {e.reason} "
                   f"{e.involved_object.kind}/{e.involved_object.name}: {e.message}\n" for e in events)


def _pod_logs(cluster: Cluster, namespace: str, selector: str | None, prefix: str, parts: dict) -> list:
    pods = cluster.core.list_namespaced_pod(namespace, label_selector=selector).items
    _logs(cluster, namespace, pods, prefix, parts)
    return pods


def _logs(cluster: Cluster, namespace: str, pods: list, prefix: str, parts: dict) -> None:
    for pod in pods:
        for container in pod.spec.containers:
            _try(parts, f"{prefix}{pod.metadata.name}_{container.name}.log",
                 lambda p=pod, c=container: cluster.core.read_namespaced_pod_log(
                     p.metadata.name, namespace, container=c.name, tail_lines=LOG_LINES) or "(empty log)\n")


def collect(cluster: Cluster, namespace: str, inspector=None) -> dict[str, str]:
    """{path in the archive: text}."""
    parts: dict[str, str] = {}
    api = cluster.api
    _try(parts, "namespace/events.txt", lambda: _events(cluster, namespace))
    _try(parts, "namespace/pods.yaml",
         lambda: _yaml_dump(api, _pod_logs(cluster, namespace, None, "namespace/logs/", parts)))
    _try(parts, "namespace/services.yaml",
         lambda: _yaml_dump(api, cluster.core.list_namespaced_service(namespace).items))
    _try(parts, "namespace/endpointslices.yaml",
         lambda: _yaml_dump(api, cluster.discovery.list_namespaced_endpoint_slice(namespace).items))
    _try(parts, "namespace/endpoints.yaml",
         lambda: _yaml_dump(api, cluster.core.list_namespaced_endpoints(namespace).items))
    _try(parts, "cluster-dns/configmaps.yaml", lambda: _yaml_dump(api, [
        cm for cm in cluster.core.list_namespaced_config_map(discovery.SYSTEM_NS).items
        if discovery.is_dns_configmap(cm)]))
    _try(parts, "cluster-dns/pods.yaml", lambda: _yaml_dump(api, _pod_logs(
        cluster, discovery.SYSTEM_NS, discovery.dns_pod_selector(cluster.core), "cluster-dns/", parts)))

    def kube_proxy() -> str:
        pods = discovery.kube_proxy_pods(cluster.core)
        _logs(cluster, discovery.SYSTEM_NS, pods, "kube-proxy/", parts)
        return _yaml_dump(api, pods) if pods else (
            f"no kube-proxy pods ({' or '.join(discovery.PROXY_SELECTORS)}) in kube-system: "
            "kube-proxy runs outside pods here, or is replaced\n")
    _try(parts, "kube-proxy/pods.yaml", kube_proxy)
    if inspector is not None:
        def dumps() -> str:
            return "".join(f"===== node {state.node} ({state.mode})\n"
                           + "".join(f"----- {key}\n{body}\n" for key, body in state.sections.items())
                           for state in inspector.dump())
        _try(parts, "nodes/rule-dumps.txt", dumps)
    else:
        parts["nodes/rule-dumps.txt"] = "no node inspector ran in this process (no PROXY check needed it)\n"
    return parts


def write(out: Path, parts: dict[str, str], meta: dict) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    parts = {"bundle.json": json.dumps(meta, indent=1, default=str) + "\n", **parts}
    with tarfile.open(out, "w:gz") as tar:
        for name, text in parts.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{out.name.removesuffix('.tar.gz')}/{name}")
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return out

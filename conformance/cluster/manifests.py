"""Manifests as data: load `manifests/<name>.yaml`, substitute images, label everything with the run,
apply the pod policy (conformance/cluster/podspec.py) to every pod spec."""

import copy
import re
from importlib import resources
from string import Template

import yaml

from svc_conformance.cluster import podspec

# manifests/ of the repository, installed as the package `svc_conformance.manifest_data`.
MANIFEST_DIR = resources.files("svc_conformance.manifest_data")

# Image roles -> upstream names; `--image-registry` and `--image ROLE=REF` rewrite them.
DEFAULT_IMAGES = {
    "AGNHOST": "registry.k8s.io/e2e-test-images/agnhost:2.53",
    "INSPECTOR": "registry.k8s.io/kube-proxy:{server_version}",   # has iptables, nft and a shell
}

LABEL_RUN = "svc-conformance.io/run-id"
LABEL_MANAGED = "app.kubernetes.io/managed-by"
MANAGED_BY = "svc-conformance"


_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")
# An upstream pre-release or a build from a source tree: `v1.35.0-alpha.0.1+abc`, `v1.33.0-beta.0.123+abcdef`.
_PRERELEASE_RE = re.compile(r"^v?\d+\.\d+\.\d+-(alpha|beta|rc)\.")


def upstream_tag(server_version: str) -> str:
    """The upstream release tag of a server version: distributions add suffixes that are no tag
    (`v1.31.5+k3s1`, `v1.30.4-eks-a1b2c3`, `v1.29.8-gke.1`) -> `v1.31.5`."""
    m = _VERSION_RE.match(server_version.strip())
    if not m:
        raise ValueError(f"server version {server_version!r} is not major.minor.patch "
                         "(use --image inspector=REF)")
    return "v{}.{}.{}".format(*m.groups())


def inspector_choice(registry: str | None, overrides: dict[str, str], server_version: str,
                     cluster_proxy_image: str | None = None) -> tuple[str, str]:
    """(image, why) of the node inspector: `--image inspector=REF`, else the image the cluster's own
    kube-proxy pods run (its nodes have it, whatever registry or build it comes from: never rewritten),
    else kube-proxy of the server's release, under `--image-registry` if given."""
    chosen = overrides.get("inspector", overrides.get("INSPECTOR"))
    if chosen:
        return chosen, "--image inspector"
    if cluster_proxy_image:
        return cluster_proxy_image, "the cluster's kube-proxy pods"
    ref = DEFAULT_IMAGES["INSPECTOR"].format(server_version=upstream_tag(server_version))
    if registry:
        ref = registry.rstrip("/") + "/" + ref.split("/", 1)[1]
    why = f"the server version {server_version}"
    if _PRERELEASE_RE.match(server_version.strip()):
        # Pre-release tags are not published as kube-proxy images; the release tag is the nearest guess.
        why += (f" is a pre-release and no kube-proxy pod is visible: its release tag {upstream_tag(server_version)}"
                " may not exist yet (use --image inspector=REF)")
    return ref, why


def images(registry: str | None, overrides: dict[str, str], server_version: str,
           cluster_proxy_image: str | None = None) -> dict[str, str]:
    result = {}
    for role, ref in DEFAULT_IMAGES.items():
        if role == "INSPECTOR":
            result[role] = inspector_choice(registry, overrides, server_version, cluster_proxy_image)[0]
            continue
        if registry:
            ref = registry.rstrip("/") + "/" + ref.split("/", 1)[1]
        result[role] = overrides.get(role.lower(), overrides.get(role, ref))
    return result


def load(name: str, images_by_role: dict[str, str], run_id: str,
         policy: podspec.PodPolicy = podspec.PodPolicy()) -> list[dict]:
    text = Template((MANIFEST_DIR / f"{name}.yaml").read_text()).substitute(images_by_role)
    docs = [d for d in yaml.safe_load_all(text) if d]
    return [podspec.apply(label(d, run_id), policy) for d in docs]


def label(doc: dict, run_id: str) -> dict:
    doc = copy.deepcopy(doc)
    labels = doc.setdefault("metadata", {}).setdefault("labels", {}) or {}
    labels.update({LABEL_RUN: run_id, LABEL_MANAGED: MANAGED_BY})
    doc["metadata"]["labels"] = labels
    return doc

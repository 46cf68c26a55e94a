"""Manifests as data: load `manifests/<name>.yaml`, substitute images, label everything with the run."""

import copy
from pathlib import Path
from string import Template

import yaml

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "manifests"

# Image roles -> upstream names; `--image-registry` and `--image ROLE=REF` rewrite them.
DEFAULT_IMAGES = {
    "AGNHOST": "registry.k8s.io/e2e-test-images/agnhost:2.53",
    "INSPECTOR": "registry.k8s.io/kube-proxy:{server_version}",   # has iptables, nft and a shell
}

LABEL_RUN = "svc-conformance.io/run-id"
LABEL_MANAGED = "app.kubernetes.io/managed-by"
MANAGED_BY = "svc-conformance"


def images(registry: str | None, overrides: dict[str, str], server_version: str) -> dict[str, str]:
    result = {}
    for role, ref in DEFAULT_IMAGES.items():
        ref = ref.format(server_version=server_version)
        if registry:
            ref = registry.rstrip("/") + "/" + ref.split("/", 1)[1]
        result[role] = overrides.get(role.lower(), overrides.get(role, ref))
    return result


def load(name: str, images_by_role: dict[str, str], run_id: str) -> list[dict]:
    text = Template((MANIFEST_DIR / f"{name}.yaml").read_text()).substitute(images_by_role)
    docs = [d for d in yaml.safe_load_all(text) if d]
    return [label(d, run_id) for d in docs]


def label(doc: dict, run_id: str) -> dict:
    doc = copy.deepcopy(doc)
    labels = doc.setdefault("metadata", {}).setdefault("labels", {}) or {}
    labels.update({LABEL_RUN: run_id, LABEL_MANAGED: MANAGED_BY})
    doc["metadata"]["labels"] = labels
    return doc

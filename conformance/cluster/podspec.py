"""The pod policy: what every test pod spec gets, whatever its manifest says.

Applied to each pod spec of a scenario's documents at load time (`manifests.load`), so no manifest can
forget it: Linux only (agnhost is a Linux image; Windows node pools exist on EKS and AKS), the user's
`--node-selector` and `--toleration`s (clusters whose schedulable nodes are all tainted or labelled for
tenants), and the pod's UID (`--run-as-user`: OpenShift's restricted SCC assigns UIDs per namespace and
rejects any other). The node inspector is no test pod: it runs on every Linux node and tolerates every
taint (`inspector.daemonset`).
"""

import copy
import re
from dataclasses import dataclass

OS_LABEL = "kubernetes.io/os"
OS = "linux"
DEFAULT_UID = 65534           # nobody: the UID the manifests were written for
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# Where a document kind keeps its pod spec.
POD_SPEC_PATHS = {"Pod": ("spec",)}
POD_SPEC_PATHS.update({kind: ("spec", "template", "spec") for kind in
                       ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job")})
POD_SPEC_PATHS["CronJob"] = ("spec", "jobTemplate", "spec", "template", "spec")

# Label keys are qualified names (optional DNS-subdomain prefix); values are 0-63 chars (API validation).
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_KEY_RE = re.compile(rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_NAME}$")
_VALUE_RE = re.compile(rf"^({_NAME})?$")


@dataclass(frozen=True)
class PodPolicy:
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[tuple[str, str | None, str], ...] = ()   # (key, value or None = Exists, effect)
    run_as_user: int | None = DEFAULT_UID                     # None: "auto", the cluster assigns the UID


def parse_node_selector(items) -> tuple[tuple[str, str], ...]:
    """["K=V", ...] -> ((K, V), ...); ValueError (one line) on bad input."""
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _KEY_RE.match(key) or not _VALUE_RE.match(value):
            raise ValueError(f"--node-selector takes KEY=VALUE with a label key and value, got {item!r}")
        if key == OS_LABEL and value != OS:
            raise ValueError(f"--node-selector {item}: the test pods run Linux images ({OS_LABEL}={OS})")
        if found.get(key, value) != value:
            raise ValueError(f"--node-selector {key} given twice: {found[key]!r} and {value!r}")
        found[key] = value
    return tuple(found.items())


def parse_toleration(item: str) -> tuple[str, str | None, str]:
    """"KEY=VALUE:EFFECT" (operator Equal) or "KEY:EFFECT" (operator Exists) -> (key, value, effect)."""
    rest, sep, effect = item.rpartition(":")
    key, eq, value = rest.partition("=")
    key, value, effect = key.strip(), value.strip(), effect.strip()
    if not sep or effect not in EFFECTS or not _KEY_RE.match(key) or (eq and not _VALUE_RE.match(value)):
        raise ValueError(f"--toleration takes KEY[=VALUE]:EFFECT with EFFECT one of {', '.join(EFFECTS)}, "
                         f"got {item!r}")
    return key, (value if eq else None), effect


def parse_run_as_user(text: str) -> int | None:
    """"auto" -> None (no fixed UID); "N" -> N (not 0: the pods require runAsNonRoot)."""
    text = str(text).strip()
    if text == "auto":
        return None
    if not text.isdigit() or not 0 < int(text) <= 2147483647:
        raise ValueError(f"--run-as-user takes auto or a UID from 1 to 2147483647, got {text!r}")
    return int(text)


def pod_specs(doc: dict) -> list[dict]:
    """The pod specs inside a document (the dicts themselves, to change in place)."""
    path = POD_SPEC_PATHS.get(doc.get("kind"))
    node = doc
    for step in path or ():
        node = node.get(step) if isinstance(node, dict) else None
    return [node] if path and isinstance(node, dict) else []


def toleration(key: str, value: str | None, effect: str) -> dict:
    if value is None:
        return {"key": key, "operator": "Exists", "effect": effect}
    return {"key": key, "operator": "Equal", "value": value, "effect": effect}


def apply(doc: dict, policy: PodPolicy) -> dict:
    """A copy of doc with the policy applied to each of its pod specs (other kinds unchanged)."""
    doc = copy.deepcopy(doc)
    for spec in pod_specs(doc):
        spec["nodeSelector"] = {**(spec.get("nodeSelector") or {}), OS_LABEL: OS, **dict(policy.node_selector)}
        if policy.tolerations:
            spec["tolerations"] = (spec.get("tolerations") or []) + [toleration(*t) for t in policy.tolerations]
        contexts = [spec.setdefault("securityContext", {})]
        contexts += [c["securityContext"] for kind in ("initContainers", "containers")
                     for c in spec.get(kind) or [] if c.get("securityContext")]
        for i, sc in enumerate(contexts):
            if policy.run_as_user is None:
                sc.pop("runAsUser", None)       # the cluster assigns them (OpenShift SCC: from the
                sc.pop("runAsGroup", None)      # namespace's range); runAsNonRoot stays
            elif i == 0 or "runAsUser" in sc or "runAsGroup" in sc:
                sc.update(runAsUser=policy.run_as_user, runAsGroup=policy.run_as_user)
    return doc

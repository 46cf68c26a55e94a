"""Finding and vetting the kubeconfig, and the setup errors' exit statuses: no Kubernetes client here,
so `svc-conformance run` decides what to start without importing it (0.6 s, 1.7 s for client 37)."""

import os
from pathlib import Path

# localcluster.paths.ADMIN_KUBECONFIG, without importing localcluster (an optional extra).
LOCAL_CLUSTER_KUBECONFIG = Path(os.environ.get("LOCALCLUSTER_STATE", "/var/lib/localcluster")) / "admin.kubeconfig"

# Distinct exit statuses for bad input (documented in README).
EXIT_KUBECONFIG = 10
EXIT_UNREACHABLE = 11
EXIT_CREDENTIALS = 12
EXIT_RBAC = 13
EXIT_ADMISSION = 14
EXIT_IMAGE = 15
EXIT_LOCAL_CLUSTER = 16      # no kubeconfig, and the local cluster is up but unhealthy


class SetupError(Exception):
    """The environment, not the cluster's conformance, stops the run; one line, one exit status."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def resolve_kubeconfigs(explicit: str | None) -> list[str]:
    """--kubeconfig, else every existing file of $KUBECONFIG (as kubectl: missing ones are skipped),
    else ~/.kube/config, else the project's local cluster."""
    if explicit:
        if Path(explicit).is_file():
            return [explicit]
        raise SetupError(f"kubeconfig {explicit} does not exist", EXIT_KUBECONFIG)
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    present = list(dict.fromkeys(p for p in listed if Path(p).is_file()))
    if present:
        return present
    for path in (str(Path.home() / ".kube" / "config"), str(LOCAL_CLUSTER_KUBECONFIG)):
        if Path(path).is_file():
            return [path]
    raise SetupError("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and no local cluster is up "
                     "(python -m localcluster up)", EXIT_KUBECONFIG)


def resolve_kubeconfig(explicit: str | None) -> str:
    """The kubeconfig file(s) in use, as one $KUBECONFIG-style string (names them in messages)."""
    return os.pathsep.join(resolve_kubeconfigs(explicit))


def require_kubeconfig_shape(path: str) -> dict:
    """Name a file that is not a kubeconfig as such, before the client library fails on it obscurely."""
    import yaml
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise SetupError(f"kubeconfig {path} cannot be read: {err.strerror}", EXIT_KUBECONFIG) from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" (line {where.line + 1})" if where else ""
        raise SetupError(f"kubeconfig {path} is not valid YAML{at}", EXIT_KUBECONFIG) from None
    if not isinstance(doc, dict) or not any(k in doc for k in ("clusters", "contexts", "users")):
        held = "an empty file" if doc is None else f"a YAML {type(doc).__name__}"
        raise SetupError(f"{path} is not a kubeconfig (expected a mapping with clusters, contexts and users; "
                         f"it holds {held})", EXIT_KUBECONFIG)
    for key in ("clusters", "contexts", "users"):
        entries = doc.get(key) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("name") for e in entries):
            raise SetupError(f"kubeconfig {path} is unusable: {key} must be a list of named entries",
                             EXIT_KUBECONFIG)
    return doc


# File references kubectl resolves relative to the kubeconfig that holds them (ResolveLocalPaths).
_PATH_FIELDS = {"clusters": ("cluster", ("certificate-authority",)),
                "users": ("user", ("client-certificate", "client-key", "tokenFile"))}


def _absolute(entry: dict, section: str, fields: tuple[str, ...], base: Path) -> dict:
    body = dict(entry.get(section) or {})
    for field in fields:
        if isinstance(body.get(field), str) and body[field] and not Path(body[field]).is_absolute():
            body[field] = str(base / body[field])
    command = (body.get("exec") or {}).get("command") if section == "user" else None
    if isinstance(command, str) and "/" in command and not Path(command).is_absolute():
        body["exec"] = {**body["exec"], "command": str(base / command)}      # kubectl: only a path, not a name
    return {**entry, section: body}


def merge_kubeconfigs(paths: list[str]) -> dict:
    """One kubeconfig from several, as kubectl merges $KUBECONFIG: the first file to name a cluster, user
    or context wins, current-context comes from the first file that sets it, and file references are
    made absolute against the directory of the file they came from."""
    merged: dict = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    seen: dict[str, set] = {"clusters": set(), "users": set(), "contexts": set()}
    for path in paths:
        doc = require_kubeconfig_shape(path)
        base = Path(path).resolve().parent
        for key in ("clusters", "users", "contexts"):
            for entry in doc.get(key) or []:
                if entry["name"] in seen[key]:
                    continue
                seen[key].add(entry["name"])
                if key in _PATH_FIELDS:
                    entry = _absolute(entry, *_PATH_FIELDS[key], base)
                merged[key].append(entry)
        if doc.get("current-context") and not merged.get("current-context"):
            merged["current-context"] = doc["current-context"]
    return merged

"""Finding and vetting the kubeconfig, and the setup errors' exit statuses: no Kubernetes client here,
so `svc-conformance run` decides what to start without importing it (0.6 s, 1.7 s for client 37)."""

import os
from pathlib import Path

LOCAL_CLUSTER_KUBECONFIG = Path("/var/lib/localcluster/admin.kubeconfig")

# Distinct exit statuses for bad input (documented in README).
EXIT_KUBECONFIG = 10
EXIT_UNREACHABLE = 11
EXIT_CREDENTIALS = 12
EXIT_RBAC = 13
EXIT_ADMISSION = 14
EXIT_IMAGE = 15


class SetupError(Exception):
    """The environment, not the cluster's conformance, stops the run; one line, one exit status."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def resolve_kubeconfig(explicit: str | None) -> str:
    """--kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the project's local cluster."""
    candidates = [explicit] if explicit else []
    if not explicit:
        candidates += [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
        candidates += [str(Path.home() / ".kube" / "config"), str(LOCAL_CLUSTER_KUBECONFIG)]
    for path in candidates:
        if Path(path).is_file():
            return path
    if explicit:
        raise SetupError(f"kubeconfig {explicit} does not exist", EXIT_KUBECONFIG)
    raise SetupError("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and no local cluster is up "
                     "(python -m localcluster up)", EXIT_KUBECONFIG)


def require_kubeconfig_shape(path: str) -> None:
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

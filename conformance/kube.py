"""Thin access to the cluster: connection (with clear errors), applying manifests, exec into pods."""

import os
from dataclasses import dataclass
from pathlib import Path

import urllib3
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream import stream

from svc_conformance import phases

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


def _require_kubeconfig_shape(path: str) -> None:
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


@dataclass
class Cluster:
    api: client.ApiClient
    kubeconfig: str
    context: str | None

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def discovery(self) -> client.DiscoveryV1Api:
        return client.DiscoveryV1Api(self.api)

    def dynamic(self) -> dynamic.DynamicClient:
        return dynamic.DynamicClient(self.api)


def connect(kubeconfig: str | None, context: str | None, timeout_s: float = 10.0) -> Cluster:
    path = resolve_kubeconfig(kubeconfig)
    _require_kubeconfig_shape(path)
    try:
        api = config.new_client_from_config(config_file=path, context=context, persist_config=False)
    except ConfigException as err:
        msg = str(err).splitlines()[0]
        raise SetupError(f"kubeconfig {path} is unusable: {msg}", EXIT_KUBECONFIG) from None
    except Exception as err:  # noqa: BLE001 - yaml or file errors from a broken kubeconfig
        detail = " ".join(str(err).split())
        raise SetupError(f"kubeconfig {path} is unusable: {type(err).__name__}: {detail}", EXIT_KUBECONFIG) from None
    api.configuration.retries = 1
    cluster = Cluster(api, path, context)
    try:
        client.VersionApi(api).get_code(_request_timeout=timeout_s)
    except ApiException as err:
        if err.status in (401,):
            raise SetupError(f"the API server rejected the credentials in {path} (401: expired or invalid)",
                             EXIT_CREDENTIALS) from None
        raise SetupError(f"the API server answered {err.status} {err.reason} to /version", EXIT_UNREACHABLE) from None
    except (urllib3.exceptions.HTTPError, OSError) as err:
        host = api.configuration.host
        cause = getattr(err, "reason", None) or err
        raise SetupError(f"the API server {host} is unreachable: {' '.join(str(cause).split())[:200]}",
                         EXIT_UNREACHABLE) from None
    return cluster


def create_object(cluster: Cluster, doc: dict, namespace: str) -> dict:
    resource = cluster.dynamic().resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    if resource.namespaced:
        return resource.create(body=doc, namespace=namespace).to_dict()
    return resource.create(body=doc).to_dict()


@dataclass
class ExecResult:
    returncode: int | None      # None: the command did not finish within the timeout
    stdout: str
    stderr: str


@phases.timed("exec")
def exec_with_status(cluster: Cluster, namespace: str, pod: str, argv: list[str],
                     timeout_s: float = 30.0) -> ExecResult:
    """Run argv in the pod; its exit status (from the exec error channel), stdout and stderr."""
    ws = stream(client.CoreV1Api(cluster.api).connect_get_namespaced_pod_exec, pod, namespace,
                command=argv, stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    try:
        ws.run_forever(timeout=timeout_s)
        out = ws.read_stdout() if ws.peek_stdout() else ""
        err = ws.read_stderr() if ws.peek_stderr() else ""
        try:
            code = ws.returncode
        except (KeyError, IndexError, TypeError, ValueError):
            code = -1           # an error channel we cannot read is no success
        return ExecResult(code, out, err)
    finally:
        ws.close()


@phases.timed("exec")
def exec_in_pod(cluster: Cluster, namespace: str, pod: str, argv: list[str], timeout_s: float = 30.0) -> str:
    """Run argv in the pod; return its stdout (stderr kept apart so it cannot corrupt relayed data)."""
    ws = stream(client.CoreV1Api(cluster.api).connect_get_namespaced_pod_exec, pod, namespace,
                command=argv, stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    try:
        ws.run_forever(timeout=timeout_s)
        return ws.read_stdout() if ws.peek_stdout() else ""
    finally:
        ws.close()

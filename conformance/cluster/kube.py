"""Thin access to the cluster: connection (with clear errors), applying manifests, exec into pods."""

import os
from dataclasses import dataclass

import urllib3
import websocket
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream import stream

from svc_conformance.core import phases
# Re-exported: the rest of the suite names them kube.SetupError, kube.EXIT_*, ...
from svc_conformance.cluster.kubeconfig import (EXIT_ADMISSION, EXIT_CREDENTIALS, EXIT_IMAGE, EXIT_KUBECONFIG,  # noqa: F401
                                                EXIT_RBAC, EXIT_UNREACHABLE, LOCAL_CLUSTER_KUBECONFIG, SetupError,
                                                merge_kubeconfigs, require_kubeconfig_shape, resolve_kubeconfig,
                                                resolve_kubeconfigs)


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


def api_client(kubeconfig: str | None, context: str | None) -> tuple[client.ApiClient, str]:
    """The client for the kubeconfig file(s) in use (several merged as kubectl does) and their names;
    contacts nothing."""
    files = resolve_kubeconfigs(kubeconfig)
    path = os.pathsep.join(files)      # names the file(s) in messages
    merged = merge_kubeconfigs(files)       # relative file references already made absolute per file
    try:
        return config.new_client_from_config_dict(merged, context=context, persist_config=False), path
    except ConfigException as err:
        msg = str(err).splitlines()[0]
        raise SetupError(f"kubeconfig {path} is unusable: {msg}", EXIT_KUBECONFIG) from None
    except Exception as err:  # noqa: BLE001 - yaml or file errors from a broken kubeconfig
        detail = " ".join(str(err).split())
        raise SetupError(f"kubeconfig {path} is unusable: {type(err).__name__}: {detail}", EXIT_KUBECONFIG) from None


def connect(kubeconfig: str | None, context: str | None, timeout_s: float = 10.0) -> Cluster:
    api, path = api_client(kubeconfig, context)
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
    bound_requests(api)         # after the preflight: bad input gets its answer at once, not after retries
    return cluster


# Every REST call gets a deadline: one stalled request must not hang the run (connect, read seconds).
REQUEST_TIMEOUT_S = (10, 60)
# The exec (websocket) upgrade: websocket-client connects with no timeout of its own.
EXEC_HANDSHAKE_TIMEOUT_S = 30


def api_retries() -> urllib3.Retry:
    """Retries inside the client, with backoff (about 30 s in all): a refused or reset connection (the
    API server restarting), a 429 from API Priority and Fairness (its Retry-After is honoured) and a
    5xx. POST is included: a create that was applied before the connection broke comes back as 409,
    which the callers that create take as "already there" when the object is the run's own."""
    return urllib3.Retry(total=8, connect=8, read=4, status=8, other=2, backoff_factor=0.5, backoff_max=8,
                         status_forcelist=(429, 500, 502, 503, 504), raise_on_status=False,
                         allowed_methods=frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH"}))


def bound_requests(api: client.ApiClient) -> None:
    """Retries with backoff and a timeout for every request the suite makes through this client."""
    api.configuration.retries = api_retries()
    api.rest_client = type(api.rest_client)(api.configuration)     # the pool is built with the retries
    call_api = api.call_api

    def call_with_timeout(*args, **kwargs):
        if kwargs.get("_request_timeout") is None:
            kwargs["_request_timeout"] = REQUEST_TIMEOUT_S
        try:
            return call_api(*args, **kwargs)
        except AttributeError as err:
            # The client decodes the body of every ApiException it passes on; a failed exec upgrade
            # (API server down) has none, so the real error surfaces as "'NoneType' object has no
            # attribute 'decode'". Give back the error it hid, so it is judged as what it is.
            hidden = err.__context__
            if isinstance(hidden, ApiException) and hidden.body is None:
                raise hidden from None
            raise
    api.call_api = call_with_timeout
    websocket.setdefaulttimeout(EXEC_HANDSHAKE_TIMEOUT_S)


RUN_LABEL = "svc-conformance.io/run-id"


def create_object(cluster: Cluster, doc: dict, namespace: str) -> dict:
    resource = cluster.dynamic().resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    where = {"namespace": namespace} if resource.namespaced else {}
    try:
        return resource.create(body=doc, **where).to_dict()
    except ApiException as err:
        run = (doc.get("metadata", {}).get("labels") or {}).get(RUN_LABEL)
        if err.status != 409 or not run:
            raise
        # A create retried after a broken connection finds the object it made: the run's own is fine.
        found = resource.get(name=doc["metadata"]["name"], **where).to_dict()
        if (found.get("metadata", {}).get("labels") or {}).get(RUN_LABEL) != run:
            raise
        return found


@dataclass
class ExecResult:
    returncode: int | None      # None: the command did not finish within the timeout
    stdout: str
    stderr: str


def exec_kwargs(argv: list[str], container: str, stdin: bool = False) -> dict:
    """Arguments of connect_get_namespaced_pod_exec. The container is always named: a sidecar a mesh
    or a policy engine adds makes an unnamed exec fail ("a container name must be specified")."""
    if not container:
        raise ValueError("exec needs a container name")
    return {"command": argv, "container": container, "stderr": True, "stdin": stdin, "stdout": True,
            "tty": False, "_preload_content": False}


@phases.timed("exec")
def exec_with_status(cluster: Cluster, namespace: str, pod: str, argv: list[str],
                     timeout_s: float = 30.0, *, container: str) -> ExecResult:
    """Run argv in the pod's container; its exit status (from the exec error channel), stdout and stderr."""
    ws = stream(client.CoreV1Api(cluster.api).connect_get_namespaced_pod_exec, pod, namespace,
                **exec_kwargs(argv, container))
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

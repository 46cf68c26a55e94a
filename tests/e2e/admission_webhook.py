"""A small mutating admission webhook, as a mesh or OpenShift's SCC admission would mutate pods, served
over TLS from a thread on the host (the local cluster's kube-apiserver is a host process: it reaches
https://127.0.0.1:<port>). Pure patch logic first (unit-tested), then the server and its certificates."""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SIDECAR = "mesh-proxy"


def sidecar_image() -> str:
    """The local cluster's pause image, already in every node's containerd: no pull."""
    from localcluster import versions
    return versions.IMAGES["pause"]
UID_RANGE = (1000660000, 1000669999)              # one namespace's range under OpenShift's restricted SCC


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")     # RFC 6901


def _containers(pod: dict):
    """(JSON pointer, container) of every container and init container."""
    spec = pod.get("spec") or {}
    for field in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(field) or []):
            yield f"/spec/{field}/{i}", c


def _set(ops: list, parent_path: str, parent: dict | None, key: str, value) -> None:
    """Set parent[key] (creating parent when absent) as JSONPatch ops."""
    if parent is None:
        ops.append({"op": "add", "path": parent_path, "value": {key: value}})
    else:
        ops.append({"op": "add", "path": f"{parent_path}/{_escape(key)}", "value": value})


def mesh_patch(pod: dict) -> list[dict]:
    """A mesh's sidecar, and readOnlyRootFilesystem on every container (as policy engines enforce).
    Host-network pods are left alone: real meshes do not inject them (the node inspector is one)."""
    spec = pod.get("spec") or {}
    if spec.get("hostNetwork"):
        return []
    ops: list[dict] = []
    for path, c in _containers(pod):
        _set(ops, f"{path}/securityContext", c.get("securityContext"), "readOnlyRootFilesystem", True)
    sidecar = {"name": SIDECAR, "image": sidecar_image(), "imagePullPolicy": "IfNotPresent",
               "resources": {"requests": {"cpu": "1m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}},
               # Restricted PodSecurity compliant, like the suite's own containers; its own UID, as
               # Istio's proxy has (1337), whatever the image or the pod say.
               "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                   "runAsNonRoot": True, "runAsUser": 1337, "readOnlyRootFilesystem": True,
                                   "seccompProfile": {"type": "RuntimeDefault"}}}
    ops.append({"op": "add", "path": "/spec/containers/-", "value": sidecar})
    return ops


def openshift_uid_patch(pod: dict) -> list[dict]:
    """What the restricted SCC assigns when the pod names no UID: the first UID of the namespace's
    range as runAsUser (and runAsGroup, fsGroup). A UID the pod names is kept (the VAP judges it)."""
    spec = pod.get("spec") or {}
    if spec.get("hostNetwork"):
        return []       # the inspector: the privileged SCC lets it run as root
    ctx = spec.get("securityContext")
    uid = UID_RANGE[0]
    ops: list[dict] = []
    if ctx is None:
        return [{"op": "add", "path": "/spec/securityContext",
                 "value": {"runAsUser": uid, "runAsGroup": uid, "fsGroup": uid}}]
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        if key not in ctx:
            _set(ops, "/spec/securityContext", ctx, key, uid)
    return ops


def host_network_stripped_patch(pod: dict) -> list[dict]:
    """What a sandboxing policy (or a mistaken mutation) does to a host-network pod: it gets a network
    namespace of its own, empty, instead of the node's."""
    if not (pod.get("spec") or {}).get("hostNetwork"):
        return []
    return [{"op": "replace", "path": "/spec/hostNetwork", "value": False}]


PATCHES = {"mesh": mesh_patch, "openshift-uid": openshift_uid_patch, "strip-host-network": host_network_stripped_patch}
MODES = tuple(PATCHES)


def review_response(review: dict, mode: str) -> dict:
    """The AdmissionReview v1 answer: allowed, with a base64 JSONPatch when there is something to change."""
    request = review.get("request") or {}
    response: dict = {"uid": request.get("uid", ""), "allowed": True}
    pod = request.get("object") or {}
    ops = PATCHES[mode](pod) if request.get("kind", {}).get("kind", "Pod") == "Pod" else []
    if ops:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(ops).encode()).decode()
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


def certificates(directory: Path) -> tuple[bytes, Path, Path]:
    """A self-signed CA and a server certificate for IP 127.0.0.1: (CA PEM, cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

    def name(cn: str):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("svcconf-test-webhook-ca")).issuer_name(name("svcconf-test-webhook-ca"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = directory / "webhook.crt", directory / "webhook.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return ca.public_bytes(serialization.Encoding.PEM), cert_file, key_file


class Webhook:
    """The running server: its URL, the CA that signed it, and what it mutated (namespace/name, ops)."""

    def __init__(self, url: str, ca_pem: bytes):
        self.url, self.ca_pem = url, ca_pem
        self.mutated: list[tuple[str, int]] = []
        self.lock = threading.Lock()


def _handler(mode: str, hook_ref: list):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            try:
                review = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                answer = review_response(review, mode)
                status = 200
            except (ValueError, KeyError, TypeError) as err:
                answer, status = {"error": str(err)}, 400
            if status == 200 and "patch" in answer["response"]:
                req = review["request"]
                meta = (req.get("object") or {}).get("metadata") or {}
                # Controllers' pods have only a generateName when admitted.
                name = req.get("name") or meta.get("name") or f"{meta.get('generateName', '')}*"
                with hook_ref[0].lock:
                    hook_ref[0].mutated.append((f"{req.get('namespace')}/{name}",
                                                len(json.loads(base64.b64decode(answer["response"]["patch"])))))
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):     # the apiserver calls often; stay quiet
            pass
    return Handler


@contextlib.contextmanager
def serving(mode: str):
    """The webhook on https://127.0.0.1:<free port>/mutate in a thread; stopped, files removed on exit."""
    if mode not in MODES:
        raise ValueError(f"unknown webhook mode {mode!r}; expected one of {MODES}")
    with tempfile.TemporaryDirectory(prefix="svcconf-webhook-") as tmp:
        ca_pem, cert_file, key_file = certificates(Path(tmp))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        ref: list = [None]
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mode, ref))
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        ref[0] = hook = Webhook(f"https://127.0.0.1:{server.server_address[1]}/mutate", ca_pem)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        try:
            yield hook
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)

"""The cluster's certificates: one CA, the API server's serving cert, client certs, the SA key pair.

Kept across `up`s (down removes them with the state) so a re-run of `up` on a live cluster is harmless.
"""

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from localcluster import paths
from localcluster.topology import Topology

VALID_DAYS = 365
# Client identities: file stem -> (CN, O). Components get their own name so audit/RBAC logs read well.
CLIENTS = {
    "admin": ("localcluster-admin", "system:masters"),
    "kube-controller-manager": ("system:kube-controller-manager", None),
    "kube-scheduler": ("system:kube-scheduler", None),
    "kubelet": (f"system:node:localcluster", "system:nodes"),
    "kube-proxy": ("system:kube-proxy", None),
    "flannel": ("localcluster-flannel", None),       # up --cni flannel: flanneld's identity (flannel.py RBAC)
    "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", "system:masters"),
}


def kubelet_client(node_name: str) -> str:
    """File stem of a node's kubelet client certificate (node 0's is plain `kubelet`)."""
    return "kubelet" if node_name == "localcluster" else f"kubelet-{node_name}"


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.write_bytes(data)
    path.chmod(0o600 if private else 0o644)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS)))


def _issue(name: str, ca_key, ca_cert, subject: x509.Name, usage, sans=None) -> None:
    key = _key()
    builder = _builder(subject, ca_cert.subject, key.public_key()).add_extension(
        x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write(paths.PKI / f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM))
    _write(paths.PKI / f"{name}.key", _key_pem(key), private=True)


def apiserver_sans(topology: Topology) -> list:
    names = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
             f"kubernetes.default.svc.{topology.cluster_domain}"]
    ips = ["127.0.0.1", "::1"] + topology.kubernetes_service_ips + topology.node_ips.split(",")
    return [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]


def ensure(topology: Topology) -> None:
    """Create the PKI once; the API server cert is re-issued when the IP family changes its SANs."""
    paths.PKI.mkdir(parents=True, exist_ok=True)
    ca_crt, ca_key_file = paths.PKI / "ca.crt", paths.PKI / "ca.key"
    if not ca_crt.exists():
        key = _key()
        name = _name("localcluster-ca")
        cert = (_builder(name, name, key.public_key())
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                               critical=True)
                .sign(key, hashes.SHA256()))
        _write(ca_crt, cert.public_bytes(serialization.Encoding.PEM))
        _write(ca_key_file, _key_pem(key), private=True)
    ca_cert = x509.load_pem_x509_certificate(ca_crt.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), None)

    # Always re-issue the serving cert: cheap, and its SANs follow the chosen IP family.
    _issue("apiserver", ca_key, ca_cert, _name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH,
           apiserver_sans(topology))
    clients = dict(CLIENTS)
    for node in topology.node_list[1:]:
        # The NodeRestriction admission plugin lets a kubelet touch only its own node: one identity each.
        clients[kubelet_client(node.name)] = (f"system:node:{node.name}", "system:nodes")
    for stem, (cn, org) in clients.items():
        if not (paths.PKI / f"{stem}.crt").exists():
            _issue(stem, ca_key, ca_cert, _name(cn, org), ExtendedKeyUsageOID.CLIENT_AUTH)
    if not (paths.PKI / "sa.key").exists():
        key = _key()
        _write(paths.PKI / "sa.key", _key_pem(key), private=True)
        _write(paths.PKI / "sa.pub", key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

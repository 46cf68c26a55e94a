"""The e2e admission webhook (tests/e2e/admission_webhook.py) without a cluster: the JSONPatch it builds
for given pods, applied here by a minimal RFC 6902 "add", and the real server answering a real
AdmissionReview over TLS (urllib, trusting the server's own CA)."""

import base64
import copy
import json
import ssl
import sys
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

import admission_webhook as webhook  # noqa: E402


def _apply(doc: dict, ops: list[dict]) -> dict:
    """JSONPatch "add" as the API server applies it (the only op the webhook emits)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        assert op["op"] == "add"
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        target = doc
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        if isinstance(target, list):
            target.append(op["value"]) if last == "-" else target.insert(int(last), op["value"])
        else:
            target[last] = op["value"]
    return doc


def _pod(**spec) -> dict:
    base = {"containers": [{"name": "client", "image": "agnhost",
                            "securityContext": {"allowPrivilegeEscalation": False}},
                           {"name": "server", "image": "agnhost"}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {**base, **spec}}


def test_strip_host_network_gives_a_host_network_pod_its_own_namespace():
    assert webhook.host_network_stripped_patch(_pod(hostNetwork=True)) == [
        {"op": "replace", "path": "/spec/hostNetwork", "value": False}]
    assert webhook.host_network_stripped_patch(_pod()) == []
    assert webhook.host_network_stripped_patch(_pod(hostNetwork=False)) == []


def test_mesh_adds_a_restricted_sidecar_and_read_only_roots():
    pod = _pod(initContainers=[{"name": "init", "image": "busybox"}])
    out = _apply(pod, webhook.mesh_patch(pod))
    names = [c["name"] for c in out["spec"]["containers"]]
    assert names == ["client", "server", webhook.SIDECAR]
    for c in out["spec"]["containers"] + out["spec"]["initContainers"]:
        assert c["securityContext"]["readOnlyRootFilesystem"] is True, c
    assert out["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False  # kept
    sidecar = out["spec"]["containers"][-1]
    assert sidecar["image"] == webhook.sidecar_image() == "registry.k8s.io/pause:3.10.2"   # the default release's
    ctx = sidecar["securityContext"]
    assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["runAsNonRoot"] is True and ctx["seccompProfile"] == {"type": "RuntimeDefault"}


def test_mesh_leaves_host_network_pods_alone():
    assert webhook.mesh_patch(_pod(hostNetwork=True)) == []


def test_openshift_uid_assigned_when_the_pod_names_none():
    lo = webhook.UID_RANGE[0]
    out = _apply(_pod(), webhook.openshift_uid_patch(_pod()))
    assert out["spec"]["securityContext"] == {"runAsUser": lo, "runAsGroup": lo, "fsGroup": lo}
    pod = _pod(securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}})
    out = _apply(pod, webhook.openshift_uid_patch(pod))
    assert out["spec"]["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
                                              "runAsUser": lo, "runAsGroup": lo, "fsGroup": lo}


def test_openshift_uid_keeps_a_named_uid_for_the_policy_to_judge():
    pod = _pod(securityContext={"runAsUser": 65534, "runAsGroup": 65534})
    out = _apply(pod, webhook.openshift_uid_patch(pod))
    assert out["spec"]["securityContext"] == {"runAsUser": 65534, "runAsGroup": 65534,
                                              "fsGroup": webhook.UID_RANGE[0]}
    assert webhook.openshift_uid_patch(_pod(hostNetwork=True)) == []


def test_review_without_changes_has_no_patch():
    review = {"request": {"uid": "u1", "kind": {"kind": "Pod"}, "object": _pod(hostNetwork=True)}}
    assert webhook.review_response(review, "mesh")["response"] == {"uid": "u1", "allowed": True}


def _post(url: str, ca_pem: bytes, review: dict) -> dict:
    context = ssl.create_default_context(cadata=ca_pem.decode())
    req = urllib.request.Request(url, data=json.dumps(review).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, context=context, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.parametrize("mode", webhook.MODES)
def test_the_server_answers_an_admission_review_over_tls(mode):
    pod = _pod(hostNetwork=True) if mode == "strip-host-network" else _pod()
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
              "request": {"uid": "7f0c", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                          "namespace": "svcconf-x-client", "operation": "CREATE", "object": pod}}
    with webhook.serving(mode) as hook:
        assert hook.url.startswith("https://127.0.0.1:")
        answer = _post(hook.url, hook.ca_pem, review)
        assert hook.mutated and hook.mutated[0][0] == "svcconf-x-client/p"
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    response = answer["response"]
    assert response["uid"] == "7f0c" and response["allowed"] is True and response["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(response["patch"]))
    assert ops == webhook.PATCHES[mode](pod)


def test_the_certificate_is_for_127_0_0_1_only(tmp_path):
    from cryptography import x509
    ca_pem, cert_file, key_file = webhook.certificates(tmp_path)
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert cert.issuer == x509.load_pem_x509_certificate(ca_pem).subject


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown webhook mode"), webhook.serving("istio"):
        pass

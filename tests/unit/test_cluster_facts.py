"""Which distribution a cluster is, from version strings and providerIDs real clusters report."""

import pytest

from svc_conformance.fixtures.cluster import distribution


@pytest.mark.parametrize(("version", "provider_ids", "expected"), [
    ("v1.31.5+k3s1", ["k3s://k3d-svc-server-0"], "k3s"),
    ("v1.30.4-eks-a737599", ["aws:///us-east-1a/i-0abc"], "Amazon EKS"),
    ("v1.29.8-gke.1211000", ["gce://proj/europe-west1-b/gke-node"], "Google GKE"),
    ("v1.28.9+rke2r1", [], "RKE2"),
    ("v1.33.1", ["kind://docker/kind/kind-control-plane", "kind://docker/kind/kind-worker"], "kind"),
    ("v1.32.2", ["azure:///subscriptions/x/virtualMachines/aks-node-0"], "Azure"),
    ("v1.33.13", [""], "unrecognised"),       # the project's local cluster: no providerID
])
def test_distribution(version, provider_ids, expected):
    assert distribution(version, provider_ids) == expected

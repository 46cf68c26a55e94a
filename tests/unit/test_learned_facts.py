"""What the suite learns instead of assuming: the inspector's image tag, the cluster domain."""

import pytest

from svc_conformance.cluster import manifests
from svc_conformance.core.outcomes import CheckFailed
from svc_conformance.fixtures.scenarios import learn_zone


@pytest.mark.parametrize("server, tag", [
    ("v1.33.13", "v1.33.13"), ("v1.31.5+k3s1", "v1.31.5"), ("v1.30.4-eks-a1b2c3d", "v1.30.4"),
    ("v1.29.8-gke.1000000", "v1.29.8"), ("1.28.2", "v1.28.2")])
def test_inspector_tag_is_the_upstream_release_of_the_server(server, tag):
    assert manifests.images(None, {}, server)["INSPECTOR"] == f"registry.k8s.io/kube-proxy:{tag}"


def test_an_unusable_version_asks_for_an_override_unless_one_is_given():
    with pytest.raises(ValueError, match="--image inspector=REF"):
        manifests.images(None, {}, "custom-build")
    assert manifests.images(None, {"inspector": "mirror/kp:v1"}, "custom-build")["INSPECTOR"] == "mirror/kp:v1"


def test_registry_mirror_keeps_the_derived_tag():
    assert manifests.images("mirror.example/k8s", {}, "v1.31.5+k3s1")["INSPECTOR"] == \
        "mirror.example/k8s/kube-proxy:v1.31.5"


@pytest.mark.parametrize("domain", ["cluster.local", "conformance.test", "k8s.corp.example"])
def test_cluster_domain_comes_from_the_search_list(domain):
    conf = f"search ns1.svc.{domain} svc.{domain} {domain} corp.example\nnameserver 10.96.0.10\noptions ndots:5\n"
    assert learn_zone(conf, "ns1") == domain


def test_no_search_entry_for_the_namespace_is_a_failure_with_the_file_as_evidence():
    with pytest.raises(CheckFailed) as info:
        learn_zone("search corp.example\nnameserver 10.0.0.2\n", "ns1")
    assert "ns1.svc.<zone>" in info.value.expected and "corp.example" in info.value.observed
